package remote

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
)

// Tools may mark parameters with "x-mcp-header": NAME in their inputSchema (2026-07-28,
// SEP-2243); an HTTP client must then mirror each such argument into an Mcp-Param-NAME
// header of the tools/call POST, and must leave out of tools/list any tool whose markings
// break the rules. Airlock learns the markings from the tools/list answers it relays.

// paramHeader is one marked parameter: where it is in the arguments and its header.
type paramHeader struct {
	path   []string // property names from the arguments object down
	header string   // the x-mcp-header value; the header is Mcp-Param-<header>
}

// maxSafeInt is the largest integer a marked parameter may hold (JavaScript's safe range).
const maxSafeInt = 1<<53 - 1

// learnTools reads one tools/list result: it records every valid tool's marked
// parameters, and returns the result without the tools whose markings are invalid (nil
// when every tool is valid) with a sentence for each tool left out.
func (c *Conn) learnTools(result json.RawMessage) (json.RawMessage, []string) {
	var r struct {
		Tools []json.RawMessage `json:"tools"`
	}
	if json.Unmarshal(result, &r) != nil {
		return nil, nil
	}
	var kept []json.RawMessage
	var dropped []string
	learnt := map[string][]paramHeader{}
	for _, raw := range r.Tools {
		var t struct {
			Name        string          `json:"name"`
			InputSchema json.RawMessage `json:"inputSchema"`
		}
		if json.Unmarshal(raw, &t) != nil {
			kept = append(kept, raw)
			continue
		}
		hs, err := markedParams(t.InputSchema)
		if err != nil {
			dropped = append(dropped, fmt.Sprintf("tool %q: %v", t.Name, err))
			continue
		}
		kept = append(kept, raw)
		learnt[t.Name] = hs
	}
	c.mu.Lock()
	if c.params == nil {
		c.params = map[string][]paramHeader{}
	}
	for name, hs := range learnt {
		if len(hs) == 0 {
			delete(c.params, name)
		} else {
			c.params[name] = hs
		}
	}
	c.mu.Unlock()
	if len(dropped) == 0 {
		return nil, nil
	}
	var all map[string]json.RawMessage
	if json.Unmarshal(result, &all) != nil {
		return nil, nil
	}
	if kept == nil {
		kept = []json.RawMessage{}
	}
	all["tools"], _ = json.Marshal(kept)
	out, err := json.Marshal(all)
	if err != nil {
		return nil, nil
	}
	return out, dropped
}

// markedParams finds the x-mcp-header markings of an inputSchema, at any depth of
// object properties, and checks them: a token (RFC 9110 tchar), unique ignoring case,
// on a string, integer or boolean property.
func markedParams(schema json.RawMessage) ([]paramHeader, error) {
	var out []paramHeader
	seen := map[string]bool{}
	var walk func(raw json.RawMessage, path []string, depth int) error
	walk = func(raw json.RawMessage, path []string, depth int) error {
		if depth > 16 {
			return nil
		}
		var s struct {
			Type       json.RawMessage            `json:"type"`
			Properties map[string]json.RawMessage `json:"properties"`
			Header     json.RawMessage            `json:"x-mcp-header"`
		}
		if json.Unmarshal(raw, &s) != nil {
			return nil
		}
		if s.Header != nil && len(path) > 0 {
			var h string
			if json.Unmarshal(s.Header, &h) != nil || !isToken(h) {
				return fmt.Errorf("x-mcp-header %q on %q is not a valid header name", string(s.Header), strings.Join(path, "."))
			}
			var typ string
			json.Unmarshal(s.Type, &typ)
			if typ != "string" && typ != "integer" && typ != "boolean" {
				return fmt.Errorf("x-mcp-header %q is on %q, of type %q, not a string, integer or boolean", h, strings.Join(path, "."), string(s.Type))
			}
			if seen[strings.ToLower(h)] {
				return fmt.Errorf("x-mcp-header %q is used twice", h)
			}
			seen[strings.ToLower(h)] = true
			out = append(out, paramHeader{path: append([]string(nil), path...), header: h})
		}
		for name, p := range s.Properties {
			if err := walk(p, append(path, name), depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(schema, nil, 0); err != nil {
		return nil, err
	}
	return out, nil
}

// isToken reports whether s is an HTTP field-name token (RFC 9110 section 5.6.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// paramHeaders returns the Mcp-Param-* headers for a tools/call, from the markings
// learnt for its tool. An argument that is absent (or null) gets no header; one of the
// wrong type gets none either, and the server will say what is wrong.
func (c *Conn) paramHeaders(m *jsonrpc.Message) map[string]string {
	if m.Method != "tools/call" || m.Params == nil {
		return nil
	}
	name, ok := jsonString(jsonrpc.Member(m.Params, "name"))
	if !ok {
		return nil
	}
	c.mu.Lock()
	hs := c.params[name]
	c.mu.Unlock()
	if len(hs) == 0 {
		return nil
	}
	args := jsonrpc.Member(m.Params, "arguments")
	out := map[string]string{}
	for _, h := range hs {
		v := args
		for _, p := range h.path {
			if v == nil {
				break
			}
			v = jsonrpc.Member(v, p)
		}
		if v == nil {
			continue
		}
		if s, ok := headerArg(v); ok {
			out["Mcp-Param-"+h.header] = s
		}
	}
	return out
}

// headerArg encodes one argument for its header: strings as Mcp-Name values are,
// booleans as true or false, integers in decimal.
func headerArg(v json.RawMessage) (string, bool) {
	switch s := strings.TrimSpace(string(v)); {
	case s == "true" || s == "false":
		return s, true
	case strings.HasPrefix(s, `"`):
		str, ok := jsonString(json.RawMessage(s))
		if !ok {
			return "", false
		}
		return headerValue(str), true
	default:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f != math.Trunc(f) || math.Abs(f) > maxSafeInt {
			return "", false
		}
		return strconv.FormatInt(int64(f), 10), true
	}
}
