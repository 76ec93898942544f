// Package e2e tests the airlock binary end to end against real MCP peers: the official
// Go SDK's client and its conformance server.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

var (
	airlockBin    string
	everythingBin string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "airlock-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		airlockBin = filepath.Join(dir, "airlock")
		everythingBin = filepath.Join(dir, "everything-server")
		_, thisFile, _, _ := runtime.Caller(0)
		root := filepath.Dir(filepath.Dir(thisFile))
		for _, b := range []struct{ out, pkg string }{
			{airlockBin, "."},
			{everythingBin, "github.com/modelcontextprotocol/go-sdk/conformance/everything-server"},
		} {
			cmd := exec.Command("go", "build", "-o", b.out, b.pkg)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "build %s: %v\n%s", b.pkg, err, out)
				return 1
			}
		}
		return m.Run()
	}()
	os.Exit(code)
}

// recorder collects what the client's handlers saw.
type recorder struct {
	mu          sync.Mutex
	progress    []float64
	elicited    []string
	sampled     int
	logMessages int
}

func newClient(rec *recorder) *mcp.Client {
	return mcp.NewClient(&mcp.Implementation{Name: "e2e-client", Version: "1.0.0"}, &mcp.ClientOptions{
		ElicitationHandler: func(ctx context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			rec.mu.Lock()
			rec.elicited = append(rec.elicited, req.Params.Message)
			rec.mu.Unlock()
			// Answer every property the schema asks for.
			var schema struct {
				Properties map[string]struct {
					Type string `json:"type"`
				} `json:"properties"`
			}
			b, _ := json.Marshal(req.Params.RequestedSchema)
			json.Unmarshal(b, &schema)
			content := map[string]any{}
			for name, p := range schema.Properties {
				switch p.Type {
				case "boolean":
					content[name] = true
				case "number", "integer":
					content[name] = 7
				default:
					content[name] = "ada-e2e"
				}
			}
			return &mcp.ElicitResult{Action: "accept", Content: content}, nil
		},
		CreateMessageHandler: func(ctx context.Context, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			rec.mu.Lock()
			rec.sampled++
			rec.mu.Unlock()
			return &mcp.CreateMessageResult{Model: "e2e-model", Role: "assistant", Content: &mcp.TextContent{Text: "sampled-by-e2e"}}, nil
		},
		ProgressNotificationHandler: func(ctx context.Context, req *mcp.ProgressNotificationClientRequest) {
			rec.mu.Lock()
			rec.progress = append(rec.progress, req.Params.Progress)
			rec.mu.Unlock()
		},
		LoggingMessageHandler: func(ctx context.Context, req *mcp.LoggingMessageRequest) {
			rec.mu.Lock()
			rec.logMessages++
			rec.mu.Unlock()
		},
	})
}

func text(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// exercise runs the features both generations share, then the generation's own way of
// asking the client for input (server requests in 2025-11-25, input_required results in
// 2026-07-28), and checks that each reached the other side through Airlock.
func exercise(t *testing.T, cs *mcp.ClientSession, rec *recorder, version string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if got := cs.InitializeResult().ProtocolVersion; got != version {
		t.Fatalf("negotiated protocol version %q, want %q", got, version)
	}
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("tools/list: %v", err)
	}
	names := map[string]bool{}
	for _, tool := range tools.Tools {
		names[tool.Name] = true
	}
	for _, want := range []string{"test_simple_text", "test_tool_with_progress", "test_sampling", "test_elicitation"} {
		if !names[want] {
			t.Errorf("tools/list lacks %s", want)
		}
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "test_simple_text"})
	if err != nil || res.IsError {
		t.Fatalf("test_simple_text: %v %+v", err, res)
	}
	if got := text(t, res); !strings.Contains(got, "simple text") {
		t.Errorf("test_simple_text returned %q", got)
	}

	params := &mcp.CallToolParams{Name: "test_tool_with_progress"}
	params.SetProgressToken("e2e-progress")
	if _, err := cs.CallTool(ctx, params); err != nil {
		t.Fatalf("test_tool_with_progress: %v", err)
	}
	rec.mu.Lock()
	progress := append([]float64(nil), rec.progress...)
	rec.mu.Unlock()
	if len(progress) == 0 {
		t.Errorf("no progress notifications arrived")
	}
	for i := 1; i < len(progress); i++ {
		if progress[i] <= progress[i-1] {
			t.Errorf("progress not increasing: %v", progress)
		}
	}

	if _, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "test://static-text"}); err != nil {
		t.Errorf("resources/read: %v", err)
	}
	if p, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "test_prompt_with_arguments", Arguments: map[string]string{"arg1": "a1", "arg2": "a2"}}); err != nil {
		t.Errorf("prompts/get: %v", err)
	} else if b, _ := json.Marshal(p); !strings.Contains(string(b), "a1") {
		t.Errorf("prompts/get lost the arguments: %s", b)
	}

	elicitTool, sampleTool := "test_elicitation", "test_sampling"
	elicitArgs := map[string]any{"message": "who are you?"}
	sampleArgs := map[string]any{"prompt": "say hi"}
	if version >= "2026-07-28" {
		elicitTool, sampleTool = "test_input_required_result_elicitation", "test_input_required_result_sampling"
		elicitArgs, sampleArgs = nil, nil
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: elicitTool, Arguments: elicitArgs})
	if err != nil || res.IsError {
		t.Fatalf("%s: %v %+v", elicitTool, err, res)
	}
	if got := text(t, res); !strings.Contains(got, "ada-e2e") && !strings.Contains(got, "accept") {
		t.Errorf("%s did not see the client's elicitation answer: %q", elicitTool, got)
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: sampleTool, Arguments: sampleArgs})
	if err != nil || res.IsError {
		t.Fatalf("%s: %v %+v", sampleTool, err, res)
	}
	if got := text(t, res); !strings.Contains(got, "sampled-by-e2e") {
		t.Errorf("%s did not see the client's sampling answer: %q", sampleTool, got)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.elicited) == 0 || rec.sampled == 0 {
		t.Errorf("client handlers not reached: elicited=%v sampled=%d", rec.elicited, rec.sampled)
	}
}

