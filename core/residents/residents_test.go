package residents_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/residents"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/mem"
)

func testSite() *core.Site {
	return &core.Site{ID: "s", Name: "S", Timezone: "Europe/Zurich", Occupancies: []core.Occupancy{
		{Unit: "W01", Name: "Anna", From: core.MustDate(2026, 1, 1), To: core.MustDate(2026, 3, 31)},
		{Unit: "W01", Name: "Ben", From: core.MustDate(2026, 4, 1)},
	}}
}

func at(y int, m time.Month, d, h int) time.Time {
	loc, _ := time.LoadLocation("Europe/Zurich")
	return time.Date(y, m, d, h, 0, 0, 0, loc)
}

func resolve(t *testing.T, st store.Store, tok string, now time.Time) (*residents.Resident, error) {
	t.Helper()
	var r *residents.Resident
	err := st.View(func(tx store.Tx) (err error) { r, err = residents.Resolve(tx, tok, now); return err })
	return r, err
}

func TestLinkLifecycle(t *testing.T) {
	st := mem.New()
	site := testSite()
	key, err := residents.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	anna, ben := site.Occupancies[0], site.Occupancies[1]
	now := at(2026, 2, 1, 12)
	var ta, tb string
	err = st.Update(func(tx store.Tx) (err error) {
		if err := tx.PutSite(site); err != nil {
			return err
		}
		if ta, err = residents.Renew(tx, "s", anna, key, now); err != nil {
			return err
		}
		tb, err = residents.Renew(tx, "s", ben, nil, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ta) != residents.TokenLen || !residents.WellFormed(ta) || ta == tb {
		t.Fatalf("tokens %q %q", ta, tb)
	}
	r, err := resolve(t, st, ta, now)
	if err != nil || r.Occupancy.Name != "Anna" || r.Site.ID != "s" {
		t.Fatalf("resolving Anna's token: %+v, %v", r, err)
	}
	if r, err := resolve(t, st, tb, now); err != nil || r.Occupancy.Name != "Ben" {
		t.Fatalf("resolving Ben's token: %+v, %v", r, err)
	}
	// The store holds no token in the clear.
	st.View(func(tx store.Tx) error {
		for _, b := range []string{residents.BucketLinks, residents.BucketTokens} {
			tx.ScanMeta(b, func(k string, v []byte) bool {
				if strings.Contains(k+string(v), ta) || strings.Contains(k+string(v), tb) {
					t.Errorf("bucket %s holds a token in the clear: %s=%s", b, k, v)
				}
				return true
			})
		}
		l, _ := residents.Get(tx, "s", anna)
		if tok, err := l.Token(key); err != nil || tok != ta {
			t.Errorf("opening Anna's sealed token: %q, %v", tok, err)
		}
		other, _ := residents.NewKey()
		if _, err := l.Token(other); !errors.Is(err, residents.ErrNoKey) {
			t.Errorf("another key opened the token: %v", err)
		}
		lb, _ := residents.Get(tx, "s", ben)
		if _, err := lb.Token(key); !errors.Is(err, residents.ErrNoKey) {
			t.Errorf("a token issued without key was shown: %v", err)
		}
		return nil
	})

	// Expiry: the last day plus 90 days works, the day after does not.
	last := at(2026, 6, 29, 23) // 31 March + 90 days
	if _, err := resolve(t, st, ta, last); err != nil {
		t.Errorf("Anna's token on the last day of grace: %v", err)
	}
	if _, err := resolve(t, st, ta, last.Add(2*time.Hour)); !errors.Is(err, residents.ErrNotFound) {
		t.Errorf("Anna's token after the grace period: %v", err)
	}
	st.Update(func(tx store.Tx) error { return residents.SetGrace(tx, "s", 10) })
	if _, err := resolve(t, st, ta, at(2026, 4, 11, 1)); !errors.Is(err, residents.ErrNotFound) {
		t.Errorf("Anna's token after a grace of 10 days: %v", err)
	}
	if _, err := resolve(t, st, tb, at(2036, 1, 1, 0)); err != nil {
		t.Errorf("an open-ended occupancy's token expired: %v", err)
	}

	// Renew: the old token stops, the new works; revoke stops it.
	var ta2 string
	st.Update(func(tx store.Tx) (err error) { ta2, err = residents.Renew(tx, "s", anna, key, now); return err })
	if _, err := resolve(t, st, ta, now); !errors.Is(err, residents.ErrNotFound) {
		t.Errorf("a renewed link's old token: %v", err)
	}
	if _, err := resolve(t, st, ta2, now); err != nil {
		t.Errorf("the renewed token: %v", err)
	}
	st.Update(func(tx store.Tx) error { return residents.Revoke(tx, "s", anna, now) })
	if _, err := resolve(t, st, ta2, now); !errors.Is(err, residents.ErrNotFound) {
		t.Errorf("a revoked token: %v", err)
	}

	// Malformed and unknown tokens, and a token whose occupancy was
	// removed from the site.
	for _, tok := range []string{"", "x", strings.Repeat("A", 24), tb + "x", tb[:23] + "!"} {
		if _, err := resolve(t, st, tok, now); !errors.Is(err, residents.ErrNotFound) {
			t.Errorf("token %q: %v", tok, err)
		}
	}
	site.Occupancies = site.Occupancies[:1]
	st.Update(func(tx store.Tx) error { return tx.PutSite(site) })
	if _, err := resolve(t, st, tb, now); !errors.Is(err, residents.ErrNotFound) {
		t.Errorf("the token of a removed occupancy: %v", err)
	}
}

func TestListIssues(t *testing.T) {
	st := mem.New()
	site := testSite()
	key, _ := residents.NewKey()
	now := at(2026, 8, 1, 12) // Anna's link (to 31 March + 90 days) expired
	var first, again []residents.Entry
	err := st.Update(func(tx store.Tx) (err error) {
		first, err = residents.List(tx, site, key, true, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if first[0].State != "none" || first[0].Token != "" {
		t.Errorf("an expired occupancy was issued a link: %+v", first[0])
	}
	if first[1].State != "active" || first[1].Token == "" {
		t.Errorf("Ben got no link: %+v", first[1])
	}
	st.View(func(tx store.Tx) (err error) { again, err = residents.List(tx, site, key, false, now); return err })
	if again[1].Token != first[1].Token {
		t.Errorf("listing again shows another link: %q, first %q", again[1].Token, first[1].Token)
	}
}

func TestLoadKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "links.key")
	k1, err := residents.LoadKey(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v", fi, err)
	}
	k2, err := residents.LoadKey(path)
	if err != nil {
		t.Fatal(err)
	}
	st := mem.New()
	site := testSite()
	var tok string
	st.Update(func(tx store.Tx) (err error) {
		tok, err = residents.Renew(tx, "s", site.Occupancies[1], k1, time.Now())
		return err
	})
	st.View(func(tx store.Tx) error {
		l, _ := residents.Get(tx, "s", site.Occupancies[1])
		if got, err := l.Token(k2); err != nil || got != tok {
			t.Errorf("the reloaded key does not open the token: %q, %v", got, err)
		}
		return nil
	})
	os.WriteFile(path, []byte("nonsense\n"), 0o600)
	if _, err := residents.LoadKey(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("a corrupt key file: %v", err)
	}
}
