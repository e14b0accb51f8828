// Package sim simulates a Swiss multi-unit building with a solar plant: the
// meters of its apartments, general electricity, heat pump, EV chargers, the
// PV plant and the utility's grid meter. It drives the gateway's simulator
// driver and the demo site.
//
// The simulation is deterministic: a Config (with its Seed) fixes every
// value. Energy is simulated per 15-minute slot in whole watt-hours, so that
// register readings at slot boundaries are exact and the grid meter is the
// exact physical balance of the others in every slot: grid import − grid
// export = Σ consumers − PV. Between boundaries a register grows linearly
// (rounded down to the Wh, as a meter's display does).
//
// Any instant can be asked for in any order; days are computed on demand
// and a small cache keeps the recent ones, so walking forward through time
// costs about one day's computation per simulated day.
package sim

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/zevdesk/zevdesk/core"
)

// OBIS codes of the registers every simulated meter has.
const (
	OBISImport = "1-0:1.8.0" // active energy drawn from the grid side (A+)
	OBISExport = "1-0:2.8.0" // active energy delivered to the grid side (A−)
)

// RegisterEpoch is the instant at which every simulated meter holds its
// initial register values; registers count the simulated energy from there,
// forwards and backwards.
var RegisterEpoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// EVPowerW is the charging power of the simulated EV chargers (3 × 16 A).
const EVPowerW = 11_000

// Config describes the simulated building. The zero value of each field
// gives a sensible default, noted per field.
type Config struct {
	// Seed fixes every random choice: the same Config gives the same data.
	Seed int64
	// Units is the number of apartments; 0 means 12.
	Units int
	// PVkWp is the PV plant's peak power in kW; 0 means no PV plant.
	PVkWp float64
	// HeatPump adds a shared heat pump for heating and hot water.
	HeatPump bool
	// EVChargers is the number of 11 kW EV chargers.
	EVChargers int
	// Location is the building's time zone; nil means Europe/Zurich.
	Location *time.Location
	// Latitude and Longitude place the sun; zero means Bern (46.95 N, 7.44 E).
	Latitude, Longitude float64
	// Epoch dates the tenancies of Site (a tenant change with the first June
	// vacancy after it) and its tariff. It does not move the registers: they
	// hold their initial values at RegisterEpoch whatever Epoch is, so that
	// two Buildings of the same Config but for Epoch read the same registers
	// (a simulated gateway continues the demo site's history). Zero means
	// 2025-01-01 00:00 local.
	Epoch time.Time
}

// MeterInfo describes one simulated meter.
type MeterInfo struct {
	ID   string
	Name string
	Role core.Role
	// Unit is the unit id of an apartment meter.
	Unit string
	// Serial is the meter's (made-up) serial number.
	Serial string
	// OBISImport and OBISExport name the two registers.
	OBISImport, OBISExport string
	// MaxPowerW is the meter's highest plausible power.
	MaxPowerW int64
}

// Reading is a meter's cumulative registers at an instant, in whole Wh.
type Reading struct {
	Meter  string
	Time   time.Time
	Import core.Energy
	Export core.Energy
}

// PowerReading is a meter's instantaneous power. At most one of ImportW and
// ExportW is non-zero: consumers import, the PV plant exports, the grid meter
// does either.
type PowerReading struct {
	Meter   string
	Time    time.Time
	ImportW int64
	ExportW int64
}

// Building is a simulated building. It is safe for concurrent use.
type Building struct {
	cfg    Config
	loc    *time.Location
	epoch  int64 // UTC day number of RegisterEpoch
	meters []meter
	units  []unitProfile
	areaM2 float64

	mu      sync.Mutex
	cache   map[int64]*dayData
	order   []int64 // cache keys, oldest first
	fwd     [][]int64
	bwd     [][]int64
	weather map[dayNumber]dayWeather
}

type kind uint8

const (
	kindPV kind = iota
	kindGrid
	kindUnit
	kindCommon
	kindHeatPump
	kindEV
)

