package ui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// energyView is the range one chart shows.
type energyView int

const (
	viewDay   energyView = iota // 15-minute bars of one local day
	viewMonth                   // daily bars of one month
	viewYear                    // monthly bars of one year
)

// energyData is what the energy screen shows for one range.
type energyData struct {
	Period  core.Period
	Buckets []bucket
	// Totals over the range.
	Production, Consumption, SelfConsumed core.Energy
	// Missing counts slots that have begun (before now) without a value on
	// a consumer's or a production meter's main channel.
	Missing int
}

// rangeOf returns the period a view shows around the day d.
func rangeOf(v energyView, d core.Date) core.Period {
	switch v {
	case viewMonth:
		from := core.Date{Year: d.Year, Month: d.Month, Day: 1}
		return core.Period{From: from, To: addMonths(from, 1).AddDays(-1)}
	case viewYear:
		return core.Period{From: core.Date{Year: d.Year, Month: 1, Day: 1}, To: core.Date{Year: d.Year, Month: 12, Day: 31}}
	}
	return core.Period{From: d, To: d}
}

// stepRange returns the day n ranges after d in view v.
func stepRange(v energyView, d core.Date, n int) core.Date {
	switch v {
	case viewMonth:
		return addMonths(d, n)
	case viewYear:
		return core.Date{Year: d.Year + n, Month: 1, Day: 1}
	}
	return d.AddDays(n)
}

// loadEnergy reads a site's production and consumption over the view's
// range around d: one ReadIntervals per meter and channel over the whole
// range, self-consumption taken per 15-minute slot before summing into bars.
// Slots from now on are not counted as missing.
func loadEnergy(tx store.Tx, site *core.Site, v energyView, d core.Date, now time.Time) (energyData, error) {
	loc := site.Location()
	p := rangeOf(v, d)
	from, to := p.Slots(loc)
	n := int(to - from)
	prod := make([]core.Energy, n)
	cons := make([]core.Energy, n)
	data := energyData{Period: p}
	var s store.Series
	begun := min(n, max(0, int(core.SlotOf(now)-from)))
	for _, m := range site.Meters {
		var dst []core.Energy
		ch := store.Import
		switch {
		case m.Role == core.RoleProduction:
			dst, ch = prod, store.Export
		case m.Role.Consumer():
			dst = cons
		default:
			continue
		}
		if err := tx.ReadIntervals(store.SeriesID{Site: site.ID, Meter: m.ID, Channel: ch}, from, to, &s); err != nil {
			return data, fmt.Errorf("reading %s %s: %w", m.ID, ch, err)
		}
		for i, e := range s.Energy {
			dst[i] += e
			if i < begun && s.Quality[i] == store.Missing {
				data.Missing++
			}
		}
	}
	// Map slots to bars: each slot (day view), each local day (month) or
	// each month (year).
	add := func(b *bucket, i, j int) {
		for k := i; k < j; k++ {
			b.Production += prod[k]
			b.Consumption += cons[k]
			b.SelfConsumed += min(prod[k], cons[k])
		}
	}
	switch v {
	case viewDay:
		for i := 0; i < n; i++ {
			b := bucket{}
			t := (from + core.Slot(i)).Time().In(loc)
			b.Time = fmt.Sprintf("%02d:%02d", t.Hour(), t.Minute())
			if t.Minute() == 0 && t.Hour()%3 == 0 {
				b.Label = fmt.Sprintf("%02d", t.Hour())
			}
			add(&b, i, i+1)
			data.Buckets = append(data.Buckets, b)
		}
	case viewMonth:
		for day := p.From; !day.After(p.To); day = day.AddDays(1) {
			a, z := core.Period{From: day, To: day}.Slots(loc)
			b := bucket{Time: date(day)}
			if day.Day == 1 || day.Day%5 == 0 {
				b.Label = fmt.Sprint(day.Day)
			}
			add(&b, int(a-from), int(z-from))
			data.Buckets = append(data.Buckets, b)
		}
	case viewYear:
		for m := time.January; m <= time.December; m++ {
			mp := rangeOf(viewMonth, core.Date{Year: p.From.Year, Month: m, Day: 1})
			a, z := mp.Slots(loc)
			b := bucket{Label: shortMonth(m), Time: monthName(p.From.Year, m)}
			add(&b, int(a-from), int(z-from))
			data.Buckets = append(data.Buckets, b)
		}
	}
	for _, b := range data.Buckets {
		data.Production += b.Production
		data.Consumption += b.Consumption
		data.SelfConsumed += b.SelfConsumed
	}
	return data, nil
}

