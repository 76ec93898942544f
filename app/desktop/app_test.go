package desktop

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlock-mcp/airlock/consent/apitype"
	"github.com/airlock-mcp/airlock/consent/broker"
	"github.com/airlock-mcp/airlock/consent/launch"
	"github.com/airlock-mcp/airlock/consent/pins"
	"github.com/airlock-mcp/airlock/store"
	"github.com/google/go-cmp/cmp"
	"github.com/zalando/go-keyring"
)

func TestMain(m *testing.M) {
	keyring.MockInit()
	os.Exit(m.Run())
}

// fakeShell records what the App asked of the window.
type fakeShell struct {
	mu       sync.Mutex
	events   chan string // names of emitted events, with the event type for airlock:event
	surfaced int
	notes    []string
	savePath string
}

func newFakeShell() *fakeShell { return &fakeShell{events: make(chan string, 100)} }

func (s *fakeShell) Emit(name string, data any) {
	if e, ok := data.(apitype.Event); ok {
		name += " " + e.Type
	}
	s.events <- name
}

func (s *fakeShell) Surface() { s.mu.Lock(); s.surfaced++; s.mu.Unlock() }

func (s *fakeShell) Notify(title, body string) {
	s.mu.Lock()
	s.notes = append(s.notes, title+": "+body)
	s.mu.Unlock()
}

func (s *fakeShell) SaveFile(_, _, _ string) (string, error) { return s.savePath, nil }

// next waits for the next emitted event.
func (s *fakeShell) next(t *testing.T) string {
	t.Helper()
	select {
	case e := <-s.events:
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event")
		return ""
	}
}

// newTestApp returns an App on a temporary home with a real in-memory broker (not
// served on a socket) and a real log.
func newTestApp(t *testing.T) (*App, *broker.Broker) {
	t.Helper()
	home := t.TempDir()
	p := pathsIn(home)
	lg, err := store.Open(p.log)
	if err != nil {
		t.Fatal(err)
	}
	b, err := broker.New(broker.Options{Timeout: time.Minute, Log: lg, GrantsPath: p.grants})
	if err != nil {
		t.Fatal(err)
	}
	a := build(p, lg, &embedded{b: b}, Options{Version: "test", Stderr: &bytes.Buffer{}})
	t.Cleanup(func() { a.close() })
	return a, b
}

var toolCall = apitype.AskRequest{Kind: apitype.KindToolCall, Server: "fs", Tool: "delete_file", Tier: 3,
	Arguments: []byte(`{"path":"/tmp/x"}`), ArgsHash: "h1", Session: "s1"}

// ask asks b in the background and returns the decision channel once the request waits.
func ask(t *testing.T, b *broker.Broker, req apitype.AskRequest) (string, <-chan apitype.Decision) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watch := b.Watch(ctx)
	out := make(chan apitype.Decision, 1)
	go func() {
		d, _ := b.Ask(context.Background(), req)
		out <- d
	}()
	for e := range watch {
		if e.Type == "pending" {
			return e.ID, out
		}
	}
	t.Fatal("no pending event")
	return "", nil
}

func TestPendingDecideGrants(t *testing.T) {
	a, b := newTestApp(t)
	if p, err := a.Pending(); err != nil || len(p) != 0 {
		t.Fatalf("Pending = %v, %v; want none", p, err)
	}
	id, decided := ask(t, b, toolCall)
	p, err := a.Pending()
	if err != nil || len(p) != 1 || p[0].ID != id || p[0].Request.Tool != "delete_file" {
		t.Fatalf("Pending = %+v, %v", p, err)
	}
	if err := a.Decide(id, "allow", "always", ""); err != nil {
		t.Fatal(err)
	}
	if d := <-decided; d.Outcome != apitype.Allow || d.Channel != string(apitype.ChannelApp) {
		t.Errorf("decision = %+v", d)
	}
	err = a.Decide(id, "deny", "once", "")
	if err == nil || !strings.Contains(err.Error(), "already decided") {
		t.Errorf("second Decide = %v", err)
	}
	if err := a.Decide("nope", "allow", "once", ""); err == nil || !strings.Contains(err.Error(), "no longer waiting") {
		t.Errorf("Decide of an unknown id = %v", err)
	}
	g, err := a.Grants()
	if err != nil || len(g) != 1 || g[0].Tool != "delete_file" || g[0].Scope != apitype.Always {
		t.Fatalf("Grants = %+v, %v", g, err)
	}
	if err := a.Revoke(g[0].ID); err != nil {
		t.Fatal(err)
	}
	if g, _ := a.Grants(); len(g) != 0 {
		t.Errorf("after Revoke: %+v", g)
	}
	if st := a.Status(); st.Mode != ModeEmbedded || st.Version != "test" || st.Socket != a.paths.socket {
		t.Errorf("Status = %+v", st)
	}
}

