package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	_ "modernc.org/sqlite"

	"github.com/airlock-mcp/airlock/consent/apitype"
	"github.com/airlock-mcp/airlock/consent/client"
	"github.com/airlock-mcp/airlock/consent/localapi"
)

// peersDir is where test/peers installed the npm MCP servers.
func peersDir(t *testing.T) string {
	t.Helper()
	dir, _ := filepath.Abs("../test/peers/node_modules")
	if _, err := os.Stat(filepath.Join(dir, "@modelcontextprotocol", "server-filesystem")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("server-filesystem is not installed in %s: scripts/test.sh installs it (npm ci in test/peers)", dir)
		}
		t.Skipf("server-filesystem not installed (run: npm ci --prefix test/peers): %v", err)
	}
	return dir
}

// home is one Airlock home with a running daemon.
type home struct {
	dir    string
	env    []string
	daemon *exec.Cmd
	broker *client.Client
}

func newHome(t *testing.T, policy string) *home {
	t.Helper()
	// Unix socket paths are short; keep the home near the root.
	dir, err := os.MkdirTemp("", "alh")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "policy.toml"), []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	h := &home{dir: dir, env: append(os.Environ(), "AIRLOCK_HOME="+dir)}
	h.broker = &client.Client{Socket: localapi.SocketPath(dir)}
	return h
}

func (h *home) startDaemon(t *testing.T) {
	t.Helper()
	h.daemon = exec.Command(airlockBin, "daemon")
	h.daemon.Env = h.env
	h.daemon.Stderr = os.Stderr
	if err := h.daemon.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.stopDaemon() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := h.broker.Status(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemon did not answer: %v", err)
		}
	}
}

func (h *home) stopDaemon() {
	if h.daemon != nil && h.daemon.Process != nil {
		h.daemon.Process.Kill()
		h.daemon.Wait()
		h.daemon = nil
	}
}

