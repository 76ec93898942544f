package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"strconv"
	"strings"
	"time"
)

// maxBatch bounds how many appends share one transaction.
const maxBatch = 512

type appendReq struct {
	ctx  context.Context
	d    Decision // redacted copy, ID and Time filled by the writer
	done chan appendResult
	// later marks a row nobody waits for (AppendLater): the writer may hold it briefly
	// to commit it together with others.
	later bool
}

// lingerLater is how long the writer holds rows from AppendLater to share one commit.
const lingerLater = 20 * time.Millisecond

type appendResult struct {
	id   int64
	time time.Time
	err  error
}

// Append validates d (see [Decision.Validate]), redacts d.Args and d.Reason with the Log's Redactor, links the row
// into the hash chain and returns its id once the row is committed. If
// d.ArgsHash is empty it is computed from the unredacted d.Args with
// [HashArgs]; if d.Time is zero it is set to now. On success d.ID and d.Time
// are set to what was stored; d.Args and d.Reason are left unredacted.
//
// Concurrent Appends in one process share transactions (group commit); each
// call still returns only after its own row is committed. Commits use
// synchronous=NORMAL in WAL mode: a committed row survives a crash of any
// process, but the newest commits may be lost if the machine loses power.
//
// If ctx ends while the row waits to be written, Append returns ctx.Err() and
// the row is not written; once the writer has taken the row it is committed
// even if Append has already returned ctx.Err().
func (l *Log) Append(ctx context.Context, d *Decision) (int64, error) {
	req, err := l.prepare(ctx, d)
	if err != nil {
		return 0, err
	}
	if err := l.submit(ctx, req); err != nil {
		return 0, err
	}
	select {
	case res := <-req.done:
		if res.err != nil {
			return 0, fmt.Errorf("append decision: %w", res.err)
		}
		d.ID, d.Time = res.id, res.time
		return res.id, nil
	case <-ctx.Done():
		return 0, fmt.Errorf("append decision: %w", ctx.Err())
	}
}

// AppendLater queues d to be committed within about 20 ms, together with other rows,
// and returns without waiting for the commit. It is for decisions that gate nothing
// (a harmless call allowed by policy); Close commits whatever is queued. Rows that fail
// to commit are counted by LaterFailures.
func (l *Log) AppendLater(d *Decision) error {
	req, err := l.prepare(context.Background(), d)
	if err != nil {
		return err
	}
	req.later = true
	return l.submit(context.Background(), req)
}

// LaterFailures reports how many rows queued with AppendLater failed to commit.
func (l *Log) LaterFailures() int64 { return l.laterFailures.Load() }

// prepare validates and redacts d into a request for the writer.
func (l *Log) prepare(ctx context.Context, d *Decision) (*appendReq, error) {
	if d == nil {
		return nil, errors.New("append decision: nil decision")
	}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("append decision: %w", err)
	}
	row := *d
	if row.Channel == "" {
		row.Channel = ChannelNone
	}
	if row.ArgsHash == "" && row.Args != "" {
		row.ArgsHash = HashArgs(json.RawMessage(row.Args))
	}
	r := l.redactor.Load()
	if row.Args != "" {
		row.Args = string(r.RedactJSON(json.RawMessage(row.Args)))
	}
	row.Reason = l.redactField(0, r, row.Reason)
	// The remaining free-text fields come from peers (tool names, server
	// names from config); redact them too, it costs little.
	row.Server = l.redactField(1, r, row.Server)
	row.Tool = l.redactField(2, r, row.Tool)
	row.Client = l.redactField(3, r, row.Client)
	row.Session = l.redactField(4, r, row.Session)
	row.ID, row.Hash, row.PrevHash = 0, "", ""
	if !row.Time.IsZero() {
		row.Time = row.Time.UTC()
	}

	return &appendReq{ctx: ctx, d: row, done: make(chan appendResult, 1)}, nil
}

// fieldMemo is the redaction of one short field of the last row prepared: a stream of
// automatic allows repeats its server, tool, client, session and reason row after row.
type fieldMemo struct {
	r       *Redactor
	in, out string
}

// fieldMemoMax is the longest field value remembered.
const fieldMemoMax = 256

