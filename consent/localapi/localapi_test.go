package localapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/airlock-mcp/airlock/consent/apitype"
	"github.com/airlock-mcp/airlock/consent/broker"
	"github.com/airlock-mcp/airlock/consent/client"
	"github.com/airlock-mcp/airlock/consent/localapi"
)

// failsafe bounds every wait so a broken server fails the test instead of hanging it.
const failsafe = 10 * time.Second

// shortDir returns a fresh directory with a short path: unix socket paths are limited
// to about 100 bytes, and t.TempDir() paths can be longer.
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "al")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

type env struct {
	sock   string
	broker *broker.Broker
	client *client.Client
	events <-chan apitype.Event // the broker's own watch stream, after its snapshot
}

// serve starts a broker behind the local API on a fresh socket.
func serve(t *testing.T, o broker.Options) *env {
	t.Helper()
	sock := localapi.SocketPath(shortDir(t))
	b, err := broker.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := localapi.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- localapi.Serve(ctx, ln, &localapi.Server{Broker: b, Host: "daemon", Version: "test"}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	events := b.Watch(ctx)
	<-events
	return &env{sock: sock, broker: b, client: &client.Client{Socket: sock}, events: events}
}

// next returns the next broker event of type typ, skipping others.
func (e *env) next(t *testing.T, typ string) apitype.Event {
	t.Helper()
	timeout := time.After(failsafe)
	for {
		select {
		case ev := <-e.events:
			if ev.Type == typ {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %q event within %v", typ, failsafe)
		}
	}
}

type askResult struct {
	d   apitype.Decision
	err error
}

func (e *env) ask(ctx context.Context, req apitype.AskRequest) <-chan askResult {
	ch := make(chan askResult, 1)
	go func() {
		d, err := e.client.Ask(ctx, req)
		ch <- askResult{d, err}
	}()
	return ch
}

func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(failsafe):
		t.Fatalf("nothing received within %v", failsafe)
	}
	var zero T
	return zero
}

func toolCall() apitype.AskRequest {
	return apitype.AskRequest{
		Kind: apitype.KindToolCall, Server: "fs", Client: "ide", Session: "s1", Tool: "delete_file", Tier: 3,
		Arguments: json.RawMessage(`{"path":"/tmp/x"}`), ArgsHash: "abc",
		Reasons: []apitype.Reason{{Source: "name", Tier: 3, Text: "deletes"}},
	}
}

func TestAskHeldUntilDecide(t *testing.T) {
	e := serve(t, broker.Options{})
	ctx := context.Background()
	ch := e.ask(ctx, toolCall())
	id := e.next(t, "pending").ID

	select {
	case r := <-ch:
		t.Fatalf("Ask returned before a decision: %+v, %v", r.d, r.err)
	default:
	}
	p, err := e.client.Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 1 || p[0].ID != id {
		t.Fatalf("Pending = %+v", p)
	}
	if diff := cmp.Diff(toolCall(), p[0].Request); diff != "" {
		t.Errorf("pending request (-want +got):\n%s", diff)
	}
	if !p[0].Deadline.Equal(p[0].Created.Add(broker.DefaultTimeout)) {
		t.Errorf("deadline %v, created %v", p[0].Deadline, p[0].Created)
	}
	st, err := e.client.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (apitype.Status{Version: "test", PID: os.Getpid(), Host: "daemon", Pending: 1}); st != want {
		t.Errorf("Status = %+v, want %+v", st, want)
	}

	// Decide from another goroutine, as the app would.
	errc := make(chan error, 1)
	go func() {
		errc <- e.client.Decide(ctx, apitype.DecideRequest{ID: id, Outcome: apitype.Allow, Scope: apitype.Session, Channel: apitype.ChannelApp, Reason: "ok"})
	}()
	if err := recv(t, errc); err != nil {
		t.Fatal(err)
	}
	r := recv(t, ch)
	want := apitype.Decision{Outcome: apitype.Allow, Scope: apitype.Session, DecidedBy: "user", Channel: "app", Reason: "ok"}
	if r.err != nil || r.d != want {
		t.Fatalf("Ask = %+v, %v; want %+v", r.d, r.err, want)
	}

	gs, err := e.client.Grants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 1 || gs[0].Scope != apitype.Session || gs[0].Session != "s1" {
		t.Fatalf("Grants = %+v", gs)
	}
	// The grant answers the next identical call at once.
	if d, err := e.client.Ask(ctx, toolCall()); err != nil || d.DecidedBy != "grant" {
		t.Errorf("second Ask = %+v, %v; want allow by grant", d, err)
	}
	if err := e.client.Revoke(ctx, gs[0].ID); err != nil {
		t.Fatal(err)
	}
	if gs, _ := e.client.Grants(ctx); len(gs) != 0 {
		t.Errorf("Grants after Revoke = %+v", gs)
	}
	if err := e.client.Revoke(ctx, gs[0].ID); !client.IsNotFound(err) {
		t.Errorf("Revoke again = %v, want not found", err)
	}
	// Deciding twice: the first decision stands and the second is told so (409).
	var apiErr *client.APIError
	if err := e.client.Decide(ctx, apitype.DecideRequest{ID: id, Outcome: apitype.Deny, Channel: apitype.ChannelApp}); !errors.As(err, &apiErr) || apiErr.Code != "decided" {
		t.Errorf("second Decide = %v, want already decided", err)
	}
}