// Energy shows a site's production against its consumption for a day (96
// quarter-hour bars), a month (daily bars) or a year (monthly bars), with
// the building's self-sufficiency. It is not safe for concurrent use; call
// its methods on Fyne's goroutine.
type Energy struct {
	st    store.Store
	clock core.Clock

	view     *widget.RadioGroup
	prev     *widget.Button
	next     *widget.Button
	today    *widget.Button
	rng      *widget.Label
	figures  map[string]*widget.Label
	chart    *barChart
	status   *widget.Label
	content  fyne.CanvasObject
	mode     energyView
	day      core.Date // a day inside the shown range
	site     *core.Site
	data     energyData
	viewName []string
	// loaded are the ranges read since the data or the site last changed,
	// so that stepping back and forth or between views reads each once.
	loaded map[energyKey]energyData
}

// energyKey names a loaded range as of a quarter-hour: a range that
// reaches now counts the intervals missing up to it.
type energyKey struct {
	mode energyView
	from core.Date
	now  core.Slot
}

// maxLoaded bounds the ranges kept; beyond it the screen starts afresh.
const maxLoaded = 64

// energyFigures are the totals in display order (figureLabel names them).
var energyFigures = []string{"Production", "Consumption", "SelfConsumed", "FromGrid", "FedIn", "Sufficiency"}

