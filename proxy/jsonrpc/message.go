// Package jsonrpc reads, validates and builds the JSON-RPC 2.0 messages that MCP peers
// exchange, keeping every message's original bytes so a proxy can relay it unchanged.
package jsonrpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"unicode/utf8"

	"github.com/airlock-mcp/airlock/store/jsontext"
)

// Kind says what a message is.
type Kind uint8

const (
	// KindRequest is a message with a method and an id.
	KindRequest Kind = iota + 1
	// KindNotification is a message with a method and no id.
	KindNotification
	// KindResponse is a message with an id and a result or an error.
	KindResponse
)

func (k Kind) String() string {
	switch k {
	case KindRequest:
		return "request"
	case KindNotification:
		return "notification"
	case KindResponse:
		return "response"
	}
	return "invalid"
}

// Standard JSON-RPC error codes. Airlock's own codes live in the implementation range
// -32000…-32019 that MCP 2026-07-28 leaves to implementations.
const (
	CodeParseError     = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternalError  = -32603

	// CodeServerUnavailable means the upstream server is not running: it failed to start,
	// exited, or could not be reached.
	CodeServerUnavailable = -32000
	// CodeMessageTooLarge means a message exceeded the configured size cap.
	CodeMessageTooLarge = -32001
	// CodeRefused means Airlock refused to forward a request (launch denied, reserved id).
	CodeRefused = -32003
)

// Message is one JSON-RPC message. Raw holds its exact bytes (without the newline that
// frames it on stdio); the other fields are views into Raw. A Message is not modified
// after it is parsed: code that wants to change a message builds a new one.
type Message struct {
	Raw    []byte
	Kind   Kind
	ID     ID              // zero for notifications
	Method string          // requests and notifications
	Params json.RawMessage // nil when absent
	Result json.RawMessage // responses only
	Error  json.RawMessage // responses only

	// Request is set by the relay on a response: the request it answers, as forwarded.
	Request *Message

	// spare reports that Raw was allocated by a Reader with room for one more byte.
	spare bool
}

// ID is a JSON-RPC id kept as its raw JSON text, so that 1 and "1" stay distinct and an
// id is sent back exactly as it came.
type ID struct{ raw string }

// RawID returns the ID whose JSON text is b. It does not validate b.
func RawID(b []byte) ID { return ID{raw: string(b)} }

// StringID returns the ID for the JSON string s.
func StringID(s string) ID { b, _ := json.Marshal(s); return ID{raw: string(b)} }

// IntID returns the ID for the JSON number n.
func IntID(n int64) ID { return ID{raw: strconv.FormatInt(n, 10)} }

// IsZero reports whether the id is absent.
func (id ID) IsZero() bool { return id.raw == "" }

// Raw returns the id's JSON text ("null" for an absent id, as error responses need).
func (id ID) Raw() json.RawMessage {
	if id.raw == "" {
		return json.RawMessage("null")
	}
	return json.RawMessage(id.raw)
}

// String returns the id's JSON text.
func (id ID) String() string { return id.raw }

