package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/core/store/postgres"
)

func init() {
	Register(Command{
		Name:    "db copy",
		Args:    "--from DB --to DB",
		Summary: "copy a whole database between a bbolt file and PostgreSQL (postgres://USER@HOST/NAME; the PG* environment variables fill in what the URL leaves out), e.g. to move an office from the workstation file to a server; the target must hold no data; every bucket is compared by count and checksum before the copy commits",
		Run:     runDBCopy,
	})
}

// OpenStore opens the database db names: a postgres:// or postgresql:// URL
// opens PostgreSQL (core/store/postgres), anything else is a bbolt file
// (created with its directory if needed). The desktop app's Settings use it
// with the value the user typed, and DBName for showing it.
func OpenStore(db string) (store.Store, error) {
	if postgres.IsURL(db) {
		return postgres.Open(db)
	}
	if err := os.MkdirAll(filepath.Dir(db), 0o700); err != nil {
		return nil, fmt.Errorf("creating the database directory: %w", err)
	}
	st, err := bolt.Open(db, nil)
	if err != nil {
		return nil, fmt.Errorf("opening database %s: %w", db, err)
	}
	return st, nil
}

// DBName is db as it may be shown or logged: a URL without its password.
func DBName(db string) string {
	if postgres.IsURL(db) {
		return postgres.Redact(db)
	}
	return db
}

func runDBCopy(env *Env, args []string) error {
	flags := NewFlagSet("db copy")
	from := flags.String("from", "", "database to copy: a bbolt file or a postgres:// URL")
	to := flags.String("to", "", "database to copy into (it must hold no data): a bbolt file or a postgres:// URL")
	rest, err := ParseFlags("db copy", flags, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return Usagef("db copy", "unexpected argument %q", rest[0])
	case *from == "" || *to == "":
		return Usagef("db copy", "give --from DB and --to DB")
	case *from == *to:
		return Usagef("db copy", "--from and --to name the same database")
	}
	if err := requireDBAt(env, *from); err != nil {
		return err
	}
	src, err := OpenStore(env.Path(*from))
	if err != nil {
		return err
	}
	defer src.Close()
	// A file the copy creates is removed again when the copy fails.
	created := false
	if !postgres.IsURL(*to) {
		_, err := os.Stat(env.Path(*to))
		created = errors.Is(err, fs.ErrNotExist)
	}
	dst, err := OpenStore(env.Path(*to))
	if err != nil {
		return err
	}
	sums, err := CopyStore(src, dst)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if created {
			os.Remove(env.Path(*to))
		}
		return fmt.Errorf("copying %s to %s: %w", DBName(*from), DBName(*to), err)
	}
	fmt.Fprintf(env.Stdout, "copied %s to %s; every bucket verified:\n", DBName(*from), DBName(*to))
	printSums(env.Stdout, sums)
	return nil
}

// BucketSum is what a copy compares of one kind of data ("bucket"): how many
// items, and a SHA-256 over all of them in a canonical rendering.
type BucketSum struct {
	Bucket string
	Count  int
	Sum    string
}

func printSums(w io.Writer, sums []BucketSum) {
	for _, s := range sums {
		fmt.Fprintf(w, "  %-12s %9d  sha256 %s\n", s.Bucket, s.Count, s.Sum[:16])
	}
}

// ErrNotEmpty is returned by CopyStore when the target holds data.
var ErrNotEmpty = errors.New("the target database already holds data; copy only into an empty one")

// CopyStore copies everything src holds into dst, which must be empty,
// in one transaction of each: a consistent snapshot of src, all or nothing
// in dst. Before it commits it compares every bucket of both by count and
// checksum and gives up (leaving dst as it was) on any difference. Both must
// list their contents (store.Lister).
func CopyStore(src, dst store.Store) ([]BucketSum, error) {
	var sums []BucketSum
	err := src.View(func(stx store.Tx) error {
		sl, ok := stx.(store.Lister)
		if !ok {
			return errors.New("the source database cannot list its contents")
		}
		want, err := summarize(stx, sl)
		if err != nil {
			return fmt.Errorf("reading the source: %w", err)
		}
		return dst.Update(func(dtx store.Tx) error {
			dl, ok := dtx.(store.Lister)
			if !ok {
				return errors.New("the target database cannot list its contents")
			}
			if full, err := holdsData(dtx, dl); err != nil {
				return err
			} else if full {
				return ErrNotEmpty
			}
			if err := copyTx(stx, sl, dtx); err != nil {
				return err
			}
			got, err := summarize(dtx, dl)
			if err != nil {
				return fmt.Errorf("reading the copy: %w", err)
			}
			var bad []string
			for i := range want {
				if want[i] != got[i] {
					bad = append(bad, fmt.Sprintf("%s: %d items (sha256 %.16s) copied as %d (%.16s)",
						want[i].Bucket, want[i].Count, want[i].Sum, got[i].Count, got[i].Sum))
				}
			}
			if len(bad) > 0 {
				return fmt.Errorf("the copy differs, nothing was written: %s", strings.Join(bad, "; "))
			}
			sums = want
			return nil
		})
	})
	return sums, err
}

