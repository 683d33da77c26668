package cssm

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib" // also registers "pgx" for database/sql
	_ "modernc.org/sqlite"           // registers "sqlite"
)

// The store's database: SQLite (a file in the store directory, the default)
// or PostgreSQL (several `cssm serve` replicas on one database). Both run the
// same SQL; writers take one database-wide lock (SQLite's BEGIN IMMEDIATE,
// PostgreSQL's transaction-scoped advisory lock), so every write transaction
// sees the last one's outcome, as the flock on cssm.json used to guarantee.

type dialect int

const (
	dialectSQLite dialect = iota
	dialectPostgres
)

// writeLockID is the PostgreSQL advisory lock every write transaction holds.
const writeLockID = 0x6373736d // "cssm"

// dbTimeout bounds one transaction's wait for the database (a lock held
// elsewhere, an unreachable server): the call then fails with 503.
const dbTimeout = 15 * time.Second

// sqliteBusyTimeoutMS is how long SQLite waits for another writer's lock.
var sqliteBusyTimeoutMS = 10000

// sqliteTestPragmas are added by tests that make the database fail (full, read-only).
var sqliteTestPragmas []string

type database struct {
	db      *sql.DB
	dialect dialect
	where   string // for messages: the file, or the server without the password

	mu       sync.Mutex
	rewrites map[string]string // "?" to "$n" for PostgreSQL
}

// dbError is a failure of the database itself (locked, full, read-only,
// unreachable): the call is answered 503 and nothing was written.
type dbError struct {
	where string
	err   error
}

func (e *dbError) Error() string {
	return fmt.Sprintf("the cssm database %s failed: %v", e.where, e.err)
}
func (e *dbError) Unwrap() error { return e.err }

// reason says in a few words what went wrong, for the 503 sentence.
func (e *dbError) reason() string {
	m := strings.ToLower(e.err.Error())
	switch {
	case strings.Contains(m, "locked") || strings.Contains(m, "busy") || errors.Is(e.err, context.DeadlineExceeded):
		return "busy (locked by another writer)"
	case strings.Contains(m, "full") || strings.Contains(m, "no space"):
		return "full"
	case strings.Contains(m, "readonly") || strings.Contains(m, "read-only") || strings.Contains(m, "read only"):
		return "read-only"
	case strings.Contains(m, "connect") || strings.Contains(m, "refused") || strings.Contains(m, "eof") || strings.Contains(m, "broken pipe") || strings.Contains(m, "closed"):
		return "unreachable"
	}
	return "failing"
}

// dbPanic carries a dbError out of the operation code, which reads entities
// as if they were in memory; the transaction runner recovers it.
type dbPanic struct{ err *dbError }

// openDatabase opens spec: "" or "sqlite" for dir/cssm.db, or a postgres:// URL.
func openDatabase(dir, spec string) (*database, error) {
	switch {
	case spec == "" || spec == "sqlite":
		return openSQLite(dir + "/" + dbFile)
	case strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://"):
		return openPostgres(spec)
	}
	return nil, fmt.Errorf("--database %q is neither sqlite nor a postgres:// URL", redact(spec))
}

func openSQLite(path string) (*database, error) {
	// The file is private, and SQLite gives its -wal and -shm files the same mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot open the cssm database %s: %w", path, err)
	}
	f.Close()
	q := url.Values{}
	pragmas := []string{"journal_mode(WAL)", "synchronous(FULL)", fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeoutMS), "foreign_keys(1)", "cache_size(-16384)"}
	for _, p := range append(pragmas, sqliteTestPragmas...) {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("cannot open the cssm database %s: %w", path, err)
	}
	// Each connection caches up to 16 MiB of pages; one writes at a time.
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	return &database{db: db, dialect: dialectSQLite, where: path}, nil
}

