package desktop

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/airlock-mcp/airlock/consent/apitype"
	"github.com/airlock-mcp/airlock/consent/broker"
	"github.com/airlock-mcp/airlock/consent/client"
	"github.com/airlock-mcp/airlock/consent/localapi"
)

// shortHome returns a home whose socket path fits the unix socket limit.
func shortHome(t *testing.T) paths {
	t.Helper()
	dir, err := os.MkdirTemp("", "al")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return pathsIn(dir)
}

func TestConnectEmbedsThenAttaches(t *testing.T) {
	ctx := context.Background()
	p := shortHome(t)
	// Nobody answers: the window embeds a broker and serves it on the socket.
	first, err := connect(ctx, p, nil, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if first.Mode() != ModeEmbedded {
		t.Fatalf("first mode %s", first.Mode())
	}
	st, err := (&client.Client{Socket: p.socket}).Status(ctx)
	if err != nil || st.Host != "app" || st.Version != "v1" {
		t.Fatalf("status over the socket = %+v, %v", st, err)
	}
	// A second window (or one started while `airlock daemon` runs) attaches.
	second, err := connect(ctx, p, nil, "v2")
	if err != nil {
		t.Fatal(err)
	}
	if second.Mode() != ModeAttached {
		t.Fatalf("second mode %s", second.Mode())
	}
	// What the attached side decides reaches the embedded broker.
	eb := first.(*embedded).b
	decided := make(chan apitype.Decision, 1)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events := make(chan apitype.Event, 10)
	go second.Watch(wctx, func(e apitype.Event) { events <- e })
	if e := <-events; e.Type != "snapshot" {
		t.Fatalf("first event %s", e.Type)
	}
	go func() { d, _ := eb.Ask(ctx, toolCall); decided <- d }()
	e := <-events
	if e.Type != "pending" {
		t.Fatalf("event %s, want pending", e.Type)
	}
	if err := decideError(second.Decide(ctx, apitype.DecideRequest{ID: e.ID, Outcome: apitype.Deny, Channel: apitype.ChannelApp})); err != nil {
		t.Fatal(err)
	}
	if d := <-decided; d.Outcome != apitype.Deny {
		t.Errorf("decision %+v", d)
	}
	err = decideError(second.Decide(ctx, apitype.DecideRequest{ID: e.ID, Outcome: apitype.Allow, Channel: apitype.ChannelApp}))
	if err == nil || err.Error() != "this request was already decided" {
		t.Errorf("deciding twice over the socket: %v", err)
	}

	// When the other broker goes away, the window takes over.
	a := build(p, nil, second, Options{Stderr: os.Stderr})
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if second.(*attached).alive(ctx) {
		t.Fatal("the closed broker still answers")
	}
	a.reconnect(ctx)
	if m := a.Status().Mode; m != ModeEmbedded {
		t.Errorf("after reconnect: %s", m)
	}
	a.current().Close()
}

func TestConnectAttachesToDaemon(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := shortHome(t)
	b, err := broker.New(broker.Options{CLIApprovals: true})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := localapi.Listen(p.socket)
	if err != nil {
		t.Fatal(err)
	}
	go localapi.Serve(ctx, ln, &localapi.Server{Broker: b, Host: "daemon"})
	got, err := connect(ctx, p, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	if got.Mode() != ModeAttached || !got.CLIApprovals() {
		t.Errorf("mode %s, cli approvals %v", got.Mode(), got.CLIApprovals())
	}
	tctx, tcancel := context.WithTimeout(ctx, 5*time.Second)
	defer tcancel()
	if g, err := got.Grants(tctx); err != nil || len(g) != 0 {
		t.Errorf("Grants = %v, %v", g, err)
	}
}