// NewEnergy builds the energy screen on st. It shows nothing until a site is
// set.
func NewEnergy(st store.Store, clock core.Clock) *Energy {
	e := &Energy{st: st, clock: clock, figures: map[string]*widget.Label{}}
	e.viewName = []string{lang.X("energy.day", "Day"), lang.X("energy.month", "Month"), lang.X("energy.year", "Year")}
	e.view = widget.NewRadioGroup(e.viewName, func(s string) {
		for i, n := range e.viewName {
			if n == s && energyView(i) != e.mode {
				e.onView(energyView(i))
			}
		}
	})
	e.view.Horizontal = true
	e.view.Required = true
	e.view.Selected = e.viewName[viewDay]
	e.prev, e.next = navButtons(lang.X("nav.previous", "Previous"), lang.X("nav.next", "Next"), func() { e.onStep(-1) }, func() { e.onStep(1) })
	// Today jumps back to the range that holds the last complete day.
	e.today = widget.NewButton(lang.X("energy.today", "Today"), e.onToday)
	e.rng = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	e.status = widget.NewLabel("")
	grid := container.New(layout.NewGridLayout(6))
	for _, n := range energyFigures {
		v := widget.NewLabelWithStyle("–", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		e.figures[n] = v
		grid.Add(container.NewVBox(widget.NewLabel(figureLabel(n)), v))
	}
	e.chart = newBarChart()
	nav := container.NewBorder(nil, nil, container.NewHBox(e.view, e.prev), container.NewHBox(e.next, e.today), e.rng)
	top := container.NewVBox(nav, grid)
	bottom := container.NewVBox(legend(figureLabel("Production"), lang.X("energy.solar", "Consumption: solar"),
		lang.X("energy.grid", "Consumption: grid")), e.status)
	e.content = container.NewBorder(top, bottom, nil, nil, e.chart)
	e.prev.Disable()
	e.next.Disable()
	e.today.Disable()
	return e
}

// Content returns the screen's canvas object.
func (e *Energy) Content() fyne.CanvasObject { return e.content }

// setSite shows site's last complete day.
func (e *Energy) setSite(site *core.Site) {
	e.site = site
	clear(e.loaded)
	e.day = core.DateOf(e.clock.Now().In(site.Location())).AddDays(-1)
	e.onLoad()
}

func (e *Energy) onView(v energyView) {
	e.mode = v
	e.view.SetSelected(e.viewName[v])
	e.onLoad()
}

// onToday shows the range that holds the last complete day.
func (e *Energy) onToday() {
	if e.site == nil {
		return
	}
	e.day = core.DateOf(e.clock.Now().In(e.site.Location())).AddDays(-1)
	e.onLoad()
}

// reload reads the shown range of site again (the data changed).
func (e *Energy) reload(site *core.Site) {
	if e.site == nil {
		e.setSite(site)
		return
	}
	e.site = site
	clear(e.loaded)
	e.onLoad()
}

func (e *Energy) onStep(n int) {
	e.day = stepRange(e.mode, e.day, n)
	e.onLoad()
}

// onLoad reads the current range and draws it. A year is read in well under
// a second, so this stays on the UI goroutine.
func (e *Energy) onLoad() {
	if e.site == nil {
		return
	}
	now := e.clock.Now()
	key := energyKey{mode: e.mode, from: rangeOf(e.mode, e.day).From, now: core.SlotOf(now)}
	if data, ok := e.loaded[key]; ok {
		e.data = data
		e.refresh()
		return
	}
	var data energyData
	err := e.st.View(func(tx store.Tx) error {
		var err error
		data, err = loadEnergy(tx, e.site, e.mode, e.day, now)
		return err
	})
	if err != nil {
		e.status.SetText(err.Error())
		return
	}
	if e.loaded == nil || len(e.loaded) >= maxLoaded {
		e.loaded = map[energyKey]energyData{}
	}
	e.loaded[key] = data
	e.data = data
	e.refresh()
}

// refresh draws the loaded range.
func (e *Energy) refresh() {
	d := e.data
	switch e.mode {
	case viewDay:
		e.rng.SetText(weekday(d.Period.From) + ", " + date(d.Period.From))
	case viewMonth:
		e.rng.SetText(monthName(d.Period.From.Year, d.Period.From.Month))
	default:
		e.rng.SetText(fmt.Sprint(d.Period.From.Year))
	}
	set := func(name string, v core.Energy) { e.figures[name].SetText(kwhUnit(v)) }
	set("Production", d.Production)
	set("Consumption", d.Consumption)
	set("SelfConsumed", d.SelfConsumed)
	set("FromGrid", d.Consumption-d.SelfConsumed)
	set("FedIn", d.Production-d.SelfConsumed)
	e.figures["Sufficiency"].SetText(percent(share(d.SelfConsumed, d.Consumption)))
	e.chart.setBuckets(d.Buckets)
	switch {
	case d.Production == 0 && d.Consumption == 0:
		e.status.SetText(lang.X("energy.nodata", "No data in this range."))
	case d.Missing > 0:
		e.status.SetText(lang.X("energy.missing", "{{.N}} meter intervals without data so far (PV and consumers).",
			map[string]any{"N": count(d.Missing)}))
	default:
		e.status.SetText("")
	}
	// An empty line would leave a gap under the legend.
	if e.status.Text == "" {
		e.status.Hide()
	} else {
		e.status.Show()
	}
	e.prev.Enable()
	// The future has no data: stop at the range that holds today.
	today := core.DateOf(e.clock.Now().In(e.site.Location()))
	if rangeOf(e.mode, e.day).Contains(today) {
		e.next.Disable()
	} else {
		e.next.Enable()
	}
	if rangeOf(e.mode, e.day).Contains(today.AddDays(-1)) {
		e.today.Disable()
	} else {
		e.today.Enable()
	}
}
