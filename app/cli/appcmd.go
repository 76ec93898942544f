package cli

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/airlock-mcp/airlock/app/config"
	"github.com/airlock-mcp/airlock/app/demo"
	"github.com/airlock-mcp/airlock/consent/apitype"
)

func init() {
	register(&command{name: "app", usage: "app [--demo]",
		summary: "Open the desktop window (also what `airlock` with no arguments does); --demo runs the demo in it.",
		run:     runApp})
	register(&command{name: "demo", usage: "demo",
		summary: "Open the desktop window and run the demo: a harmless server and an agent that asks for approvals.",
		run: func(ctx context.Context, env *Env, args []string) error {
			return runApp(ctx, env, append([]string{"--demo"}, args...))
		}})
	register(&command{name: "demo-server", usage: "demo-server",
		summary: "Serve the demo MCP server on stdio (it only touches $AIRLOCK_HOME/demo).",
		run:     runDemoServer})
}

func runApp(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, commands["app"])
	withDemo := fs.Bool("demo", false, "start the demo once the window is up")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if env.Window == nil {
		return errors.New("this program has no desktop window")
	}
	return env.Window(ctx, *withDemo)
}

func runDemoServer(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, commands["demo-server"])
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	home, err := config.EnsureHome()
	if err != nil {
		return err
	}
	return demo.Serve(ctx, demo.Dir(home))
}

// ToolInfo is one tool of a server as the desktop app shows it.
type ToolInfo struct {
	Name        string           `json:"name"`
	Description string           `json:"description"`
	Tier        int              `json:"tier"`
	Reasons     []apitype.Reason `json:"reasons"`
	Hidden      bool             `json:"hidden"`
}

// ServerTools starts the server name from servers.json (launch consent applies), lists
// its tools and the tier a call to each would get. The server's stderr goes to stderr.
func ServerTools(ctx context.Context, name string, stderr io.Writer) ([]ToolInfo, error) {
	rep, err := toolsOf(ctx, &Env{Stdin: eofReader{}, Stdout: io.Discard, Stderr: stderr}, name, 60*time.Second)
	if err != nil {
		return nil, err
	}
	out := make([]ToolInfo, 0, len(rep.Tools))
	for _, t := range rep.Tools {
		ti := ToolInfo{Name: t.Name, Description: t.Description, Tier: int(t.Tier), Hidden: t.Hidden, Reasons: []apitype.Reason{}}
		for _, r := range t.Reasons {
			ti.Reasons = append(ti.Reasons, apitype.Reason{Source: r.Source, Tier: int(r.Tier), Text: r.Text})
		}
		out = append(out, ti)
	}
	return out, nil
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
