package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/zevdesk/zevdesk/core/store"
)

// An office bills a month, finds a wrong reading, unlocks the month with a
// reason, and bills it again: the invoices keep their numbers and the audit
// log says who reopened the period and why.
func TestUnlockAndRebill(t *testing.T) {
	db := unlockDemo(t)
	bill := []string{"bill", "--site", "demo", "--from", "2026-10-01", "--to", "2026-10-31", "--final", "--json"}
	code, first, errs := run(t, db, bill...)
	if code != 0 {
		t.Fatalf("bill --final: exit %d: %s", code, errs)
	}
	code, out, _ := run(t, db, "locks", "--site", "demo")
	if code != 0 || !strings.Contains(out, "2026-10-01..2026-10-31  billed ") {
		t.Fatalf("locks: exit %d:\n%s", code, out)
	}
	if code, _, errs := run(t, db, "unlock", "--site", "demo", "--from", "2026-10-01", "--to", "2026-10-31"); code != 1 || !strings.Contains(errs, "--reason is required") {
		t.Errorf("unlock without a reason: exit %d: %s", code, errs)
	}
	if code, _, errs := run(t, db, "unlock", "--site", "demo", "--from", "2026-10-01", "--to", "2026-10-30", "--reason", "x"); code != 1 || errs != "zevdesk unlock: site demo has no billed period 2026-10-01..2026-10-30: its billed periods are 2026-10-01..2026-10-31\n" {
		t.Errorf("unlock of a period that was not billed: exit %d: %s", code, errs)
	}
	// Every command that takes --site names the sites there are when the
	// one asked for does not exist, in one line.
	for _, args := range [][]string{
		{"bill", "--site", "nope", "--from", "2026-10-01", "--to", "2026-10-31"},
		{"unlock", "--site", "nope", "--from", "2026-10-01", "--to", "2026-10-31", "--reason", "x"},
		{"locks", "--site", "nope"},
		{"tariff", "check", "--site", "nope"},
		{"tariff", "costs", "--site", "nope"},
	} {
		want := "zevdesk " + args[0] + ": no site \"nope\": the database has the sites demo\n"
		if args[0] == "tariff" {
			want = "zevdesk tariff " + args[1] + ": no site \"nope\": the database has the sites demo\n"
		}
		if code, _, errs := run(t, db, args...); code != 1 || errs != want {
			t.Errorf("%v: exit %d, stderr %q, want %q", args, code, errs, want)
		}
	}
	code, out, errs = run(t, db, "unlock", "--site", "demo", "--from", "2026-10-01", "--to", "2026-10-31", "--reason", "meter W03 misread")
	if code != 0 || !strings.Contains(out, "unlocked 2026-10-01..2026-10-31") {
		t.Fatalf("unlock: exit %d: %s %s", code, out, errs)
	}
	if _, out, _ := run(t, db, "locks", "--site", "demo"); !strings.Contains(out, "no billed period") {
		t.Errorf("locks after the unlock:\n%s", out)
	}
	code, again, errs := run(t, db, bill...)
	if code != 0 {
		t.Fatalf("billing the unlocked month again: exit %d: %s", code, errs)
	}
	if a, b := unlockNumbers(t, first), unlockNumbers(t, again); len(a) != 12 || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("invoice numbers %v, after unlocking and billing again %v", a, b)
	}
	var found bool
	st := openStore(t, db)
	st.View(func(tx store.Tx) error {
		return tx.ScanAudit(0, func(e store.Entry) bool {
			if e.Action == "period.unlock" && e.Site == "demo" && strings.Contains(e.Detail, "meter W03 misread") && strings.HasPrefix(e.Actor, "cli") {
				found = true
			}
			return true
		})
	})
	if !found {
		t.Error("the unlock is not in the audit log with its reason")
	}
}

func unlockNumbers(t *testing.T, out string) []int {
	t.Helper()
	var run struct {
		Invoices []struct{ Number int }
	}
	if err := json.Unmarshal([]byte(out), &run); err != nil {
		t.Fatalf("bill --json: %v", err)
	}
	var ns []int
	for _, inv := range run.Invoices {
		ns = append(ns, inv.Number)
	}
	return ns
}

func unlockDemo(t *testing.T) string {
	t.Helper()
	db := t.TempDir() + "/office.db"
	if code, _, errs := run(t, db, "demo", "--no-window", "--now", "2026-11-27T08:00:00Z"); code != 0 {
		t.Fatalf("demo: exit %d: %s", code, errs)
	}
	return db
}
