package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/airlock-mcp/airlock/store/secret"
)

func init() {
	register(&command{
		name:  "secret",
		usage: "secret set NAME  |  secret list  |  secret rm NAME",
		summary: `Keep credentials in the OS keyring and use them in servers.json as "${keyring:NAME}"
(in "env" values and "headers"). "set" reads the value from the terminal without echo, or
from standard input when it is not a terminal; never from the command line.`,
		run: runSecret,
	})
}

func secretStore() (*secret.Store, error) {
	p, err := homePaths()
	if err != nil {
		return nil, err
	}
	return secret.New(p.home)
}

func runSecret(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, commands["secret"])
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	args = fs.Args()
	if len(args) == 0 {
		return usagef("missing a subcommand: set, list or rm")
	}
	ss, err := secretStore()
	if err != nil {
		return err
	}
	switch args[0] {
	case "set":
		if len(args) != 2 {
			if len(args) > 2 {
				return usagef("the value is never taken from the command line (it would land in your shell history and in ps); run `airlock secret set %s` and type it, or pipe it in", args[1])
			}
			return usagef("want: secret set NAME")
		}
		if !secret.ValidName(args[1]) {
			return usagef("invalid name %q: use letters, digits, '.', '_' and '-' (at most 64)", args[1])
		}
		value, err := readSecret(env, args[1])
		if err != nil {
			return err
		}
		if value == "" {
			return errors.New("empty value: nothing stored")
		}
		if err := ss.Set(args[1], value); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "stored %s in the OS keyring; use it as \"${keyring:%s}\" in servers.json\n", args[1], args[1])
		return nil
	case "list", "ls":
		names, err := ss.List()
		if err != nil {
			return err
		}
		if len(names) == 0 {
			fmt.Fprintln(env.Stdout, "no secrets stored")
		}
		for _, n := range names {
			fmt.Fprintln(env.Stdout, n)
		}
		return nil
	case "rm", "delete":
		if len(args) != 2 {
			return usagef("want: secret rm NAME")
		}
		if err := ss.Delete(args[1]); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "removed %s\n", args[1])
		return nil
	}
	return usagef("unknown subcommand %q (want set, list or rm)", args[0])
}

// readSecret reads a value from the terminal without echo, or the whole of standard
// input (less one trailing newline) when it is not a terminal.
func readSecret(env *Env, name string) (string, error) {
	if f, ok := env.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(env.Stderr, "value for %s (not shown): ", name)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", fmt.Errorf("read value: %w", err)
		}
		return string(b), nil
	}
	b, err := io.ReadAll(bufio.NewReader(io.LimitReader(env.Stdin, 1<<20)))
	if err != nil {
		return "", fmt.Errorf("read value: %w", err)
	}
	return strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"), nil
}
