package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
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
//
// Retention never drops a record the office has not acknowledged (Ack):
// the gateway's clock may be wrong, the office's copy is what counts.
type Buffer struct {
	dir    string
	source string
	open   OpenStore
	span   time.Duration
	log    *slog.Logger

	// MaxRecords caps the buffer (0: DefaultMaxRecords): beyond it Prune
	// drops the oldest segments even if the office has not fetched them,
	// so that a gateway no office fetches from keeps metering instead of
	// filling its disk. Set it before the buffer is used.
	MaxRecords uint64

	appendMu sync.Mutex // serialises Append (sequence numbers, rollover)
	stateMu  sync.Mutex // serialises writing retention.json, guards recent
	recent   []uint64   // the afters of the office's last requests (Ack)

	mu   sync.RWMutex   // guards segs and the fields below
	segs []*segment     // in sequence order; the last is written to
	last uint64         // highest sequence number committed
	ret  retentionState // as on disk
}

// retentionState is what the buffer keeps in retention.json, besides the
// records, to decide what Prune may delete.
type retentionState struct {
	// AckedSeq is up to where the office has committed every record: the
	// lowest after of its last few /records requests (see Ack). 0 until an
	// office fetched.
	AckedSeq uint64 `json:"acked_seq"`
	// HoldSeq, when not 0, is a record stamped more than MaxClockJump
	// after every record before it: the clock jumped ahead (or the gateway
	// was off for long). Retention measured from such a clock is not to be
	// trusted, so nothing is pruned until the office has fetched the
	// record (AckedSeq >= HoldSeq) and seen its time.
	HoldSeq  uint64    `json:"hold_seq,omitempty"`
	JumpFrom time.Time `json:"jump_from,omitzero"` // the newest record time before the jump
	JumpTo   time.Time `json:"jump_to,omitzero"`   // the time HoldSeq was stamped with
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

// DefaultMaxRecords is the default cap of the buffer: about 11 years of 50
// meters read every 15 minutes (1.75 million records a year), some 2.5 GB of
// segment files at about 125 bytes a record.
const DefaultMaxRecords = 20_000_000

// MaxClockJump is how far a record's time may lie past every earlier
// record's before the buffer takes it for a jump of the gateway's clock and
// holds pruning until the office has fetched it.
const MaxClockJump = 24 * time.Hour

// retentionFile, in the buffer directory, holds the retentionState.
const retentionFile = "retention.json"

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
	b := &Buffer{dir: dir, source: source, open: open, span: span, log: slog.Default()}
	if err := b.loadState(); err != nil {
		return nil, err
	}
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

// loadState reads retention.json; a missing file is a buffer no office has
// fetched from yet.
func (b *Buffer) loadState() error {
	path := filepath.Join(b.dir, retentionFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the buffer's retention state: %w", err)
	}
	if err := json.Unmarshal(data, &b.ret); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}

// saveState writes st to retention.json (synced, renamed into place) and
// makes it the buffer's state. The caller holds stateMu.
func (b *Buffer) saveState(st retentionState) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(b.dir, retentionFile), append(data, '\n')); err != nil {
		return fmt.Errorf("saving the buffer's retention state: %w", err)
	}
	b.mu.Lock()
	b.ret = st
	b.mu.Unlock()
	return nil
}

// ackWindow is how many of the office's last /records requests the
// acknowledgement is the lowest after of: zevdesk's workstation fetches up
// to two pages ahead of what it has committed (one page decoded and waiting,
// one in flight), so the after of a request is committed for sure only once
// two more requests have followed it.
const ackWindow = 3

