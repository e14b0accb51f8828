package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver"
)

// OpenStore opens (creating if needed) a store file; the command passes
// core/store/bolt's Open.
type OpenStore func(path string) (store.Store, error)

// Buffer keeps the gateway's records until the retention drops them. It is a
// log of segment files, each an ordinary zevdesk store (core/store) holding
// the records of about SegmentSpan: pruning deletes whole segment files,
// oldest first, which needs no delete operation from the store and costs
// nothing however many records go.
//
// Records get strictly increasing sequence numbers that survive restarts,
// and are committed to disk before Append returns, so nothing is served
// that could be lost. Buffer is safe for concurrent use.
type Buffer struct {
	dir    string
	source string
	open   OpenStore
	span   time.Duration

	appendMu sync.Mutex // serialises Append (sequence numbers, rollover)

	mu   sync.RWMutex // guards segs and the fields below
	segs []*segment   // in sequence order; the last is written to
	last uint64       // highest sequence number committed
}

// segment is one file of the buffer.
type segment struct {
	path string
	st   store.Store
	meta segmentMeta
}

// segmentMeta is kept in the segment's Meta under metaBucket/metaKey, written
// in the same transaction as the records it counts.
type segmentMeta struct {
	First     uint64    `json:"first"`
	Last      uint64    `json:"last"`
	Count     uint64    `json:"count"`
	FirstTime time.Time `json:"first_time"`
	LastTime  time.Time `json:"last_time"`
}

const (
	metaBucket = "gateway-buffer"
	metaKey    = "segment"
	segPrefix  = "records-"
	segSuffix  = ".db"
)

// DefaultSegmentSpan is how much time one segment file covers.
const DefaultSegmentSpan = 30 * 24 * time.Hour

// OpenBuffer opens the buffer in dir (creating it if needed). source is the
// gateway id the records are kept under; span is the time one segment
// covers (0 for DefaultSegmentSpan).
func OpenBuffer(dir, source string, open OpenStore, span time.Duration) (*Buffer, error) {
	if span <= 0 {
		span = DefaultSegmentSpan
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating buffer directory: %w", err)
	}
	b := &Buffer{dir: dir, source: source, open: open, span: span}
	names, err := filepath.Glob(filepath.Join(dir, segPrefix+"*"+segSuffix))
	if err != nil {
		return nil, fmt.Errorf("listing buffer segments: %w", err)
	}
	sort.Strings(names) // zero-padded first sequence numbers sort numerically
	for _, name := range names {
		seg, err := b.openSegment(name)
		if err != nil {
			b.Close()
			return nil, err
		}
		if seg.meta.Count == 0 && name != names[len(names)-1] {
			// An empty segment that is not the newest: a crash right after
			// a rollover. It holds nothing; drop it.
			seg.st.Close()
			os.Remove(name)
			continue
		}
		b.segs = append(b.segs, seg)
		b.last = max(b.last, seg.meta.Last)
	}
	return b, nil
}

func (b *Buffer) openSegment(path string) (*segment, error) {
	st, err := b.open(path)
	if err != nil {
		return nil, fmt.Errorf("opening buffer segment: %w", err)
	}
	seg := &segment{path: path, st: st}
	err = st.View(func(tx store.Tx) error {
		v, err := tx.GetMeta(metaBucket, metaKey)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return json.Unmarshal(v, &seg.meta)
	})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("reading buffer segment %s: %w", path, err)
	}
	return seg, nil
}

// Close closes every segment.
func (b *Buffer) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var errs []error
	for _, s := range b.segs {
		errs = append(errs, s.st.Close())
	}
	b.segs = nil
	return errors.Join(errs...)
}

