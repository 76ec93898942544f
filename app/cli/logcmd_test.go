package cli

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "modernc.org/sqlite" // the "sqlite" driver, to tamper with the log

	"github.com/airlock-mcp/airlock/store"
)

// seedLog sets a fresh AIRLOCK_HOME and writes four decisions, oldest first:
// 1 github/read_file (10 days ago), 2 github/delete_repo denied (2 hours ago),
// 3 a launch of fs (1 hour ago), 4 fs/write_file (1 minute ago).
func seedLog(t *testing.T) (home, db string) {
	t.Helper()
	home = t.TempDir()
	t.Setenv("AIRLOCK_HOME", home)
	db = filepath.Join(home, "decisions.db")
	lg, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rows := []store.Decision{
		{Time: now.Add(-10 * 24 * time.Hour), Kind: store.KindToolCall, Server: "github", Tool: "read_file", Tier: 0,
			Args: `{"path":"README.md"}`, Outcome: store.OutcomeAllow, DecidedBy: store.DecidedByPolicy,
			Channel: store.ChannelPolicy, Scope: store.ScopeOnce, Reason: "tier 0 calls pass without asking"},
		{Time: now.Add(-2 * time.Hour), Kind: store.KindToolCall, Server: "github", Tool: "delete_repo", Tier: 3,
			Args: `{"repo":"x"}`, Outcome: store.OutcomeDeny, DecidedBy: store.DecidedByUser, Channel: store.ChannelApp,
			Scope: store.ScopeOnce, Reason: "the user said no\u202e" + strings.Repeat(" and no", 30)},
		{Time: now.Add(-time.Hour), Kind: store.KindLaunch, Server: "fs", Tier: store.TierNone,
			Outcome: store.OutcomeAllow, DecidedBy: store.DecidedByGrant, Reason: "the command was approved"},
		{Time: now.Add(-time.Minute), Kind: store.KindToolCall, Server: "fs", Tool: "write_file", Tier: 2,
			Args: `{"path":"/tmp/x"}`, Outcome: store.OutcomeAllow, DecidedBy: store.DecidedByGrant,
			Channel: store.ChannelApp, Scope: store.ScopeSession, Reason: "allowed for this session"},
	}
	for i := range rows {
		if _, err := lg.Append(context.Background(), &rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := lg.Close(); err != nil {
		t.Fatal(err)
	}
	return home, db
}

// jsonlIDs decodes JSON Lines decisions and returns their ids in order.
func jsonlIDs(t *testing.T, out string) []int64 {
	t.Helper()
	ids := []int64{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var d store.Decision
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("bad JSON line %q: %v", sc.Text(), err)
		}
		ids = append(ids, d.ID)
	}
	return ids
}

func TestLogTable(t *testing.T) {
	seedLog(t)
	code, out, errOut := runCLI(t, "log")
	if code != 0 {
		t.Fatalf("log: exit %d, stderr %s", code, errOut)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("want a header and 4 rows, got:\n%s", out)
	}
	for _, h := range []string{"TIME", "KIND", "SERVER", "TOOL", "TIER", "OUTCOME", "BY", "SCOPE", "REASON"} {
		if !strings.Contains(lines[0], h) {
			t.Errorf("header %q lacks %s", lines[0], h)
		}
	}
	// Newest first.
	for i, want := range []string{"write_file", "launch", "delete_repo", "read_file"} {
		if !strings.Contains(lines[i+1], want) {
			t.Errorf("row %d = %q, want it to mention %s", i+1, lines[i+1], want)
		}
	}
	if !strings.Contains(lines[1], "grant/app") || !strings.Contains(lines[1], "session") {
		t.Errorf("row 1 = %q, want decided-by grant/app and scope session", lines[1])
	}
	if !strings.Contains(lines[2], " - ") {
		t.Errorf("launch row %q should show tier -", lines[2])
	}
	if strings.ContainsRune(out, '\u202e') || !strings.Contains(lines[3], `no\u{202E}`) {
		t.Errorf("the bidi override must be shown escaped: %q", lines[3])
	}
	if !strings.HasSuffix(lines[3], "…") || len([]rune(lines[3])) > 250 {
		t.Errorf("the long reason should be cut: %q", lines[3])
	}
	want := time.Now().Add(-time.Minute).Local().Format("2006-01-02 15:04")
	if !strings.HasPrefix(lines[1], want) {
		t.Errorf("row 1 = %q, want local time %s…", lines[1], want)
	}
}

func TestLogFilters(t *testing.T) {
	seedLog(t)
	tests := []struct {
		args []string
		want []int64
	}{
		{nil, []int64{4, 3, 2, 1}},
		{[]string{"--server", "github"}, []int64{2, 1}},
		{[]string{"--tool", "delete_repo"}, []int64{2}},
		{[]string{"--decision", "deny"}, []int64{2}},
		{[]string{"--decision", "allow", "--server", "fs"}, []int64{4, 3}},
		{[]string{"--kind", "launch"}, []int64{3}},
		{[]string{"--since", "1d"}, []int64{4, 3, 2}},
		{[]string{"--since", "90m"}, []int64{4, 3}},
		{[]string{"--until", "1d"}, []int64{1}},
		{[]string{"--since", time.Now().Add(-3 * time.Hour).Format(time.RFC3339), "--until", "30m"}, []int64{3, 2}},
		{[]string{"--search", "SAID NO"}, []int64{2}},
		{[]string{"--search", "/tmp/x"}, []int64{4}},
		{[]string{"--limit", "2"}, []int64{4, 3}},
		{[]string{"--server", "nope"}, []int64{}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := runCLI(t, append([]string{"log", "--json"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %s", code, errOut)
			}
			if diff := cmp.Diff(tt.want, jsonlIDs(t, out)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLogBadFlags(t *testing.T) {
	seedLog(t)
	for _, args := range [][]string{
		{"log", "--decision", "maybe"},
		{"log", "--kind", "nap"},
		{"log", "--since", "yesterday"},
		{"log", "--limit", "-1"},
		{"log", "stray"},
		{"log", "prune"},
		{"log", "prune", "--older-than", "soon"},
		{"log", "export", "--format", "xml"},
	} {
		if code, _, errOut := runCLI(t, args...); code != 2 || !strings.Contains(errOut, "usage: airlock log") {
			t.Errorf("%q: exit %d, stderr %q; want 2 and the usage", args, code, errOut)
		}
	}
}

func TestLogNoLogYet(t *testing.T) {
	home := t.TempDir()
	t.Setenv("AIRLOCK_HOME", home)
	for _, args := range [][]string{{"log"}, {"log", "--json"}, {"log", "verify"}, {"log", "export"}, {"log", "prune", "--older-than", "1d"}} {
		if code, _, errOut := runCLI(t, args...); code != 0 {
			t.Errorf("%q: exit %d, stderr %s", args, code, errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(home, "decisions.db")); !os.IsNotExist(err) {
		t.Errorf("reading the log created it (stat: %v)", err)
	}
}

func TestLogVerifyAndTamper(t *testing.T) {
	_, dbPath := seedLog(t)
	code, out, errOut := runCLI(t, "log", "verify")
	if code != 0 || !strings.Contains(out, "decision log OK: 4 rows") {
		t.Fatalf("verify: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE decisions SET reason = 'nothing to see' WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	code, out, _ = runCLI(t, "log", "verify")
	if code != 1 || !strings.Contains(out, "row 2") || !strings.Contains(out, "edited") {
		t.Errorf("verify after tampering: exit %d, stdout %q; want 1 naming row 2 as edited", code, out)
	}
	code, out, _ = runCLI(t, "log", "verify", "--json")
	var rep store.VerifyReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("verify --json: %v\n%s", err, out)
	}
	if code != 1 || rep.OK || rep.BadID != 2 || rep.Problem != store.ProblemEdited {
		t.Errorf("verify --json: exit %d, %+v", code, rep)
	}
}

func TestLogExport(t *testing.T) {
	home, _ := seedLog(t)

	code, out, errOut := runCLI(t, "log", "export", "--format", "csv", "--server", "github")
	if code != 0 {
		t.Fatalf("export csv: exit %d, stderr %s", code, errOut)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[0][0] != "id" || recs[1][0] != "2" || recs[2][0] != "1" {
		t.Errorf("csv export = %q, want a header and rows 2, 1", recs)
	}

	file := filepath.Join(home, "out", "log.jsonl")
	os.Mkdir(filepath.Dir(file), 0o755)
	code, _, errOut = runCLI(t, "log", "export", "--output", file, "--format", "jsonl")
	if code != 0 {
		t.Fatalf("export jsonl: exit %d, stderr %s", code, errOut)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("export file mode %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(file)
	if diff := cmp.Diff([]int64{4, 3, 2, 1}, jsonlIDs(t, string(data))); diff != "" {
		t.Errorf("jsonl export ids (-want +got):\n%s", diff)
	}
	ents, _ := os.ReadDir(filepath.Dir(file))
	if len(ents) != 1 {
		t.Errorf("export left other files behind: %v", ents)
	}
}

func TestLogPrune(t *testing.T) {
	seedLog(t)
	code, out, errOut := runCLI(t, "log", "prune", "--older-than", "5d")
	if code != 0 || !strings.Contains(out, "pruned 1 decisions") {
		t.Fatalf("prune: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	_, out, _ = runCLI(t, "log", "--json")
	if diff := cmp.Diff([]int64{4, 3, 2}, jsonlIDs(t, out)); diff != "" {
		t.Errorf("after prune (-want +got):\n%s", diff)
	}
	code, out, _ = runCLI(t, "log", "verify")
	if code != 0 || !strings.Contains(out, "OK: 3 rows") || !strings.Contains(out, "rows up to 1 were pruned") {
		t.Errorf("verify after prune: exit %d, %q", code, out)
	}
}

func TestParseAge(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90d", 90 * 24 * time.Hour, true},
		{"1d12h", 36 * time.Hour, true},
		{"1.5d", 36 * time.Hour, true},
		{"36h", 36 * time.Hour, true},
		{"30m", 30 * time.Minute, true},
		{"d", 0, false},
		{"-1d", 0, false},
		{"7days", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, err := parseAge(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseAge(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
