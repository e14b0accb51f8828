package ui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/vee"
)

// qualityColumns returns the data-quality table's column titles.
func qualityColumns() []string {
	return []string{lang.X("quality.col.meter", "Meter"), lang.X("quality.col.role", "Role"),
		lang.X("quality.col.measured", "Measured"), lang.X("quality.col.estimated", "Estimated"),
		lang.X("quality.col.missing", "Missing"), lang.X("quality.col.flagged", "Flagged")}
}

// Quality shows, per month, what is measured, estimated, missing and flagged
// for each meter of a site, the flags with their reasons, and the balance of
// the sub-meters against the grid meter (vee.Quality). It is not safe for
// concurrent use; call its methods on Fyne's goroutine.
type Quality struct {
	st    store.Store
	clock core.Clock
	// win is where a flag's detail opens (set by the main window).
	win fyne.Window

	prev, next *widget.Button
	month      *widget.Label
	table      *widget.Table
	balance    *widget.Label
	summary    *widget.Label
	flags      *widget.List
	content    fyne.CanvasObject

	site *core.Site
	from core.Date // first day of the month shown
	rep  vee.QualityReport
	// loaded are the reports read since the data or the site last
	// changed, by period (the current month's ends with its last complete
	// day), so that stepping back and forth reads each month once.
	loaded  map[core.Period]vee.QualityReport
	flagTxt []string
	groups  []flagGroup // the flags of flagTxt, one per row

	// detail is the flag detail dialog last opened and its parts (tests).
	detail     dialog.Dialog
	detailText *widget.Label
	action     *widget.Button
	// busy is set while an action's transaction runs; failed is the last
	// action's error (nil after a success) and failure the dialog showing
	// it; done, when set, is called on Fyne's goroutine after each action's
	// outcome is shown (tests wait on it).
	busy     bool
	failed   error
	failure  dialog.Dialog
	done     func()
	exchange *dialog.FormDialog
	exTime   *widget.Entry
	exOld    *widget.Entry
	exNew    *widget.Entry
}

// NewQuality builds the data-quality screen on st.
func NewQuality(st store.Store, clock core.Clock) *Quality {
	q := &Quality{st: st, clock: clock}
	q.prev, q.next = navButtons(lang.X("quality.previous", "Previous month"), lang.X("quality.next", "Next month"), func() { q.onMonth(-1) }, func() { q.onMonth(1) })
	q.prev.Disable()
	q.next.Disable()
	q.month = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	q.balance = widget.NewLabel("")
	q.balance.Wrapping = fyne.TextWrapWord
	q.summary = widget.NewLabel("")
	q.table = newTable(qualityColumns(), []float32{110, 100, 100, 100, 100, 90}, q.tableSize, q.updateCell)
	q.flags = widget.NewList(func() int { return len(q.flagTxt) }, func() fyne.CanvasObject {
		l := widget.NewLabel("")
		l.Truncation = fyne.TextTruncateEllipsis
		return l
	}, func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(q.flagTxt[i]) })
	q.flags.OnSelected = func(i widget.ListItemID) {
		q.flags.UnselectAll()
		if i >= 0 && i < len(q.groups) {
			q.openFlag(q.groups[i])
		}
	}
	nav := container.NewBorder(nil, nil, q.prev, q.next, q.month)
	top := container.NewVBox(nav, q.summary, q.balance)
	flags := container.NewBorder(widget.NewLabelWithStyle(lang.X("quality.flags", "Flags"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), nil, nil, nil, q.flags)
	q.content = container.NewBorder(top, nil, nil, nil, container.NewVSplit(q.table, flags))
	return q
}

// Content returns the screen's canvas object.
func (q *Quality) Content() fyne.CanvasObject { return q.content }

// setSite shows site's current month (the month of its last complete day).
func (q *Quality) setSite(site *core.Site) {
	q.site = site
	clear(q.loaded)
	d := core.DateOf(q.clock.Now().In(site.Location())).AddDays(-1)
	q.from = core.Date{Year: d.Year, Month: d.Month, Day: 1}
	q.onLoad()
}

// reload reads the shown month of site again (the data changed).
func (q *Quality) reload(site *core.Site) {
	if q.site == nil {
		q.setSite(site)
		return
	}
	q.site = site
	clear(q.loaded)
	q.onLoad()
}

func (q *Quality) onMonth(n int) {
	q.from = addMonths(q.from, n)
	q.onLoad()
}

