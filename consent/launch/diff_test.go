package launch_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/airlock-mcp/airlock/consent/launch"
)

func TestDiff(t *testing.T) {
	tests := []struct {
		name          string
		approved, now launch.Command
		want          []string
	}{
		{"same", base(), base(), nil},
		{"only the name", base(), with(func(c *launch.Command) { c.Name = "gh" }), nil},
		{"argument inserted", argv("npx", "-y", "srv@1.0.0", "/a"), argv("npx", "-y", "srv@1.0.0", "--write", "/a"),
			[]string{`argument 3 added: "--write"`}},
		{"argument removed", argv("npx", "-y", "srv@1.0.0", "--read-only", "/a"), argv("npx", "-y", "srv@1.0.0", "/a"),
			[]string{`argument 3 removed: "--read-only"`}},
		{"argument changed", argv("npx", "-y", "srv@1.0.0", "/a"), argv("npx", "-y", "srv@1.0.1", "/a"),
			[]string{`argument 2 changed: "srv@1.0.0" → "srv@1.0.1"`}},
		{"changed then added", argv("uvx", "a==1", "x"), argv("uvx", "b==2", "c", "x"),
			[]string{`argument 1 changed: "a==1" → "b==2"`, `argument 2 added: "c"`}},
		{"everything removed", argv("node", "a.js"), launch.Command{},
			[]string{`argument 0 removed: "node"`, `argument 1 removed: "a.js"`}},
		{"credential in argument", argv("srv", "--token", ghToken), argv("srv", "--token", "ghp_ZZZ456789abcdefghijABCDEFGHIJ0123456789"),
			[]string{`argument 2 changed: "••••••  (40 chars)" → "••••••  (43 chars)"`}},
		{"URL password in argument", argv("srv", "https://u:old@example.com"), argv("srv", "https://u:new@example.org"),
			[]string{`argument 1 changed: "https://u:••••••@example.com" → "https://u:••••••@example.org"`}},
		{"dir and executable", launch.Command{Argv: []string{"srv"}, Dir: "/a", Executable: "/usr/bin/srv"},
			launch.Command{Argv: []string{"srv"}, Dir: "/b", Executable: ""},
			[]string{`working directory changed: "/a" → "/b"`, `executable changed: "/usr/bin/srv" → (not found)`}},
		{"env", base(), with(func(c *launch.Command) {
			c.Env["GITHUB_PERSONAL_ACCESS_TOKEN"] = "ghp_ZZZ456789abcdefghijABCDEFGHIJ0123456789"
			c.Env["GITHUB_TOOLSETS"] = "all"
			c.Env["DATABASE_URL"] = "postgres://app:s3cret@evil.example.com/app"
			c.Env["HTTP_PROXY"] = "http://proxy.example.com:3128"
			c.Env["API_KEY"] = "abc123"
			delete(c.Env, "LOG_LEVEL")
		}), []string{
			`env API_KEY added: "••••••  (6 chars)"`,
			`env DATABASE_URL changed: "postgres://app:••••••@db.example.com/app" → "postgres://app:••••••@evil.example.com/app"`,
			`env GITHUB_PERSONAL_ACCESS_TOKEN changed: "••••••  (40 chars)" → "••••••  (43 chars)"`,
			`env GITHUB_TOOLSETS changed: "repos,issues" → "all"`,
			`env HTTP_PROXY added: "http://proxy.example.com:3128"`,
			`env LOG_LEVEL removed`,
		}},
		{"secret rotated, same length", base(), with(func(c *launch.Command) {
			c.Env["GITHUB_PERSONAL_ACCESS_TOKEN"] = "ghp_9876543210abcdefghijABCDEFGHIJ012345"
		}), []string{`env GITHUB_PERSONAL_ACCESS_TOKEN changed (secret)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, c := range launch.Diff(tt.approved, tt.now) {
				got = append(got, c.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiffFields(t *testing.T) {
	got := launch.Diff(argv("a", "b", "c"), argv("a", "c", "d"))
	want := []launch.Change{
		{Kind: launch.ArgRemoved, Index: 1, Old: "b"},
		{Kind: launch.ArgAdded, Index: 2, New: "d"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Diff (-want +got):\n%s", diff)
	}
}

func TestEnvDisplay(t *testing.T) {
	c := launch.Command{Env: map[string]string{
		"GITHUB_PERSONAL_ACCESS_TOKEN":   ghToken,
		"DATABASE_URL":                   "postgres://app:s3cret@db.example.com/app",
		"MY_VAR":                         slackToken,
		"OPENAI_API_KEY":                 "${input:openai_key}",
		"ANTHROPIC_API_KEY":              "",
		"KEYBOARD_LAYOUT":                "dvorak",
		"SSH_KEY_PATH":                   "/home/me/.ssh/id_ed25519",
		"PIN":                            "x",
		"DB_PASS":                        "é",
		"GOOGLE_APPLICATION_CREDENTIALS": "/Users/me/keys/sa.json",
	}}
	want := []launch.EnvVar{
		{Key: "ANTHROPIC_API_KEY", Display: ""},
		{Key: "DATABASE_URL", Display: "postgres://app:••••••@db.example.com/app", Secret: true},
		{Key: "DB_PASS", Display: "••••••  (1 char)", Secret: true},
		{Key: "GITHUB_PERSONAL_ACCESS_TOKEN", Display: "••••••  (40 chars)", Secret: true},
		{Key: "GOOGLE_APPLICATION_CREDENTIALS", Display: "/Users/me/keys/sa.json"},
		{Key: "KEYBOARD_LAYOUT", Display: "dvorak"},
		{Key: "MY_VAR", Display: "••••••  (43 chars)", Secret: true},
		{Key: "OPENAI_API_KEY", Display: "${input:openai_key}"},
		{Key: "PIN", Display: "x"},
		{Key: "SSH_KEY_PATH", Display: "/home/me/.ssh/id_ed25519"},
	}
	a := launch.Analyze(c)
	if diff := cmp.Diff(want, a.Env); diff != "" {
		t.Errorf("Analyze(…).Env (-want +got):\n%s", diff)
	}
	for _, s := range a.Spans {
		if s.Where.Field == launch.FieldEnv && s.Where.Key != "SSH_KEY_PATH" && s.Text[:len("••••••")] != "••••••" {
			t.Errorf("span %+v shows a secret", s)
		}
	}
}
