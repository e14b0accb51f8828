package sim

import (
	"math"
	"time"
)

// Noise purposes: every random draw is hash(seed, purpose, a, b), so that any
// slot of any day can be computed on its own and always gives the same value.
const (
	pCloudInit uint64 = iota + 1
	pCloudStay
	pCloudDraw
	pCloudLevel
	pCloudHour
	pCloudSlot
	pTempKnot
	pUnitParam
	pUnitNoise
	pUnitEvent
	pUnitEventLen
	pUnitEventPow
	pUnitAway
	pCommon
	pHeatPump
	pEVDay
	pEVStart
	pEVEnergy
	pEVCard
	pEVOut
	pRegister
	pRipple
)

// mix is the splitmix64 finaliser: a cheap, well-distributed 64-bit hash.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// hash returns a deterministic 64-bit value for (seed, purpose, a, b).
func hash(seed int64, purpose, a, b uint64) uint64 {
	h := mix(uint64(seed) ^ purpose<<56)
	h = mix(h ^ a)
	return mix(h ^ (b + 0x632be59bd9b4e019))
}

// rnd returns a deterministic uniform number in [0, 1).
func rnd(seed int64, purpose, a, b uint64) float64 {
	return float64(hash(seed, purpose, a, b)>>11) / (1 << 53)
}

// Weather states of a day, a Markov chain (DESIGN: day-to-day cloudiness).
const (
	sClear = iota
	sMixed
	sOvercast
)

// cloudClimate is the share of clear, mixed and overcast days per month on
// the Swiss plateau, where autumn and winter bring long spells of high fog.
var cloudClimate = [12][3]float64{
	{0.14, 0.28, 0.58}, {0.24, 0.32, 0.44}, {0.30, 0.38, 0.32}, {0.30, 0.40, 0.30},
	{0.32, 0.42, 0.26}, {0.48, 0.38, 0.14}, {0.52, 0.36, 0.12}, {0.45, 0.38, 0.17},
	{0.38, 0.37, 0.25}, {0.22, 0.34, 0.44}, {0.10, 0.28, 0.62}, {0.08, 0.27, 0.65},
}

// cloudPersistence is the chance that a day keeps yesterday's weather; the
// other days draw from the month's climate, so the chain's stationary
// distribution is the climate itself.
const cloudPersistence = 0.55

// cloudBlock is the length in days of the chain's independent runs: a day's
// weather is found by running the chain from the block's first day, which
// keeps any day computable on its own.
const cloudBlock = 32

// dayWeather is one local day's weather.
type dayWeather struct {
	state int
	level float64 // 0..1, the day's place within its state
	tMean float64 // daily mean outdoor temperature, °C
}

// dayNumber is a civil date as days since 1970-01-01.
type dayNumber int64

