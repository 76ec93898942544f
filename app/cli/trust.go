package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/airlock-mcp/airlock/app/config"
	"github.com/airlock-mcp/airlock/consent/launch"
	"github.com/airlock-mcp/airlock/consent/pins"
	"github.com/airlock-mcp/airlock/store"
)

func init() {
	register(&command{
		name:  "trust",
		usage: "trust [--name NAME] [--dir DIR] [--] CMD [ARG…]  |  trust NAME  |  trust --list  |  trust --forget NAME",
		summary: `Pre-approve a launch command, so the server starts without a dialog. With CMD, pins
that command for the server NAME (default: the command's base name), as "airlock wrap"
would run it; with only NAME, pins that server's entry in servers.json. The risky parts
are printed first.`,
		run: runTrust,
	})
}

func runTrust(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, commands["trust"])
	name := fs.String("name", "", "the server's name")
	dir := fs.String("dir", "", "the working directory the command runs in (default: inherited, as with airlock wrap)")
	list := fs.Bool("list", false, "list pinned commands")
	forget := fs.String("forget", "", "remove the pin of server `NAME`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	p, err := homePaths()
	if err != nil {
		return err
	}
	ps := pins.Open(p.pins)
	switch {
	case *list:
		names, all, err := ps.List()
		if err != nil {
			return err
		}
		if len(names) == 0 {
			fmt.Fprintln(env.Stdout, "no pinned commands")
		}
		for _, n := range names {
			pin := all[n]
			fmt.Fprintf(env.Stdout, "%s\t%s\t%s (%s, %s)\n", n, visible(strings.Join(quoteArgs(pin.Argv), " ")), pin.Fingerprint[:19], pin.By, pin.Approved.Local().Format("2006-01-02 15:04"))
		}
		return nil
	case *forget != "":
		if err := ps.Remove(*forget); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "forgot the approved command of %s; its next launch asks again\n", *forget)
		return nil
	}
	var cmd launch.Command
	switch argv := fs.Args(); {
	case len(argv) == 0:
		return usagef("missing the command to trust (or a server name from servers.json)")
	case len(argv) == 1 && *name == "" && config.ValidName(argv[0]):
		servers, err := config.LoadServers(config.ServersPath(p.home))
		if err != nil {
			return err
		}
		srv, ok := servers.MCPServers[argv[0]]
		if !ok {
			return fmt.Errorf("no server %q in %s; to trust a command, give it after --", argv[0], config.ServersPath(p.home))
		}
		if srv.Remote() {
			return fmt.Errorf("server %q is remote (%s): there is no command to trust", argv[0], srv.URL)
		}
		cmd = launch.Command{Name: argv[0], Argv: append([]string{srv.Command}, srv.Args...), Dir: srv.Cwd, Env: srv.Env}
	default:
		n := *name
		if n == "" {
			n = sanitizeName(filepath.Base(argv[0]))
		}
		cmd = launch.Command{Name: n, Argv: argv, Dir: *dir}
	}
	cmd = launch.Resolve(cmd, nil)
	a := launch.Analyze(cmd)
	fmt.Fprintf(env.Stdout, "server:  %s\ncommand: %s\n", cmd.Name, visible(strings.Join(quoteArgs(cmd.Argv), " ")))
	if cmd.Executable == "" {
		fmt.Fprintf(env.Stdout, "warning: %q is not found in PATH now\n", cmd.Argv[0])
	} else {
		fmt.Fprintf(env.Stdout, "runs:    %s\n", cmd.Executable)
	}
	for _, s := range a.Spans {
		fmt.Fprintf(env.Stdout, "  ! %s (%s): %q — %s\n", s.Category, s.Severity, s.Text, s.Why)
	}
	pin, err := ps.Set(cmd, "trust")
	if err != nil {
		return err
	}
	if lg, err := openLog(p); err == nil {
		lg.Append(ctx, &store.Decision{Kind: store.KindPinChange, Server: cmd.Name, Tier: store.TierNone,
			Args: strings.Join(cmd.Argv, " "), ArgsHash: pin.Fingerprint, Outcome: store.OutcomeAllow,
			DecidedBy: store.DecidedByUser, Channel: store.ChannelCLI, Scope: store.ScopeAlways,
			Reason: "pre-approved with airlock trust"})
		lg.Close()
	}
	fmt.Fprintf(env.Stdout, "pinned %s (%s)\n", cmd.Name, pin.Fingerprint)
	return nil
}
