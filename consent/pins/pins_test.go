package pins

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/airlock-mcp/airlock/consent/launch"
)

func TestSetGetDiff(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pins.json")
	s := Open(path)
	token := "ghp_" + strings.Repeat("a", 36)
	cmd := launch.Command{Name: "gh", Argv: []string{"docker", "run", "-i", "ghcr.io/github/github-mcp-server:v1"},
		Env: map[string]string{"GITHUB_PERSONAL_ACCESS_TOKEN": token, "LOG_LEVEL": "info"}}
	if _, ok, err := s.Get("gh"); err != nil || ok {
		t.Fatalf("Get on an empty store = %v, %v", ok, err)
	}
	pin, err := s.Set(cmd, "user")
	if err != nil {
		t.Fatal(err)
	}
	if pin.Fingerprint != launch.Analyze(cmd).Fingerprint {
		t.Errorf("pinned fingerprint %s, want the analysis's", pin.Fingerprint)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), token) {
		t.Fatal("pins.json holds the secret value")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("pins.json mode %v, want 0600", fi.Mode().Perm())
	}
	got, ok, err := Open(path).Get("gh")
	if err != nil || !ok || got.Fingerprint != pin.Fingerprint {
		t.Fatalf("Get after reopen = %+v %v %v", got, ok, err)
	}

	// A rotated token changes nothing a person must look at; a changed image does.
	rotated := cmd
	rotated.Env = map[string]string{"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_" + strings.Repeat("b", 36), "LOG_LEVEL": "info"}
	if launch.Analyze(rotated).Fingerprint != pin.Fingerprint {
		t.Error("rotating a secret changed the fingerprint")
	}
	if d := launch.Diff(got.Command("gh", rotated), rotated); len(d) != 0 {
		t.Errorf("diff against a rotated secret = %v, want none", d)
	}
	changed := cmd
	changed.Argv = []string{"docker", "run", "-i", "ghcr.io/github/github-mcp-server:latest"}
	var kinds []launch.ChangeKind
	for _, c := range launch.Diff(got.Command("gh", changed), changed) {
		kinds = append(kinds, c.Kind)
	}
	if diff := cmp.Diff([]launch.ChangeKind{launch.ArgChanged}, kinds); diff != "" {
		t.Errorf("diff kinds (-want +got):\n%s", diff)
	}

	names, _, err := s.List()
	if err != nil || !cmp.Equal(names, []string{"gh"}) {
		t.Fatalf("List = %v %v", names, err)
	}
	if err := s.Remove("gh"); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove("gh"); err == nil {
		t.Error("removing a missing pin succeeded")
	}
}
