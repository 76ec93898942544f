// Package store keeps Airlock's decision log, a hash-chained SQLite table that
// several processes append to at once, and redacts secrets before any row is built.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("decision log closed")

// Log is an open decision log. Its methods are safe for concurrent use by
// many goroutines, and any number of processes may open the same file.
type Log struct {
	db       *sql.DB
	path     string
	redactor atomic.Pointer[Redactor]
	memo     [5]atomic.Pointer[fieldMemo] // see redactField

	mu     sync.RWMutex // guards closed and sends on reqs
	closed bool
	reqs   chan *appendReq

	laterFailures atomic.Int64
	done          chan struct{}     // closed when the writer goroutine exits
	wconn         *sql.Conn         // the writer's dedicated connection
	insert        *sql.Stmt         // insertSQL prepared on wconn
	insertN       map[int]*sql.Stmt // multi-row inserts, by row count (writer goroutine only)
	anchor        *os.File          // <db>.head, see writeAnchor
	wlock         *writeLock        // <db>.lock, see writeLock
}

// busyTimeoutMS is how long a connection waits for another process's write
// lock before giving up with SQLITE_BUSY.
const busyTimeoutMS = 10000

// Open opens (creating if needed) the decision log at path and brings its
// schema up to date. A new file is created 0600 and a missing parent directory
// 0700; existing directories keep their mode. The returned Log redacts with a
// zero [Redactor] until [Log.SetRedactor] is called. Call Close when done.
func Open(path string) (*Log, error) {
	if path == "" || path == ":memory:" {
		return nil, errors.New("open decision log: a file path is required")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open decision log: %w", err)
	}
	// Create the file ourselves so it never exists with a wider mode. SQLite
	// gives the -wal and -shm files the mode of the database file.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open decision log: %w", err)
	}
	f.Close()
	af, err := os.OpenFile(anchorPath(path), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open decision log: %w", err)
	}
	wl, err := openWriteLock(path)
	if err != nil {
		af.Close()
		return nil, fmt.Errorf("open decision log: %w", err)
	}

	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	dsn := "file:" + filepath.ToSlash(path) + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		af.Close()
		wl.close()
		return nil, fmt.Errorf("open decision log: %w", err)
	}
	l := &Log{
		db:     db,
		path:   path,
		anchor: af,
		wlock:  wl,
		reqs:   make(chan *appendReq, 4096),
		done:   make(chan struct{}),
	}
	l.redactor.Store(&Redactor{})
	ctx := context.Background()
	if err := migrate(ctx, db); err != nil {
		db.Close()
		af.Close()
		wl.close()
		return nil, fmt.Errorf("open decision log: %w", err)
	}
	l.wconn, err = db.Conn(ctx)
	if err != nil {
		db.Close()
		af.Close()
		wl.close()
		return nil, fmt.Errorf("open decision log: %w", err)
	}
	// The writer only appends: the right edges of the table and its indexes fit in a
	// small page cache, and the default (2 MB per connection) would only grow a proxy's
	// memory as the log grows. Readers (search, export) keep the default.
	if _, err := l.wconn.ExecContext(ctx, "PRAGMA cache_size = -512"); err != nil {
		l.wconn.Close()
		db.Close()
		af.Close()
		wl.close()
		return nil, fmt.Errorf("open decision log: %w", err)
	}
	l.insert, err = l.wconn.PrepareContext(ctx, insertSQL)
	if err != nil {
		l.wconn.Close()
		db.Close()
		af.Close()
		wl.close()
		return nil, fmt.Errorf("open decision log: %w", err)
	}
	go l.writer()
	return l, nil
}

// Path returns the file the log was opened from.
func (l *Log) Path() string { return l.path }

// SetRedactor replaces the Redactor that Append passes Args and Reason
// through. r must not be modified afterwards; to change the known secrets,
// build a new Redactor. A nil r restores the zero Redactor (patterns only).
func (l *Log) SetRedactor(r *Redactor) {
	if r == nil {
		r = &Redactor{}
	}
	l.redactor.Store(r)
}

// Redactor returns the Redactor that Append uses.
func (l *Log) Redactor() *Redactor { return l.redactor.Load() }

// Close waits for pending appends to commit, then closes the database.
// Appends after Close fail with ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.reqs)
	l.mu.Unlock()
	<-l.done
	l.insert.Close()
	for _, st := range l.insertN {
		st.Close()
	}
	err := l.wconn.Close()
	if cerr := l.db.Close(); err == nil {
		err = cerr
	}
	if cerr := l.anchor.Close(); err == nil {
		err = cerr
	}
	if cerr := l.wlock.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close decision log: %w", err)
	}
	return nil
}

// migrations is the ordered schema history; PRAGMA user_version holds how
// many have been applied. Append only; never edit an entry once released.
var migrations = []string{
	// 1: decisions and the prune checkpoint.
	`CREATE TABLE decisions (
		id         INTEGER PRIMARY KEY, -- assigned as last id + 1 inside BEGIN IMMEDIATE
		time_ns    INTEGER NOT NULL,
		kind       TEXT NOT NULL,
		server     TEXT NOT NULL,
		client     TEXT NOT NULL,
		session    TEXT NOT NULL,
		tool       TEXT NOT NULL,
		tier       INTEGER NOT NULL,
		args       TEXT NOT NULL,
		args_hash  TEXT NOT NULL,
		outcome    TEXT NOT NULL,
		decided_by TEXT NOT NULL,
		channel    TEXT NOT NULL,
		scope      TEXT NOT NULL,
		reason     TEXT NOT NULL,
		prev_hash  TEXT NOT NULL,
		hash       TEXT NOT NULL
	);
	CREATE INDEX decisions_time ON decisions(time_ns);
	CREATE INDEX decisions_server_tool ON decisions(server, tool);
	-- checkpoint holds the id and hash of the newest pruned row, so the chain
	-- can be verified from there after older rows are gone.
	CREATE TABLE checkpoint (
		one       INTEGER PRIMARY KEY CHECK (one = 1),
		last_id   INTEGER NOT NULL,
		last_hash TEXT NOT NULL,
		pruned_at INTEGER NOT NULL
	);`,
}

// migrate applies pending migrations in one BEGIN IMMEDIATE transaction, so
// processes opening the log at the same time apply each migration once.
func migrate(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return immediate(ctx, conn, func() error {
		var v int
		if err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if v > len(migrations) {
			return fmt.Errorf("check schema version: database is version %d, this build knows %d", v, len(migrations))
		}
		for i := v; i < len(migrations); i++ {
			if _, err := conn.ExecContext(ctx, migrations[i]); err != nil {
				return fmt.Errorf("apply migration %d: %w", i+1, err)
			}
		}
		if v < len(migrations) {
			if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
				return fmt.Errorf("set schema version: %w", err)
			}
		}
		return nil
	})
}

// immediate runs fn inside BEGIN IMMEDIATE on conn, which takes the database
// write lock up front (waiting up to the busy timeout), and commits if fn
// succeeds.
func immediate(ctx context.Context, conn *sql.Conn, fn func() error) error {
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(); err != nil {
		conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}
