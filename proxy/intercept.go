package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
)

// ModernVersion is the first MCP version without the initialize handshake.
const ModernVersion = "2026-07-28"

const (
	metaProtocolVersion = "io.modelcontextprotocol/protocolVersion"
	metaClientInfo      = "io.modelcontextprotocol/clientInfo"
	metaClientCaps      = "io.modelcontextprotocol/clientCapabilities"
)

// PeerInfo is what a session has learnt about the IDE and the server.
type PeerInfo struct {
	ClientName         string
	ClientVersion      string
	ClientCapabilities json.RawMessage
	// ProtocolVersion is the version the initialize handshake settled on, or the version
	// of the latest modern (2026-07-28+) request.
	ProtocolVersion    string
	Modern             bool
	ServerName         string
	ServerVersion      string
	ServerCapabilities json.RawMessage
}

type implementation struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Handshake records client and server information: from the initialize exchange in the
// 2025-11-25 generation, and from each request's _meta in 2026-07-28. It never changes a
// message and negotiates nothing itself.
func Handshake() Middleware {
	return func(next Handler) Handler {
		return func(s *Session, dir Direction, m *jsonrpc.Message) {
			switch {
			case dir == ToServer && m.Kind == jsonrpc.KindRequest && m.Method == "initialize":
				var p struct {
					ProtocolVersion string          `json:"protocolVersion"`
					ClientInfo      implementation  `json:"clientInfo"`
					Capabilities    json.RawMessage `json:"capabilities"`
				}
				if json.Unmarshal(m.Params, &p) == nil {
					s.updateInfo(func(i *PeerInfo) {
						i.ClientName, i.ClientVersion = p.ClientInfo.Name, p.ClientInfo.Version
						i.ClientCapabilities = p.Capabilities
						i.ProtocolVersion, i.Modern = p.ProtocolVersion, false
					})
				}
			case dir == ToClient && m.Kind == jsonrpc.KindResponse && m.Request != nil && m.Request.Method == "initialize" && m.Result != nil:
				var r struct {
					ProtocolVersion string          `json:"protocolVersion"`
					ServerInfo      implementation  `json:"serverInfo"`
					Capabilities    json.RawMessage `json:"capabilities"`
				}
				if json.Unmarshal(m.Result, &r) == nil {
					s.updateInfo(func(i *PeerInfo) {
						i.ServerName, i.ServerVersion = r.ServerInfo.Name, r.ServerInfo.Version
						i.ServerCapabilities = r.Capabilities
						i.ProtocolVersion = r.ProtocolVersion
					})
				}
			case dir == ToServer && m.Kind == jsonrpc.KindRequest && (m.Method == "server/discover" || s.undecidedGeneration()):
				if meta := RequestMeta(m); meta.ProtocolVersion >= ModernVersion {
					s.updateInfo(func(i *PeerInfo) {
						i.Modern, i.ProtocolVersion = true, meta.ProtocolVersion
						if meta.ClientInfo.Name != "" {
							i.ClientName, i.ClientVersion = meta.ClientInfo.Name, meta.ClientInfo.Version
						}
						i.ClientCapabilities = meta.ClientCapabilities
					})
				}
			}
			next(s, dir, m)
		}
	}
}

// Meta is the part of a request's params._meta that Airlock reads.
type Meta struct {
	ProtocolVersion    string
	ClientInfo         implementation
	ClientCapabilities json.RawMessage
	ProgressToken      json.RawMessage
}

// RequestMeta extracts _meta from a request's params. Absent fields stay zero.
func RequestMeta(m *jsonrpc.Message) Meta {
	var out Meta
	if len(m.Params) == 0 || m.Params[0] != '{' {
		return out
	}
	return parseMeta(jsonrpc.Member(m.Params, "_meta"))
}

// parseMeta reads a request's _meta object.
func parseMeta(raw json.RawMessage) Meta {
	var out Meta
	if raw == nil {
		return out
	}
	var meta map[string]json.RawMessage
	if json.Unmarshal(raw, &meta) != nil {
		return out
	}
	json.Unmarshal(meta[metaProtocolVersion], &out.ProtocolVersion)
	json.Unmarshal(meta[metaClientInfo], &out.ClientInfo)
	out.ClientCapabilities = meta[metaClientCaps]
	out.ProgressToken = meta["progressToken"]
	return out
}

// ToolCall is a tools/call request on its way to the server.
type ToolCall struct {
	Request   *jsonrpc.Message
	Name      string
	Arguments json.RawMessage
	Meta      Meta
	// Retry reports a 2026-07-28 multi round-trip retry (it carries requestState or
	// inputResponses): the same call again, answering the server's input request.
	Retry bool
	// State carries a Gate's own data from Quick to Decide.
	State any
}

// Verdict is a Gate's answer. A zero Verdict allows the call.
type Verdict struct {
	// Refuse, when true, stops the call; the model receives Message as a tool result
	// with isError set, so it can adapt instead of retrying blind.
	Refuse  bool
	Message string
}

