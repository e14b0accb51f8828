// Package bolt is zevdesk's store on bbolt: one file per office, holding all
// its sites.
//
// Interval data, the bulk, lives in one bucket per series (site, meter,
// channel) with one key per UTC day holding the day's 96 values
// delta-encoded with their qualities (see block.go). Days of a series are
// consecutive keys, so appending in time order only ever touches the last
// page of each series, pages are filled to 95 %, and a period of one meter
// is one short cursor walk. A year of 15-minute household data takes under
// 2 bytes per value on disk. Register readings and raw gateway records, the
// other bulk, are blocked the same way: a meter's readings of one UTC day
// are one value (registers.go), a gateway's records are one value per 128
// sequence numbers (records.go), so that a catch-up of weeks of data is a
// few bbolt writes per meter and day, not one per reading. Everything else is
// small and kept in plain buckets, mostly JSON.
//
// Backups are bbolt snapshots (Tx.WriteTo) taken while writers continue:
// Store.Backup, Store.BackupTo and Store.RunBackups write them, BackupTo
// and BackupFile check each before it replaces or deletes anything, a
// Retention says which to keep, and Restore puts one back.
package bolt

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/zevdesk/zevdesk/core/store"
)

// Top-level buckets.
var (
	bktSites        = []byte("sites")        // site id → JSON core.Site
	bktIntervals    = []byte("intervals")    // site id → meter\0channel → day → block
	bktRegisters    = []byte("registers")    // site\0meter\0day → the day's readings (registers.go)
	bktReplacements = []byte("replacements") // site\0meter\0time → JSON Replacement
	bktRecords      = []byte("records")      // source\0seq>>7 → block of records (records.go)
	bktCursors      = []byte("cursors")      // source → seq
	bktFlags        = []byte("flags")        // site\0meter\0slot\0kind → reason
	bktAudit        = []byte("audit")        // seq → JSON Entry
	bktLocks        = []byte("locks")        // site\0from\0to → JSON Lock
	bktMeta         = []byte("meta")         // name → bucket of key → value
)

var allBuckets = [][]byte{bktSites, bktIntervals, bktRegisters, bktReplacements, bktRecords, bktCursors,
	bktFlags, bktAudit, bktLocks, bktMeta}

// fillPercent is used for buckets written in key order (interval days,
// records, audit): pages split nearly full because the next key goes after
// them anyway.
const fillPercent = 0.95

// Options configures Open. A nil *Options means the defaults.
type Options struct {
	// Timeout is how long Open waits for another process to release the
	// file; zero means DefaultTimeout.
	Timeout time.Duration
	// NoSync skips fsync on commit. Only for benchmarks and throw-away
	// databases: a crash can lose or corrupt committed data.
	NoSync bool
	// ReadOnly opens the file read-only (Update then fails).
	ReadOnly bool
	// InitialMmapSize is the address space mapped at first; zero means
	// DefaultMmapSize. Growing the map during a commit copies every key and
	// value the transaction wrote, and waits for readers (a running
	// backup).
	InitialMmapSize int
}

// growStep is how much the file grows beyond what a commit needs.
const growStep = 1 << 20

// DefaultMmapSize is the initial mapping: address space, not memory (a year
// of 100 meters takes about 6 MiB). On Windows bbolt makes the file as large
// as the mapping, so there it starts with bbolt's small default.
var DefaultMmapSize = func() int {
	if runtime.GOOS == "windows" {
		return 0
	}
	return 64 << 20
}()

// DefaultTimeout is how long Open waits for the file lock by default, so
// that a second zevdesk on the same file fails with a clear error instead
// of hanging.
const DefaultTimeout = 2 * time.Second

// ErrInUse is returned by Open when another program (usually another
// zevdesk) holds the file open for longer than the timeout.
var ErrInUse = errors.New("the file is in use by another program (is zevdesk already running?)")

// Store is a store.Store on a bbolt file. It is safe for concurrent use: any
// number of View transactions run alongside at most one Update.
type Store struct {
	db   *bbolt.DB
	path string
	hub  store.Hub // announces committed Updates (store.Notifier)
}

var (
	_ store.Store    = (*Store)(nil)
	_ store.Notifier = (*Store)(nil)
)