// redactField redacts field i (an index into l.memo) of a row with r, reusing the last
// result when both the value and the Redactor are the same.
func (l *Log) redactField(i int, r *Redactor, s string) string {
	if s == "" || len(s) > fieldMemoMax {
		return r.RedactString(s)
	}
	if m := l.memo[i].Load(); m != nil && m.r == r && m.in == s {
		return m.out
	}
	out := r.RedactString(s)
	l.memo[i].Store(&fieldMemo{r: r, in: s, out: out})
	return out
}

func (l *Log) submit(ctx context.Context, req *appendReq) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return fmt.Errorf("append decision: %w", ErrClosed)
	}
	select {
	case l.reqs <- req:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("append decision: %w", ctx.Err())
	}
}

// writer is the single goroutine that writes rows. It takes every request
// queued while the previous transaction ran and commits them together.
func (l *Log) writer() {
	defer close(l.done)
	batch := make([]*appendReq, 0, maxBatch)
	for req := range l.reqs {
		batch = append(batch[:0], req)
		onlyLater := req.later
	drain:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-l.reqs:
				if !ok {
					break drain
				}
				batch = append(batch, r)
				onlyLater = onlyLater && r.later
			default:
				break drain
			}
		}
		if onlyLater && len(batch) < maxBatch {
			// Nobody waits for these rows: hold them briefly so a stream of harmless
			// calls costs one commit, not one each. A row someone waits for ends the wait.
			timer := time.NewTimer(lingerLater)
		linger:
			for len(batch) < maxBatch {
				select {
				case r, ok := <-l.reqs:
					if !ok {
						break linger
					}
					batch = append(batch, r)
					if !r.later {
						break linger
					}
				case <-timer.C:
					break linger
				}
			}
			timer.Stop()
		}
		l.commitBatch(batch)
	}
}

func (l *Log) commitBatch(batch []*appendReq) {
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- appendResult{err: err}
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	ctx := context.Background()
	locked := l.wlock.lock(busyTimeoutMS * time.Millisecond)
	var head anchor
	err := immediate(ctx, l.wconn, func() error {
		lastID, lastHash, err := chainTip(ctx, l.wconn)
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		for _, r := range live {
			d := &r.d
			lastID++
			d.ID = lastID
			if d.Time.IsZero() {
				d.Time = now
			}
			d.PrevHash = lastHash
			d.Hash = rowHash(lastHash, d)
			lastHash = d.Hash
		}
		if err := l.insertRows(ctx, live); err != nil {
			return fmt.Errorf("insert decision: %w", err)
		}
		head = anchor{ID: lastID, Hash: lastHash}
		return nil
	})
	if err == nil {
		// Best effort: the rows are committed whatever happens to the anchor.
		_ = writeAnchor(l.anchor, head)
	}
	if locked {
		l.wlock.unlock()
	}
	for _, r := range live {
		if err != nil {
			if r.later {
				l.laterFailures.Add(1)
			}
			r.done <- appendResult{err: err}
		} else {
			r.done <- appendResult{id: r.d.ID, time: r.d.Time}
		}
	}
}

