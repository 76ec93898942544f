package desktop

import (
	"context"
	"os"
	"os/exec"
	"time"

	"github.com/airlock-mcp/airlock/app/demo"
	"github.com/airlock-mcp/airlock/consent/pins"
)

// startDemo runs the scripted demo agent once, in the background: it starts the demo
// server through a real `airlock wrap` proxy, so its launch and its tier-3 calls come
// to this window for approval.
func (a *App) startDemo() {
	a.demoOnce.Do(func() {
		self, err := os.Executable()
		if err != nil {
			a.logf("demo: %v", err)
			return
		}
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			a.runDemo(a.ctx, demo.ProxyCommand(self, a.paths.home))
		}()
	})
}

func (a *App) runDemo(ctx context.Context, command func(context.Context) *exec.Cmd) {
	a.resetDemo(ctx)
	res, err := demo.RunAgent(ctx, demo.AgentOptions{Command: command, Pause: 1500 * time.Millisecond, Logf: a.logf})
	if err != nil && ctx.Err() == nil {
		a.logf("demo: %v", err)
	}
	if len(res) > 0 {
		a.logf("demo: done; the decisions are in Activity")
	}
	a.kickLog()
}

// resetDemo forgets what earlier demo runs approved for good (the demo server's pinned
// command and its grants), so a newcomer sees every approval again. It touches nothing
// that belongs to another server.
func (a *App) resetDemo(ctx context.Context) {
	ps := pins.Open(a.paths.pins)
	if _, pinned, _ := ps.Get(demo.ServerName); pinned {
		if err := ps.Remove(demo.ServerName); err != nil {
			a.logf("demo: %v", err)
		}
	}
	gs, err := a.current().Grants(ctx)
	if err != nil {
		return
	}
	for _, g := range gs {
		if g.Server == demo.ServerName {
			a.current().Revoke(ctx, g.ID)
		}
	}
}