func TestDecideErrors(t *testing.T) {
	e := serve(t, broker.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := e.ask(ctx, toolCall())
	id := e.next(t, "pending").ID

	err := e.client.Decide(ctx, apitype.DecideRequest{ID: id, Outcome: apitype.Allow, Channel: apitype.ChannelCLI})
	if !client.IsCLIDisabled(err) {
		t.Errorf("CLI decision = %v, want cli_disabled", err)
	}
	var ae *client.APIError
	err = e.client.Decide(ctx, apitype.DecideRequest{ID: id, Outcome: "sure", Channel: apitype.ChannelApp})
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
		t.Errorf("invalid outcome = %v, want 400", err)
	}
	if err := e.client.Decide(ctx, apitype.DecideRequest{ID: "nope", Outcome: apitype.Allow, Channel: apitype.ChannelApp}); !client.IsNotFound(err) {
		t.Errorf("unknown id = %v, want not found", err)
	}
	if p, _ := e.client.Pending(ctx); len(p) != 1 {
		t.Errorf("rejected decisions changed Pending: %+v", p)
	}
	cancel()
	recv(t, ch)
}

func TestWatchStream(t *testing.T) {
	e := serve(t, broker.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan apitype.Event, 16)
	done := make(chan error, 1)
	go func() {
		done <- e.client.Watch(ctx, func(ev apitype.Event) error { got <- ev; return nil })
	}()
	if ev := recv(t, got); ev.Type != "snapshot" || len(ev.Pending) != 0 {
		t.Fatalf("first event %+v, want an empty snapshot", ev)
	}
	ch := e.ask(ctx, toolCall())
	ev := recv(t, got)
	if ev.Type != "pending" || len(ev.Pending) != 1 || ev.Pending[0].Request.Tool != "delete_file" {
		t.Fatalf("event %+v, want pending", ev)
	}
	if err := e.client.Decide(ctx, apitype.DecideRequest{ID: ev.ID, Outcome: apitype.Allow, Scope: apitype.Always, Channel: apitype.ChannelApp}); err != nil {
		t.Fatal(err)
	}
	if ev2 := recv(t, got); ev2.Type != "decided" || ev2.ID != ev.ID || ev2.Decision.Scope != apitype.Always {
		t.Errorf("event %+v, want decided always", ev2)
	}
	if ev3 := recv(t, got); ev3.Type != "grants" || len(ev3.Grants) != 1 {
		t.Errorf("event %+v, want grants", ev3)
	}
	recv(t, ch)
	cancel()
	if err := recv(t, done); !errors.Is(err, context.Canceled) {
		t.Errorf("Watch = %v, want context.Canceled", err)
	}

	// An error from fn ends the stream with that error.
	stop := errors.New("stop")
	if err := e.client.Watch(context.Background(), func(apitype.Event) error { return stop }); err != stop {
		t.Errorf("Watch = %v, want fn's error", err)
	}
}

// rawHTTP sends a request over the socket with full control of the headers.
func rawHTTP(t *testing.T, sock, method, url string, hdr map[string]string) int {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e apitype.Error
	if resp.StatusCode != 200 {
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Error == "" {
			t.Errorf("%s %s: error body not an apitype.Error (%v)", method, url, err)
		}
	}
	return resp.StatusCode
}

func TestBrowserAndRoutingRefused(t *testing.T) {
	e := serve(t, broker.Options{})
	base := "http://" + localapi.Host
	tests := []struct {
		name, method, url string
		hdr               map[string]string
		want              int
	}{
		{"ok", "GET", base + "/v0/status", nil, 200},
		{"origin", "GET", base + "/v0/status", map[string]string{"Origin": "http://evil.example"}, 403},
		{"origin null", "GET", base + "/v0/pending", map[string]string{"Origin": "null"}, 403},
		{"referer", "GET", base + "/v0/pending", map[string]string{"Referer": "http://evil.example/"}, 403},
		{"wrong host", "GET", base + "/v0/status", map[string]string{"Host": "evil.example"}, 403},
		{"localhost", "GET", base + "/v0/status", map[string]string{"Host": "localhost"}, 403},
		{"host with port", "GET", base + "/v0/status", map[string]string{"Host": localapi.Host + ":80"}, 403},
		{"origin on decide", "POST", base + "/v0/decide", map[string]string{"Origin": "http://evil.example"}, 403},
		{"unknown path", "GET", base + "/v0/nope", nil, 404},
		{"unversioned", "GET", base + "/status", nil, 404},
		{"wrong method", "GET", base + "/v0/decide", nil, 404},
		{"bad body", "POST", base + "/v0/decide", nil, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := rawHTTP(t, e.sock, tc.method, tc.url, tc.hdr); got != tc.want {
				t.Errorf("status %d, want %d", got, tc.want)
			}
		})
	}
}

