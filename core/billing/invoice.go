package billing

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

type bkey struct {
	src, tariff, cls int
	rate             core.BasisPoints
}

type bucket struct {
	e     core.Energy
	cost  core.NanoCHF // dynamic-price cost
	pass  core.Rappen  // pass-through amount
	isPas bool
}

type fkey struct {
	kind   LineKind
	tariff int
	rate   core.BasisPoints
	count  int // meters charged (a retired meter leaves the count after its last day)
}

type monthKey struct {
	y int
	m time.Month
}

type account struct {
	inv     Invoice
	buckets map[bkey]*bucket
	fees    map[fkey]map[monthKey]int // days per month
	adv     map[monthKey]int          // advance: days per month
	est     core.Energy
	d0, d1  int // day range of a unit account; d0 = -1 otherwise
}

func (a *account) add(k bkey, en core.Energy, cost core.NanoCHF) {
	if en == 0 && cost == 0 {
		return
	}
	b := a.buckets[k]
	if b == nil {
		b = &bucket{}
		a.buckets[k] = b
	}
	b.e += en
	b.cost += cost
}

func (e *engine) newAccount(inv Invoice) *account {
	inv.Site = e.site.ID
	return &account{inv: inv, buckets: map[bkey]*bucket{}, fees: map[fkey]map[monthKey]int{},
		adv: map[monthKey]int{}, d0: -1, d1: -1}
}

func (e *engine) ownerName() string {
	if e.site.Owner != "" {
		return e.site.Owner
	}
	return e.site.Operator.Name
}

