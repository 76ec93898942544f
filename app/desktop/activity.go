package desktop

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/airlock-mcp/airlock/store"
)

// LogFilter selects decisions for Activity. Empty fields match everything.
type LogFilter struct {
	Server  string `json:"server"`
	Tool    string `json:"tool"`
	Kind    string `json:"kind"`
	Outcome string `json:"outcome"`
	// Tier selects one tier; -1 or absent means any.
	Tier       *int   `json:"tier"`
	Text       string `json:"text"`
	SinceHours int    `json:"sinceHours"` // 0 means all time
	Limit      int    `json:"limit"`      // 0 means defaultLogLimit
}

const (
	defaultLogLimit = 500
	maxLogLimit     = 10000
	logPage         = 1000
)

func (f LogFilter) store(now time.Time) store.Filter {
	sf := store.Filter{Server: f.Server, Tool: f.Tool, Kind: store.Kind(f.Kind), Outcome: store.Outcome(f.Outcome), Text: f.Text}
	if f.SinceHours > 0 {
		sf.Since = now.Add(-time.Duration(f.SinceHours) * time.Hour)
	}
	return sf
}

func (f LogFilter) tier() (int, bool) {
	if f.Tier == nil || *f.Tier < 0 {
		return 0, false
	}
	return *f.Tier, true
}

// eachDecision calls fn with every decision matching f, newest first, a page at a time,
// until fn returns false.
func (a *App) eachDecision(ctx context.Context, f store.Filter, fn func(store.Decision) bool) error {
	f.Limit = logPage
	for {
		rows, err := a.log.Query(ctx, f)
		if err != nil {
			return err
		}
		for _, d := range rows {
			if !fn(d) {
				return nil
			}
		}
		if len(rows) < logPage {
			return nil
		}
		f.Before = rows[len(rows)-1].ID
	}
}

// Log returns the decisions matching filter, newest first.
func (a *App) Log(filter LogFilter) ([]store.Decision, error) {
	ctx, cancel := a.call()
	defer cancel()
	limit := filter.Limit
	if limit <= 0 {
		limit = defaultLogLimit
	}
	limit = min(limit, maxLogLimit)
	tier, byTier := filter.tier()
	out := []store.Decision{}
	err := a.eachDecision(ctx, filter.store(a.now()), func(d store.Decision) bool {
		if !byTier || d.Tier == tier {
			out = append(out, d)
		}
		return len(out) < limit
	})
	return out, err
}

// VerifyResult is what VerifyLog found.
type VerifyResult struct {
	OK      bool   `json:"ok"`
	Rows    int64  `json:"rows"`
	BadID   int64  `json:"badId"`
	Problem string `json:"problem"`
	Detail  string `json:"detail"`
}

// VerifyLog checks the log's hash chain.
func (a *App) VerifyLog() (VerifyResult, error) {
	rep, err := a.log.Verify(a.ctx)
	if err != nil {
		return VerifyResult{}, err
	}
	return VerifyResult{OK: rep.OK, Rows: rep.Rows, BadID: rep.BadID, Problem: string(rep.Problem), Detail: rep.Detail}, nil
}

// ExportLog asks where to save, then writes the decisions matching filter there as
// "jsonl" or "csv". It returns the path, or "" when the person cancelled.
func (a *App) ExportLog(format string, filter LogFilter) (string, error) {
	if format != store.FormatJSONL && format != store.FormatCSV {
		return "", fmt.Errorf("export: unknown format %q (want jsonl or csv)", format)
	}
	name := fmt.Sprintf("airlock-decisions-%s.%s", a.now().Format("20060102-1504"), format)
	path, err := a.ui().SaveFile("Export decisions", name, "*."+format)
	if err != nil || path == "" {
		return "", err
	}
	return path, a.exportTo(path, format, filter)
}

func (a *App) exportTo(path, format string, filter LogFilter) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	werr := a.export(a.ctx, f, format, filter)
	cerr := f.Close()
	if werr != nil {
		os.Remove(path)
		return werr
	}
	return cerr
}

