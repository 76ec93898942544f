package demo

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Step is one tool call of the scripted agent.
type Step struct {
	Tool string
	Args map[string]any
}

// Script is what the scripted agent does: a safe read that passes at once, then two
// tier-3 calls that each wait for a person.
var Script = []Step{
	{Tool: "read_notes", Args: map[string]any{}},
	{Tool: "write_file", Args: map[string]any{"path": "hello.txt", "content": "Hello from the Airlock demo agent.\n"}},
	{Tool: "send_payment", Args: map[string]any{"amount": 42, "recipient": "alice@example.com"}},
}

// AgentOptions configure RunAgent.
type AgentOptions struct {
	// Command starts the proxy the agent talks to, normally
	// `airlock wrap --name demo -- airlock demo-server` (see ProxyCommand).
	Command func(ctx context.Context) *exec.Cmd
	// Pause is the time between two calls, so a person can follow along; 0 means none.
	Pause time.Duration
	// Logf reports progress; nil discards it.
	Logf func(format string, args ...any)
}

// ProxyCommand returns the command that runs the demo server behind a real Airlock proxy:
// self is the airlock executable, home the Airlock home both processes use.
func ProxyCommand(self, home string) func(ctx context.Context) *exec.Cmd {
	return func(ctx context.Context) *exec.Cmd {
		cmd := exec.CommandContext(ctx, self, "wrap", "--name", ServerName, "--", self, "demo-server")
		cmd.Env = append(os.Environ(), "AIRLOCK_HOME="+home)
		cmd.Stderr = os.Stderr
		return cmd
	}
}

// Result is what one step of the script got back.
type Result struct {
	Tool    string
	Refused bool   // the call came back as an error (denied, timed out, or it failed)
	Text    string // the tool result's text, as the model would read it
}

// RunAgent connects to the demo server through the proxy (so launch consent applies
// first) and runs Script, waiting for each call's decision before the next.
func RunAgent(ctx context.Context, o AgentOptions) ([]Result, error) {
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "airlock-demo-agent", Version: "1.0.0"}, nil)
	logf("demo: starting the demo server through airlock (approve its launch in the window)")
	session, err := client.Connect(ctx, &mcp.CommandTransport{Command: o.Command(ctx), TerminateDuration: 2 * time.Second}, nil)
	if err != nil {
		return nil, fmt.Errorf("start demo server: %w", err)
	}
	defer session.Close()
	var out []Result
	for i, st := range Script {
		if i > 0 && o.Pause > 0 {
			t := time.NewTimer(o.Pause)
			select {
			case <-ctx.Done():
				t.Stop()
				return out, ctx.Err()
			case <-t.C:
			}
		}
		logf("demo: calling %s", st.Tool)
		res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: st.Tool, Arguments: st.Args})
		if err != nil {
			return out, fmt.Errorf("call %s: %w", st.Tool, err)
		}
		r := Result{Tool: st.Tool, Refused: res.IsError, Text: resultText(res)}
		logf("demo: %s → refused=%v: %s", st.Tool, r.Refused, firstLine(r.Text))
		out = append(out, r)
	}
	return out, nil
}

func resultText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(t.Text)
		}
	}
	return b.String()
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
