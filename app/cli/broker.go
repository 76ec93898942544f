package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/airlock-mcp/airlock/app/config"
	"github.com/airlock-mcp/airlock/consent/apitype"
	"github.com/airlock-mcp/airlock/consent/broker"
	"github.com/airlock-mcp/airlock/consent/client"
	"github.com/airlock-mcp/airlock/consent/localapi"
	"github.com/airlock-mcp/airlock/store"
)

// Version is Airlock's version, set at build time with -ldflags.
var Version = "dev"

func init() {
	register(&command{name: "daemon", usage: "daemon",
		summary: "Run the approval broker headless (the desktop app embeds the same broker).", run: runDaemon})
	register(&command{name: "pending", usage: "pending [--watch] [--json]",
		summary: "List the requests waiting for a decision; --watch follows new ones live.", run: runPending})
	register(&command{name: "approve", usage: "approve ID [--for once|session|always]",
		summary: "Allow a pending request: once (default), for this IDE session, or always.", run: runApprove})
	register(&command{name: "deny", usage: "deny ID [--reason TEXT]",
		summary: "Deny a pending request; the reason reaches the model.", run: runDeny})
	register(&command{name: "grants", usage: "grants [--json]",
		summary: "List standing grants (\"for this session\" and \"always\").", run: runGrants})
	register(&command{name: "revoke", usage: "revoke ID",
		summary: "Remove a standing grant.", run: runRevoke})
}

// paths are the files under the Airlock home.
type paths struct {
	home, socket, log, grants, policy, pins, toolPins string
}

func homePaths() (paths, error) {
	home, err := config.EnsureHome()
	if err != nil {
		return paths{}, err
	}
	return paths{
		home:     home,
		socket:   localapi.SocketPath(home),
		log:      filepath.Join(home, "decisions.db"),
		grants:   filepath.Join(home, "grants.json"),
		policy:   filepath.Join(home, "policy.toml"),
		pins:     filepath.Join(home, "pins.json"),
		toolPins: filepath.Join(home, "tool-pins.json"),
	}, nil
}

func brokerClient() (*client.Client, error) {
	p, err := homePaths()
	if err != nil {
		return nil, err
	}
	return &client.Client{Socket: p.socket}, nil
}

// startBroker opens the log and the broker with the user's settings.
func startBroker(p paths) (*broker.Broker, *store.Log, error) {
	st, err := loadSettings(p)
	if err != nil {
		return nil, nil, err
	}
	lg, err := openLog(p)
	if err != nil {
		return nil, nil, err
	}
	b, err := broker.New(broker.Options{
		Timeout:      st.ApprovalTimeout,
		CLIApprovals: st.CLIApprovals,
		Log:          lg,
		GrantsPath:   p.grants,
	})
	if err != nil {
		lg.Close()
		return nil, nil, err
	}
	return b, lg, nil
}

func runDaemon(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, commands["daemon"])
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	p, err := homePaths()
	if err != nil {
		return err
	}
	b, lg, err := startBroker(p)
	if err != nil {
		return err
	}
	defer lg.Close()
	ln, err := localapi.Listen(p.socket)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "airlock daemon: broker listening on %s\n", p.socket)
	go b.FollowPolicy(ctx, p.policy, logger(env.Stderr))
	if st, err := loadSettings(p); err == nil && st.Retention > 0 {
		go keepPruned(ctx, lg, st.Retention, logger(env.Stderr))
	}
	return localapi.Serve(ctx, ln, &localapi.Server{Broker: b, Host: "daemon", Version: Version})
}

