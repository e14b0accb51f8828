package importer

import (
	"strings"
	"testing"
)

// FuzzParseSDAT: any input gives a document or an *Error, never a panic, and
// every observation of a document lies inside its block's interval.
func FuzzParseSDAT(f *testing.F) {
	f.Add(sdatDoc("2026-01-02T05:00:00Z", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", false, 4, "0.5", ""))
	f.Add(sdatDoc("2026-01-02T05:00:00Z", "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z", true, 92, "1.25", "21"))
	f.Add(`<a:ValidatedMeteredData_16 xmlns:a="x"><a:MeteringData/></a:ValidatedMeteredData_16>`)
	f.Fuzz(func(t *testing.T, src string) {
		doc, err := ParseSDAT("f.xml", strings.NewReader(src))
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T %v, want *Error", err, err)
			}
			return
		}
		for _, b := range doc.Blocks {
			for _, o := range b.Observations {
				if o.Slot.Time().Before(b.Start) || !o.Slot.End().After(b.Start) || o.Slot.End().After(b.End) {
					t.Fatalf("observation %d at %s outside %s..%s", o.Sequence, o.Slot, b.Start, b.End)
				}
			}
		}
	})
}
