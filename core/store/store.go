// Package store declares how zevdesk keeps its data: small interfaces that
// the bbolt implementation (store/bolt) and the in-memory one (store/mem)
// satisfy, checked by the shared suite in store/storetest.
//
// Everything happens inside a transaction: Store.Update runs a function with a
// read-write Tx and commits when it returns nil, rolls back when it returns an
// error (or panics). An import of one file and a gateway batch with its cursor
// are each one transaction, so a crash at any moment leaves either all or
// nothing of them.
package store

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/zevdesk/zevdesk/core"
)

// Store is an office's database. It is safe for concurrent use: any number of
// View transactions run alongside at most one Update.
type Store interface {
	// View runs fn in a read-only transaction.
	View(fn func(Tx) error) error
	// Update runs fn in a read-write transaction and commits if fn returns
	// nil.
	Update(fn func(Tx) error) error
	// Backup writes a consistent snapshot of the whole database to w, in the
	// implementation's own file format (for bbolt: a bbolt file).
	Backup(w io.Writer) (int64, error)
	// Check verifies the database's internal consistency.
	Check() error
	// Close releases the store. Transactions must have ended.
	Close() error
}

// Tx is a transaction. Values it returns (slices, sites) are copies owned by
// the caller; a Tx itself is only valid inside the function it was passed to.
// A Tx from View returns ErrReadOnly from every write. Times come back in
// UTC. Ids (site, meter, source, flag kind) must be non-empty and free of NUL
// bytes.
type Tx interface {
	Sites
	Intervals
	Registers
	Records
	Flags
	Audit
	Locks
	Meta
}

// Sites keeps the site definitions.
type Sites interface {
	// PutSite creates or replaces a site (validated by the caller).
	PutSite(s *core.Site) error
	// Site returns the site with the given id, or ErrNotFound.
	Site(id string) (*core.Site, error)
	// SiteIDs lists every site id in lexical order.
	SiteIDs() ([]string, error)
}

// Channel is one direction of a meter's energy flow.
type Channel uint8

// Channels. A production meter's output and a grid meter's feed-in are
// Export.
const (
	Import Channel = 0 // energy drawn (consumption; grid supply)
	Export Channel = 1 // energy delivered (PV production; grid feed-in)
)

// String returns "import" or "export".
func (c Channel) String() string {
	if c == Export {
		return "export"
	}
	return "import"
}

// Quality says where an interval value comes from. The zero value means no
// value: a gap.
type Quality uint8

// Qualities.
const (
	Missing   Quality = 0 // no value
	Measured  Quality = 1 // metered (from registers or interval data)
	Estimated Quality = 2 // filled in by estimation; replaced by a later measurement
	Edited    Quality = 3 // set by a person (logged in the audit log)
)

// String returns the quality's name.
func (q Quality) String() string {
	return [...]string{"missing", "measured", "estimated", "edited"}[q&3]
}

// SeriesID names one channel of one meter of one site.
type SeriesID struct {
	Site    string
	Meter   string
	Channel Channel
}

// Check returns an error unless id's site and meter are valid ids (CheckID)
// and its channel is Import or Export.
func (id SeriesID) Check() error {
	if err := CheckID("site", id.Site); err != nil {
		return err
	}
	if err := CheckID("meter", id.Meter); err != nil {
		return err
	}
	if id.Channel > Export {
		return fmt.Errorf("invalid channel %d", id.Channel)
	}
	return nil
}

// CheckID returns an error unless id, the id of a what ("site", "meter",
// "source"), is one a Tx accepts: not empty and free of NUL bytes.
func CheckID(what, id string) error {
	if id == "" {
		return fmt.Errorf("empty %s id", what)
	}
	if strings.IndexByte(id, 0) >= 0 {
		return fmt.Errorf("invalid %s id %q: contains a NUL byte", what, id)
	}
	return nil
}

// Value is one interval's energy on one channel.
type Value struct {
	Slot    core.Slot
	Energy  core.Energy
	Quality Quality
}

// Series is a dense run of interval values: Energy[i] and Quality[i] belong to
// slot From+i. A gap has Quality Missing and Energy 0.
type Series struct {
	From    core.Slot
	Energy  []core.Energy
	Quality []Quality
}