const insertSQL = `INSERT INTO decisions (id, time_ns, kind, server, client, session, tool,
	tier, args, args_hash, outcome, decided_by, channel, scope, reason, prev_hash, hash)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// insertChunks are the row counts of the multi-row INSERT statements a batch is written
// with, largest first: one statement for many rows costs far less than one per row.
var insertChunks = []int{32, 8, 1}

// insertRows inserts the rows of reqs, in order, within the writer's transaction.
func (l *Log) insertRows(ctx context.Context, reqs []*appendReq) error {
	for len(reqs) > 0 {
		k := 1
		for _, c := range insertChunks {
			if c <= len(reqs) {
				k = c
				break
			}
		}
		stmt, err := l.insertStmt(ctx, k)
		if err != nil {
			return err
		}
		args := make([]any, 0, 17*k)
		for _, r := range reqs[:k] {
			d := &r.d
			args = append(args, d.ID, d.Time.UnixNano(), string(d.Kind), d.Server, d.Client, d.Session, d.Tool,
				d.Tier, d.Args, d.ArgsHash, string(d.Outcome), string(d.DecidedBy),
				string(d.Channel), string(d.Scope), d.Reason, d.PrevHash, d.Hash)
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return err
		}
		reqs = reqs[k:]
	}
	return nil
}

// insertStmt returns the INSERT of k rows, prepared on the writer's connection once.
func (l *Log) insertStmt(ctx context.Context, k int) (*sql.Stmt, error) {
	if k == 1 {
		return l.insert, nil
	}
	if st := l.insertN[k]; st != nil {
		return st, nil
	}
	one := "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	head, _, _ := strings.Cut(insertSQL, "VALUES")
	q := head + "VALUES " + strings.TrimSuffix(strings.Repeat(one+", ", k), ", ")
	st, err := l.wconn.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if l.insertN == nil {
		l.insertN = map[int]*sql.Stmt{}
	}
	l.insertN[k] = st
	return st, nil
}

// chainTip returns the id and hash the next row links to: the newest row, or
// the prune checkpoint when every row has been pruned, or (0, "") for a new log.
func chainTip(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int64, string, error) {
	var id int64
	var h string
	err := q.QueryRowContext(ctx, "SELECT id, hash FROM decisions ORDER BY id DESC LIMIT 1").Scan(&id, &h)
	if err == nil {
		return id, h, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, "", fmt.Errorf("read chain tip: %w", err)
	}
	err = q.QueryRowContext(ctx, "SELECT last_id, last_hash FROM checkpoint WHERE one = 1").Scan(&id, &h)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("read checkpoint: %w", err)
	}
	return id, h, nil
}

// anchor is the newest committed row as last recorded in the sidecar file
// <db>.head. See Verify for what it does and does not protect.
type anchor struct {
	ID   int64
	Hash string
}

func anchorPath(db string) string { return db + ".head" }

// anchorLen is the size of the fixed-width anchor record
// "%020d %64s %08x\n" (id, hash, crc32 of the first two fields).
const anchorLen = 20 + 1 + 64 + 1 + 8 + 1

// writeAnchor overwrites the fixed-width record at the start of f in one
// write, which is far cheaper than write-and-rename on every commit. It is
// called after the commit, so it never names a row that was not committed,
// and under the writeLock, so on unix it never goes backwards. The checksum
// lets a reader detect a torn record and retry.
func writeAnchor(f *os.File, a anchor) error {
	body := fmt.Sprintf("%020d %s", a.ID, a.Hash)
	rec := fmt.Sprintf("%s %08x\n", body, crc32.ChecksumIEEE([]byte(body)))
	if len(rec) != anchorLen {
		return fmt.Errorf("write anchor: bad record length %d", len(rec))
	}
	if _, err := f.WriteAt([]byte(rec), 0); err != nil {
		return fmt.Errorf("write anchor: %w", err)
	}
	return nil
}

// readAnchor returns the sidecar anchor; ok is false if there is none.
func readAnchor(db string) (a anchor, ok bool, err error) {
	for range 5 { // a torn read of a concurrent write is retried
		data, err := os.ReadFile(anchorPath(db))
		if errors.Is(err, os.ErrNotExist) || (err == nil && len(data) == 0) {
			return anchor{}, false, nil
		}
		if err != nil {
			return anchor{}, false, fmt.Errorf("read anchor: %w", err)
		}
		if a, ok := parseAnchor(data); ok {
			return a, true, nil
		}
	}
	return anchor{}, false, fmt.Errorf("read anchor: %s is malformed", anchorPath(db))
}

func parseAnchor(data []byte) (anchor, bool) {
	if len(data) < anchorLen || data[anchorLen-1] != '\n' {
		return anchor{}, false
	}
	f := strings.Fields(string(data[:anchorLen]))
	if len(f) != 3 || len(f[1]) != 64 {
		return anchor{}, false
	}
	body := f[0] + " " + f[1]
	if fmt.Sprintf("%08x", crc32.ChecksumIEEE([]byte(body))) != f[2] {
		return anchor{}, false
	}
	id, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return anchor{}, false
	}
	return anchor{ID: id, Hash: f[1]}, true
}
