package client

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"testing"

	"github.com/airlock-mcp/airlock/consent/apitype"
	"github.com/airlock-mcp/airlock/consent/broker"
	"github.com/airlock-mcp/airlock/consent/localapi"
)

// serve starts a broker on a short socket path and returns the path.
func serve(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "al")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := localapi.SocketPath(dir)
	b, err := broker.New(broker.Options{CLIApprovals: true})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := localapi.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- localapi.Serve(ctx, ln, &localapi.Server{Broker: b, Host: "app"}) }()
	t.Cleanup(func() { cancel(); <-done })
	return sock
}

func TestDialField(t *testing.T) {
	sock := serve(t)
	var mu sync.Mutex
	dials := 0
	c := &Client{Dial: func(ctx context.Context) (net.Conn, error) {
		mu.Lock()
		dials++
		mu.Unlock()
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}
	st, err := c.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Host != "app" || !st.CLIApprovals {
		t.Errorf("Status = %+v", st)
	}
	if dials == 0 {
		t.Error("Dial was not used")
	}

	failing := &Client{Dial: func(context.Context) (net.Conn, error) { return nil, errors.New("boom") }}
	if _, err := failing.Status(context.Background()); !IsNotRunning(err) {
		t.Errorf("Status with a failing Dial = %v, want NotRunningError", err)
	}
}

func TestCancelledContextIsNotNotRunning(t *testing.T) {
	c := &Client{Socket: "/nonexistent/broker.sock"}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Ask(ctx, apitype.AskRequest{Kind: apitype.KindToolCall}); !errors.Is(err, context.Canceled) || IsNotRunning(err) {
		t.Errorf("Ask with a cancelled ctx = %v, want context.Canceled", err)
	}
}

func TestErrorHelpers(t *testing.T) {
	nf := &APIError{Status: 404, Code: "not_found", Msg: "x"}
	cli := &APIError{Status: 403, Code: "cli_disabled", Msg: "y"}
	nr := &NotRunningError{Socket: "s", Err: errors.New("dial")}
	wrap := func(err error) error { return errors.Join(errors.New("ctx"), err) }
	for _, tc := range []struct {
		err                 error
		notFound, cli, down bool
	}{
		{nf, true, false, false},
		{wrap(nf), true, false, false},
		{cli, false, true, false},
		{nr, false, false, true},
		{wrap(nr), false, false, true},
		{errors.New("other"), false, false, false},
	} {
		if IsNotFound(tc.err) != tc.notFound || IsCLIDisabled(tc.err) != tc.cli || IsNotRunning(tc.err) != tc.down {
			t.Errorf("%v: IsNotFound %v IsCLIDisabled %v IsNotRunning %v", tc.err, IsNotFound(tc.err), IsCLIDisabled(tc.err), IsNotRunning(tc.err))
		}
	}
}

// The doc comment says a Client is safe for concurrent use; its first calls race to
// build the http.Client.
func TestZeroClientConcurrentFirstUse(t *testing.T) {
	sock := serve(t)
	c := &Client{Socket: sock}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := c.Status(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}
