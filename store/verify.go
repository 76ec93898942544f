package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Problem names what Verify found wrong.
type Problem string

// Problems reported by Verify.
const (
	ProblemNone       Problem = ""
	ProblemEdited     Problem = "edited"      // a row's content no longer matches its hash
	ProblemBrokenLink Problem = "broken_link" // a row's prev_hash is not the previous row's hash
	ProblemGap        Problem = "gap"         // rows are missing before this row
	ProblemTruncated  Problem = "truncated"   // the newest rows are gone or differ from the anchor
	ProblemAnchor     Problem = "anchor"      // the <db>.head anchor file is unreadable
)

// VerifyReport is the result of Verify.
type VerifyReport struct {
	OK           bool    `json:"ok"`
	Rows         int64   `json:"rows"`          // rows checked
	FirstID      int64   `json:"first_id"`      // oldest row present, 0 if none
	LastID       int64   `json:"last_id"`       // newest row present, 0 if none
	CheckpointID int64   `json:"checkpoint_id"` // rows up to this id were pruned
	Anchored     bool    `json:"anchored"`      // the <db>.head anchor was present and matched
	BadID        int64   `json:"bad_id"`        // first bad row (for ProblemTruncated, the anchor's row)
	Problem      Problem `json:"problem"`
	Detail       string  `json:"detail"` // a sentence for a person
}

// Verify recomputes the hash chain from the prune checkpoint (or the first
// row) to the newest row and stops at the first problem.
//
// What is detected: a row whose fields were edited (ProblemEdited); a row
// whose hash was recomputed after an edit, because the next row no longer
// links to it (ProblemBrokenLink); deleted rows in the middle or at the start
// (ProblemGap, ids are consecutive); deleted newest rows, when the sidecar
// anchor <db>.head (written after every commit) names a row that is gone or
// differs (ProblemTruncated).
//
// What is not detected: the chain is unkeyed, so someone who can write the
// database file can rewrite every hash from the edit onwards, and also the
// anchor; deleting the newest rows together with the anchor file (Anchored
// reports false, OK stays true); deleting the oldest rows and rewriting the
// checkpoint row to match; rows lost because the machine lost power after a
// commit (synchronous=NORMAL) while the anchor survived will be reported as
// truncation. The anchor is written under the cross-process write lock on
// unix; where that lock is not available (Windows) it may lag behind the
// newest row by a few commits, which only narrows what it protects.
func (l *Log) Verify(ctx context.Context) (VerifyReport, error) {
	var rep VerifyReport
	// Read the anchor before the snapshot: it is written after its commit,
	// so the snapshot always contains the row it names.
	a, haveAnchor, aerr := readAnchor(l.path)

	tx, err := l.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return rep, fmt.Errorf("verify decision log: %w", err)
	}
	defer tx.Rollback()

	var cpID int64
	var cpHash string
	err = tx.QueryRowContext(ctx, "SELECT last_id, last_hash FROM checkpoint WHERE one = 1").Scan(&cpID, &cpHash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return rep, fmt.Errorf("verify decision log: read checkpoint: %w", err)
	}
	rep.CheckpointID = cpID

	rows, err := tx.QueryContext(ctx, "SELECT "+columns+" FROM decisions ORDER BY id")
	if err != nil {
		return rep, fmt.Errorf("verify decision log: %w", err)
	}
	defer rows.Close()

	expectID, prev := cpID+1, cpHash
	anchorHash, anchorSeen := "", false
	if haveAnchor && a.ID == cpID && cpID > 0 {
		anchorHash, anchorSeen = cpHash, true
	}
	fail := func(id int64, p Problem, format string, args ...any) (VerifyReport, error) {
		rep.BadID, rep.Problem, rep.Detail = id, p, fmt.Sprintf(format, args...)
		return rep, nil
	}
	for rows.Next() {
		var d Decision
		if err := scanDecision(rows, &d); err != nil {
			return rep, fmt.Errorf("verify decision log: %w", err)
		}
		switch {
		case d.ID < expectID:
			return fail(d.ID, ProblemBrokenLink, "row %d is at or before the prune checkpoint (row %d)", d.ID, cpID)
		case d.ID > expectID && expectID == d.ID-1:
			return fail(d.ID, ProblemGap, "row %d is missing before row %d", expectID, d.ID)
		case d.ID > expectID:
			return fail(d.ID, ProblemGap, "rows %d to %d are missing before row %d", expectID, d.ID-1, d.ID)
		}
		if d.PrevHash != prev {
			if d.ID == cpID+1 && cpID > 0 {
				return fail(d.ID, ProblemBrokenLink, "row %d does not link to the prune checkpoint (row %d)", d.ID, cpID)
			}
			if d.ID == 1 {
				return fail(d.ID, ProblemBrokenLink, "row 1 does not start the chain")
			}
			return fail(d.ID, ProblemBrokenLink, "row %d does not link to row %d: row %d was rewritten or replaced", d.ID, d.ID-1, d.ID-1)
		}
		if rowHash(d.PrevHash, &d) != d.Hash {
			return fail(d.ID, ProblemEdited, "row %d was edited after it was written", d.ID)
		}
		if rep.FirstID == 0 {
			rep.FirstID = d.ID
		}
		rep.LastID = d.ID
		rep.Rows++
		if haveAnchor && d.ID == a.ID {
			anchorHash, anchorSeen = d.Hash, true
		}
		prev, expectID = d.Hash, d.ID+1
	}
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("verify decision log: %w", err)
	}

	switch {
	case aerr != nil:
		return fail(0, ProblemAnchor, "%v", aerr)
	case !haveAnchor:
		// Nothing to compare with; see the doc comment.
	case a.ID > expectID-1:
		return fail(a.ID, ProblemTruncated, "the anchor names row %d but the log ends at row %d: the newest rows were deleted", a.ID, expectID-1)
	case anchorSeen && anchorHash != a.Hash:
		return fail(a.ID, ProblemTruncated, "row %d differs from the anchor: the newest rows were replaced", a.ID)
	case anchorSeen:
		rep.Anchored = true
	}
	rep.OK = true
	return rep, nil
}