var versions = []string{"2026-07-28", "2025-11-25"}

// trust pre-approves a launch command in the Airlock home, as a person would with
// `airlock trust`.
func trust(t *testing.T, home string, args ...string) {
	t.Helper()
	cmd := exec.Command(airlockBin, append([]string{"trust"}, args...)...)
	cmd.Env = append(os.Environ(), "AIRLOCK_HOME="+home)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("airlock trust %v: %v\n%s", args, err, out)
	}
}

func TestWrapWithGoSDK(t *testing.T) {
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			rec := &recorder{}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			home := t.TempDir()
			trust(t, home, "--name", "everything", "--", everythingBin)
			cmd := exec.Command(airlockBin, "wrap", "--name", "everything", everythingBin)
			cmd.Env = append(os.Environ(), "AIRLOCK_HOME="+home)
			cs, err := newClient(rec).Connect(ctx, &mcp.CommandTransport{Command: cmd}, &mcp.ClientSessionOptions{ProtocolVersion: version})
			if err != nil {
				t.Fatalf("connect through airlock wrap: %v", err)
			}
			defer cs.Close()
			exercise(t, cs, rec, version)
		})
	}
}

// startServe runs airlock serve over a servers.json naming the conformance server and
// returns its base URL and token. The token lives in the OS keyring: with a real Secret
// Service (AIRLOCK_REAL_KEYRING=1) serve requires it; without one it runs --no-token and
// the token is "".
func startServe(t *testing.T) (base, token string) {
	t.Helper()
	return startServeIn(t, t.TempDir())
}

// startServeIn is startServe with AIRLOCK_HOME=home.
func startServeIn(t *testing.T, home string) (base, token string) {
	t.Helper()
	cfg := fmt.Sprintf(`{"mcpServers":{"everything":{"command":%q}}}`, everythingBin)
	if err := os.WriteFile(filepath.Join(home, "servers.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "AIRLOCK_HOME="+home)
	trust(t, home, "everything")
	extra := []string{"--no-token"}
	if os.Getenv("AIRLOCK_REAL_KEYRING") == "1" {
		tokCmd := exec.Command(airlockBin, "serve", "--print-token")
		tokCmd.Env = env
		out, err := tokCmd.Output()
		if err != nil {
			t.Fatalf("serve --print-token: %v", err)
		}
		token, extra = strings.TrimSpace(string(out)), nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(airlockBin, append([]string{"serve", "--addr", addr}, extra...)...)
	cmd.Env = env
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	base = "http://" + addr
	// Wait for the listener by dialing until it answers (bounded).
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("airlock serve did not listen on %s", addr)
		}
		runtime.Gosched()
	}
	return base, token
}

type bearer struct {
	token string
	rt    http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.rt.RoundTrip(r)
}

func TestServeWithGoSDK(t *testing.T) {
	base, token := startServe(t)
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			rec := &recorder{}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			tr := &mcp.StreamableClientTransport{
				Endpoint:   base + "/mcp/everything",
				HTTPClient: &http.Client{Transport: bearer{token, http.DefaultTransport}},
			}
			cs, err := newClient(rec).Connect(ctx, tr, &mcp.ClientSessionOptions{ProtocolVersion: version})
			if err != nil {
				t.Fatalf("connect through airlock serve: %v", err)
			}
			defer cs.Close()
			exercise(t, cs, rec, version)
		})
	}
}

