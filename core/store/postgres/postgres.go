// Package postgres is zevdesk's store on a PostgreSQL server, for an office
// where several clerks and an always-on `zevdesk serve` share one database
// (DESIGN.md, "One workstation, or an office").
//
// Interval data, the bulk, is one row per series and UTC day holding the
// day's 96 values in the day-block encoding the bbolt store uses
// (core/store/block), so a value takes a few bytes on disk. Everything else is
// in plain tables an administrator can read (migrations/001_init.sql).
//
// Several clients at once: every Update takes the row lock of the schema's
// version row first (SELECT ... FOR UPDATE), so the Updates of all clients
// run one after the other, as the Updates of one bbolt process do, each in
// READ COMMITTED and so seeing every earlier commit. Invoice counters, locks
// and gateway cursors therefore advance exactly once whichever clients race,
// and Update runs fn exactly once. Views are REPEATABLE READ snapshots and
// run alongside. A commit is announced to the other clients with NOTIFY;
// Subscribe (store.Notifier) reports the commits of every client.
package postgres

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/zevdesk/zevdesk/core/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// SchemaVersion is the newest schema this binary knows: the number of the
// last file in migrations/.
const SchemaVersion = 1

// ErrSchemaTooNew is returned by Open for a database whose schema a newer
// zevdesk has migrated.
var ErrSchemaTooNew = errors.New("the database was created or upgraded by a newer zevdesk")

// IsURL reports whether s names a PostgreSQL database (postgres:// or
// postgresql://) rather than a file.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// kvPassword matches a password in a keyword/value connection string.
var kvPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// Redact returns conn with its password replaced by "xxxxx", for messages
// and logs: credentials are never printed.
func Redact(conn string) string {
	if IsURL(conn) {
		u, err := url.Parse(conn)
		if err != nil {
			// Unparseable: keep only what cannot hold a password.
			i := strings.Index(conn, "://")
			return conn[:i+3] + "…"
		}
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.Redacted()
	}
	return kvPassword.ReplaceAllString(conn, "${1}xxxxx")
}

// Store is a store.Store on a PostgreSQL database (or a schema of one: the
// connection's search_path). It is safe for concurrent use.
type Store struct {
	pool    *pgxpool.Pool
	name    string // the redacted connection string, for messages
	channel string // NOTIFY channel, one per schema
	id      string // this Store's instance id, the payload of its NOTIFYs
	hub     store.Hub

	lmu        sync.Mutex
	listening  bool
	stopListen context.CancelFunc
	listenDone chan struct{}
}

var (
	_ store.Store    = (*Store)(nil)
	_ store.Notifier = (*Store)(nil)
)

// Open connects to the database conn names (a postgres:// URL or a
// keyword/value string; empty means the PG* environment variables), creates
// or migrates its schema and returns the store. A schema newer than this
// binary knows is refused (ErrSchemaTooNew).
func Open(conn string) (*Store, error) {
	name := Redact(conn)
	if name == "" {
		name = "the database of the PG* environment variables"
	}
	cfg, err := pgxpool.ParseConfig(conn)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", name, redactErr(err, ""))
	}
	password := cfg.ConnConfig.Password
	cfg.MaxConns = 8
	ctx := context.Background()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", name, redactErr(err, password))
	}
	s := &Store{pool: pool, name: name}
	var idb [8]byte
	_, _ = rand.Read(idb[:])
	s.id = hex.EncodeToString(idb[:])
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("opening %s: %w", name, redactErr(err, password))
	}
	return s, nil
}