// holdsData reports whether tx holds anything at all.
func holdsData(tx store.Tx, l store.Lister) (bool, error) {
	ids, err := tx.SiteIDs()
	if err != nil || len(ids) > 0 {
		return len(ids) > 0, err
	}
	srcs, err := l.Sources()
	if err != nil || len(srcs) > 0 {
		return len(srcs) > 0, err
	}
	bs, err := l.MetaBuckets()
	if err != nil || len(bs) > 0 {
		return len(bs) > 0, err
	}
	any := false
	err = tx.ScanAudit(0, func(store.Entry) bool { any = true; return false })
	return any, err
}

// Time bounds that cover every stored instant.
var (
	timeMin = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	timeMax = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)

// copyChunk is how many values or items move per call.
const copyChunk = 20000

// copyTx writes everything of src into dst. Locks go last, so that the data
// of a locked period can still be written.
func copyTx(src store.Tx, l store.Lister, dst store.Tx) error {
	sites, err := src.SiteIDs()
	if err != nil {
		return err
	}
	for _, id := range sites {
		s, err := src.Site(id)
		if err != nil {
			return err
		}
		if err := dst.PutSite(s); err != nil {
			return err
		}
		if err := copySeries(src, l, dst, id); err != nil {
			return err
		}
		meters, err := l.RegisterMeters(id)
		if err != nil {
			return err
		}
		for _, m := range meters {
			var batch []store.Register
			flush := func() error {
				_, err := dst.PutRegisters(id, m, batch)
				batch = batch[:0]
				return err
			}
			var perr error
			err := src.ScanRegisters(id, m, timeMin, timeMax, func(r store.Register) bool {
				batch = append(batch, r)
				if len(batch) == copyChunk {
					perr = flush()
				}
				return perr == nil
			})
			if err = errors.Join(err, perr); err != nil {
				return err
			}
			if err := flush(); err != nil {
				return err
			}
			rs, err := src.Replacements(id, m)
			if err != nil {
				return err
			}
			for _, r := range rs {
				if err := dst.PutReplacement(id, m, r); err != nil {
					return err
				}
			}
		}
		var flags []store.Flag
		if err := src.ScanFlags(id, math.MinInt64, math.MaxInt64, func(f store.Flag) bool { flags = append(flags, f); return true }); err != nil {
			return err
		}
		if err := dst.PutFlags(flags); err != nil {
			return err
		}
	}
	sources, err := l.Sources()
	if err != nil {
		return err
	}
	for _, s := range sources {
		var batch []store.Record
		var perr error
		err := src.ScanRecords(s, 0, func(r store.Record) bool {
			batch = append(batch, r)
			if len(batch) == copyChunk {
				_, perr = dst.PutRecords(batch)
				batch = batch[:0]
			}
			return perr == nil
		})
		if err = errors.Join(err, perr); err != nil {
			return err
		}
		if _, err := dst.PutRecords(batch); err != nil {
			return err
		}
		c, err := src.Cursor(s)
		if err != nil {
			return err
		}
		if err := dst.SetCursor(s, c); err != nil {
			return err
		}
	}
	var aerr error
	err = src.ScanAudit(0, func(e store.Entry) bool {
		var seq uint64
		seq, aerr = dst.AppendAudit(e)
		if aerr == nil && seq != e.Seq {
			aerr = fmt.Errorf("audit entry %d would become %d (the source's log has a gap)", e.Seq, seq)
		}
		return aerr == nil
	})
	if err = errors.Join(err, aerr); err != nil {
		return err
	}
	buckets, err := l.MetaBuckets()
	if err != nil {
		return err
	}
	for _, b := range buckets {
		var merr error
		err := src.ScanMeta(b, func(k string, v []byte) bool {
			merr = dst.PutMeta(b, k, v)
			return merr == nil
		})
		if err = errors.Join(err, merr); err != nil {
			return err
		}
	}
	for _, id := range sites {
		ls, err := src.LocksOf(id)
		if err != nil {
			return err
		}
		for _, lk := range ls {
			if err := dst.LockPeriod(lk); err != nil {
				return err
			}
		}
	}
	return nil
}

// seriesStep is how many slots of a series a copy reads at once (about
// three months).
const seriesStep = 92 * core.SlotsPerUTCDay