// Prune deletes the oldest rows whose time is before olderThan and records
// the newest deleted row's id and hash as the checkpoint Verify starts from.
// It deletes only a prefix of the chain: it stops at the first row that is
// not older than olderThan, even if later rows are. It returns how many rows
// were deleted.
func (l *Log) Prune(ctx context.Context, olderThan time.Time) (int64, error) {
	conn, err := l.db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune decision log: %w", err)
	}
	defer conn.Close()
	var n int64
	err = immediate(ctx, conn, func() error {
		var lastID sql.NullInt64
		if err := conn.QueryRowContext(ctx,
			"SELECT min(id) - 1 FROM decisions WHERE time_ns >= ?", olderThan.UnixNano()).Scan(&lastID); err != nil {
			return err
		}
		if !lastID.Valid { // every row is old
			if err := conn.QueryRowContext(ctx, "SELECT max(id) FROM decisions").Scan(&lastID); err != nil {
				return err
			}
		}
		if !lastID.Valid {
			return nil
		}
		var h string
		err := conn.QueryRowContext(ctx, "SELECT hash FROM decisions WHERE id = ?", lastID.Int64).Scan(&h)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // nothing older remains (already pruned)
		}
		if err != nil {
			return err
		}
		res, err := conn.ExecContext(ctx, "DELETE FROM decisions WHERE id <= ?", lastID.Int64)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		_, err = conn.ExecContext(ctx,
			"INSERT OR REPLACE INTO checkpoint (one, last_id, last_hash, pruned_at) VALUES (1, ?, ?, ?)",
			lastID.Int64, h, time.Now().UnixNano())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune decision log: %w", err)
	}
	return n, nil
}
