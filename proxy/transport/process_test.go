//go:build unix

package transport_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
	"github.com/airlock-mcp/airlock/proxy/transport"
)

// TestMain turns the test binary into a fake MCP server when FAKE_MCP_SERVER is set.
func TestMain(m *testing.M) {
	if mode := os.Getenv("FAKE_MCP_SERVER"); mode != "" {
		os.Exit(fakeServer(mode))
	}
	os.Exit(m.Run())
}

// fakeServer behaves as an MCP server on stdio. Modes:
//
//	echo                answer each request with {"method":…,"params":…}; exit 0 at EOF
//	ignore-stdin-close  echo, but keep running after stdin closes (until SIGTERM)
//	ignore-sigterm      echo, keep running after stdin closes and ignore SIGTERM
//	grandchild          first start a grandchild that ignores SIGTERM and announce its
//	                    pid in a "grandchild" notification; then echo
//	exit3               exit with status 3 on the first request, without answering
//	exit-now            exit with status 3 at once, saying nothing on stdout
func fakeServer(mode string) int {
	switch mode {
	case "sigterm-immune-child":
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ready")
		os.Stdout.Close()
		for {
			time.Sleep(time.Hour)
		}
	case "exit-now":
		fmt.Fprintln(os.Stderr, "fake: giving up at once")
		return 3
	case "ignore-sigterm":
		signal.Ignore(syscall.SIGTERM)
	case "grandchild":
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "FAKE_MCP_SERVER=sigterm-immune-child", "GORACE=atexit_sleep_ms=0")
		out, err := cmd.StdoutPipe()
		if err != nil {
			panic(err)
		}
		if err := cmd.Start(); err != nil {
			panic(err)
		}
		if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
			panic(err)
		}
		fmt.Printf(`{"jsonrpc":"2.0","method":"grandchild","params":{"pid":%d}}`+"\n", cmd.Process.Pid)
	}
	r := jsonrpc.NewReader(os.Stdin, 0)
	w := jsonrpc.NewWriter(os.Stdout)
	for {
		m, err := r.Read()
		if jsonrpc.IsBadMessage(err) {
			continue
		}
		if err != nil {
			break
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
		w.WriteRaw([]byte(`{"jsonrpc":"2.0","id":` + m.ID.String() + `,"result":{"method":` + string(method) + `,"params":` + string(params) + `}}`))
	}
	switch mode {
	case "ignore-stdin-close", "ignore-sigterm":
		for {
			time.Sleep(time.Hour)
		}
	}
	return 0
}

func fakeSpec(t *testing.T, mode string) transport.Spec {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return transport.Spec{
		Name: "fake",
		Argv: []string{exe},
		// A race-enabled binary sleeps 1 s at exit unless told not to.
		Env:    append(os.Environ(), "FAKE_MCP_SERVER="+mode, "GORACE=atexit_sleep_ms=0"),
		Stderr: io.Discard,
	}
}

// alive reports whether pid (or, for a negative pid, any process of the group -pid) is
// still a live process. Zombies do not count: they run no code, and in containers whose
// init does not reap, orphaned zombies linger.
func alive(t *testing.T, pid int) bool {
	t.Helper()
	err := syscall.Kill(pid, 0)
	if errors.Is(err, syscall.ESRCH) {
		return false
	}
	if err != nil {
		t.Fatalf("kill(%d, 0): %v", pid, err)
	}
	// Something answered; see whether anything but zombies remains.
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return true // no /proc: trust kill
	}
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp …
		rest := stat[bytes.LastIndexByte(stat, ')')+2:]
		f := strings.Fields(string(rest))
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		pgrp, _ := strconv.Atoi(f[2])
		if (pid > 0 && n == pid) || (pid < 0 && pgrp == -pid) {
			return true
		}
	}
	return false
}

func start(t *testing.T, mode string) *transport.Process {
	t.Helper()
	p, err := transport.Start(fakeSpec(t, mode))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		p.Shutdown()
		syscall.Kill(-p.Pid(), syscall.SIGKILL)
	})
	return p
}

func mustParse(t *testing.T, s string) *jsonrpc.Message {
	t.Helper()
	m, err := jsonrpc.Parse([]byte(s))
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return m
}