func (q *Quality) onLoad() {
	if q.site == nil {
		return
	}
	p := rangeOf(viewMonth, q.from)
	// The current month is shown up to its last complete day: the intervals
	// still to come are not missing.
	if last := core.DateOf(q.clock.Now().In(q.site.Location())).AddDays(-1); p.Contains(last) {
		p.To = last
	}
	if rep, ok := q.loaded[p]; ok {
		q.rep = rep
		q.refresh()
		return
	}
	var rep vee.QualityReport
	err := q.st.View(func(tx store.Tx) error {
		var err error
		rep, err = vee.Quality(tx, q.site, p)
		return err
	})
	if err != nil {
		q.summary.SetText(err.Error())
		return
	}
	if q.loaded == nil || len(q.loaded) >= maxLoaded {
		q.loaded = map[core.Period]vee.QualityReport{}
	}
	q.loaded[p] = rep
	q.rep = rep
	q.refresh()
}

// refresh draws the loaded report.
func (q *Quality) refresh() {
	r := q.rep
	loc := q.site.Location()
	month := monthName(r.Period.From.Year, r.Period.From.Month)
	if full := rangeOf(viewMonth, r.Period.From); r.Period.To != full.To {
		month += " " + lang.X("quality.until", "(up to {{.Date}})", map[string]any{"Date": date(r.Period.To)})
	}
	q.month.SetText(month)
	q.summary.SetText(lang.X("quality.summary", "{{.Slots}} intervals per meter; {{.Estimated}} kWh estimated, about {{.Missing}} kWh missing.",
		map[string]any{"Slots": count(r.Slots), "Estimated": kwh(r.EstimatedEnergy), "Missing": kwh(r.MissingEnergyEstimate)}))
	if r.HasBalance {
		data := map[string]any{"Percent": fmt.Sprintf("%+.2f %%", r.BalancePercent), "Slots": count(r.BalanceSlots),
			"Tolerance": fmt.Sprint(r.Tolerance)}
		if r.Exceeds {
			q.balance.SetText(lang.X("quality.balance.exceeds",
				"Sub-meter balance: {{.Percent}} of consumption over {{.Slots}} complete intervals (tolerance {{.Tolerance}} %) — beyond the tolerance", data))
		} else {
			q.balance.SetText(lang.X("quality.balance",
				"Sub-meter balance: {{.Percent}} of consumption over {{.Slots}} complete intervals (tolerance {{.Tolerance}} %)", data))
		}
	} else {
		q.balance.SetText(lang.X("quality.nobalance", "Sub-meter balance: not available (no grid meter, or no complete interval)."))
	}
	q.flagTxt = q.flagTxt[:0]
	q.groups = groupFlags(r.Meters)
	for _, g := range q.groups {
		q.flagTxt = append(q.flagTxt, fmt.Sprintf("%s  %s  %s (%s): %s", span(g.From, g.To, loc), g.Meter, kindName(g.Kind),
			duration(time.Duration(g.To-g.From)*core.SlotDuration), g.Reasons[0]))
	}
	if len(q.flagTxt) == 0 {
		q.flagTxt = append(q.flagTxt, lang.X("quality.noflags", "No flags in this month."))
	}
	q.flags.Refresh()
	q.table.Refresh()
	q.prev.Enable()
	today := core.DateOf(q.clock.Now().In(loc))
	if full := rangeOf(viewMonth, r.Period.From); full.Contains(today) || full.From.After(today) {
		q.next.Disable()
	} else {
		q.next.Enable()
	}
}

func (q *Quality) tableSize() (int, int) { return len(q.rep.Meters), len(qualityColumns()) }

func (q *Quality) updateCell(id widget.TableCellID, c fyne.CanvasObject) {
	l := c.(*widget.Label)
	if id.Row >= len(q.rep.Meters) {
		l.SetText("")
		return
	}
	m := q.rep.Meters[id.Row]
	l.Alignment = fyne.TextAlignTrailing
	switch id.Col {
	case 0:
		l.Alignment = fyne.TextAlignLeading
		l.SetText(m.Meter)
	case 1:
		l.Alignment = fyne.TextAlignLeading
		l.SetText(roleName(m.Role))
	case 2:
		l.SetText(count(m.Measured + m.Edited))
	case 3:
		l.SetText(count(m.Estimated))
	case 4:
		l.SetText(count(m.Missing))
	case 5:
		l.SetText(count(m.Flagged))
	}
}

// newTable makes a table of labels with a bold header row.
func newTable(cols []string, widths []float32, size func() (int, int), update func(widget.TableCellID, fyne.CanvasObject)) *widget.Table {
	t := widget.NewTable(size, func() fyne.CanvasObject { return widget.NewLabel("") }, update)
	t.ShowHeaderRow = true
	t.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	t.UpdateHeader = func(id widget.TableCellID, c fyne.CanvasObject) {
		if id.Row < 0 && id.Col >= 0 && id.Col < len(cols) {
			c.(*widget.Label).SetText(cols[id.Col])
		}
	}
	for i, w := range widths {
		t.SetColumnWidth(i, w)
	}
	return t
}
