// Package demo shows a newcomer what Airlock does within a minute: a harmless MCP server
// whose tools span every risk tier, and a scripted agent that calls them through a real
// Airlock proxy so launch and tier-3 approvals appear in the app.
package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// ServerName is the name the demo server runs under in approvals, pins and the log.
const ServerName = "demo"

// Dir returns the demo's working directory under the Airlock home. Every file the demo
// server touches is inside it.
func Dir(home string) string { return filepath.Join(home, "demo") }

// Tools lists the demo server's tools with the tier Airlock is expected to give a call to
// each (with the arguments the scripted agent uses), in the order a newcomer meets them.
var Tools = []struct {
	Name string
	Tier int
}{
	{"read_notes", 0},
	{"read_env_file", 1},
	{"write_file", 3},
	{"delete_project", 3},
	{"send_payment", 3},
}

type (
	noArgs        struct{}
	writeFileArgs struct {
		Path    string `json:"path" jsonschema:"file name inside the demo folder"`
		Content string `json:"content" jsonschema:"text to write"`
	}
	deleteProjectArgs struct {
		Project string `json:"project" jsonschema:"name of the demo project to delete"`
	}
	paymentArgs struct {
		Amount    float64 `json:"amount" jsonschema:"amount in EUR"`
		Recipient string  `json:"recipient" jsonschema:"who receives the money"`
	}
)

const notes = `# Demo notes

This folder belongs to the Airlock demo. Nothing here is real:
the .env file holds fake keys, payments are only written to payments.log,
and "projects" are empty folders.
`

const fakeEnv = `# Fake credentials for the Airlock demo; none of them work anywhere.
DEMO_API_KEY=demo-not-a-real-key
DEMO_DB_PASSWORD=hunter2-demo
`

// Prepare creates dir with the demo's files if they are missing.
func Prepare(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, "projects", "website"), 0o700); err != nil {
		return fmt.Errorf("create demo folder: %w", err)
	}
	for name, body := range map[string]string{"notes.md": notes, ".env": fakeEnv} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
				return fmt.Errorf("create demo file: %w", err)
			}
		}
	}
	return nil
}

// NewServer returns the demo MCP server working in dir. Its tools look dangerous to
// Airlock's risk tiers but only ever touch files inside dir.
func NewServer(dir string) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "airlock-demo", Version: "1.0.0"}, nil)
	text := func(format string, args ...any) *mcp.CallToolResult {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprintf(format, args...)}}}
	}
	fail := func(format string, args ...any) *mcp.CallToolResult {
		r := text(format, args...)
		r.IsError = true
		return r
	}
	mcp.AddTool(s, &mcp.Tool{Name: "read_notes", Description: "Read the notes of the demo project."},
		func(ctx context.Context, _ *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, any, error) {
			b, err := os.ReadFile(filepath.Join(dir, "notes.md"))
			if err != nil {
				return fail("cannot read the notes: %v", err), nil, nil
			}
			return text("%s", b), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "read_env_file", Description: "Read the project's .env file with its API keys (fake ones, in the demo)."},
		func(ctx context.Context, _ *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, any, error) {
			b, err := os.ReadFile(filepath.Join(dir, ".env"))
			if err != nil {
				return fail("cannot read .env: %v", err), nil, nil
			}
			return text("%s", b), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "write_file", Description: "Write a file in the demo folder, replacing it if it exists."},
		func(ctx context.Context, _ *mcp.CallToolRequest, a writeFileArgs) (*mcp.CallToolResult, any, error) {
			p, err := inside(dir, a.Path)
			if err != nil {
				return fail("%v", err), nil, nil
			}
			if err := os.WriteFile(p, []byte(a.Content), 0o600); err != nil {
				return fail("cannot write %s: %v", a.Path, err), nil, nil
			}
			return text("wrote %d bytes to %s (in the demo folder)", len(a.Content), a.Path), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "delete_project", Description: "Delete a project and all its files."},
		func(ctx context.Context, _ *mcp.CallToolRequest, a deleteProjectArgs) (*mcp.CallToolResult, any, error) {
			p, err := inside(filepath.Join(dir, "projects"), a.Project)
			if err != nil {
				return fail("%v", err), nil, nil
			}
			if err := os.RemoveAll(p); err != nil {
				return fail("cannot delete %s: %v", a.Project, err), nil, nil
			}
			return text("deleted the demo project %q (an empty folder)", a.Project), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "send_payment", Description: "Send money to a recipient."},
		func(ctx context.Context, _ *mcp.CallToolRequest, a paymentArgs) (*mcp.CallToolResult, any, error) {
			f, err := os.OpenFile(filepath.Join(dir, "payments.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
			if err != nil {
				return fail("cannot record the payment: %v", err), nil, nil
			}
			defer f.Close()
			fmt.Fprintf(f, "%s  %.2f EUR to %s (pretend)\n", time.Now().Format(time.RFC3339), a.Amount, a.Recipient)
			return text("pretended to send %.2f EUR to %s; no money moved (see payments.log in the demo folder)", a.Amount, a.Recipient), nil, nil
		})
	return s
}

// inside returns the path of name within dir, refusing anything that would leave it.
func inside(dir, name string) (string, error) {
	if name == "" || filepath.IsAbs(name) || !filepath.IsLocal(name) || strings.ContainsRune(name, 0) {
		return "", fmt.Errorf("the demo only works inside its own folder; %q is not a plain relative name", name)
	}
	return filepath.Join(dir, name), nil
}

// Serve runs the demo server on stdin and stdout until the client goes away or ctx ends.
func Serve(ctx context.Context, dir string) error {
	if err := Prepare(dir); err != nil {
		return err
	}
	err := NewServer(dir).Run(ctx, &mcp.StdioTransport{})
	if ctx.Err() != nil {
		return nil
	}
	return err
}