func (e *engine) invoices() error {
	nd := len(e.days)
	p := e.in.Period
	var accts []*account
	unitIdx := map[string]int{}
	// dayAcct is whom a unit's energy goes to on each day of the period: a
	// tenancy or a vacancy, nil outside the unit's days in service.
	dayAcct := make([][]*account, len(e.site.Units)) // unit -> day -> account
	service := make([][2]int, len(e.site.Units))     // unit -> its days in service in the period, [first, last]
	for ui, u := range e.site.Units {
		unitIdx[u.ID] = ui
		dayAcct[ui] = make([]*account, nd)
		first, last := 0, nd-1
		if !u.Since.IsZero() {
			first = max(first, p.From.DaysUntil(u.Since))
		}
		if !u.Retired.IsZero() {
			last = min(last, p.From.DaysUntil(u.Retired))
		}
		service[ui] = [2]int{first, last}
		var occs []core.Occupancy
		for _, o := range e.site.Occupancies {
			if o.Unit != u.ID {
				continue
			}
			if _, ok := o.Period(p); ok {
				occs = append(occs, o)
			}
		}
		slices.SortStableFunc(occs, func(a, b core.Occupancy) int { return a.From.Compare(b.From) })
		cursor := first
		span := func(a *account, d0, d1 int) {
			a.d0, a.d1 = d0, d1
			a.inv.From, a.inv.To = e.days[d0], e.days[d1]
			for d := d0; d <= d1; d++ {
				dayAcct[ui][d] = a
			}
			accts = append(accts, a)
		}
		vacancy := func(d0, d1 int) {
			a := e.newAccount(Invoice{Key: "vacant:" + u.ID + ":" + e.days[d0].String(), Unit: u.ID,
				Tenant: e.ownerName(), Owner: true})
			span(a, d0, d1)
		}
		for _, o := range occs {
			op, _ := o.Period(p)
			// Validate keeps every tenancy in its unit's days in service.
			d0, d1 := max(p.From.DaysUntil(op.From), first), min(p.From.DaysUntil(op.To), last)
			if d0 > d1 {
				continue
			}
			if d0 > cursor {
				vacancy(cursor, d0-1)
			}
			a := e.newAccount(Invoice{Key: "occ:" + u.ID + ":" + o.Name + ":" + o.From.String(), Unit: u.ID,
				Tenant: o.Name, Occupancy: o})
			span(a, d0, d1)
			cursor = d1 + 1
		}
		if cursor <= last {
			vacancy(cursor, last)
		}
	}
	var owner *account
	ownerAcct := func() *account {
		if owner == nil {
			owner = e.newAccount(Invoice{Key: "owner", Tenant: e.ownerName(), Owner: true, From: p.From, To: p.To})
		}
		return owner
	}

	// Unit, common and heat-pump meters, by day.
	var sp splitter
	for i, c := range e.cons {
		if c.evSlot >= 0 {
			continue
		}
		switch c.src {
		case srcOwn:
			ui := unitIdx[c.meter.Unit]
			for d := range nd {
				a := dayAcct[ui][d]
				acc := &e.acc[i*nd+d]
				if a == nil {
					// Outside the unit's days in service its meter is out
					// of service too (Validate), so this holds nothing;
					// should it hold something, the owner pays rather than
					// no one.
					if *acc == (dayAcc{}) {
						continue
					}
					a = ownerAcct()
				}
				e.addDay(a, srcOwn, d, acc)
				a.est += acc.est
			}
		default:
			base := e.keyWeights(c.meter)
			if base == nil && c.meter.Key != core.KeyOwner {
				e.warnf("meter %s: key %q gives every unit a zero share; billed to the owner", c.meter.ID, c.meter.Key)
			}
			var weights, share []int64
			wTo := -1 // weights hold for the days up to wTo
			for d := range nd {
				acc := &e.acc[i*nd+d]
				if d > wTo {
					weights, wTo = inService(base, service, d, nd)
					share = make([]int64, len(weights))
				}
				if weights == nil {
					// The owner's key, or no unit in service on the day.
					a := ownerAcct()
					e.addDay(a, c.src, d, acc)
					a.est += acc.est
					continue
				}
				// A unit's share of estimated energy is estimated too: the
				// invoice says how much of what it bills was estimated.
				if acc.est != 0 {
					sp.split(int64(acc.est), weights, share)
					for ui, v := range share {
						if v != 0 { // a unit out of service has no account and no weight
							dayAcct[ui][d].est += core.Energy(v)
						}
					}
				}
				for cls := range nClasses {
					if acc.e[cls] == 0 {
						continue
					}
					sp.split(int64(acc.e[cls]), weights, share)
					for ui, v := range share {
						if v != 0 {
							dayAcct[ui][d].add(e.key(c.src, cls, d), core.Energy(v), 0)
						}
					}
				}
				for cls := clsDynHT; cls < nClasses; cls++ {
					if acc.cost[cls] == 0 {
						continue
					}
					sp.splitSigned(int64(acc.cost[cls]), weights, share)
					for ui, v := range share {
						if v != 0 {
							dayAcct[ui][d].add(e.key(c.src, cls, d), 0, core.NanoCHF(v))
						}
					}
				}
			}
		}
	}

	// EV meters, by slot: sessions to the card's person, the rest to the
	// owner. A person who is the tenant of the session's unit on the day
	// finds the charging on the tenancy's invoice (one invoice per tenant
	// and period); anyone else gets an EV invoice of their own.
	persons := map[string]*account{}
	var personOrder []string
	person := func(s Session) *account {
		a := persons[s.Person]
		if a == nil {
			a = e.newAccount(Invoice{Key: "ev:" + s.Person, Unit: s.Unit, Tenant: s.Person, From: p.From, To: p.To})
			persons[s.Person] = a
			personOrder = append(personOrder, s.Person)
		}
		return a
	}
	for _, c := range e.cons {
		if c.evSlot < 0 {
			continue
		}
		who := make([]*account, e.n)
		for _, s := range e.in.Sessions {
			if s.Meter != c.meter.ID {
				continue
			}
			s0 := core.SlotOf(s.Start) - e.from
			s1 := core.SlotOf(s.End.Add(-time.Nanosecond)) + 1 - e.from
			s0, s1 = max(s0, 0), min(s1, core.Slot(e.n))
			if s0 >= s1 {
				continue
			}
			ui, hasUnit := unitIdx[s.Unit]
			overlap := core.Slot(-1)
			for sl := s0; sl < s1; sl++ {
				var a *account
				if hasUnit {
					if t := dayAcct[ui][e.dayOf[sl]]; t != nil && !t.inv.Owner && t.inv.Tenant == s.Person {
						a = t
					}
				}
				if a == nil {
					a = person(s)
				}
				if who[sl] != nil && who[sl] != a {
					if overlap < 0 {
						overlap = sl
					}
					continue
				}
				who[sl] = a
			}
			if overlap >= 0 {
				e.warnf("EV meter %s: session %s of %s overlaps an earlier session from %s; the earlier session keeps those intervals",
					c.meter.ID, s.ID, s.Person, e.from+overlap)
			}
		}
		sol, grid := e.evSol[c.evSlot], e.evGrid[c.evSlot]
		for s := range e.n {
			// A redistributed shortfall may leave an estimated interval
			// without energy; its estimate still counts.
			if sol[s] == 0 && grid[s] == 0 && (c.q[s] != store.Estimated || c.e[s] == 0) {
				continue
			}
			a := who[s]
			if a == nil {
				a = ownerAcct()
			}
			d := int(e.dayOf[s])
			a.add(e.key(srcEV, clsSolar, d), sol[s], 0)
			cls := int(e.class[s])
			if e.dyn != nil && e.dyn[s] > 0 {
				a.add(e.key(srcEV, cls+2, d), grid[s], core.Cost(grid[s], e.dyn[s]))
			} else {
				a.add(e.key(srcEV, cls, d), grid[s], 0)
			}
			if c.q[s] == store.Estimated {
				a.est += c.e[s]
			}
		}
	}
	for _, s := range e.in.Sessions {
		if m := e.site.Meter(s.Meter); m == nil || m.Role != core.RoleEV {
			e.warnf("EV session %s of %s: %q is not an EV meter of the site; not billed", s.ID, s.Person, s.Meter)
		}
	}
	slices.Sort(personOrder)
	if owner != nil {
		accts = append(accts, owner)
	}
	for _, n := range personOrder {
		accts = append(accts, persons[n])
	}

	// Fixed fees and advance payments of unit accounts, pro rata by day.
	unitMeters := map[string][]core.Meter{}
	for _, m := range e.site.Meters {
		if m.Role == core.RoleUnit {
			unitMeters[m.Unit] = append(unitMeters[m.Unit], m)
		}
	}
	for _, a := range accts {
		if a.d0 < 0 {
			continue
		}
		for d := a.d0; d <= a.d1; d++ {
			t := e.site.Tariffs[e.tidx[d]]
			mk := monthKey{e.days[d].Year, e.days[d].Month}
			if t.BaseFeeMonth != 0 {
				addDays(a.fees, fkey{KindBaseFee, e.tidx[d], e.rate[d], 1}, mk)
			}
			meters := 0
			for _, m := range unitMeters[a.inv.Unit] {
				if m.InService(e.days[d]) {
					meters++
				}
			}
			if t.MeteringMonth != 0 && meters > 0 {
				addDays(a.fees, fkey{KindMetering, e.tidx[d], e.rate[d], meters}, mk)
			}
			if a.inv.Occupancy.AdvanceMonth != 0 {
				a.adv[mk]++
			}
		}
	}

	if e.in.Utility != nil {
		if err := e.passThrough(accts); err != nil {
			return err
		}
	}
	for _, a := range accts {
		inv := e.finish(a)
		if (inv.Owner || a.d0 < 0) && inv.Net == 0 && inv.KWh.Total == 0 && inv.EstimatedKWh == 0 {
			continue // nothing to bill the owner, or a person whose sessions drew nothing
		}
		e.run.Invoices = append(e.run.Invoices, inv)
	}
	e.checkReadings()
	return nil
}