type meter struct {
	info       MeterInfo
	kind       kind
	idx        int   // unit or charger index
	r0In, r0Ex int64 // Wh at RegisterEpoch
}

// dayData holds one UTC day's slot energies in Wh per meter: in[m][i] and
// out[m][i] for slot i, and cumulative sums cin[m][i] = Σ in[m][:i].
type dayData struct {
	in, out   [][core.SlotsPerUTCDay]int64
	cin, cout [][core.SlotsPerUTCDay + 1]int64
}

const cacheDays = 8

// New returns the building cfg describes.
func New(cfg Config) *Building {
	if cfg.Units <= 0 {
		cfg.Units = 12
	}
	if cfg.Location == nil {
		loc, err := time.LoadLocation("Europe/Zurich")
		if err != nil {
			loc = time.FixedZone("CET", 3600)
		}
		cfg.Location = loc
	}
	if cfg.Latitude == 0 && cfg.Longitude == 0 {
		cfg.Latitude, cfg.Longitude = 46.95, 7.44
	}
	if cfg.Epoch.IsZero() {
		cfg.Epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, cfg.Location)
	}
	b := &Building{
		cfg:     cfg,
		loc:     cfg.Location,
		epoch:   floorDiv(int64(core.SlotOf(RegisterEpoch)), core.SlotsPerUTCDay),
		cache:   map[int64]*dayData{},
		weather: map[dayNumber]dayWeather{},
	}
	b.units = makeUnits(cfg)
	for _, u := range b.units {
		b.areaM2 += float64(u.areaCm2) / 100
	}
	add := func(m meter) {
		m.info.OBISImport, m.info.OBISExport = OBISImport, OBISExport
		m.info.Serial = fmt.Sprintf("%08d", hash(cfg.Seed, pRegister, uint64(len(b.meters)), 1)%100_000_000)
		b.meters = append(b.meters, m)
	}
	if cfg.PVkWp > 0 {
		add(meter{kind: kindPV, info: MeterInfo{ID: "PV", Name: "Photovoltaik", Role: core.RoleProduction,
			MaxPowerW: int64(math.Ceil(cfg.PVkWp * 1000))}})
	}
	add(meter{kind: kindGrid, info: MeterInfo{ID: "GRID", Name: "Netzanschluss (EVU)", Role: core.RoleGrid, MaxPowerW: 43_600}})
	for i, u := range b.units {
		add(meter{kind: kindUnit, idx: i, info: MeterInfo{ID: "M-" + u.id, Name: "Wohnung " + u.id, Role: core.RoleUnit,
			Unit: u.id, MaxPowerW: core.DefaultMaxPowerW}})
	}
	add(meter{kind: kindCommon, info: MeterInfo{ID: "ALLG", Name: "Allgemeinstrom", Role: core.RoleCommon, MaxPowerW: 13_800}})
	if cfg.HeatPump {
		add(meter{kind: kindHeatPump, info: MeterInfo{ID: "WP", Name: "Wärmepumpe", Role: core.RoleHeatPump,
			MaxPowerW: int64(b.heatPumpMaxW()) + 1000}})
	}
	for i := range cfg.EVChargers {
		add(meter{kind: kindEV, idx: i, info: MeterInfo{ID: fmt.Sprintf("EV%d", i+1), Name: fmt.Sprintf("Ladestation %d", i+1),
			Role: core.RoleEV, MaxPowerW: EVPowerW + 500}})
	}
	// Initial registers: meters that have run for a few years already.
	for i := range b.meters {
		m := &b.meters[i]
		years := 1 + 5*rnd(cfg.Seed, pRegister, uint64(i), 0)
		switch m.kind {
		case kindPV:
			m.r0Ex = int64(years * cfg.PVkWp * 1050_000)
			m.r0In = int64(years * 15_000) // inverter standby, before this simulation
		case kindGrid:
			m.r0In = int64(years * (3000*float64(cfg.Units) + 12_000) * 1000)
			m.r0Ex = int64(years * cfg.PVkWp * 600_000)
		default:
			m.r0In = int64(years * 6_000_000)
		}
	}
	return b
}