// decideNext waits for the next pending request matching match and decides it.
func (h *home) decideNext(t *testing.T, ctx context.Context, match func(apitype.Pending) bool, d apitype.DecideRequest) apitype.Pending {
	t.Helper()
	var found apitype.Pending
	errStop := errors.New("stop")
	err := h.broker.Watch(ctx, func(e apitype.Event) error {
		for _, p := range e.Pending {
			if match(p) {
				found = p
				return errStop
			}
		}
		return nil
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("no matching pending request: %v", err)
	}
	d.ID = found.ID
	d.Channel = apitype.ChannelCLI
	if err := h.broker.Decide(ctx, d); err != nil {
		t.Fatalf("decide %s: %v", found.ID, err)
	}
	return found
}

func (h *home) airlock(t *testing.T, args ...string) (string, error) {
	cmd := exec.Command(airlockBin, args...)
	cmd.Env = h.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func toolText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func TestFilesystemConsent(t *testing.T) {
	peers := peersDir(t)
	h := newHome(t, "[settings]\ncli_approvals = true\napproval_timeout = \"3s\"\n")
	h.startDaemon(t)
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "notes.txt"), []byte("hello from disk"), 0o644)

	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	server := filepath.Join(peers, "@modelcontextprotocol", "server-filesystem", "dist", "index.js")
	cmd := exec.Command(airlockBin, "wrap", "--name", "fs", "node", server, root)
	cmd.Env = h.env
	cmd.Stderr = os.Stderr

	// The launch waits until a person approves it: connect in the background.
	type conn struct {
		cs  *mcp.ClientSession
		err error
	}
	connected := make(chan conn, 1)
	go func() {
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "e2e", Version: "1"}, nil).Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
		connected <- conn{cs, err}
	}()
	launch := h.decideNext(t, ctx, func(p apitype.Pending) bool { return p.Request.Kind == apitype.KindLaunch },
		apitype.DecideRequest{Outcome: apitype.Allow, Scope: apitype.Always})
	if launch.Request.Server != "fs" || launch.Request.Launch == nil || !strings.Contains(strings.Join(launch.Request.Launch.Argv, " "), "server-filesystem") {
		t.Fatalf("launch request does not show the command: %+v", launch.Request)
	}
	c := <-connected
	if c.err != nil {
		t.Fatalf("connect: %v", c.err)
	}
	cs := c.cs
	defer cs.Close()

	call := func(name string, args map[string]any) (*mcp.CallToolResult, error) {
		return cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	}

	// A read runs at once.
	res, err := call("read_text_file", map[string]any{"path": filepath.Join(root, "notes.txt")})
	if err != nil || res.IsError || !strings.Contains(toolText(res), "hello from disk") {
		t.Fatalf("read_text_file: %v %v", err, res)
	}

	// write_file, edit_file and move_file are tier 3 and wait. Deny leaves the disk alone.
	target := filepath.Join(root, "denied.txt")
	type result struct {
		res *mcp.CallToolResult
		err error
	}
	pending := func(name string, args map[string]any) chan result {
		ch := make(chan result, 1)
		go func() { r, err := call(name, args); ch <- result{r, err} }()
		return ch
	}
	isTool := func(tool string) func(apitype.Pending) bool {
		return func(p apitype.Pending) bool { return p.Request.Tool == tool }
	}
	ch := pending("write_file", map[string]any{"path": target, "content": "nope"})
	p := h.decideNext(t, ctx, isTool("write_file"), apitype.DecideRequest{Outcome: apitype.Deny, Reason: "not today"})
	if p.Request.Tier != 3 {
		t.Errorf("write_file tier %d, want 3", p.Request.Tier)
	}
	r := <-ch
	if r.err != nil || !r.res.IsError || !strings.Contains(toolText(r.res), "not today") || !strings.Contains(toolText(r.res), "tier 3") {
		t.Fatalf("denied write_file: %v %+v", r.err, r.res)
	}
	if _, err := os.Stat(target); !os.IsNotExist(err) {
		t.Fatalf("denied write reached the disk: %v", err)
	}

	// Approve writes the file.
	written := filepath.Join(root, "approved.txt")
	ch = pending("write_file", map[string]any{"path": written, "content": "yes"})
	h.decideNext(t, ctx, isTool("write_file"), apitype.DecideRequest{Outcome: apitype.Allow, Scope: apitype.Once})
	if r := <-ch; r.err != nil || r.res.IsError {
		t.Fatalf("approved write_file: %v %+v", r.err, r.res)
	}
	if b, _ := os.ReadFile(written); string(b) != "yes" {
		t.Fatalf("approved write wrote %q", b)
	}
	for _, tool := range []struct {
		name string
		args map[string]any
	}{
		{"edit_file", map[string]any{"path": written, "edits": []any{map[string]any{"oldText": "yes", "newText": "edited"}}}},
		{"move_file", map[string]any{"source": written, "destination": filepath.Join(root, "moved.txt")}},
	} {
		ch = pending(tool.name, tool.args)
		p := h.decideNext(t, ctx, isTool(tool.name), apitype.DecideRequest{Outcome: apitype.Allow})
		if p.Request.Tier != 3 {
			t.Errorf("%s tier %d, want 3", tool.name, p.Request.Tier)
		}
		if r := <-ch; r.err != nil || r.res.IsError {
			t.Fatalf("%s: %v %+v", tool.name, r.err, r.res)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(root, "moved.txt")); string(b) != "edited" {
		t.Fatalf("after edit and move: %q", b)
	}

	// A timeout denies once and writes no lasting rule.
	res, err = call("write_file", map[string]any{"path": filepath.Join(root, "timeout.txt"), "content": "t"})
	if err != nil || !res.IsError || !strings.Contains(toolText(res), "in time") {
		t.Fatalf("timed-out call: %v %+v", err, res)
	}
	if grants, _ := h.broker.Grants(ctx); len(grants) != 0 {
		t.Fatalf("a timeout created grants: %+v", grants)
	}

	// "Always" skips the next prompt; revoke undoes it.
	ch = pending("write_file", map[string]any{"path": filepath.Join(root, "a1.txt"), "content": "1"})
	h.decideNext(t, ctx, isTool("write_file"), apitype.DecideRequest{Outcome: apitype.Allow, Scope: apitype.Always})
	if r := <-ch; r.err != nil || r.res.IsError {
		t.Fatalf("always write: %v %+v", r.err, r.res)
	}
	res, err = call("write_file", map[string]any{"path": filepath.Join(root, "a2.txt"), "content": "2"})
	if err != nil || res.IsError {
		t.Fatalf("write under an always grant should pass without a prompt: %v %+v", err, res)
	}
	grants, err := h.broker.Grants(ctx)
	if err != nil || len(grants) != 1 {
		t.Fatalf("grants: %v %+v", err, grants)
	}
	if out, err := h.airlock(t, "revoke", grants[0].ID); err != nil {
		t.Fatalf("airlock revoke: %v %s", err, out)
	}
	ch = pending("write_file", map[string]any{"path": filepath.Join(root, "a3.txt"), "content": "3"})
	h.decideNext(t, ctx, isTool("write_file"), apitype.DecideRequest{Outcome: apitype.Deny})
	if r := <-ch; r.err != nil || !r.res.IsError {
		t.Fatalf("after revoke the call must ask again: %v %+v", r.err, r.res)
	}

	// Killing the daemon while a call waits refuses the call and logs why.
	ch = pending("write_file", map[string]any{"path": filepath.Join(root, "killed2.txt"), "content": "k"})
	waitPending(t, ctx, h, "write_file")
	h.stopDaemon()
	r = <-ch
	if r.err != nil || !r.res.IsError {
		t.Fatalf("call waiting when the daemon died: %v %+v", r.err, r.res)
	}
	if _, err := os.Stat(filepath.Join(root, "killed2.txt")); !os.IsNotExist(err) {
		t.Fatalf("the call ran although its approver died")
	}
	out, err := h.airlock(t, "log", "--json", "--tool", "write_file")
	if err != nil {
		t.Fatalf("airlock log: %v %s", err, out)
	}
	if !strings.Contains(out, "fallback") {
		t.Errorf("the log does not record the refusal after the daemon died:\n%s", out)
	}
	if out, err := h.airlock(t, "log", "verify"); err != nil {
		t.Fatalf("log verify: %v %s", err, out)
	}
}

