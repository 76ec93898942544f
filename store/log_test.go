package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)

func sampleDecision(i int) Decision {
	return Decision{
		Time:      t0.Add(time.Duration(i) * time.Second),
		Kind:      KindToolCall,
		Server:    "github",
		Client:    "cursor",
		Session:   "s1",
		Tool:      fmt.Sprintf("tool_%d", i%3),
		Tier:      i % 4,
		Args:      fmt.Sprintf(`{"n":%d,"path":"/tmp/f%d"}`, i, i),
		Outcome:   OutcomeAllow,
		DecidedBy: DecidedByPolicy,
		Channel:   ChannelPolicy,
		Scope:     ScopeOnce,
		Reason:    fmt.Sprintf("reason %d", i),
	}
}

func openTest(t testing.TB) (*Log, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub", "decisions.db")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, path
}

func appendN(t testing.TB, l *Log, n int) {
	t.Helper()
	for i := range n {
		d := sampleDecision(i)
		if _, err := l.Append(context.Background(), &d); err != nil {
			t.Fatal(err)
		}
	}
}

func verifyOK(t *testing.T, l *Log) VerifyReport {
	t.Helper()
	rep, err := l.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("Verify: %+v", rep)
	}
	return rep
}

func TestOpenFileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("unix file modes")
	}
	_, path := openTest(t)
	for _, c := range []struct {
		path string
		want os.FileMode
	}{
		{filepath.Dir(path), 0o700},
		{path, 0o600},
	} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != c.want {
			t.Errorf("mode of %s = %v, want %v", c.path, got, c.want)
		}
	}
}

func TestOpenMigrations(t *testing.T) {
	l, path := openTest(t)
	appendN(t, l, 2)
	l.Close()

	// Reopening keeps the data and the version.
	l2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var v int
	if err := l2.db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != len(migrations) {
		t.Errorf("user_version = %d, want %d", v, len(migrations))
	}
	var mode string
	if err := l2.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
	verifyOK(t, l2)
	// A database from a newer build is refused.
	if _, err := l2.db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	l2.Close()
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "version 99") {
		t.Errorf("Open of newer schema: err = %v, want version error", err)
	}
}

