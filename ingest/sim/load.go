package sim

import (
	"fmt"
	"math"
	"time"

	"github.com/zevdesk/zevdesk/core"
)

// unitProfile is one apartment's household.
type unitProfile struct {
	id, name  string
	rooms     string
	areaCm2   int64
	occupants int
	// activityW scales the daily shape; standbyW is the fridge and standby
	// load that runs even when nobody is home.
	activityW, standbyW, lightW float64
	eventRate                   float64 // appliance starts per slot at a shape of 1
	shiftH                      float64 // early risers (<0) and late ones (>0)
	homeOffice                  bool
	vacates                     bool // empty every vacancyMonth (see changeUnit)
}

// apartment layouts, cycled through the floors.
var layouts = []struct {
	rooms   string
	areaCm2 int64
	people  int
}{
	{"2.5", 6250, 1}, {"3.5", 8400, 2}, {"4.5", 10800, 3},
	{"3.5", 7950, 2}, {"4.5", 11200, 4}, {"2.5", 5800, 1},
}

var floorNames = []string{"EG", "1. OG", "2. OG", "3. OG", "4. OG", "5. OG", "6. OG", "7. OG", "8. OG", "9. OG"}
var sideNames = []string{"links", "mitte", "rechts"}

// changeUnit is the index of the unit whose tenant moves out during the
// simulated year (leaving a month of vacancy).
//
// The flat stands empty every June (vacancyMonth), whatever the Epoch: the
// energy of a slot must not depend on Epoch, or two simulations of the same
// building started on different days (the demo site's history and a
// simulated gateway paired with it later) would read different registers.
// Site lists the tenant change of the first June after Epoch; a simulation
// run beyond the following May finds the flat empty again in June, which
// no check minds.
func changeUnit(units int) int { return min(4, units-1) }

// vacancyMonth is the month in which the changeUnit flat stands empty.
const vacancyMonth = time.June

// tenantChange returns the last day of the old tenancy, the vacant month and
// the first day of the new one: the old tenant leaves at the end of the May
// before the first June that starts after epoch.
func tenantChange(epoch core.Date) (lastDay, vacFrom, vacTo, newFrom core.Date) {
	first := time.Date(epoch.Year, vacancyMonth, 1, 0, 0, 0, 0, time.UTC)
	if !core.DateOf(first).After(epoch) {
		first = first.AddDate(1, 0, 0)
	}
	vacFrom = core.DateOf(first)
	lastDay = vacFrom.AddDays(-1)
	newFrom = core.DateOf(first.AddDate(0, 1, 0))
	vacTo = newFrom.AddDays(-1)
	return
}

func makeUnits(cfg Config) []unitProfile {
	us := make([]unitProfile, cfg.Units)
	for i := range us {
		l := layouts[i%len(layouts)]
		r := func(k uint64) float64 { return rnd(cfg.Seed, pUnitParam, uint64(i), k) }
		people := l.people
		if r(0) < 0.3 {
			people = max(1, people-1)
		} else if r(0) > 0.85 {
			people = min(people+1, 4)
		}
		// Swiss households without electric hot water: about 1,800 kWh a year
		// for one person and 700 more for each further one.
		annual := (1800 + 700*float64(people-1)) * (0.9 + 0.2*r(1))
		meanW := annual * 1000 / 8760
		u := unitProfile{
			id:         fmt.Sprintf("W%02d", i+1),
			rooms:      l.rooms,
			areaCm2:    l.areaCm2,
			occupants:  people,
			standbyW:   30 + 12*float64(people) + 20*r(2),
			lightW:     35 + 20*float64(people),
			shiftH:     1.5*r(3) - 0.75,
			homeOffice: r(4) < 0.3,
		}
		u.eventRate = 0.008 * (0.5 + 0.5*float64(people))
		// What is left of the mean power after standby, lighting (about
		// five dark waking hours a day on average) and appliance events goes
		// to the activity shape, whose mean is 1.
		u.activityW = max(meanW-u.standbyW*0.92-u.lightW*5/24-u.eventRate*3500, 20)
		floor := floorNames[min(i/3, len(floorNames)-1)]
		u.name = fmt.Sprintf("%s Zimmer %s %s", l.rooms, floor, sideNames[i%3])
		u.vacates = i == changeUnit(cfg.Units)
		us[i] = u
	}
	return us
}

// Household activity by local hour, working day, Saturday, Sunday: our own
// numbers, in the spirit of the BDEW household profile: a morning rise, a
// lunch bump, the evening peak; later and fuller mornings at the weekend.
var shapes = [3][25]float64{
	{0.45, 0.35, 0.30, 0.28, 0.30, 0.45, 0.95, 1.30, 1.05, 0.80, 0.75, 0.90,
		1.10, 0.95, 0.75, 0.70, 0.85, 1.25, 1.80, 2.05, 1.85, 1.55, 1.15, 0.75, 0.45},
	{0.55, 0.40, 0.32, 0.28, 0.28, 0.30, 0.45, 0.75, 1.10, 1.30, 1.35, 1.45,
		1.50, 1.25, 1.00, 0.95, 1.00, 1.30, 1.65, 1.75, 1.55, 1.30, 1.10, 0.80, 0.55},
	{0.60, 0.45, 0.35, 0.30, 0.28, 0.28, 0.35, 0.55, 0.95, 1.30, 1.50, 1.70,
		1.60, 1.25, 1.00, 0.95, 1.00, 1.30, 1.65, 1.70, 1.45, 1.15, 0.90, 0.70, 0.60},
}

