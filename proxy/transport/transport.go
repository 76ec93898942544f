// Package transport moves JSON-RPC messages between Airlock and its peers: the IDE on
// stdio, a server started as a child process, and streams in tests.
package transport

import (
	"io"
	"os"
	"sync"

	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
)

// Conn is one bidirectional stream of JSON-RPC messages.
//
// Read is called from one goroutine at a time. It returns a *jsonrpc.BadMessageError for
// a message that could not be accepted (the stream stays usable), io.EOF when the peer
// closed the stream cleanly, and any other error when the stream failed. Write and Close
// are safe to call concurrently with Read and with each other.
type Conn interface {
	Read() (*jsonrpc.Message, error)
	Write(*jsonrpc.Message) error
	Close() error
}

// Stream is a Conn over a reader and a writer, framed by newlines.
type Stream struct {
	r      *jsonrpc.Reader
	w      *jsonrpc.Writer
	closer func() error
	once   sync.Once
	err    error
}

// NewStream returns a Stream reading r and writing w. close, when not nil, is called once
// by Close. max caps one message (jsonrpc.DefaultMaxMessageSize when <= 0).
func NewStream(r io.Reader, w io.Writer, close func() error, max int) *Stream {
	return &Stream{r: jsonrpc.NewReader(r, max), w: jsonrpc.NewWriter(w), closer: close}
}

// Read implements Conn.
func (s *Stream) Read() (*jsonrpc.Message, error) { return s.r.Read() }

// Write implements Conn.
func (s *Stream) Write(m *jsonrpc.Message) error { return s.w.Write(m) }

// Close implements Conn.
func (s *Stream) Close() error {
	s.once.Do(func() {
		if s.closer != nil {
			s.err = s.closer()
		}
	})
	return s.err
}

// Stdio returns a Conn over the process's standard input and output.
//
// When fd 0 and 1 are pipes or sockets they are switched to non-blocking mode and handed
// to the Go poller: with blocking pipes a relay stalls about 10 ms on every message of
// 64 KiB or more once the pipe fills. Terminals are left alone.
func Stdio(max int) *Stream {
	in, out := pollable(os.Stdin), pollable(os.Stdout)
	return NewStream(in, out, func() error {
		// Closing stdout tells the IDE we are gone; stdin is closed so a pending Read ends.
		err := out.Close()
		in.Close()
		return err
	}, max)
}
