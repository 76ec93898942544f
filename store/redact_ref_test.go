package store

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// referenceRedactJSON is the earlier, tree-based RedactJSON (decode, walk, encode with
// sorted keys), kept as the reference the one-pass redactor is fuzzed against.
func (r *Redactor) referenceRedactJSON(raw json.RawMessage) json.RawMessage {
	if len(strings.TrimSpace(string(raw))) == 0 {
		return raw
	}
	r.init()
	v, err := decodeJSON(raw)
	if err != nil {
		b, _ := encodeJSON(r.RedactString(string(raw)))
		return b
	}
	b, err := encodeJSON(r.referenceWalk(v, 0))
	if err != nil {
		b, _ = encodeJSON("[REDACTED:unencodable]")
	}
	return b
}

func (r *Redactor) referenceWalk(v any, nest int) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			rk := r.RedactString(k)
			if secretField(k) && !referenceHarmless(val) {
				out[rk] = "[REDACTED:secret-field]"
				continue
			}
			out[rk] = r.referenceWalk(val, nest)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = r.referenceWalk(e, nest)
		}
		return out
	case string:
		if nest < maxNest {
			if t := strings.TrimSpace(x); len(t) > 1 && (t[0] == '{' || t[0] == '[') {
				if inner, err := decodeJSON([]byte(t)); err == nil {
					if b, err := encodeJSON(r.referenceWalk(inner, nest+1)); err == nil {
						return string(b)
					}
				}
			}
		}
		return r.RedactString(x)
	case json.Number:
		if r.number[x.String()] {
			return "[REDACTED:keyring]"
		}
		return x
	default:
		return x
	}
}

func referenceHarmless(v any) bool {
	switch x := v.(type) {
	case nil, bool:
		return true
	case string:
		return x == ""
	}
	return false
}

// FuzzRedactJSONMatchesReference: the one-pass RedactJSON gives, for any input, JSON
// that means the same as the tree-based reference (which sorted keys): the same values,
// the same secrets removed.
func FuzzRedactJSONMatchesReference(f *testing.F) {
	for _, s := range []string{
		`{"user":"bob","Password":"pw1","nested":{"list":[{"api_key":"k1"},{"KEY":{"a":1}}],"keyboard":"qwerty"}}`,
		`{"token":null,"secret":false,"password":""}`,
		`{"q":"ghp\u005faBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789","k":"correct\u002dhorse-battery"}`,
		`{"body":"{\"password\":\"hunter2\",\"n\":1}"}`,
		`{"pin":424242,"n":4242,"f":-0.5e+3}`,
		`{"password":"x","password":null}`,
		`[1,"a\u2028b","\ud800","é",true,[],{}]`,
		" \t{\"a\" : [ 1 , 2 ] }\n",
		`{"a":"` + "\xff\xfe" + `"}`,
		`{"token": "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789`,
		`"just a string with sk-ant-abcdefghijklmnopqrstuv"`,
		`{"cmd":"curl -H 'Authorization: Bearer abcdefghijklmnop' https://u:pw@x.example/"}`,
		`01`, `[1,]`, `{"a":1}x`, `nul`, `"\u00"`,
	} {
		f.Add([]byte(s))
	}
	r := &Redactor{Known: []string{"correct-horse-battery", "424242"}}
	f.Fuzz(func(t *testing.T, in []byte) {
		got := r.RedactJSON(in)
		want := r.referenceRedactJSON(in)
		if len(bytes.TrimSpace(in)) == 0 {
			if !bytes.Equal(got, in) {
				t.Fatalf("blank input changed: %q", got)
			}
			return
		}
		if !json.Valid(got) {
			t.Fatalf("RedactJSON(%q) = %q: not JSON", in, got)
		}
		gv, err1 := decodeJSON(got)
		wv, err2 := decodeJSON(want)
		if err1 != nil || err2 != nil {
			t.Fatalf("decode: %v / %v", err1, err2)
		}
		if !sameJSON(gv, wv) {
			t.Fatalf("RedactJSON(%q)\n got %s\nwant %s", in, got, want)
		}
	})
}

// sameJSON compares decoded JSON values, treating two strings that both hold JSON
// objects or arrays as equal when those mean the same (the reference sorted their keys).
func sameJSON(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !sameJSON(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	case string:
		y, ok := b.(string)
		if !ok {
			return false
		}
		if x == y {
			return true
		}
		xi, err1 := decodeJSON([]byte(x))
		yi, err2 := decodeJSON([]byte(y))
		if err1 != nil || err2 != nil {
			return false
		}
		_, xs := xi.(string)
		return !xs && sameJSON(xi, yi)
	default:
		return reflect.DeepEqual(a, b)
	}
}

// Nesting deeper than encoding/json accepts is redacted as text, as the reference does;
// anything shallower stays structured.
func TestRedactJSONDepth(t *testing.T) {
	r := &Redactor{}
	for _, depth := range []int{100, maxJSONDepth, maxJSONDepth + 1} {
		in := []byte(strings.Repeat("[", depth) + strings.Repeat("]", depth))
		got, want := r.RedactJSON(in), r.referenceRedactJSON(in)
		if !bytes.Equal(got, want) {
			t.Errorf("depth %d: got %.30s…, reference %.30s…", depth, got, want)
		}
	}
}
