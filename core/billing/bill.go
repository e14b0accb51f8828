package billing

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// MissingDataError is returned by Bill when the site refuses to bill periods
// with missing data (Settings.RefuseMissing) and some meter has gaps.
type MissingDataError struct {
	Missing []Missing
	// Location is the site's time zone, in which the error names times.
	Location *time.Location
}

// Error counts the missing intervals and describes the channels they are in.
func (e *MissingDataError) Error() string {
	n := 0
	for _, m := range e.Missing {
		n += m.Slots
	}
	return fmt.Sprintf("%d intervals of %d meter channels are missing (%s); the site refuses to bill incomplete data",
		n, len(e.Missing), describeMissing(e.Missing, e.Location))
}

// ErrNoTariff is wrapped by Bill's error when a day of the period has no
// tariff version in force.
var ErrNoTariff = errors.New("no tariff in force")

// energy classes of a bucket
const (
	clsSolar = iota
	clsHT    // high tariff, or the single grid rate
	clsNT
	clsDynHT // grid energy priced by the dynamic series
	clsDynNT
	nClasses
)

// sources of a bucket: whose meter the energy was metered on
const (
	srcOwn = iota
	srcCommon
	srcHeatPump
	srcEV
)

type consumer struct {
	meter  *core.Meter
	src    int
	e      []core.Energy
	q      []store.Quality
	evSlot int // index into ev arrays, or -1
}

// dayAcc is one consumer's energy on one local day.
type dayAcc struct {
	e    [nClasses]core.Energy
	cost [nClasses]core.NanoCHF // dynamic-price cost, by class
	est  core.Energy
}

type engine struct {
	in      *Input
	site    *core.Site
	loc     *time.Location
	from    core.Slot
	n       int
	days    []core.Date
	dayOf   []int32 // slot -> day index
	class   []uint8 // slot -> clsHT or clsNT
	tidx    []int   // day -> tariff index
	rate    []core.BasisPoints
	dyn     []core.Price // slot -> dynamic price, 0 if none
	cons    []consumer
	acc     []dayAcc // consumer*days + day
	evSol   [][]core.Energy
	evGrid  [][]core.Energy
	prod    [][]core.Energy
	gridIn  []core.Energy // nil without a grid meter
	gridOut []core.Energy
	gridQ   []store.Quality
	run     *Run
}

// Bill allocates the period's energy and computes every invoice. It is a
// pure function of in: the same input gives the same run.
func Bill(in *Input) (*Run, error) {
	if in == nil || in.Site == nil {
		return nil, errors.New("billing: no site")
	}
	if !in.Period.Valid() {
		return nil, fmt.Errorf("billing: invalid period %s", in.Period)
	}
	e := &engine{in: in, site: in.Site, loc: in.Site.Location()}
	e.run = &Run{Site: in.Site.ID, Period: in.Period, Allocation: in.Site.Allocation, Utility: in.Utility}
	if e.run.Allocation == "" {
		e.run.Allocation = core.AllocProportional
	}
	if u := in.Utility; u != nil && u.Period != in.Period {
		return nil, fmt.Errorf("billing %s: the utility bill covers %s, the period is %s", in.Site.ID, u.Period, in.Period)
	}
	if err := e.calendar(); err != nil {
		return nil, err
	}
	for _, q := range in.Billed {
		e.warnf("invoices were already issued for %s, which overlaps %s: their common days would be billed twice", q, in.Period)
	}
	e.loadMeters()
	if len(e.run.Missing) > 0 && e.site.Settings.RefuseMissing {
		return nil, &MissingDataError{Missing: e.run.Missing, Location: e.site.Location()}
	}
	e.allocate()
	if err := e.invoices(); err != nil {
		return nil, err
	}
	return e.run, nil
}