func TestAppendRoundTrip(t *testing.T) {
	l, _ := openTest(t)
	in := sampleDecision(7)
	in.Tier = TierNone
	in.Scope = ScopeNone
	id, err := l.Append(context.Background(), &in)
	if err != nil {
		t.Fatal(err)
	}
	if id != 1 || in.ID != 1 {
		t.Errorf("id = %d, d.ID = %d, want 1", id, in.ID)
	}
	got, err := l.Query(context.Background(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.ArgsHash = HashArgs(json.RawMessage(in.Args))
	if diff := cmp.Diff([]Decision{want}, got, cmpopts.IgnoreFields(Decision{}, "Hash", "PrevHash")); diff != "" {
		t.Errorf("Query (-want +got):\n%s", diff)
	}
	if got[0].PrevHash != "" || len(got[0].Hash) != 64 {
		t.Errorf("first row hashes = %q, %q", got[0].PrevHash, got[0].Hash)
	}
}

func TestAppendDefaultsTime(t *testing.T) {
	l, _ := openTest(t)
	before := time.Now()
	d := sampleDecision(0)
	d.Time = time.Time{}
	if _, err := l.Append(context.Background(), &d); err != nil {
		t.Fatal(err)
	}
	if d.Time.Before(before.Add(-time.Second)) || d.Time.Location() != time.UTC {
		t.Errorf("d.Time = %v, want about now in UTC", d.Time)
	}
}

func TestAppendRedacts(t *testing.T) {
	l, _ := openTest(t)
	l.SetRedactor(&Redactor{Known: []string{"hunter2-keyring-value"}})
	const gh = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
	args := `{"query":"use hunter2-keyring-value","headers":{"Authorization":"Basic xyz"},"list":["` + gh + `"]}`
	d := sampleDecision(0)
	d.Args = args
	d.Reason = "denied token " + gh
	if _, err := l.Append(context.Background(), &d); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := l.Export(context.Background(), &buf, FormatJSONL, Filter{}); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"hunter2-keyring-value", gh, "Basic xyz"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("log holds %q:\n%s", secret, buf.String())
		}
	}
	got, err := l.Query(context.Background(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if want := HashArgs(json.RawMessage(args)); got[0].ArgsHash != want {
		t.Errorf("ArgsHash = %s, want hash of the unredacted args %s", got[0].ArgsHash, want)
	}
	if d.Args != args {
		t.Errorf("Append modified the caller's Args")
	}
}

// Rows repeating a field reuse its redaction, but a secret added to the keyring is
// redacted from the next row on, even in a value the previous row stored as it was.
func TestAppendRedactsRepeatedFields(t *testing.T) {
	l, _ := openTest(t)
	l.SetRedactor(&Redactor{})
	const tool = "deploy_with_swordfish-key"
	for i := range 3 {
		d := sampleDecision(i)
		d.Tool, d.Reason = tool, "allowed: "+tool
		if _, err := l.Append(context.Background(), &d); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			l.SetRedactor(&Redactor{Known: []string{"swordfish-key"}})
		}
	}
	got, err := l.Query(context.Background(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d rows, want 3", len(got))
	}
	byID := map[int64]Decision{}
	for _, d := range got {
		byID[d.ID] = d
	}
	for id, want := range map[int64]string{1: tool, 2: tool, 3: "deploy_with_[REDACTED:keyring]"} {
		if d := byID[id]; d.Tool != want || d.Reason != "allowed: "+want {
			t.Errorf("row %d: tool %q, reason %q; want %q", id, d.Tool, d.Reason, want)
		}
	}
}

func TestAppendValidates(t *testing.T) {
	l, _ := openTest(t)
	tests := []struct {
		name string
		edit func(*Decision)
	}{
		{"kind", func(d *Decision) { d.Kind = "launch_all" }},
		{"outcome", func(d *Decision) { d.Outcome = "" }},
		{"decided by", func(d *Decision) { d.DecidedBy = "robot" }},
		{"channel", func(d *Decision) { d.Channel = "fax" }},
		{"scope", func(d *Decision) { d.Scope = "forever" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := sampleDecision(0)
			tt.edit(&d)
			if _, err := l.Append(context.Background(), &d); err == nil {
				t.Errorf("Append accepted %+v", d)
			}
		})
	}
	if got, _ := l.Query(context.Background(), Filter{}); len(got) != 0 {
		t.Errorf("invalid decisions were written: %d", len(got))
	}
	if _, err := l.Append(context.Background(), nil); err == nil {
		t.Error("Append(nil) succeeded")
	}
}

func TestAppendCanceledAndClosed(t *testing.T) {
	l, _ := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := sampleDecision(0)
	if _, err := l.Append(ctx, &d); !errors.Is(err, context.Canceled) {
		t.Errorf("Append with canceled ctx: err = %v, want context.Canceled", err)
	}
	l.Close()
	if _, err := l.Append(context.Background(), &d); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close: err = %v, want ErrClosed", err)
	}
	l2, err := Open(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if got, _ := l2.Query(context.Background(), Filter{}); len(got) != 0 {
		t.Errorf("canceled append was written: %+v", got)
	}
}

func TestAppendConcurrent(t *testing.T) {
	l, _ := openTest(t)
	const goroutines, each = 8, 150
	var wg sync.WaitGroup
	ids := make(chan int64, goroutines*each)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				d := sampleDecision(g*each + i)
				id, err := l.Append(context.Background(), &d)
				if err != nil {
					t.Error(err)
					return
				}
				ids <- id
			}
		}()
	}
	wg.Wait()
	close(ids)
	seen := map[int64]bool{}
	for id := range ids {
		if seen[id] {
			t.Errorf("id %d returned twice", id)
		}
		seen[id] = true
	}
	rep := verifyOK(t, l)
	if rep.Rows != goroutines*each || len(seen) != goroutines*each {
		t.Errorf("rows = %d, ids = %d, want %d", rep.Rows, len(seen), goroutines*each)
	}
	if !rep.Anchored {
		t.Errorf("Verify not anchored: %+v", rep)
	}
}

// runWriters re-executes the test binary as procs writer processes that
// each append rows decisions from goroutines goroutines to path, and waits.
func runWriters(t testing.TB, path string, procs, rows, goroutines int) {
	t.Helper()
	cmds := make([]*exec.Cmd, procs)
	outs := make([]bytes.Buffer, procs)
	for i := range procs {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(),
			envWriterDB+"="+path, envWriterName+"=proc"+strconv.Itoa(i),
			envWriterRows+"="+strconv.Itoa(rows), envWriterGo+"="+strconv.Itoa(goroutines))
		cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("writer %d: %v\n%s", i, err, outs[i].String())
		}
	}
}