// export writes the matching decisions to w. The store has no tier filter, so with one
// its output is filtered here, row by row, keeping its exact format.
func (a *App) export(ctx context.Context, w io.Writer, format string, filter LogFilter) error {
	sf := filter.store(a.now())
	tier, byTier := filter.tier()
	if !byTier {
		return a.log.Export(ctx, w, format, sf)
	}
	var buf bytes.Buffer
	if err := a.log.Export(ctx, &buf, format, sf); err != nil {
		return err
	}
	want := strconv.Itoa(tier)
	if format == store.FormatJSONL {
		dec := json.NewDecoder(&buf)
		for {
			var raw json.RawMessage
			if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return err
			}
			var d struct{ Tier int }
			json.Unmarshal(raw, &d)
			if d.Tier == tier {
				if _, err := fmt.Fprintf(w, "%s\n", raw); err != nil {
					return err
				}
			}
		}
	}
	r := csv.NewReader(&buf)
	cw := csv.NewWriter(w)
	col := -1
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if col < 0 { // the header
			for i, h := range rec {
				if h == "tier" {
					col = i
				}
			}
			if col < 0 {
				return errors.New("export: no tier column")
			}
			cw.Write(rec)
			continue
		}
		if rec[col] == want {
			cw.Write(rec)
		}
	}
	cw.Flush()
	return cw.Error()
}

// Timeline is the number of tool calls per server over time.
type Timeline struct {
	Start         time.Time        `json:"start"`
	BucketMinutes int              `json:"bucketMinutes"`
	Servers       []ServerTimeline `json:"servers"`
}

// ServerTimeline is one server's row of the timeline.
type ServerTimeline struct {
	Server  string   `json:"server"`
	Buckets []Bucket `json:"buckets"`
}

// Bucket counts one server's tool calls in one time slot. Allow and Deny split every
// call by its outcome; Asked counts those of them a person was asked about (decided by
// a person, or by the timeout while waiting for one).
type Bucket struct {
	Allow int `json:"allow"`
	Deny  int `json:"deny"`
	Asked int `json:"asked"`
}

// bucketSizes are the slot widths the timeline picks from, in minutes.
var bucketSizes = []int{1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440}

// maxBuckets is the most slots a timeline has.
const maxBuckets = 60

// bucketMinutes returns the narrowest slot that covers hours in at most maxBuckets.
func bucketMinutes(hours int) int {
	for _, m := range bucketSizes {
		if hours*60 <= m*maxBuckets {
			return m
		}
	}
	return bucketSizes[len(bucketSizes)-1]
}

// Timeline counts the tool calls of the last hours (24 when hours ≤ 0) per server, in
// slots aligned to the slot width: the first holds now-hours, the last holds now.
func (a *App) Timeline(hours int) (Timeline, error) {
	if hours <= 0 {
		hours = 24
	}
	hours = min(hours, 24*366)
	ctx, cancel := a.call()
	defer cancel()
	m := bucketMinutes(hours)
	width := time.Duration(m) * time.Minute
	now := a.now()
	start := now.Add(-time.Duration(hours) * time.Hour).Truncate(width)
	end := now.Truncate(width).Add(width)
	n := int(end.Sub(start) / width)
	rows := map[string][]Bucket{}
	err := a.eachDecision(ctx, store.Filter{Kind: store.KindToolCall, Since: start}, func(d store.Decision) bool {
		i := int(d.Time.Sub(start) / width)
		if i < 0 || i >= n {
			return true
		}
		bs := rows[d.Server]
		if bs == nil {
			bs = make([]Bucket, n)
			rows[d.Server] = bs
		}
		switch d.Outcome {
		case store.OutcomeAllow:
			bs[i].Allow++
		case store.OutcomeDeny:
			bs[i].Deny++
		}
		if d.DecidedBy == store.DecidedByUser || d.DecidedBy == store.DecidedByTimeout {
			bs[i].Asked++
		}
		return true
	})
	if err != nil {
		return Timeline{}, err
	}
	t := Timeline{Start: start.UTC(), BucketMinutes: m, Servers: []ServerTimeline{}}
	for s, bs := range rows {
		t.Servers = append(t.Servers, ServerTimeline{Server: s, Buckets: bs})
	}
	sort.Slice(t.Servers, func(i, j int) bool { return t.Servers[i].Server < t.Servers[j].Server })
	return t, nil
}
