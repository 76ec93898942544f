package guard

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/airlock-mcp/airlock/consent/apitype"
	"github.com/airlock-mcp/airlock/consent/broker"
	"github.com/airlock-mcp/airlock/consent/client"
	"github.com/airlock-mcp/airlock/consent/launch"
	"github.com/airlock-mcp/airlock/consent/pins"
	"github.com/airlock-mcp/airlock/consent/policy"
	"github.com/airlock-mcp/airlock/store"
)

// Launcher decides whether a stdio server may start: a pinned or pre-approved command
// starts at once; anything else waits for a person, who sees the exact command with its
// risky parts highlighted and, for a changed command, what changed.
type Launcher struct {
	Policy *policy.Policy
	// Live, when set, supplies the policy in force instead of Policy.
	Live  *policy.Live
	Asker Asker
	Log   Recorder
	Pins  *pins.Store

	pending sync.WaitGroup
}

// Flush waits until every decision recorded in the background is written.
func (l *Launcher) Flush() { l.pending.Wait() }

// LaunchError says why a server was not started. Its message tells the user what to do.
type LaunchError struct {
	Server string
	Msg    string
}

func (e *LaunchError) Error() string { return e.Msg }

// Refused reports that Airlock (not the system) stopped the launch.
func (e *LaunchError) Refused() bool { return true }

// Check returns nil when c may start. c must be resolved (launch.Resolve).
func (l *Launcher) Check(ctx context.Context, c launch.Command) error {
	a := launch.Analyze(c)
	req := apitype.AskRequest{Kind: apitype.KindLaunch, Server: c.Name, Launch: &apitype.Launch{
		Argv: c.Argv, Dir: c.Dir, Executable: c.Executable, Fingerprint: a.Fingerprint,
	}}
	for _, e := range a.Env {
		req.Launch.Env = append(req.Launch.Env, apitype.EnvVar{Key: e.Key, Display: e.Display, Secret: e.Secret})
	}
	for _, s := range a.Spans {
		sp := apitype.Span{Where: string(s.Where.Field), Arg: s.Where.Arg, EnvKey: s.Where.Key,
			Start: s.Start, End: s.End, Text: s.Text, Category: string(s.Category), Severity: string(s.Severity), Why: s.Why}
		req.Launch.Spans = append(req.Launch.Spans, sp)
	}
	pol := l.Policy
	if l.Live != nil {
		pol = l.Live.Current()
	}
	if pol.LaunchApproved(c.Name, a.Fingerprint) {
		l.recordLater(req, store.DecidedByPolicy, "pre-approved in the policy file")
		return nil
	}
	pin, pinned, err := l.Pins.Get(c.Name)
	if err != nil {
		return &LaunchError{Server: c.Name, Msg: fmt.Sprintf("airlock cannot check the approved command of server %q: %v", c.Name, err)}
	}
	if pinned && pin.Fingerprint == a.Fingerprint {
		l.recordLater(req, store.DecidedByGrant, fmt.Sprintf("the command was approved on %s", pin.Approved.Local().Format(time.DateOnly)))
		return nil
	}
	if pinned {
		for _, ch := range launch.Diff(pin.Command(c.Name, c), c) {
			req.Launch.Changes = append(req.Launch.Changes, ch.String())
		}
	}
	trustHint := fmt.Sprintf("airlock trust --name %s -- %s", c.Name, strings.Join(c.Argv, " "))
	what := "for the first time"
	if pinned {
		what = "because its command changed since you approved it (" + strings.Join(req.Launch.Changes, "; ") + ")"
	}
	if l.Asker == nil {
		return l.noBroker(ctx, req, what, trustHint)
	}
	d, err := l.Asker.Ask(ctx, req)
	if err != nil {
		if client.IsNotRunning(err) {
			return l.noBroker(ctx, req, what, trustHint)
		}
		return &LaunchError{Server: c.Name, Msg: fmt.Sprintf("airlock could not get approval to start server %q: %v", c.Name, err)}
	}
	if d.Outcome != apitype.Allow {
		why := d.Reason
		if why == "" {
			why = "denied"
		}
		return &LaunchError{Server: c.Name, Msg: fmt.Sprintf(
			"airlock did not start server %q: the launch was not approved (%s). To approve it, restart the server from your IDE and allow it in Airlock, or run: %s",
			c.Name, why, trustHint)}
	}
	if d.Scope == apitype.Always || d.Scope == apitype.Session {
		kind := "approved"
		if pinned {
			kind = "changed and approved again"
		}
		if _, err := l.Pins.Set(c, "user"); err != nil {
			return &LaunchError{Server: c.Name, Msg: fmt.Sprintf("airlock could not pin the approved command of %q: %v", c.Name, err)}
		}
		l.recordKind(ctx, store.KindPinChange, req, apitype.Allow, store.DecidedByUser, "command "+kind+" and pinned")
	}
	return nil
}

func (l *Launcher) noBroker(ctx context.Context, req apitype.AskRequest, what, trustHint string) error {
	msg := fmt.Sprintf("airlock did not start server %q: it needs your approval %s, and no Airlock approver is running. Start the Airlock app (or `airlock daemon`) and restart the server, or pre-approve it with: %s",
		req.Server, what, trustHint)
	l.record(ctx, req, apitype.Deny, store.DecidedByFallback, "no approver was running")
	return &LaunchError{Server: req.Server, Msg: msg}
}

// recordLater records an automatic allow without delaying the start.
func (l *Launcher) recordLater(req apitype.AskRequest, by store.DecidedBy, reason string) {
	l.pending.Add(1)
	go func() {
		defer l.pending.Done()
		l.record(context.Background(), req, apitype.Allow, by, reason)
	}()
}

func (l *Launcher) record(ctx context.Context, req apitype.AskRequest, o apitype.Outcome, by store.DecidedBy, reason string) {
	l.recordKind(ctx, store.KindLaunch, req, o, by, reason)
}

func (l *Launcher) recordKind(ctx context.Context, kind store.Kind, req apitype.AskRequest, o apitype.Outcome, by store.DecidedBy, reason string) {
	if l.Log == nil {
		return
	}
	row := broker.DecisionRow(req, apitype.Decision{Outcome: o, DecidedBy: string(by), Reason: reason})
	row.Kind = kind
	if by == store.DecidedByPolicy {
		row.Channel = store.ChannelPolicy
	}
	l.Log.Append(context.WithoutCancel(ctx), row)
}
