package cli

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
)

// evOffice is the import test site with a charger and a tenant in unit A.
func evOffice(t *testing.T) (db, dir string) {
	t.Helper()
	return impOfficeWith(t, strings.Replace(impSiteTOML, "[[tariffs]]", "[[meters]]\nid = \"EV1\"\nrole = \"ev\"\n\n[[tenants]]\nunit = \"A\"\nname = \"Anna Muster\"\nfrom = 2026-01-01\n\n[[tariffs]]", 1))
}

func evStoredSessions(t *testing.T, db string) []billing.Session {
	t.Helper()
	st, err := bolt.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var in *billing.Input
	err = st.View(func(tx store.Tx) error {
		site, err := tx.Site("linde")
		if err != nil {
			return err
		}
		in, err = billing.Load(tx, site, core.Period{From: core.MustDate(2026, 3, 1), To: core.MustDate(2026, 3, 31)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return in.Sessions
}

func TestImportEVCommand(t *testing.T) {
	db, dir := evOffice(t)
	f := impWriteFile(t, dir, "ladungen.csv", "charger;card;start;end;kwh;unit\n"+
		"EV1;04A1;2026-03-02T18:00:00+01:00;2026-03-02T22:15:00+01:00;14.2;A\n"+
		"EV1;04A1;2026-03-04T18:00:00+01:00;2026-03-04T19:00:00+01:00;3.1;\n")
	code, out, errs := run(t, db, "import", "ev", f)
	if want := f + ": 2 sessions, 2 written, 0 updated, 0 unchanged; 17.300 kWh by the chargers' count\n"; code != 0 || out != want || errs != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q\nwant %q", code, out, errs, want)
	}
	ss := evStoredSessions(t, db)
	if len(ss) != 2 || ss[1].Person != "Anna Muster" || ss[1].Unit != "A" || ss[0].Start.Hour() != 17 {
		t.Errorf("stored %+v", ss)
	}
	code, out, _ = run(t, db, "import", "ev", f)
	if want := f + ": 2 sessions, 0 written, 0 updated, 2 unchanged; 17.300 kWh by the chargers' count\n"; code != 0 || out != want {
		t.Errorf("again: exit %d, stdout %q", code, out)
	}
	// A later export without units: the cards are known.
	later := impWriteFile(t, dir, "later.csv", "charger,card,start,end,kwh\nEV1,04A1,2026-03-06T18:00:00Z,2026-03-06T19:00:00Z,2\n")
	if code, out, errs = run(t, db, "import", "ev", later); code != 0 || !strings.Contains(out, "1 written") {
		t.Errorf("later: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if ss := evStoredSessions(t, db); len(ss) != 3 || ss[2].Person != "Anna Muster" || ss[2].Unit != "A" {
		t.Errorf("later: %+v", ss)
	}
	bad := impWriteFile(t, dir, "bad.csv", "charger,card,start,end,kwh,person\nEV1,05,2026-03-10T18:00:00Z,2026-03-10T19:00:00Z,1,X\nMA,05,2026-03-11T18:00:00Z,2026-03-11T19:00:00Z,1,X\n")
	good := impWriteFile(t, dir, "good.csv", "charger,card,start,end,kwh,person\nEV1,06,2026-03-20T18:00:00Z,2026-03-20T19:00:00Z,1,Y\n")
	code, out, errs = run(t, db, "import", "ev", good, bad)
	if want := "zevdesk import ev: " + bad + ":3: column charger: meter MA is a unit meter, not an EV charger (role ev): site linde has the EV meters EV1\n"; code != 1 || out != "" || errs != want {
		t.Errorf("bad: exit %d, stdout %q\nstderr %q\nwant   %q", code, out, errs, want)
	}
	if ss := evStoredSessions(t, db); len(ss) != 3 {
		t.Errorf("%d sessions stored after the bad run", len(ss))
	}
	code, _, errs = run(t, db, "import", "ev")
	if code != 1 || !strings.Contains(errs, "expected one or more EV sessions files") {
		t.Errorf("no file: exit %d, stderr %q", code, errs)
	}
}

// TestImportEVBilledPeriod: once a period is billed (bill --final), import
// ev refuses a file with a session inside it, naming the file, line, session
// and billed period, exits 1 and writes nothing of the file.
func TestImportEVBilledPeriod(t *testing.T) {
	db, dir := evOffice(t)
	if code, _, errs := run(t, db, "import", "readings", impWriteFile(t, dir, "day.csv", impDayCSV())); code != 0 {
		t.Fatalf("import readings: %s", errs)
	}
	if code, _, errs := run(t, db, "bill", "--site", "linde", "--from", "2026-03-01", "--to", "2026-03-31", "--final", "--accept-missing", "--out", filepath.Join(dir, "out")); code != 0 {
		// The readings cover one day and the charger meter none: finalizing
		// takes the office's explicit acceptance of the unknown amount.
		t.Fatalf("bill: %s", errs)
	}
	f := impWriteFile(t, dir, "ladungen.csv", "charger;card;start;end;kwh;unit\n"+
		"EV1;04A1;2026-04-02T18:00:00+02:00;2026-04-02T22:15:00+02:00;14.2;A\n"+
		"EV1;04A1;2026-03-04T18:00:00+01:00;2026-03-04T19:00:00+01:00;3.1;A\n")
	code, out, errs := run(t, db, "import", "ev", f)
	want := "zevdesk import ev: " + f + ":3: EV session EV1-04A1-20260304T170000Z of charger EV1, 2026-03-04T18:00:00+01:00–2026-03-04T19:00:00+01:00: " +
		"2026-03-04..2026-03-04 overlaps the billed period 2026-03-01..2026-03-31: period is locked (billed); unlock it first\n"
	if code != 1 || out != "" || errs != want {
		t.Fatalf("exit %d, stdout %q\nstderr %q\nwant   %q", code, out, errs, want)
	}
	st, err := bolt.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n := 0
	err = st.View(func(tx store.Tx) error {
		return tx.ScanMeta(billing.BucketSessions, func(string, []byte) bool { n++; return true })
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d sessions stored from the refused file", n)
	}
}
