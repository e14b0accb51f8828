package importer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/vee"
)

// bigReadings is n rows of interval readings of M1 from 1 January 2026.
func bigReadings(n int) []byte {
	var b strings.Builder
	b.WriteString("meter,start,kwh_in\n")
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		fmt.Fprintf(&b, "M1,%s,0.25\n", t0.Add(time.Duration(i)*core.SlotDuration).Format(time.RFC3339))
	}
	return []byte(b.String())
}

func TestDetectFileKind(t *testing.T) {
	for _, c := range []struct {
		name, data string
		want       FileKind
	}{
		{"r.csv", "meter,start,kwh_in\nM1,2026-01-01T00:00:00Z,1\n", FileReadings},
		{"r.csv", "meter;time;register_in_kwh\n", FileReadings},
		{"ev.csv", "charger,card,start,end,kwh\n", FileEV},
		{"mieter.csv", "unit;name;from\n", FileTenants},
		{"d.xml", "<?xml version=\"1.0\"?><rsm:ValidatedMeteredData_12/>", FileSDAT},
		{"e.xml", "<?xml version=\"1.0\"?><ESLBillingData/>", FileESL},
	} {
		if got := DetectFileKind(c.name, []byte(c.data)); got != c.want {
			t.Errorf("DetectFileKind(%s, %q) = %s, want %s", c.name, c.data, got, c.want)
		}
	}
}

// TestPreparePreviewThenStore: the preview says what the file holds and
// stores nothing; Store stores it as `zevdesk import readings` would.
func TestPreparePreviewThenStore(t *testing.T) {
	st := openStore(t)
	site := siteInStore(t, st)
	data := bigReadings(96)
	var reports int
	p, err := Prepare(context.Background(), st, site, FileReadings, "r.csv", data, func(done, total int64) { reports++ })
	if err != nil {
		t.Fatal(err)
	}
	if p.Rows != 96 || p.Values != 96 || strings.Join(p.Meters, ",") != "M1" || reports == 0 {
		t.Errorf("preview: rows %d values %d meters %v, %d progress reports", p.Rows, p.Values, p.Meters, reports)
	}
	if want := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC); !p.From.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) || !p.To.Equal(want) {
		t.Errorf("preview spans %s to %s", p.From, p.To)
	}
	if got := readSeries(t, st, "M1", store.Import, slotAt(t, "2026-01-01T00:00:00Z"), 96); present(got) != 0 {
		t.Fatalf("the preview stored %d values", present(got))
	}
	sum, err := p.Store(context.Background(), st, vee.Options{Clock: importClock}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sum, "96 values written") {
		t.Errorf("summary %q", sum)
	}
	if got := readSeries(t, st, "M1", store.Import, slotAt(t, "2026-01-01T00:00:00Z"), 96); present(got) != 96 {
		t.Errorf("stored %d values, want 96", present(got))
	}
}

// TestPrepareCancelled: a cancelled read ends with context.Canceled, and
// a store cancelled before it commits leaves nothing.
func TestPrepareCancelled(t *testing.T) {
	st := openStore(t)
	site := siteInStore(t, st)
	data := bigReadings(20_000) // well over one progress step
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Prepare(ctx, st, site, FileReadings, "r.csv", data, func(done, total int64) { cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled read: %v", err)
	}

	p, err := Prepare(context.Background(), st, site, FileReadings, "two.csv", append(bigReadings(10), []byte("M2,2026-01-01T00:00:00Z,1\n")...), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	// Cancel after the first series is stored, inside the transaction.
	_, err = p.Store(ctx, st, vee.Options{Clock: importClock}, func(done, total int64) {
		if done == 1 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled store: %v", err)
	}
	if got := readSeries(t, st, "M1", store.Import, slotAt(t, "2026-01-01T00:00:00Z"), 10); present(got) != 0 {
		t.Errorf("a cancelled import stored %d values of its first series", present(got))
	}
}

// TestPrepareErrorNamesLine: a bad row is the parser's error with its line.
func TestPrepareErrorNamesLine(t *testing.T) {
	st := openStore(t)
	site := siteInStore(t, st)
	data := "meter,start,kwh_in\nM1,2026-01-01T00:00:00Z,1\nM9,2026-01-01T00:15:00Z,1\n"
	_, err := Prepare(context.Background(), st, site, FileReadings, "r.csv", []byte(data), nil)
	if err == nil || !strings.Contains(err.Error(), "r.csv:3") || !strings.Contains(err.Error(), "M9") {
		t.Errorf("error %v, want one naming r.csv line 3 and meter M9", err)
	}
}

// present counts the slots of s that have a value.
func present(s store.Series) int {
	n := 0
	for _, q := range s.Quality {
		if q != store.Missing {
			n++
		}
	}
	return n
}
