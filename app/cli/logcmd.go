package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/airlock-mcp/airlock/store/atomicfile"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/airlock-mcp/airlock/store"
)

func init() {
	register(&command{
		name: "log",
		usage: "log [--json] [--server S] [--tool T] [--decision allow|deny] [--kind K] [--since D|TIME] [--until D|TIME] [--search TEXT] [--limit N]\n" +
			"       airlock log verify [--json]\n" +
			"       airlock log export [--format jsonl|csv] [--output FILE] [filters]\n" +
			"       airlock log prune --older-than DURATION",
		summary: `Show the decision log, newest first; verify its hash chain, export it, or prune old rows.
--since and --until take a duration back from now (90m, 36h, 7d) or a time (RFC 3339 or 2006-01-02).`,
		run: runLog,
	})
}

// logKinds are the values --kind accepts.
var logKinds = []store.Kind{
	store.KindLaunch, store.KindToolCall, store.KindElicitation,
	store.KindOAuth, store.KindSecretUse, store.KindPinChange,
}

func runLog(ctx context.Context, env *Env, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "verify":
			return runLogVerify(ctx, env, args[1:])
		case "export":
			return runLogExport(ctx, env, args[1:])
		case "prune":
			return runLogPrune(ctx, env, args[1:])
		}
	}
	return runLogQuery(ctx, env, args)
}

// filterFlags registers the query filters on fs; build turns them into a Filter.
type filterFlags struct {
	server, tool, decision, kind, since, until, search *string
	limit                                              *int
}

func addFilterFlags(fs *flag.FlagSet, defaultLimit int) *filterFlags {
	return &filterFlags{
		server:   fs.String("server", "", "only decisions about this server"),
		tool:     fs.String("tool", "", "only decisions about this tool"),
		decision: fs.String("decision", "", "only this outcome: allow or deny"),
		kind:     fs.String("kind", "", "only this kind: launch, tool_call, elicitation, oauth, secret_use, pin_change"),
		since:    fs.String("since", "", "only decisions at or after this `time` (a duration back from now, such as 7d, or RFC 3339)"),
		until:    fs.String("until", "", "only decisions before this `time` (a duration back from now, or RFC 3339)"),
		search:   fs.String("search", "", "only decisions whose tool, server, reason or arguments contain this `text`"),
		limit:    fs.Int("limit", defaultLimit, "at most this many rows, newest first; 0 for all"),
	}
}

func (ff *filterFlags) build(now time.Time) (store.Filter, error) {
	f := store.Filter{Server: *ff.server, Tool: *ff.tool, Text: *ff.search, Limit: *ff.limit}
	switch d := store.Outcome(*ff.decision); d {
	case "", store.OutcomeAllow, store.OutcomeDeny:
		f.Outcome = d
	default:
		return f, usagef("unknown --decision %q (want allow or deny)", *ff.decision)
	}
	if *ff.kind != "" {
		for _, k := range logKinds {
			if string(k) == *ff.kind {
				f.Kind = k
			}
		}
		if f.Kind == "" {
			names := make([]string, len(logKinds))
			for i, k := range logKinds {
				names[i] = string(k)
			}
			return f, usagef("unknown --kind %q (want %s)", *ff.kind, strings.Join(names, ", "))
		}
	}
	if *ff.limit < 0 {
		return f, usagef("--limit must not be negative")
	}
	var err error
	if f.Since, err = parseWhen(*ff.since, now); err != nil {
		return f, usagef("--since: %v", err)
	}
	if f.Until, err = parseWhen(*ff.until, now); err != nil {
		return f, usagef("--until: %v", err)
	}
	return f, nil
}

// parseAge parses a Go duration that may also use a "d" (24 hour) unit: "90d", "1d12h",
// "1.5d", "36h".
func parseAge(s string) (time.Duration, error) {
	var days float64
	rest := s
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.ParseFloat(s[:i], 64)
		if err != nil || n < 0 || n > 1e5 {
			return 0, fmt.Errorf("invalid duration %q (want a number of days such as 90d, or 36h, 30m)", s)
		}
		days, rest = n, s[i+1:]
	}
	var d time.Duration
	if rest != "" {
		var err error
		if d, err = time.ParseDuration(rest); err != nil {
			return 0, fmt.Errorf("invalid duration %q (want 90d, 36h, 30m and the like)", s)
		}
	}
	return d + time.Duration(days*24*float64(time.Hour)), nil
}

