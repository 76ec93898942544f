package guard

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/airlock-mcp/airlock/consent/apitype"
	"github.com/airlock-mcp/airlock/consent/policy"
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