// TestServeKeyringToken needs a real Secret Service (scripts/test.sh runs it under
// dbus-run-session): the token is required, and it is nowhere under $AIRLOCK_HOME.
func TestServeKeyringToken(t *testing.T) {
	if os.Getenv("AIRLOCK_REAL_KEYRING") != "1" {
		t.Skip("needs a real Secret Service (AIRLOCK_REAL_KEYRING=1 under dbus-run-session)")
	}
	home := t.TempDir()
	base, token := startServeIn(t, home)
	if len(token) < 32 {
		t.Fatalf("token %q", token)
	}
	checkServe(t, base, []serveCase{
		{"no token", nil, http.StatusUnauthorized},
		{"wrong token", map[string]string{"Authorization": "Bearer nope"}, http.StatusUnauthorized},
		{"foreign host with the token", map[string]string{"Host": "evil.example", "Authorization": "Bearer " + token}, http.StatusForbidden},
		{"the token", map[string]string{"Authorization": "Bearer " + token}, http.StatusOK},
	})
	filepath.WalkDir(home, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(token)) {
				t.Errorf("%s holds the serve token", p)
			}
		}
		return nil
	})
}

// Without a keyring, airlock serve refuses to make up a token it would have to write in
// plain text, and says what to do; --no-token still works and says what it gives up.
func TestServeWithoutKeyringSaysWhy(t *testing.T) {
	home := t.TempDir()
	env := append(os.Environ(), "AIRLOCK_HOME="+home, "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(home, "no-bus"))
	cmd := exec.Command(airlockBin, "serve", "--print-token")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("serve --print-token without a keyring succeeded: %s", out)
	}
	for _, want := range []string{"keyring", "--no-token", "never in plain text"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("error %q does not mention %q", out, want)
		}
	}
	entries, _ := os.ReadDir(home)
	for _, e := range entries {
		if strings.Contains(e.Name(), "token") {
			t.Errorf("a token file %s was written", e.Name())
		}
	}
}

// Host and Origin checks hold with or without a token.
func TestServeRefusesForeignHostAndOrigin(t *testing.T) {
	base, token := startServe(t)
	auth := map[string]string{}
	if token != "" {
		auth["Authorization"] = "Bearer " + token
	}
	with := func(k, v string) map[string]string {
		h := map[string]string{k: v}
		for a, b := range auth {
			h[a] = b
		}
		return h
	}
	checkServe(t, base, []serveCase{
		{"foreign host", with("Host", "evil.example"), http.StatusForbidden},
		{"foreign origin", with("Origin", "https://evil.example"), http.StatusForbidden},
		{"DNS rebinding: foreign host on a loopback address", with("Host", "attacker.example:80"), http.StatusForbidden},
		{"loopback origin", with("Origin", "http://127.0.0.1:1234"), http.StatusOK},
	})
}

type serveCase struct {
	name   string
	header map[string]string
	want   int
}

func checkServe(t *testing.T, base string, cases []serveCase) {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}`
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", base+"/mcp/everything", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			for k, v := range c.header {
				if k == "Host" {
					req.Host = v
				} else {
					req.Header.Set(k, v)
				}
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("status %d, want %d", resp.StatusCode, c.want)
			}
		})
	}
}

func TestServeRefusesNonLoopbackAddr(t *testing.T) {
	cmd := exec.Command(airlockBin, "serve", "--addr", "0.0.0.0:0")
	cmd.Env = append(os.Environ(), "AIRLOCK_HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "only binds loopback") {
		t.Fatalf("serve on 0.0.0.0 = %v, %s; want a refusal", err, out)
	}
}

// startHTTPEverything runs the conformance server over streamable HTTP and returns its URL.
func startHTTPEverything(t *testing.T, stateless bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(everythingBin, "-http", addr, fmt.Sprintf("-stateless=%v", stateless))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("conformance server did not listen on %s", addr)
		}
		runtime.Gosched()
	}
}

func TestWrapURLWithGoSDK(t *testing.T) {
	for _, c := range []struct {
		version   string
		stateless bool
	}{{"2025-11-25", false}, {"2026-07-28", true}} {
		t.Run(c.version, func(t *testing.T) {
			url := startHTTPEverything(t, c.stateless)
			rec := &recorder{}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.Command(airlockBin, "wrap", "--name", "remote", "--url", url)
			cmd.Env = append(os.Environ(), "AIRLOCK_HOME="+t.TempDir())
			cmd.Stderr = os.Stderr
			cs, err := newClient(rec).Connect(ctx, &mcp.CommandTransport{Command: cmd}, &mcp.ClientSessionOptions{ProtocolVersion: c.version})
			if err != nil {
				t.Fatalf("connect through airlock wrap --url: %v", err)
			}
			defer cs.Close()
			exercise(t, cs, rec, c.version)
		})
	}
}
