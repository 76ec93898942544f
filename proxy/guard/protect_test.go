package guard

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/airlock-mcp/airlock/consent/apitype"
	"github.com/airlock-mcp/airlock/consent/policy"

	"github.com/airlock-mcp/airlock/bench/payload"
)

func testProtection() *Protection {
	return NewProtection("/home/me", []string{
		"/home/me/.config/airlock",
		"/home/me/.cursor/mcp.json",
		"/home/me/.claude.json",
		"/usr/local/bin/airlock",
		"relative/ignored",
	}, []string{".mcp.json", ".vscode/mcp.json"})
}

func TestProtectionIn(t *testing.T) {
	p := testProtection()
	for _, tc := range []struct {
		args, want string
	}{
		{`{"path":"/home/me/.config/airlock/policy.toml"}`, "/home/me/.config/airlock"},
		{`{"path":"/home/me/.config/airlock"}`, "/home/me/.config/airlock"},
		{`{"path":"~/.config/airlock/pins.json"}`, "/home/me/.config/airlock"},
		{`{"command":"echo '[[rule]]' >> $HOME/.config/airlock/policy.toml"}`, "/home/me/.config/airlock"},
		{`{"path":"../../.config/airlock/decisions.db"}`, "/home/me/.config/airlock"},
		{`{"path":".config/airlock/servers.json"}`, "/home/me/.config/airlock"},
		{`{"path":"/HOME/ME/.Config/AIRLOCK/policy.toml"}`, "/home/me/.config/airlock"},
		{`{"path":"/home/me//.config/./airlock/policy.toml"}`, "/home/me/.config/airlock"},
		{`{"path":"\/home\/me\/.config\/airlock\/policy.toml"}`, "/home/me/.config/airlock"},
		{`{"path":"/home/me/.config/air\u006cock/x"}`, "/home/me/.config/airlock"},
		{`{"edits":[{"file":"/home/me/.cursor/mcp.json"}]}`, "/home/me/.cursor/mcp.json"},
		{`{"path":"/home/me/.claude.json"}`, "/home/me/.claude.json"},
		{`{"path":"/work/project/.mcp.json"}`, ".mcp.json"},
		{`{"path":"C:\\work\\project\\.vscode\\mcp.json"}`, ".vscode/mcp.json"},
		{`{"cmd":"cp evil /usr/local/bin/airlock"}`, "/usr/local/bin/airlock"},
		{`{"content":"line one\n.config/airlock/policy.toml"}`, "/home/me/.config/airlock"},
		{`{"path":"/home/me/.config//airlock/x"}`, "/home/me/.config/airlock"},
		{`{"path":"./.config/.//airlock"}`, "/home/me/.config/airlock"},
		{`{"path":"/Home/Me/.CONFIG/Airlock"}`, "/home/me/.config/airlock"},
		{`{"path":"C:\\Users\\me\\.cursor\\mcp.json"}`, "/home/me/.cursor/mcp.json"},
		{`{"a":"x","b":{"c":["~/.claude.json"]}}`, "/home/me/.claude.json"},
		{`{"path":"/home/me/.config/airlock-backup/x"}`, ""},
		{`{"path":"/home/me/.config/airlocks"}`, ""},
		{`{"path":"/home/me/project/notes.md","content":"the airlock config"}`, ""},
		{`{"path":"/home/me/project/x.mcp.json.bak"}`, ""},
		{`{"path":"relative/ignored"}`, ""},
		{`{"url":"https://example.com//a"}`, ""},
		{`[1,2,{"a":null}]`, ""},
	} {
		if got := p.In(json.RawMessage(tc.args)); got != tc.want {
			t.Errorf("In(%s) = %q, want %q", tc.args, got, tc.want)
		}
	}
	var nilP *Protection
	if nilP.In(json.RawMessage(`{"path":"/home/me/.config/airlock"}`)) != "" {
		t.Error("a nil Protection protects something")
	}
}