// TestMultiProcess runs 4 writer processes against one file at once.
func TestMultiProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	_, path := openTest(t)
	const procs, rows = 4, 300
	start := time.Now()
	runWriters(t, path, procs, rows, 4)
	t.Logf("%d processes x %d rows in %v", procs, rows, time.Since(start))

	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rep := verifyOK(t, l)
	if rep.Rows != procs*rows || rep.LastID != procs*rows {
		t.Errorf("Verify = %+v, want %d rows", rep, procs*rows)
	}
	got := map[string]int{}
	all, err := l.Query(context.Background(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range all {
		got[d.Session]++
	}
	want := map[string]int{}
	for i := range procs {
		want["proc"+strconv.Itoa(i)] = rows
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows per process (-want +got):\n%s", diff)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	tests := []struct {
		name    string
		tamper  func(t *testing.T, db *sql.DB, path string)
		want    VerifyReport
		wantAny bool // compare only BadID and Problem
	}{
		{
			name:   "untouched",
			tamper: func(*testing.T, *sql.DB, string) {},
			want:   VerifyReport{OK: true, Rows: 5, FirstID: 1, LastID: 5, Anchored: true},
		},
		{
			name:   "edited reason",
			tamper: execSQL("UPDATE decisions SET reason = 'nothing to see' WHERE id = 3"),
			want:   VerifyReport{BadID: 3, Problem: ProblemEdited},
		},
		{
			name:   "edited time",
			tamper: execSQL("UPDATE decisions SET time_ns = time_ns + 1 WHERE id = 2"),
			want:   VerifyReport{BadID: 2, Problem: ProblemEdited},
		},
		{
			name: "edited and rehashed",
			tamper: func(t *testing.T, db *sql.DB, _ string) {
				var d Decision
				if err := scanDecision(db.QueryRow("SELECT "+columns+" FROM decisions WHERE id = 3"), &d); err != nil {
					t.Fatal(err)
				}
				d.Outcome = OutcomeDeny
				execSQL("UPDATE decisions SET outcome = 'deny', hash = ? WHERE id = 3", rowHash(d.PrevHash, &d))(t, db, "")
			},
			want: VerifyReport{BadID: 4, Problem: ProblemBrokenLink},
		},
		{
			name:   "deleted middle row",
			tamper: execSQL("DELETE FROM decisions WHERE id = 3"),
			want:   VerifyReport{BadID: 4, Problem: ProblemGap},
		},
		{
			name:   "deleted first rows",
			tamper: execSQL("DELETE FROM decisions WHERE id <= 2"),
			want:   VerifyReport{BadID: 3, Problem: ProblemGap},
		},
		{
			name:   "deleted newest rows",
			tamper: execSQL("DELETE FROM decisions WHERE id >= 4"),
			want:   VerifyReport{BadID: 5, Problem: ProblemTruncated},
		},
		{
			name: "deleted newest rows and anchor",
			tamper: func(t *testing.T, db *sql.DB, path string) {
				execSQL("DELETE FROM decisions WHERE id >= 4")(t, db, path)
				if err := os.Remove(anchorPath(path)); err != nil {
					t.Fatal(err)
				}
			},
			// Not detectable; Anchored tells the reader.
			want: VerifyReport{OK: true, Rows: 3, FirstID: 1, LastID: 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, path := openTest(t)
			appendN(t, l, 5)
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			tt.tamper(t, db, path)
			got, err := l.Verify(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !tt.want.OK {
				if got.Detail == "" || got.OK {
					t.Errorf("report %+v: want a failure with a detail", got)
				}
				got = VerifyReport{BadID: got.BadID, Problem: got.Problem}
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(VerifyReport{}, "Detail")); diff != "" {
				t.Errorf("Verify (-want +got):\n%s", diff)
			}
		})
	}
}

func execSQL(q string, args ...any) func(*testing.T, *sql.DB, string) {
	return func(t *testing.T, db *sql.DB, _ string) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPrune(t *testing.T) {
	l, _ := openTest(t)
	ctx := context.Background()
	appendN(t, l, 10) // times t0 .. t0+9s

	n, err := l.Prune(ctx, t0.Add(4500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Errorf("Prune deleted %d rows, want 5", n)
	}
	rep := verifyOK(t, l)
	if diff := cmp.Diff(VerifyReport{OK: true, Rows: 5, FirstID: 6, LastID: 10, CheckpointID: 5, Anchored: true}, rep); diff != "" {
		t.Errorf("Verify after prune (-want +got):\n%s", diff)
	}

	// Pruning again at the same cutoff is a no-op.
	if n, err := l.Prune(ctx, t0.Add(4500*time.Millisecond)); err != nil || n != 0 {
		t.Errorf("second Prune = %d, %v; want 0, nil", n, err)
	}

	// Prune everything, then keep appending from the checkpoint.
	if n, err := l.Prune(ctx, t0.Add(time.Hour)); err != nil || n != 5 {
		t.Errorf("Prune all = %d, %v; want 5, nil", n, err)
	}
	verifyOK(t, l)
	d := sampleDecision(0)
	id, err := l.Append(ctx, &d)
	if err != nil {
		t.Fatal(err)
	}
	if id != 11 {
		t.Errorf("id after prune = %d, want 11", id)
	}
	rep = verifyOK(t, l)
	if rep.FirstID != 11 || rep.CheckpointID != 10 || !rep.Anchored {
		t.Errorf("Verify = %+v", rep)
	}
}

func TestPruneStopsAtNewerRow(t *testing.T) {
	l, _ := openTest(t)
	ctx := context.Background()
	for _, sec := range []int{0, 1, 100, 2, 3} { // row 3 is newer than rows 4 and 5
		d := sampleDecision(sec)
		if _, err := l.Append(ctx, &d); err != nil {
			t.Fatal(err)
		}
	}
	n, err := l.Prune(ctx, t0.Add(50*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("Prune deleted %d rows, want 2 (a prefix only)", n)
	}
	verifyOK(t, l)
}

func TestQuery(t *testing.T) {
	l, _ := openTest(t)
	ctx := context.Background()
	appendN(t, l, 9)
	extra := sampleDecision(9)
	extra.Server, extra.Tool, extra.Kind, extra.Outcome = "fs", "delete_file", KindLaunch, OutcomeDeny
	extra.Reason = "100% sure_thing"
	if _, err := l.Append(ctx, &extra); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		f    Filter
		want []int64
	}{
		{"all newest first", Filter{}, []int64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}},
		{"limit", Filter{Limit: 3}, []int64{10, 9, 8}},
		{"page", Filter{Limit: 3, Before: 8}, []int64{7, 6, 5}},
		{"server", Filter{Server: "fs"}, []int64{10}},
		{"tool", Filter{Tool: "tool_1"}, []int64{8, 5, 2}},
		{"kind", Filter{Kind: KindLaunch}, []int64{10}},
		{"outcome", Filter{Outcome: OutcomeAllow, Limit: 1}, []int64{9}},
		{"since until", Filter{Since: t0.Add(2 * time.Second), Until: t0.Add(4 * time.Second)}, []int64{4, 3}},
		{"text in args", Filter{Text: "/tmp/f3"}, []int64{4}},
		{"text in reason case-insensitive", Filter{Text: "REASON 5"}, []int64{6}},
		{"text percent is literal", Filter{Text: "100%"}, []int64{10}},
		{"text underscore is literal", Filter{Text: "e_t"}, []int64{10}},
		{"text no match", Filter{Text: "zzz"}, nil},
		{"combined", Filter{Tool: "tool_0", Since: t0.Add(time.Second)}, []int64{7, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := l.Query(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, d := range got {
				ids = append(ids, d.ID)
			}
			if diff := cmp.Diff(tt.want, ids); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExport(t *testing.T) {
	l, _ := openTest(t)
	ctx := context.Background()
	appendN(t, l, 2)
	d := sampleDecision(2)
	d.Reason = "=HYPERLINK(\"x\")"
	if _, err := l.Append(ctx, &d); err != nil {
		t.Fatal(err)
	}
	want, err := l.Query(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("jsonl", func(t *testing.T) {
		var buf bytes.Buffer
		if err := l.Export(ctx, &buf, FormatJSONL, Filter{}); err != nil {
			t.Fatal(err)
		}
		var got []Decision
		dec := json.NewDecoder(&buf)
		for dec.More() {
			var d Decision
			if err := dec.Decode(&d); err != nil {
				t.Fatal(err)
			}
			got = append(got, d)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("jsonl (-want +got):\n%s", diff)
		}
	})
	t.Run("csv", func(t *testing.T) {
		var buf bytes.Buffer
		if err := l.Export(ctx, &buf, FormatCSV, Filter{Limit: 1}); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 2 {
			t.Fatalf("got %d records, want header + 1", len(recs))
		}
		if diff := cmp.Diff(csvHeader, recs[0]); diff != "" {
			t.Errorf("header (-want +got):\n%s", diff)
		}
		row := map[string]string{}
		for i, h := range recs[0] {
			row[h] = recs[1][i]
		}
		checks := map[string]string{"id": "3", "reason": `'=HYPERLINK("x")`, "tier": "2", "hash": want[0].Hash}
		for k, v := range checks {
			if row[k] != v {
				t.Errorf("csv %s = %q, want %q", k, row[k], v)
			}
		}
	})
	t.Run("unknown format", func(t *testing.T) {
		if err := l.Export(ctx, &bytes.Buffer{}, "xml", Filter{}); err == nil {
			t.Error("Export xml: want error")
		}
	})
}

func TestHashArgs(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"key order and space", `{"a":1,"b":{"y":2,"x":[1,2]}}`, ` { "b" : {"x":[1, 2],"y":2}, "a":1 } `, true},
		{"escapes", `{"s":"\u0041<"}`, `{"s":"A<"}`, true},
		{"different value", `{"a":1}`, `{"a":2}`, false},
		{"array order matters", `[1,2]`, `[2,1]`, false},
		{"invalid json hashed raw", `{"a":`, `{"a":`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ha, hb := HashArgs(json.RawMessage(tt.a)), HashArgs(json.RawMessage(tt.b))
			if (ha == hb) != tt.same || len(ha) != 64 {
				t.Errorf("HashArgs(%s) = %s, HashArgs(%s) = %s, want same=%v", tt.a, ha, tt.b, hb, tt.same)
			}
		})
	}
	if got := HashArgs(nil); got != "" {
		t.Errorf("HashArgs(nil) = %q, want empty", got)
	}
}

// BenchmarkAppend measures committed appends from parallel goroutines in one
// process (group commit).
func BenchmarkAppend(b *testing.B) {
	l, _ := openTest(b)
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		d := sampleDecision(1)
		for pb.Next() {
			c := d
			if _, err := l.Append(context.Background(), &c); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

// BenchmarkAppendMultiProcess measures total committed appends from 4
// writer processes with 8 goroutines each on one file, process start-up
// included (run with -benchtime 20000x or more).
func BenchmarkAppendMultiProcess(b *testing.B) {
	const procs = 4
	path := filepath.Join(b.TempDir(), "decisions.db")
	l, err := Open(path) // create the schema before the race
	if err != nil {
		b.Fatal(err)
	}
	l.Close()
	b.ResetTimer()
	runWriters(b, path, procs, max(b.N/procs, 1), 8)
	b.StopTimer()
	b.ReportMetric(float64(procs*max(b.N/procs, 1))/b.Elapsed().Seconds(), "decisions/s")
}

func TestAppendLaterCommittedByClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := 0; i < n; i++ {
		if err := l.AppendLater(&Decision{Kind: KindToolCall, Server: "s", Tool: "read", Tier: 0,
			Outcome: OutcomeAllow, DecidedBy: DecidedByPolicy, Channel: ChannelPolicy, Scope: ScopeOnce,
			Reason: fmt.Sprintf("row %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	// A row someone waits for is committed at once, not after the linger.
	if _, err := l.Append(context.Background(), &Decision{Kind: KindToolCall, Server: "s", Tool: "delete",
		Tier: 3, Outcome: OutcomeDeny, DecidedBy: DecidedByPolicy, Channel: ChannelPolicy, Scope: ScopeOnce, Reason: "deny"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.AppendLater(&Decision{Kind: KindToolCall, Tier: 0, Outcome: OutcomeAllow, DecidedBy: DecidedByPolicy, Scope: ScopeOnce}); !errors.Is(err, ErrClosed) {
		t.Fatalf("AppendLater after Close = %v, want ErrClosed", err)
	}
	l, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rows, err := l.Query(context.Background(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != n+1 {
		t.Fatalf("%d rows after Close, want %d", len(rows), n+1)
	}
	if rep, err := l.Verify(context.Background()); err != nil || !rep.OK {
		t.Fatalf("verify: %v %+v", err, rep)
	}
	if l.LaterFailures() != 0 {
		t.Fatalf("LaterFailures = %d", l.LaterFailures())
	}
}