func shapeAt(dayType int, h float64) float64 {
	for h < 0 {
		h += 24
	}
	for h >= 24 {
		h -= 24
	}
	k := int(h)
	f := h - float64(k)
	s := shapes[dayType]
	return (s[k] + (s[k+1]-s[k])*f) * 0.965 // scaled to a mean of about 1
}

// dark reports whether the rooms need light: the sun is low.
func dark(c slotContext) bool { return c.sun.sinElev < 0.08 }

// unitPower is apartment u's average power in a slot, in W.
func (b *Building) unitPower(u int, c slotContext) float64 {
	p := &b.units[u]
	seed := b.cfg.Seed
	if p.vacates && c.local.Month() == vacancyMonth {
		return 12 // an empty flat: the doorbell and a switched-off fridge's clock
	}
	week := floorDiv(int64(c.day)+3, 7) // Monday-based weeks
	if rnd(seed, pUnitAway, uint64(u), uint64(week)) < 0.06 {
		return p.standbyW * (0.9 + 0.2*rnd(seed, pUnitNoise, uint64(u), uint64(c.slot)))
	}
	h := c.hour - p.shiftH
	shape := shapeAt(c.dayType, h)
	if p.homeOffice && c.dayType == 0 && h > 8 && h < 17 {
		shape += 0.35
	}
	// Winter days are a little heavier: more cooking, the tumble dryer.
	season := 1 + 0.07*c.season
	noise := 0.55 + 0.9*rnd(seed, pUnitNoise, uint64(u), uint64(c.slot))
	w := p.standbyW + p.activityW*shape*season*noise
	if dark(c) && h > 6 && h < 23.5 && shape > 0.5 {
		w += p.lightW * min(shape, 1.6)
	}
	// Appliance runs (oven, washing machine, dishwasher, kettle): a start
	// in one of the last four slots that lasts until this one.
	for k := int64(0); k < 4; k++ {
		s := uint64(c.slot - k)
		hs := h - float64(k)/4
		if rnd(seed, pUnitEvent, uint64(u), s) >= p.eventRate*shapeAt(c.dayType, hs) {
			continue
		}
		if int64(1+3*rnd(seed, pUnitEventLen, uint64(u), s)) > k {
			w += 900 + 1600*rnd(seed, pUnitEventPow, uint64(u), s)
		}
	}
	return w
}

// commonPower is the general electricity's average power: ventilation,
// heating circulation pumps, the lift, the stairwell and garage lights.
func (b *Building) commonPower(c slotContext) float64 {
	scale := float64(b.cfg.Units) / 12
	w := 110 * scale // ventilation and pumps, day and night
	r := rnd(b.cfg.Seed, pCommon, uint64(c.slot), 0)
	active := shapeAt(c.dayType, c.hour) / 1.2
	w += 60 * scale * active * (0.5 + r) // the lift
	if dark(c) {
		w += 45*scale + 80*scale*active*r // lights on motion sensors
	}
	if c.tempC < 3 {
		w += 60 // frost protection of the garage ramp
	}
	return w
}

// heatPumpMaxW is the heat pump's highest electrical power, sized for the
// building's area.
func (b *Building) heatPumpMaxW() float64 { return 2000 + 9*b.areaM2 }

// heatPumpPower is the heat pump's average power: space heating below a
// daily mean of 15 °C, more in the morning and less at night, and two hot
// water runs a day (one at midday to use the sun).
func (b *Building) heatPumpPower(c slotContext) float64 {
	kWPerK := 0.24 * b.areaM2 // W per K of heating demand
	need := 15 - c.weather.tMean
	var w float64
	if need > 0 {
		diurnal := 1 + 0.25*math.Cos(2*math.Pi*(c.hour-7)/24)
		if c.hour < 5 || c.hour >= 22 {
			diurnal *= 0.8 // night setback
		}
		w = kWPerK * (need + 0.3*(c.weather.tMean-c.tempC)) * diurnal
		// COP falls in the cold, so electricity rises more than heat.
		w *= 1 + 0.02*max(0, 5-c.tempC)
	}
	dhw := 0.95 * float64(b.cfg.Units) * 1000 / 3 // about 0.95 kWh a unit a day in 3 h
	if (c.hour >= 11.5 && c.hour < 13.5) || (c.hour >= 4 && c.hour < 5) {
		w += dhw
	}
	if w <= 0 {
		return 0
	}
	w *= 0.9 + 0.2*rnd(b.cfg.Seed, pHeatPump, uint64(c.slot), 0)
	return min(w, b.heatPumpMaxW())
}

// isHoliday reports whether d is a public holiday in the canton of Bern
// (billed at the low tariff and lived like a Sunday).
func isHoliday(d core.Date) bool {
	switch {
	case d.Month == 1 && (d.Day == 1 || d.Day == 2),
		d.Month == 8 && d.Day == 1,
		d.Month == 12 && (d.Day == 25 || d.Day == 26):
		return true
	}
	e := easter(d.Year)
	for _, off := range []int{-2, 1, 39, 50} { // Good Friday, Easter Monday, Ascension, Whit Monday
		if e.AddDays(off) == d {
			return true
		}
	}
	return false
}

// Holidays returns the public holidays of the canton of Bern in year y.
func Holidays(y int) []core.Date {
	var hs []core.Date
	for d := core.MustDate(y, 1, 1); d.Year == y; d = d.AddDays(1) {
		if isHoliday(d) {
			hs = append(hs, d)
		}
	}
	return hs
}

// easter returns Easter Sunday of year y (Gregorian computus, Meeus/Jones/Butcher).
func easter(y int) core.Date {
	a := y % 19
	b := y / 100
	c := y % 100
	d := b / 4
	e := b % 4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i := c / 4
	k := c % 4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return core.Date{Year: y, Month: time.Month(month), Day: day}
}