// Str returns the decoded value of a string id and whether the id is a string.
func (id ID) Str() (string, bool) {
	if len(id.raw) < 2 || id.raw[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal([]byte(id.raw), &s); err != nil {
		return "", false
	}
	return s, true
}

// Error is a JSON-RPC error object.
type Error struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

func (e *Error) Error() string { return fmt.Sprintf("jsonrpc error %d: %s", e.Code, e.Message) }

// BadMessageError reports a message that could not be accepted. The stream it came from
// is still usable. ID is the message's id when it could be recovered.
type BadMessageError struct {
	Code   int
	Reason string
	ID     ID
}

func (e *BadMessageError) Error() string { return e.Reason }

// IsBadMessage reports whether err is (or wraps) a *BadMessageError.
func IsBadMessage(err error) bool {
	var b *BadMessageError
	return errors.As(err, &b)
}

// Parse validates b as one JSON-RPC 2.0 message and returns it. The returned Message
// refers to b; the caller must not modify b afterwards. Errors are *BadMessageError.
//
// Parse is strict where peers could disagree about meaning: duplicate top-level members,
// a missing or wrong "jsonrpc" member, batches, and invalid JSON are all refused.
func Parse(b []byte) (*Message, error) {
	b = trimSpace(b)
	if len(b) == 0 {
		return nil, &BadMessageError{Code: CodeInvalidRequest, Reason: "empty message"}
	}
	switch b[0] {
	case '{':
	case '[':
		if err := validate(b); err != nil {
			return nil, &BadMessageError{Code: CodeParseError, Reason: "parse error: " + err.Error()}
		}
		return nil, &BadMessageError{Code: CodeInvalidRequest, Reason: "JSON-RPC batches are not supported: MCP 2025-06-18 and later send one message at a time"}
	default:
		if err := validate(b); err != nil {
			return nil, &BadMessageError{Code: CodeParseError, Reason: "parse error: " + err.Error()}
		}
		return nil, &BadMessageError{Code: CodeInvalidRequest, Reason: "invalid request: a JSON-RPC message must be a JSON object"}
	}
	m := &Message{Raw: b}
	var (
		version, id, method []byte
		seen                uint8
		other               []string
	)
	s := scanner{b: b}
	err := s.object(func(key []byte, vstart, vend int) error {
		var bit uint8
		v := b[vstart:vend]
		switch string(key) {
		case "jsonrpc":
			bit = 1
		case "id":
			bit = 2
		case "method":
			bit = 4
		case "params":
			bit = 8
		case "result":
			bit = 16
		case "error":
			bit = 32
		default:
			for _, k := range other {
				if k == string(key) {
					return fmt.Errorf("duplicate member %q", key)
				}
			}
			other = append(other, string(key))
			return nil
		}
		if seen&bit != 0 {
			if bit == 2 {
				id = nil // which id would the error answer? neither
			}
			return fmt.Errorf("duplicate member %q", key)
		}
		seen |= bit
		switch bit {
		case 1:
			version = v
		case 2:
			id = v
		case 4:
			method = v
		case 8:
			m.Params = v
		case 16:
			m.Result = v
		case 32:
			m.Error = v
		}
		return nil
	})
	if err == nil && s.i != len(b) {
		err = s.errorf("unexpected data after the message")
	}
	if err != nil {
		return nil, &BadMessageError{Code: CodeParseError, Reason: "parse error: " + err.Error(), ID: recoverID(id)}
	}
	bad := func(reason string) (*Message, error) {
		return nil, &BadMessageError{Code: CodeInvalidRequest, Reason: "invalid request: " + reason, ID: recoverID(id)}
	}
	if version == nil {
		return bad(`missing "jsonrpc": "2.0"`)
	}
	if !bytes.Equal(version, []byte(`"2.0"`)) {
		if s, ok := decodeString(version); !ok || s != "2.0" {
			return bad(`"jsonrpc" must be "2.0"`)
		}
	}
	if id != nil {
		switch id[0] {
		case '"':
		case 'n':
			if method != nil {
				return bad("a request id must not be null")
			}
		case 't', 'f', '{', '[':
			return bad("an id must be a string or a number")
		default: // number
		}
		m.ID = ID{raw: string(id)}
	}
	if method != nil {
		name, ok := decodeString(method)
		if !ok {
			return bad(`"method" must be a string`)
		}
		m.Method = name
		if m.Result != nil || m.Error != nil {
			return bad("a message cannot have both a method and a result or error")
		}
		if m.Params != nil && m.Params[0] != '{' && m.Params[0] != '[' {
			return bad(`"params" must be an object or an array`)
		}
		if id != nil {
			m.Kind = KindRequest
		} else {
			m.Kind = KindNotification
		}
		return m, nil
	}
	if m.Params != nil {
		return bad(`a message with "params" needs a "method"`)
	}
	if id == nil {
		return bad(`a message needs a "method" or an "id"`)
	}
	if (m.Result == nil) == (m.Error == nil) {
		return bad(`a response must have exactly one of "result" and "error"`)
	}
	m.Kind = KindResponse
	return m, nil
}

// recoverID keeps a syntactically usable id from a message that failed validation, so
// the error response can name the request it answers.
func recoverID(id []byte) ID {
	if len(id) == 0 {
		return ID{}
	}
	switch id[0] {
	case '"', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if validate(id) == nil {
			return ID{raw: string(id)}
		}
	}
	return ID{}
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// decodeString decodes the JSON string literal b.
func decodeString(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' {
		return "", false
	}
	inner := b[1 : len(b)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), true
	}
	return jsontext.Unquote(b)
}

