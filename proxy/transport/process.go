package transport

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
)

// Spec says how to start a server process.
type Spec struct {
	Name       string    // the server's name, for messages
	Argv       []string  // command and arguments; Argv[0] is looked up in PATH
	Dir        string    // working directory; "" means the current one
	Env        []string  // the full environment, "K=V"; nil means inherit Airlock's
	Stderr     io.Writer // where the server's stderr goes; nil means Airlock's stderr
	MaxMessage int       // cap on one message from the server
}

// Process is a server running as a child process, speaking newline-delimited JSON-RPC on
// its stdin and stdout. It runs in its own process group so that Shutdown reaches every
// process it started.
type Process struct {
	Name string

	cmd    *exec.Cmd
	stdin  *os.File
	stdout *os.File
	*Stream

	done    chan struct{} // closed when the process has been reaped
	waitErr error

	// grewIn and grewOut record that the server's stdin and stdout pipes were grown. A
	// pipe grows the first time a message it carries is larger than the default pipe:
	// every grown pipe counts against the user's pipe-page budget
	// (/proc/sys/fs/pipe-user-pages-soft; past it, all the user's new pipes get two
	// pages), so servers that only exchange small messages keep the default.
	grewIn, grewOut atomic.Bool

	shutdownOnce sync.Once
}

// StartError reports a server that could not be started. Its message says why in terms a
// person can act on.
type StartError struct {
	Name string
	Err  error
}

func (e *StartError) Error() string {
	return fmt.Sprintf("server %q failed to start: %v", e.Name, e.Err)
}

func (e *StartError) Unwrap() error { return e.Err }

// ExitError reports that the server process ended.
type ExitError struct {
	Name   string
	Status string // "exit status 1", "signal: killed", or "closed its stdout"
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("server %q exited (%s)", e.Name, e.Status)
}

// Start launches the server described by spec.
func Start(spec Spec) (*Process, error) {
	if len(spec.Argv) == 0 || spec.Argv[0] == "" {
		return nil, &StartError{Name: spec.Name, Err: errors.New("no command given")}
	}
	path, err := lookPath(spec.Argv[0], spec.Dir)
	if err != nil {
		return nil, &StartError{Name: spec.Name, Err: err}
	}
	if spec.Dir != "" {
		if fi, err := os.Stat(spec.Dir); err != nil {
			return nil, &StartError{Name: spec.Name, Err: fmt.Errorf("working directory %s: %w", spec.Dir, friendly(err))}
		} else if !fi.IsDir() {
			return nil, &StartError{Name: spec.Name, Err: fmt.Errorf("working directory %s is not a directory", spec.Dir)}
		}
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, &StartError{Name: spec.Name, Err: err}
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, &StartError{Name: spec.Name, Err: err}
	}
	cmd := &exec.Cmd{
		Path:   path,
		Args:   spec.Argv,
		Dir:    spec.Dir,
		Env:    spec.Env,
		Stdin:  inR,
		Stdout: outW,
		Stderr: spec.Stderr,
	}
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		inR.Close()
		inW.Close()
		outR.Close()
		outW.Close()
		return nil, &StartError{Name: spec.Name, Err: friendly(err)}
	}
	// The child holds its own copies; ours would keep the pipes open after it exits.
	inR.Close()
	outW.Close()
	p := &Process{Name: spec.Name, cmd: cmd, stdin: inW, stdout: outR, done: make(chan struct{})}
	p.Stream = NewStream(outR, inW, p.Shutdown, spec.MaxMessage)
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// LookPath resolves argv0 as Start will, relative to dir for paths with a slash, with
// errors a person can act on (not found in PATH, permission denied).
func LookPath(argv0, dir string) (string, error) { return lookPath(argv0, dir) }