// Append assigns the readings sequence numbers in order, commits them to
// disk and returns the records as stored.
func (b *Buffer) Append(rs []driver.Reading) ([]store.Record, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	b.appendMu.Lock()
	defer b.appendMu.Unlock()
	b.mu.RLock()
	seq := b.last
	var cur *segment
	if n := len(b.segs); n > 0 {
		cur = b.segs[n-1]
	}
	b.mu.RUnlock()

	recs := make([]store.Record, len(rs))
	for i, r := range rs {
		seq++
		recs[i] = store.Record{Source: b.source, Seq: seq, Meter: r.Meter,
			Time: r.Time.UTC().Truncate(time.Millisecond), Import: r.Import, Export: r.Export}
	}
	if cur == nil || cur.meta.Count > 0 && recs[0].Time.Sub(cur.meta.FirstTime) >= b.span {
		next, err := b.openSegment(filepath.Join(b.dir, fmt.Sprintf("%s%020d%s", segPrefix, recs[0].Seq, segSuffix)))
		if err != nil {
			return nil, err
		}
		b.mu.Lock()
		b.segs = append(b.segs, next)
		b.mu.Unlock()
		cur = next
	}
	meta := cur.meta
	if meta.Count == 0 {
		meta.First, meta.FirstTime = recs[0].Seq, recs[0].Time
	}
	meta.Last, meta.Count = seq, meta.Count+uint64(len(recs))
	// LastTime only grows: after the gateway's clock is set back, the
	// segment still holds its later records, and Prune must not delete
	// them before their retention ends.
	for _, r := range recs {
		if r.Time.After(meta.LastTime) {
			meta.LastTime = r.Time
		}
	}
	mb, _ := json.Marshal(meta)
	err := cur.st.Update(func(tx store.Tx) error {
		if _, err := tx.PutRecords(recs); err != nil {
			return err
		}
		if err := tx.SetCursor(b.source, seq); err != nil {
			return err
		}
		return tx.PutMeta(metaBucket, metaKey, mb)
	})
	if err != nil {
		return nil, fmt.Errorf("writing %d records to the buffer: %w", len(recs), err)
	}
	b.mu.Lock()
	cur.meta = meta
	b.last = seq
	b.mu.Unlock()
	return recs, nil
}

// Scan appends to dst the records with Seq > after in sequence order, at most
// limit of them, and returns it.
func (b *Buffer) Scan(dst []store.Record, after uint64, limit int) ([]store.Record, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, seg := range b.segs {
		if len(dst) >= limit {
			break
		}
		if seg.meta.Count == 0 || seg.meta.Last <= after {
			continue
		}
		err := seg.st.View(func(tx store.Tx) error {
			return tx.ScanRecords(b.source, after, func(r store.Record) bool {
				dst = append(dst, r)
				return len(dst) < limit
			})
		})
		if err != nil {
			return dst, fmt.Errorf("reading the buffer: %w", err)
		}
	}
	return dst, nil
}

// BufferStats describes the buffer's content.
type BufferStats struct {
	OldestSeq, LastSeq uint64
	Count              uint64
	OldestTime         time.Time
	NewestTime         time.Time // the latest record time (zero when empty)
	Segments           int
}

// Stats returns the buffer's current figures.
func (b *Buffer) Stats() BufferStats {
	b.mu.RLock()
	defer b.mu.RUnlock()
	s := BufferStats{LastSeq: b.last, Segments: len(b.segs)}
	for _, seg := range b.segs {
		if seg.meta.Count == 0 {
			continue
		}
		if s.OldestSeq == 0 {
			s.OldestSeq, s.OldestTime = seg.meta.First, seg.meta.FirstTime
		}
		s.Count += seg.meta.Count
		if seg.meta.LastTime.After(s.NewestTime) {
			s.NewestTime = seg.meta.LastTime
		}
	}
	return s
}

// Prune deletes the oldest segments all of whose records are older than
// before, never the newest segment, and returns how many records went. A
// retention of R days is kept by Prune(now - R days): records stay between R
// days and R days plus one segment span.
func (b *Buffer) Prune(before time.Time) (int, error) {
	b.appendMu.Lock() // no rollover while the list changes
	defer b.appendMu.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	removed := 0
	for len(b.segs) > 1 && b.segs[0].meta.LastTime.Before(before) {
		seg := b.segs[0]
		// Out of the list first: a closed segment left in it would fail
		// every later Scan. A file that could not be deleted holds only
		// records past their retention; OpenBuffer would serve them again,
		// so the error is reported.
		b.segs = b.segs[1:]
		removed += int(seg.meta.Count)
		if err := seg.st.Close(); err != nil {
			return removed, fmt.Errorf("closing buffer segment %s: %w", seg.path, err)
		}
		if err := os.Remove(seg.path); err != nil {
			return removed, fmt.Errorf("pruning buffer segment: %w", err)
		}
	}
	return removed, nil
}