func dayNum(y int, m time.Month, d int) dayNumber {
	return dayNumber(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func (n dayNumber) date() time.Time { return time.Unix(int64(n)*86400, 0).UTC() }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func drawState(u float64, month time.Month) int {
	c := cloudClimate[month-1]
	switch {
	case u < c[0]:
		return sClear
	case u < c[0]+c[1]:
		return sMixed
	}
	return sOvercast
}

// seasonal returns cos(2π(doy-phase)/365.25).
func seasonal(doy float64, phase float64) float64 {
	return math.Cos(2 * math.Pi * (doy - phase) / 365.25)
}

// weatherOf computes the weather of local day n.
func (b *Building) weatherOf(n dayNumber) dayWeather {
	if w, ok := b.weather[n]; ok {
		return w
	}
	block := dayNumber(floorDiv(int64(n), cloudBlock) * cloudBlock)
	state := drawState(rnd(b.cfg.Seed, pCloudInit, uint64(block), 0), block.date().Month())
	for k := block + 1; k <= n; k++ {
		if rnd(b.cfg.Seed, pCloudStay, uint64(k), 0) >= cloudPersistence {
			state = drawState(rnd(b.cfg.Seed, pCloudDraw, uint64(k), 0), k.date().Month())
		}
	}
	d := n.date()
	doy := float64(d.YearDay())
	// Mean temperature: a seasonal wave (Bern: about 0 °C in January, 19 °C
	// in July), a smooth anomaly interpolated between random knots every four
	// days, and sunny days warmer in summer and colder in winter.
	season := seasonal(doy, 20)
	k0 := floorDiv(int64(n), 4)
	f := float64(int64(n)-k0*4) / 4
	a0 := rnd(b.cfg.Seed, pTempKnot, uint64(k0), 0)*2 - 1
	a1 := rnd(b.cfg.Seed, pTempKnot, uint64(k0+1), 0)*2 - 1
	anomaly := 4 * (a0 + (a1-a0)*(3*f*f-2*f*f*f))
	clearness := [...]float64{sClear: 1, sMixed: 0, sOvercast: -1}[state]
	w := dayWeather{
		state: state,
		level: rnd(b.cfg.Seed, pCloudLevel, uint64(n), 0),
		tMean: 9.2 - 9.6*season + anomaly - 1.8*clearness*season,
	}
	if len(b.weather) > 4096 {
		clear(b.weather)
	}
	b.weather[n] = w
	return w
}

// temperature returns the outdoor temperature at local hour h of a day.
func temperature(w dayWeather, h float64) float64 {
	amp := [...]float64{sClear: 5, sMixed: 3.5, sOvercast: 1.5}[w.state]
	return w.tMean + amp*math.Cos(2*math.Pi*(h-15)/24)
}

// sun describes the sun at an instant for the site's location.
type sun struct {
	sinElev float64 // sine of the solar elevation
	poa     float64 // clear-sky irradiance on the modules, W/m²
}

// Module orientation: south, tilted like a typical pitched or flat-mounted
// roof plant.
const (
	tiltDeg = 12.0
	albedo  = 0.2
)

// sunAt computes the sun's position (declination, equation of time, hour
// angle) and the clear-sky irradiance on the modules at instant t.
func sunAt(t time.Time, latDeg, lonDeg float64) sun {
	u := t.UTC()
	doy := float64(u.YearDay()) + (float64(u.Hour())+float64(u.Minute())/60)/24
	rad := math.Pi / 180
	bb := 2 * math.Pi * (doy - 81) / 364
	eot := 9.87*math.Sin(2*bb) - 7.53*math.Cos(bb) - 1.5*math.Sin(bb) // minutes
	decl := 23.44 * rad * math.Sin(2*math.Pi*(284+doy)/365)
	solar := float64(u.Hour()) + float64(u.Minute())/60 + float64(u.Second())/3600 + lonDeg/15 + eot/60
	ha := 15 * rad * (solar - 12)
	lat := latDeg * rad
	sinEl := math.Sin(lat)*math.Sin(decl) + math.Cos(lat)*math.Cos(decl)*math.Cos(ha)
	s := sun{sinElev: sinEl}
	if sinEl <= 0.01 {
		return s
	}
	elDeg := math.Asin(sinEl) / rad
	am := 1 / (sinEl + 0.50572*math.Pow(6.07995+elDeg, -1.6364)) // Kasten-Young air mass
	dni := 1353 * math.Pow(0.7, math.Pow(am, 0.678))             // Meinel
	dhi := 0.12 * dni * math.Sqrt(sinEl)
	ghi := dni*sinEl + dhi
	beta := tiltDeg * rad
	cosInc := math.Sin(decl)*math.Sin(lat-beta) + math.Cos(decl)*math.Cos(lat-beta)*math.Cos(ha)
	s.poa = dni*max(0, cosInc) + dhi*(1+math.Cos(beta))/2 + albedo*ghi*(1-math.Cos(beta))/2
	return s
}

// cloudFactor is the share of clear-sky irradiance reaching the modules in
// one slot: steady on clear days, hour-to-hour swings on mixed days, a dull
// diffuse light on overcast ones.
func (b *Building) cloudFactor(w dayWeather, slot int64) float64 {
	seed := b.cfg.Seed
	hour := floorDiv(slot, 4)
	f := float64(slot-hour*4) / 4
	h0 := rnd(seed, pCloudHour, uint64(hour), 0)
	h1 := rnd(seed, pCloudHour, uint64(hour+1), 0)
	v := h0 + (h1-h0)*f
	j := rnd(seed, pCloudSlot, uint64(slot), 0)*2 - 1
	var c float64
	switch w.state {
	case sClear:
		c = 0.88 + 0.08*w.level + 0.03*j
	case sMixed:
		c = 0.25 + 0.3*w.level + 0.45*v + 0.12*j
	default:
		c = 0.08 + 0.12*w.level + 0.06*v + 0.02*j
	}
	return min(max(c, 0.03), 1.05)
}
