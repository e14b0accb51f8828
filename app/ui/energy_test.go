package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

func loadSite(t *testing.T, st store.Store, id string) *core.Site {
	t.Helper()
	var s *core.Site
	if err := st.View(func(tx store.Tx) (err error) { s, err = tx.Site(id); return }); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestEnergyDayMonthYear(t *testing.T) {
	test.NewTempApp(t)
	st, clock := testStore(t)
	e := NewEnergy(st, clock)
	w := test.NewTempWindow(t, e.Content())
	w.Resize(fyne.NewSize(900, 500))
	e.setSite(loadSite(t, st, "birkenweg"))

	figures := func(want map[string]string) {
		t.Helper()
		for name, v := range want {
			if got := e.figures[name].Text; got != v {
				t.Errorf("%s: %s shows %q, want %q", e.rng.Text, name, got, v)
			}
		}
	}
	// The last complete day: 10 June 2026 (the clock says 11 June).
	if e.rng.Text != "Wednesday, 10.06.2026" {
		t.Errorf("range %q", e.rng.Text)
	}
	dayFigures := map[string]string{
		"Production": "40.0 kWh", "Consumption": "72.0 kWh", "SelfConsumed": "30.0 kWh",
		"FromGrid": "42.0 kWh", "FedIn": "10.0 kWh", "Sufficiency": "41.7 %",
	}
	figures(dayFigures)
	b := e.chart.buckets
	if len(b) != 96 {
		t.Fatalf("%d bars for a day, want 96", len(b))
	}
	if b[0] != (bucket{Label: "00", Time: "00:00", Consumption: 3 * core.KWh / 4}) {
		t.Errorf("00:00 bar %+v", b[0])
	}
	if b[28] != (bucket{Time: "07:00", Production: core.KWh, Consumption: 3 * core.KWh / 4, SelfConsumed: 3 * core.KWh / 4}) {
		t.Errorf("07:00 bar %+v", b[28])
	}
	if e.status.Text != "" {
		t.Errorf("a complete day says %q", e.status.Text)
	}
	if b[36].Label != "09" || b[37].Label != "" {
		t.Errorf("x labels %q %q, want every third hour", b[36].Label, b[37].Label)
	}
	// What is drawn: at 07:00 the production bar reaches the top (the
	// largest value), the solar part of consumption three quarters of it
	// and the grid part nothing; at midnight the grid part is 0.75 of the top.
	r := test.TempWidgetRenderer(t, e.chart).(*chartRenderer)
	e.chart.Resize(fyne.NewSize(960, 216))
	r.Layout(e.chart.Size())
	plotH := float32(216 - chartAxisH - chartTopH)
	if h := r.prod[28].Size().Height; h != plotH {
		t.Errorf("production bar %v px, want %v", h, plotH)
	}
	if h := r.solar[28].Size().Height; h != plotH*0.75 || r.grid[28].Size().Height != 0 {
		t.Errorf("07:00 consumption bar: solar %v px, grid %v px", h, r.grid[28].Size().Height)
	}
	if h := r.grid[0].Size().Height; h != plotH*0.75 || r.solar[0].Size().Height != 0 {
		t.Errorf("00:00 consumption bar: grid %v px, solar %v", h, r.solar[0].Size().Height)
	}
	// Gridlines at round steps, labelled in kWh, the top one at the largest
	// bar; the unit stands above the axis.
	var ticks []string
	for _, tt := range r.tickTexts {
		ticks = append(ticks, tt.Text)
	}
	if got := lines(ticks); got != "0.0\n0.5\n1.0" || r.unit.Text != "kWh" || r.info.Text != "" {
		t.Errorf("y axis %q, unit %q, hover text %q", ticks, r.unit.Text, r.info.Text)
	}
	if y := r.ticks[2].Position1.Y; y != chartTopH {
		t.Errorf("top gridline at y %v, want %v", y, float32(chartTopH))
	}
	// Hovering a bar (or tapping it) shows its values above the plot.
	x := chartLeftW + (float32(28)+0.5)*(960-chartLeftW)/96
	e.chart.MouseMoved(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(x, 100)}})
	if want := "07:00: production 1.00 kWh, consumption 0.75 kWh (solar 0.75, grid 0.00)"; r.info.Text != want {
		t.Errorf("hover text %q, want %q", r.info.Text, want)
	}
	e.chart.MouseOut()
	if r.info.Text != "" || r.highlight.Visible() {
		t.Errorf("after the pointer left: %q, highlight shown %v", r.info.Text, r.highlight.Visible())
	}
	e.chart.Tapped(&fyne.PointEvent{Position: fyne.NewPos(x, 100)})
	if !strings.HasPrefix(r.info.Text, "07:00: ") || !r.highlight.Visible() {
		t.Errorf("after a tap: %q, highlight shown %v", r.info.Text, r.highlight.Visible())
	}

	// Next goes to today (no data yet) and stops there.
	if e.next.Disabled() {
		t.Fatal("Next is disabled on yesterday")
	}
	test.Tap(e.next)
	if e.rng.Text != "Thursday, 11.06.2026" || e.status.Text != "No data in this range." || !e.next.Disabled() {
		t.Errorf("today: range %q status %q next disabled %v", e.rng.Text, e.status.Text, e.next.Disabled())
	}
	test.Tap(e.prev)
	test.Tap(e.prev)
	if e.rng.Text != "Tuesday, 09.06.2026" || e.figures["Production"].Text != "0.0 kWh" {
		t.Errorf("9 June: %q production %q", e.rng.Text, e.figures["Production"].Text)
	}

	e.view.SetSelected("Month")
	if e.rng.Text != "June 2026" || len(e.chart.buckets) != 30 {
		t.Fatalf("month view %q with %d bars", e.rng.Text, len(e.chart.buckets))
	}
	figures(dayFigures)
	if got := e.chart.buckets[9]; got.Production != 40*core.KWh || got.Consumption != 72*core.KWh || got.SelfConsumed != 30*core.KWh || got.Label != "10" {
		t.Errorf("10 June bar %+v", got)
	}
	if e.chart.buckets[0].Label != "1" || e.chart.buckets[8].Production != 0 {
		t.Errorf("1 June bar %+v, 9 June %+v", e.chart.buckets[0], e.chart.buckets[8])
	}
	if !e.next.Disabled() {
		t.Error("Next is enabled on the current month")
	}
	// Up to now (11 June, 11:00 local) June has 10 × 96 + 44 slots; only 10
	// June has data: 908 missing on each of PV, W01 and W02.
	if want := "2'724 meter intervals without data so far (PV and consumers)."; e.status.Text != want {
		t.Errorf("month status %q, want %q", e.status.Text, want)
	}

	e.view.SetSelected("Year")
	if e.rng.Text != "2026" || len(e.chart.buckets) != 12 {
		t.Fatalf("year view %q with %d bars", e.rng.Text, len(e.chart.buckets))
	}
	figures(dayFigures)
	if got := e.chart.buckets[5]; got.Label != "Jun" || got.SelfConsumed != 30*core.KWh {
		t.Errorf("June bar %+v", got)
	}
	test.Tap(e.prev)
	if e.rng.Text != "2025" || e.status.Text != "No data in this range." || e.next.Disabled() {
		t.Errorf("2025: %q %q next disabled %v", e.rng.Text, e.status.Text, e.next.Disabled())
	}
}