// calendar maps slots to local days, tariff versions and HT/NT.
func (e *engine) calendar() error {
	from, to := e.in.Period.Slots(e.loc)
	e.from, e.n = from, int(to-from)
	e.run.Building.Slots = e.n
	nd := e.in.Period.Days()
	e.days = make([]core.Date, nd)
	e.tidx = make([]int, nd)
	e.rate = make([]core.BasisPoints, nd)
	e.dayOf = make([]int32, e.n)
	e.class = make([]uint8, e.n)
	for d := range nd {
		day := e.in.Period.From.AddDays(d)
		e.days[d] = day
		ti := -1
		for i, t := range e.site.Tariffs {
			if !t.From.After(day) && (ti < 0 || t.From.After(e.site.Tariffs[ti].From)) {
				ti = i
			}
		}
		if ti < 0 {
			return fmt.Errorf("billing %s: %w on %s (add a tariff version from that day or earlier)", e.site.ID, ErrNoTariff, day)
		}
		e.tidx[d] = ti
		t := e.site.Tariffs[ti]
		e.rate[d] = e.site.VATRate(t, day)
		s0, s1 := day.FirstSlot(e.loc)-from, day.AddDays(1).FirstSlot(e.loc)-from
		holiday := e.site.IsHoliday(day)
		for s := s0; s < s1; s++ {
			e.dayOf[s] = int32(d)
			c := uint8(clsHT)
			if t.TwoRate() {
				c = clsNT
				if !holiday {
					lt := (from + s).Time().In(e.loc)
					for _, w := range t.HT {
						if w.Contains(lt) {
							c = clsHT
							break
						}
					}
				}
			}
			e.class[s] = c
		}
	}
	if p := e.in.Prices; p != nil && e.in.Utility == nil {
		e.dyn = make([]core.Price, e.n)
		for s := range e.n {
			if i := int(e.from) + s - int(p.From); i >= 0 && i < len(p.Grid) {
				e.dyn[s] = p.Grid[i]
			}
		}
	}
	return nil
}

// aligned returns s's values for the period's slots, sharing s's arrays when
// they line up, and, if count, reports the missing slots: those of the
// channels the invoices depend on.
func (e *engine) aligned(meter string, ch store.Channel, s store.Series, count bool) ([]core.Energy, []store.Quality) {
	var en []core.Energy
	var q []store.Quality
	if s.From == e.from && len(s.Energy) >= e.n && len(s.Quality) >= e.n {
		en, q = s.Energy[:e.n], s.Quality[:e.n]
	} else {
		en, q = make([]core.Energy, e.n), make([]store.Quality, e.n)
		for i := range e.n {
			j := int(e.from) + i - int(s.From)
			if j >= 0 && j < len(s.Energy) && j < len(s.Quality) {
				en[i], q[i] = s.Energy[j], s.Quality[j]
			}
		}
	}
	if !count {
		return en, q
	}
	m := Missing{Meter: meter, Channel: ch}
	var sum core.Energy
	for i, v := range q {
		if v == store.Missing {
			if m.Slots == 0 {
				m.First = e.from + core.Slot(i)
			}
			m.Slots++
		} else {
			sum += en[i]
		}
	}
	if m.Slots > 0 {
		for i := len(q) - 1; i >= 0; i-- {
			if q[i] == store.Missing {
				m.Last = e.from + core.Slot(i)
				break
			}
		}
		if have := e.n - m.Slots; have > 0 {
			m.Typical = core.Energy(core.DivRound(int64(sum)*int64(m.Slots), int64(have)))
		} else if mt := e.site.Meter(meter); mt != nil && mt.Role.Consumer() {
			m.Unknown = true
		}
		e.run.Missing = append(e.run.Missing, m)
	}
	return en, q
}

func (e *engine) loadMeters() {
	ev := 0
	for i := range e.site.Meters {
		m := &e.site.Meters[i]
		if !m.Role.Consumer() {
			continue
		}
		c := consumer{meter: m, evSlot: -1}
		switch m.Role {
		case core.RoleUnit:
			c.src = srcOwn
		case core.RoleCommon:
			c.src = srcCommon
		case core.RoleHeatPump:
			c.src = srcHeatPump
		case core.RoleEV:
			c.src = srcEV
			c.evSlot = ev
			ev++
		}
		c.e, c.q = e.aligned(m.ID, store.Import, e.in.Data[m.ID].Import, true)
		e.cons = append(e.cons, c)
	}
	for _, m := range e.site.MetersWithRole(core.RoleProduction) {
		en, _ := e.aligned(m.ID, store.Export, e.in.Data[m.ID].Export, true)
		e.prod = append(e.prod, en)
	}
	if gm := e.site.MetersWithRole(core.RoleGrid); len(gm) > 0 {
		// The grid meter's import decides the balance model's solar and the
		// redistributed difference; otherwise it is only compared.
		needed := e.run.Allocation == core.AllocBalance || e.site.Settings.Redistribute
		e.gridIn, e.gridQ = e.aligned(gm[0].ID, store.Import, e.in.Data[gm[0].ID].Import, needed)
		e.gridOut, _ = e.aligned(gm[0].ID, store.Export, e.in.Data[gm[0].ID].Export, false)
	}
}

