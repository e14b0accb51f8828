package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/store"
)

// htPattern is a high-tariff schedule Swiss utilities commonly use,
// offered so that nobody types the windows.
type htPattern struct {
	label   func() string
	windows []string
}

var htPatterns = []htPattern{
	{func() string { return lang.X("forms.ht.single", "Single rate (no HT/NT)") }, nil},
	{func() string { return lang.X("forms.ht.mofr7-20sa7-13", "Mon–Fri 07–20, Sat 07–13") }, []string{"mon-fri 07:00-20:00", "sat 07:00-13:00"}},
	{func() string { return lang.X("forms.ht.mofr6-22", "Mon–Fri 06–22") }, []string{"mon-fri 06:00-22:00"}},
	{func() string { return lang.X("forms.ht.mofr7-21", "Mon–Fri 07–21") }, []string{"mon-fri 07:00-21:00"}},
	{func() string { return lang.X("forms.ht.mosa6-22", "Mon–Sat 06–22") }, []string{"mon-sat 06:00-22:00"}},
	{func() string { return lang.X("forms.ht.custom", "Other windows (type them below)") }, nil},
}

// Tariffs edits a site's tariff versions: the first day, the solar and grid
// prices (one rate, or HT/NT with their windows), fees, VAT and the price of
// the utility's standard product, and shows next to the solar price the
// Energy Ordinance Art. 16 check with its arithmetic. It is not safe for
// concurrent use; call its methods on Fyne's goroutine.
type Tariffs struct {
	st      store.Store
	clock   core.Clock
	changed func(*core.Site)
	site    *core.Site
	costs   *billing.SolarCosts

	list *widget.List
	idx  int

	fs                                   *fieldSet
	from, solar, grid, gridHT, gridNT    *widget.Entry
	windows, baseFee, metering, vat, std *widget.Entry
	pattern                              *widget.Select
	check                                *widget.Label // the Art. 16 arithmetic
	checkTitle                           *widget.Label // its heading, hidden while it is empty
	status                               *widget.Label
	content                              fyne.CanvasObject
}

