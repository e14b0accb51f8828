package vee

import (
	"math"
	"time"
)

// SunTimes returns sunrise and sunset (UTC) on the UTC date of day at latitude
// lat and longitude lon (degrees, north and east positive), by the sunrise
// equation with the equation of time and the standard refraction of -0.833°.
// Its error is within a few minutes for Switzerland. ok is false on a polar
// day or night.
func SunTimes(day time.Time, lat, lon float64) (rise, set time.Time, ok bool) {
	const rad = math.Pi / 180
	y, m, d := day.UTC().Date()
	noon := time.Date(y, m, d, 12, 0, 0, 0, time.UTC)
	jd := float64(noon.Unix())/86400 + 2440587.5
	n := math.Round(jd - 2451545.0 + 0.0008)
	jStar := n - lon/360
	mean := math.Mod(357.5291+0.98560028*jStar, 360)
	c := 1.9148*math.Sin(mean*rad) + 0.02*math.Sin(2*mean*rad) + 0.0003*math.Sin(3*mean*rad)
	lambda := math.Mod(mean+c+180+102.9372, 360)
	transit := 2451545.0 + jStar + 0.0053*math.Sin(mean*rad) - 0.0069*math.Sin(2*lambda*rad)
	sinDecl := math.Sin(lambda*rad) * math.Sin(23.4397*rad)
	cosDecl := math.Cos(math.Asin(sinDecl))
	cosH := (math.Sin(-0.833*rad) - math.Sin(lat*rad)*sinDecl) / (math.Cos(lat*rad) * cosDecl)
	if cosH < -1 || cosH > 1 {
		return time.Time{}, time.Time{}, false
	}
	h := math.Acos(cosH) / rad
	toTime := func(j float64) time.Time {
		return time.Unix(0, int64(math.Round((j-2440587.5)*86400))*int64(time.Second)).UTC()
	}
	return toTime(transit - h/360), toTime(transit + h/360), true
}

// sunCache memoises SunTimes per UTC date for one location.
type sunCache struct {
	lat, lon float64
	days     map[int64][2]time.Time
}

func newSunCache() *sunCache {
	return &sunCache{lat: DefaultLatitude, lon: DefaultLongitude, days: map[int64][2]time.Time{}}
}

// night reports whether [start, end) lies wholly more than NightMargin after
// a sunset and before the next sunrise, and returns that sunset and sunrise.
func (c *sunCache) night(start, end time.Time) (ok bool, set, rise time.Time) {
	day := start.Unix() / 86400
	r, s := c.times(day)
	if !start.Before(s.Add(NightMargin)) {
		r1, _ := c.times(day + 1)
		return !end.After(r1.Add(-NightMargin)), s, r1
	}
	_, s0 := c.times(day - 1)
	return !end.After(r.Add(-NightMargin)), s0, r
}

// times returns sunrise and sunset of a UTC day (days since the epoch).
func (c *sunCache) times(day int64) (rise, set time.Time) {
	rs, ok := c.days[day]
	if !ok {
		t := time.Unix(day*86400, 0).UTC()
		r, s, fine := SunTimes(t, c.lat, c.lon)
		if !fine {
			r, s = t.Add(12*time.Hour), t.Add(12*time.Hour) // polar day or night: never call it night
		}
		rs = [2]time.Time{r, s}
		c.days[day] = rs
	}
	return rs[0], rs[1]
}