// lookPath resolves argv0 the way exec does, relative to dir for paths with a slash,
// with errors a person understands.
func lookPath(argv0, dir string) (string, error) {
	if strings.ContainsRune(argv0, filepath.Separator) || strings.ContainsRune(argv0, '/') {
		p := argv0
		if !filepath.IsAbs(p) && dir != "" {
			p = filepath.Join(dir, p)
		}
		fi, err := os.Stat(p)
		if err != nil {
			return "", fmt.Errorf("executable %s: %w", argv0, friendly(err))
		}
		if fi.IsDir() {
			return "", fmt.Errorf("executable %s is a directory", argv0)
		}
		if fi.Mode()&0o111 == 0 && !isWindows {
			return "", fmt.Errorf("executable %s: permission denied (the file is not executable)", argv0)
		}
		return argv0, nil
	}
	p, err := exec.LookPath(argv0)
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return "", fmt.Errorf("executable %q not found in PATH (%s)", argv0, os.Getenv("PATH"))
		}
		if errors.Is(err, fs.ErrPermission) {
			return "", fmt.Errorf("executable %q: permission denied", argv0)
		}
		return "", err
	}
	return p, nil
}

func friendly(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return errors.New("no such file or directory")
	case errors.Is(err, fs.ErrPermission):
		return errors.New("permission denied")
	}
	return err
}

// growAt is the message size from which a pipe is grown: what the default pipe (64 KiB
// on Linux) cannot hold at once.
const growAt = 64 << 10

// Write implements Conn; the first message too large for the default pipe grows it first.
func (p *Process) Write(m *jsonrpc.Message) error {
	if len(m.Raw) >= growAt && p.grewIn.CompareAndSwap(false, true) {
		growPipe(p.stdin)
	}
	return p.Stream.Write(m)
}

// Read implements Conn. When the server's stdout ends, Read waits briefly for the
// process to exit and returns an *ExitError that names the exit status.
func (p *Process) Read() (*jsonrpc.Message, error) {
	m, err := p.Stream.Read()
	if err == nil && len(m.Raw) >= growAt && p.grewOut.CompareAndSwap(false, true) {
		growPipe(p.stdout) // this one came slowly; the next will not
	}
	if err == nil || jsonrpc.IsBadMessage(err) {
		return m, err
	}
	select {
	case <-p.done:
	case <-time.After(2 * time.Second):
		return nil, &ExitError{Name: p.Name, Status: "closed its stdout"}
	}
	return nil, &ExitError{Name: p.Name, Status: p.exitStatus()}
}

// Done is closed once the server process has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Pid returns the server's process id (also its process group id).
func (p *Process) Pid() int { return p.cmd.Process.Pid }

func (p *Process) exitStatus() string {
	if p.waitErr == nil {
		return "exit status 0"
	}
	var ee *exec.ExitError
	if errors.As(p.waitErr, &ee) {
		return ee.ProcessState.String()
	}
	return p.waitErr.Error()
}

// Shutdown stops the server the way the MCP stdio transport asks: close its stdin, wait,
// then SIGTERM its whole process group, wait, then SIGKILL it. It returns within about
// two seconds and leaves no process of the group behind. It is safe to call more than once.
func (p *Process) Shutdown() error {
	p.shutdownOnce.Do(func() {
		p.stdin.Close()
		const step = 700 * time.Millisecond
		select {
		case <-p.done:
		case <-time.After(step):
		}
		// Whether or not the leader exited, other members of its group may linger.
		if signalGroup(p.cmd, sigTerm) {
			deadline := time.Now().Add(step)
			for time.Now().Before(deadline) && groupAlive(p.cmd) {
				time.Sleep(20 * time.Millisecond)
			}
			if signalGroup(p.cmd, sigKill) {
				// SIGKILL cannot be caught, but the kernel takes a moment to reap.
				deadline := time.Now().Add(step)
				for time.Now().Before(deadline) && groupAlive(p.cmd) {
					time.Sleep(10 * time.Millisecond)
				}
			}
		}
		select {
		case <-p.done:
		case <-time.After(step):
		}
		p.stdout.Close()
	})
	return nil
}
