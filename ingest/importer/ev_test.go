package importer

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/store"
)

// evSite is the readings test site with two chargers and tenants.
func evSite(t *testing.T) *core.Site {
	t.Helper()
	s := readingsSite(t)
	s.Timezone = "Europe/Zurich"
	s.Meters = append(s.Meters, core.Meter{ID: "EV1", Role: core.RoleEV}, core.Meter{ID: "EV2", Role: core.RoleEV})
	s.Occupancies = []core.Occupancy{
		{Unit: "W1", Name: "Anna", From: core.MustDate(2026, 1, 1), To: core.MustDate(2026, 3, 31)},
		{Unit: "W1", Name: "Bob", From: core.MustDate(2026, 4, 1)},
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	return s
}

func evParse(t *testing.T, site *core.Site, src string) *EVSessions {
	t.Helper()
	ev, err := ParseEV("ev.csv", strings.NewReader(src), false, site, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestParseEV(t *testing.T) {
	site := evSite(t)
	ev := evParse(t, site, "charger,card,start,end,kwh,person,unit\n"+
		"EV1,04A1,2026-03-31T22:00:00+02:00,2026-04-01T06:00:00+02:00,18.25,,W1\n"+ // Anna's last evening
		"EV1,04A1,2026-04-01T22:00:00+02:00,2026-04-02T02:30:00+02:00,9.5,,W1\n"+ // Bob's first
		"EV2,77FF,2026-04-01T08:00:00Z,2026-04-01T09:00:00Z,3,Guest Carla,\n"+
		"EV2,77FF,2026-04-03T08:00:00Z,2026-04-03T09:30:00Z,4.000001,,\n") // the card's person from line 4
	want := []billing.Session{
		{ID: "EV1-04A1-20260331T200000Z", Meter: "EV1", Card: "04A1", Person: "Anna", Unit: "W1",
			Start: time.Date(2026, 3, 31, 20, 0, 0, 0, time.UTC), End: time.Date(2026, 4, 1, 4, 0, 0, 0, time.UTC)},
		{ID: "EV1-04A1-20260401T200000Z", Meter: "EV1", Card: "04A1", Person: "Bob", Unit: "W1",
			Start: time.Date(2026, 4, 1, 20, 0, 0, 0, time.UTC), End: time.Date(2026, 4, 2, 0, 30, 0, 0, time.UTC)},
		{ID: "EV2-77FF-20260401T080000Z", Meter: "EV2", Card: "77FF", Person: "Guest Carla",
			Start: time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)},
		{ID: "EV2-77FF-20260403T080000Z", Meter: "EV2", Card: "77FF", Person: "Guest Carla",
			Start: time.Date(2026, 4, 3, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 4, 3, 9, 30, 0, 0, time.UTC)},
	}
	if len(ev.Sessions) != len(want) {
		t.Fatalf("%d sessions", len(ev.Sessions))
	}
	for i := range want {
		if ev.Sessions[i] != want[i] {
			t.Errorf("session %d = %+v\nwant        %+v", i, ev.Sessions[i], want[i])
		}
	}
	if ev.Total() != 34_750_001 || ev.Lines[3] != 5 {
		t.Errorf("total %s, lines %v", ev.Total(), ev.Lines)
	}
}

func TestParseEVErrors(t *testing.T) {
	site := evSite(t)
	const h = "charger,card,start,end,kwh\n"
	for _, c := range []struct{ name, src, want string }{
		{"header", "charger,card,start,stop,kwh\n", `ev.csv:1: header: unknown column "stop": an EV sessions file has the columns charger,card,start,end,kwh,person,unit,id`},
		{"no kwh", "charger,card,start,end\n", `ev.csv:1: header: missing column "kwh": an EV sessions file needs the columns charger,card,start,end,kwh`},
		{"unknown charger", h + "EV9,04A1,2026-04-01T08:00:00Z,2026-04-01T09:00:00Z,3\n", `ev.csv:2: column charger: unknown charger "EV9": site test has the EV meters EV1, EV2`},
		{"not a charger", h + "M1,04A1,2026-04-01T08:00:00Z,2026-04-01T09:00:00Z,3\n", `ev.csv:2: column charger: meter M1 is a unit meter, not an EV charger (role ev): site test has the EV meters EV1, EV2`},
		{"no card", h + "EV1,,2026-04-01T08:00:00Z,2026-04-01T09:00:00Z,3\n", `ev.csv:2: column card: expected the card that started the session, got an empty cell`},
		{"local time", h + "EV1,04A1,2026-04-01T08:00:00,2026-04-01T09:00:00Z,3\n", `ev.csv:2: column start: expected an ISO 8601 time with Z or an offset, such as 2026-01-31T18:05:00+01:00, got "2026-04-01T08:00:00"`},
		{"end before start", h + "EV1,04A1,2026-04-01T08:00:00Z,2026-04-01T08:00:00Z,3\n", `ev.csv:2: column end: the session ends at 2026-04-01T10:00:00+02:00, not after its start 2026-04-01T10:00:00+02:00`},
		{"decimal comma", h + "EV1,04A1,2026-04-01T08:00:00Z,2026-04-01T09:00:00Z,\"3,5\"\n", `ev.csv:2: column kwh: expected a decimal number of kWh of zero or more such as 12.5 (at most 6 decimals), got "3,5"`},
		{"no person", h + "EV1,04A1,2026-04-01T08:00:00Z,2026-04-01T09:00:00Z,3\n", `ev.csv:2: column card: card 04A1: no person to bill: expected the column person or unit on this row or on another row of the card (no stored session has this card)`},
		{"vacant unit", "charger,card,start,end,kwh,unit\nEV1,04A1,2025-12-31T08:00:00Z,2025-12-31T09:00:00Z,3,W2\n", `ev.csv:2: column unit: unit W2 has no tenant on 2025-12-31: expected the person to bill in the column person`},
		{"unknown unit", "charger,card,start,end,kwh,unit\nEV1,04A1,2026-04-01T08:00:00Z,2026-04-01T09:00:00Z,3,W7\n", `ev.csv:2: column unit: unit "W7" does not exist: site test has W1, W2`},
		{"overlap", "charger,card,start,end,kwh,person\nEV1,04A1,2026-04-01T08:00:00Z,2026-04-01T09:00:00Z,3,A\nEV2,04A2,2026-04-01T08:00:00Z,2026-04-01T09:00:00Z,3,B\nEV1,04A3,2026-04-01T08:45:00Z,2026-04-01T10:00:00Z,3,C\n",
			`ev.csv:4: column start: charger EV1: the session 2026-04-01T10:45:00+02:00–2026-04-01T12:00:00+02:00 overlaps the one on line 2 (2026-04-01T10:00:00+02:00–2026-04-01T11:00:00+02:00)`},
		{"id twice", "charger,card,start,end,kwh,person,id\nEV1,04A1,2026-04-01T08:00:00Z,2026-04-01T09:00:00Z,3,A,S1\nEV2,04A1,2026-04-02T08:00:00Z,2026-04-02T09:00:00Z,3,A,S1\n",
			`ev.csv:3: column id: session S1 appears twice: also on line 2`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseEV("ev.csv", strings.NewReader(c.src), false, site, nil)
			var e *Error
			if !errors.As(err, &e) || err.Error() != c.want {
				t.Errorf("got  %v\nwant %s", err, c.want)
			}
		})
	}
}

func TestParseEVXLSX(t *testing.T) {
	site := evSite(t)
	data := xlsxFile(t, [][]any{
		{"charger", "card", "start", "end", "kwh", "person"},
		{"EV1", "04A1", "2026-04-01T08:00:00Z", "2026-04-01T09:00:00Z", 0.1 + 0.2, "Anna"},
		{"EV1", "04A1", time.Date(2026, 4, 2, 8, 0, 0, 0, time.UTC), "2026-04-02T09:00:00Z", 1.0, "Anna"},
	}, -1)
	_, err := ParseEV("ev.xlsx", bytes.NewReader(data), true, site, nil)
	if want := "ev.xlsx:3: C3: column start: expected an ISO 8601 time with Z or an offset as text, such as 2026-01-31T18:05:00+01:00, got a spreadsheet date 46114.333333333336 (it has no time zone)"; err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	data = xlsxFile(t, [][]any{
		{"charger", "card", "start", "end", "kwh", "person"},
		{"EV1", "04A1", "2026-04-01T08:00:00Z", "2026-04-01T09:00:00Z", 0.1 + 0.2, "Anna"},
	}, -1)
	ev, err := ParseEV("ev.xlsx", bytes.NewReader(data), true, site, nil)
	if err != nil || ev.KWh[0] != 300*core.Wh {
		t.Fatalf("%v %+v", err, ev)
	}
}

func TestImportEV(t *testing.T) {
	st := openStore(t)
	site := evSite(t)
	now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	if _, err := ImportSite(st, site, "test", now); err != nil {
		t.Fatal(err)
	}
	src := "charger,card,start,end,kwh,unit\n" +
		"EV1,04A1,2026-04-01T20:00:00Z,2026-04-02T00:30:00Z,9.5,W1\n" +
		"EV2,04A1,2026-04-03T20:00:00Z,2026-04-03T21:00:00Z,2,W1\n"
	rep, err := ImportEV(st, site, evParse(t, site, src), "office", now)
	if want := "ev.csv: 2 sessions, 2 written, 0 updated, 0 unchanged; 11.500 kWh by the chargers' count"; err != nil || rep.Summary() != want {
		t.Fatalf("%v\n got %s\nwant %s", err, rep.Summary(), want)
	}
	if rep, err = ImportEV(st, site, evParse(t, site, src), "office", now); err != nil || rep.Unchanged != 2 || rep.Written+rep.Updated != 0 {
		t.Fatalf("again: %v %+v", err, rep)
	}
	// The same session, corrected: a later end and another person.
	fix := "charger,card,start,end,kwh,person\nEV2,04A1,2026-04-03T20:00:00Z,2026-04-03T21:30:00Z,2.5,Bob Guest\n"
	if rep, err = ImportEV(st, site, evParse(t, site, fix), "office", now); err != nil || rep.Updated != 1 {
		t.Fatalf("fix: %v %+v", err, rep)
	}
	// A back-end id with a corrected start moves its session.
	withID := "charger,card,start,end,kwh,person,id\nEV2,55,2026-04-10T20:00:00Z,2026-04-10T21:00:00Z,1,Z,S-9\n"
	moved := "charger,card,start,end,kwh,person,id\nEV2,55,2026-04-10T19:45:00Z,2026-04-10T21:00:00Z,1,Z,S-9\n"
	if rep, err = ImportEV(st, site, evParse(t, site, withID), "office", now); err != nil || rep.Written != 1 {
		t.Fatalf("with id: %v %+v", err, rep)
	}
	if rep, err = ImportEV(st, site, evParse(t, site, moved), "office", now); err != nil || rep.Updated != 1 {
		t.Fatalf("moved: %v %+v", err, rep)
	}
	// A session overlapping a stored one on the same charger writes nothing.
	clash := "charger,card,start,end,kwh,person\nEV2,99,2026-04-05T20:00:00Z,2026-04-05T21:00:00Z,1,Z\nEV1,77,2026-04-01T23:00:00Z,2026-04-02T01:00:00Z,1,Z\n"
	_, err = ImportEV(st, site, evParse(t, site, clash), "office", now)
	if want := "ev.csv:3: session EV1-77-20260401T230000Z: charger EV1: the session 2026-04-02T01:00:00+02:00–2026-04-02T03:00:00+02:00 overlaps the stored session EV1-04A1-20260401T200000Z (2026-04-01T22:00:00+02:00–2026-04-02T02:30:00+02:00, Bob)"; err == nil || err.Error() != want {
		t.Fatalf("clash:\n got %v\nwant %s", err, want)
	}
	// The card table of the stored sessions bills a row without a person.
	var cards EVCards
	if err := st.View(func(tx store.Tx) error { var err error; cards, err = StoredEVCards(tx, site.ID); return err }); err != nil {
		t.Fatal(err)
	}
	if want := (EVCards{"04A1": {Person: "Bob Guest"}, "55": {Person: "Z"}}); len(cards) != 2 || cards["04A1"] != want["04A1"] || cards["55"] != want["55"] {
		t.Errorf("cards %v", cards)
	}
	later, err := ParseEV("later.csv", strings.NewReader("charger,card,start,end,kwh\nEV1,04A1,2026-04-20T20:00:00Z,2026-04-20T21:00:00Z,2\n"), false, site, cards)
	if err != nil || later.Sessions[0].Person != "Bob Guest" {
		t.Errorf("by the card table: %v %+v", err, later)
	}
	// What billing loads.
	var in *billing.Input
	var audit []string
	err = st.View(func(tx store.Tx) error {
		var err error
		in, err = billing.Load(tx, site, core.Period{From: core.MustDate(2026, 4, 1), To: core.MustDate(2026, 4, 30)})
		if err != nil {
			return err
		}
		return tx.ScanAudit(0, func(e store.Entry) bool {
			audit = append(audit, e.Action)
			return true
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Sessions) != 3 || in.Sessions[2].ID != "S-9" || !in.Sessions[2].Start.Equal(time.Date(2026, 4, 10, 19, 45, 0, 0, time.UTC)) || in.Sessions[1].Person != "Bob Guest" || in.Sessions[1].Unit != "" || in.Sessions[0].Person != "Bob" {
		t.Errorf("sessions %+v", in.Sessions)
	}
	if strings.Join(audit, ",") != "site.import,ev.import,ev.import,ev.import,ev.import" {
		t.Errorf("audit %v", audit)
	}
}

// TestImportEVLockedPeriod: a session inside a billed (locked) period is
// refused as readings are, naming the line, the session in local time and
// the billed period, and the file writes nothing. Sessions stored before the
// period was billed import again unchanged; a stored session cannot be moved
// out of a billed period either.
func TestImportEVLockedPeriod(t *testing.T) {
	st := openStore(t)
	site := evSite(t)
	now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	if _, err := ImportSite(st, site, "test", now); err != nil {
		t.Fatal(err)
	}
	billed := "charger,card,start,end,kwh,person,id\nEV1,04A1,2026-03-10T18:00:00Z,2026-03-10T19:00:00Z,2,Anna,S-1\n"
	if _, err := ImportEV(st, site, evParse(t, site, billed), "office", now); err != nil {
		t.Fatal(err)
	}
	march := core.Period{From: core.MustDate(2026, 3, 1), To: core.MustDate(2026, 3, 31)}
	err := st.Update(func(tx store.Tx) error {
		return tx.LockPeriod(store.Lock{Site: site.ID, Period: march, Time: now, Note: "final"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := ImportEV(st, site, evParse(t, site, billed), "office", now); err != nil || rep.Unchanged != 1 {
		t.Fatalf("the billed sessions again: %v %+v", err, rep)
	}

	tests := []struct{ name, src, want string }{
		{"new session in the billed period",
			"charger,card,start,end,kwh,person\n" +
				"EV2,77,2026-04-02T18:00:00Z,2026-04-02T19:00:00Z,1,Z\n" + // fine, and first
				"EV1,77,2026-03-31T21:30:00Z,2026-03-31T23:00:00Z,1,Z\n", // 23:30–01:00 local: both periods
			"ev.csv:3: EV session EV1-77-20260331T213000Z of charger EV1, 2026-03-31T23:30:00+02:00–2026-04-01T01:00:00+02:00: " +
				"2026-03-31..2026-04-01 overlaps the billed period 2026-03-01..2026-03-31: period is locked (billed); unlock it first"},
		{"billed session changed",
			"charger,card,start,end,kwh,person,id\nEV1,04A1,2026-03-10T18:00:00Z,2026-03-10T19:00:00Z,2,Bob,S-1\n",
			"ev.csv:2: EV session S-1 of charger EV1, 2026-03-10T19:00:00+01:00–2026-03-10T20:00:00+01:00: " +
				"2026-03-10..2026-03-10 overlaps the billed period 2026-03-01..2026-03-31: period is locked (billed); unlock it first"},
		{"billed session moved out",
			"charger,card,start,end,kwh,person,id\nEV1,04A1,2026-04-10T18:00:00Z,2026-04-10T19:00:00Z,2,Anna,S-1\n",
			"ev.csv:2: moving the stored session to its corrected start: EV session S-1 of charger EV1, 2026-03-10T19:00:00+01:00–2026-03-10T20:00:00+01:00: " +
				"2026-03-10..2026-03-10 overlaps the billed period 2026-03-01..2026-03-31: period is locked (billed); unlock it first"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ImportEV(st, site, evParse(t, site, tc.src), "office", now)
			if !errors.Is(err, store.ErrLocked) || err.Error() != tc.want {
				t.Fatalf("err = %v\nwant  %s", err, tc.want)
			}
		})
	}
	// Nothing of the refused files was written.
	var n int
	var audit []string
	err = st.View(func(tx store.Tx) error {
		err := tx.ScanMeta(billing.BucketSessions, func(k string, v []byte) bool { n++; return true })
		if err != nil {
			return err
		}
		return tx.ScanAudit(0, func(e store.Entry) bool { audit = append(audit, e.Action); return true })
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 || strings.Join(audit, ",") != "site.import,ev.import" {
		t.Errorf("%d sessions stored, audit %v; want the one billed session only", n, audit)
	}
}