func (e *engine) allocate() {
	b := &e.run.Building
	nc, nd := len(e.cons), len(e.days)
	e.acc = make([]dayAcc, nc*nd)
	// EV meters keep per-slot values: sessions are finer than days.
	for _, c := range e.cons {
		if c.evSlot >= 0 {
			e.evSol = append(e.evSol, make([]core.Energy, e.n))
			e.evGrid = append(e.evGrid, make([]core.Energy, e.n))
		}
	}
	prod, gridIn, gridOut, gridQ := e.prod, e.gridIn, e.gridOut, e.gridQ
	method := e.run.Allocation
	redistribute := e.site.Settings.Redistribute && gridIn != nil
	c := make([]int64, nc)
	sol := make([]int64, nc)
	grid := make([]int64, nc)
	extra := make([]int64, nc)
	var sp splitter
	noGridSlots := 0
	for s := range e.n {
		var P, C int64
		for _, p := range prod {
			P += max(int64(p[s]), 0)
		}
		for i := range e.cons {
			v := max(int64(e.cons[i].e[s]), 0)
			c[i] = v
			C += v
		}
		S := min(P, C)
		if method == core.AllocBalance {
			if gridIn != nil && gridQ[s] != store.Missing {
				S = min(max(C-int64(gridIn[s]), 0), min(P, C))
			} else {
				noGridSlots++
			}
		}
		if method == core.AllocEqual {
			allocEqual(core.Energy(S), c, sol)
		} else {
			sp.allocProportional(core.Energy(S), c, sol)
		}
		var G int64
		for i := range c {
			grid[i] = c[i] - sol[i]
			G += grid[i]
		}
		if gridIn != nil {
			b.GridMeterImport += gridIn[s]
			b.GridMeterExport += gridOut[s]
			if gridQ[s] != store.Missing {
				b.Difference += gridIn[s] - core.Energy(G)
				if redistribute {
					d := int64(gridIn[s]) - G
					var ok bool
					if d >= 0 {
						ok = sp.split(d, c, extra)
					} else {
						d = max(d, -G)
						ok = sp.splitSigned(d, grid, extra)
					}
					if ok {
						for i := range grid {
							grid[i] += extra[i]
						}
						b.Redistributed += core.Energy(d)
					}
				}
			}
		}
		b.Production += core.Energy(P)
		b.SelfConsumed += core.Energy(S)
		b.Consumption += core.Energy(C)
		d := int(e.dayOf[s])
		cls := int(e.class[s])
		dyn := core.Price(0)
		if e.dyn != nil {
			dyn = e.dyn[s]
		}
		for i := range e.cons {
			cn := &e.cons[i]
			if cn.q[s] == store.Estimated {
				e.acc[i*nd+d].est += core.Energy(c[i])
				b.Estimated += core.Energy(c[i])
			}
			if cn.evSlot >= 0 {
				e.evSol[cn.evSlot][s] = core.Energy(sol[i])
				e.evGrid[cn.evSlot][s] = core.Energy(grid[i])
				continue
			}
			a := &e.acc[i*nd+d]
			a.e[clsSolar] += core.Energy(sol[i])
			if dyn > 0 {
				a.e[cls+2] += core.Energy(grid[i])
				a.cost[cls+2] += core.Cost(core.Energy(grid[i]), dyn)
			} else {
				a.e[cls] += core.Energy(grid[i])
			}
		}
	}
	b.FedIn = b.Production - b.SelfConsumed
	b.Grid = b.Consumption - b.SelfConsumed + b.Redistributed
	if noGridSlots > 0 {
		e.warnf("balance model: %d intervals without grid meter data were allocated proportionally (min(P, C))", noGridSlots)
	}
	if len(e.run.Missing) > 0 {
		var typical core.Energy
		var sized, unknown []Missing
		var consumers, production, grid bool
		for _, m := range e.run.Missing {
			if m.Unknown {
				unknown = append(unknown, m)
				continue
			}
			sized = append(sized, m)
			switch r := e.site.Meter(m.Meter).Role; {
			case r.Consumer():
				consumers = true
				typical += m.Typical
			case r == core.RoleProduction:
				production = true
			default:
				grid = true
			}
		}
		// A meter without any value is named on its own, plainly: an
		// estimate of 0 kWh would read as "nothing missing".
		var parts []string
		parts = append(parts, DescribeUnknown(unknown, e.n, e.loc)...)
		if len(sized) > 0 {
			parts = append(parts, describeMissing(sized, e.loc))
		}
		msg := "missing data: " + strings.Join(parts, "; ")
		if consumers {
			t := e.site.Tariffs[e.tidx[0]]
			gp := max(t.Grid, t.GridHT)
			msg += fmt.Sprintf("; the invoices bill only what was metered or estimated: consumption of about %s kWh "+
				"(about CHF %s at the grid price) may be unbilled", core.FormatKWh(typical), core.Cost(typical, gp).Rappen())
			if len(unknown) > 0 {
				msg += ", plus the unknown amounts"
			}
		}
		if len(unknown) > 0 {
			msg += "; the consumption of a meter without any value is not billed at all, " +
				"so finalizing requires accepting it explicitly"
		}
		if production {
			msg += "; where production is missing, no solar is allocated: the consumption there is billed as grid energy"
		}
		if grid {
			msg += "; where the grid meter is missing, its intervals count as if it agreed with the sub-meters"
		}
		e.warnf("%s", msg)
	}
	if b.Estimated > 0 {
		e.warnf("estimated energy: %s kWh of the consumption was estimated", core.FormatKWh(b.Estimated))
	}
	if gridIn != nil && b.Grid != 0 {
		tol := e.site.Settings.BalanceTolerance
		if tol == 0 {
			tol = 200
		}
		diff := b.Difference
		if diff < 0 {
			diff = -diff
		}
		if int64(diff)*10000 > int64(b.Consumption-b.SelfConsumed)*int64(tol) {
			e.warnf("the grid meter's import differs from the sub-meters' grid energy by %s kWh, more than the tolerance of %s %%",
				core.FormatKWh(b.Difference), tol)
		}
	}
}