// The day the clocks go forward has 92 quarter-hours, the day they go back 100.
func TestEnergyDaylightSavingDays(t *testing.T) {
	test.NewTempApp(t)
	st, clock := testStore(t)
	e := NewEnergy(st, clock)
	e.setSite(loadSite(t, st, "birkenweg"))
	for day, want := range map[core.Date]int{core.MustDate(2026, 3, 29): 92, core.MustDate(2026, 10, 25): 100} {
		e.day = day
		e.onLoad()
		if n := len(e.chart.buckets); n != want {
			t.Errorf("%s: %d bars, want %d", day, n, want)
		}
	}
}

// The top gridline is at or above the largest bar, so no bar leaves the
// plot: 3.2 kWh gets gridlines up to 4.
func TestChartTopGridline(t *testing.T) {
	test.NewTempApp(t)
	c := newBarChart()
	c.setBuckets([]bucket{{Consumption: 3200 * core.Wh}, {Production: core.KWh}})
	r := test.TempWidgetRenderer(t, c).(*chartRenderer)
	c.Resize(fyne.NewSize(500, 200))
	r.Layout(c.Size())
	var ticks []string
	for _, tt := range r.tickTexts {
		ticks = append(ticks, tt.Text)
	}
	if got := lines(ticks); got != "0\n1\n2\n3\n4" {
		t.Errorf("gridlines %q", ticks)
	}
	top := r.grid[0].Position().Y
	if top < chartTopH {
		t.Errorf("the 3.2 kWh bar starts at y %v, above the plot (%v)", top, float32(chartTopH))
	}
}