// String describes the message for logs, without its contents.
func (m *Message) String() string {
	switch m.Kind {
	case KindRequest:
		return fmt.Sprintf("request %s %s", m.ID, m.Method)
	case KindNotification:
		return "notification " + m.Method
	case KindResponse:
		if m.Error != nil {
			return fmt.Sprintf("error response %s", m.ID)
		}
		return fmt.Sprintf("response %s", m.ID)
	}
	return "invalid message"
}

// ErrorObject decodes the error member of a response, or returns nil.
func (m *Message) ErrorObject() *Error {
	if m.Error == nil {
		return nil
	}
	var e Error
	if err := json.Unmarshal(m.Error, &e); err != nil {
		return &Error{Code: CodeInternalError, Message: "malformed error object"}
	}
	return &e
}

type wireRequest struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method"`
	Params  any             `json:"params,omitempty"`
}

type wireResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  any             `json:"result,omitempty"`
	Error   *Error          `json:"error,omitempty"`
}

// NewRequest builds a request message.
func NewRequest(id ID, method string, params any) (*Message, error) {
	return build(wireRequest{JSONRPC: "2.0", ID: id.Raw(), Method: method, Params: params})
}

// NewNotification builds a notification message.
func NewNotification(method string, params any) (*Message, error) {
	return build(wireRequest{JSONRPC: "2.0", Method: method, Params: params})
}

// NewResult builds a successful response to id.
func NewResult(id ID, result any) (*Message, error) {
	if result == nil {
		result = struct{}{}
	}
	return build(wireResponse{JSONRPC: "2.0", ID: id.Raw(), Result: result})
}

// NewError builds an error response to id (null when id is zero).
func NewError(id ID, code int, message string, data any) *Message {
	e := &Error{Code: code, Message: message}
	if data != nil {
		if b, err := json.Marshal(data); err == nil {
			e.Data = b
		}
	}
	m, err := build(wireResponse{JSONRPC: "2.0", ID: id.Raw(), Error: e})
	if err != nil {
		panic("jsonrpc: cannot encode an error response: " + err.Error())
	}
	return m
}

func build(v any) (*Message, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode message: %w", err)
	}
	return Parse(bytes.TrimRight(buf.Bytes(), "\n"))
}

// IDSpace hands out ids for requests that Airlock itself originates. They are strings
// with a prefix that peers' ids are refused from using, so they can never collide.
type IDSpace struct{ n atomic.Int64 }

// ReservedPrefix starts every id Airlock originates.
const ReservedPrefix = "airlock/"

// Next returns a fresh id in the reserved namespace.
func (s *IDSpace) Next() ID { return StringID(ReservedPrefix + strconv.FormatInt(s.n.Add(1), 10)) }

// IsReserved reports whether id lies in Airlock's reserved namespace.
func IsReserved(id ID) bool {
	if len(id.raw) < len(ReservedPrefix)+1 || id.raw[0] != '"' {
		return false
	}
	s, ok := id.Str()
	return ok && len(s) >= len(ReservedPrefix) && s[:len(ReservedPrefix)] == ReservedPrefix
}