func TestProjectFileProtectionNames(t *testing.T) {
	p := NewProtection("", nil, []string{".mcp.json"})
	if p.In(json.RawMessage(`{"path":".mcp.json"}`)) != ".mcp.json" {
		t.Error("a bare .mcp.json is not protected")
	}
}

// A call naming Airlock's own files asks a person even when the policy allows the tool,
// and the request is marked so that grants for the tool do not cover it.
func TestProtectedCallAlwaysAsks(t *testing.T) {
	pol, err := policy.Parse("policy.toml", []byte("[[rules]]\ntool = \"write_file\"\naction = \"allow\"\ntier = 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	a := newGtAsker()
	h := newHarness(t, pol, a, noElicitation)
	h.g.Protect = testProtection()
	defer h.close()
	h.listTools()

	// An ordinary write passes: the policy allows it.
	h.callTool(1, "write_file", `{"path":"/home/me/project/a.txt","content":"x"}`)
	if got := h.serverGot(); got != "write_file" {
		t.Fatalf("allowed write: server got %q", got)
	}
	h.response("1")

	// The same tool on Airlock's policy file waits for a person.
	h.callTool(2, "write_file", `{"path":"~/.config/airlock/policy.toml","content":"[[rule]]\naction = \"allow\""}`)
	q := <-a.asked
	if q.req.Tier != 3 || !q.req.Protected {
		t.Errorf("asked tier %d protected %v, want 3 and protected", q.req.Tier, q.req.Protected)
	}
	found := false
	for _, r := range q.req.Reasons {
		if r.Tier == 3 && contains(r.Text, "/home/me/.config/airlock", "switch Airlock off") {
			found = true
		}
	}
	if !found {
		t.Errorf("reasons %+v lack the protection", q.req.Reasons)
	}
	q.reply <- gtAnswer{d: apitype.Decision{Outcome: apitype.Deny, Scope: apitype.Once, DecidedBy: "user"}}
	h.refusal(h.response("2"))
	h.serverIdle(3)
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// BenchmarkProtectionIn: the per-call cost of the self-protection check.
func BenchmarkProtectionIn(b *testing.B) {
	p := NewProtection("/home/me", []string{"/home/me/.config/airlock", "/home/me/.cursor/mcp.json",
		"/home/me/.claude.json", "/home/me/.config/Claude/claude_desktop_config.json", "/home/me/go/bin/airlock",
		"/home/me/.config/Code/User/mcp.json", "/home/me/.config/Code/User/settings.json",
		"/home/me/.codeium/windsurf/mcp_config.json"}, []string{".mcp.json", ".cursor/mcp.json", ".vscode/mcp.json"})
	type input struct{ name, text string }
	var inputs []input
	for _, tc := range []struct {
		n    int
		unit string
	}{{5, "abcdefgh/"}, {64 << 10, "abcdefgh/"}, {1 << 20, "abcdefgh/"}, {64 << 10, "the quick brown fox jumps over the lazy dog, "}} {
		name := fmt.Sprintf("%dB", tc.n)
		if !strings.Contains(tc.unit, "/") {
			name += "-prose"
		}
		inputs = append(inputs, input{name, strings.Repeat(tc.unit, tc.n/len(tc.unit)+1)[:tc.n]})
	}
	inputs = append(inputs, input{"65536B-mixed", payload.Text(64 << 10)}) // the proxy benchmark's payload
	for _, in := range inputs {
		args := json.RawMessage(`{"text":"` + in.text + `"}`)
		name := in.name
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(args)))
			for b.Loop() {
				if p.In(args) != "" {
					b.Fatal("matched")
				}
			}
		})
	}
}

