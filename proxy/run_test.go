package proxy

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
	"github.com/airlock-mcp/airlock/proxy/transport"
)

// refusedError is a reason that asks for CodeRefused, as a denied launch does.
type refusedError struct{}

func (refusedError) Error() string { return "launch of fake denied" }
func (refusedError) Refused() bool { return true }

func TestRelayDialFails(t *testing.T) {
	tests := []struct {
		name   string
		reason error
		code   int
	}{
		{"start error", &transport.StartError{Name: "fake", Err: errors.New("executable \"nope\" not found in PATH")}, jsonrpc.CodeServerUnavailable},
		{"refused", refusedError{}, jsonrpc.CodeRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := newPeer(t, "client")
			log := &logBuf{}
			done := make(chan error, 1)
			go func() {
				done <- Relay(context.Background(), client.conn, func(context.Context) (transport.Conn, error) {
					return nil, tt.reason
				}, Options{Name: "fake", Logf: log.logf})
			}()
			client.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`)
			client.expectError(`1`, tt.code, tt.reason.Error())
			client.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`, `not json`)
			client.expectError(`null`, jsonrpc.CodeParseError) // the notification got nothing
			client.send(`{"jsonrpc":"2.0","id":"2","method":"tools/list"}`)
			client.expectError(`"2"`, tt.code, tt.reason.Error())
			client.hangUp()
			select {
			case err := <-done:
				if err != tt.reason {
					t.Errorf("Relay = %v, want the reason", err)
				}
			case <-time.After(failsafe):
				t.Fatal("Relay did not return after the client hung up")
			}
			if !strings.Contains(log.String(), "airlock: "+tt.reason.Error()) {
				t.Errorf("log = %q, want the reason", log.String())
			}
		})
	}
}

func TestRefuseEndsWithContext(t *testing.T) {
	client := newPeer(t, "client")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	reason := errors.New("why")
	go func() { done <- Refuse(ctx, client.conn, reason) }()
	client.send(`{"jsonrpc":"2.0","id":1,"method":"m"}`)
	client.expectError(`1`, jsonrpc.CodeServerUnavailable, "why")
	cancel()
	select {
	case err := <-done:
		if err != reason {
			t.Errorf("Refuse = %v, want %v", err, reason)
		}
	case <-time.After(failsafe):
		t.Fatal("Refuse did not return after ctx ended")
	}
	client.expectClosed()
}

func TestRelayConnects(t *testing.T) {
	client, server := newPeer(t, "client"), newPeer(t, "server")
	done := make(chan error, 1)
	go func() {
		done <- Relay(context.Background(), client.conn, func(context.Context) (transport.Conn, error) {
			return server.conn, nil
		}, Options{Name: "fake"})
	}()
	req := `{"jsonrpc":"2.0","id":1,"method":"ping"}`
	client.send(req)
	server.expectRaw(req)
	client.hangUp()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Relay = %v, want nil", err)
		}
	case <-time.After(failsafe):
		t.Fatal("Relay did not return")
	}
	server.expectClosed()
}
