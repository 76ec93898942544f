package desktop

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/airlock-mcp/airlock/consent/apitype"
	"github.com/airlock-mcp/airlock/store"
)

// Event names the frontend listens to.
const (
	EventBroker = "airlock:event" // payload: apitype.Event
	EventLog    = "airlock:log"   // payload: {}; new decisions were logged
)

// logPoll is how often the window looks for decisions that proxies logged on their own
// (automatic allows never pass the broker); logSettle lets a burst finish first.
const (
	logPoll   = 2 * time.Second
	logSettle = 300 * time.Millisecond
)

// watchBroker relays the broker's events to the frontend until ctx ends, watching again
// when the stream breaks. When an attached daemon goes away, the window starts its own
// broker so proxies keep an approver.
func (a *App) watchBroker(ctx context.Context) {
	for ctx.Err() == nil {
		b := a.current()
		err := b.Watch(ctx, a.handleEvent)
		if ctx.Err() != nil {
			return
		}
		a.logf("broker event stream ended: %v", err)
		if !wait(ctx, time.Second) {
			return
		}
		if at, ok := b.(*attached); ok && !at.alive(ctx) {
			a.reconnect(ctx)
		}
	}
}

// reconnect replaces a broker that went away with a new connection.
func (a *App) reconnect(ctx context.Context) {
	nb, err := connect(ctx, a.paths, a.log, a.version)
	if err != nil {
		a.logf("no broker: %v", err)
		return
	}
	a.mu.Lock()
	old := a.broker
	a.broker = nb
	a.mu.Unlock()
	old.Close()
	a.logf("broker is now %s", nb.Mode())
}

func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// handleEvent passes e to the frontend and, for a new request, fetches the person.
func (a *App) handleEvent(e apitype.Event) {
	sh := a.ui()
	sh.Emit(EventBroker, e)
	switch e.Type {
	case "pending":
		sh.Surface()
		for _, p := range e.Pending {
			title, body := notification(p)
			sh.Notify(title, body)
		}
	case "decided", "withdrawn":
		a.kickLog()
	}
}

// notification words a pending request for an OS notification.
func notification(p apitype.Pending) (title, body string) {
	r := p.Request
	switch r.Kind {
	case apitype.KindToolCall:
		return "Airlock: approve a tool call?", fmt.Sprintf("%s › %s (tier %d)", r.Server, r.Tool, r.Tier)
	case apitype.KindLaunch:
		cmd := ""
		if r.Launch != nil {
			cmd = strings.Join(r.Launch.Argv, " ")
			if len(cmd) > 120 {
				cmd = cmd[:120] + "…"
			}
		}
		return "Airlock: start a server?", fmt.Sprintf("%s wants to run: %s", r.Server, cmd)
	}
	return "Airlock: approval needed", fmt.Sprintf("%s: %s", r.Server, r.Kind)
}

// kickLog asks the activity watcher to look for new decisions soon.
func (a *App) kickLog() {
	select {
	case a.logKick <- struct{}{}:
	default:
	}
}

// watchLog tells the frontend when new decisions are in the log: shortly after a
// decision the window saw, and otherwise every logPoll.
func (a *App) watchLog(ctx context.Context) {
	a.checkLog(ctx)
	tick := time.NewTicker(logPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-a.logKick:
			if !wait(ctx, logSettle) {
				return
			}
		}
		a.checkLog(ctx)
	}
}

// checkLog emits EventLog when the newest row changed since the last check.
func (a *App) checkLog(ctx context.Context) {
	rows, err := a.log.Query(ctx, store.Filter{Limit: 1})
	if err != nil || len(rows) == 0 {
		return
	}
	a.mu.Lock()
	changed := rows[0].ID != a.lastLog
	a.lastLog = rows[0].ID
	a.mu.Unlock()
	if changed {
		a.ui().Emit(EventLog, struct{}{})
	}
}

// keepPruned removes decisions older than the retention setting, now and once a day,
// as `airlock daemon` does.
func (a *App) keepPruned(ctx context.Context, retention time.Duration) {
	for {
		if n, err := a.log.Prune(ctx, a.now().Add(-retention)); err != nil {
			a.logf("pruning the decision log: %v", err)
		} else if n > 0 {
			a.logf("pruned %d decisions older than %s (retention setting)", n, retention)
		}
		if !wait(ctx, 24*time.Hour) {
			return
		}
	}
}

// secondLaunch handles another `airlock` start while this window runs: it comes to the
// front, and runs the demo if that was asked for.
func (a *App) secondLaunch(args []string) {
	a.ui().Surface()
	for _, arg := range args {
		if arg == "--demo" || arg == "-demo" || arg == "demo" {
			a.mu.Lock()
			a.demo = true
			a.mu.Unlock()
			a.startDemo()
			return
		}
	}
}