// Gate decides whether a tool call may reach the server.
//
// Quick runs on the relay's read loop and must not block: it returns ok=true when it
// could decide at once (the common case: a call no person needs to see). Otherwise
// Decide runs in its own goroutine and may wait for a person; it must return when ctx
// is done.
type Gate interface {
	Quick(s *Session, call *ToolCall) (v Verdict, ok bool)
	Decide(ctx context.Context, s *Session, call *ToolCall) Verdict
}

// ToolCalls inspects every tools/call. Calls whose params repeat a key anywhere are
// refused: the server and Airlock could read different values, which would let a call
// pass review as one thing and run as another. When gate is non-nil it decides the rest.
func ToolCalls(gate Gate) Middleware {
	return func(next Handler) Handler {
		return func(s *Session, dir Direction, m *jsonrpc.Message) {
			if dir == ToServer && m.Kind == jsonrpc.KindNotification && !strings.HasPrefix(m.Method, "notifications/") {
				// MCP notifications are all notifications/*; anything else is malformed. A
				// lenient server might still run a "tools/call" sent without an id, which
				// would slip past the gate: drop it.
				s.Logf("airlock: dropped a %q notification from the client: MCP requests need an id", m.Method)
				return
			}
			if dir != ToServer || m.Kind != jsonrpc.KindRequest || m.Method != "tools/call" {
				next(s, dir, m)
				return
			}
			if err := jsonrpc.CheckDuplicateKeysValid(m.Params); err != nil {
				s.ReplyError(dir, m, jsonrpc.CodeInvalidParams,
					fmt.Sprintf("airlock refused an ambiguous tools/call: %v; send each key once", err), nil)
				return
			}
			parts := jsonrpc.Members(m.Params, "name", "arguments", "_meta", "requestState", "inputResponses")
			var name string
			if raw := parts[0]; raw == nil || json.Unmarshal(raw, &name) != nil || name == "" {
				s.ReplyError(dir, m, jsonrpc.CodeInvalidParams, "airlock refused a tools/call without a tool name", nil)
				return
			}
			if gate == nil {
				next(s, dir, m)
				return
			}
			call := &ToolCall{Request: m, Name: name, Arguments: parts[1], Meta: parseMeta(parts[2]),
				Retry: parts[3] != nil || parts[4] != nil}
			decided := func(v Verdict) {
				if !v.Refuse {
					next(s, dir, m)
					return
				}
				s.Reply(dir, m, RefusalResult(v.Message))
			}
			if v, ok := gate.Quick(s, call); ok {
				decided(v)
				return
			}
			// Held for a decision: the client may cancel the call meanwhile, and then it
			// must never reach the server, whatever is decided.
			ctx, release := s.Hold(m)
			go func() {
				defer release()
				v := gate.Decide(ctx, s, call)
				if ctx.Err() != nil {
					return // cancelled by the client (or the session ended): no answer is due
				}
				decided(v)
			}()
		}
	}
}

// RefusalResult is the tools/call result Airlock returns for a call it did not forward.
func RefusalResult(message string) map[string]any {
	return map[string]any{
		"content": []map[string]any{{"type": "text", "text": message}},
		"isError": true,
	}
}

// ToolsList passes each tools/list result page to observe, which may return a
// replacement result (to hide tools) or nil to forward the page unchanged.
func ToolsList(observe func(s *Session, resp *jsonrpc.Message) json.RawMessage) Middleware {
	return func(next Handler) Handler {
		return func(s *Session, dir Direction, m *jsonrpc.Message) {
			if dir == ToClient && m.Kind == jsonrpc.KindResponse && m.Result != nil && m.Request != nil && m.Request.Method == "tools/list" {
				if repl := observe(s, m); repl != nil {
					if nm, err := jsonrpc.NewResult(m.ID, repl); err == nil {
						m = nm
					}
				}
			}
			next(s, dir, m)
		}
	}
}

// Elicitations passes every elicitation/create request from the server to observe
// before it is forwarded; observe returns false when it answered the request itself.
func Elicitations(observe func(s *Session, req *jsonrpc.Message) bool) Middleware {
	return func(next Handler) Handler {
		return func(s *Session, dir Direction, m *jsonrpc.Message) {
			if dir == ToClient && m.Kind == jsonrpc.KindRequest && m.Method == "elicitation/create" {
				if !observe(s, m) {
					return
				}
			}
			next(s, dir, m)
		}
	}
}

// GateFunc is a Gate that always defers to the function, in its own goroutine.
type GateFunc func(ctx context.Context, s *Session, call *ToolCall) Verdict

// Quick implements Gate: it never decides at once.
func (f GateFunc) Quick(*Session, *ToolCall) (Verdict, bool) { return Verdict{}, false }

// Decide implements Gate.
func (f GateFunc) Decide(ctx context.Context, s *Session, call *ToolCall) Verdict {
	return f(ctx, s, call)
}
