package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/vee"
)

// BucketSDAT is the store.Meta bucket that remembers which SDAT-CH
// deliveries were imported: key "SITE/METER/CHANNEL/FROM/CREATION/DOCUMENT"
// (FROM the first slot, zero-padded; CREATION in RFC 3339 UTC), value an
// sdatDelivery as JSON. A later delivery for the same meter and intervals
// replaces the values of an earlier one; an earlier one imported after a
// later one does not.
const BucketSDAT = "importer.sdat"

// SDATDelivery is an SDAT-CH document mapped onto a site's meters, ready to
// store.
type SDATDelivery struct {
	Doc *SDATDocument
	// Series holds the active energy per meter channel, sorted by meter
	// then channel.
	Series []SDATSeries
	// Skipped counts observations of other products (LEG community and grid
	// shares, reactive energy), which zevdesk does not store.
	Skipped int
}

// SDATSeries is the active energy one delivery gives for one meter channel.
type SDATSeries struct {
	Meter         string
	MeteringPoint string
	Channel       store.Channel
	// Spans are the delivered intervals [from, to) of the blocks, in file
	// order.
	Spans [][2]core.Slot
	// Values are sorted by slot; lines[i] is the line of Values[i].
	Values []store.Value
	lines  []int32
}

// Observations returns the number of active energy observations mapped.
func (d *SDATDelivery) Observations() int {
	n := 0
	for _, s := range d.Series {
		n += len(s.Values)
	}
	return n
}

// ResolveSDAT maps doc's metering points onto meters of site: the meter
// whose metering_point is the point's id, else the meter whose id is the
// point's id. meter, if not empty, takes every point of the document
// instead (a document for one meter whose metering point is not in the
// site file). Two blocks that give one meter channel different values for
// an interval are an error naming both lines.
func ResolveSDAT(doc *SDATDocument, site *core.Site, meter string) (*SDATDelivery, error) {
	if meter != "" && site.Meter(meter) == nil {
		return nil, fmt.Errorf("--meter %s: no such meter: site %s has %s", meter, site.ID, meterList(site))
	}
	d := &SDATDelivery{Doc: doc}
	idx := map[SeriesKey]int{}
	for bi := range doc.Blocks {
		b := &doc.Blocks[bi]
		if b.Product != ProductActiveEnergy {
			d.Skipped += len(b.Observations)
			continue
		}
		m := meter
		if m == "" {
			var err error
			if m, err = sdatMeter(site, b.MeteringPoint); err != nil {
				return nil, &Error{File: doc.File, Line: b.Line, Element: fmt.Sprintf("MeteringData[%d]", b.Index), Msg: err.Error()}
			}
		}
		k := SeriesKey{m, b.Channel()}
		i, ok := idx[k]
		if !ok {
			i = len(d.Series)
			idx[k] = i
			d.Series = append(d.Series, SDATSeries{Meter: m, MeteringPoint: b.MeteringPoint, Channel: k.Channel})
		}
		s := &d.Series[i]
		if s.MeteringPoint != b.MeteringPoint {
			return nil, &Error{File: doc.File, Line: b.Line, Element: fmt.Sprintf("MeteringData[%d]", b.Index),
				Msg: fmt.Sprintf("metering points %s and %s both map to meter %s %s: expected one point per meter (--meter takes every point of the file)",
					s.MeteringPoint, b.MeteringPoint, m, k.Channel)}
		}
		from := core.SlotOf(b.Start)
		s.Spans = append(s.Spans, [2]core.Slot{from, from + core.Slot(b.Slots())})
		for _, o := range b.Observations {
			s.Values = append(s.Values, store.Value{Slot: o.Slot, Energy: o.Energy, Quality: o.Quality()})
			s.lines = append(s.lines, int32(o.Line))
		}
	}
	for i := range d.Series {
		s := &d.Series[i]
		vals, lines, err := sortUnique(s.Values, s.lines,
			func(v store.Value) int64 { return int64(v.Slot) },
			func(v, prev store.Value, line, prevLine int) error {
				return &Error{File: doc.File, Line: line, Element: "Observation",
					Msg: fmt.Sprintf("metering point %s, interval %s: %s kWh, but line %d has %s kWh",
						s.MeteringPoint, v.Slot, core.FormatKWh(v.Energy), prevLine, core.FormatKWh(prev.Energy))}
			})
		if err != nil {
			return nil, err
		}
		s.Values, s.lines = vals, lines
	}
	slices.SortFunc(d.Series, func(a, b SDATSeries) int {
		if c := strings.Compare(a.Meter, b.Meter); c != 0 {
			return c
		}
		return int(a.Channel) - int(b.Channel)
	})
	return d, nil
}