func TestProcessRoundTrip(t *testing.T) {
	p := start(t, "echo")
	if p.Name != "fake" {
		t.Errorf("Name = %q", p.Name)
	}
	big := strings.Repeat("é", 3<<20) // 6 MiB of UTF-8, beyond any pipe buffer
	for _, id := range []string{`1`, `"1"`, `"x\u0079"`, `1.50`} {
		req := mustParse(t, `{"jsonrpc":"2.0","id":`+id+`,"method":"echo","params":{"s":"`+big[:len(id)*1000]+`"}}`)
		if err := p.Write(req); err != nil {
			t.Fatalf("Write: %v", err)
		}
		resp, err := p.Read()
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		want := `{"jsonrpc":"2.0","id":` + id + `,"result":{"method":"echo","params":{"s":"` + big[:len(id)*1000] + `"}}}`
		if string(resp.Raw) != want {
			t.Errorf("response = %.200s, want %.200s", resp.Raw, want)
		}
	}
	req := mustParse(t, `{"jsonrpc":"2.0","id":9,"method":"big","params":["`+big+`"]}`)
	if err := p.Write(req); err != nil {
		t.Fatal(err)
	}
	resp, err := p.Read()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(resp.Raw), len(`{"jsonrpc":"2.0","id":9,"result":{"method":"big","params":[""]}}`)+len(big); got != want {
		t.Errorf("big response is %d bytes, want %d", got, want)
	}
}

func TestProcessExitStatus(t *testing.T) {
	p := start(t, "exit3")
	if err := p.Write(mustParse(t, `{"jsonrpc":"2.0","id":1,"method":"ping"}`)); err != nil {
		t.Fatal(err)
	}
	_, err := p.Read()
	var exit *transport.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("Read error = %v, want *ExitError", err)
	}
	if diff := cmp.Diff(&transport.ExitError{Name: "fake", Status: "exit status 3"}, exit); diff != "" {
		t.Errorf("ExitError mismatch (-want +got):\n%s", diff)
	}
	if got, want := exit.Error(), `server "fake" exited (exit status 3)`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	<-p.Done()
}

func TestProcessShutdown(t *testing.T) {
	tests := []struct {
		mode       string
		status     string // what Read reports afterwards
		atLeast    time.Duration
		atMost     time.Duration
		grandchild bool
	}{
		// Exits when its stdin closes: no signal needed.
		{mode: "echo", status: "exit status 0", atMost: 600 * time.Millisecond},
		// Needs SIGTERM after the first 700 ms step.
		{mode: "ignore-stdin-close", status: "signal: terminated", atLeast: 650 * time.Millisecond, atMost: 1500 * time.Millisecond},
		// Needs SIGKILL: about 1.4 s, never more than about 2.1 s.
		{mode: "ignore-sigterm", status: "signal: killed", atLeast: 1300 * time.Millisecond, atMost: 2500 * time.Millisecond},
		// The server exits on EOF but leaves a grandchild that ignores SIGTERM.
		{mode: "grandchild", status: "exit status 0", atMost: 2500 * time.Millisecond, grandchild: true},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			t.Parallel()
			p := start(t, tt.mode)
			pgid := p.Pid()
			if got, err := syscall.Getpgid(pgid); err != nil || got != pgid {
				t.Fatalf("Getpgid(%d) = %d, %v; want the server to lead its own group", pgid, got, err)
			}
			gpid := 0
			var gwatch *exitWatcher
			if tt.grandchild {
				m, err := p.Read()
				if err != nil {
					t.Fatal(err)
				}
				var params struct{ Pid int }
				if err := json.Unmarshal(m.Params, &params); err != nil || params.Pid == 0 {
					t.Fatalf("grandchild notification %s: %v", m.Raw, err)
				}
				gpid = params.Pid
				if got, _ := syscall.Getpgid(gpid); got != pgid {
					t.Fatalf("grandchild in group %d, want %d", got, pgid)
				}
				gwatch = watchExit(t, gpid)
			}
			// Prove the server is serving before stopping it.
			if err := p.Write(mustParse(t, `{"jsonrpc":"2.0","id":1,"method":"ping"}`)); err != nil {
				t.Fatal(err)
			}
			if _, err := p.Read(); err != nil {
				t.Fatal(err)
			}

			begin := time.Now()
			if err := p.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			took := time.Since(begin)
			if took < tt.atLeast || took > tt.atMost {
				t.Errorf("Close took %v, want between %v and %v", took, tt.atLeast, tt.atMost)
			}
			select {
			case <-p.Done():
			default:
				t.Errorf("Done not closed after Close returned")
			}
			// SIGKILL is delivered asynchronously: Shutdown returns once it is sent, so
			// give the kernel a moment to finish the grandchild off.
			if gwatch != nil && !gwatch.exited(time.Second) {
				t.Errorf("grandchild %d still running 1 s after Close", gpid)
			}
			if alive(t, -pgid) {
				t.Errorf("a process of group %d survived Close", pgid)
			}
			if gpid != 0 && alive(t, gpid) {
				t.Errorf("grandchild %d survived Close", gpid)
			}
			_, err := p.Read()
			var exit *transport.ExitError
			if !errors.As(err, &exit) || exit.Status != tt.status {
				t.Errorf("Read after Close = %v, want an ExitError with status %q", err, tt.status)
			}
			// Close and Shutdown are idempotent and quick the second time.
			begin = time.Now()
			p.Close()
			p.Shutdown()
			if took := time.Since(begin); took > 100*time.Millisecond {
				t.Errorf("second Close took %v", took)
			}
		})
	}
}

