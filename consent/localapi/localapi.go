// Package localapi serves the broker to other processes of the same user: HTTP over a
// unix socket in a 0700 directory, with versioned paths under /v0/.
package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/airlock-mcp/airlock/consent/apitype"
	"github.com/airlock-mcp/airlock/consent/broker"
)

// Host is the Host header every client sends; anything else is refused.
const Host = "airlock.local"

// SocketPath returns the broker's socket under the Airlock home.
func SocketPath(home string) string { return filepath.Join(home, "run", "broker.sock") }

// Server answers the local API for one broker.
type Server struct {
	Broker  *broker.Broker
	Host    string // "daemon" or "app", reported by /v0/status
	Version string
}

type route struct {
	method, path string
	h            func(s *Server, w http.ResponseWriter, r *http.Request)
}

// routes is sorted by path; keep it so.
var routes = []route{
	{"POST", "/v0/ask", (*Server).ask},
	{"POST", "/v0/decide", (*Server).decide},
	{"POST", "/v0/end-session", (*Server).endSession},
	{"GET", "/v0/grants", (*Server).listGrants},
	{"GET", "/v0/pending", (*Server).pending},
	{"POST", "/v0/revoke", (*Server).revoke},
	{"GET", "/v0/status", (*Server).status},
	{"GET", "/v0/watch", (*Server).watch},
}

func init() {
	if !sort.SliceIsSorted(routes, func(i, j int) bool { return routes[i].path < routes[j].path }) {
		panic("localapi: routes not sorted")
	}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A browser must never reach the broker: it would send Origin or Referer, or a Host
	// of its own choosing (DNS rebinding).
	if r.Header.Get("Origin") != "" || r.Header.Get("Referer") != "" {
		writeError(w, http.StatusForbidden, "forbidden", "requests from browsers are refused")
		return
	}
	if r.Host != Host {
		writeError(w, http.StatusForbidden, "forbidden", fmt.Sprintf("unexpected Host %q", r.Host))
		return
	}
	i := sort.Search(len(routes), func(i int) bool { return routes[i].path >= r.URL.Path })
	for ; i < len(routes) && routes[i].path == r.URL.Path; i++ {
		if routes[i].method == r.Method {
			routes[i].h(s, w, r)
			return
		}
	}
	writeError(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, apitype.Error{Error: msg, Code: code})
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "invalid request body: "+err.Error())
		return false
	}
	return true
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, apitype.Status{
		Version: s.Version, PID: os.Getpid(), Host: s.Host,
		CLIApprovals: s.Broker.CLIApprovals(), Pending: len(s.Broker.Pending()),
	})
}

// ask holds the request until the broker decides. If the caller hangs up first, the
// request is withdrawn.
func (s *Server) ask(w http.ResponseWriter, r *http.Request) {
	var req apitype.AskRequest
	if !decode(w, r, &req) {
		return
	}
	d, err := s.Broker.Ask(r.Context(), req)
	if err != nil && r.Context().Err() != nil {
		return // the asker is gone
	}
	if err != nil {
		// The decision stands but could not be logged: refuse rather than let an
		// unrecorded allow through.
		writeError(w, http.StatusInternalServerError, "log_failed", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// endSession drops the session grants of a proxy session that has ended.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Session string `json:"session"`
	}
	if !decode(w, r, &req) {
		return
	}
	if req.Session == "" {
		writeError(w, http.StatusBadRequest, "bad_request", "no session named")
		return
	}
	s.Broker.EndSession(req.Session)
	writeJSON(w, http.StatusOK, struct{}{})
}

func (s *Server) pending(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Broker.Pending())
}

// connKey is the request context key of the connection a request came on (see Serve).
type connKey struct{}

func (s *Server) decide(w http.ResponseWriter, r *http.Request) {
	var d apitype.DecideRequest
	if !decode(w, r, &d) {
		return
	}
	if c, ok := r.Context().Value(connKey{}).(net.Conn); ok && d.Channel == apitype.ChannelApp && !peerIsAirlock(c) {
		// The channel is the caller's word: only the Airlock app (the same executable as
		// this broker) may answer as the app, so a script cannot skip cli_approvals.
		writeError(w, http.StatusForbidden, "not_app", "a decision on the app's channel must come from the Airlock app; from a terminal, use airlock approve (with cli_approvals = true)")
		return
	}
	err := s.Broker.Decide(r.Context(), d)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, struct{}{})
	case errors.Is(err, broker.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, broker.ErrAlreadyDecided):
		writeError(w, http.StatusConflict, "decided", err.Error())
	case errors.Is(err, broker.ErrCLIDisabled):
		writeError(w, http.StatusForbidden, "cli_disabled", err.Error())
	case errors.Is(err, broker.ErrInvalidDecision):
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
	default:
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
	}
}

func (s *Server) listGrants(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Broker.Grants())
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ID string `json:"id"`
	}
	if !decode(w, r, &body) {
		return
	}
	if err := s.Broker.Revoke(body.ID); err != nil {
		if errors.Is(err, broker.ErrNotFound) {
			writeError(w, http.StatusNotFound, "not_found", err.Error())
			return
		}
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// watch streams broker events as newline-delimited JSON.
func (s *Server) watch(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	enc := json.NewEncoder(w)
	events := s.Broker.Watch(r.Context())
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	for {
		select {
		case e, ok := <-events:
			if !ok {
				return
			}
			if enc.Encode(e) != nil {
				return
			}
		case t := <-keepalive.C:
			if enc.Encode(apitype.Event{Type: "keepalive", Time: t}) != nil {
				return
			}
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
}

// Listen opens the broker's unix socket at path, in a 0700 directory, accepting only
// connections from processes of the same user. It fails if another broker answers there.
func Listen(path string) (net.Listener, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create socket dir: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("secure socket dir: %w", err)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("another Airlock broker is already running at %s", path)
	}
	os.Remove(path) // a stale socket from a broker that died
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	os.Chmod(path, 0o600)
	return &peerListener{Listener: ln}, nil
}

// Serve serves s on ln until ctx ends.
func Serve(ctx context.Context, ln net.Listener, s *Server) error {
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context { return context.WithValue(ctx, connKey{}, c) }}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
		hs.Close()
		return nil
	}
}

// peerListener refuses connections from other users.
type peerListener struct{ net.Listener }

func (l *peerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if sameUser(c) {
			return c, nil
		}
		c.Close()
	}
}
