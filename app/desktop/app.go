// Package desktop is Airlock's desktop window: the Go side of the Wails app, bound to the
// frontend as App (see CONTRACT.md), and the only package that imports Wails.
package desktop

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/airlock-mcp/airlock/app/config"
	"github.com/airlock-mcp/airlock/consent/apitype"
	"github.com/airlock-mcp/airlock/consent/localapi"
	"github.com/airlock-mcp/airlock/store"
	"github.com/airlock-mcp/airlock/store/secret"
)

// Options configure the window.
type Options struct {
	// Version is Airlock's version, shown in the window and reported by the local API.
	Version string
	// Demo starts the demo once the window is up.
	Demo bool
	// Tools lists a server's tools (see App.ServerTools); nil makes that an error.
	Tools func(ctx context.Context, name string) ([]ToolInfo, error)
	// Stderr receives the app's diagnostics; nil means os.Stderr.
	Stderr io.Writer
}

// ToolInfo is one tool of a server with the tier a call to it gets.
type ToolInfo struct {
	Name        string           `json:"name"`
	Description string           `json:"description"`
	Tier        int              `json:"tier"`
	Reasons     []apitype.Reason `json:"reasons"`
	Hidden      bool             `json:"hidden"`
}

// paths are the files under the Airlock home.
type paths struct {
	home, socket, log, grants, policy, pins, servers string
}

func pathsIn(home string) paths {
	return paths{
		home:    home,
		socket:  localapi.SocketPath(home),
		log:     filepath.Join(home, "decisions.db"),
		grants:  filepath.Join(home, "grants.json"),
		policy:  filepath.Join(home, "policy.toml"),
		pins:    filepath.Join(home, "pins.json"),
		servers: config.ServersPath(home),
	}
}

// App is bound to the frontend: every exported method is callable from JavaScript as
// window.go.desktop.App.<Method>, so App exports nothing else. Its methods are safe for
// concurrent use.
type App struct {
	paths   paths
	version string
	demo    bool
	tools   func(ctx context.Context, name string) ([]ToolInfo, error)
	logf    func(format string, args ...any)
	log     *store.Log
	secrets *secret.Store
	now     func() time.Time

	mu     sync.Mutex
	broker Broker
	shell  Shell
	ctx    context.Context // the window's lifetime; methods called by the frontend use it
	cancel context.CancelFunc
	wg     sync.WaitGroup

	fileMu   sync.Mutex // serialises edits of policy.toml
	logKick  chan struct{}
	lastLog  int64
	demoOnce sync.Once
}

// newApp opens the log and connects to (or starts) the broker.
func newApp(ctx context.Context, o Options) (*App, error) {
	home, err := config.EnsureHome()
	if err != nil {
		return nil, err
	}
	p := pathsIn(home)
	lg, err := openLog(p)
	if err != nil {
		return nil, err
	}
	b, err := connect(ctx, p, lg, o.Version)
	if err != nil {
		lg.Close()
		return nil, err
	}
	return build(p, lg, b, o), nil
}

// build assembles an App from its parts (tests pass fakes).
func build(p paths, lg *store.Log, b Broker, o Options) *App {
	stderr := o.Stderr
	if stderr == nil {
		stderr = os.Stderr
	}
	ss, _ := secret.New(p.home)
	ctx, cancel := context.WithCancel(context.Background())
	return &App{
		paths: p, version: o.Version, demo: o.Demo, tools: o.Tools, log: lg, secrets: ss,
		logf: func(format string, args ...any) { fmt.Fprintf(stderr, "airlock app: "+format+"\n", args...) },
		now:  time.Now, broker: b, shell: noShell{}, ctx: ctx, cancel: cancel,
		logKick: make(chan struct{}, 1),
	}
}

// openLog opens the decision log with a redactor that knows the keyring's values.
func openLog(p paths) (*store.Log, error) {
	lg, err := store.Open(p.log)
	if err != nil {
		return nil, err
	}
	lg.SetRedactor(&store.Redactor{Known: keyringValues(p.home)})
	return lg, nil
}

func keyringValues(home string) []string {
	ss, err := secret.New(home)
	if err != nil {
		return nil
	}
	vals, _ := ss.Values()
	return vals
}

func (a *App) current() Broker {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.broker
}

func (a *App) ui() Shell {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.shell
}

// start runs the background work once the window exists: the broker's event stream and
// the activity watcher. It returns at once.
func (a *App) start(sh Shell) {
	a.mu.Lock()
	a.shell = sh
	a.mu.Unlock()
	a.wg.Add(2)
	go func() { defer a.wg.Done(); a.watchBroker(a.ctx) }()
	go func() { defer a.wg.Done(); a.watchLog(a.ctx) }()
	if st, err := a.Settings(); err == nil && st.RetentionDays > 0 && a.current().Mode() == ModeEmbedded {
		a.wg.Add(1)
		go func() { defer a.wg.Done(); a.keepPruned(a.ctx, time.Duration(st.RetentionDays)*24*time.Hour) }()
	}
}

// close stops the background work, the embedded broker and the log.
func (a *App) close() error {
	a.cancel()
	a.wg.Wait()
	err := a.current().Close()
	if a.log != nil {
		if cerr := a.log.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// call returns a context for one call from the frontend.
func (a *App) call() (context.Context, context.CancelFunc) {
	return context.WithTimeout(a.ctx, 30*time.Second)
}

// Status describes the broker the window works with.
type Status struct {
	Mode         string `json:"mode"`
	Version      string `json:"version"`
	Socket       string `json:"socket"`
	CLIApprovals bool   `json:"cliApprovals"`
	Demo         bool   `json:"demo"`
}

// Status reports whether the window embeds the broker or attached to `airlock daemon`.
func (a *App) Status() Status {
	a.mu.Lock()
	b, demo := a.broker, a.demo
	a.mu.Unlock()
	return Status{Mode: b.Mode(), Version: a.version, Socket: a.paths.socket, CLIApprovals: b.CLIApprovals(), Demo: demo}
}

// Pending lists the requests waiting for a person, oldest first.
func (a *App) Pending() ([]apitype.Pending, error) {
	ctx, cancel := a.call()
	defer cancel()
	p, err := a.current().Pending(ctx)
	if p == nil {
		p = []apitype.Pending{}
	}
	return p, err
}

// Decide decides a pending request from the window.
func (a *App) Decide(id, outcome, scope, reason string) error {
	ctx, cancel := a.call()
	defer cancel()
	err := a.current().Decide(ctx, apitype.DecideRequest{
		ID: id, Outcome: apitype.Outcome(outcome), Scope: apitype.Scope(scope), Reason: reason, Channel: apitype.ChannelApp,
	})
	if err == nil {
		a.kickLog()
	}
	return decideError(err)
}

// Grants lists the standing grants.
func (a *App) Grants() ([]apitype.Grant, error) {
	ctx, cancel := a.call()
	defer cancel()
	g, err := a.current().Grants(ctx)
	if g == nil {
		g = []apitype.Grant{}
	}
	return g, err
}

// Revoke removes a standing grant.
func (a *App) Revoke(id string) error {
	ctx, cancel := a.call()
	defer cancel()
	return a.current().Revoke(ctx, id)
}