// Writing a string with every character escaped (\uXXXX) finds exactly what writing it
// plainly finds: escapes hide nothing, and the fast path over raw JSON misses nothing.
func FuzzProtectionEscapes(f *testing.F) {
	for _, s := range []string{"/home/me/.config/airlock/x", "~/.cursor/mcp.json", "a\n.claude.json", ".MCP.json",
		"/usr/local/bin/airlock", "x//.config/./airlock", "airlock-backup", "C:\\Users\\me\\.vscode\\mcp.json"} {
		f.Add(s)
	}
	p := testProtection()
	f.Fuzz(func(t *testing.T, s string) {
		plain, _ := json.Marshal(map[string]string{"p": s})
		var b strings.Builder
		b.WriteString(`{"p":"`)
		for _, r := range s {
			if r > 0xffff {
				b.WriteString(strings.Trim(string(mustJSON(string(r))), `"`))
				continue
			}
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		b.WriteString(`"}`)
		esc := json.RawMessage(b.String())
		if !json.Valid(esc) {
			return
		}
		if got, want := p.In(esc) != "", p.In(plain) != ""; got != want {
			t.Fatalf("%q: escaped found %v, plain found %v", s, got, want)
		}
	})
}

func mustJSON(s string) []byte { b, _ := json.Marshal(s); return b }

type endingAsker struct {
	gtAsker
	ended []string
}

func (e *endingAsker) EndSession(_ context.Context, s string) error {
	e.ended = append(e.ended, s)
	return nil
}

// End tells a broker that can be told which session is over, so its grants go.
func TestGuardEndTellsTheBroker(t *testing.T) {
	a := &endingAsker{}
	g := &Guard{Server: "fs", Policy: policy.Default(), Asker: a}
	g.End()
	if len(a.ended) != 1 || a.ended[0] != g.Session() || g.Session() == "" {
		t.Errorf("ended %v, want [%s]", a.ended, g.Session())
	}
	(&Guard{Server: "fs", Policy: policy.Default(), Asker: newGtAsker()}).End() // cannot be told: no panic
}

// The eight-at-a-time skip finds a form wherever it starts: at every offset, next to
// every byte that can start a form, in upper and lower case.
func TestProtectionSkipFindsEveryOffset(t *testing.T) {
	p := NewProtection("/home/me", []string{"/home/me/.cursor/mcp.json", "/home/me/go/bin/airlock"}, []string{".mcp.json"})
	if !p.skip {
		t.Fatal("two start bytes ('.', 'g'), but the skip is off")
	}
	// Padding of bytes that can start a form too ('g', '.') puts a false start just
	// before the real one, at every offset within the eight-byte words.
	for _, pad := range []string{"x", "g", ".", "G.x", "gG"} {
		for _, form := range []string{".cursor/mcp.json", "GO/bin/airlock", ".MCP.json"} {
			for off := 0; off < 24; off++ {
				args := `{"p":"` + strings.Repeat(pad, off) + " " + form + `"}`
				if p.In(json.RawMessage(args)) == "" {
					t.Errorf("%q after %d × %q not found", form, off, pad)
				}
			}
		}
	}
}

// FuzzProtectionSkip: the eight-at-a-time skip finds what looking at every byte finds, in
// any text around a protected name.
func FuzzProtectionSkip(f *testing.F) {
	p := NewProtection("/home/me", []string{"/home/me/.cursor/mcp.json", "/home/me/go/bin/airlock", "/home/me/.config/airlock"}, []string{".mcp.json"})
	if !p.skip {
		f.Fatal("the skip is off")
	}
	every := *p
	every.skip = false
	for _, s := range []string{"g.g. .cursor/mcp.json", "GO/bin/airlock", "x/.config//airlock/policy.toml", "..mcp.jsonx", "gggggggg.mcp.json"} {
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, s string, pad uint8) {
		for _, v := range []string{s, strings.Repeat("g.", int(pad%16)) + s} {
			args, _ := json.Marshal(map[string]string{"p": v})
			if got, want := p.In(args), every.In(args); got != want {
				t.Fatalf("%q: with the skip %q, byte by byte %q", v, got, want)
			}
		}
	})
}
