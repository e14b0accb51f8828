package core

import (
	"testing"
	"time"
)

func TestDaySlotsInZurich(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Zurich")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	for _, tc := range []struct {
		day  Date
		want int
	}{
		{MustDate(2026, 3, 29), 92},   // spring forward
		{MustDate(2026, 10, 25), 100}, // fall back
		{MustDate(2026, 6, 1), 96},
	} {
		from, to := Period{tc.day, tc.day}.Slots(loc)
		if got := int(to - from); got != tc.want {
			t.Errorf("%s has %d slots, want %d", tc.day, got, tc.want)
		}
	}
	// Consecutive periods share no slot and miss none.
	q1 := Period{MustDate(2026, 1, 1), MustDate(2026, 3, 31)}
	q2 := Period{MustDate(2026, 4, 1), MustDate(2026, 6, 30)}
	_, end1 := q1.Slots(loc)
	start2, _ := q2.Slots(loc)
	if end1 != start2 {
		t.Errorf("Q1 ends at %v, Q2 starts at %v", end1, start2)
	}
	// 2026-01-01 00:00 local is 2025-12-31 23:00 UTC.
	if got := q1.From.FirstSlot(loc).Time(); !got.Equal(time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC)) {
		t.Errorf("first slot of 2026 in Zurich starts %v", got)
	}
}

func TestSlot(t *testing.T) {
	tm := time.Date(2026, 5, 1, 10, 7, 0, 0, time.UTC)
	s := SlotOf(tm)
	if !s.Time().Equal(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)) || !s.End().Equal(time.Date(2026, 5, 1, 10, 15, 0, 0, time.UTC)) {
		t.Errorf("SlotOf(%v) = [%v, %v)", tm, s.Time(), s.End())
	}
	if _, on := SlotAt(tm); on {
		t.Error("10:07 is on the grid")
	}
	if _, on := SlotAt(tm.Add(8 * time.Minute)); !on {
		t.Error("10:15 is off the grid")
	}
	before := time.Date(1969, 12, 31, 23, 59, 0, 0, time.UTC)
	if SlotOf(before) != -1 {
		t.Errorf("SlotOf(1969-12-31T23:59) = %d, want -1", SlotOf(before))
	}
}

func TestDateAndPeriod(t *testing.T) {
	if _, err := ParseDate("2026-02-30"); err == nil {
		t.Error("2026-02-30 accepted")
	}
	p := Period{MustDate(2026, 1, 1), MustDate(2026, 3, 31)}
	if p.Days() != 90 {
		t.Errorf("Q1 2026 has %d days", p.Days())
	}
	o := Occupancy{From: MustDate(2026, 2, 15)}
	got, ok := o.Period(p)
	if !ok || got != (Period{MustDate(2026, 2, 15), MustDate(2026, 3, 31)}) {
		t.Errorf("open occupancy clipped to %v %v", got, ok)
	}
	o = Occupancy{From: MustDate(2025, 1, 1), To: MustDate(2025, 12, 31)}
	if _, ok := o.Period(p); ok {
		t.Error("a past occupancy overlaps Q1 2026")
	}
}