// KeepService makes the slots of s outside [first, end) measured zeros: a
// meter out of service (core.Meter.Service: before its first day, after
// its last) records nothing, whatever is stored for it, so that billing and
// the checks neither use nor miss it.
func (s *Series) KeepService(first, end core.Slot) {
	for i := range s.Quality {
		if sl := s.From + core.Slot(i); sl < first || sl >= end {
			s.Quality[i] = Measured
			if i < len(s.Energy) {
				s.Energy[i] = 0
			}
		}
	}
}

// PutMode says what PutIntervals does with a slot that already has a value.
type PutMode uint8

// Put modes. In every mode writing a value identical to the stored one
// changes nothing, and a measured or edited value replaces an estimate.
const (
	// KeepFirst keeps a stored measured value that differs and reports the
	// conflict (the normal case: duplicates are never silently changed).
	KeepFirst PutMode = iota
	// Replace overwrites stored values (a grid operator's corrected delivery,
	// a person's edit); the caller logs it in the audit log.
	Replace
)

// PutResult counts what PutIntervals did.
type PutResult struct {
	Written   int        // new values and estimates replaced by measurements
	Unchanged int        // values identical to what was stored
	Replaced  int        // stored values overwritten in Replace mode
	Conflicts []Conflict // differing values kept in KeepFirst mode
}

// Conflict is a value that differs from the one already stored.
type Conflict struct {
	Slot     core.Slot
	Stored   Value
	Incoming Value
}

// Intervals keeps 15-minute energy per meter and channel.
type Intervals interface {
	// PutIntervals stores vals (any order, one value per slot) into the
	// series, following mode. Values with Quality Missing are ignored. A
	// value that would change a slot inside a locked period of the site
	// fails the whole call with an error wrapping ErrLocked.
	//
	// In detail: a value is identical when energy and quality both match.
	// A slot that is empty or holds an estimate takes any incoming value
	// (Written). A stored measured or edited value that differs (in energy
	// or quality; an incoming estimate too) is kept and reported in
	// KeepFirst mode and overwritten in Replace mode. Only Written and
	// Replaced slots count as changes for the lock check. Conflicts are in
	// slot order.
	PutIntervals(id SeriesID, vals []Value, mode PutMode) (PutResult, error)
	// ReadIntervals fills dst with the series' values for [from, to):
	// dst.From = from, and dst.Energy and dst.Quality get length to-from,
	// reusing their capacity.
	ReadIntervals(id SeriesID, from, to core.Slot, dst *Series) error
	// SeriesIDs lists the series stored for a site.
	SeriesIDs(site string) ([]SeriesID, error)
}

// Register is a meter's cumulative register reading at an instant.
type Register struct {
	Time   time.Time   // UTC
	Import core.Energy // import register (consumption)
	Export core.Energy // export register (production, feed-in)
}

// Replacement is a confirmed meter exchange: the old meter's final reading and
// the new meter's initial reading at the moment of the exchange. Energy
// derivation treats the registers as continuous across it.
type Replacement struct {
	Time       time.Time
	OldFinal   Register
	NewInitial Register
	Note       string
}

// Registers keeps register readings, the basis of interval energy and of the
// start and end readings printed on invoices.
type Registers interface {
	// PutRegisters stores readings of a meter. A reading at an instant that
	// already has an identical one changes nothing; a different one is kept
	// out and returned as a conflict.
	PutRegisters(site, meter string, rs []Register) (conflicts []Register, err error)
	// ScanRegisters calls fn for each reading with from <= Time < to in time
	// order until fn returns false.
	ScanRegisters(site, meter string, from, to time.Time, fn func(Register) bool) error
	// RegisterBefore returns the latest reading strictly before t, or
	// ErrNotFound.
	RegisterBefore(site, meter string, t time.Time) (Register, error)
	// RegisterAtOrAfter returns the earliest reading at or after t, or
	// ErrNotFound.
	RegisterAtOrAfter(site, meter string, t time.Time) (Register, error)
	// PutReplacement records a confirmed meter exchange.
	PutReplacement(site, meter string, r Replacement) error
	// Replacements returns a meter's exchanges in time order.
	Replacements(site, meter string) ([]Replacement, error)
}