func addDays(m map[fkey]map[monthKey]int, k fkey, mk monthKey) {
	mm := m[k]
	if mm == nil {
		mm = map[monthKey]int{}
		m[k] = mm
	}
	mm[mk]++
}

func (e *engine) key(src, cls, d int) bkey {
	return bkey{src: src, tariff: e.tidx[d], cls: cls, rate: e.rate[d]}
}

func (e *engine) addDay(a *account, src, d int, acc *dayAcc) {
	for cls := range nClasses {
		a.add(e.key(src, cls, d), acc.e[cls], acc.cost[cls])
	}
}

// keyWeights returns the units' weights under m's key, or nil when the
// meter is billed to the owner.
func (e *engine) keyWeights(m *core.Meter) []int64 {
	if m.Key == core.KeyOwner || len(e.site.Units) == 0 {
		return nil
	}
	w := make([]int64, len(e.site.Units))
	var sum int64
	for i, u := range e.site.Units {
		w[i] = u.KeyWeight(m.Key)
		sum += w[i]
	}
	if sum == 0 {
		return nil
	}
	return w
}

// inService returns base with the weights of the units out of service on
// day d set to zero (nil if none is left), and the last day for which that
// holds: the next day a unit enters or leaves service, less one. service
// holds each unit's days in service in the period.
func inService(base []int64, service [][2]int, d, nd int) (w []int64, until int) {
	until = nd - 1
	if base == nil {
		return nil, until
	}
	w = make([]int64, len(base))
	var sum int64
	for ui, sv := range service {
		switch {
		case d < sv[0]:
			until = min(until, sv[0]-1)
		case d <= sv[1]:
			until = min(until, sv[1])
			w[ui] = base[ui]
			sum += w[ui]
		}
	}
	if sum == 0 {
		return nil, until
	}
	return w, until
}

