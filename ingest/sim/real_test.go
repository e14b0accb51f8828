package sim

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core/shareddata"
)

// realMonthlyPV reads a measured AEW site (timeseries/README.md: naive local
// time, kW averaged over 15 minutes) and returns each month's share of the
// year's PV generation.
func realMonthlyPV(t *testing.T, rel string) [12]float64 {
	t.Helper()
	f, err := os.Open(shareddata.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	col := -1
	for i, h := range head {
		if h == "Generation_kW" {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("%s: no Generation_kW column in %v", rel, head)
	}
	var months [12]float64
	var total float64
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		ts, err := time.Parse(time.DateTime, rec[0])
		if err != nil {
			t.Fatalf("%s:%d: %v", rel, line, err)
		}
		kw, err := strconv.ParseFloat(rec[col], 64)
		if err != nil {
			t.Fatalf("%s:%d: %v", rel, line, err)
		}
		months[ts.Month()-1] += kw / 4
		total += kw / 4
	}
	for i := range months {
		months[i] /= total
	}
	return months
}

// TestPVMonthlyMatchesMeasured compares the simulator's distribution of PV
// energy over the months (averaged over weather seeds) with two measured
// plants in Aargau, 2019.
func TestPVMonthlyMatchesMeasured(t *testing.T) {
	var real [12]float64
	for _, site := range []string{"timeseries/A.csv", "timeseries/B.csv"} {
		m := realMonthlyPV(t, site)
		for i := range real {
			real[i] += m[i] / 2
		}
	}
	const seeds = 8
	var sim [12]float64
	var total float64
	for seed := int64(1); seed <= seeds; seed++ {
		b := New(Config{Seed: seed, Units: 1, PVkWp: 10, Location: zurich, Latitude: 47.45, Longitude: 8.2})
		for m := range 12 {
			from := time.Date(2025, time.Month(m+1), 1, 0, 0, 0, 0, zurich)
			e := (b.Registers(from.AddDate(0, 1, 0))[0].Export - b.Registers(from)[0].Export).KWh()
			sim[m] += e
			total += e
		}
	}
	var report string
	for m := range 12 {
		sim[m] /= total
		report += fmt.Sprintf(" %s %.1f/%.1f", time.Month(m + 1).String()[:3], 100*sim[m], 100*real[m])
		// Within 2.5 percentage points of the year, or a third of the
		// month's measured share where that is smaller (winter).
		tol := min(0.025, math.Max(real[m]/3, 0.006))
		if d := math.Abs(sim[m] - real[m]); d > tol {
			t.Errorf("%s: simulated %.1f %% of the year's PV, measured %.1f %%", time.Month(m+1), 100*sim[m], 100*real[m])
		}
	}
	t.Logf("simulated/measured %% per month:%s", report)
}