func TestEventsSurfaceAndNotify(t *testing.T) {
	a, b := newTestApp(t)
	sh := newFakeShell()
	a.start(sh)
	if e := sh.next(t); e != EventBroker+" snapshot" {
		t.Fatalf("first event %q, want the snapshot", e)
	}
	id, decided := ask(t, b, toolCall)
	if e := sh.next(t); e != EventBroker+" pending" {
		t.Fatalf("event %q, want pending", e)
	}
	sh.mu.Lock()
	surfaced, notes := sh.surfaced, append([]string(nil), sh.notes...)
	sh.mu.Unlock()
	if surfaced != 1 || len(notes) != 1 || !strings.Contains(notes[0], "fs › delete_file (tier 3)") {
		t.Errorf("surfaced %d, notes %q", surfaced, notes)
	}
	if err := a.Decide(id, "deny", "", "no"); err != nil {
		t.Fatal(err)
	}
	<-decided
	// The decision reaches the frontend, then (once it is in the log) a refresh.
	want := []string{EventBroker + " decided", EventLog}
	var got []string
	for len(got) < len(want) {
		got = append(got, sh.next(t))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func appendAt(t *testing.T, a *App, at time.Time, server string, tier int, outcome store.Outcome, by store.DecidedBy) {
	t.Helper()
	d := &store.Decision{Time: at, Kind: store.KindToolCall, Server: server, Tool: "t", Tier: tier,
		Outcome: outcome, DecidedBy: by, Channel: store.ChannelNone, Scope: store.ScopeOnce, Reason: "r"}
	if _, err := a.log.Append(context.Background(), d); err != nil {
		t.Fatal(err)
	}
}

func TestLogFilterAndTimeline(t *testing.T) {
	a, _ := newTestApp(t)
	now := time.Date(2026, 5, 4, 12, 7, 0, 0, time.UTC)
	a.now = func() time.Time { return now }
	appendAt(t, a, now.Add(-30*time.Hour), "old", 0, store.OutcomeAllow, store.DecidedByPolicy) // outside 24 h
	appendAt(t, a, now.Add(-23*time.Hour-50*time.Minute), "fs", 0, store.OutcomeAllow, store.DecidedByPolicy)
	appendAt(t, a, now.Add(-2*time.Hour), "fs", 3, store.OutcomeDeny, store.DecidedByUser)
	appendAt(t, a, now.Add(-2*time.Hour), "fs", 3, store.OutcomeAllow, store.DecidedByUser)
	appendAt(t, a, now.Add(-1*time.Minute), "gh", 1, store.OutcomeAllow, store.DecidedByGrant)
	appendAt(t, a, now.Add(-1*time.Minute), "gh", 3, store.OutcomeDeny, store.DecidedByTimeout)

	all, err := a.Log(LogFilter{})
	if err != nil || len(all) != 6 || all[0].Server != "gh" {
		t.Fatalf("Log = %d rows, %v", len(all), err)
	}
	three := 3
	got, _ := a.Log(LogFilter{Tier: &three, SinceHours: 24})
	if len(got) != 3 {
		t.Errorf("tier 3 in 24 h: %d rows, want 3", len(got))
	}
	got, _ = a.Log(LogFilter{Server: "fs", Limit: 1})
	if len(got) != 1 || got[0].Tier != 3 {
		t.Errorf("fs, limit 1: %+v", got)
	}
	anyTier := -1
	got, _ = a.Log(LogFilter{Tier: &anyTier, Outcome: "deny"})
	if len(got) != 2 {
		t.Errorf("denies: %d, want 2", len(got))
	}

	tl, err := a.Timeline(24)
	if err != nil {
		t.Fatal(err)
	}
	if tl.BucketMinutes != 30 {
		t.Errorf("bucket %d min, want 30", tl.BucketMinutes)
	}
	// 49 slots of 30 minutes: the first holds now-24h (12:07 yesterday), the last now.
	if want := time.Date(2026, 5, 3, 12, 0, 0, 0, time.UTC); !tl.Start.Equal(want) {
		t.Errorf("start %v, want %v", tl.Start, want)
	}
	counts := map[string]map[int]Bucket{}
	for _, s := range tl.Servers {
		if len(s.Buckets) != 49 {
			t.Errorf("%s: %d buckets", s.Server, len(s.Buckets))
		}
		counts[s.Server] = map[int]Bucket{}
		for i, b := range s.Buckets {
			if b != (Bucket{}) {
				counts[s.Server][i] = b
			}
		}
	}
	want := map[string]map[int]Bucket{
		"fs": {0: {Allow: 1}, 44: {Allow: 1, Deny: 1, Asked: 2}},
		"gh": {48: {Allow: 1, Deny: 1, Asked: 1}},
	}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("timeline (-want +got):\n%s", diff)
	}
	for h, m := range map[int]int{1: 1, 6: 10, 24: 30, 168: 180, 720: 720} {
		if got := bucketMinutes(h); got != m {
			t.Errorf("bucketMinutes(%d) = %d, want %d", h, got, m)
		}
	}
}

func TestExportAndVerify(t *testing.T) {
	a, _ := newTestApp(t)
	now := time.Now()
	appendAt(t, a, now, "fs", 0, store.OutcomeAllow, store.DecidedByPolicy)
	appendAt(t, a, now, "fs", 3, store.OutcomeDeny, store.DecidedByUser)
	sh := newFakeShell()
	a.shell = sh
	if p, err := a.ExportLog("csv", LogFilter{}); p != "" || err != nil {
		t.Errorf("cancelled export = %q, %v", p, err)
	}
	three := 3
	for _, format := range []string{"csv", "jsonl"} {
		sh.savePath = filepath.Join(t.TempDir(), "out."+format)
		p, err := a.ExportLog(format, LogFilter{Tier: &three})
		if err != nil || p != sh.savePath {
			t.Fatalf("ExportLog(%s) = %q, %v", format, p, err)
		}
		b, _ := os.ReadFile(p)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		want := 1
		if format == "csv" {
			want = 2 // the header
		}
		if len(lines) != want || !strings.Contains(lines[len(lines)-1], "deny") {
			t.Errorf("%s export:\n%s", format, b)
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
			t.Errorf("export mode %v", fi.Mode())
		}
	}
	if _, err := a.ExportLog("xml", LogFilter{}); err == nil {
		t.Error("xml export did not fail")
	}
	v, err := a.VerifyLog()
	if err != nil || !v.OK || v.Rows != 2 {
		t.Errorf("VerifyLog = %+v, %v", v, err)
	}
}

func TestServers(t *testing.T) {
	a, _ := newTestApp(t)
	os.WriteFile(a.paths.servers, []byte(`{"mcpServers":{
		"fs":{"command":"/bin/echo","args":["hi"]},
		"changed":{"command":"/bin/echo","args":["new"]},
		"remote":{"url":"https://mcp.example.com/mcp"}}}`), 0o600)
	os.WriteFile(a.paths.policy, []byte("[servers.remote]\ntrust = \"trusted\"\n[servers.only-policy]\ntrust = \"trusted\"\n"), 0o600)
	ps := pins.Open(a.paths.pins)
	for name, argv := range map[string][]string{"fs": {"/bin/echo", "hi"}, "changed": {"/bin/echo", "old"}, "demo": {"/x/airlock", "demo-server"}} {
		if _, err := ps.Set(launch.Resolve(launch.Command{Name: name, Argv: argv}, nil), "user"); err != nil {
			t.Fatal(err)
		}
	}
	got, err := a.Servers()
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Name, Kind               string
		Trusted, Pinned, Matches bool
		HasFP                    bool
	}
	var rows []row
	for _, s := range got {
		rows = append(rows, row{s.Name, s.Kind, s.Trusted, s.Pinned, s.PinMatches, s.Fingerprint != ""})
	}
	want := []row{
		{"changed", "stdio", false, true, false, true},
		{"demo", "stdio", false, true, true, true},
		{"fs", "stdio", false, true, true, true},
		{"only-policy", "stdio", true, false, false, false},
		{"remote", "http", true, false, false, false},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("Servers (-want +got):\n%s", diff)
	}
	if _, err := a.ServerTools("fs"); err == nil {
		t.Error("ServerTools without a lister did not fail")
	}
}