// redactErr hides password in err's message (the driver's errors name the
// connection, never knowingly its password; this makes sure).
func redactErr(err error, password string) error {
	if err == nil || password == "" || !strings.Contains(err.Error(), password) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(err.Error(), password, "xxxxx"), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Name returns the database's connection string without its password.
func (s *Store) Name() string { return s.name }

// migrate creates the schema or brings it up to SchemaVersion, one
// transaction under an advisory lock so that clients starting together
// migrate once.
func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	var schema string
	if err := tx.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return fmt.Errorf("reading the current schema: %w", err)
	}
	if schema == "" {
		return errors.New("no schema to create the tables in (check the search_path)")
	}
	s.channel = "zevdesk_" + schema
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext($1))", s.channel); err != nil {
		return fmt.Errorf("locking the schema for migration: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS zevdesk_schema (
		version integer NOT NULL,
		one boolean PRIMARY KEY DEFAULT true CHECK (one))`); err != nil {
		return fmt.Errorf("creating the schema table: %w", err)
	}
	var v int
	err = tx.QueryRow(ctx, "SELECT version FROM zevdesk_schema").Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		if _, err := tx.Exec(ctx, "INSERT INTO zevdesk_schema (version) VALUES (0)"); err != nil {
			return fmt.Errorf("initialising the schema table: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("reading the schema version: %w", err)
	}
	if v > SchemaVersion {
		return fmt.Errorf("schema version %d, this zevdesk knows up to %d: %w; update zevdesk", v, SchemaVersion, ErrSchemaTooNew)
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		base := strings.TrimPrefix(f, "migrations/")
		n, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil || n > SchemaVersion {
			return fmt.Errorf("migration %s: not numbered up to %d", base, SchemaVersion)
		}
		if n <= v {
			continue
		}
		sql, err := migrations.ReadFile(f)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, string(sql)); err != nil {
			return fmt.Errorf("migrating to schema version %d (%s): %w", n, base, err)
		}
		if _, err := tx.Exec(ctx, "UPDATE zevdesk_schema SET version = $1", n); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// View runs fn in a read-only snapshot (REPEATABLE READ): it sees whole
// transactions only.
func (s *Store) View(fn func(store.Tx) error) error {
	ctx := context.Background()
	ptx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("starting a read transaction on %s: %w", s.name, err)
	}
	defer ptx.Rollback(ctx) //nolint:errcheck // read-only: nothing to keep
	return fn(&tx{ctx: ctx, q: ptx})
}

// Update runs fn in a read-write transaction and commits if fn returns nil;
// a commit is announced to every client's subscribers. The Updates of all
// clients of the database run one at a time (see the package comment), so
// fn runs exactly once and sees every commit before it.
func (s *Store) Update(fn func(store.Tx) error) error {
	ctx := context.Background()
	ptx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("starting a transaction on %s: %w", s.name, err)
	}
	defer ptx.Rollback(ctx) //nolint:errcheck // a no-op after Commit; on error or panic it discards
	var v int
	if err := ptx.QueryRow(ctx, "SELECT version FROM zevdesk_schema FOR UPDATE").Scan(&v); err != nil {
		return fmt.Errorf("locking %s for writing: %w", s.name, err)
	}
	if v != SchemaVersion {
		return fmt.Errorf("%s has schema version %d, this zevdesk writes version %d: %w", s.name, v, SchemaVersion, ErrSchemaTooNew)
	}
	if err := fn(&tx{ctx: ctx, q: ptx, writable: true}); err != nil {
		return err
	}
	if _, err := ptx.Exec(ctx, "SELECT pg_notify($1, $2)", s.channel, s.id); err != nil {
		return fmt.Errorf("announcing the commit: %w", err)
	}
	if err := ptx.Commit(ctx); err != nil {
		return fmt.Errorf("committing to %s: %w", s.name, err)
	}
	s.hub.Notify()
	return nil
}

// Subscribe calls fn after committed Updates of this and every other client
// of the database (see store.Notifier). The first subscription starts a
// connection that LISTENs for the others' commits.
func (s *Store) Subscribe(fn func()) (stop func()) {
	s.lmu.Lock()
	if !s.listening {
		s.listening = true
		ctx, cancel := context.WithCancel(context.Background())
		s.stopListen = cancel
		s.listenDone = make(chan struct{})
		go s.listen(ctx)
	}
	s.lmu.Unlock()
	return s.hub.Subscribe(fn)
}

// listen relays the other clients' NOTIFYs to the hub until ctx ends,
// reconnecting after a lost connection (and then announcing once, since
// commits may have been missed meanwhile).
func (s *Store) listen(ctx context.Context) {
	defer close(s.listenDone)
	retry := 100 * time.Millisecond
	for first := true; ctx.Err() == nil; first = false {
		err := func() error {
			pc, err := s.pool.Acquire(ctx)
			if err != nil {
				return err
			}
			// A listening connection is not given back to the pool.
			conn := pc.Hijack()
			defer conn.Close(context.Background()) //nolint:errcheck // closing after an error
			if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
				return err
			}
			if !first {
				s.hub.Notify()
			}
			retry = 100 * time.Millisecond
			for {
				n, err := conn.WaitForNotification(ctx)
				if err != nil {
					return err
				}
				if n.Payload != s.id {
					s.hub.Notify()
				}
			}
		}()
		if ctx.Err() != nil || err == nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(retry):
		}
		retry = min(2*retry, 10*time.Second)
	}
}

// Backup is not how a PostgreSQL database is saved: `zevdesk backup` copies it
// into a bbolt file (restorable with `zevdesk db copy`), and pg_dump saves
// it as the server's administrator does.
func (s *Store) Backup(io.Writer) (int64, error) {
	return 0, errors.New("a PostgreSQL database is backed up with `zevdesk backup` (into a bbolt file) or pg_dump")
}

// Close stops listening and closes the connections.
func (s *Store) Close() error {
	s.lmu.Lock()
	if s.listening {
		s.stopListen()
		<-s.listenDone
		s.listening = false
	}
	s.lmu.Unlock()
	s.pool.Close()
	return nil
}