// sdatMeter finds the meter of a metering point.
func sdatMeter(site *core.Site, point string) (string, error) {
	found := ""
	for _, m := range site.Meters {
		if m.MeteringPoint == point {
			if found != "" {
				return "", fmt.Errorf("metering point %s: meters %s and %s both have it as metering_point: expected one", point, found, m.ID)
			}
			found = m.ID
		}
	}
	if found != "" {
		return found, nil
	}
	if site.Meter(point) != nil {
		return point, nil
	}
	return "", fmt.Errorf("unknown metering point %s: no meter of site %s has metering_point = %q (set it in the site file, or name the meter with --meter)",
		point, site.ID, point)
}

// line returns the file's line of the value at slot, or 0.
func (s *SDATSeries) line(slot core.Slot) int {
	i, ok := slices.BinarySearchFunc(s.Values, slot, func(v store.Value, t core.Slot) int { return cmpInt(int64(v.Slot), int64(t)) })
	if !ok {
		return 0
	}
	return int(s.lines[i])
}

// SDATReport says what importing one SDAT-CH document did. Counts are
// interval values (one 15-minute interval of one meter channel).
type SDATReport struct {
	File       string
	DocumentID string
	Creation   time.Time
	// Observations is the number of active energy observations; Skipped
	// those of other products; Conditioned those with a condition code
	// (substitute or provisional values, stored as estimated).
	Observations, Skipped, Conditioned int
	// Written counts new values; Unchanged values identical to stored ones;
	// Replaced values of an earlier delivery replaced by this corrected one.
	Written, Unchanged, Replaced int
	// Conflicts are values that differ from stored ones that this document
	// may not replace (data from another source, or a newer delivery): the
	// stored value was kept. In file order.
	Conflicts []ReadingsConflict
	// Flags are the plausibility findings raised, other than the conflicts.
	Flags []store.Flag
}

// Summary is the one-line result printed per file.
func (r *SDATReport) Summary() string {
	s := fmt.Sprintf("%s: document %s of %s: %d observations, %d values written, %d unchanged, %d replaced, %d conflicts, %d flags",
		r.File, r.DocumentID, r.Creation.Format(time.RFC3339), r.Observations, r.Written, r.Unchanged, r.Replaced, len(r.Conflicts), len(r.Flags))
	if r.Conditioned > 0 {
		s += fmt.Sprintf("; %d with a condition code, stored as estimated", r.Conditioned)
	}
	if r.Skipped > 0 {
		s += fmt.Sprintf("; %d observations of other products (LEG shares) not imported", r.Skipped)
	}
	return s
}

// sdatRecord is what BucketSDAT remembers of a delivery.
type sdatRecord struct {
	From     core.Slot `json:"from"`
	To       core.Slot `json:"to"`
	Creation time.Time `json:"creation"`
	Document string    `json:"document"`
	File     string    `json:"file"`
}

// ImportSDAT stores a resolved delivery into site in one transaction through
// the plausibility checks (core/vee). Where an earlier SDAT-CH delivery for
// the same meter channel covered an interval, this one is a corrected
// delivery if its document is newer (by Creation): it replaces the stored
// values (store.Replace, logged as "intervals.replace" by vee); a document
// older than one already imported keeps the newer values. Values from any
// other source (gateways, readings files) are never replaced: a differing
// one is a conflict. Importing the same document twice writes nothing.
func ImportSDAT(st store.Store, site *core.Site, d *SDATDelivery, opt vee.Options) (*SDATReport, error) {
	if opt.Actor == "" {
		opt.Actor = "import"
	}
	doc := d.Doc
	var rep *SDATReport
	err := st.Update(func(tx store.Tx) error {
		rep = &SDATReport{File: doc.File, DocumentID: doc.DocumentID, Creation: doc.Creation,
			Observations: d.Observations(), Skipped: d.Skipped}
		for _, s := range d.Series {
			if err := importSDATSeries(tx, site, d, &s, opt, rep); err != nil {
				return fmt.Errorf("storing %s of meter %s: %w", s.Channel, s.Meter, err)
			}
		}
		slices.SortStableFunc(rep.Conflicts, func(a, b ReadingsConflict) int { return a.Line - b.Line })
		if rep.Written == 0 && rep.Replaced == 0 {
			return nil // nothing changed: a repeated import leaves no trace
		}
		return logImport(tx, optNow(opt), opt.Actor, site.ID, "sdat.import", rep.Summary())
	})
	if err != nil {
		return nil, fmt.Errorf("importing %s: %w", doc.File, err)
	}
	return rep, nil
}

