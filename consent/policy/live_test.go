package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLiveFollowsTheFile(t *testing.T) {
	old := CheckEvery
	CheckEvery = 0
	defer func() { CheckEvery = old }()

	path := filepath.Join(t.TempDir(), "policy.toml")
	write := func(text string, mod time.Time) {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(path, mod, mod) // a distinct stamp even on coarse clocks
	}
	base := time.Now().Add(-time.Hour)
	write("[settings]\ncli_approvals = true\n", base)
	p, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	l := NewLive(path, p)
	var changes int
	var errs []error
	l.OnChange = func(*Policy) { changes++ }
	l.OnError = func(err error) { errs = append(errs, err) }
	if !l.Current().Settings().CLIApprovals {
		t.Fatal("initial policy lost")
	}

	// A new deny rule applies to the next evaluation.
	write("[settings]\ncli_approvals = false\n\n[[rules]]\ntool = \"delete_*\"\naction = \"deny\"\n", base.Add(time.Minute))
	cur := l.Current()
	if cur.Settings().CLIApprovals || cur.Evaluate(Input{Server: "s", Tool: "delete_repo"}).Action != Deny || changes != 1 {
		t.Fatalf("after the edit: cli %v, action %q, changes %d", cur.Settings().CLIApprovals, cur.Evaluate(Input{Server: "s", Tool: "delete_repo"}).Action, changes)
	}

	// A broken file keeps the last good policy and is reported once.
	write("[[rules]]\ntool = \n", base.Add(2*time.Minute))
	for range 3 {
		if l.Current().Evaluate(Input{Server: "s", Tool: "delete_repo"}).Action != Deny {
			t.Fatal("a broken edit dropped the policy in force")
		}
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "policy.toml") {
		t.Fatalf("errors %v, want one naming the file", errs)
	}

	// Deleting the file is the default policy, as at start.
	os.Remove(path)
	if cur := l.Current(); cur.Evaluate(Input{Server: "s", Tool: "delete_repo"}).Action == Deny {
		t.Error("the deleted file's rules still apply")
	}
}
