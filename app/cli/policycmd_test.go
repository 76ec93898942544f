package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPolicyCheck(t *testing.T) {
	home := t.TempDir()
	t.Setenv("AIRLOCK_HOME", home)
	good := `[settings]
approval_timeout = "30s"

[servers.github]
trust = "trusted"

[servers.fs]
trust = "untrusted"

[[rules]]
tool = "delete_*"
action = "deny"

[[rules]]
server = "github"
tier = 1

[[launch]]
name = "fs"
fingerprint = "sha256:abcd"
`
	bad := `[[rules]]
tool = "x"
action = "allow"

[[rules]]
tool = "y"
action = "maybe"
`
	write := func(name, text string) string {
		p := filepath.Join(home, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	goodPath := write("good.toml", good)
	badPath := write("bad.toml", bad)

	tests := []struct {
		name       string
		args       []string
		code       int
		out, err   string
		beforeFunc func()
	}{
		{name: "missing default", args: []string{"policy", "check"}, code: 0, out: "policy OK: " + filepath.Join(home, "policy.toml") + " does not exist"},
		{name: "good file", args: []string{"policy", "check", goodPath}, code: 0,
			out: "policy OK: 2 rules, 1 trusted server, 1 pre-approved launch\n"},
		{name: "bad file", args: []string{"policy", "check", badPath}, code: 1, err: badPath + ":7: rule 2: unknown action \"maybe\""},
		{name: "default path", args: []string{"policy", "check"}, code: 0, out: "policy OK: 2 rules, 1 trusted server, 1 pre-approved launch\n",
			beforeFunc: func() { write("policy.toml", good) }},
		{name: "path", args: []string{"policy", "path"}, code: 0, out: filepath.Join(home, "policy.toml") + "\n"},
		{name: "no subcommand", args: []string{"policy"}, code: 2, err: "usage: airlock policy"},
		{name: "unknown subcommand", args: []string{"policy", "lint"}, code: 2, err: `unknown subcommand "lint"`},
		{name: "two files", args: []string{"policy", "check", goodPath, badPath}, code: 2, err: "at most one file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.beforeFunc != nil {
				tt.beforeFunc()
			}
			code, out, errOut := runCLI(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stdout %q, stderr %q)", code, tt.code, out, errOut)
			}
			if !strings.Contains(out, tt.out) {
				t.Errorf("stdout %q, want it to contain %q", out, tt.out)
			}
			if !strings.Contains(errOut, tt.err) {
				t.Errorf("stderr %q, want it to contain %q", errOut, tt.err)
			}
		})
	}
}
