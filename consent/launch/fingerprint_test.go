package launch_test

import (
	"testing"

	"github.com/airlock-mcp/airlock/consent/launch"
)

func base() launch.Command {
	return launch.Command{
		Name:       "github",
		Argv:       []string{"docker", "run", "-i", "--rm", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN", "ghcr.io/github/github-mcp-server:v0.9.0"},
		Dir:        "/Users/me/work",
		Executable: "/usr/local/bin/docker",
		Env: map[string]string{
			"GITHUB_PERSONAL_ACCESS_TOKEN": ghToken,
			"GITHUB_TOOLSETS":              "repos,issues",
			"DATABASE_URL":                 "postgres://app:s3cret@db.example.com/app",
			"LOG_LEVEL":                    "info",
		},
	}
}

// with returns base() changed by f.
func with(f func(c *launch.Command)) launch.Command {
	c := base()
	f(&c)
	return c
}

func TestFingerprintGolden(t *testing.T) {
	// This value pins the encoding (checked once against an independent Python encoder): if it changes, every stored approval asks again, so
	// change it only together with fingerprintVersion.
	const want = "sha256:ae5edbdde193f495bfc8fd3b617eecf4bb1a882993d8a39f8cd17c6b992613d3"
	got := launch.Fingerprint(base())
	if got != want {
		t.Errorf("Fingerprint(base()) = %s, want %s", got, want)
	}
	if a := launch.Analyze(base()); a.Fingerprint != got {
		t.Errorf("Analyze(base()).Fingerprint = %s, want Fingerprint's %s", a.Fingerprint, got)
	}
}

func TestFingerprint(t *testing.T) {
	tests := []struct {
		name string
		c    launch.Command
		same bool // whether the fingerprint must equal base()'s
	}{
		{"identical", base(), true},
		{"rebuilt maps", with(func(c *launch.Command) {
			env := map[string]string{}
			for _, k := range []string{"LOG_LEVEL", "DATABASE_URL", "GITHUB_TOOLSETS", "GITHUB_PERSONAL_ACCESS_TOKEN"} {
				env[k] = c.Env[k]
			}
			c.Env = env
		}), true},
		{"name ignored", with(func(c *launch.Command) { c.Name = "renamed" }), true},
		{"token rotated", with(func(c *launch.Command) {
			c.Env["GITHUB_PERSONAL_ACCESS_TOKEN"] = "ghp_ZZZ456789abcdefghijABCDEFGHIJ0123456789"
		}), true},
		{"URL password rotated", with(func(c *launch.Command) { c.Env["DATABASE_URL"] = "postgres://app:n3w-pass@db.example.com/app" }), true},
		{"token-shaped value rotated", with(func(c *launch.Command) { c.Env["LOG_LEVEL"] = ghToken }), false},

		{"argument changed", with(func(c *launch.Command) { c.Argv[6] = "ghcr.io/github/github-mcp-server:v0.9.1" }), false},
		{"argument added", with(func(c *launch.Command) { c.Argv = append(c.Argv, "--read-only") }), false},
		{"arguments split", with(func(c *launch.Command) {
			c.Argv = append(c.Argv[:2:2], "-i --rm", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN", "ghcr.io/github/github-mcp-server:v0.9.0")
		}), false},
		{"dir changed", with(func(c *launch.Command) { c.Dir = "/Users/me" }), false},
		{"executable changed", with(func(c *launch.Command) { c.Executable = "/opt/homebrew/bin/docker" }), false},
		{"executable not found", with(func(c *launch.Command) { c.Executable = "" }), false},
		{"env value changed", with(func(c *launch.Command) { c.Env["GITHUB_TOOLSETS"] = "all" }), false},
		{"env key added", with(func(c *launch.Command) { c.Env["NODE_OPTIONS"] = "" }), false},
		{"env key removed", with(func(c *launch.Command) { delete(c.Env, "LOG_LEVEL") }), false},
		{"secret key renamed", with(func(c *launch.Command) {
			c.Env["GITHUB_TOKEN"] = c.Env["GITHUB_PERSONAL_ACCESS_TOKEN"]
			delete(c.Env, "GITHUB_PERSONAL_ACCESS_TOKEN")
		}), false},
		{"URL host changed", with(func(c *launch.Command) { c.Env["DATABASE_URL"] = "postgres://app:s3cret@evil.example.com/app" }), false},
		{"secret becomes plain", with(func(c *launch.Command) { c.Env["GITHUB_PERSONAL_ACCESS_TOKEN"] = "${GITHUB_TOKEN}" }), false},
	}
	want := launch.Fingerprint(base())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := launch.Fingerprint(tt.c)
			if got != launch.Fingerprint(tt.c) {
				t.Fatal("Fingerprint is not deterministic")
			}
			if (got == want) != tt.same {
				t.Errorf("Fingerprint same as base = %v, want %v", got == want, tt.same)
			}
		})
	}
}

func TestFingerprintArgBoundaries(t *testing.T) {
	a := launch.Fingerprint(argv("a b"))
	b := launch.Fingerprint(argv("a", "b"))
	c := launch.Fingerprint(launch.Command{Argv: []string{"a"}, Dir: "b"})
	if a == b || b == c || a == c {
		t.Errorf(`fingerprints of ["a b"], ["a" "b"] and ["a"] in b collide: %s %s %s`, a, b, c)
	}
}