func (e *engine) warnf(format string, args ...any) {
	e.run.Warnings = append(e.run.Warnings, fmt.Sprintf(format, args...))
}

// describeMissing names the first few gaps, with their start in the site's
// local time: the office reads these warnings, not a UTC log.
func describeMissing(ms []Missing, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	s := ""
	for i, m := range ms {
		if i == 3 {
			s += fmt.Sprintf(", and %d more", len(ms)-3)
			break
		}
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s %s: %d intervals (%s h) from %s", m.Meter, m.Channel, m.Slots,
			formatHours(m.Slots), m.First.Time().In(loc).Format("02.01.2006 15:04"))
		if m.Typical > 0 {
			s += fmt.Sprintf(", typically about %s kWh", core.FormatKWh(m.Typical))
		}
	}
	return s
}

// DescribeUnknown names each gap of unknown energy (Missing.Unknown) of a
// period of slots intervals for the office, the local dates it spans in
// loc: "meter M-W01: no value in 8'736 of 8'736 intervals
// (1.1.–31.3.2026), unknown amount".
func DescribeUnknown(gaps []Missing, slots int, loc *time.Location) []string {
	if loc == nil {
		loc = time.UTC
	}
	out := make([]string, 0, len(gaps))
	for _, m := range gaps {
		ch := ""
		if m.Channel != store.Import {
			ch = " " + m.Channel.String()
		}
		out = append(out, fmt.Sprintf("meter %s%s: no value in %s of %s intervals (%s), unknown amount", m.Meter, ch,
			groupThousands(m.Slots), groupThousands(slots),
			dayRange(core.DateOf(m.First.Time().In(loc)), core.DateOf(m.Last.Time().In(loc)))))
	}
	return out
}

// groupThousands writes n with an apostrophe between thousands (8'736), as
// figures are written in Switzerland and on the invoices.
func groupThousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "'" + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// dayRange writes the days from a to b the short Swiss way: "1.1.–31.3.2026",
// "15.12.2025–31.1.2026", or "5.1.2026" for one day.
func dayRange(a, b core.Date) string {
	day := func(d core.Date) string { return fmt.Sprintf("%d.%d.", d.Day, d.Month) }
	switch {
	case a == b:
		return day(a) + strconv.Itoa(a.Year)
	case a.Year == b.Year:
		return day(a) + "–" + day(b) + strconv.Itoa(b.Year)
	}
	return day(a) + strconv.Itoa(a.Year) + "–" + day(b) + strconv.Itoa(b.Year)
}

func formatHours(slots int) string {
	h := fmt.Sprintf("%d", slots/4)
	switch slots % 4 {
	case 1:
		h += ".25"
	case 2:
		h += ".5"
	case 3:
		h += ".75"
	}
	return h
}
