package guard

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/airlock-mcp/airlock/consent/apitype"
	"github.com/airlock-mcp/airlock/consent/policy"
)

// linkFixture is a home with Airlock's directory and an IDE file protected, and an outside
// directory where an agent could have made links.
func linkFixture(t *testing.T) (p *Protection, home, outside string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	root := t.TempDir()
	home, outside = filepath.Join(root, "home"), filepath.Join(root, "tmp")
	airlockDir := filepath.Join(home, ".config", "airlock")
	for _, d := range []string{airlockDir, filepath.Join(home, ".cursor"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(airlockDir, "policy.toml"), []byte("# policy\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// ~/.cursor/mcp.json does not exist yet: a dangling link to it must still count.
	p = NewProtection(home, []string{airlockDir, filepath.Join(home, ".cursor", "mcp.json")}, []string{".mcp.json"})
	return p, home, outside
}

func argsWith(path string) json.RawMessage {
	return json.RawMessage(`{"path":` + strconv.Quote(path) + `,"content":"x"}`)
}

func TestProtectionFollowsLinks(t *testing.T) {
	p, home, outside := linkFixture(t)
	airlockDir := filepath.Join(home, ".config", "airlock")
	link := func(target, name string) string {
		t.Helper()
		l := filepath.Join(outside, name)
		if err := os.Symlink(target, l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	fileLink := link(filepath.Join(airlockDir, "policy.toml"), "notes.txt")
	dirLink := link(airlockDir, "cfg")
	relLink := link("../home/.config/airlock/policy.toml", "rel.txt")
	dangling := link(filepath.Join(home, ".cursor", "mcp.json"), "new.json")
	chain := link(fileLink, "chain.txt")
	danglingDir := link(filepath.Join(home, ".config", "airlock", "sub"), "later")
	projLink := link(filepath.Join(home, "proj", ".mcp.json"), "proj.json")
	hard := filepath.Join(outside, "hard.toml")
	if err := os.Link(filepath.Join(airlockDir, "policy.toml"), hard); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(outside, "plain.txt")
	os.WriteFile(plain, []byte("x"), 0o644)
	otherLink := link(plain, "other.txt")

	for _, tc := range []struct {
		name string
		args json.RawMessage
		want string
	}{
		{"link to a protected file", argsWith(fileLink), airlockDir},
		{"link to the protected directory, file after it", argsWith(filepath.Join(dirLink, "policy.toml")), airlockDir},
		{"link to the directory, new file", argsWith(filepath.Join(dirLink, "grants.json")), airlockDir},
		{"relative link", argsWith(relLink), airlockDir},
		{"dangling link to an IDE file not made yet", argsWith(dangling), filepath.Join(home, ".cursor", "mcp.json")},
		{"link to a link", argsWith(chain), airlockDir},
		{"dangling link into the directory, deeper", argsWith(filepath.Join(danglingDir, "x", "y")), airlockDir},
		{"link to a project's .mcp.json", argsWith(projLink), ".mcp.json"},
		{"hard link", argsWith(hard), airlockDir},
		{"escaped slashes", json.RawMessage(`{"path":"` + jsonEscapeSlashes(fileLink) + `"}`), airlockDir},
		{"nested in an array", json.RawMessage(`{"edits":[{"file":` + strconv.Quote(fileLink) + `}]}`), airlockDir},
		{"file URI through a link", argsWith("file://" + fileLink), airlockDir},
		{"file URI, localhost", argsWith("file://localhost" + filepath.Join(dirLink, "x")), airlockDir},
		{"file URI, percent-encoded", argsWith("file://" + strings.ReplaceAll(filepath.Join(airlockDir, "policy.toml"), "airlock", "air%6Cock")), airlockDir},
		{"file URI of another host", argsWith("file://server" + fileLink), ""},
		{"file URI, plain file", argsWith("file://" + plain), ""},
		{"plain file", argsWith(plain), ""},
		{"link to a plain file", argsWith(otherLink), ""},
		{"path that does not exist", argsWith(filepath.Join(outside, "nope", "x")), ""},
		{"not a path", json.RawMessage(`{"text":` + strconv.Quote("see "+fileLink) + `}`), ""},
	} {
		if got := p.In(tc.args); got != tc.want {
			t.Errorf("%s: In(%s) = %q, want %q", tc.name, tc.args, got, tc.want)
		}
	}
}

func jsonEscapeSlashes(s string) string {
	out := ""
	for _, c := range s {
		if c == '/' {
			out += `\/`
		} else {
			out += string(c)
		}
	}
	return out
}

func TestProtectionFollowsHomeRelative(t *testing.T) {
	p, home, _ := linkFixture(t)
	if err := os.Symlink(filepath.Join(home, ".config", "airlock"), filepath.Join(home, "shortcut")); err != nil {
		t.Fatal(err)
	}
	if got := p.In(argsWith("~/shortcut/policy.toml")); got != filepath.Join(home, ".config", "airlock") {
		t.Errorf("~/shortcut/policy.toml: got %q", got)
	}
}

func TestProtectionLinkLoops(t *testing.T) {
	p, _, outside := linkFixture(t)
	a, b := filepath.Join(outside, "a"), filepath.Join(outside, "b")
	os.Symlink(b, a)
	os.Symlink(a, b)
	if got := p.In(argsWith(filepath.Join(a, "x"))); got != "" {
		t.Errorf("link loop: got %q", got)
	}
}

func TestPathStrings(t *testing.T) {
	var got []string
	pathStrings([]byte(`{"a":"/x","b":"y","c":["~/z","\/w", "~"],"/k":1,"d":"he said \"/no\"","e":"\\\\/v","f":"~user/q"}`), func(s string) bool {
		got = append(got, s)
		return true
	})
	want := []string{"/x", "~/z", "/w", "~", "/k"}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	n := 0
	pathStrings([]byte(`["/a","/b","/c"]`), func(string) bool { n++; return n < 2 })
	if n != 2 {
		t.Errorf("pathStrings went on after f returned false: %d calls", n)
	}
}

func TestProtectionLinkChecksBounded(t *testing.T) {
	p, _, outside := linkFixture(t)
	fileLink := filepath.Join(outside, "late")
	os.Symlink(filepath.Join(p.home, ".config", "airlock", "policy.toml"), fileLink)
	args := `{"paths":[`
	for i := 0; i < maxLinkChecks; i++ {
		args += strconv.Quote(filepath.Join(outside, "f"+strconv.Itoa(i))) + ","
	}
	args += strconv.Quote(fileLink) + "]}"
	// Past the bound nothing is followed, so the call counts as naming a protected file:
	// padding must not hide a link.
	if got := p.In(json.RawMessage(args)); got == "" || !strings.Contains(got, "too many") {
		t.Errorf("%d paths, the last a link: In = %q, want the too-many answer", maxLinkChecks+1, got)
	}
	few := `{"paths":[` + strconv.Quote(filepath.Join(outside, "f0")) + `]}`
	if got := p.In(json.RawMessage(few)); got != "" {
		t.Errorf("one harmless path: In = %q", got)
	}
}

// BenchmarkProtectionDeepPath is the worst path argument for resolveLinks: thousands of
// missing components under a link (one lstat each).
func BenchmarkProtectionDeepPath(b *testing.B) {
	root := b.TempDir()
	os.Symlink(root, filepath.Join(root, "l"))
	deep := filepath.Join(root, "l")
	for len(deep) < maxLinkPath-4 {
		deep += "/a"
	}
	p := NewProtection(root, []string{filepath.Join(root, "airlock")}, nil)
	args := argsWith(deep)
	for b.Loop() {
		p.In(args)
	}
}

// A write through a link to Airlock's policy waits for a person although the policy
// allows the tool, as a write naming the policy does.
func TestLinkedCallAlwaysAsks(t *testing.T) {
	p, home, outside := linkFixture(t)
	link := filepath.Join(outside, "notes.txt")
	if err := os.Symlink(filepath.Join(home, ".config", "airlock", "policy.toml"), link); err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Parse("policy.toml", []byte("[[rules]]\ntool = \"write_file\"\naction = \"allow\"\ntier = 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	a := newGtAsker()
	h := newHarness(t, pol, a, noElicitation)
	h.g.Protect = p
	defer h.close()
	h.listTools()

	h.callTool(1, "write_file", `{"path":`+strconv.Quote(filepath.Join(outside, "plain.txt"))+`,"content":"x"}`)
	if got := h.serverGot(); got != "write_file" {
		t.Fatalf("allowed write: server got %q", got)
	}
	h.response("1")

	h.callTool(2, "write_file", `{"path":`+strconv.Quote(link)+`,"content":"[[rules]]\naction = \"allow\""}`)
	var q gtAsk
	select {
	case q = <-a.asked:
	case <-time.After(gtFailsafe):
		t.Fatalf("the write through a link to policy.toml was not asked about; the server got %q", h.serverGot())
	}
	if q.req.Tier != 3 || !q.req.Protected {
		t.Errorf("asked tier %d protected %v, want 3 and protected", q.req.Tier, q.req.Protected)
	}
	q.reply <- gtAnswer{d: apitype.Decision{Outcome: apitype.Deny, Scope: apitype.Once, DecidedBy: "user"}}
	h.refusal(h.response("2"))
	h.serverIdle(3)
}

// FuzzPathStrings checks that any bytes are walked without a panic, and that what is
// handed on starts like a path.
func FuzzPathStrings(f *testing.F) {
	for _, s := range []string{`{"a":"/x"}`, `"\/`, `"\\"`, `["~","file:x"]`, `"`, `"/\"`, `{"a":"b\\\\"/c"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pathStrings(b, func(s string) bool {
			if !(strings.HasPrefix(s, "/") || strings.HasPrefix(s, "~") || len(s) >= 5 && strings.EqualFold(s[:5], "file:")) {
				t.Errorf("handed on %q", s)
			}
			return true
		})
	})
}
