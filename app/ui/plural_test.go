package ui

import (
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/ingest/importer"
)

// TestPluralForms: a count of one reads as one in every language ("1 Tag",
// "1 gespeichertes Mietverhältnis"), more as more, through the catalogues'
// plural forms (lang.XN).
func TestPluralForms(t *testing.T) {
	for _, tc := range []struct {
		lang, one, two, removedOne string
	}{
		{"en", "1 day", "2 days 2 h", "1 stored tenancy is not in the list and is removed:"},
		{"de", "1 Tag", "2 Tage 2 h", "1 gespeichertes Mietverhältnis fehlt in der Liste und wird entfernt:"},
		{"fr", "1 jour", "2 jours 2 h", "1 bail enregistré ne figure pas dans la liste et est supprimé:"},
		{"it", "1 giorno", "2 giorni 2 h", "1 locazione salvata non è nella lista e viene rimossa:"},
	} {
		if err := setLanguage(tc.lang); err != nil {
			t.Fatal(err)
		}
		if got := duration(24 * time.Hour); got != tc.one {
			t.Errorf("%s: one day is %q, want %q", tc.lang, got, tc.one)
		}
		if got := duration(50 * time.Hour); got != tc.two {
			t.Errorf("%s: two days is %q, want %q", tc.lang, got, tc.two)
		}
		if got := removedLines(&importer.TenantsReport{Removed: 1})[0]; got != tc.removedOne {
			t.Errorf("%s: one removed tenancy is %q, want %q", tc.lang, got, tc.removedOne)
		}
	}
	if err := setLanguage("en"); err != nil {
		t.Fatal(err)
	}
}