// Config returns the building's configuration with defaults filled in.
func (b *Building) Config() Config { return b.cfg }

// Meters describes the building's meters, in the order Registers and Power
// report them: PV (if any), grid, apartments, general electricity, heat pump
// (if any), EV chargers.
func (b *Building) Meters() []MeterInfo {
	ms := make([]MeterInfo, len(b.meters))
	for i, m := range b.meters {
		ms[i] = m.info
	}
	return ms
}

// Registers returns every meter's registers at instant t. Readings at a later
// instant are never lower, and the difference between two instants on slot
// boundaries is exactly the energy simulated between them.
func (b *Building) Registers(t time.Time) []Reading {
	return b.AppendRegisters(make([]Reading, 0, len(b.meters)), t)
}

// AppendRegisters appends every meter's registers at t to dst (as Registers)
// and returns the extended slice.
func (b *Building) AppendRegisters(dst []Reading, t time.Time) []Reading {
	s := int64(core.SlotOf(t))
	d := floorDiv(s, core.SlotsPerUTCDay)
	i := int(s - d*core.SlotsPerUTCDay)
	into := t.Sub(core.Slot(s).Time()) // [0, 15m)
	ut := t.UTC()

	b.mu.Lock()
	defer b.mu.Unlock()
	dd := b.day(d)
	base := b.cumStart(d)
	for m := range b.meters {
		mt := &b.meters[m]
		in := mt.r0In + base[2*m] + dd.cin[m][i] + partial(dd.in[m][i], into)
		ex := mt.r0Ex + base[2*m+1] + dd.cout[m][i] + partial(dd.out[m][i], into)
		dst = append(dst, Reading{Meter: mt.info.ID, Time: ut, Import: core.Energy(max(in, 0)) * core.Wh,
			Export: core.Energy(max(ex, 0)) * core.Wh})
	}
	return dst
}

// partial is the whole Wh of a slot's energy e reached after into.
func partial(e int64, into time.Duration) int64 {
	return e * int64(into) / int64(core.SlotDuration)
}

// SlotEnergy returns every meter's energy in slot s (import and export), in
// Meters order. It equals the difference of Registers at the slot's end and
// start.
func (b *Building) SlotEnergy(s core.Slot) (imp, exp []core.Energy) {
	d := floorDiv(int64(s), core.SlotsPerUTCDay)
	i := int(int64(s) - d*core.SlotsPerUTCDay)
	b.mu.Lock()
	defer b.mu.Unlock()
	dd := b.day(d)
	imp = make([]core.Energy, len(b.meters))
	exp = make([]core.Energy, len(b.meters))
	for m := range b.meters {
		imp[m] = core.Energy(dd.in[m][i]) * core.Wh
		exp[m] = core.Energy(dd.out[m][i]) * core.Wh
	}
	return imp, exp
}

// Power returns every meter's instantaneous power at t, in Meters order. It
// wavers around the slot's average power (EV chargers switch at the exact
// instants of their sessions), so that on average it matches the registers.
func (b *Building) Power(t time.Time) []PowerReading {
	s := int64(core.SlotOf(t))
	d := floorDiv(s, core.SlotsPerUTCDay)
	i := int(s - d*core.SlotsPerUTCDay)
	into := t.Sub(core.Slot(s).Time()).Seconds()
	ut := t.UTC()

	b.mu.Lock()
	dd := b.day(d)
	prs := make([]PowerReading, len(b.meters))
	var net int64 // Σ consumers − PV, from the rounded values so that the grid balances exactly
	grid := -1
	for m := range b.meters {
		mt := &b.meters[m]
		prs[m] = PowerReading{Meter: mt.info.ID, Time: ut}
		// The ripple integrates to zero over the slot.
		phase := 2 * math.Pi * rnd(b.cfg.Seed, pRipple, uint64(m), uint64(s))
		ripple := 1 + 0.12*math.Sin(2*math.Pi*2*into/900+phase)
		switch mt.kind {
		case kindGrid:
			grid = m
		case kindPV:
			prs[m].ExportW = int64(math.Round(float64(dd.out[m][i]*4) * ripple))
			net -= prs[m].ExportW
		case kindEV:
			if b.charging(mt.idx, t) {
				prs[m].ImportW = EVPowerW
			}
			net += prs[m].ImportW
		default:
			prs[m].ImportW = int64(math.Round(float64(dd.in[m][i]*4) * ripple))
			net += prs[m].ImportW
		}
	}
	b.mu.Unlock()
	if grid >= 0 {
		prs[grid].ImportW, prs[grid].ExportW = max(net, 0), max(-net, 0)
	}
	return prs
}

