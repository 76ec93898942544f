package desktop

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/airlock-mcp/airlock/consent/apitype"
	"github.com/airlock-mcp/airlock/consent/broker"
	"github.com/airlock-mcp/airlock/consent/client"
	"github.com/airlock-mcp/airlock/consent/localapi"
	"github.com/airlock-mcp/airlock/consent/policy"
)

// Broker is the approval queue as the window sees it: one embedded in this process, or
// the one of an `airlock daemon` that was already running. Implementations are safe for
// concurrent use.
type Broker interface {
	// Mode is "embedded" or "attached".
	Mode() string
	// CLIApprovals reports whether the broker accepts decisions from a terminal.
	CLIApprovals() bool
	Pending(ctx context.Context) ([]apitype.Pending, error)
	Decide(ctx context.Context, d apitype.DecideRequest) error
	Grants(ctx context.Context) ([]apitype.Grant, error)
	Revoke(ctx context.Context, id string) error
	// Watch calls fn with every event, starting with a snapshot, until ctx ends or the
	// stream breaks (then it returns an error and the caller watches again).
	Watch(ctx context.Context, fn func(apitype.Event)) error
	// Close stops an embedded broker's local API; it does nothing when attached.
	Close() error
}

// Broker modes, as Status reports them.
const (
	ModeEmbedded = "embedded"
	ModeAttached = "attached"
)

// embedded is a broker running in this process, served on the local API socket so
// proxies reach it.
type embedded struct {
	b    *broker.Broker
	ctx  context.Context // ends when the broker stops
	stop context.CancelFunc
	done chan error
}

func (e *embedded) Mode() string       { return ModeEmbedded }
func (e *embedded) CLIApprovals() bool { return e.b.CLIApprovals() }
func (e *embedded) Pending(context.Context) ([]apitype.Pending, error) {
	return e.b.Pending(), nil
}
func (e *embedded) Decide(ctx context.Context, d apitype.DecideRequest) error {
	return e.b.Decide(ctx, d)
}
func (e *embedded) Grants(context.Context) ([]apitype.Grant, error) { return e.b.Grants(), nil }
func (e *embedded) Revoke(_ context.Context, id string) error       { return e.b.Revoke(id) }

func (e *embedded) Watch(ctx context.Context, fn func(apitype.Event)) error {
	for ev := range e.b.Watch(ctx) {
		fn(ev)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errors.New("the broker dropped the window's watch stream (it fell behind)")
}

func (e *embedded) Close() error {
	if e.stop == nil {
		return nil
	}
	e.stop()
	return <-e.done
}

// attached talks to a broker in another process (`airlock daemon`).
type attached struct {
	c   *client.Client
	cli bool
}

func (a *attached) Mode() string       { return ModeAttached }
func (a *attached) CLIApprovals() bool { return a.cli }
func (a *attached) Pending(ctx context.Context) ([]apitype.Pending, error) {
	return a.c.Pending(ctx)
}
func (a *attached) Decide(ctx context.Context, d apitype.DecideRequest) error {
	return a.c.Decide(ctx, d)
}
func (a *attached) Grants(ctx context.Context) ([]apitype.Grant, error) { return a.c.Grants(ctx) }
func (a *attached) Revoke(ctx context.Context, id string) error         { return a.c.Revoke(ctx, id) }
func (a *attached) Watch(ctx context.Context, fn func(apitype.Event)) error {
	return a.c.Watch(ctx, func(e apitype.Event) error { fn(e); return nil })
}
func (a *attached) Close() error { return nil }

// alive reports whether the other broker still answers.
func (a *attached) alive(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := a.c.Status(ctx)
	return err == nil
}

// connect attaches to a broker already answering on the socket, or else starts one in
// this process and serves it there. rec receives the embedded broker's decisions.
func connect(ctx context.Context, p paths, rec broker.Recorder, version string) (Broker, error) {
	if a, ok := tryAttach(ctx, p.socket); ok {
		return a, nil
	}
	pol, err := policy.Load(p.policy)
	if err != nil {
		return nil, err
	}
	st := pol.Settings()
	b, err := broker.New(broker.Options{Timeout: st.ApprovalTimeout, CLIApprovals: st.CLIApprovals, Log: rec, GrantsPath: p.grants})
	if err != nil {
		return nil, err
	}
	ln, err := localapi.Listen(p.socket)
	if err != nil {
		// Another broker may have started between the two checks.
		if a, ok := tryAttach(ctx, p.socket); ok {
			return a, nil
		}
		return nil, err
	}
	e := serve(b, ln, version)
	go b.FollowPolicy(e.ctx, p.policy, nil)
	return e, nil
}

// serve serves b on ln until the returned broker is closed.
func serve(b *broker.Broker, ln net.Listener, version string) *embedded {
	sctx, stop := context.WithCancel(context.Background())
	e := &embedded{b: b, ctx: sctx, stop: stop, done: make(chan error, 1)}
	go func() {
		e.done <- localapi.Serve(sctx, ln, &localapi.Server{Broker: b, Host: "app", Version: version})
	}()
	return e
}

func tryAttach(ctx context.Context, socket string) (*attached, bool) {
	c := &client.Client{Socket: socket}
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	st, err := c.Status(sctx)
	if err != nil {
		return nil, false
	}
	return &attached{c: c, cli: st.CLIApprovals}, true
}

// decideError turns the broker's answer to a decision on a request that is gone into a
// sentence for the card.
func decideError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, broker.ErrNotFound), client.IsNotFound(err):
		return errors.New("this request is no longer waiting: it timed out or its agent went away")
	case errors.Is(err, broker.ErrAlreadyDecided), isCode(err, "decided"):
		return errors.New("this request was already decided")
	}
	return fmt.Errorf("decide: %w", err)
}

func isCode(err error, code string) bool {
	var e *client.APIError
	return errors.As(err, &e) && e.Code == code
}
