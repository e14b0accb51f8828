package sim

import (
	"fmt"
	"slices"
	"time"

	"github.com/zevdesk/zevdesk/core"
)

// Session is one EV charging session: a car plugged in at Start, charged
// Energy at EVPowerW until it was full, and was unplugged at End.
type Session struct {
	// Charger is the charger's meter id.
	Charger string
	// Card is the RFID card that started the session.
	Card string
	// Unit is the unit whose tenant holds the card.
	Unit       string
	Start, End time.Time
	Energy     core.Energy
}

// session is a session as the simulation uses it.
type session struct {
	start   time.Time
	chargeS int64 // seconds of charging at EVPowerW
	energy  int64 // Wh
	end     time.Time
	card    int // index into the charger's cards
}

// cardsPerCharger is how many residents use each charger.
const cardsPerCharger = 3

// cardUnit returns the unit index of card k of charger ev: residents of
// units that keep their tenant all year.
func (b *Building) cardUnit(ev, k int) int {
	u := (ev*cardsPerCharger + k*3 + 1) % b.cfg.Units
	if u == changeUnit(b.cfg.Units) && b.cfg.Units > 1 {
		u = (u + 1) % b.cfg.Units
	}
	return u
}

// cardID returns the UID of card k of charger ev, as 14 hex digits.
func (b *Building) cardID(ev, k int) string {
	return fmt.Sprintf("04%012X", hash(b.cfg.Seed, pEVCard, uint64(ev), uint64(k))&0xffffffffffff)
}

// sessionOn returns the session of charger ev that starts on local day n,
// if any: on working days after work, at the weekend during the day.
func (b *Building) sessionOn(ev int, n dayNumber) (session, bool) {
	seed := b.cfg.Seed
	key := uint64(ev)<<40 ^ uint64(n)
	d := n.date()
	weekend := d.Weekday() == time.Saturday || d.Weekday() == time.Sunday
	p := 0.45
	if weekend {
		p = 0.3
	}
	if rnd(seed, pEVDay, key, 0) >= p {
		return session{}, false
	}
	var startMin int
	if weekend {
		startMin = 9*60 + int(6*60*rnd(seed, pEVStart, key, 0))
	} else {
		startMin = 17*60 + int(3.5*60*rnd(seed, pEVStart, key, 0))
	}
	y, m, dy := d.Date()
	start := time.Date(y, m, dy, startMin/60, startMin%60, int(60*rnd(seed, pEVStart, key, 1)), 0, b.loc)
	energy := int64(6000 + 26000*rnd(seed, pEVEnergy, key, 0))
	chargeS := (energy*3600 + EVPowerW - 1) / EVPowerW
	var end time.Time
	if weekend {
		end = start.Add(time.Duration(chargeS)*time.Second + time.Duration(30+150*rnd(seed, pEVOut, key, 0))*time.Minute)
	} else { // plugged in overnight, gone in the morning
		out := time.Date(y, m, dy+1, 6, 30, 0, 0, b.loc)
		end = out.Add(time.Duration(90*rnd(seed, pEVOut, key, 0)) * time.Minute)
	}
	card := int(cardsPerCharger * rnd(seed, pEVCard, key, 0))
	return session{start: start, chargeS: chargeS, energy: energy, end: end, card: card}, true
}

// charged is the energy in whole Wh that s has charged by instant t.
func (s session) charged(t time.Time) int64 {
	sec := int64(t.Sub(s.start) / time.Second)
	if sec <= 0 {
		return 0
	}
	return min(sec*EVPowerW/3600, s.energy)
}

// nearSessions returns the sessions of charger ev that start on the local
// days around instant t: all that can charge within 12 hours of t (charging
// lasts at most a few hours).
func (b *Building) nearSessions(ev int, t time.Time) []session {
	lt := t.In(b.loc)
	n := dayNum(lt.Date())
	var ss []session
	for k := n - 2; k <= n+1; k++ {
		if s, ok := b.sessionOn(ev, k); ok {
			ss = append(ss, s)
		}
	}
	return ss
}

// evSlotWh is a charger's energy in slot s, given its sessions around s.
func evSlotWh(sessions []session, s core.Slot) int64 {
	var e int64
	for _, ss := range sessions {
		e += ss.charged(s.End()) - ss.charged(s.Time())
	}
	return e
}

// charging reports whether charger ev draws power at t.
func (b *Building) charging(ev int, t time.Time) bool {
	for _, ss := range b.nearSessions(ev, t) {
		if !t.Before(ss.start) && t.Sub(ss.start) < time.Duration(ss.chargeS)*time.Second {
			return true
		}
	}
	return false
}

// Sessions returns the charging sessions that start in [from, to), ordered
// by start and charger.
func (b *Building) Sessions(from, to time.Time) []Session {
	var out []Session
	lf, lt := from.In(b.loc), to.In(b.loc)
	first, last := dayNum(lf.Date()), dayNum(lt.Date())
	for _, m := range b.meters {
		if m.kind != kindEV {
			continue
		}
		for n := first; n <= last; n++ {
			s, ok := b.sessionOn(m.idx, n)
			if !ok || s.start.Before(from) || !s.start.Before(to) {
				continue
			}
			out = append(out, Session{
				Charger: m.info.ID,
				Card:    b.cardID(m.idx, s.card),
				Unit:    b.units[b.cardUnit(m.idx, s.card)].id,
				Start:   s.start.UTC(),
				End:     s.end.UTC(),
				Energy:  core.Energy(s.energy) * core.Wh,
			})
		}
	}
	slices.SortStableFunc(out, func(a, b Session) int { return a.Start.Compare(b.Start) })
	return out
}