func openPostgres(spec string) (*database, error) {
	cfg, err := pgx.ParseConfig(spec)
	if err != nil {
		return nil, fmt.Errorf("cannot use the PostgreSQL database %s: %w", redact(spec), err)
	}
	// Statements are prepared once per connection, and PostgreSQL then
	// switches to a generic plan made from the statistics of that moment: for
	// a table that was empty then (idempotency records at first start), a
	// sequential scan, kept however large the table grows. Plan each call.
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	if _, ok := cfg.RuntimeParams["plan_cache_mode"]; !ok {
		cfg.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return &database{db: db, dialect: dialectPostgres, where: redact(spec)}, nil
}

// redact drops the password from a database URL.
func redact(spec string) string {
	u, err := url.Parse(spec)
	if err != nil || u.User == nil {
		return spec
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

func (d *database) close() error { return d.db.Close() }

// sql adapts a statement written with "?" to the dialect.
func (d *database) sql(s string) string {
	if d.dialect != dialectPostgres {
		return s
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if r, ok := d.rewrites[s]; ok {
		return r
	}
	var b strings.Builder
	n := 0
	for _, c := range s {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	if d.rewrites == nil {
		d.rewrites = map[string]string{}
	}
	d.rewrites[s] = b.String()
	return b.String()
}

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// dbTx is one transaction.
type dbTx struct {
	d      *database
	ctx    context.Context
	q      querier
	write  bool
	finish func(commit bool) error
}

func (d *database) fail(err error) *dbError { return &dbError{where: d.where, err: err} }

// begin starts a transaction; a write one holds the database's write lock.
func (d *database) begin(ctx context.Context, write bool) (*dbTx, error) {
	t := &dbTx{d: d, ctx: ctx, write: write}
	switch {
	case d.dialect == dialectSQLite && write:
		// BEGIN IMMEDIATE takes the write lock now, waiting up to
		// busy_timeout; a deferred transaction that writes later could fail
		// instead of waiting. database/sql's Tx cannot say IMMEDIATE, so the
		// transaction is run by hand on one connection.
		conn, err := d.db.Conn(ctx)
		if err != nil {
			return nil, d.fail(err)
		}
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			discard(conn)
			return nil, d.fail(err)
		}
		t.q = conn
		t.finish = func(commit bool) error {
			if commit {
				if _, err := conn.ExecContext(context.Background(), "COMMIT"); err != nil {
					conn.ExecContext(context.Background(), "ROLLBACK")
					discard(conn)
					return d.fail(err)
				}
				return conn.Close()
			}
			if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
				discard(conn)
				return nil
			}
			return conn.Close()
		}
	default:
		// After a database restart every pooled connection is dead, and each
		// fails once before the pool drops it. Nothing was done on a
		// connection that failed to begin, so try another, then a new one.
		var err error
		tries := 1
		if d.dialect == dialectPostgres {
			tries = maxPoolRetries
		}
		for range tries {
			if t.q, t.finish, err = d.beginTx(ctx, write); err == nil || ctx.Err() != nil {
				break
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return t, nil
}

// maxPoolRetries bounds the connections begin tries: the pool's, then a new one.
const maxPoolRetries = 18

// beginTx starts a database/sql transaction (PostgreSQL, and SQLite reads).
func (d *database) beginTx(ctx context.Context, write bool) (querier, func(bool) error, error) {
	{
		opts := &sql.TxOptions{}
		if !write && d.dialect == dialectPostgres {
			opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
		}
		tx, err := d.db.BeginTx(ctx, opts)
		if err != nil {
			return nil, nil, d.fail(err)
		}
		if write {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", writeLockID); err != nil {
				tx.Rollback()
				return nil, nil, d.fail(err)
			}
		} else if d.dialect == dialectPostgres {
			// BEGIN alone may not touch the connection; make sure it is alive.
			if _, err := tx.ExecContext(ctx, "SELECT 1"); err != nil {
				tx.Rollback()
				return nil, nil, d.fail(err)
			}
		}
		finish := func(commit bool) error {
			if commit {
				if err := tx.Commit(); err != nil {
					return d.fail(err)
				}
				return nil
			}
			tx.Rollback()
			return nil
		}
		return tx, finish, nil
	}
}

// discard closes a connection whose transaction state is unknown, so that the
// pool never hands it out again.
func discard(conn *sql.Conn) {
	conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}

func (t *dbTx) must(err error) {
	if err != nil {
		panic(dbPanic{t.d.fail(err)})
	}
}

func (t *dbTx) exec(query string, args ...any) sql.Result {
	r, err := t.q.ExecContext(t.ctx, t.d.sql(query), args...)
	t.must(err)
	return r
}

// row scans one row into dest and reports whether there was one.
func (t *dbTx) row(query string, args []any, dest ...any) bool {
	err := t.q.QueryRowContext(t.ctx, t.d.sql(query), args...).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return false
	}
	t.must(err)
	return true
}

// rows calls fn for each row, after scanning it into dest.
func (t *dbTx) rows(query string, args []any, fn func(), dest ...any) {
	rs, err := t.q.QueryContext(t.ctx, t.d.sql(query), args...)
	t.must(err)
	defer rs.Close()
	for rs.Next() {
		t.must(rs.Scan(dest...))
		fn()
	}
	t.must(rs.Err())
}

func ctxTimeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), dbTimeout)
}
