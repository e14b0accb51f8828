package importer

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseReadingsCSV: any input gives readings or one *Error, never a
// panic, and every stored value can be traced to a line.
func FuzzParseReadingsCSV(f *testing.F) {
	f.Add("meter,start,kwh_in,kwh_out\nM1,2026-01-01T00:00:00Z,0.25,\nPV,2026-01-01T00:15:00+01:00,,1\n")
	f.Add("meter;time;register_in_kwh\nM1;2026-01-01T00:00:00Z;1\nM1;2026-01-01T00:00:00Z;2\n")
	f.Add("meter,start,kwh_in\nM1,2026-01-01T00:00:00Z,\"1,5\"\n")
	f.Add("\"unterminated\n")
	site := readingsSite(f)
	f.Fuzz(func(t *testing.T, src string) {
		rd, err := ParseReadingsCSV("f.csv", strings.NewReader(src), site)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err %v is a %T, want *importer.Error", err, err)
			}
			return
		}
		for k, vals := range rd.Intervals {
			for _, v := range vals {
				if rd.IntervalLine(k.Meter, k.Channel, v.Slot) < 2 {
					t.Fatalf("value %v of %v has no line", v, k)
				}
			}
		}
		for m, regs := range rd.Registers {
			for _, r := range regs {
				if rd.RegisterLine(m, r.Time) < 2 {
					t.Fatalf("reading %v of %s has no line", r, m)
				}
			}
		}
	})
}

// FuzzParseSite: any input gives a site or one *Error, never a panic.
func FuzzParseSite(f *testing.F) {
	f.Add(designSite)
	f.Add("id = 1\n[[units]]\nid = [1]\n[units.x]\n")
	f.Add("a = \"\"\"\nb = 1\n\"\"\"\n[[tariffs]]\nht = [\n1,\n]\n")
	f.Fuzz(func(t *testing.T, src string) {
		_, err := ParseSite("f.toml", strings.NewReader(src))
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err %v is a %T, want *importer.Error", err, err)
			}
		}
	})
}
