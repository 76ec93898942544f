package jsonrpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

var fuzzSeeds = []string{
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"a":[1,2,{"b":null}]}}}`,
	`{"jsonrpc":"2.0","id":"1","method":"ping"}`,
	`{"jsonrpc":"2.0","id":"airlock/1","result":{}}`,
	`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}`,
	`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}`,
	`{"jsonrpc":"2.0","\u0069d":1,"id":2,"method":"m"}`,
	`{"jsonrpc":"2.0","id":1e400,"method":"m"}`,
	`{"jsonrpc":"2.0","id":"\ud800\u0000<>&","method":"\u2028"}`,
	"{\"jsonrpc\":\"2.0\",\"id\":\"\xff\",\"method\":\"m\"}",
	`[{"jsonrpc":"2.0","id":1,"method":"m"}]`,
	`{"jsonrpc":"2.0","id":01,"method":"m"}`,
	`{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`,
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	for _, s := range validityCorpus {
		f.Add([]byte(s))
		f.Add([]byte(`{"jsonrpc":"2.0","id":1,"method":"m","params":[` + s + `]}`))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b)
		m, err := Parse(b)
		if !bytes.Equal(in, b) {
			t.Fatalf("Parse modified its input")
		}
		if validErr := validate(b); (validErr == nil) != json.Valid(b) {
			t.Fatalf("validate(%q) = %v, json.Valid = %v", b, validErr, json.Valid(b))
		}
		if err != nil {
			var bad *BadMessageError
			if !errors.As(err, &bad) {
				t.Fatalf("Parse error %T, want *BadMessageError", err)
			}
			if !bad.ID.IsZero() && validate([]byte(bad.ID.String())) != nil {
				t.Fatalf("recovered id %q is not valid JSON", bad.ID)
			}
			return
		}
		if !json.Valid(m.Raw) {
			t.Fatalf("Parse accepted %q, which encoding/json calls invalid", b)
		}
		var members map[string]json.RawMessage
		if err := json.Unmarshal(m.Raw, &members); err != nil {
			t.Fatalf("Parse accepted %q, which encoding/json cannot decode: %v", b, err)
		}
		switch m.Kind {
		case KindRequest, KindResponse:
			if got := string(members["id"]); got != m.ID.String() {
				t.Fatalf("id = %s, encoding/json sees %s", m.ID, got)
			}
		case KindNotification:
			if !m.ID.IsZero() {
				t.Fatalf("notification with id %s", m.ID)
			}
		default:
			t.Fatalf("accepted message of kind %v", m.Kind)
		}
		// Member and Members (which skip strings without checking them, the message being
		// valid) find what encoding/json finds; a slimmed request keeps the small members.
		if len(m.Params) > 0 && m.Params[0] == '{' {
			var params map[string]json.RawMessage
			if json.Unmarshal(m.Params, &params) == nil && CheckDuplicateKeys(m.Params) == nil {
				keys := []string{"name", "arguments", "_meta", "a\"b", "é"}
				got := Members(m.Params, keys...)
				for i, k := range keys {
					if !bytes.Equal(got[i], params[k]) || !bytes.Equal(Member(m.Params, k), params[k]) {
						t.Fatalf("member %q of %s: Members %q, Member %q, encoding/json %q", k, m.Params, got[i], Member(m.Params, k), params[k])
					}
				}
				if m.Kind == KindRequest {
					var slim map[string]json.RawMessage
					if err := json.Unmarshal(m.Slim(0).Params, &slim); err != nil {
						t.Fatalf("slimmed params %q: %v", m.Slim(0).Params, err)
					}
					for k, v := range params {
						if len(v) <= SlimMemberMax && !bytes.Equal(slim[k], v) {
							t.Fatalf("slimmed params lost member %q", k)
						}
					}
				}
			}
		}
		// WithID changes the id and nothing else.
		if m.Kind != KindNotification {
			nm, err := m.WithID(StringID("swapped/1"))
			if err != nil {
				t.Fatalf("WithID(%q): %v", m.Raw, err)
			}
			var swapped map[string]json.RawMessage
			json.Unmarshal(nm.Raw, &swapped)
			if nm.ID.String() != `"swapped/1"` || nm.Kind != m.Kind || nm.Method != m.Method || len(swapped) != len(members) {
				t.Fatalf("WithID(%q) = %q", m.Raw, nm.Raw)
			}
			for k, v := range members {
				if k != "id" && !bytes.Equal(swapped[k], v) {
					t.Fatalf("WithID(%q) changed member %q: %q", m.Raw, k, nm.Raw)
				}
			}
			if back, err := nm.WithID(m.ID); err != nil || !bytes.Equal(back.Raw, m.Raw) {
				t.Fatalf("WithID there and back: %q, want %q (%v)", back.Raw, m.Raw, err)
			}
		}
		// Re-marshalling keeps the id.
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(members); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		m2, err := Parse(buf.Bytes())
		if err != nil {
			t.Fatalf("re-encoded %q does not parse: %v", buf.Bytes(), err)
		}
		if m2.ID != m.ID || m2.Kind != m.Kind || m2.Method != m.Method {
			t.Fatalf("re-encoded message is %v, was %v", m2, m)
		}
	})
}

// fuzzReader delivers its data in chunks whose sizes come from sizes.
type fuzzReader struct {
	data  []byte
	sizes []byte
}

func (r *fuzzReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := len(r.data)
	if len(r.sizes) > 0 {
		n = int(r.sizes[0])*97 + 1
		r.sizes = r.sizes[1:]
	}
	n = min(n, len(p), len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

func FuzzReader(f *testing.F) {
	join := func(lines ...string) []byte { return []byte(strings.Join(lines, "\n")) }
	f.Add(join(fuzzSeeds...), []byte{0, 1, 2, 255}, uint16(0))
	f.Add(join(fuzzSeeds...), []byte{}, uint16(100))
	f.Add(join("", "\r", fuzzSeeds[0]+"\r", "  ", fuzzSeeds[1]), []byte{3}, uint16(40))
	f.Add([]byte(request("1", 200<<10)+"\n"+fuzzSeeds[1]+"\n"), []byte{200, 7}, uint16(65535))
	f.Add([]byte(request("1", 70<<10)+"\n"+request("2", 10)), []byte{}, uint16(1000))
	f.Add([]byte(strings.Repeat("\n", 100)+"{"), []byte{1}, uint16(1))
	f.Fuzz(func(t *testing.T, data, sizes []byte, max16 uint16) {
		max := int(max16) // 0 means the default cap
		r := NewReader(&fuzzReader{data: data, sizes: sizes}, max)
		if max == 0 {
			max = DefaultMaxMessageSize
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		for i := 0; ; i++ {
			if i > lines {
				t.Fatalf("Read returned %d results from %d lines", i, lines)
			}
			m, err := r.Read()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				var bad *BadMessageError
				if !errors.As(err, &bad) {
					t.Fatalf("Read error %T %v, want *BadMessageError or io.EOF", err, err)
				}
				continue
			}
			if len(m.Raw) > max {
				t.Fatalf("Read returned %d bytes, over the cap of %d", len(m.Raw), max)
			}
			if bytes.IndexByte(m.Raw, '\n') >= 0 {
				t.Fatalf("Read returned a message containing a newline")
			}
		}
	})
}

// FuzzDuplicateKeysValid: on valid JSON, the check that skips strings without looking
// inside them says exactly what the full check says.
func FuzzDuplicateKeysValid(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"a":2}`, `{"a":"x\"y","b":{"c":"\\","c":3}}`, `[{"k":"\\\"","k":1}]`,
		`{"a\u0062":1,"ab":2}`, `{"x":"\\\\\\"","y":"é","x":0}`, `"just a string"`, `{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if validate(b) != nil {
			return
		}
		full, fast := CheckDuplicateKeys(b), CheckDuplicateKeysValid(b)
		if (full == nil) != (fast == nil) || full != nil && full.Error() != fast.Error() {
			t.Fatalf("%q: full check %v, fast check %v", b, full, fast)
		}
	})
}
