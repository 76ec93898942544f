package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Run(args, &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
	return code, out.String(), errOut.String()
}

func TestRunUsage(t *testing.T) {
	home := t.TempDir()
	t.Setenv("AIRLOCK_HOME", home)
	wrapUsage := "usage: airlock wrap [--name NAME] [--] CMD"
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     []string // substrings
		stderr     []string // substrings
		noStdout   bool
		noStderr   bool
		skipReason string
	}{
		{name: "no arguments: help", args: nil, code: 0, stdout: []string{"usage: airlock [command]", "wrap", "run", "serve"}, noStderr: true},
		{name: "help", args: []string{"help"}, code: 0, stdout: []string{"usage: airlock [command]"}, noStderr: true},
		{name: "--help", args: []string{"--help"}, code: 0, stdout: []string{"usage: airlock [command]"}},
		{name: "help wrap", args: []string{"help", "wrap"}, code: 0, stdout: []string{wrapUsage, "airlock wrap -- CMD ARG"}},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, stderr: []string{`airlock: unknown command "frobnicate"`, "usage: airlock [command]"}, noStdout: true},
		{name: "wrap without a command", args: []string{"wrap"}, code: 2, stderr: []string{"airlock wrap: missing the command to run\n" + wrapUsage}, noStdout: true},
		{name: "wrap -- without a command", args: []string{"wrap", "--name", "x", "--"}, code: 2, stderr: []string{"missing the command to run"}},
		{name: "wrap --url and CMD", args: []string{"wrap", "--url", "https://h/mcp", "--", "npx", "srv"}, code: 2, stderr: []string{"airlock wrap: give either --url or a command, not both", wrapUsage}},
		{name: "wrap --header without --url", args: []string{"wrap", "--header", "K=V", "--", "srv"}, code: 2, stderr: []string{"--header only applies with --url"}},
		{name: "wrap bad URL", args: []string{"wrap", "--url", "ftp://h/x"}, code: 2, stderr: []string{`url "ftp://h/x" is not an http or https URL`}},
		{name: "wrap -h", args: []string{"wrap", "-h"}, code: 0, stderr: []string{wrapUsage, "-max-message-size"}},
		{name: "wrap unknown flag", args: []string{"wrap", "--bogus", "x"}, code: 2, stderr: []string{"flag provided but not defined: -bogus"},
			skipReason: "a flag parse error is not a usageError, so Run exits 1 instead of 2 (and prints the error twice)"},
		{name: "wrap bad header", args: []string{"wrap", "--url", "https://h", "--header", "novalue"}, code: 2, stderr: []string{`want K=V, got "novalue"`},
			skipReason: "a flag parse error is not a usageError, so Run exits 1 instead of 2"},
		{name: "run without a name", args: []string{"run"}, code: 2, stderr: []string{"airlock run: want exactly one server name", "usage: airlock run NAME"}},
		{name: "run two names", args: []string{"run", "a", "b"}, code: 2, stderr: []string{"want exactly one server name"}},
		{name: "run unknown server", args: []string{"run", "nope"}, code: 1, stderr: []string{`airlock run: no server "nope" in ` + filepath.Join(home, "servers.json") + " (known: none)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit status %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout %q, want it to contain %q", stdout, s)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr %q, want it to contain %q", stderr, s)
				}
			}
			if tt.noStdout && stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if tt.noStderr && stderr != "" {
				t.Errorf("stderr %q, want nothing", stderr)
			}
		})
	}
}

func TestRunKnownServers(t *testing.T) {
	home := t.TempDir()
	t.Setenv("AIRLOCK_HOME", home)
	if err := os.WriteFile(filepath.Join(home, "servers.json"), []byte(`{"mcpServers":{"b":{"command":"b"},"a":{"command":"a"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "run", "c")
	if code != 1 || !strings.Contains(stderr, "(known: a, b)") {
		t.Errorf("run c = %d, %q; want 1 listing the known servers", code, stderr)
	}
	if err := os.WriteFile(filepath.Join(home, "servers.json"), []byte(`{"mcpServers":{"a":{"comand":"a"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI(t, "run", "a")
	if code != 1 || !strings.Contains(stderr, `servers.json:1: unknown field "comand"`) {
		t.Errorf("run a with a bad file = %d, %q; want 1 naming the file and field", code, stderr)
	}
}

func TestSanitizeName(t *testing.T) {
	tests := map[string]string{
		"server-filesystem":     "server-filesystem",
		"my server":             "my_server",
		"python3.12":            "python3.12",
		".hidden":               "hidden",
		"--":                    "server",
		"":                      "server",
		"é":                     "server",
		"_x":                    "x",
		"a/b:c":                 "a_b_c",
		strings.Repeat("z", 80): strings.Repeat("z", 64),
	}
	for in, want := range tests {
		if got := sanitizeName(in); got != want {
			t.Errorf("sanitizeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHeaderFlag(t *testing.T) {
	h := headerFlag{}
	for _, v := range []string{"Authorization=Bearer a=b", "X-Key: v ", " Y = z"} {
		if err := h.Set(v); err != nil {
			t.Errorf("Set(%q) = %v", v, err)
		}
	}
	want := headerFlag{"Authorization": "Bearer a=b", "X-Key": "v", "Y": "z"}
	if len(h) != len(want) {
		t.Fatalf("headers = %v, want %v", h, want)
	}
	for k, v := range want {
		if h[k] != v {
			t.Errorf("header %q = %q, want %q", k, h[k], v)
		}
	}
	for _, v := range []string{"novalue", "=v", " :v"} {
		if err := h.Set(v); err == nil {
			t.Errorf("Set(%q) succeeded, want an error", v)
		}
	}
}