// passThrough shares each utility bill line among the grid buckets of all
// invoices by the line's basis, to the Rappen, so that the invoices' grid
// amounts add up to exactly the utility's cost.
func (e *engine) passThrough(accts []*account) error {
	type ref struct {
		b  *bucket
		ht bool
	}
	var refs []ref
	for _, a := range accts {
		for _, k := range sortedKeys(a.buckets) {
			if k.cls == clsSolar {
				continue
			}
			b := a.buckets[k]
			b.isPas = true
			refs = append(refs, ref{b, k.cls == clsHT || k.cls == clsDynHT})
		}
	}
	w := make([]int64, len(refs))
	out := make([]int64, len(refs))
	var sp splitter
	for _, l := range e.in.Utility.Lines {
		amt := l.Total()
		basis := l.Basis
		for {
			for i, r := range refs {
				w[i] = 0
				if basis == BasisAll || basis == "" || (basis == BasisHT) == r.ht {
					w[i] = int64(r.b.e)
				}
			}
			if sp.splitSigned(int64(amt), w, out) {
				break
			}
			if basis == BasisAll || basis == "" {
				return fmt.Errorf("pass-through: the invoices have no grid energy to carry the utility's %q (CHF %s)", l.Label, amt)
			}
			e.warnf("pass-through: no %s grid energy for the utility's %q; shared by all grid energy", basis, l.Label)
			basis = BasisAll
		}
		for i, r := range refs {
			r.b.pass += core.Rappen(out[i])
		}
	}
	return nil
}

func sortedKeys(m map[bkey]*bucket) []bkey {
	ks := make([]bkey, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b bkey) int {
		return cmp.Or(cmp.Compare(a.src, b.src), cmp.Compare(a.tariff, b.tariff), cmp.Compare(a.cls, b.cls), cmp.Compare(a.rate, b.rate))
	})
	return ks
}

var srcLabel = [...]string{"", "General electricity", "Heat pump", "EV charging"}
var srcKind = [...]LineKind{"", KindCommon, KindHeatPump, KindEV}

