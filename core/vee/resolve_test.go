package vee

import (
	"errors"
	"strings"
	"testing"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// TestAcceptFlags: accepting a meter's flags of one kind in a span removes
// exactly those and logs it; a register that went backwards cannot be
// accepted.
func TestAcceptFlags(t *testing.T) {
	onStores(t, func(t *testing.T, tx store.Tx) {
		site := testSite()
		s := core.SlotOf(at(0))
		flags := []store.Flag{
			{Site: "birkenweg", Meter: "M1", Slot: s, Kind: KindMaxPower, Reason: "too much"},
			{Site: "birkenweg", Meter: "M1", Slot: s + 1, Kind: KindMaxPower, Reason: "too much"},
			{Site: "birkenweg", Meter: "M1", Slot: s + 5, Kind: KindMaxPower, Reason: "later"},
			{Site: "birkenweg", Meter: "M2", Slot: s, Kind: KindMaxPower, Reason: "other meter"},
			{Site: "birkenweg", Meter: "M1", Slot: s, Kind: KindFuture, Reason: "other kind"},
		}
		if err := tx.PutFlags(flags); err != nil {
			t.Fatal(err)
		}
		n, err := AcceptFlags(tx, site, "M1", KindMaxPower, s, s+2, "heat pump start-up", opts())
		if err != nil || n != 2 {
			t.Fatalf("AcceptFlags = %d, %v; want 2", n, err)
		}
		var left []string
		for _, f := range flagsOf(t, tx, "") {
			left = append(left, f.Reason)
		}
		if len(left) != 3 {
			t.Errorf("flags left %v, want the later one, the other meter's and the other kind", left)
		}
		var last store.Entry
		_ = tx.ScanAudit(0, func(e store.Entry) bool { last = e; return true })
		if last.Action != "flag.accept" || !strings.Contains(last.Detail, "meter M1: 2 max-power flags") ||
			!strings.Contains(last.Detail, "(heat pump start-up)") || last.Actor != "test" {
			t.Errorf("audit %+v", last)
		}
		if _, err := AcceptFlags(tx, site, "M1", KindRegisterBackwards, s, s+1, "", opts()); !errors.Is(err, ErrNeedsReplacement) {
			t.Errorf("accepting register-backwards: %v", err)
		}
	})
}

// TestKeepExport: without export readings an exchange keeps the export
// register across it, from the readings around it.
func TestKeepExport(t *testing.T) {
	onStores(t, func(t *testing.T, tx store.Tx) {
		if _, err := tx.PutRegisters("birkenweg", "M1", []store.Register{
			{Time: at(0), Import: kwh("100"), Export: kwh("7")},
			{Time: at(60), Import: kwh("2"), Export: kwh("0.5")},
		}); err != nil {
			t.Fatal(err)
		}
		r := store.Replacement{Time: at(30)}
		if err := KeepExport(tx, "birkenweg", "M1", &r); err != nil {
			t.Fatal(err)
		}
		if r.OldFinal.Export != kwh("7") || r.NewInitial.Export != kwh("0.5") {
			t.Errorf("old final export %s, new initial %s", r.OldFinal.Export, r.NewInitial.Export)
		}
	})
}

// TestQualityRetiredMeter: a retired meter is counted and flagged only up
// to its last day; what it recorded after is neither missing nor counted.
func TestQualityRetiredMeter(t *testing.T) {
	onStores(t, func(t *testing.T, tx store.Tx) {
		site := testSite()
		loc := site.Location()
		day := core.DateOf(t0.In(loc))
		site.Meters[3].Retired = day
		cut := day.AddDays(1).FirstSlot(loc)
		var vals []store.Value
		for s := day.FirstSlot(loc); s < cut; s++ {
			vals = append(vals, store.Value{Slot: s, Energy: kwh("0.1"), Quality: store.Measured})
		}
		if _, err := tx.PutIntervals(store.SeriesID{Site: site.ID, Meter: "M2", Channel: store.Import}, vals, store.KeepFirst); err != nil {
			t.Fatal(err)
		}
		if err := tx.PutFlags([]store.Flag{{Site: site.ID, Meter: "M2", Slot: cut + 3, Kind: KindMaxPower, Reason: "after"}}); err != nil {
			t.Fatal(err)
		}
		rep, err := Quality(tx, site, core.Period{From: day, To: day.AddDays(1)})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range rep.Meters {
			if m.Meter != "M2" {
				continue
			}
			if m.Missing != 0 || m.Measured != len(vals) || len(m.Flags) != 0 || m.Flagged != 0 {
				t.Errorf("retired M2: %d missing, %d measured, flags %v; want 0, %d, none", m.Missing, m.Measured, m.Flags, len(vals))
			}
		}
	})
}