// waitPending waits until a request for tool is pending.
func waitPending(t *testing.T, ctx context.Context, h *home, tool string) {
	t.Helper()
	stop := errors.New("stop")
	err := h.broker.Watch(ctx, func(e apitype.Event) error {
		for _, p := range e.Pending {
			if p.Request.Tool == tool {
				return stop
			}
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("waiting for %s: %v", tool, err)
	}
}

// TestLaunchDeniedWithoutBroker: with no broker and no pin, nothing is spawned and the
// IDE's first request says why and how to approve.
func TestLaunchDeniedWithoutBroker(t *testing.T) {
	h := newHome(t, "")
	marker := filepath.Join(h.dir, "spawned")
	cmd := exec.Command(airlockBin, "wrap", "--name", "touchy", "sh", "-c", "touch "+marker)
	cmd.Env = h.env
	cmd.Stdin = strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}` + "\n")
	out, _ := cmd.Output()
	if !strings.Contains(string(out), "needs your approval") || !strings.Contains(string(out), "airlock trust") {
		t.Fatalf("first answer does not explain the denied launch: %s", out)
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Fatal("the server was spawned without approval")
	}
	// After airlock trust, it starts without asking.
	if out, err := h.airlock(t, "trust", "--name", "touchy", "--", "sh", "-c", "touch "+marker); err != nil {
		t.Fatalf("trust: %v %s", err, out)
	}
	cmd = exec.Command(airlockBin, "wrap", "--name", "touchy", "sh", "-c", "touch "+marker)
	cmd.Env = h.env
	cmd.Stdin = strings.NewReader("")
	cmd.Run()
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("the trusted command did not run: %v", err)
	}
	// A changed command asks again (and, with no broker, is refused naming the change).
	cmd = exec.Command(airlockBin, "wrap", "--name", "touchy", "sh", "-c", "touch "+marker+"2")
	cmd.Env = h.env
	cmd.Stdin = strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}` + "\n")
	out, _ = cmd.Output()
	if !strings.Contains(string(out), "changed") {
		t.Fatalf("a changed command was not refused with what changed: %s", out)
	}
}

// TestConcurrentProxiesLog: four proxies making 1,000 calls each lose no log row, the
// chain verifies, and editing one row in the database file breaks verification.
func TestConcurrentProxiesLog(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	h := newHome(t, "")
	if out, err := h.airlock(t, "trust", "--name", "everything", "--", everythingBin); err != nil {
		t.Fatalf("trust: %v %s", err, out)
	}
	const proxies, calls = 4, 1000
	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, proxies)
	for i := 0; i < proxies; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(airlockBin, "wrap", "--name", "everything", everythingBin)
			cmd.Env = h.env
			cs, err := mcp.NewClient(&mcp.Implementation{Name: "load", Version: "1"}, nil).Connect(ctx, &mcp.CommandTransport{Command: cmd}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
			if err != nil {
				errs <- err
				return
			}
			defer cs.Close()
			for j := 0; j < calls; j++ {
				if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "test_simple_text"}); err != nil {
					errs <- fmt.Errorf("call %d: %w", j, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	db := filepath.Join(h.dir, "decisions.db")
	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int
	if err := conn.QueryRow(`SELECT count(*) FROM decisions WHERE kind = 'tool_call' AND tool = 'test_simple_text'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != proxies*calls {
		t.Fatalf("log has %d tool_call rows, want %d", n, proxies*calls)
	}
	if out, err := h.airlock(t, "log", "verify"); err != nil {
		t.Fatalf("log verify on an untouched log: %v %s", err, out)
	}
	if _, err := conn.Exec(`UPDATE decisions SET reason = 'edited' WHERE id = (SELECT id FROM decisions WHERE kind = 'tool_call' LIMIT 1 OFFSET 1234)`); err != nil {
		t.Fatal(err)
	}
	out, err := h.airlock(t, "log", "verify")
	if err == nil || !bytes.Contains([]byte(out), []byte("edited")) && !strings.Contains(out, "row") {
		t.Fatalf("log verify did not catch an edited row: %v %s", err, out)
	}
}