// parseWhen reads a point in time: empty for none, a duration back from now, an RFC 3339
// time, or a local date.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04:05", s, time.Local); err == nil {
		return t, nil
	}
	d, err := parseAge(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a duration (7d, 36h) nor a time (RFC 3339 or 2006-01-02)", s)
	}
	return now.Add(-d), nil
}

// openLogRead opens the decision log for a command that only reads it. It returns nil
// and no error when the log does not exist yet, so reading never creates it.
func openLogRead() (*store.Log, string, error) {
	p, err := homePaths()
	if err != nil {
		return nil, "", err
	}
	if _, err := os.Stat(p.log); errors.Is(err, fs.ErrNotExist) {
		return nil, p.log, nil
	}
	lg, err := store.Open(p.log)
	if err != nil {
		return nil, p.log, err
	}
	return lg, p.log, nil
}

func runLogQuery(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, commands["log"])
	asJSON := fs.Bool("json", false, "print JSON Lines, one decision per line")
	ff := addFilterFlags(fs, 100)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (subcommands: verify, export, prune)", fs.Arg(0))
	}
	f, err := ff.build(time.Now())
	if err != nil {
		return err
	}
	lg, path, err := openLogRead()
	if err != nil {
		return err
	}
	if lg == nil {
		if !*asJSON {
			fmt.Fprintf(env.Stdout, "no decisions recorded yet (%s does not exist)\n", path)
		}
		return nil
	}
	defer lg.Close()
	if *asJSON {
		return lg.Export(ctx, env.Stdout, store.FormatJSONL, f)
	}
	ds, err := lg.Query(ctx, f)
	if err != nil {
		return err
	}
	if len(ds) == 0 {
		fmt.Fprintln(env.Stdout, "no matching decisions")
		return nil
	}
	if err := printDecisions(env.Stdout, ds); err != nil {
		return err
	}
	if f.Limit > 0 && len(ds) == f.Limit {
		fmt.Fprintf(env.Stderr, "(the newest %d; --limit 0 shows all)\n", f.Limit)
	}
	return nil
}

// printDecisions writes ds as a table. Every field that a server, a model or a person
// typed goes through visible and is cut to a readable width.
func printDecisions(w io.Writer, ds []store.Decision) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tKIND\tSERVER\tTOOL\tTIER\tOUTCOME\tBY\tSCOPE\tREASON")
	for _, d := range ds {
		tier := "-"
		if d.Tier != store.TierNone {
			tier = strconv.Itoa(d.Tier)
		}
		by := string(d.DecidedBy)
		if d.Channel != "" && d.Channel != store.ChannelNone && string(d.Channel) != by {
			by += "/" + string(d.Channel)
		}
		scope := string(d.Scope)
		if scope == "" {
			scope = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			d.Time.Local().Format("2006-01-02 15:04:05"), cut(string(d.Kind), 12), cut(d.Server, 24), cut(d.Tool, 32),
			tier, cut(string(d.Outcome), 8), cut(by, 24), cut(scope, 8), cut(d.Reason, 80))
	}
	return tw.Flush()
}

