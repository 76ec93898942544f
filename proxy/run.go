package proxy

import (
	"context"
	"errors"
	"io"

	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
	"github.com/airlock-mcp/airlock/proxy/transport"
)

// Dialer connects to a server: it starts a process or prepares an HTTP client.
type Dialer func(ctx context.Context) (transport.Conn, error)

// Relay connects client to the server that dial reaches and relays until one side ends.
//
// If the server cannot be reached (a missing executable, permission denied), Relay does
// not hang and does not exit silently: every request from the client is answered with an
// error saying why, until the client closes the connection. A message also goes to Logf.
func Relay(ctx context.Context, client transport.Conn, dial Dialer, opts Options) error {
	server, err := dial(ctx)
	if err != nil {
		if opts.Logf != nil {
			opts.Logf("airlock: %v", err)
		}
		return Refuse(ctx, client, err)
	}
	s := NewSession(ctx, client, server, opts)
	return s.Run()
}

// Refuse answers every request from client with reason, until the client closes the
// connection or ctx ends. It returns reason.
func Refuse(ctx context.Context, client transport.Conn, reason error) error {
	code := jsonrpc.CodeServerUnavailable
	var refused interface{ Refused() bool }
	if errors.As(reason, &refused) && refused.Refused() {
		code = jsonrpc.CodeRefused
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			m, err := client.Read()
			if err != nil {
				var bad *jsonrpc.BadMessageError
				if errors.As(err, &bad) {
					client.Write(jsonrpc.NewError(bad.ID, bad.Code, bad.Reason, nil))
					continue
				}
				return
			}
			if m.Kind == jsonrpc.KindRequest {
				client.Write(jsonrpc.NewError(m.ID, code, reason.Error(), nil))
			}
		}
	}()
	select {
	case <-done:
	case <-ctx.Done():
		client.Close()
		<-done
	}
	return reason
}

// isClosed reports whether err only says a stream ended.
func isClosed(err error) bool { return err == nil || errors.Is(err, io.EOF) }
