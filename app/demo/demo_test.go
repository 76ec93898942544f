package demo

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/airlock-mcp/airlock/consent/risk"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// connect runs the demo server in dir on in-memory transports and returns a client session.
func connect(t *testing.T, dir string) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	if err := Prepare(dir); err != nil {
		t.Fatal(err)
	}
	st, ct := mcp.NewInMemoryTransports()
	ss, err := NewServer(dir).Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// TestTiers checks that Airlock gives each demo tool the tier the demo promises, with the
// arguments the scripted agent sends.
func TestTiers(t *testing.T) {
	cs := connect(t, t.TempDir())
	list, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	args := map[string]json.RawMessage{
		"delete_project": json.RawMessage(`{"project":"website"}`),
		"read_env_file":  json.RawMessage(`{}`),
	}
	for _, s := range Script {
		b, _ := json.Marshal(s.Args)
		args[s.Tool] = b
	}
	listed := map[string]*mcp.Tool{}
	for _, tl := range list.Tools {
		listed[tl.Name] = tl
	}
	for _, want := range Tools {
		tl := listed[want.Name]
		if tl == nil {
			t.Errorf("tool %s is not listed", want.Name)
			continue
		}
		a := risk.Classify(risk.Call{Server: ServerName, Tool: tl.Name, Description: tl.Description, Args: args[tl.Name]})
		if int(a.Tier) != want.Tier {
			t.Errorf("%s: tier %d, want %d; reasons: %+v", tl.Name, a.Tier, want.Tier, a.Reasons)
		}
	}
	if len(list.Tools) != len(Tools) {
		t.Errorf("listed %d tools, want %d", len(list.Tools), len(Tools))
	}
}

func TestToolsStayInside(t *testing.T) {
	dir := t.TempDir()
	cs := connect(t, dir)
	ctx := context.Background()
	call := func(name string, args map[string]any) (*mcp.CallToolResult, string) {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return res, resultText(res)
	}
	if res, text := call("read_notes", map[string]any{}); res.IsError || text != notes {
		t.Errorf("read_notes = %q (error %v)", text, res.IsError)
	}
	if res, _ := call("write_file", map[string]any{"path": "hello.txt", "content": "hi"}); res.IsError {
		t.Error("write_file failed")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "hello.txt")); string(b) != "hi" {
		t.Errorf("hello.txt = %q", b)
	}
	for _, bad := range []string{"../escape.txt", "/etc/passwd", "a/../../b", ""} {
		if res, _ := call("write_file", map[string]any{"path": bad, "content": "x"}); !res.IsError {
			t.Errorf("write_file %q was not refused", bad)
		}
	}
	if res, _ := call("delete_project", map[string]any{"project": ".."}); !res.IsError {
		t.Error("delete_project .. was not refused")
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.md")); err != nil {
		t.Errorf("the demo folder was damaged: %v", err)
	}
	if res, _ := call("delete_project", map[string]any{"project": "website"}); res.IsError {
		t.Error("delete_project website failed")
	}
	if _, err := os.Stat(filepath.Join(dir, "projects", "website")); !os.IsNotExist(err) {
		t.Errorf("website still exists: %v", err)
	}
	if res, _ := call("send_payment", map[string]any{"amount": 42, "recipient": "alice@example.com"}); res.IsError {
		t.Error("send_payment failed")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "payments.log")); len(b) == 0 {
		t.Error("payments.log is empty")
	}
}
