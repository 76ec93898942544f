package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/airlock-mcp/airlock/app/config"
	"github.com/airlock-mcp/airlock/consent/launch"
	"github.com/airlock-mcp/airlock/store"
)

// buildFakeMCP builds testdata/fakemcp, a small MCP server (app/cli's TestMain belongs to
// the wrap tests, so this fake is a program of its own).
func buildFakeMCP(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "fakemcp")
	out, err := exec.Command("go", "build", "-o", bin, "./testdata/fakemcp").CombinedOutput()
	if err != nil {
		t.Fatalf("build fakemcp: %v\n%s", err, out)
	}
	return bin
}

// launchFingerprint is the fingerprint launch consent computes for srv.
func launchFingerprint(name string, srv config.Server) string {
	c := launch.Resolve(launch.Command{Name: name, Argv: append([]string{srv.Command}, srv.Args...), Dir: srv.Cwd, Env: srv.Env}, nil)
	return launch.Analyze(c).Fingerprint
}

func TestTools(t *testing.T) {
	bin := buildFakeMCP(t)
	home := t.TempDir()
	t.Setenv("AIRLOCK_HOME", home)
	servers := map[string]config.Server{
		"fake":     {Command: bin},
		"endless":  {Command: bin, Env: map[string]string{"FAKEMCP_MODE": "endless"}},
		"failing":  {Command: bin, Env: map[string]string{"FAKEMCP_MODE": "fail"}},
		"stranger": {Command: bin, Args: []string{"--unapproved"}},
	}
	data, _ := json.Marshal(config.Servers{MCPServers: servers})
	if err := os.WriteFile(filepath.Join(home, "servers.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	pol := "[[rules]]\ntool = \"drop_*\"\naction = \"deny\"\n\n[[rules]]\ntool = \"read_file\"\naction = \"allow\"\n"
	for _, name := range []string{"fake", "endless", "failing"} {
		pol += fmt.Sprintf("\n[[launch]]\nname = %q\nfingerprint = %q\n", name, launchFingerprint(name, servers[name]))
	}
	if err := os.WriteFile(filepath.Join(home, "policy.toml"), []byte(pol), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("table", func(t *testing.T) {
		code, out, errOut := runCLI(t, "tools", "fake")
		if code != 0 {
			t.Fatalf("exit %d, stderr %s", code, errOut)
		}
		for _, want := range []string{
			"server fake (fakemcp 1.2.3): 5 tools, 1 hidden by the policy\n",
			"\nread_file  tier 0 (safe read)  allowed by policy rule 2\n",
			"\ndelete_repo  tier 3 (destructive)  asks a person\n",
			"\ndrop_table  ",
			"denied by policy rule 1  [hidden from the agent]\n",
			`list\u{202E}items`,
			`    Lists\nitems.`,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if strings.ContainsRune(out, '\u202e') {
			t.Errorf("output carries a raw bidi override:\n%s", out)
		}
	})

	t.Run("json", func(t *testing.T) {
		code, out, errOut := runCLI(t, "tools", "--json", "fake")
		if code != 0 {
			t.Fatalf("exit %d, stderr %s", code, errOut)
		}
		var rep toolsReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		type row struct {
			Tier   int
			OnCall string
			Hidden bool
		}
		got := map[string]row{}
		for _, tr := range rep.Tools {
			got[tr.Name] = row{int(tr.Tier), tr.OnCall, tr.Hidden}
			if len(tr.Reasons) == 0 {
				t.Errorf("%s has no reasons", tr.Name)
			}
		}
		want := map[string]row{
			"read_file":       {0, "allow", false},
			"delete_repo":     {3, "ask", false},
			"send_email":      {got["send_email"].Tier, got["send_email"].OnCall, false},
			"drop_table":      {3, "deny", true},
			"list\u202eitems": {got["list\u202eitems"].Tier, got["list\u202eitems"].OnCall, false},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("tools (-want +got):\n%s", diff)
		}
		if tr := got["send_email"]; tr.Tier < 2 {
			t.Errorf("send_email got tier %d, want at least 2", tr.Tier)
		}
		if rep.ServerName != "fakemcp" || rep.Protocol != "2025-11-25" || rep.Truncated {
			t.Errorf("report header = %+v", rep)
		}
	})

	t.Run("endless pages", func(t *testing.T) {
		code, out, errOut := runCLI(t, "tools", "endless")
		if code != 0 || !strings.Contains(out, "stopped after 100 pages") {
			t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})

	t.Run("list error", func(t *testing.T) {
		code, _, errOut := runCLI(t, "tools", "failing")
		if code != 1 || !strings.Contains(errOut, "boom") {
			t.Errorf("exit %d, stderr %q; want 1 and the server's error", code, errOut)
		}
	})

	t.Run("launch not approved", func(t *testing.T) {
		code, _, errOut := runCLI(t, "tools", "stranger")
		if code != 1 || !strings.Contains(errOut, `did not start server "stranger"`) {
			t.Fatalf("exit %d, stderr %q; want the launch refused", code, errOut)
		}
		lg, err := store.Open(filepath.Join(home, "decisions.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer lg.Close()
		ds, err := lg.Query(context.Background(), store.Filter{Kind: store.KindLaunch, Server: "stranger"})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 1 || ds[0].Outcome != store.OutcomeDeny {
			t.Errorf("launch decisions for stranger = %+v, want one deny", ds)
		}
	})

	t.Run("unknown server", func(t *testing.T) {
		code, _, errOut := runCLI(t, "tools", "nope")
		if code != 1 || !strings.Contains(errOut, `no server "nope"`) || !strings.Contains(errOut, "known: endless, failing, fake, stranger") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})

	t.Run("usage", func(t *testing.T) {
		if code, _, _ := runCLI(t, "tools"); code != 2 {
			t.Errorf("tools without a name: exit %d, want 2", code)
		}
	})
}