// Record is a raw record as a gateway sent it, kept so that intervals can be
// derived again when a rule changes.
type Record struct {
	Source string // gateway id
	Seq    uint64 // the gateway's strictly increasing sequence number
	Meter  string // the gateway's meter id
	Time   time.Time
	Import core.Energy
	Export core.Energy
}

// Records keeps raw gateway records and each gateway's cursor.
type Records interface {
	// PutRecords stores records; one already stored under its source and
	// sequence number is skipped. It returns how many were new.
	PutRecords(recs []Record) (int, error)
	// ScanRecords calls fn for source's records with Seq > after, in
	// sequence order, until fn returns false.
	ScanRecords(source string, after uint64, fn func(Record) bool) error
	// Cursor returns the highest sequence number committed for source
	// (0 if none).
	Cursor(source string) (uint64, error)
	// SetCursor sets source's cursor.
	SetCursor(source string, seq uint64) error
}

// Flag is a plausibility finding about one interval or reading (see
// core/vee for the kinds). Nothing is dropped or changed silently: the value
// stays as it came, the flag says why it looks wrong.
type Flag struct {
	Site   string
	Meter  string
	Slot   core.Slot
	Kind   string // machine-readable, e.g. "register-backwards"
	Reason string // for people, with the numbers
}

// Flags keeps plausibility flags.
type Flags interface {
	// PutFlags stores flags; a flag with the same site, meter, slot and kind
	// replaces the earlier one.
	PutFlags(fs []Flag) error
	// ScanFlags calls fn for a site's flags with from <= Slot < to, ordered
	// by meter then slot, until fn returns false.
	ScanFlags(site string, from, to core.Slot, fn func(Flag) bool) error
	// DeleteFlags removes the flags of a kind from a meter's slots [from, to)
	// (after a person resolved them).
	DeleteFlags(site, meter, kind string, from, to core.Slot) error
}

// Entry is one line of the audit log.
type Entry struct {
	Seq    uint64 // assigned by AppendAudit
	Time   time.Time
	Actor  string // who: a user name, "import", "gateway:ID"
	Site   string
	Action string // e.g. "site.import", "intervals.replace", "period.unlock"
	Detail string
}

// Audit is the append-only log of every edit.
type Audit interface {
	// AppendAudit appends e and returns its sequence number.
	AppendAudit(e Entry) (uint64, error)
	// ScanAudit calls fn for entries with Seq > after in order until fn
	// returns false.
	ScanAudit(after uint64, fn func(Entry) bool) error
}

// Lock marks a billed period: its data may not change until it is unlocked.
type Lock struct {
	Site   string
	Period core.Period
	Time   time.Time
	Note   string
}

// Locks keeps billed periods.
type Locks interface {
	// LockPeriod locks a period of a site.
	LockPeriod(l Lock) error
	// UnlockPeriod removes the lock of exactly that period, or returns
	// ErrNotFound. The caller logs the unlock with its reason.
	UnlockPeriod(site string, p core.Period) error
	// LocksOf returns a site's locks ordered by period start.
	LocksOf(site string) ([]Lock, error)
}

// Meta keeps small named documents (gateway pairings, invoice counters,
// billing runs, settings), each a byte string its owner encodes.
type Meta interface {
	// GetMeta returns the value stored under bucket and key, or ErrNotFound.
	GetMeta(bucket, key string) ([]byte, error)
	// PutMeta stores value under bucket and key.
	PutMeta(bucket, key string, value []byte) error
	// DeleteMeta removes bucket/key; removing a missing key is no error.
	DeleteMeta(bucket, key string) error
	// ScanMeta calls fn for every key of bucket in lexical order until fn
	// returns false.
	ScanMeta(bucket string, fn func(key string, value []byte) bool) error
}

// ErrNotFound is returned when a requested item does not exist.
var ErrNotFound = errors.New("not found")

// ErrReadOnly is returned by writes in a View transaction.
var ErrReadOnly = errors.New("read-only transaction")

// ErrLocked is returned when a write touches a locked (billed) period.
var ErrLocked = errors.New("period is locked (billed); unlock it first")
