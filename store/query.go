package store

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Filter selects decisions. Zero fields match everything.
type Filter struct {
	Server  string
	Tool    string
	Kind    Kind
	Outcome Outcome
	Since   time.Time // inclusive
	Until   time.Time // exclusive
	Text    string    // case-insensitive (ASCII) substring of tool, server, reason or args
	Limit   int       // at most this many rows; 0 means no limit
	Before  int64     // only rows with id < Before, for paging; 0 means no bound
}

const columns = `id, time_ns, kind, server, client, session, tool, tier, args, args_hash,
	outcome, decided_by, channel, scope, reason, prev_hash, hash`

type scanner interface{ Scan(...any) error }

func scanDecision(s scanner, d *Decision) error {
	var ns int64
	var kind, outcome, by, channel, scope string
	if err := s.Scan(&d.ID, &ns, &kind, &d.Server, &d.Client, &d.Session, &d.Tool, &d.Tier,
		&d.Args, &d.ArgsHash, &outcome, &by, &channel, &scope, &d.Reason, &d.PrevHash, &d.Hash); err != nil {
		return fmt.Errorf("scan decision: %w", err)
	}
	d.Time = time.Unix(0, ns).UTC()
	d.Kind, d.Outcome, d.DecidedBy = Kind(kind), Outcome(outcome), DecidedBy(by)
	d.Channel, d.Scope = Channel(channel), Scope(scope)
	return nil
}

func (f Filter) sql() (string, []any) {
	var where []string
	var args []any
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	if f.Server != "" {
		add("server = ?", f.Server)
	}
	if f.Tool != "" {
		add("tool = ?", f.Tool)
	}
	if f.Kind != "" {
		add("kind = ?", string(f.Kind))
	}
	if f.Outcome != "" {
		add("outcome = ?", string(f.Outcome))
	}
	if !f.Since.IsZero() {
		add("time_ns >= ?", f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		add("time_ns < ?", f.Until.UnixNano())
	}
	if f.Before > 0 {
		add("id < ?", f.Before)
	}
	if f.Text != "" {
		pat := "%" + likeEscaper.Replace(f.Text) + "%"
		add(`(tool LIKE ? ESCAPE '\' OR server LIKE ? ESCAPE '\' OR reason LIKE ? ESCAPE '\' OR args LIKE ? ESCAPE '\')`,
			pat, pat, pat, pat)
	}
	q := "SELECT " + columns + " FROM decisions"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC"
	if f.Limit > 0 {
		q += " LIMIT " + strconv.Itoa(f.Limit)
	}
	return q, args
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// each calls fn for every decision matching f, newest first.
func (l *Log) each(ctx context.Context, f Filter, fn func(*Decision) error) error {
	q, args := f.sql()
	rows, err := l.db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var d Decision
		if err := scanDecision(rows, &d); err != nil {
			return err
		}
		if err := fn(&d); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Query returns the decisions matching f, newest first. To page, pass the
// smallest ID of one page as Before of the next.
func (l *Log) Query(ctx context.Context, f Filter) ([]Decision, error) {
	var out []Decision
	err := l.each(ctx, f, func(d *Decision) error {
		out = append(out, *d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("query decisions: %w", err)
	}
	return out, nil
}

// Export formats.
const (
	FormatJSONL = "jsonl"
	FormatCSV   = "csv"
)

// csvHeader is the first record of a CSV export.
var csvHeader = []string{
	"id", "time", "kind", "server", "client", "session", "tool", "tier", "args", "args_hash",
	"outcome", "decided_by", "channel", "scope", "reason", "prev_hash", "hash",
}

// Export writes the decisions matching f to w, newest first, as JSON Lines
// (one Decision object per line) or CSV with a header row. Rows are streamed,
// not collected. In CSV, text cells that a spreadsheet would run as a formula
// (starting with = + - @ tab or CR) are prefixed with a single quote.
func (l *Log) Export(ctx context.Context, w io.Writer, format string, f Filter) error {
	var fn func(*Decision) error
	var flush func() error
	switch format {
	case FormatJSONL:
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		fn = func(d *Decision) error { return enc.Encode(d) }
		flush = func() error { return nil }
	case FormatCSV:
		cw := csv.NewWriter(w)
		if err := cw.Write(csvHeader); err != nil {
			return fmt.Errorf("export decisions: %w", err)
		}
		fn = func(d *Decision) error {
			return cw.Write([]string{
				strconv.FormatInt(d.ID, 10), d.Time.Format(time.RFC3339Nano), cell(string(d.Kind)),
				cell(d.Server), cell(d.Client), cell(d.Session), cell(d.Tool), strconv.Itoa(d.Tier),
				cell(d.Args), d.ArgsHash, cell(string(d.Outcome)), cell(string(d.DecidedBy)),
				cell(string(d.Channel)), cell(string(d.Scope)), cell(d.Reason), d.PrevHash, d.Hash,
			})
		}
		flush = func() error { cw.Flush(); return cw.Error() }
	default:
		return fmt.Errorf("export decisions: unknown format %q (want %q or %q)", format, FormatJSONL, FormatCSV)
	}
	if err := l.each(ctx, f, fn); err != nil {
		return fmt.Errorf("export decisions: %w", err)
	}
	if err := flush(); err != nil {
		return fmt.Errorf("export decisions: %w", err)
	}
	return nil
}

// cell defuses spreadsheet formula injection in a CSV text cell.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