func TestStartErrors(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.sh")
	if err := os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	aFile := filepath.Join(dir, "file")
	if err := os.WriteFile(aFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		spec transport.Spec
		want string // substring of the message after the common prefix
	}{
		{"no argv", transport.Spec{Name: "s"}, "no command given"},
		{"empty argv0", transport.Spec{Name: "s", Argv: []string{""}}, "no command given"},
		{"missing absolute", transport.Spec{Name: "s", Argv: []string{filepath.Join(dir, "nope")}}, "executable " + filepath.Join(dir, "nope") + ": no such file or directory"},
		{"missing in PATH", transport.Spec{Name: "s", Argv: []string{"airlock-no-such-command-xyz"}}, `executable "airlock-no-such-command-xyz" not found in PATH`},
		{"not executable", transport.Spec{Name: "s", Argv: []string{plain}}, "executable " + plain + ": permission denied"},
		{"a directory", transport.Spec{Name: "s", Argv: []string{dir}}, "executable " + dir + " is a directory"},
		{"relative to a missing dir", transport.Spec{Name: "s", Argv: []string{"./srv"}, Dir: filepath.Join(dir, "gone")}, "executable ./srv: no such file or directory"},
		{"missing working directory", transport.Spec{Name: "s", Argv: []string{exe}, Dir: filepath.Join(dir, "gone")}, "working directory " + filepath.Join(dir, "gone") + ": no such file or directory"},
		{"working directory is a file", transport.Spec{Name: "s", Argv: []string{exe}, Dir: aFile}, "working directory " + aFile + " is not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := transport.Start(tt.spec)
			if err == nil {
				p.Shutdown()
				t.Fatalf("Start succeeded, want an error")
			}
			var se *transport.StartError
			if !errors.As(err, &se) {
				t.Fatalf("error %T %v, want *StartError", err, err)
			}
			if se.Name != "s" {
				t.Errorf("Name = %q, want s", se.Name)
			}
			prefix := `server "s" failed to start: `
			if msg := err.Error(); !strings.HasPrefix(msg, prefix) || !strings.Contains(msg, tt.want) {
				t.Errorf("Error() = %q, want %q followed by %q", msg, prefix, tt.want)
			}
			if errors.Unwrap(err) == nil {
				t.Errorf("StartError does not unwrap")
			}
		})
	}
}

func TestStartRelativeToDir(t *testing.T) {
	// An executable given relative to the working directory is found there.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(exe, filepath.Join(dir, "srv")); err != nil {
		t.Fatal(err)
	}
	spec := fakeSpec(t, "echo")
	spec.Argv = []string{"./srv"}
	spec.Dir = dir
	p, err := transport.Start(spec)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer p.Close()
	if err := p.Write(mustParse(t, `{"jsonrpc":"2.0","id":1,"method":"ping"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Read(); err != nil {
		t.Fatal(err)
	}
}

func TestProcessServerSaysNothing(t *testing.T) {
	var stderr bytes.Buffer
	spec := fakeSpec(t, "exit-now")
	spec.Stderr = &stderr
	p, err := transport.Start(spec)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	_, err = p.Read()
	var exit *transport.ExitError
	if !errors.As(err, &exit) || exit.Status != "exit status 3" {
		t.Errorf("Read = %v, want exit status 3", err)
	}
	if !strings.Contains(stderr.String(), "giving up") {
		t.Errorf("stderr = %q, want the server's stderr passed through", stderr.String())
	}
}

func TestStream(t *testing.T) {
	// A Stream over pipes, as the session tests use: messages cross byte for byte, and
	// Close runs its closer once.
	inR, inW := io.Pipe()
	var out bytes.Buffer
	closes := 0
	s := transport.NewStream(inR, &out, func() error { closes++; return errors.New("closed") }, 0)
	go func() {
		io.WriteString(inW, `{"jsonrpc":"2.0","id":"a","method":"m"}`+"\r\n")
		inW.Close()
	}()
	m, err := s.Read()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(m); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read(); !errors.Is(err, io.EOF) {
		t.Errorf("Read at end = %v, want EOF", err)
	}
	if got, want := out.String(), `{"jsonrpc":"2.0","id":"a","method":"m"}`+"\n"; got != want {
		t.Errorf("wrote %q, want %q", got, want)
	}
	for range 3 {
		if err := s.Close(); err == nil || err.Error() != "closed" {
			t.Errorf("Close = %v, want the closer's error", err)
		}
	}
	if closes != 1 {
		t.Errorf("closer ran %d times, want 1", closes)
	}
}