const commented = `# My policy.
[settings]
approval_timeout = "50s"   # the default
cli_approvals = false

# Servers I trust.
[servers.github]
trust = "untrusted" # for now

[[rules]]
tool = "delete_*"   # nothing is deleted
action = "deny"
reason = "never"
`

func TestSetTrustKeepsComments(t *testing.T) {
	a, _ := newTestApp(t)
	os.WriteFile(a.paths.policy, []byte(commented), 0o644)
	if err := a.SetTrust("github", true); err != nil {
		t.Fatal(err)
	}
	if err := a.SetTrust("my.server", true); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(a.paths.policy)
	want := strings.Replace(commented, `trust = "untrusted" # for now`, `trust = "trusted" # for now`, 1) +
		"\n[servers.\"my.server\"]\ntrust = \"trusted\"\n"
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("policy.toml (-want +got):\n%s", diff)
	}
	if fi, _ := os.Stat(a.paths.policy); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode())
	}
	if err := a.SetTrust("my.server", false); err != nil {
		t.Fatal(err)
	}
	srv, _ := a.Servers()
	for _, s := range srv {
		if s.Name == "my.server" || (s.Name == "github" && !s.Trusted) {
			t.Errorf("after SetTrust: %+v", s)
		}
	}
	// A broken file is never edited.
	os.WriteFile(a.paths.policy, []byte("[settings\n"), 0o600)
	if err := a.SetTrust("github", true); err == nil {
		t.Error("SetTrust edited a broken policy")
	}
}