func importSDATSeries(tx store.Tx, site *core.Site, d *SDATDelivery, s *SDATSeries, opt vee.Options, rep *SDATReport) error {
	doc := d.Doc
	prefix := fmt.Sprintf("%s/%s/%d/", site.ID, s.Meter, s.Channel)
	var earlier []sdatRecord
	var bad error
	err := tx.ScanMeta(BucketSDAT, func(k string, v []byte) bool {
		if !strings.HasPrefix(k, prefix) {
			return true
		}
		var r sdatRecord
		if err := json.Unmarshal(v, &r); err != nil {
			bad = fmt.Errorf("reading the SDAT delivery record %s: %w", k, err)
			return false
		}
		earlier = append(earlier, r)
		return true
	})
	if err == nil {
		err = bad
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	// Each value goes in one of three groups: replacing an older delivery,
	// kept out by a newer one, or plain (first delivery of the interval).
	var replace, keep []store.Value
	newer := map[core.Slot]sdatRecord{}
	for _, v := range s.Values {
		var older, later *sdatRecord
		for i := range earlier {
			r := &earlier[i]
			if v.Slot < r.From || v.Slot >= r.To {
				continue
			}
			switch {
			case r.Creation.After(doc.Creation):
				later = r
			case r.Creation.Before(doc.Creation):
				older = r
			}
		}
		switch {
		case later != nil:
			newer[v.Slot] = *later
			keep = append(keep, v)
		case older != nil:
			replace = append(replace, v)
		default:
			keep = append(keep, v)
		}
		if v.Quality == store.Estimated {
			rep.Conditioned++
		}
	}
	id := store.SeriesID{Site: site.ID, Meter: s.Meter, Channel: s.Channel}
	// kept are the slots where a differing stored value stayed: the store
	// does not hold this delivery's value there, so a later correction of
	// it must not replace what is (a gateway's or a readings file's value).
	kept := map[core.Slot]bool{}
	for _, g := range []struct {
		vals []store.Value
		mode store.PutMode
	}{{keep, store.KeepFirst}, {replace, store.Replace}} {
		if len(g.vals) == 0 {
			continue
		}
		vr, err := vee.AcceptIntervals(tx, site, id, g.vals, g.mode, opt)
		if err != nil {
			return err
		}
		rep.Written += vr.Written
		rep.Unchanged += vr.Unchanged
		rep.Replaced += vr.Replaced
		for _, c := range vr.Conflicts {
			kept[c.Slot] = true
			rc := ReadingsConflict{Line: s.line(c.Slot), Meter: s.Meter, Channel: s.Channel, Slot: c.Slot,
				Stored: c.Stored.Energy, Incoming: c.Incoming.Energy}
			if r, ok := newer[c.Slot]; ok {
				rc.Reason = fmt.Sprintf("%s %s kWh differs from the stored %s kWh of the newer document %s of %s (kept)",
					s.Channel, core.FormatKWh(c.Incoming.Energy), core.FormatKWh(c.Stored.Energy), r.Document, r.Creation.Format(time.RFC3339))
			}
			rep.Conflicts = append(rep.Conflicts, rc)
		}
		for _, f := range vr.Flags {
			if f.Kind != vee.KindDuplicate {
				rep.Flags = append(rep.Flags, f)
			}
		}
	}
	for _, sp := range s.Spans {
		for _, part := range spanWithout(sp, kept) {
			r := sdatRecord{From: part[0], To: part[1], Creation: doc.Creation, Document: doc.DocumentID, File: doc.File}
			v, err := json.Marshal(r)
			if err != nil {
				return err
			}
			k := fmt.Sprintf("%s%020d/%s/%s", prefix, int64(part[0]), doc.Creation.UTC().Format(time.RFC3339Nano), doc.DocumentID)
			if err := tx.PutMeta(BucketSDAT, k, v); err != nil {
				return fmt.Errorf("recording the delivery: %w", err)
			}
		}
	}
	return nil
}

// spanWithout returns the parts of sp without the slots in skip.
func spanWithout(sp [2]core.Slot, skip map[core.Slot]bool) [][2]core.Slot {
	if len(skip) == 0 {
		return [][2]core.Slot{sp}
	}
	var out [][2]core.Slot
	from := sp[0]
	for s := sp[0]; s < sp[1]; s++ {
		if skip[s] {
			if from < s {
				out = append(out, [2]core.Slot{from, s})
			}
			from = s + 1
		}
	}
	if from < sp[1] {
		out = append(out, [2]core.Slot{from, sp[1]})
	}
	return out
}
