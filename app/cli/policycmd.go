package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/airlock-mcp/airlock/consent/policy"
	toml "github.com/pelletier/go-toml/v2"
)

func init() {
	register(&command{
		name:  "policy",
		usage: "policy check [FILE]  |  policy path",
		summary: `Check a policy file (default $AIRLOCK_HOME/policy.toml) and report what it holds,
or print where the policy file lives.`,
		run: runPolicy,
	})
}

func runPolicy(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, commands["policy"])
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("want a subcommand: check or path")
	}
	switch sub, rest := fs.Arg(0), fs.Args()[1:]; sub {
	case "path":
		if len(rest) > 0 {
			return usagef("policy path takes no arguments")
		}
		p, err := homePaths()
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, p.policy)
		return nil
	case "check":
		if len(rest) > 1 {
			return usagef("policy check takes at most one file")
		}
		path := ""
		if len(rest) == 1 {
			path = rest[0]
		} else {
			p, err := homePaths()
			if err != nil {
				return err
			}
			path = p.policy
		}
		return checkPolicy(env, path)
	default:
		return usagef("unknown subcommand %q (want check or path)", sub)
	}
}

func checkPolicy(env *Env, path string) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		fmt.Fprintf(env.Stdout, "policy OK: %s does not exist, so the defaults apply (no rules, no trusted servers, no pre-approved launches)\n", path)
		return nil
	}
	pol, err := policy.Load(path)
	if err != nil {
		// The error names the file and line of each problem, one per line.
		fmt.Fprintln(env.Stderr, err)
		return &exitError{code: 1}
	}
	trusted, launches, err := countPolicy(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "policy OK: %s, %s, %s\n",
		plural(len(pol.Rules()), "rule", "rules"),
		plural(trusted, "trusted server", "trusted servers"),
		plural(launches, "pre-approved launch", "pre-approved launches"))
	return nil
}

// countPolicy counts the trusted servers and [[launch]] entries of a policy file that
// policy.Load has accepted. The policy package keeps both unexported, so the file is read
// again here; a loose decode is enough since the strict one already passed.
func countPolicy(path string) (trusted, launches int, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, fmt.Errorf("read policy: %w", err)
	}
	var f struct {
		Servers map[string]struct {
			Trust string `toml:"trust"`
		} `toml:"servers"`
		Launch []struct{} `toml:"launch"`
	}
	if err := toml.Unmarshal(data, &f); err != nil {
		return 0, 0, fmt.Errorf("read policy %s: %w", path, err)
	}
	for _, s := range f.Servers {
		if s.Trust == "trusted" {
			trusted++
		}
	}
	return trusted, len(f.Launch), nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
