package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
)

// TestMain turns the test binary into a fake MCP server when FAKE_MCP_SERVER is set, so
// the end-to-end test can wrap it.
func TestMain(m *testing.M) {
	if mode := os.Getenv("FAKE_MCP_SERVER"); mode != "" {
		os.Exit(fakeServer(mode))
	}
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// fakeServer answers each request with {"method":…,"params":…,"pid":…} and exits 0 when
// its stdin ends. Mode "exit3" exits with status 3 on the first request.
func fakeServer(mode string) int {
	r := jsonrpc.NewReader(os.Stdin, 0)
	w := jsonrpc.NewWriter(os.Stdout)
	for {
		m, err := r.Read()
		if jsonrpc.IsBadMessage(err) {
			continue
		}
		if err != nil {
			return 0
		}
		if m.Kind != jsonrpc.KindRequest {
			continue
		}
		if mode == "exit3" {
			return 3
		}
		params := m.Params
		if params == nil {
			params = json.RawMessage("null")
		}
		method, _ := json.Marshal(m.Method)
		w.WriteRaw([]byte(fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":{"method":%s,"params":%s,"pid":%d}}`, m.ID, method, params, os.Getpid())))
	}
}

var (
	buildOnce sync.Once
	buildDir  string // removed by TestMain
	buildBin  string
	buildErr  error
)

// buildAirlock builds the airlock binary once per test run.
func buildAirlock(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the airlock binary")
	}
	buildOnce.Do(func() {
		root, err := filepath.Abs(filepath.Join("..", ".."))
		if err != nil {
			buildErr = err
			return
		}
		if buildDir, err = os.MkdirTemp("", "airlock-cli-test-"); err != nil {
			buildErr = err
			return
		}
		buildBin = filepath.Join(buildDir, "airlock")
		cmd := exec.Command("go", "build", "-o", buildBin, ".")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

// liveProcess reports whether pid runs (zombies, which containers without a reaping
// init may keep, do not count).
func liveProcess(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return !os.IsNotExist(err)
	}
	rest := stat[bytes.LastIndexByte(stat, ')')+2:]
	return len(rest) > 0 && rest[0] != 'Z' && rest[0] != 'X'
}

// trust pre-approves launching argv as the server name in the Airlock home, so wrap
// starts it without asking a person.
func trust(t *testing.T, bin, home, name string, argv ...string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"trust", "--name", name, "--"}, argv...)...)
	cmd.Env = append(os.Environ(), "AIRLOCK_HOME="+home)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("airlock trust: %v\n%s", err, out)
	}
}

type airlockProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *jsonrpc.Reader
	stderr *bytes.Buffer
}

func startAirlock(t *testing.T, bin, mode string, args ...string) *airlockProc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	trust(t, bin, home, "fake", exe)
	// The relay tests send messages of several MiB, more than Airlock reads whole, which
	// a person would decide; the policy lets the fake server's echo through instead.
	if err := os.WriteFile(filepath.Join(home, "policy.toml"), []byte("[[rules]]\ntool = \"echo\"\naction = \"allow\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append(append([]string{"wrap", "--name", "fake"}, args...), "--", exe)...)
	cmd.Env = append(os.Environ(), "AIRLOCK_HOME="+home, "FAKE_MCP_SERVER="+mode, "GORACE=atexit_sleep_ms=0")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return &airlockProc{t: t, cmd: cmd, stdin: stdin, out: jsonrpc.NewReader(bufio.NewReader(stdout), 0), stderr: &stderr}
}

func (a *airlockProc) send(line string) {
	a.t.Helper()
	if _, err := io.WriteString(a.stdin, line+"\n"); err != nil {
		a.t.Fatalf("write to airlock: %v", err)
	}
}

func (a *airlockProc) read() *jsonrpc.Message {
	a.t.Helper()
	m, err := a.out.Read()
	if err != nil {
		a.t.Fatalf("read from airlock: %v (stderr %q)", err, a.stderr.String())
	}
	return m
}

// wait closes airlock's stdin and returns its exit status.
func (a *airlockProc) wait() int {
	a.t.Helper()
	a.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- a.cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			a.t.Fatal(err)
		}
		return 0
	case <-time.After(10 * time.Second):
		a.t.Fatalf("airlock did not exit within 10 s of its stdin closing")
	}
	return -1
}