func (e *engine) finish(a *account) Invoice {
	inv := a.inv
	inv.Number = e.in.Numbers[inv.Key]
	inv.EstimatedKWh = a.est
	multiTariff := e.tidx[0] != e.tidx[len(e.tidx)-1] || e.rate[0] != e.rate[len(e.rate)-1]
	for _, k := range sortedKeys(a.buckets) {
		b := a.buckets[k]
		t := e.site.Tariffs[k.tariff]
		l := Line{Energy: b.e, Rate: k.rate, Tariff: t.From}
		var what string
		switch k.cls {
		case clsSolar:
			inv.KWh.Solar += b.e
			l.Price = t.Solar
			l.Amount = core.Cost(b.e, t.Solar).Rappen()
			what, l.Kind = "solar energy", KindSolar
		case clsHT, clsDynHT:
			inv.KWh.GridHT += b.e
			what, l.Kind = "grid energy HT", KindGridHT
			if !t.TwoRate() {
				what = "grid energy"
			}
			if k.cls == clsHT {
				l.Price = t.Grid
				if t.TwoRate() {
					l.Price = t.GridHT
				}
			}
		case clsNT, clsDynNT:
			inv.KWh.GridNT += b.e
			what, l.Kind = "grid energy NT", KindGridNT
			if k.cls == clsNT {
				l.Price = t.GridNT
			}
		}
		if k.cls != clsSolar {
			switch {
			case b.isPas:
				l.Price, l.Varying = 0, "utility"
				l.Amount = b.pass
				what += " at the utility's cost"
			case k.cls >= clsDynHT:
				l.Amount = b.cost.Rappen()
				l.Varying = "dynamic"
				what += ", dynamic price"
			default:
				l.Amount = core.Cost(b.e, l.Price).Rappen()
			}
		}
		l.Class = l.Kind
		if k.src != srcOwn {
			l.Kind = srcKind[k.src]
			what = srcLabel[k.src] + ": " + what
		} else {
			what = string(what[0]-'a'+'A') + what[1:]
		}
		if multiTariff {
			what += fmt.Sprintf(" (tariff from %s", t.From)
			if k.rate != 0 {
				what += fmt.Sprintf(", VAT %s %%", k.rate)
			}
			what += ")"
		}
		l.Label = what
		if l.Energy == 0 && l.Amount == 0 {
			continue
		}
		inv.Lines = append(inv.Lines, l)
	}
	inv.KWh.Grid = inv.KWh.GridHT + inv.KWh.GridNT
	inv.KWh.Total = inv.KWh.Solar + inv.KWh.Grid

	fks := make([]fkey, 0, len(a.fees))
	for k := range a.fees {
		fks = append(fks, k)
	}
	slices.SortFunc(fks, func(x, y fkey) int {
		return cmp.Or(cmp.Compare(x.kind, y.kind), cmp.Compare(x.tariff, y.tariff), cmp.Compare(x.rate, y.rate), cmp.Compare(x.count, y.count))
	})
	for _, k := range fks {
		t := e.site.Tariffs[k.tariff]
		fee, label := t.BaseFeeMonth, "Base fee"
		if k.kind == KindMetering {
			fee, label = t.MeteringMonth, "Metering"
		}
		days, nano := proRata(a.fees[k], fee*core.Rappen(k.count))
		if multiTariff {
			label += fmt.Sprintf(" (tariff from %s)", t.From)
		}
		inv.Lines = append(inv.Lines, Line{Kind: k.kind, Label: label, Days: days, Fee: fee, Count: k.count,
			Rate: k.rate, Amount: nano.Rappen(), Tariff: t.From})
	}

	vat := map[core.BasisPoints]core.Rappen{}
	for _, l := range inv.Lines {
		inv.Net += l.Amount
		vat[l.Rate] += l.Amount
	}
	inv.Lines = append(inv.Lines, Line{Kind: KindSubtotal, Label: "Subtotal", Amount: inv.Net})
	rates := make([]core.BasisPoints, 0, len(vat))
	for r := range vat {
		rates = append(rates, r)
	}
	slices.Sort(rates)
	for _, r := range rates {
		if r == 0 {
			continue
		}
		v := core.Rappen(core.DivRound(int64(vat[r])*int64(r), 10000))
		inv.VAT += v
		inv.Lines = append(inv.Lines, Line{Kind: KindVAT, Label: fmt.Sprintf("VAT %s %%", r), Rate: r, Base: vat[r], Amount: v})
	}
	inv.Total = inv.Net + inv.VAT
	if e.site.Settings.RoundTo5 {
		r := core.Rappen(core.DivRound(int64(inv.Total), 5)*5) - inv.Total
		if r != 0 {
			inv.Rounding = r
			inv.Total += r
			inv.Lines = append(inv.Lines, Line{Kind: KindRounding, Label: "Rounding", Amount: r})
		}
	}
	inv.Lines = append(inv.Lines, Line{Kind: KindTotal, Label: "Total", Amount: inv.Total})
	if len(a.adv) > 0 {
		days, nano := proRata(a.adv, inv.Occupancy.AdvanceMonth)
		inv.Advance = nano.Rappen()
		inv.Lines = append(inv.Lines, Line{Kind: KindAdvance, Label: "Advance payments", Days: days,
			Fee: inv.Occupancy.AdvanceMonth, Amount: -inv.Advance})
	}
	inv.Balance = inv.Total - inv.Advance
	if inv.Advance != 0 {
		inv.Lines = append(inv.Lines, Line{Kind: KindBalance, Label: "Balance", Amount: inv.Balance})
	}
	if a.d0 >= 0 {
		inv.Readings = e.invoiceReadings(inv)
	}
	return inv
}

