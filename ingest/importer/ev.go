package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/store"
)

// Columns of an EV sessions file.
var (
	evColumns  = []string{"charger", "card", "start", "end", "kwh", "person", "unit", "id"}
	evRequired = []string{"charger", "card", "start", "end", "kwh"}
)

const evWhat = "an EV sessions file"

// EVSessions is a parsed EV charging sessions file.
type EVSessions struct {
	File string
	// Sessions in file order, with the person each is billed to resolved;
	// Lines[i] is the line of Sessions[i] and KWh[i] the energy the charger
	// counted for it (informative: billing uses the charger meter's
	// 15-minute energy).
	Sessions []billing.Session
	Lines    []int
	KWh      []core.Energy
}

// Total returns the energy of all sessions as the chargers counted it.
func (e *EVSessions) Total() core.Energy {
	var t core.Energy
	for _, k := range e.KWh {
		t += k
	}
	return t
}

// EVCard is whom a card's sessions are billed to.
type EVCard struct {
	Person, Unit string
}

// EVCards maps a card to whom its sessions are billed: the card table that
// lets a file give the person only once per card, or not at all for a card
// known from earlier imports.
type EVCards map[string]EVCard

// Add records the cards of ev's sessions (later sessions win).
func (c EVCards) Add(ev *EVSessions) {
	for _, s := range ev.Sessions {
		c[s.Card] = EVCard{Person: s.Person, Unit: s.Unit}
	}
}

// StoredEVCards returns the card table of a site's stored sessions: for each
// card the person and unit of its latest session.
func StoredEVCards(tx store.Tx, site string) (EVCards, error) {
	cards := EVCards{}
	latest := map[string]time.Time{}
	var bad error
	prefix := site + "/"
	err := tx.ScanMeta(billing.BucketSessions, func(k string, v []byte) bool {
		if !strings.HasPrefix(k, prefix) {
			return true
		}
		var s billing.Session
		if err := json.Unmarshal(v, &s); err != nil {
			bad = fmt.Errorf("reading stored EV session %s: %w", k, err)
			return false
		}
		if t, ok := latest[s.Card]; !ok || !s.Start.Before(t) {
			latest[s.Card] = s.Start
			cards[s.Card] = EVCard{Person: s.Person, Unit: s.Unit}
		}
		return true
	})
	if err == nil {
		err = bad
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return cards, nil
}

// ReadEVFile parses the EV sessions file at path for site: XLSX by its
// extension, CSV otherwise. cards may be nil.
func ReadEVFile(path string, site *core.Site, cards EVCards) (*EVSessions, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseEV(path, f, strings.EqualFold(filepath.Ext(path), ".xlsx"), site, cards)
}

// evRow is a row before its person is resolved.
type evRow struct {
	line    int
	s       billing.Session
	kwh     core.Energy
	cardCol int
}

// ParseEV parses an EV sessions file (docs/formats.md) named name: a CSV
// file or, with xlsx, a workbook's first sheet. Each session is billed to
// its person: the row's person, else the tenant of the row's unit on the
// session's first day, else the person or unit another row of the file
// gives for the same card, else the card's entry in cards (which may be
// nil; see StoredEVCards). Chargers must be EV meters of site; sessions of
// one charger must not overlap. Bad input is one *Error naming the line and
// column.
func ParseEV(name string, r io.Reader, xlsx bool, site *core.Site, cards EVCards) (*EVSessions, error) {
	sh, err := readSheet(name, r, xlsx, evWhat, evColumns, evRequired)
	if err != nil {
		return nil, err
	}
	loc := site.Location()
	var rows []evRow
	// inFile maps a card to the first row that names its person or unit.
	inFile := map[string]int{}
	for _, row := range sh.rows {
		if err := sh.extra(row.line, row.cells); err != nil {
			return nil, err
		}
		er, err := evParseRow(sh, row, site, loc)
		if err != nil {
			return nil, err
		}
		if _, ok := inFile[er.s.Card]; !ok && er.s.Person != "" {
			inFile[er.s.Card] = len(rows)
		}
		rows = append(rows, er)
	}
	out := &EVSessions{File: name}
	ids := map[string]int{}
	for i := range rows {
		er := &rows[i]
		if er.s.Person == "" {
			if j, ok := inFile[er.s.Card]; ok {
				er.s.Person, er.s.Unit = rows[j].s.Person, rows[j].s.Unit
			} else if c, ok := cards[er.s.Card]; ok && c.Person != "" {
				er.s.Person, er.s.Unit = c.Person, c.Unit
			} else {
				return nil, sh.cellErr(er.line, er.cardCol, "card %s: no person to bill: expected the column person or unit on this row or on another row of the card (no stored session has this card)", er.s.Card)
			}
		}
		if prev, dup := ids[er.s.ID]; dup {
			_, c := sh.get(sheetRow{}, "id")
			return nil, sh.cellErr(er.line, c, "session %s appears twice: also on line %d", er.s.ID, prev)
		}
		ids[er.s.ID] = er.line
		out.Sessions = append(out.Sessions, er.s)
		out.Lines = append(out.Lines, er.line)
		out.KWh = append(out.KWh, er.kwh)
	}
	// Sessions of one charger may not overlap: the car charged in one.
	idx := make([]int, len(out.Sessions))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		sa, sb := out.Sessions[a], out.Sessions[b]
		if c := strings.Compare(sa.Meter, sb.Meter); c != 0 {
			return c
		}
		return sa.Start.Compare(sb.Start)
	})
	for k := 1; k < len(idx); k++ {
		a, b := out.Sessions[idx[k-1]], out.Sessions[idx[k]]
		if a.Meter == b.Meter && b.Start.Before(a.End) {
			late, early := idx[k], idx[k-1]
			if out.Lines[late] < out.Lines[early] {
				late, early = early, late
			}
			_, c := sh.get(sheetRow{}, "start")
			s, e := out.Sessions[late], out.Sessions[early]
			return nil, sh.cellErr(out.Lines[late], c, "charger %s: the session %s–%s overlaps the one on line %d (%s–%s)",
				s.Meter, evTime(s.Start, loc), evTime(s.End, loc), out.Lines[early], evTime(e.Start, loc), evTime(e.End, loc))
		}
	}
	return out, nil
}