// cut shows s through visible and shortens it to at most n runes, ending in "…" when cut.
func cut(s string, n int) string {
	s = visible(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func runLogVerify(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, commands["log"])
	asJSON := fs.Bool("json", false, "print the verification report as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("log verify takes no arguments")
	}
	lg, path, err := openLogRead()
	if err != nil {
		return err
	}
	var rep store.VerifyReport
	if lg == nil {
		rep = store.VerifyReport{OK: true}
	} else {
		defer lg.Close()
		if rep, err = lg.Verify(ctx); err != nil {
			return err
		}
	}
	if *asJSON {
		if err := printJSON(env.Stdout, rep); err != nil {
			return err
		}
	} else {
		printVerify(env.Stdout, path, lg != nil, rep)
	}
	if !rep.OK {
		return &exitError{code: 1}
	}
	return nil
}

func printVerify(w io.Writer, path string, exists bool, rep store.VerifyReport) {
	switch {
	case !exists:
		fmt.Fprintf(w, "decision log OK: 0 rows (%s does not exist yet)\n", path)
		return
	case !rep.OK:
		where := "the log"
		if rep.BadID > 0 {
			where = fmt.Sprintf("row %d", rep.BadID)
		}
		fmt.Fprintf(w, "decision log FAILED verification at %s: %s (%s)\n", where, rep.Detail, problemWords(rep.Problem))
		fmt.Fprintf(w, "  %s; rows before it check out.\n", path)
		return
	}
	fmt.Fprintf(w, "decision log OK: %d rows", rep.Rows)
	if rep.Rows > 0 {
		fmt.Fprintf(w, " (ids %d to %d)", rep.FirstID, rep.LastID)
	}
	fmt.Fprintln(w)
	if rep.CheckpointID > 0 {
		fmt.Fprintf(w, "  rows up to %d were pruned; the chain is checked from there\n", rep.CheckpointID)
	}
	if rep.Rows > 0 && !rep.Anchored {
		fmt.Fprintf(w, "  note: the anchor file %s.head is missing, so deleted newest rows could not be detected\n", path)
	}
}

func problemWords(p store.Problem) string {
	switch p {
	case store.ProblemEdited:
		return "a row was edited"
	case store.ProblemBrokenLink:
		return "the hash chain is broken"
	case store.ProblemGap:
		return "rows are missing"
	case store.ProblemTruncated:
		return "the newest rows were removed or replaced"
	case store.ProblemAnchor:
		return "the anchor file is unreadable"
	}
	return string(p)
}

func runLogExport(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, commands["log"])
	format := fs.String("format", store.FormatJSONL, "jsonl or csv")
	output := fs.String("output", "", "write to this `file` (created 0600) instead of standard output")
	ff := addFilterFlags(fs, 0)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *format != store.FormatJSONL && *format != store.FormatCSV {
		return usagef("unknown --format %q (want jsonl or csv)", *format)
	}
	f, err := ff.build(time.Now())
	if err != nil {
		return err
	}
	lg, _, err := openLogRead()
	if err != nil {
		return err
	}
	if lg != nil {
		defer lg.Close()
	}
	export := func(w io.Writer) error {
		if lg != nil {
			return lg.Export(ctx, w, *format, f)
		}
		if *format == store.FormatCSV {
			// No log yet: the same header an empty export of an existing log has.
			_, err := io.WriteString(w, "id,time,kind,server,client,session,tool,tier,args,args_hash,outcome,decided_by,channel,scope,reason,prev_hash,hash\n")
			return err
		}
		return nil
	}
	if *output == "" || *output == "-" {
		return export(env.Stdout)
	}
	if err := writeFile0600(*output, export); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "wrote %s\n", *output)
	return nil
}

// writeFile0600 writes path through a temporary file in the same directory, created
// 0600, and renames it into place, so the file never exists with a wider mode or half
// written.
func writeFile0600(path string, write func(io.Writer) error) error {
	if err := atomicfile.WriteWith(path, write); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func runLogPrune(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, commands["log"])
	older := fs.String("older-than", "", "delete decisions older than this `duration` (90d, 720h)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *older == "" {
		return usagef("log prune needs --older-than (such as 90d)")
	}
	age, err := parseAge(*older)
	if err != nil {
		return usagef("--older-than: %v", err)
	}
	if age <= 0 {
		return usagef("--older-than must be more than zero")
	}
	cutoff := time.Now().Add(-age)
	lg, path, err := openLogRead()
	if err != nil {
		return err
	}
	if lg == nil {
		fmt.Fprintf(env.Stdout, "nothing to prune (%s does not exist)\n", path)
		return nil
	}
	defer lg.Close()
	n, err := lg.Prune(ctx, cutoff)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "pruned %d decisions older than %s\n", n, cutoff.Local().Format("2006-01-02 15:04:05"))
	return nil
}