// invoiceReadings returns the unit meters' readings at the invoice's
// boundaries: the period's readings where the invoice starts or ends with
// the period, the tenancy boundary readings inside it.
func (e *engine) invoiceReadings(inv Invoice) []MeterReadings {
	var out []MeterReadings
	start, end := inv.From.Midnight(e.loc), inv.To.AddDays(1).Midnight(e.loc)
	for _, m := range e.site.Meters {
		if m.Role != core.RoleUnit || m.Unit != inv.Unit {
			continue
		}
		pr, ok := e.in.Readings[m.ID]
		b := e.in.Boundaries[m.ID]
		if !ok && b == nil {
			continue
		}
		var r Readings
		if inv.From == e.in.Period.From {
			r.Start = pr.Start
		} else if v, ok := b[inv.From]; ok {
			r.Start = &v
		}
		if inv.To == e.in.Period.To {
			r.End = pr.End
		} else if v, ok := b[inv.To.AddDays(1)]; ok {
			r.End = &v
		}
		for _, x := range pr.Replacements {
			if !x.Time.Before(start) && x.Time.Before(end) {
				r.Replacements = append(r.Replacements, x)
			}
		}
		out = append(out, MeterReadings{Meter: m.ID, Readings: r})
	}
	return out
}

// proRata returns the days and the exact amount of a monthly fee charged
// for the given days of each month: fee × days / days-in-month.
func proRata(days map[monthKey]int, fee core.Rappen) (int, core.NanoCHF) {
	var n int
	var nano int64
	for mk, d := range days {
		dim := time.Date(mk.y, mk.m+1, 0, 0, 0, 0, 0, time.UTC).Day()
		n += d
		nano += core.DivRound(int64(fee)*10_000_000*int64(d), int64(dim))
	}
	return n, core.NanoCHF(nano)
}

// checkReadings compares each consumer meter's register difference over the
// period (across confirmed exchanges) with the sum of its intervals, where
// readings exactly at both boundaries are known.
func (e *engine) checkReadings() {
	start, end := e.in.Period.From.Midnight(e.loc), e.in.Period.To.AddDays(1).Midnight(e.loc)
	for _, c := range e.cons {
		r, ok := e.in.Readings[c.meter.ID]
		if !ok || r.Start == nil || r.End == nil || !r.Start.Time.Equal(start) || !r.End.Time.Equal(end) {
			continue
		}
		reg := r.End.Import - r.Start.Import
		for _, x := range r.Replacements {
			reg += x.OldFinal.Import - x.NewInitial.Import
		}
		var sum core.Energy
		for _, v := range c.e {
			sum += v
		}
		if d := reg - sum; d > core.Wh || d < -core.Wh {
			e.warnf("meter %s: the registers show %s kWh over the period, the intervals %s kWh", c.meter.ID,
				core.FormatKWh(reg), core.FormatKWh(sum))
		}
	}
}

// Total returns the line's amount: Energy × Price, Σ PowerW × PricePerKW,
// or Amount, each rounded to the Rappen.
func (l UtilityLine) Total() core.Rappen {
	switch {
	case l.Energy != 0:
		return core.Cost(l.Energy, l.Price).Rappen()
	case len(l.PowerW) > 0:
		var w int64
		for _, p := range l.PowerW {
			w += p
		}
		return core.Rappen(core.DivRound(w*int64(l.PricePerKW), 1000))
	}
	return l.Amount
}

// Net returns the bill's total excluding VAT: the sum of its lines.
func (u *UtilityBill) Net() core.Rappen {
	var n core.Rappen
	for _, l := range u.Lines {
		n += l.Total()
	}
	return n
}

// VATAmount returns the VAT on Net at the bill's rate, to the Rappen.
func (u *UtilityBill) VATAmount() core.Rappen {
	return core.Rappen(core.DivRound(int64(u.Net())*int64(u.VAT), 10000))
}

// Gross returns Net plus VAT.
func (u *UtilityBill) Gross() core.Rappen { return u.Net() + u.VATAmount() }