// Ack notes the after of an office's /records request: the office has
// stored every record up to the lowest after of its last ackWindow
// requests, which is kept on disk before Ack returns. A lower after than
// before counts at once (an office restored from an older backup, or newly
// paired, fetches from further back), so that what it asks for again stays.
// Acknowledging HoldSeq ends a pruning hold.
func (b *Buffer) Ack(after uint64) error {
	b.stateMu.Lock()
	defer b.stateMu.Unlock()
	b.mu.RLock()
	st := b.ret
	last := b.last
	b.mu.RUnlock()
	if b.recent == nil {
		b.recent = []uint64{st.AckedSeq}
	}
	b.recent = append(b.recent, min(after, last)) // an office cannot have what was never assigned
	if len(b.recent) > ackWindow {
		b.recent = b.recent[len(b.recent)-ackWindow:]
	}
	seq := slices.Min(b.recent)
	if st.AckedSeq == seq {
		return nil // the office polls every few seconds: no write for nothing
	}
	st.AckedSeq = seq
	if st.HoldSeq != 0 && seq >= st.HoldSeq {
		b.log.Info("the office fetched the records after the clock jump: pruning resumes",
			"seq", st.HoldSeq, "jump_from", st.JumpFrom, "jump_to", st.JumpTo)
		st.HoldSeq, st.JumpFrom, st.JumpTo = 0, time.Time{}, time.Time{}
	}
	if err := b.saveState(st); err != nil {
		// Not saved: keep the lower of the two in memory, which can only
		// keep more.
		b.mu.Lock()
		b.ret.AckedSeq = min(b.ret.AckedSeq, seq)
		b.mu.Unlock()
		return err
	}
	return nil
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
	if err := b.checkJump(recs); err != nil {
		return nil, err
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

// checkJump holds pruning, on disk before the records are committed, when
// recs jump more than MaxClockJump past the newest record stored.
func (b *Buffer) checkJump(recs []store.Record) error {
	newest := b.Stats().NewestTime
	if newest.IsZero() {
		return nil
	}
	var jump *store.Record
	for i := range recs {
		if recs[i].Time.Sub(newest) > MaxClockJump {
			jump = &recs[i]
			break
		}
		newest = later(newest, recs[i].Time)
	}
	if jump == nil {
		return nil
	}
	b.log.Warn("a record is stamped far past the newest before it: the gateway clock jumped ahead or the gateway was off; "+
		"pruning holds until the office has fetched it", "seq", jump.Seq, "newest_before", newest, "stamped", jump.Time)
	b.stateMu.Lock()
	defer b.stateMu.Unlock()
	b.mu.RLock()
	st := b.ret
	b.mu.RUnlock()
	st.HoldSeq, st.JumpFrom, st.JumpTo = jump.Seq, newest, jump.Time
	if err := b.saveState(st); err != nil {
		return fmt.Errorf("holding the retention after a clock jump: %w", err)
	}
	return nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
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
	AckedSeq           uint64 // see Ack
	HoldSeq            uint64 // not 0 while a clock jump holds pruning
}

// Stats returns the buffer's current figures.
func (b *Buffer) Stats() BufferStats {
	b.mu.RLock()
	defer b.mu.RUnlock()
	s := BufferStats{LastSeq: b.last, Segments: len(b.segs), AckedSeq: b.ret.AckedSeq, HoldSeq: b.ret.HoldSeq}
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
// before and acknowledged by the office (Ack), never the newest segment,
// and returns how many records went. A retention of R days is kept by
// Prune(now - R days): acknowledged records stay between R days and R days
// plus one segment span; unacknowledged ones stay. While a clock jump holds
// pruning (see retentionState.HoldSeq), nothing goes.
//
// The only exception is the cap (MaxRecords): while the buffer holds more,
// the oldest segments go whatever the office has fetched, and Prune logs
// it as an error.
func (b *Buffer) Prune(before time.Time) (int, error) {
	b.appendMu.Lock() // no rollover while the list changes
	defer b.appendMu.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	limit := b.MaxRecords
	if limit == 0 {
		limit = DefaultMaxRecords
	}
	var count uint64
	for _, seg := range b.segs {
		count += seg.meta.Count
	}
	held := b.ret.HoldSeq != 0 && b.ret.AckedSeq < b.ret.HoldSeq
	removed := 0
	for len(b.segs) > 1 {
		seg := b.segs[0]
		over := count > limit
		if !over && (held || seg.meta.Last > b.ret.AckedSeq || !seg.meta.LastTime.Before(before)) {
			break
		}
		if over && seg.meta.Last > b.ret.AckedSeq {
			b.log.Error("the buffer is full: dropping records the office has not fetched",
				"records", seg.meta.Count, "first_seq", seg.meta.First, "last_seq", seg.meta.Last, "acked_seq", b.ret.AckedSeq, "cap", limit)
		}
		// Out of the list first: a closed segment left in it would fail
		// every later Scan. A file that could not be deleted holds only
		// records past their retention; OpenBuffer would serve them again,
		// so the error is reported.
		b.segs = b.segs[1:]
		removed += int(seg.meta.Count)
		count -= seg.meta.Count
		if err := seg.st.Close(); err != nil {
			return removed, fmt.Errorf("closing buffer segment %s: %w", seg.path, err)
		}
		if err := os.Remove(seg.path); err != nil {
			return removed, fmt.Errorf("pruning buffer segment: %w", err)
		}
	}
	return removed, nil
}