func TestListen(t *testing.T) {
	t.Run("modes", func(t *testing.T) {
		dir := shortDir(t)
		if err := os.Mkdir(filepath.Join(dir, "run"), 0o755); err != nil {
			t.Fatal(err)
		}
		sock := localapi.SocketPath(dir)
		ln, err := localapi.Listen(sock)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		fi, err := os.Stat(sock)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
			t.Errorf("socket mode %v, want socket 0600", fi.Mode())
		}
		di, _ := os.Stat(filepath.Dir(sock))
		if di.Mode().Perm() != 0o700 {
			t.Errorf("socket dir mode %v, want 0700", di.Mode().Perm())
		}
	})
	t.Run("already running", func(t *testing.T) {
		e := serve(t, broker.Options{})
		ln, err := localapi.Listen(e.sock)
		if err == nil {
			ln.Close()
			t.Fatal("second Listen succeeded")
		}
		if !strings.Contains(err.Error(), "already running") {
			t.Errorf("second Listen = %v, want already running", err)
		}
		// The first broker still answers.
		if _, err := e.client.Status(context.Background()); err != nil {
			t.Errorf("Status after the second Listen: %v", err)
		}
	})
	t.Run("stale socket", func(t *testing.T) {
		sock := localapi.SocketPath(shortDir(t))
		os.MkdirAll(filepath.Dir(sock), 0o700)
		old, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		old.(*net.UnixListener).SetUnlinkOnClose(false)
		old.Close() // a broker that died: the file stays, nobody answers
		if _, err := os.Stat(sock); err != nil {
			t.Fatalf("stale socket missing: %v", err)
		}
		b, _ := broker.New(broker.Options{})
		ln, err := localapi.Listen(sock)
		if err != nil {
			t.Fatalf("Listen over a stale socket: %v", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- localapi.Serve(ctx, ln, &localapi.Server{Broker: b}) }()
		if _, err := (&client.Client{Socket: sock}).Status(ctx); err != nil {
			t.Errorf("Status: %v", err)
		}
		cancel()
		recv(t, done)
		if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("socket left behind after Serve ended: %v", err)
		}
	})
}

func TestClientNotRunning(t *testing.T) {
	c := &client.Client{Socket: filepath.Join(shortDir(t), "run", "broker.sock")}
	ctx := context.Background()
	_, err := c.Status(ctx)
	if !client.IsNotRunning(err) {
		t.Fatalf("Status = %v, want a NotRunningError", err)
	}
	if !strings.Contains(err.Error(), "start the Airlock app") {
		t.Errorf("error %q does not say how to start Airlock", err)
	}
	if _, err := c.Ask(ctx, toolCall()); !client.IsNotRunning(err) {
		t.Errorf("Ask = %v, want a NotRunningError", err)
	}
	if err := c.Watch(ctx, func(apitype.Event) error { return nil }); !client.IsNotRunning(err) {
		t.Errorf("Watch = %v, want a NotRunningError", err)
	}
}

func TestClientCancelWithdraws(t *testing.T) {
	e := serve(t, broker.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	ch := e.ask(ctx, toolCall())
	id := e.next(t, "pending").ID
	cancel()
	r := recv(t, ch)
	if !errors.Is(r.err, context.Canceled) || client.IsNotRunning(r.err) {
		t.Errorf("Ask = %+v, %v; want context.Canceled", r.d, r.err)
	}
	if ev := e.next(t, "withdrawn"); ev.ID != id {
		t.Errorf("withdrawn %s, want %s", ev.ID, id)
	}
	if p := e.broker.Pending(); len(p) != 0 {
		t.Errorf("Pending after the client went away = %+v", p)
	}
}

// A proxy that ends tells the broker; its session grants (and those of the clients within
// it, "session/client") go, others stay.
func TestEndSessionDropsItsGrants(t *testing.T) {
	e := serve(t, broker.Options{})
	ctx := context.Background()
	grant := func(session string) {
		req := toolCall()
		req.Session = session
		ch := e.ask(ctx, req)
		id := e.next(t, "pending").ID
		if err := e.client.Decide(ctx, apitype.DecideRequest{ID: id, Outcome: apitype.Allow, Scope: apitype.Session, Channel: apitype.ChannelApp}); err != nil {
			t.Fatal(err)
		}
		recv(t, ch)
	}
	grant("s1")
	grant("s1/other-ide")
	grant("s2")
	if err := e.client.EndSession(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	gs, err := e.client.Grants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 1 || gs[0].Session != "s2" {
		t.Errorf("grants after EndSession(s1) = %+v, want only s2's", gs)
	}
	if err := e.client.EndSession(ctx, ""); err == nil {
		t.Error("EndSession without a session was accepted")
	}
}