func evTime(t time.Time, loc *time.Location) string { return t.In(loc).Format(time.RFC3339) }

func evParseRow(sh *sheet, row sheetRow, site *core.Site, loc *time.Location) (evRow, error) {
	er := evRow{line: row.line}
	s := &er.s
	var c int
	s.Meter, c = sh.get(row, "charger")
	if s.Meter == "" {
		return er, sh.cellErr(row.line, c, "expected the charger's meter id, got an empty cell")
	}
	if m := site.Meter(s.Meter); m == nil || m.Role != core.RoleEV {
		evs := make([]string, 0)
		for _, m := range site.MetersWithRole(core.RoleEV) {
			evs = append(evs, m.ID)
		}
		list := "no EV meters"
		if len(evs) > 0 {
			list = "the EV meters " + strings.Join(evs, ", ")
		}
		if m != nil {
			return er, sh.cellErr(row.line, c, "meter %s is a %s meter, not an EV charger (role ev): site %s has %s", s.Meter, m.Role, site.ID, list)
		}
		return er, sh.cellErr(row.line, c, "unknown charger %q: site %s has %s", s.Meter, site.ID, list)
	}
	s.Card, er.cardCol = sh.get(row, "card")
	if s.Card == "" {
		return er, sh.cellErr(row.line, er.cardCol, "expected the card that started the session, got an empty cell")
	}
	str, c := sh.get(row, "start")
	var err error
	if s.Start, err = sh.instant(row.line, c, str); err != nil {
		return er, err
	}
	str, c = sh.get(row, "end")
	if s.End, err = sh.instant(row.line, c, str); err != nil {
		return er, err
	}
	if !s.End.After(s.Start) {
		return er, sh.cellErr(row.line, c, "the session ends at %s, not after its start %s", evTime(s.End, loc), evTime(s.Start, loc))
	}
	str, c = sh.get(row, "kwh")
	v, err := sh.decimal(row.line, c, str, "a decimal number of kWh of zero or more such as 12.5 (at most 6 decimals)",
		func(s string) (int64, error) { e, err := core.ParseKWh(s); return int64(e), err })
	if err != nil {
		return er, err
	}
	er.kwh = core.Energy(v)
	s.ID, _ = sh.get(row, "id")
	if s.ID == "" {
		// Derived from what identifies a session, so that importing the
		// same export again finds the same sessions.
		s.ID = s.Meter + "-" + s.Card + "-" + s.Start.UTC().Format("20060102T150405Z")
	}
	s.Person, _ = sh.get(row, "person")
	unit, uc := sh.get(row, "unit")
	if unit != "" {
		if site.Unit(unit) == nil {
			return er, sh.cellErr(row.line, uc, "unit %q does not exist: site %s has %s", unit, site.ID, unitList(site))
		}
		s.Unit = unit
		if s.Person == "" {
			day := core.DateOf(s.Start.In(loc))
			for _, o := range site.Occupancies {
				if _, ok := o.Period(core.Period{From: day, To: day}); ok && o.Unit == unit {
					s.Person = o.Name
				}
			}
			if s.Person == "" {
				return er, sh.cellErr(row.line, uc, "unit %s has no tenant on %s: expected the person to bill in the column person", unit, day)
			}
		}
	}
	return er, nil
}

