package bolt_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core/store/bolt"
)

// local returns the instant of a wall-clock time in Zurich.
func local(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, zurich)
}

var zurich = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Zurich")
	if err != nil {
		panic(err)
	}
	return loc
}()

// daily returns one backup time a day at h:min Zurich time for n days from
// the given day.
func daily(y int, m time.Month, d, n, h, min int) []time.Time {
	var ts []time.Time
	for i := range n {
		ts = append(ts, local(y, m, d+i, h, min))
	}
	return ts
}

// days returns the Zurich dates as "2006-01-02" at h:min, for expectations.
func days(h, min int, dates ...string) []time.Time {
	var ts []time.Time
	for _, s := range dates {
		d, err := time.ParseInLocation("2006-01-02", s, zurich)
		if err != nil {
			panic(err)
		}
		ts = append(ts, d.Add(time.Duration(h)*time.Hour+time.Duration(min)*time.Minute))
	}
	return ts
}

func asBackups(ts []time.Time) []bolt.Backup {
	var bs []bolt.Backup
	for _, t := range ts {
		bs = append(bs, bolt.Backup{Path: t.UTC().Format(time.RFC3339), Time: t.UTC().Truncate(time.Second)})
	}
	return bs
}

// TestRetention runs each schedule the way BackupTo does, one backup at a
// time with the clock moving forward and Drop applied after each, and
// asserts exactly which backups survive; the same list in one go must give
// the same answer (retention depends on the list only, not on when it is
// applied).
func TestRetention(t *testing.T) {
	gens := bolt.Generations
	gens.Location = zurich
	cases := []struct {
		name  string
		keep  bolt.Retention
		taken []time.Time
		want  []time.Time
	}{{
		// 400 days from 2025-01-01: the last day is Wednesday 2026-02-04
		// (ISO week 6). Days: 29 Jan to 4 Feb. Weeks 6, 5, 4, 3: the
		// Sundays 1 Feb, 25 Jan, 18 Jan and today. Months: the last day of
		// March 2025 to January 2026, and today.
		name:  "400 days of daily backups, 7 daily, 4 weekly, 12 monthly",
		keep:  gens,
		taken: daily(2025, 1, 1, 400, 12, 30),
		want: days(12, 30,
			"2025-03-31", "2025-04-30", "2025-05-31", "2025-06-30", "2025-07-31", "2025-08-31",
			"2025-09-30", "2025-10-31", "2025-11-30", "2025-12-31",
			"2026-01-18", "2026-01-25",
			"2026-01-29", "2026-01-30", "2026-01-31", "2026-02-01", "2026-02-02", "2026-02-03", "2026-02-04"),
	}, {
		// The newest backup of a day represents it: of a morning and an
		// evening backup, the evening one stays.
		name:  "two a day, the evening one represents the day",
		keep:  bolt.Retention{Daily: 3, Location: zurich},
		taken: interleave(daily(2026, 3, 1, 5, 8, 0), daily(2026, 3, 1, 5, 18, 0)),
		want:  append(days(18, 0, "2026-03-03", "2026-03-04"), days(18, 0, "2026-03-05")...),
	}, {
		// 00:30 on 2 March in Zurich is still 1 March in UTC: days are
		// Zurich days, so it represents 2 March and 23:30 represents
		// 1 March.
		name: "days are local days",
		keep: bolt.Retention{Daily: 2, Location: zurich},
		taken: []time.Time{
			local(2026, 3, 1, 0, 30), local(2026, 3, 1, 23, 30),
			local(2026, 3, 2, 0, 30),
		},
		want: []time.Time{local(2026, 3, 1, 23, 30), local(2026, 3, 2, 0, 30)},
	}, {
		// Daylight saving starts on 29 March 2026: 01:30 CET and 03:30
		// CEST are one day, and 00:30 CEST on 30 March (22:30 UTC on 29
		// March) is the next.
		name:  "a daylight saving change is one day",
		keep:  bolt.Retention{Daily: 2, Location: zurich},
		taken: []time.Time{local(2026, 3, 28, 23, 0), local(2026, 3, 29, 1, 30), local(2026, 3, 29, 3, 30), local(2026, 3, 30, 0, 30)},
		want:  []time.Time{local(2026, 3, 29, 3, 30), local(2026, 3, 30, 0, 30)},
	}, {
		// Switched off from 10 March to 2 April: the 7 daily backups are
		// the last 7 days that have one, not the last 7 calendar days, so
		// time passing alone deletes nothing. Sunday 1 March is the newest
		// of ISO week 9.
		name:  "a computer switched off for three weeks",
		keep:  gens,
		taken: append(daily(2026, 3, 1, 10, 9, 0), daily(2026, 4, 3, 2, 9, 0)...),
		want:  days(9, 0, "2026-03-01", "2026-03-06", "2026-03-07", "2026-03-08", "2026-03-09", "2026-03-10", "2026-04-03", "2026-04-04"),
	}, {
		name:  "newest three",
		keep:  bolt.KeepLast(3),
		taken: daily(2026, 1, 1, 10, 2, 0),
		want:  days(2, 0, "2026-01-08", "2026-01-09", "2026-01-10"),
	}, {
		name:  "the zero retention keeps all",
		keep:  bolt.Retention{},
		taken: daily(2026, 1, 1, 40, 2, 0),
		want:  daily(2026, 1, 1, 40, 2, 0),
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var have []bolt.Backup
			for _, b := range asBackups(c.taken) {
				have = append(have, b)
				for _, d := range c.keep.Drop(have) {
					i := slices.Index(have, d)
					if i < 0 {
						t.Fatalf("Drop returned %v, which is not in the list", d)
					}
					have = slices.Delete(have, i, i+1)
				}
			}
			want := asBackups(c.want)
			if !slices.Equal(have, want) {
				t.Errorf("kept %d:\n%s\nwant %d:\n%s", len(have), list(have), len(want), list(want))
			}
			all := asBackups(c.taken)
			var once []bolt.Backup
			for _, b := range all {
				if !slices.Contains(c.keep.Drop(all), b) {
					once = append(once, b)
				}
			}
			if !slices.Equal(once, have) {
				t.Errorf("Drop over the whole list keeps\n%s\none at a time keeps\n%s", list(once), list(have))
			}
		})
	}
}

// interleave merges two time-ordered lists.
func interleave(a, b []time.Time) []time.Time {
	ts := append(slices.Clone(a), b...)
	slices.SortFunc(ts, time.Time.Compare)
	return ts
}

func list(bs []bolt.Backup) string {
	s := ""
	for _, b := range bs {
		s += fmt.Sprintf("  %s (%s)\n", b.Time.In(zurich).Format("Mon 2006-01-02 15:04"), b.Path)
	}
	return s
}