func TestSettingsKeepComments(t *testing.T) {
	a, _ := newTestApp(t)
	st, err := a.Settings()
	want := Settings{ApprovalTimeoutSeconds: 50, NoBroker: "elicit"}
	if err != nil || st != want {
		t.Errorf("default Settings = %+v, %v", st, err)
	}
	os.WriteFile(a.paths.policy, []byte(commented), 0o600)
	want = Settings{ApprovalTimeoutSeconds: 30, CLIApprovals: true, NoBroker: "deny", RetentionDays: 90}
	if err := a.SaveSettings(want); err != nil {
		t.Fatal(err)
	}
	if st, err := a.Settings(); err != nil || st != want {
		t.Errorf("Settings = %+v, %v; want %+v", st, err, want)
	}
	b, _ := os.ReadFile(a.paths.policy)
	wantText := strings.NewReplacer(
		`approval_timeout = "50s"   # the default`, `approval_timeout = "30s"   # the default`,
		"cli_approvals = false\n", "cli_approvals = true\nno_broker = \"deny\"\nretention = \"90d\"\n",
	).Replace(commented)
	if diff := cmp.Diff(wantText, string(b)); diff != "" {
		t.Errorf("policy.toml (-want +got):\n%s", diff)
	}
	if err := a.SaveSettings(Settings{ApprovalTimeoutSeconds: 50, NoBroker: "elicit"}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(a.paths.policy); !strings.Contains(string(b), `retention = "forever"`) {
		t.Errorf("retention 0 not written as forever:\n%s", b)
	}
	for _, bad := range []Settings{{ApprovalTimeoutSeconds: 0, NoBroker: "deny"}, {ApprovalTimeoutSeconds: 5, NoBroker: "maybe"}, {ApprovalTimeoutSeconds: 5, NoBroker: "deny", RetentionDays: -1}} {
		if err := a.SaveSettings(bad); err == nil {
			t.Errorf("SaveSettings(%+v) did not fail", bad)
		}
	}
	// In a new file the settings get their own table.
	os.Remove(a.paths.policy)
	if err := a.SaveSettings(want); err != nil {
		t.Fatal(err)
	}
	if st, _ := a.Settings(); st != want {
		t.Errorf("Settings from a new file = %+v", st)
	}
}

func TestPolicyText(t *testing.T) {
	a, _ := newTestApp(t)
	if pf, err := a.PolicyText(); err != nil || pf.Text != "" || pf.Path != a.paths.policy {
		t.Errorf("PolicyText of a missing file = %+v, %v", pf, err)
	}
	bad := "[settings]\napproval_timeout = \"soon\"\n\n[[rules]]\naction = \"maybe\"\n"
	probs := a.CheckPolicy(bad)
	want := []Problem{
		{Line: 2, Message: `settings: invalid approval_timeout "soon" (want a positive duration such as "50s")`},
		{Line: 5, Message: `rule 1: unknown action "maybe" (want allow, ask, deny)`},
	}
	if diff := cmp.Diff(want, probs); diff != "" {
		t.Errorf("CheckPolicy (-want +got):\n%s", diff)
	}
	if probs, err := a.SavePolicy(bad); err != nil || len(probs) != 2 {
		t.Errorf("SavePolicy(bad) = %v, %v", probs, err)
	}
	if _, err := os.Stat(a.paths.policy); !os.IsNotExist(err) {
		t.Error("an invalid policy was written")
	}
	if probs, err := a.SavePolicy(commented); err != nil || len(probs) != 0 {
		t.Errorf("SavePolicy(good) = %v, %v", probs, err)
	}
	if pf, _ := a.PolicyText(); pf.Text != commented {
		t.Errorf("PolicyText = %q", pf.Text)
	}
	if p := a.CheckPolicy(commented); len(p) != 0 {
		t.Errorf("CheckPolicy(good) = %v", p)
	}
}

func TestSecrets(t *testing.T) {
	a, _ := newTestApp(t)
	if err := a.SetSecret("GITHUB_TOKEN", "s3cr3t-value-123"); err != nil {
		t.Fatal(err)
	}
	if err := a.SetSecret("bad name", "x"); err == nil {
		t.Error("invalid name accepted")
	}
	names, err := a.Secrets()
	if err != nil || !cmp.Equal(names, []string{"GITHUB_TOKEN"}) {
		t.Errorf("Secrets = %v, %v", names, err)
	}
	// The log now redacts the value.
	d := &store.Decision{Kind: store.KindToolCall, Server: "s", Tool: "t", Args: `{"q":"s3cr3t-value-123"}`,
		Outcome: store.OutcomeAllow, DecidedBy: store.DecidedByPolicy, Scope: store.ScopeOnce}
	if _, err := a.log.Append(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	rows, _ := a.Log(LogFilter{})
	if len(rows) != 1 || strings.Contains(rows[0].Args, "s3cr3t") {
		t.Errorf("logged args %q", rows[0].Args)
	}
	if err := a.DeleteSecret("GITHUB_TOKEN"); err != nil {
		t.Fatal(err)
	}
	if names, _ := a.Secrets(); len(names) != 0 {
		t.Errorf("after delete: %v", names)
	}
}

func TestNoWindowError(t *testing.T) {
	if windowBuilt {
		t.Skip("built with Wails' tags")
	}
	err := Run(context.Background(), os.DirFS(t.TempDir()), Options{})
	if err != ErrNoWindow || !strings.Contains(err.Error(), "wails build -tags webkit2_41") {
		t.Errorf("Run = %v", err)
	}
}

func TestSetKey(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty file", "", "[servers.a]\ntrust = \"trusted\"\n"},
		{"no newline at end", "[x]\ny = 1", "[x]\ny = 1\n\n[servers.a]\ntrust = \"trusted\"\n"},
		{"quoted header", "[servers.\"a\"] # hi\ntrust = 'untrusted'  # c\n", "[servers.\"a\"] # hi\ntrust = \"trusted\"  # c\n"},
		{"spaced header", "[ servers . a ]\n\n[other]\n", "[ servers . a ]\ntrust = \"trusted\"\n\n[other]\n"},
		{"after last key", "[servers.a]\nx = 1\n# trailing\n\n[b]\n", "[servers.a]\nx = 1\ntrust = \"trusted\"\n# trailing\n\n[b]\n"},
		{"hash in string", "[servers.a]\ntrust = \"un#trusted\" # c\n", "[servers.a]\ntrust = \"trusted\" # c\n"},
		{"other table same key", "[servers.b]\ntrust = \"untrusted\"\n", "[servers.b]\ntrust = \"untrusted\"\n\n[servers.a]\ntrust = \"trusted\"\n"},
		{"crlf", "[servers.a]\r\ntrust = \"untrusted\"\r\n", "[servers.a]\r\ntrust = \"trusted\"\r\n"},
		{"multiline string", "[r]\nx = \"\"\"\n[servers.a]\n\"\"\"\n", "[r]\nx = \"\"\"\n[servers.a]\n\"\"\"\n\n[servers.a]\ntrust = \"trusted\"\n"},
	} {
		got := setKey(tc.in, []string{"servers", "a"}, "trust", `"trusted"`)
		if got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}