// EVReport says what importing an EV sessions file did.
type EVReport struct {
	File string
	// Sessions is the number of sessions in the file: Written new ones,
	// Updated ones stored before with other details (person, end),
	// Unchanged ones stored identically.
	Sessions, Written, Updated, Unchanged int
	// KWh is the energy of the sessions as the chargers counted it.
	KWh core.Energy
}

// Summary is the one-line result printed per file.
func (r *EVReport) Summary() string {
	return fmt.Sprintf("%s: %d sessions, %d written, %d updated, %d unchanged; %s kWh by the chargers' count",
		r.File, r.Sessions, r.Written, r.Updated, r.Unchanged, core.FormatKWh(r.KWh))
}

// ImportEV stores the sessions of ev for site in one transaction
// (billing.PutSessions), with an "ev.import" audit entry when anything
// changed. A session is identified by its id and start: importing the same
// file again changes nothing, and a corrected row (another person, a later
// end) updates its session. A session that overlaps a stored one of
// another id on the same charger is refused, and the file with it, as is a
// new or changed session in a billed (locked) period (store.ErrLocked).
func ImportEV(st store.Store, site *core.Site, ev *EVSessions, actor string, now time.Time) (*EVReport, error) {
	rep := &EVReport{File: ev.File, Sessions: len(ev.Sessions), KWh: ev.Total()}
	loc := site.Location()
	err := st.Update(func(tx store.Tx) error {
		stored := map[string][]byte{}
		keyOf := map[string]string{} // session id → its stored key
		byID := map[string]billing.Session{}
		var others []billing.Session
		var bad error
		prefix := site.ID + "/"
		err := tx.ScanMeta(billing.BucketSessions, func(k string, v []byte) bool {
			if !strings.HasPrefix(k, prefix) {
				return true
			}
			stored[k] = v
			var s billing.Session
			if err := json.Unmarshal(v, &s); err != nil {
				bad = fmt.Errorf("reading stored EV session %s: %w", k, err)
				return false
			}
			others = append(others, s)
			keyOf[s.ID] = k
			byID[s.ID] = s
			return true
		})
		if err == nil {
			err = bad
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		var changed []int // indices into ev.Sessions
		for i, s := range ev.Sessions {
			for _, o := range others {
				if o.ID != s.ID && o.Meter == s.Meter && o.Start.Before(s.End) && s.Start.Before(o.End) {
					return &Error{File: ev.File, Line: ev.Lines[i], Element: "session " + s.ID,
						Msg: fmt.Sprintf("charger %s: the session %s–%s overlaps the stored session %s (%s–%s, %s)",
							s.Meter, evTime(s.Start, loc), evTime(s.End, loc), o.ID, evTime(o.Start, loc), evTime(o.End, loc), o.Person)}
				}
			}
			v, err := json.Marshal(s)
			if err != nil {
				return err
			}
			old, ok := stored[billing.SessionKey(site.ID, s)]
			switch {
			case !ok && keyOf[s.ID] != "":
				// The back end's session id with a corrected start: the
				// session moves, it is not a second one.
				if err := billing.DeleteSession(tx, site.ID, byID[s.ID]); err != nil {
					return &Error{File: ev.File, Line: ev.Lines[i], Msg: "moving the stored session to its corrected start: " + err.Error(), Err: err}
				}
				rep.Updated++
			case !ok:
				rep.Written++
			case bytes.Equal(old, v):
				rep.Unchanged++
				continue
			default:
				rep.Updated++
			}
			changed = append(changed, i)
		}
		if len(changed) == 0 {
			return nil
		}
		for _, i := range changed {
			// One at a time, so that a session refused (one in a billed
			// period) is named with its line.
			if err := billing.PutSessions(tx, site.ID, ev.Sessions[i:i+1]); err != nil {
				return &Error{File: ev.File, Line: ev.Lines[i], Msg: err.Error(), Err: err}
			}
		}
		return logImport(tx, now, actor, site.ID, "ev.import", rep.Summary())
	})
	if err != nil {
		return nil, importErr(ev.File, err)
	}
	return rep, nil
}