// NewTariffs makes the Tariffs screen on st.
func NewTariffs(st store.Store, clock core.Clock) *Tariffs {
	t := &Tariffs{st: st, clock: clock, idx: -1, fs: newFieldSet()}
	t.status = widget.NewLabel("")
	t.status.Wrapping = fyne.TextWrapWord
	t.list = widget.NewList(func() int {
		if t.site == nil {
			return 0
		}
		return len(t.site.Tariffs)
	}, func() fyne.CanvasObject {
		l := widget.NewLabel("")
		l.Truncation = fyne.TextTruncateEllipsis // the list may be narrower than a line
		return l
	}, func(i widget.ListItemID, o fyne.CanvasObject) {
		o.(*widget.Label).SetText(t.versionLine(i))
	})
	t.list.OnSelected = func(i widget.ListItemID) { t.edit(i) }
	e := widget.NewEntry
	t.from, t.solar, t.grid, t.gridHT, t.gridNT = e(), e(), e(), e(), e()
	t.baseFee, t.metering, t.vat, t.std = e(), e(), e(), e()
	t.windows = widget.NewMultiLineEntry()
	t.windows.SetMinRowsVisible(3)
	t.windows.SetPlaceHolder("mon-fri 07:00-20:00\nsat 07:00-13:00")
	t.vat.SetPlaceHolder(lang.X("forms.tariff.vatDefault", "legal rate if VAT-registered"))
	labels := make([]string, len(htPatterns))
	for i, p := range htPatterns {
		labels[i] = p.label()
	}
	t.pattern = newSelect(labels, t.onPattern)
	t.check = widget.NewLabel("")
	t.check.TextStyle = fyne.TextStyle{Monospace: true}
	// The arithmetic's lines are long: below the form, across its width,
	// they fit an office window, and in a narrower one they wrap rather
	// than widen the window.
	t.check.Wrapping = fyne.TextWrapWord
	for _, w := range []*widget.Entry{t.solar, t.std, t.vat, t.from} {
		w.OnChanged = func(string) { t.refreshCheck() }
	}
	t.checkTitle = widget.NewLabelWithStyle(lang.X("forms.tariff.art16", "Art. 16 check"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	t.checkTitle.Hide()
	fs := t.fs
	fs.add("from", lang.X("forms.tariff.from", "Valid from"), t.from)
	fs.add("solar_chf_kwh", lang.X("forms.tariff.solar", "Solar price CHF/kWh (excl. VAT)"), t.solar)
	fs.add("standard_chf_kwh", lang.X("forms.tariff.standard", "Utility's standard product CHF/kWh (incl. VAT)"), t.std)
	fs.add("", lang.X("forms.tariff.pattern", "HT/NT schedule"), t.pattern)
	fs.add("ht", lang.X("forms.tariff.windows", "HT windows (one per line)"), t.windows)
	grid := fs.add("grid_chf_kwh", lang.X("forms.tariff.grid", "Grid price CHF/kWh (single rate)"), t.grid)
	fs.add("grid_ht_chf_kwh", lang.X("forms.tariff.gridHT", "Grid price HT CHF/kWh"), t.gridHT)
	fs.add("grid_nt_chf_kwh", lang.X("forms.tariff.gridNT", "Grid price NT CHF/kWh"), t.gridNT)
	fs.add("base_fee_chf_month", lang.X("forms.tariff.baseFee", "Base fee CHF per unit and month"), t.baseFee)
	fs.add("metering_chf_month", lang.X("forms.tariff.metering", "Metering CHF per meter and month"), t.metering)
	fs.add("vat_percent", lang.X("forms.tariff.vat", "VAT %"), t.vat)
	fs.alias(".", grid) // "expected a grid price" is about the whole version
	form := container.NewVBox(fs.grid(),
		t.checkTitle, t.check, fs.general, container.NewHBox(
			widget.NewButton(lang.X("forms.tariff.new", "New version"), func() { t.list.UnselectAll(); t.edit(-1) }),
			widget.NewButton(lang.X("forms.save", "Save"), t.onSave)))
	split := container.NewHSplit(t.list, container.NewVScroll(form))
	split.Offset = 0.3 // the form, with the check's lines, needs the room
	t.content = container.NewBorder(nil, t.status, nil, nil, split)
	return t
}

// Content returns the screen's canvas object.
func (t *Tariffs) Content() fyne.CanvasObject { return t.content }

func (t *Tariffs) setSite(site *core.Site) {
	t.site = site
	t.costs = nil
	_ = t.st.View(func(tx store.Tx) error {
		v, err := tx.GetMeta(billing.BucketSolarCosts, site.ID)
		if err != nil {
			return nil // none stored: the flat rate alone applies
		}
		var c billing.SolarCosts
		if json.Unmarshal(v, &c) == nil {
			t.costs = &c
		}
		return nil
	})
	t.status.SetText("")
	t.list.UnselectAll()
	t.list.Refresh()
	t.edit(-1)
}

func (t *Tariffs) versionLine(i int) string {
	if t.site == nil || i >= len(t.site.Tariffs) {
		return ""
	}
	v := t.site.Tariffs[i]
	grid := v.Grid.String()
	if v.TwoRate() {
		grid = v.GridHT.String() + " / " + v.GridNT.String()
	}
	return lang.X("forms.tariff.line", "from {{.From}}: solar {{.Solar}}, grid {{.Grid}} CHF/kWh",
		map[string]any{"From": date(v.From), "Solar": v.Solar.String(), "Grid": grid})
}

// edit fills the form with version i, or with a new version (-1) that
// starts as a copy of the latest one.
func (t *Tariffs) edit(i int) {
	t.fs.clear()
	t.idx = i
	var v core.Tariff
	if t.site != nil && i >= 0 && i < len(t.site.Tariffs) {
		v = t.site.Tariffs[i]
	} else {
		t.idx = -1
		if t.site != nil && len(t.site.Tariffs) > 0 {
			v = t.site.Tariffs[len(t.site.Tariffs)-1]
			v.From = core.Date{}
		}
	}
	t.from.SetText(dateField(v.From))
	t.solar.SetText(priceField(v.Solar))
	t.grid.SetText(priceField(v.Grid))
	t.gridHT.SetText(priceField(v.GridHT))
	t.gridNT.SetText(priceField(v.GridNT))
	var ws []string
	for _, w := range v.HT {
		ws = append(ws, w.String())
	}
	t.windows.SetText(strings.Join(ws, "\n"))
	p := len(htPatterns) - 1
	for k, hp := range htPatterns {
		if slices.Equal(hp.windows, ws) && (len(ws) > 0 || k == 0) {
			p = k
			break
		}
	}
	t.pattern.SetSelectedIndex(p)
	t.baseFee.SetText(chfField(v.BaseFeeMonth))
	t.metering.SetText(chfField(v.MeteringMonth))
	if v.VAT != nil {
		t.vat.SetText(v.VAT.String())
	} else {
		t.vat.SetText("")
	}
	t.std.SetText(priceField(v.Standard))
	t.refreshCheck()
}

// onPattern fills the windows of a chosen schedule.
func (t *Tariffs) onPattern(string) {
	i := t.pattern.SelectedIndex()
	if i < 0 || i == len(htPatterns)-1 {
		return
	}
	t.windows.SetText(strings.Join(htPatterns[i].windows, "\n"))
}

// read returns the version in the form; ok is false when an input does not
// parse (shown at its field).
func (t *Tariffs) read(show bool) (core.Tariff, bool) {
	in := inputs{fs: t.fs}
	check := func(elem string, err error) {
		if show {
			in.check(t.fs.byElem[elem], err)
		} else if err != nil {
			in.bad = true
		}
	}
	var v core.Tariff
	var err error
	v.From, err = parseDateField(t.from.Text)
	check("from", err)
	v.Solar, err = parsePriceField(t.solar.Text)
	check("solar_chf_kwh", err)
	v.Grid, err = parsePriceField(t.grid.Text)
	check("grid_chf_kwh", err)
	v.GridHT, err = parsePriceField(t.gridHT.Text)
	check("grid_ht_chf_kwh", err)
	v.GridNT, err = parsePriceField(t.gridNT.Text)
	check("grid_nt_chf_kwh", err)
	v.BaseFeeMonth, err = parseCHFField(t.baseFee.Text)
	check("base_fee_chf_month", err)
	v.MeteringMonth, err = parseCHFField(t.metering.Text)
	check("metering_chf_month", err)
	v.Standard, err = parsePriceField(t.std.Text)
	check("standard_chf_kwh", err)
	if cleanNumber(t.vat.Text) != "" {
		b, err := parseHundredthsField(t.vat.Text)
		check("vat_percent", err)
		bp := core.BasisPoints(b)
		v.VAT = &bp
	}
	for _, line := range strings.Split(t.windows.Text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		w, err := core.ParseWindow(line)
		check("ht", err)
		v.HT = append(v.HT, w)
	}
	return v, !in.bad
}

// refreshCheck shows the Art. 16 check of the solar price in the form, with
// its arithmetic (billing.CheckSolarPrice, as `tariff check` prints it).
func (t *Tariffs) refreshCheck() {
	if t.site == nil {
		return
	}
	defer func() { t.checkTitle.Hidden = t.check.Text == ""; t.checkTitle.Refresh() }()
	v, ok := t.read(false)
	if !ok || v.Solar == 0 {
		t.check.SetText("")
		return
	}
	day := v.From
	if day.IsZero() {
		day = core.DateOf(t.clock.Now().In(t.site.Location()))
	}
	c, err := billing.CheckSolarPrice(v, t.site.VATRate(v, day), t.costs)
	switch {
	case errors.Is(err, billing.ErrNoStandardPrice):
		t.check.SetText(lang.X("forms.tariff.noStandard", "Enter the utility's standard product price to check the solar price (Art. 16 EnV)."))
		return
	case errors.Is(err, billing.ErrNoSelfConsumed):
		t.check.SetText(lang.X("forms.tariff.noSelfConsumed", "The stored solar costs lack the yearly self-consumed energy (or a cost price): store them again with zevdesk tariff costs --site {{.Site}} FILE.toml.", map[string]any{"Site": t.site.ID}))
		return
	case errors.Is(err, billing.ErrNoYears):
		t.check.SetText(lang.X("forms.tariff.noYears", "The stored solar costs lack the depreciation period in years: store them again with zevdesk tariff costs --site {{.Site}} FILE.toml.", map[string]any{"Site": t.site.ID}))
		return
	case err != nil:
		t.check.SetText(err.Error())
		return
	}
	t.check.SetText(solarCheckLines(c))
	if c.OK {
		t.check.Importance = widget.SuccessImportance
	} else {
		t.check.Importance = widget.DangerImportance
	}
	t.check.Refresh()
}

// onSave stores the version in the form: a new version is added, an edited
// one replaced; core.Site.Validate sorts them by date.
func (t *Tariffs) onSave() {
	if t.site == nil {
		return
	}
	t.fs.clear()
	t.status.SetText("")
	v, ok := t.read(true)
	if !ok {
		return
	}
	s := cloneSite(t.site)
	if t.idx < 0 {
		s.Tariffs = append(s.Tariffs, v)
	} else {
		s.Tariffs[t.idx] = v
	}
	// Sorted as Validate sorts them, so that the element paths of its
	// errors and of a billed period's refusal count like the stored list;
	// the stable sort puts this version after one with the same first day,
	// where Validate reports the duplicate.
	slices.SortStableFunc(s.Tariffs, func(a, b core.Tariff) int { return a.From.Compare(b.From) })
	i := 0
	for k, x := range s.Tariffs {
		if x.From == v.From {
			i = k
		}
	}
	stored, err := saveSite(t.st, t.clock, s)
	if err != nil {
		t.fs.showErr(err, fmt.Sprintf("tariffs[%d].", i))
		return
	}
	t.site = stored
	t.list.Refresh()
	// After sorting, the saved version is the one with its first day.
	t.idx = slices.IndexFunc(stored.Tariffs, func(x core.Tariff) bool { return x.From == v.From })
	t.status.SetText(lang.X("forms.saved", "Saved."))
	if t.changed != nil {
		t.changed(stored)
	}
}