// copySeries copies the interval series of a site.
func copySeries(src store.Tx, l store.Lister, dst store.Tx, site string) error {
	ids, err := src.SeriesIDs(site)
	if err != nil {
		return err
	}
	var ser store.Series
	var vals []store.Value
	for _, id := range ids {
		from, to, ok, err := l.SeriesSpan(id)
		if err != nil || !ok {
			return err
		}
		for a := from; a < to; a += seriesStep {
			b := min(a+seriesStep, to)
			if err := src.ReadIntervals(id, a, b, &ser); err != nil {
				return err
			}
			vals = vals[:0]
			for i, q := range ser.Quality {
				if q != store.Missing {
					vals = append(vals, store.Value{Slot: a + core.Slot(i), Energy: ser.Energy[i], Quality: q})
				}
			}
			if len(vals) == 0 {
				continue
			}
			if _, err := dst.PutIntervals(id, vals, store.Replace); err != nil {
				return err
			}
		}
	}
	return nil
}

// summarize counts and hashes every bucket of tx, in a fixed order.
func summarize(tx store.Tx, l store.Lister) ([]BucketSum, error) {
	names := []string{"sites", "intervals", "registers", "replacements", "records", "cursors", "flags", "audit", "locks", "meta"}
	hs := map[string]hash.Hash{}
	counts := map[string]int{}
	for _, n := range names {
		hs[n] = sha256.New()
	}
	add := func(bucket, format string, args ...any) {
		counts[bucket]++
		fmt.Fprintf(hs[bucket], format+"\n", args...)
	}
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	sites, err := tx.SiteIDs()
	if err != nil {
		return nil, err
	}
	var ser store.Series
	for _, id := range sites {
		s, err := tx.Site(id)
		if err != nil {
			return nil, err
		}
		js, err := json.Marshal(s)
		if err != nil {
			return nil, err
		}
		add("sites", "%q %s", id, js)
		ids, err := tx.SeriesIDs(id)
		if err != nil {
			return nil, err
		}
		for _, sid := range ids {
			from, to, ok, err := l.SeriesSpan(sid)
			if err != nil {
				return nil, err
			}
			for a := from; ok && a < to; a += seriesStep {
				if err := tx.ReadIntervals(sid, a, min(a+seriesStep, to), &ser); err != nil {
					return nil, err
				}
				for i, q := range ser.Quality {
					if q != store.Missing {
						add("intervals", "%q %q %d %d %d %d", sid.Site, sid.Meter, sid.Channel, a+core.Slot(i), ser.Energy[i], q)
					}
				}
			}
		}
		meters, err := l.RegisterMeters(id)
		if err != nil {
			return nil, err
		}
		for _, m := range meters {
			if err := tx.ScanRegisters(id, m, timeMin, timeMax, func(r store.Register) bool {
				add("registers", "%q %q %s %d %d", id, m, ts(r.Time), r.Import, r.Export)
				return true
			}); err != nil {
				return nil, err
			}
			rs, err := tx.Replacements(id, m)
			if err != nil {
				return nil, err
			}
			for _, r := range rs {
				add("replacements", "%q %q %s %s %d %d %s %d %d %q", id, m, ts(r.Time),
					ts(r.OldFinal.Time), r.OldFinal.Import, r.OldFinal.Export,
					ts(r.NewInitial.Time), r.NewInitial.Import, r.NewInitial.Export, r.Note)
			}
		}
		if err := tx.ScanFlags(id, math.MinInt64, math.MaxInt64, func(f store.Flag) bool {
			add("flags", "%q %q %d %q %q", f.Site, f.Meter, f.Slot, f.Kind, f.Reason)
			return true
		}); err != nil {
			return nil, err
		}
		ls, err := tx.LocksOf(id)
		if err != nil {
			return nil, err
		}
		for _, lk := range ls {
			add("locks", "%q %s %s %s %q", lk.Site, lk.Period.From, lk.Period.To, ts(lk.Time), lk.Note)
		}
	}
	sources, err := l.Sources()
	if err != nil {
		return nil, err
	}
	for _, s := range sources {
		if err := tx.ScanRecords(s, 0, func(r store.Record) bool {
			add("records", "%q %d %q %s %d %d", r.Source, r.Seq, r.Meter, ts(r.Time), r.Import, r.Export)
			return true
		}); err != nil {
			return nil, err
		}
		c, err := tx.Cursor(s)
		if err != nil {
			return nil, err
		}
		add("cursors", "%q %d", s, c)
	}
	if err := tx.ScanAudit(0, func(e store.Entry) bool {
		add("audit", "%d %s %q %q %q %q", e.Seq, ts(e.Time), e.Actor, e.Site, e.Action, e.Detail)
		return true
	}); err != nil {
		return nil, err
	}
	buckets, err := l.MetaBuckets()
	if err != nil {
		return nil, err
	}
	sort.Strings(buckets)
	for _, b := range buckets {
		if err := tx.ScanMeta(b, func(k string, v []byte) bool {
			add("meta", "%q %q %x", b, k, v)
			return true
		}); err != nil {
			return nil, err
		}
	}
	out := make([]BucketSum, len(names))
	for i, n := range names {
		out[i] = BucketSum{Bucket: n, Count: counts[n], Sum: hex.EncodeToString(hs[n].Sum(nil))}
	}
	return out, nil
}