// day returns the data of UTC day d, computing it if needed. b.mu is held.
func (b *Building) day(d int64) *dayData {
	if dd, ok := b.cache[d]; ok {
		return dd
	}
	dd := b.computeDay(d)
	if len(b.order) >= cacheDays {
		delete(b.cache, b.order[0])
		b.order = b.order[1:]
	}
	b.cache[d] = dd
	b.order = append(b.order, d)
	return dd
}

// cumStart returns the energy, per meter and channel (2m, 2m+1), from the
// start of RegisterEpoch's day to the start of day d (negative before it).
// b.mu is held.
func (b *Building) cumStart(d int64) []int64 {
	n := 2 * len(b.meters)
	if len(b.fwd) == 0 {
		b.fwd = append(b.fwd, make([]int64, n))
		b.bwd = append(b.bwd, make([]int64, n))
	}
	if d >= b.epoch {
		for int64(len(b.fwd)) <= d-b.epoch {
			last := b.fwd[len(b.fwd)-1]
			dd := b.dayNoCache(b.epoch + int64(len(b.fwd)) - 1)
			next := make([]int64, n)
			for m := range b.meters {
				next[2*m] = last[2*m] + dd.cin[m][core.SlotsPerUTCDay]
				next[2*m+1] = last[2*m+1] + dd.cout[m][core.SlotsPerUTCDay]
			}
			b.fwd = append(b.fwd, next)
		}
		return b.fwd[d-b.epoch]
	}
	// bwd[k] is the energy of the k days before the epoch day.
	for int64(len(b.bwd)) <= b.epoch-d {
		last := b.bwd[len(b.bwd)-1]
		dd := b.dayNoCache(b.epoch - int64(len(b.bwd)))
		next := make([]int64, n)
		for m := range b.meters {
			next[2*m] = last[2*m] + dd.cin[m][core.SlotsPerUTCDay]
			next[2*m+1] = last[2*m+1] + dd.cout[m][core.SlotsPerUTCDay]
		}
		b.bwd = append(b.bwd, next)
	}
	neg := make([]int64, n)
	for k, v := range b.bwd[b.epoch-d] {
		neg[k] = -v
	}
	return neg
}

// dayNoCache returns day d's data from the cache or computes it without
// caching it, so that catching up over many days does not flush the cache.
func (b *Building) dayNoCache(d int64) *dayData {
	if dd, ok := b.cache[d]; ok {
		return dd
	}
	return b.computeDay(d)
}