// keepPruned removes decisions older than the retention setting, now and once a day.
func keepPruned(ctx context.Context, lg *store.Log, retention time.Duration, logf func(string, ...any)) {
	t := time.NewTicker(24 * time.Hour)
	defer t.Stop()
	for {
		n, err := lg.Prune(ctx, time.Now().Add(-retention))
		switch {
		case err != nil:
			logf("airlock daemon: pruning the decision log: %v", err)
		case n > 0:
			logf("airlock daemon: pruned %d decisions older than %s (retention setting)", n, retention)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func runPending(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, commands["pending"])
	watch := fs.Bool("watch", false, "keep running and print requests as they arrive")
	asJSON := fs.Bool("json", false, "print JSON (one event per line with --watch)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := brokerClient()
	if err != nil {
		return err
	}
	if !*watch {
		pend, err := c.Pending(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(env.Stdout, pend)
		}
		if len(pend) == 0 {
			fmt.Fprintln(env.Stdout, "nothing is waiting")
			return nil
		}
		for _, p := range pend {
			printPending(env.Stdout, p)
		}
		return nil
	}
	err = c.Watch(ctx, func(e apitype.Event) error {
		if *asJSON {
			b, _ := json.Marshal(e)
			_, err := fmt.Fprintf(env.Stdout, "%s\n", b)
			return err
		}
		switch e.Type {
		case "snapshot", "pending":
			for _, p := range e.Pending {
				printPending(env.Stdout, p)
			}
		case "decided":
			fmt.Fprintf(env.Stdout, "%s  %s: %s (%s)\n", e.Time.Local().Format("15:04:05"), e.ID, e.Decision.Outcome, e.Decision.Reason)
		case "withdrawn":
			fmt.Fprintf(env.Stdout, "%s  %s: withdrawn\n", e.Time.Local().Format("15:04:05"), e.ID)
		}
		return nil
	})
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func printPending(w io.Writer, p apitype.Pending) {
	r := p.Request
	left := time.Until(p.Deadline).Round(time.Second)
	switch r.Kind {
	case apitype.KindToolCall:
		fmt.Fprintf(w, "%s  tool call  %s › %s  tier %d  (%s left)\n", p.ID, r.Server, r.Tool, r.Tier, left)
		for _, reason := range r.Reasons {
			fmt.Fprintf(w, "    - %s\n", reason.Text)
		}
		switch {
		case r.Protected:
			fmt.Fprintf(w, "    ! names Airlock's own files or an IDE's MCP settings: no permission for the tool covers it\n")
		case r.Dangerous:
			fmt.Fprintf(w, "    ! the arguments are dangerous in themselves: a permission for the tool will not cover calls like this\n")
		}
		if len(r.Arguments) > 0 {
			fmt.Fprintf(w, "    arguments: %s\n", truncate(visible(string(r.Arguments)), 400))
		}
	case apitype.KindLaunch:
		fmt.Fprintf(w, "%s  launch     %s  (%s left)\n", p.ID, r.Server, left)
		if r.Launch != nil {
			fmt.Fprintf(w, "    command: %s\n", visible(strings.Join(quoteArgs(r.Launch.Argv), " ")))
			if r.Launch.Dir != "" {
				fmt.Fprintf(w, "    in: %s\n", visible(r.Launch.Dir))
			}
			for _, c := range r.Launch.Changes {
				fmt.Fprintf(w, "    changed: %s\n", visible(c))
			}
			for _, s := range r.Launch.Spans {
				fmt.Fprintf(w, "    ! %s: %q — %s\n", s.Category, s.Text, s.Why)
			}
		}
	default:
		fmt.Fprintf(w, "%s  %s  %s  %s  (%s left)\n", p.ID, r.Kind, r.Server, visible(r.URL), left)
	}
	fmt.Fprintf(w, "    decide: airlock approve %s [--for session|always]  |  airlock deny %s\n", p.ID, p.ID)
}

// visible shows control, bidi and invisible characters as escapes so text from servers
// and models cannot hide or reorder what a person reads in a terminal.
func visible(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, `\x%02x`, r)
		case r == 0x200b || r == 0x200c || r == 0x200d || r == 0x2060 || r == 0xfeff ||
			(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f ||
			(r >= 0xe0000 && r <= 0xe007f):
			fmt.Fprintf(&b, `\u{%04X}`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func quoteArgs(argv []string) []string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\"'$`\\|&;<>()*?[]{}~") {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		} else {
			out[i] = a
		}
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("… (%d bytes more)", len(s)-n)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func runApprove(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, commands["approve"])
	scope := fs.String("for", "once", "how long: once, session or always")
	if err := parseFlags(fs, reorder(args)); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want exactly one request ID (see `airlock pending`)")
	}
	c, err := brokerClient()
	if err != nil {
		return err
	}
	err = c.Decide(ctx, apitype.DecideRequest{ID: fs.Arg(0), Outcome: apitype.Allow, Scope: apitype.Scope(*scope), Channel: apitype.ChannelCLI})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "approved %s (%s)\n", fs.Arg(0), *scope)
	return nil
}

func runDeny(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, commands["deny"])
	reason := fs.String("reason", "", "why, in a sentence the model will read")
	if err := parseFlags(fs, reorder(args)); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want exactly one request ID (see `airlock pending`)")
	}
	c, err := brokerClient()
	if err != nil {
		return err
	}
	if err := c.Decide(ctx, apitype.DecideRequest{ID: fs.Arg(0), Outcome: apitype.Deny, Reason: *reason, Channel: apitype.ChannelCLI}); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "denied %s\n", fs.Arg(0))
	return nil
}

// reorder moves flags after a positional argument to the front, so both
// `approve ID --for always` and `approve --for always ID` work.
func reorder(args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") && a != "-" && a != "--" {
			flags = append(flags, a)
			if !strings.Contains(a, "=") && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, pos...)
}

func runGrants(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, commands["grants"])
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := brokerClient()
	if err != nil {
		return err
	}
	grants, err := c.Grants(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env.Stdout, grants)
	}
	if len(grants) == 0 {
		fmt.Fprintln(env.Stdout, "no standing grants")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tSERVER\tTOOL\tSCOPE\tEXPIRES")
	for _, g := range grants {
		exp := "-"
		if !g.Expires.IsZero() {
			exp = g.Expires.Local().Format("15:04:05")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", g.ID, g.Kind, g.Server, visible(g.Tool), g.Scope, exp)
	}
	return tw.Flush()
}

func runRevoke(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, commands["revoke"])
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want exactly one grant ID (see `airlock grants`)")
	}
	c, err := brokerClient()
	if err != nil {
		return err
	}
	if err := c.Revoke(ctx, fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "revoked %s\n", fs.Arg(0))
	return nil
}