func TestWrapEndToEnd(t *testing.T) {
	bin := buildAirlock(t)
	a := startAirlock(t, bin, "echo")

	// A first request tells us the fake server's pid.
	a.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","clientInfo":{"name":"t","version":"1"},"capabilities":{}}}`)
	m := a.read()
	var res struct{ Pid int }
	if err := json.Unmarshal(m.Result, &res); err != nil || res.Pid == 0 || m.ID.String() != "1" {
		t.Fatalf("initialize answer %s: %v", m.Raw, err)
	}
	serverPid := res.Pid
	if pgid, err := syscall.Getpgid(serverPid); err != nil || pgid != serverPid {
		t.Errorf("server pgid = %d, %v; want its own group", pgid, err)
	}

	// A 5 MiB message crosses both ways intact.
	big := strings.Repeat("0123456789abcdef", (5<<20)/16)
	a.send(`{"jsonrpc":"2.0","id":"big","method":"tools/call","params":{"name":"echo","arguments":{"s":"` + big + `"}}}`)
	m = a.read()
	want := fmt.Sprintf(`{"jsonrpc":"2.0","id":"big","result":{"method":"tools/call","params":{"name":"echo","arguments":{"s":"%s"}},"pid":%d}}`, big, serverPid)
	if string(m.Raw) != want {
		t.Errorf("5 MiB round trip: got %d bytes, want %d", len(m.Raw), len(want))
	}

	// Bad input is answered and the relay goes on.
	a.send(`{"jsonrpc":"2.0","id":2,"method":`)
	if m = a.read(); m.ErrorObject() == nil || m.ErrorObject().Code != jsonrpc.CodeParseError || m.ID.String() != "2" {
		t.Errorf("bad JSON answered with %s, want a -32700 error for id 2", m.Raw)
	}
	a.send(`[1,2]`)
	if m = a.read(); m.ErrorObject() == nil || m.ErrorObject().Code != jsonrpc.CodeInvalidRequest {
		t.Errorf("batch answered with %s, want -32600", m.Raw)
	}
	a.send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"x","arguments":{"p":1,"p":2}}}`)
	if m = a.read(); m.ErrorObject() == nil || m.ErrorObject().Code != jsonrpc.CodeInvalidParams || m.ID.String() != "3" {
		t.Errorf("ambiguous tools/call answered with %s, want -32602 for id 3", m.Raw)
	}
	a.send(`{"jsonrpc":"2.0","id":"4","method":"ping"}`)
	if m = a.read(); m.ID.String() != `"4"` || m.Result == nil {
		t.Errorf("ping after bad input answered with %s", m.Raw)
	}

	if code := a.wait(); code != 0 {
		t.Errorf("airlock exit status %d, want 0 (stderr %q)", code, a.stderr.String())
	}
	if liveProcess(serverPid) {
		t.Errorf("fake server %d still running after airlock exited", serverPid)
	}
	if err := syscall.Kill(-serverPid, 0); err == nil {
		// Only zombies may remain (see liveProcess).
		if liveProcess(serverPid) {
			t.Errorf("process group %d still has members", serverPid)
		}
	}
}

func TestWrapMessageTooLarge(t *testing.T) {
	bin := buildAirlock(t)
	a := startAirlock(t, bin, "echo", "--max-message-size", strconv.Itoa(1<<20))
	a.send(`{"jsonrpc":"2.0","id":"huge","method":"tools/call","params":{"name":"x","arguments":{"s":"` + strings.Repeat("x", 3<<20) + `"}}}`)
	m := a.read()
	if e := m.ErrorObject(); e == nil || e.Code != jsonrpc.CodeMessageTooLarge || m.ID.String() != `"huge"` {
		t.Errorf("oversized request answered with %.300s, want -32001 for \"huge\"", m.Raw)
	}
	a.send(`{"jsonrpc":"2.0","id":5,"method":"ping"}`)
	if m = a.read(); m.ID.String() != "5" || m.Result == nil {
		t.Errorf("next request answered with %.300s", m.Raw)
	}
	if code := a.wait(); code != 0 {
		t.Errorf("airlock exit status %d, want 0", code)
	}
}

func TestWrapServerExits(t *testing.T) {
	bin := buildAirlock(t)
	a := startAirlock(t, bin, "exit3")
	a.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`)
	m := a.read()
	e := m.ErrorObject()
	if e == nil || e.Code != jsonrpc.CodeServerUnavailable || !strings.Contains(e.Message, "exit status 3") {
		t.Fatalf("answer %s, want -32000 naming exit status 3", m.Raw)
	}
	// The server never spoke, so airlock keeps answering with the reason.
	a.send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	if m = a.read(); m.ErrorObject() == nil || !strings.Contains(m.ErrorObject().Message, "exit status 3") {
		t.Errorf("later request answered with %s", m.Raw)
	}
	if code := a.wait(); code != 1 {
		t.Errorf("airlock exit status %d, want 1 after its server failed", code)
	}
	if !strings.Contains(a.stderr.String(), "exit status 3") {
		t.Errorf("stderr %q, want the exit status", a.stderr.String())
	}
}

func TestWrapMissingExecutable(t *testing.T) {
	bin := buildAirlock(t)
	home := t.TempDir()
	trust(t, bin, home, "nope", "airlock-no-such-server-xyz")
	cmd := exec.Command(bin, "wrap", "--name", "nope", "--", "airlock-no-such-server-xyz")
	cmd.Env = append(os.Environ(), "AIRLOCK_HOME="+home)
	cmd.Stdin = strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}` + "\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("airlock = %v, want exit status 1", err)
	}
	m, perr := jsonrpc.Parse(bytes.TrimSpace(stdout.Bytes()))
	if perr != nil || m.ErrorObject() == nil || !strings.Contains(m.ErrorObject().Message, `"airlock-no-such-server-xyz" not found in PATH`) {
		t.Errorf("stdout %q, want an error response saying the executable is missing", stdout.String())
	}
	if !strings.Contains(stderr.String(), `server "nope" failed to start`) {
		t.Errorf("stderr %q, want the start error", stderr.String())
	}
}