// computeDay simulates UTC day d.
func (b *Building) computeDay(d int64) *dayData {
	n := len(b.meters)
	dd := &dayData{
		in:   make([][core.SlotsPerUTCDay]int64, n),
		out:  make([][core.SlotsPerUTCDay]int64, n),
		cin:  make([][core.SlotsPerUTCDay + 1]int64, n),
		cout: make([][core.SlotsPerUTCDay + 1]int64, n),
	}
	grid, pvm := -1, -1
	// Sessions that may charge during this UTC day, per charger.
	sessions := make([][]session, b.cfg.EVChargers)
	noon := core.Slot(d*core.SlotsPerUTCDay + core.SlotsPerUTCDay/2).Time()
	for ev := range sessions {
		sessions[ev] = b.nearSessions(ev, noon)
	}
	var memo dayMemo
	for i := range core.SlotsPerUTCDay {
		slot := d*core.SlotsPerUTCDay + int64(i)
		mid := core.Slot(slot).Time().Add(core.SlotDuration / 2)
		c := b.context(slot, mid, &memo)
		var consumers int64
		for m := range b.meters {
			mt := &b.meters[m]
			var w float64
			switch mt.kind {
			case kindGrid:
				grid = m
				continue
			case kindPV:
				pvm = m
				dd.out[m][i] = wh(b.pvPower(c))
				continue
			case kindUnit:
				w = b.unitPower(mt.idx, c)
			case kindCommon:
				w = b.commonPower(c)
			case kindHeatPump:
				w = b.heatPumpPower(c)
			case kindEV:
				dd.in[m][i] = evSlotWh(sessions[mt.idx], core.Slot(slot))
				consumers += dd.in[m][i]
				continue
			}
			dd.in[m][i] = wh(w)
			consumers += dd.in[m][i]
		}
		if grid >= 0 {
			var pv int64
			if pvm >= 0 {
				pv = dd.out[pvm][i]
			}
			dd.in[grid][i] = max(consumers-pv, 0)
			dd.out[grid][i] = max(pv-consumers, 0)
		}
	}
	for m := range n {
		for i := range core.SlotsPerUTCDay {
			dd.cin[m][i+1] = dd.cin[m][i] + dd.in[m][i]
			dd.cout[m][i+1] = dd.cout[m][i] + dd.out[m][i]
		}
	}
	return dd
}

// wh is the energy in whole Wh of a slot at average power w (W).
func wh(w float64) int64 { return int64(math.Round(max(w, 0) / 4)) }

// slotContext is what every load model needs to know about a slot.
type slotContext struct {
	slot    int64
	hour    float64 // local wall-clock hour of the slot's middle, 0..24
	local   time.Time
	day     dayNumber // local civil day
	dayType int       // 0 working day, 1 Saturday, 2 Sunday or holiday
	doy     float64
	season  float64 // 1 in mid-January, -1 in mid-July
	sun     sun
	weather dayWeather
	tempC   float64
}

// dayMemo keeps what is the same for every slot of a local day.
type dayMemo struct {
	day     dayNumber
	ok      bool
	dayType int
	season  float64
	weather dayWeather
}

func (b *Building) context(slot int64, mid time.Time, memo *dayMemo) slotContext {
	lt := mid.In(b.loc)
	y, mo, dy := lt.Date()
	n := dayNum(y, mo, dy)
	c := slotContext{
		slot:  slot,
		hour:  float64(lt.Hour()) + float64(lt.Minute())/60 + float64(lt.Second())/3600,
		local: lt,
		day:   n,
		doy:   float64(lt.YearDay()),
		sun:   sunAt(mid, b.cfg.Latitude, b.cfg.Longitude),
	}
	if !memo.ok || memo.day != n {
		*memo = dayMemo{day: n, ok: true, season: seasonal(c.doy, 15), weather: b.weatherOf(n)}
		switch {
		case lt.Weekday() == time.Sunday || isHoliday(core.Date{Year: y, Month: mo, Day: dy}):
			memo.dayType = 2
		case lt.Weekday() == time.Saturday:
			memo.dayType = 1
		}
	}
	c.dayType, c.season, c.weather = memo.dayType, memo.season, memo.weather
	c.tempC = temperature(c.weather, c.hour)
	return c
}

// pvPower is the PV plant's average power in a slot, in W.
func (b *Building) pvPower(c slotContext) float64 {
	if c.sun.poa <= 0 {
		return 0
	}
	g := c.sun.poa * b.cloudFactor(c.weather, c.slot)
	cell := c.tempC + 0.03*g
	eff := 0.89 * (1 - 0.004*(cell-25)) // performance ratio with temperature losses
	w := b.cfg.PVkWp * g * eff
	return min(w, 0.97*b.cfg.PVkWp*1000) // the inverter clips
}