// Member returns the raw value of the top-level member key of the JSON object obj, or
// nil when obj is not an object or has no such member. obj must already be valid JSON.
func Member(obj []byte, key string) json.RawMessage {
	var out json.RawMessage
	s := scanner{b: obj, valid: true}
	s.ws()
	if s.i >= len(obj) || obj[s.i] != '{' {
		return nil
	}
	s.object(func(k []byte, vstart, vend int) error {
		if out == nil && string(k) == key {
			out = obj[vstart:vend]
		}
		return nil
	})
	return out
}

// WithID returns a copy of m whose id is id, every other byte of the message as it was
// (members keep their order and spelling): the id's value is replaced in place.
func (m *Message) WithID(id ID) (*Message, error) {
	if id.IsZero() {
		return nil, errors.New("jsonrpc: empty id")
	}
	start, end := -1, -1
	s := scanner{b: m.Raw, valid: true}
	s.ws()
	err := s.object(func(k []byte, vstart, vend int) error {
		if string(k) == "id" {
			start, end = vstart, vend
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if start < 0 {
		return nil, errors.New("jsonrpc: the message has no id")
	}
	raw := make([]byte, 0, len(m.Raw)-(end-start)+len(id.raw)+1)
	raw = append(append(append(raw, m.Raw[:start]...), id.raw...), m.Raw[end:]...)
	nm, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	nm.Request = m.Request
	return nm, nil
}

// SlimMemberMax is the largest params member a slimmed request keeps.
const SlimMemberMax = 16 << 10

// Slim returns what the relay keeps of a request while its answer is awaited: m itself
// when Raw is at most limit bytes; otherwise a copy without Raw whose params keep only the
// members of at most SlimMemberMax bytes (a name, _meta, a cursor: what handlers read
// when the answer comes), so that sixteen 1 MiB tools/call arguments in flight are not
// held until their answers arrive.
func (m *Message) Slim(limit int) *Message {
	if len(m.Raw) <= limit {
		return m
	}
	out := &Message{Kind: m.Kind, ID: m.ID, Method: m.Method}
	if len(m.Params) == 0 {
		return out
	}
	s := scanner{b: m.Params, valid: true}
	s.ws()
	if s.i >= len(m.Params) || m.Params[s.i] != '{' {
		return out
	}
	buf := []byte{'{'}
	s.object(func(k []byte, vstart, vend int) error {
		if vend-vstart > SlimMemberMax {
			return nil
		}
		if len(buf) > 1 {
			buf = append(buf, ',')
		}
		key, _ := json.Marshal(string(k))
		buf = append(buf, key...)
		buf = append(buf, ':')
		buf = append(buf, m.Params[vstart:vend]...)
		return nil
	})
	out.Params = append(buf, '}')
	return out
}

// Members returns the raw values of several top-level members of the JSON object obj in
// one pass, in the order of keys (nil for a missing one). obj must already be valid JSON.
func Members(obj []byte, keys ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(keys))
	s := scanner{b: obj, valid: true}
	s.ws()
	if s.i >= len(obj) || obj[s.i] != '{' {
		return out
	}
	s.object(func(k []byte, vstart, vend int) error {
		for i, key := range keys {
			if out[i] == nil && string(k) == key {
				out[i] = obj[vstart:vend]
			}
		}
		return nil
	})
	return out
}

// MCPName returns what the 2026-07-28 Mcp-Name HTTP header mirrors: params.name of
// tools/call and prompts/get, params.uri of resources/read.
func MCPName(m *Message) (string, bool) {
	key := ""
	switch m.Method {
	case "tools/call", "prompts/get":
		key = "name"
	case "resources/read":
		key = "uri"
	default:
		return "", false
	}
	raw := Member(m.Params, key)
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var v string
	if json.Unmarshal(raw, &v) != nil {
		return "", false
	}
	return v, true
}