// Open opens (creating if needed) the database file at path.
func Open(path string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.InitialMmapSize == 0 {
		o.InitialMmapSize = DefaultMmapSize
	}
	db, err := openBolt(path, &bbolt.Options{
		Timeout:         o.Timeout,
		NoSync:          o.NoSync,
		ReadOnly:        o.ReadOnly,
		FreelistType:    bbolt.FreelistMapType,
		InitialMmapSize: o.InitialMmapSize,
	})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("opening %s: %w", path, ErrInUse)
		}
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	// bbolt grows the file 16 MiB at a time by default, which would triple a
	// small office's file; grow in 1 MiB steps instead.
	db.AllocSize = growStep
	if !o.ReadOnly {
		err = db.Update(func(tx *bbolt.Tx) error {
			for _, name := range allBuckets {
				if _, err := tx.CreateBucketIfNotExists(name); err != nil {
					return fmt.Errorf("creating bucket %s: %w", name, err)
				}
			}
			return nil
		})
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("initialising %s: %w", path, err)
		}
	}
	return &Store{db: db, path: path}, nil
}

// openBolt is bbolt.Open, which panics on some damaged files: that becomes
// an error naming the damage.
func openBolt(path string, o *bbolt.Options) (db *bbolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("the file is damaged: %v (restore a backup: zevdesk restore FILE)", r)
		}
	}()
	return bbolt.Open(path, 0o600, o)
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// View runs fn in a read-only transaction.
func (s *Store) View(fn func(store.Tx) error) error {
	return s.db.View(func(btx *bbolt.Tx) error {
		return fn(newTx(btx))
	})
}

// Update runs fn in a read-write transaction and commits if fn returns nil;
// a commit is announced to the subscribers (Subscribe).
func (s *Store) Update(fn func(store.Tx) error) error {
	err := s.db.Update(func(btx *bbolt.Tx) error {
		return fn(newTx(btx))
	})
	if err == nil {
		s.hub.Notify()
	}
	return err
}

// Subscribe calls fn after committed Updates of this process (see
// store.Notifier): bbolt has one process on a file, so there are no others.
func (s *Store) Subscribe(fn func()) (stop func()) { return s.hub.Subscribe(fn) }

// Backup writes a consistent snapshot of the database (a bbolt file) to w.
// Writers continue meanwhile; the snapshot is the state when it started.
func (s *Store) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("writing backup: %w", err)
	}
	return n, nil
}

// Check verifies bbolt's page structure and decodes every stored site and
// interval block. It returns all problems found, joined, each naming where.
func (s *Store) Check() error {
	var errs []error
	err := s.db.View(func(tx *bbolt.Tx) (err error) {
		// bbolt panics on some damaged pages; report them instead.
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("damaged pages: %v", r)
			}
		}()
		// Pages past the end of a truncated file would fault when read.
		if fi, err := os.Stat(s.path); err != nil {
			return err
		} else if fi.Size() < tx.Size() {
			errs = append(errs, fmt.Errorf("file is truncated: %d bytes, its pages need %d", fi.Size(), tx.Size()))
			return nil
		}
		for err := range tx.Check() {
			errs = append(errs, fmt.Errorf("bbolt: %w", err))
		}
		if len(errs) > 0 {
			// Walking a damaged tree can crash; stop at the page level.
			return nil
		}
		errs = append(errs, checkData(tx)...)
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("checking %s: %w", s.path, errors.Join(errs...))
	}
	return nil
}

// checkData decodes everything zevdesk stores in its own formats.
func checkData(tx *bbolt.Tx) []error {
	var errs []error
	for _, name := range allBuckets {
		if tx.Bucket(name) == nil {
			errs = append(errs, fmt.Errorf("bucket %s is missing", name))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	var blk dayBlock
	iv := tx.Bucket(bktIntervals)
	_ = iv.ForEachBucket(func(site []byte) error {
		sb := iv.Bucket(site)
		return sb.ForEach(func(name, v []byte) error {
			id, ok := parseSeriesName(string(site), name)
			if !ok || v != nil {
				errs = append(errs, fmt.Errorf("intervals of site %q: unexpected key %q", site, name))
				return nil
			}
			return sb.Bucket(name).ForEach(func(k, v []byte) error {
				day, ok := parseDayKey(k)
				if !ok {
					errs = append(errs, fmt.Errorf("intervals %s/%s/%s: malformed key %x", id.Site, id.Meter, id.Channel, k))
					return nil
				}
				if err := decodeBlock(v, &blk); err != nil {
					errs = append(errs, fmt.Errorf("intervals %s/%s/%s day %s (key %x): %w",
						id.Site, id.Meter, id.Channel, dayStart(day), k, err))
				}
				return nil
			})
		})
	})
	errs = append(errs, checkRecords(tx.Bucket(bktRecords))...)
	errs = append(errs, checkRegisters(tx.Bucket(bktRegisters))...)
	_ = tx.Bucket(bktSites).ForEach(func(k, v []byte) error {
		if _, err := decodeSite(v); err != nil {
			errs = append(errs, fmt.Errorf("site %q: %w", k, err))
		}
		return nil
	})
	return errs
}

// Close closes the database file.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", s.path, err)
	}
	return nil
}

// fileExists reports whether path names an existing file.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
