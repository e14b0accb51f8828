package ui

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/ingest/importer"
)

// newTestMaster shows the master-data tab on st in a test window, with
// site (if any) selected.
func newTestMaster(t *testing.T, st store.Store, site *core.Site, clock core.Clock) *MasterData {
	t.Helper()
	test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	m := NewMasterData(st, clock, w)
	w.SetContent(m.Content())
	w.Resize(fyne.NewSize(1100, 800))
	if site != nil {
		m.setSite(site)
	}
	return m
}

// storedSite reads site id from st.
func storedSite(t *testing.T, st store.Store, id string) *core.Site {
	t.Helper()
	var s *core.Site
	if err := st.View(func(tx store.Tx) error {
		var err error
		s, err = tx.Site(id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return s
}

func auditActions(t *testing.T, st store.Store) []string {
	t.Helper()
	var as []string
	st.View(func(tx store.Tx) error {
		return tx.ScanAudit(0, func(e store.Entry) bool { as = append(as, e.Action+" "+e.Detail); return true })
	})
	return as
}

// TestSiteFormCreateThenEdit: a clerk creates a site in the guided form (a
// wrong IBAN is refused at its field, nothing stored), then edits it; both
// are stored with their audit entries, the owner with name and address.
func TestSiteFormCreateThenEdit(t *testing.T) {
	st := openStore(t)
	clock := core.FixedClock(time.Date(2026, 7, 5, 10, 0, 0, 0, time.UTC))
	m := newTestMaster(t, st, nil, clock)
	s := m.Sites
	if !strings.Contains(s.status.Text, "No site yet") {
		t.Errorf("empty office: status %q", s.status.Text)
	}
	test.Tap(findButton(s.Content(), "New site…"))
	f := s.form
	if !s.formView.Visible() || !f.id.Disabled() == false {
		t.Fatal("the form is not shown for a new site")
	}
	test.Type(f.id, "linde")
	test.Type(f.name, "ZEV Linde")
	f.addr.street.SetText("Lindenweg")
	f.addr.number.SetText("3")
	f.addr.postcode.SetText("8000")
	f.addr.town.SetText("Zürich")
	f.opName.SetText("Linde Verwaltung AG")
	f.iban.SetText("CH44 3199 9123 0008 8901 3") // wrong check digits
	f.owner.SetText("Erbengemeinschaft Linde")
	f.ownerAddr.street.SetText("Seestrasse")
	f.ownerAddr.number.SetText("1")
	f.ownerAddr.postcode.SetText("6000")
	f.ownerAddr.town.SetText("Luzern")
	f.collect.SetChecked(true)
	test.Tap(f.save)
	if msg := f.fs.errorAt("operator.iban"); !strings.Contains(msg, "check digits") {
		t.Fatalf("IBAN error at the field: %q (general %q)", msg, f.fs.general.Text)
	}
	if err := st.View(func(tx store.Tx) error { _, err := tx.Site("linde"); return err }); err == nil {
		t.Fatal("a refused site was stored")
	}
	f.iban.SetText("CH44 3199 9123 0008 8901 2")
	var saved *core.Site
	m.Changed = func(s *core.Site) { saved = s }
	test.Tap(f.save)
	if f.saved.Text != "Saved." || saved == nil {
		t.Fatalf("not saved: %q, general %q", f.saved.Text, f.fs.general.Text)
	}
	got := storedSite(t, st, "linde")
	if got.Name != "ZEV Linde" || got.Address.Town != "Zürich" || got.Address.Country != "CH" ||
		got.Operator.IBAN != "CH44 3199 9123 0008 8901 2" || !got.Settings.CollectSelf || got.Settings.Period != "quarter" ||
		got.Owner != "Erbengemeinschaft Linde" || got.OwnerAddress.Town != "Luzern" || got.Allocation != core.AllocProportional {
		t.Errorf("stored %+v", got)
	}
	if rows, _ := s.tableSize(); rows != 1 || cellText(s.updateCell, 0, 0) != "ZEV Linde (linde)" ||
		cellText(s.updateCell, 0, 1) != "no data" || cellText(s.updateCell, 0, 3) != "Q2 2026 (01.04.2026 – 30.06.2026)" {
		t.Errorf("sites list: %d rows, %q %q %q", rows, cellText(s.updateCell, 0, 0), cellText(s.updateCell, 0, 1), cellText(s.updateCell, 0, 3))
	}
	// Edit: the id is fixed, the name and VAT number change.
	s.selected = 0
	test.Tap(findButton(s.list, "Edit"))
	if !f.id.Disabled() || f.name.Text != "ZEV Linde" {
		t.Fatalf("edit form: id disabled %v, name %q", f.id.Disabled(), f.name.Text)
	}
	f.name.SetText("ZEV Linde Ost")
	f.vat.SetText("CHE-123.456.789")
	f.owner.SetText("")
	test.Tap(f.save)
	if msg := f.fs.errorAt("owner.name"); !strings.Contains(msg, "expected the owner's name") {
		t.Fatalf("an owner's address without a name: %q", msg)
	}
	f.owner.SetText("Erbengemeinschaft Linde")
	test.Tap(f.save)
	if got := storedSite(t, st, "linde"); got.Name != "ZEV Linde Ost" || got.VATNumber != "CHE-123.456.789" {
		t.Errorf("after the edit: %q %q", got.Name, got.VATNumber)
	}
	audit := auditActions(t, st)
	if len(audit) != 2 || !strings.HasPrefix(audit[0], "site.import") || audit[1] != "site.update name changed; vat_number changed" {
		t.Errorf("audit %q", audit)
	}
}

// TestSiteCreateRefusesExistingID: a new site may not replace another.
func TestSiteCreateRefusesExistingID(t *testing.T) {
	st, site, clock := billingStore(t)
	m := newTestMaster(t, st, site, clock)
	f := m.Sites.form
	m.Sites.onNew()
	f.id.SetText("birkenweg")
	f.name.SetText("Something else")
	f.opName.SetText("X")
	test.Tap(f.save)
	if !strings.Contains(f.fs.errorAt("id"), "exists already") || storedSite(t, st, "birkenweg").Name != site.Name {
		t.Errorf("id error %q, stored name %q", f.fs.errorAt("id"), storedSite(t, st, "birkenweg").Name)
	}
}

// TestUnitsAddUnitAndMeter adds a unit with its area and a unit meter with
// a metering point; a unit meter without its unit is refused at the field.
func TestUnitsAddUnitAndMeter(t *testing.T) {
	st, site, clock := billingStore(t)
	m := newTestMaster(t, st, site, clock)
	u := m.Units
	u.editUnit(-1)
	u.uID.SetText("W03")
	u.uName.SetText("4.5 Zimmer DG")
	u.uArea.SetText("zehn")
	test.Tap(findButton(u.Content(), "Save unit"))
	if msg := u.ufs.errorAt("area_m2"); msg == "" {
		t.Errorf("a malformed area was accepted")
	}
	u.uArea.SetText("105.5")
	test.Tap(findButton(u.Content(), "Save unit"))
	if got := storedSite(t, st, "birkenweg").Unit("W03"); got == nil || got.Area != 10550 || got.Name != "4.5 Zimmer DG" {
		t.Fatalf("stored unit %+v (general %q)", got, u.ufs.general.Text)
	}
	u.editMeter(-1)
	u.mID.SetText("M-W03")
	u.mRole.SetSelected("Unit")
	u.mPoint.SetText("CH1007001234500000000000000012345")
	test.Tap(findButton(u.Content(), "Save meter"))
	if msg := u.mfs.errorAt("unit"); !strings.Contains(msg, `expected the unit that meter "M-W03" belongs to`) {
		t.Fatalf("unit meter without unit: %q (general %q)", msg, u.mfs.general.Text)
	}
	if storedSite(t, st, "birkenweg").Meter("M-W03") != nil {
		t.Fatal("a refused meter was stored")
	}
	u.mUnit.SetSelected("W03")
	u.mPower.SetText("11000")
	test.Tap(findButton(u.Content(), "Save meter"))
	got := storedSite(t, st, "birkenweg").Meter("M-W03")
	if got == nil || *got != (core.Meter{ID: "M-W03", Role: core.RoleUnit, Unit: "W03", MaxPowerW: 11000, MeteringPoint: "CH1007001234500000000000000012345"}) {
		t.Errorf("stored meter %+v", got)
	}
	// The other tabs see the new unit: the tenants' unit choice has it.
	if !strings.Contains(strings.Join(m.Tenants.unit.Options, ","), "W03") {
		t.Errorf("tenant units %v", m.Tenants.unit.Options)
	}
}

// TestTenantMoveOutLeavesUnitVacant: a move-out without a successor shows
// the unit vacant, billed to the owner, in the history and the status.
func TestTenantMoveOutLeavesUnitVacant(t *testing.T) {
	st, site, clock := billingStore(t)
	m := newTestMaster(t, st, site, clock)
	tn := m.Tenants
	tn.unit.SetSelected("W01")
	if len(tn.rows) != 1 || tn.rows[0].text != "01.01.2026 – open  Anna Muster" {
		t.Fatalf("history %+v", tn.rows)
	}
	tn.history.Select(0)
	if tn.name.Text != "Anna Muster" || tn.from.Text != "01.01.2026" {
		t.Fatalf("form %q %q", tn.name.Text, tn.from.Text)
	}
	tn.to.SetText("31.07.2026")
	tn.advance.SetText("CHF 85.50")
	test.Tap(findButton(tn.Content(), "Save"))
	want := "Saved. Unit W01 is vacant from 01.08.2026: its energy and fees are billed to the owner (Immo Muster AG)."
	if tn.status.Text != want {
		t.Errorf("status %q\nwant   %q (general %q)", tn.status.Text, want, tn.fs.general.Text)
	}
	if len(tn.rows) != 2 || tn.rows[1].occ != -1 || tn.rows[1].text != "vacant from 01.08.2026: billed to the owner (Immo Muster AG)" {
		t.Errorf("history %+v", tn.rows)
	}
	o := storedSite(t, st, "birkenweg").Occupancies[0]
	if o.To != core.MustDate(2026, 7, 31) || o.AdvanceMonth != 8550 || o.Name != "Anna Muster" {
		t.Errorf("stored %+v", o)
	}
	// A successor from 15 August: the gap between stays vacant.
	tn.edit(-1)
	tn.name.SetText("Carla Rossi")
	tn.from.SetText("2026-08-15")
	tn.language.SetSelected("Italiano")
	test.Tap(findButton(tn.Content(), "Save"))
	var texts []string
	for _, r := range tn.rows {
		texts = append(texts, r.text)
	}
	wantRows := []string{"01.01.2026 – 31.07.2026  Anna Muster  advance CHF 85.50/month",
		"vacant 01.08.2026 – 14.08.2026: billed to the owner (Immo Muster AG)", "15.08.2026 – open  Carla Rossi"}
	if !reflect.DeepEqual(texts, wantRows) {
		t.Errorf("history %q\nwant    %q", texts, wantRows)
	}
	if got := storedSite(t, st, "birkenweg").Occupancies; len(got) != 3 || got[2].Language != "it" {
		t.Errorf("stored %+v", got)
	}
	// Anna's move-out moved past Carla's move-in is refused at the
	// move-out field.
	tn.edit(0)
	tn.to.SetText("20.08.2026")
	test.Tap(findButton(tn.Content(), "Save"))
	if msg := tn.fs.errorAt("to"); !strings.Contains(msg, `tenancy of "Anna Muster" in unit W01 overlaps`) {
		t.Errorf("error at the move-out field: %q (from %q, general %q)", msg, tn.fs.errorAt("from"), tn.fs.general.Text)
	}
	if got := storedSite(t, st, "birkenweg").Occupancies[0].To; got != core.MustDate(2026, 7, 31) {
		t.Errorf("stored move-out %s", got)
	}
}

// TestTenantOverlapRefusedAtField: a tenancy overlapping another of the
// unit is refused at its move-in field with core's reason; nothing stored.
func TestTenantOverlapRefusedAtField(t *testing.T) {
	st, site, clock := billingStore(t)
	m := newTestMaster(t, st, site, clock)
	tn := m.Tenants
	tn.unit.SetSelected("W01")
	tn.edit(-1)
	tn.name.SetText("Dora Doppelt")
	tn.from.SetText("01.03.2026")
	test.Tap(findButton(tn.Content(), "Save"))
	msg := tn.fs.errorAt("from")
	if !strings.Contains(msg, `tenancy of "Dora Doppelt" in unit W01 overlaps`) || !strings.Contains(msg, `"Anna Muster", 01.01.2026..open`) {
		t.Errorf("error at the move-in field: %q (general %q)", msg, tn.fs.general.Text)
	}
	tn.from.SetText("1.3.26x")
	test.Tap(findButton(tn.Content(), "Save"))
	if msg := tn.fs.errorAt("from"); msg != "expected a date such as 31.03.2026" {
		t.Errorf("bad date: %q", msg)
	}
	tn.from.SetText("01.03.2026")
	tn.to.SetText("28.02.2026")
	test.Tap(findButton(tn.Content(), "Save"))
	if msg := tn.fs.errorAt("to"); !strings.Contains(msg, "before the first day") {
		t.Errorf("move-out before move-in: %q", msg)
	}
	if got := storedSite(t, st, "birkenweg"); len(got.Occupancies) != 2 {
		t.Errorf("stored %d tenancies", len(got.Occupancies))
	}
}

// TestTariffArt16Arithmetic: the tariff form shows the Art. 16 check of the
// solar price with its arithmetic as the prices are typed, and stores the
// version with an HT/NT pattern.
func TestTariffArt16Arithmetic(t *testing.T) {
	st, site, clock := billingStore(t)
	m := newTestMaster(t, st, site, clock)
	tf := m.Tariffs
	test.Tap(findButton(tf.Content(), "New version"))
	tf.from.SetText("01.01.2027")
	tf.solar.SetText("0.22")
	if !strings.Contains(tf.check.Text, "standard product price") {
		t.Errorf("without a standard price: %q", tf.check.Text)
	}
	tf.std.SetText("0.30")
	tf.vat.SetText("8.1")
	want := "solar price            0.22 CHF/kWh + VAT 8.1 % = 0.23782 CHF/kWh\n" +
		"standard product       0.30 CHF/kWh (incl. VAT, HT/NT mix)\n" +
		"flat rate limit        80 % × 0.30 = 0.24 CHF/kWh\n" +
		"OK: the solar price 0.23782 CHF/kWh is within the limit of 0.24 CHF/kWh (the flat rate)"
	if tf.check.Text != want {
		t.Errorf("check:\n%s\nwant\n%s", tf.check.Text, want)
	}
	tf.solar.SetText("0.25")
	if !strings.Contains(tf.check.Text, "TOO HIGH: the solar price 0.27025 CHF/kWh exceeds the limit of 0.24 CHF/kWh") {
		t.Errorf("too high: %q", tf.check.Text)
	}
	tf.solar.SetText("0.21")
	tf.pattern.SetSelected("Mon–Fri 07–20, Sat 07–13")
	if tf.windows.Text != "mon-fri 07:00-20:00\nsat 07:00-13:00" {
		t.Errorf("pattern windows %q", tf.windows.Text)
	}
	tf.grid.SetText("")
	test.Tap(findButton(tf.Content(), "Save"))
	if msg := tf.fs.errorAt("grid_chf_kwh"); !strings.Contains(msg, "expected grid_ht_chf_kwh and grid_nt_chf_kwh") {
		t.Fatalf("HT windows without HT/NT prices: %q (general %q)", msg, tf.fs.general.Text)
	}
	tf.gridHT.SetText("0.32")
	tf.gridNT.SetText("0.24")
	test.Tap(findButton(tf.Content(), "Save"))
	got := storedSite(t, st, "birkenweg").Tariffs
	if len(got) != 2 || got[1].From != core.MustDate(2027, 1, 1) || got[1].Solar != 210_000 || got[1].Standard != 300_000 ||
		got[1].GridHT != 320_000 || len(got[1].HT) != 2 || got[1].VAT == nil || *got[1].VAT != 810 {
		t.Errorf("stored %+v (general %q)", got, tf.fs.general.Text)
	}
}

// TestLockedPeriodRefusesChange: with June 2026 billed, moving a tenant's
// move-in into June is refused, naming the period and how to unlock it; a
// move-out after June is accepted.
func TestLockedPeriodRefusesChange(t *testing.T) {
	st, site, clock := billingStore(t)
	lockJune(t, st, site, clock)
	m := newTestMaster(t, st, site, clock)
	tn := m.Tenants
	tn.unit.SetSelected("W02")
	tn.edit(1)
	tn.from.SetText("10.06.2026")
	test.Tap(findButton(tn.Content(), "Save"))
	msg := tn.fs.general.Text
	for _, want := range []string{"the tenancy of Ben Beispiel in unit W02", "billed period 01.06.2026 – 30.06.2026",
		"zevdesk unlock --site birkenweg --from 2026-06-01 --to 2026-06-30"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if got := storedSite(t, st, site.ID).Occupancies[1].From; got != core.MustDate(2026, 6, 16) {
		t.Errorf("stored move-in %s", got)
	}
	tn.from.SetText("16.06.2026")
	tn.to.SetText("31.12.2026")
	test.Tap(findButton(tn.Content(), "Save"))
	if got := storedSite(t, st, site.ID).Occupancies[1].To; got != core.MustDate(2026, 12, 31) {
		t.Errorf("a move-out after the billed period was refused: %s, %q", got, tn.fs.general.Text)
	}
	// A meter billed in June cannot be removed.
	u := m.Units
	u.meters.Select(3)
	test.Tap(findButton(u.Content(), "Remove meter"))
	if !strings.Contains(u.mfs.general.Text, "removing meter M-W02 changes the billed period 01.06.2026 – 30.06.2026") ||
		storedSite(t, st, site.ID).Meter("M-W02") == nil {
		t.Errorf("remove meter: %q", u.mfs.general.Text)
	}
	// The June tariff is billed: its price cannot change.
	tf := m.Tariffs
	tf.list.Select(0)
	tf.solar.SetText("0.19")
	test.Tap(findButton(tf.Content(), "Save"))
	if !strings.Contains(tf.fs.general.Text, "the tariff version from 01.01.2026 changes the billed period 01.06.2026 – 30.06.2026") {
		t.Errorf("tariff: %q", tf.fs.general.Text)
	}
}

// TestTenantImportPreviewThenStore: a tenant list is previewed (rows,
// changes, errors with their line) and stored only on request.
func TestTenantImportPreviewThenStore(t *testing.T) {
	st, site, clock := billingStore(t)
	m := newTestMaster(t, st, site, clock)
	tn := m.Tenants
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("unit,name,from,to\nW01,Anna Muster,2026-01-01,2026-08-31\nW09,Nobody,2026-09-01,\n"), 0o600)
	tn.previewFile(bad)
	if !strings.Contains(tn.previewText.Text, "nothing was stored") || !strings.Contains(tn.previewText.Text, "bad.csv:3") ||
		!strings.Contains(tn.previewText.Text, `unit "W09" does not exist`) {
		t.Errorf("error preview %q", tn.previewText.Text)
	}
	test.Tap(findButton(tn.Content(), "Store these changes"))
	if got := storedSite(t, st, site.ID); !reflect.DeepEqual(got.Occupancies, site.Occupancies) {
		t.Fatalf("a list with an error changed the site: %+v", got.Occupancies)
	}
	good := filepath.Join(dir, "tenants.csv")
	os.WriteFile(good, []byte("unit,name,from,to,language\nW01,Anna Muster,2026-01-01,2026-08-31,en\nW01,Emil Neu,2026-09-01,,de\nW02,Ben Beispiel,2026-06-16,,en\n"), 0o600)
	tn.previewFile(good)
	want := "3 rows: 1 new, 1 changed, 1 unchanged.\n" +
		"line 2: W01 Anna Muster 01.01.2026 – 31.08.2026: changed\n" +
		"line 3: W01 Emil Neu 01.09.2026 – open: new\n" +
		"line 4: W02 Ben Beispiel 16.06.2026 – open: unchanged\n"
	if tn.previewText.Text != want {
		t.Errorf("preview:\n%s\nwant\n%s", tn.previewText.Text, want)
	}
	if got := storedSite(t, st, site.ID); !reflect.DeepEqual(got.Occupancies, site.Occupancies) {
		t.Fatal("the preview stored something")
	}
	test.Tap(findButton(tn.Content(), "Store these changes"))
	got := storedSite(t, st, site.ID).Occupancies
	if len(got) != 3 || got[0].To != core.MustDate(2026, 8, 31) || got[2].Name != "Emil Neu" {
		t.Errorf("stored %+v", got)
	}
	if tn.status.Text != "Tenant list stored: 1 new, 1 changed, 1 unchanged." || tn.previewBox.Visible() {
		t.Errorf("status %q", tn.status.Text)
	}
}

// TestSitesExportImport: the Sites screen's export writes the site file
// `site export` writes, and its import reads it into another office.
func TestSitesExportImport(t *testing.T) {
	st, site, clock := billingStore(t)
	m := newTestMaster(t, st, site, clock)
	path := filepath.Join(t.TempDir(), "birkenweg.toml")
	m.Sites.exportTo(site, path)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	importer.WriteSite(&want, storedSite(t, st, site.ID))
	if !bytes.Equal(data, want.Bytes()) {
		t.Errorf("export differs from WriteSite:\n%s", data)
	}
	// Data complete up to 30 June (the store has June), no gateways, next
	// period July (billed monthly).
	s := m.Sites
	if got := []string{cellText(s.updateCell, 0, 1), cellText(s.updateCell, 0, 2), cellText(s.updateCell, 0, 3)}; !reflect.DeepEqual(got,
		[]string{"30.06.2026", "none paired", "June 2026 (01.06.2026 – 30.06.2026)"}) {
		t.Errorf("state %q", got)
	}
	other := openStore(t)
	m2 := newTestMaster(t, other, nil, clock)
	m2.Sites.importFrom(path)
	if got := storedSite(t, other, site.ID); !reflect.DeepEqual(got, storedSite(t, st, site.ID)) {
		t.Errorf("imported %+v", got)
	}
	if !strings.Contains(m2.Sites.status.Text, "Site birkenweg imported") {
		t.Errorf("status %q", m2.Sites.status.Text)
	}
}

// TestMainWindowMasterDataCreatesSite: in an office without sites, a site
// created in the Master data tab becomes the window's site, and a tenant
// saved there reaches the other tabs.
func TestMainWindowMasterDataCreatesSite(t *testing.T) {
	test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	st := openStore(t)
	m := newMainWindow(w, st, core.FixedClock(time.Date(2026, 7, 5, 10, 0, 0, 0, time.UTC)))
	m.gateways.browse, _ = fakeBrowse()
	t.Cleanup(m.gateways.Stop)
	if err := m.ShowSite(""); err != nil {
		t.Fatal(err)
	}
	m.tabs.SelectIndex(6) // Master data
	f := m.master.Sites.form
	m.master.Sites.onNew()
	f.id.SetText("linde")
	f.name.SetText("ZEV Linde")
	f.opName.SetText("Linde Verwaltung")
	test.Tap(f.save)
	if w.Title() != "zevdesk – ZEV Linde" || m.sites.Selected != "ZEV Linde (linde)" || m.site == nil || m.site.ID != "linde" {
		t.Fatalf("after creating: title %q, selector %q", w.Title(), m.sites.Selected)
	}
	u := m.master.Units
	u.editUnit(-1)
	u.uID.SetText("A")
	test.Tap(findButton(u.Content(), "Save unit"))
	if m.site.Unit("A") == nil || m.master.Tenants.unit.Selected != "A" {
		t.Errorf("the window's site has units %+v, tenants unit %q", m.site.Units, m.master.Tenants.unit.Selected)
	}
	// The site form edits the stored site, unit included: saving it again
	// keeps the unit (no tab works on an older copy).
	m.master.Sites.selected = 0
	m.master.Sites.onEdit()
	f.name.SetText("ZEV Linde Ost")
	test.Tap(f.save)
	if got := storedSite(t, st, "linde"); got.Name != "ZEV Linde Ost" || got.Unit("A") == nil {
		t.Errorf("stored %q with units %+v", got.Name, got.Units)
	}
}

// TestSiteFormHolidaysAndTimeZone: the site form sets the site's time zone
// and its holidays (typed the Swiss way, or canton Bern's added by the
// button), stored through ImportSite; with June 2026 billed, a holiday in
// June and another time zone are refused at their fields, naming the
// period, and nothing is stored.
func TestSiteFormHolidaysAndTimeZone(t *testing.T) {
	st, site, clock := billingStore(t)
	m := newTestMaster(t, st, site, clock)
	s := m.Sites
	s.selected = 0
	s.onEdit()
	f := s.form
	if f.zone.Selected != "Europe/Zurich" || f.holidays.Text != "" {
		t.Fatalf("form: zone %q, holidays %q", f.zone.Selected, f.holidays.Text)
	}
	test.Type(f.holidays, "25.12.2026\n1.8.2026\n\n2026-12-26\n32.12.2026")
	test.Tap(f.save)
	if msg := f.fs.errorAt("holidays"); msg != "line 5: expected a date such as 31.03.2026" {
		t.Fatalf("a bad date: %q (general %q)", msg, f.fs.general.Text)
	}
	f.holidays.SetText("25.12.2026\n1.8.2026\n\n2026-12-26\n25.12.2026")
	test.Tap(f.save)
	got := storedSite(t, st, site.ID)
	want := []core.Date{core.MustDate(2026, 8, 1), core.MustDate(2026, 12, 25), core.MustDate(2026, 12, 26)}
	if !reflect.DeepEqual(got.Holidays, want) || f.saved.Text != "Saved." {
		t.Fatalf("stored holidays %v (saved %q, general %q)", got.Holidays, f.saved.Text, f.fs.general.Text)
	}
	if f.holidays.Text != "01.08.2026\n25.12.2026\n26.12.2026" {
		t.Errorf("the form shows %q", f.holidays.Text)
	}
	// Canton Bern's holidays of this year (2026, by the clock), then of
	// the next.
	if f.addHolidays.Text != "Add the public holidays of canton Bern for 2026" {
		t.Fatalf("button %q", f.addHolidays.Text)
	}
	test.Tap(f.addHolidays)
	if f.addHolidays.Text != "Add the public holidays of canton Bern for 2027" {
		t.Errorf("after adding 2026: button %q", f.addHolidays.Text)
	}
	test.Tap(f.save)
	got = storedSite(t, st, site.ID)
	if len(got.Holidays) != 9 || got.Holidays[0] != core.MustDate(2026, 1, 1) || got.Holidays[2] != core.MustDate(2026, 4, 3) ||
		got.Holidays[8] != core.MustDate(2026, 12, 26) {
		t.Errorf("canton Bern 2026: stored %v", got.Holidays)
	}

	lockJune(t, st, site, clock)
	before := storedSite(t, st, site.ID)
	f.holidays.SetText(f.holidays.Text + "\n15.06.2026")
	test.Tap(f.save)
	msg := f.fs.errorAt("holidays")
	for _, want := range []string{"adding the holiday 15.06.2026", "billed period 01.06.2026 – 30.06.2026",
		"zevdesk unlock --site birkenweg --from 2026-06-01 --to 2026-06-30"} {
		if !strings.Contains(msg, want) {
			t.Errorf("holiday in June: %q lacks %q (general %q)", msg, want, f.fs.general.Text)
		}
	}
	f.holidays.SetText(holidayLines(before.Holidays))
	f.zone.SetSelected("Europe/Vaduz")
	test.Tap(f.save)
	if msg := f.fs.errorAt("timezone"); !strings.Contains(msg, "changing the time zone changes the billed period 01.06.2026 – 30.06.2026") {
		t.Errorf("another time zone: %q (general %q)", msg, f.fs.general.Text)
	}
	if got := storedSite(t, st, site.ID); !reflect.DeepEqual(got, before) {
		t.Errorf("a refused change was stored: %+v", got)
	}
	// A holiday after the billed period is stored.
	f.zone.SetSelected("Europe/Zurich")
	f.holidays.SetText(holidayLines(before.Holidays) + "\n31.12.2026")
	test.Tap(f.save)
	if got := storedSite(t, st, site.ID); len(got.Holidays) != 10 || f.saved.Text != "Saved." {
		t.Errorf("a holiday after June: stored %v, %q", got.Holidays, f.fs.general.Text)
	}
}

// TestTenantImportReplace: the Tenants screen's preview offers to replace
// the tenant list: the preview then names the stored tenancies the list
// leaves out, and storing removes them (as `import tenants --replace`);
// with June billed, a replace that removes a tenancy billed in June is
// refused and stores nothing.
func TestTenantImportReplace(t *testing.T) {
	st, site, clock := billingStore(t)
	m := newTestMaster(t, st, site, clock)
	tn := m.Tenants
	path := filepath.Join(t.TempDir(), "tenants.csv")
	os.WriteFile(path, []byte("unit,name,from,to,language\nW02,Ben Beispiel,2026-06-16,2026-12-31,en\nW02,Carla Rossi,2027-01-01,,it\n"), 0o600)
	tn.previewFile(path)
	if tn.mode.Selected != "Add and update" || strings.Contains(tn.previewText.Text, "removed") {
		t.Fatalf("default mode %q, preview %q", tn.mode.Selected, tn.previewText.Text)
	}
	if tn.formScroll.Visible() {
		t.Error("the tenancy form shows through the preview")
	}
	tn.mode.SetSelected("Replace the tenant list")
	want := "2 rows: 1 new, 1 changed, 0 unchanged.\n" +
		"1 stored tenancy is not in the list and is removed:\n" +
		"W01 Anna Muster 01.01.2026 – open: removed\n" +
		"line 2: W02 Ben Beispiel 16.06.2026 – 31.12.2026: changed\n" +
		"line 3: W02 Carla Rossi 01.01.2027 – open: new\n"
	if tn.previewText.Text != want {
		t.Errorf("replace preview:\n%s\nwant\n%s", tn.previewText.Text, want)
	}
	if got := storedSite(t, st, site.ID); !reflect.DeepEqual(got.Occupancies, site.Occupancies) {
		t.Fatal("the preview stored something")
	}
	test.Tap(findButton(tn.Content(), "Store these changes"))
	got := storedSite(t, st, site.ID).Occupancies
	if len(got) != 2 || got[0].Name != "Ben Beispiel" || got[0].To != core.MustDate(2026, 12, 31) || got[1].Name != "Carla Rossi" {
		t.Errorf("stored %+v (preview %q)", got, tn.previewText.Text)
	}
	if tn.status.Text != "Tenant list stored: 1 new, 1 changed, 0 unchanged, 1 removed." || !tn.formScroll.Visible() {
		t.Errorf("status %q, form shown again %v", tn.status.Text, tn.formScroll.Visible())
	}
	if audit := auditActions(t, st); !strings.HasSuffix(audit[len(audit)-1], "1 removed") {
		t.Errorf("audit %q", audit)
	}

	// Billed June: removing Ben's tenancy, billed in June, is refused.
	st2, site2, _ := billingStore(t)
	if err := st2.Update(func(tx store.Tx) error {
		return tx.LockPeriod(store.Lock{Site: site2.ID, Period: core.Period{From: core.MustDate(2026, 6, 1), To: core.MustDate(2026, 6, 30)}, Time: clock.Now()})
	}); err != nil {
		t.Fatal(err)
	}
	m2 := newTestMaster(t, st2, site2, clock)
	os.WriteFile(path, []byte("unit,name,from\nW01,Anna Muster,2026-01-01\n"), 0o600)
	m2.Tenants.previewFile(path)
	m2.Tenants.mode.SetSelected("Replace the tenant list")
	if !strings.Contains(m2.Tenants.previewText.Text, "W02 Ben Beispiel 16.06.2026 – open: removed") {
		t.Errorf("preview %q", m2.Tenants.previewText.Text)
	}
	test.Tap(findButton(m2.Tenants.Content(), "Store these changes"))
	if msg := m2.Tenants.previewText.Text; !strings.Contains(msg, "removing the tenancy of Ben Beispiel in unit W02 changes the billed period 01.06.2026 – 30.06.2026") {
		t.Errorf("locked: %q", msg)
	}
	if got := storedSite(t, st2, site2.ID); !reflect.DeepEqual(got.Occupancies, site2.Occupancies) {
		t.Errorf("a refused replace stored %+v", got.Occupancies)
	}
}

// TestSiteFormKeepsHolidayOrder: a site file's holidays in its own order,
// saved from the form with another change, stay as they were: the audit
// log names only what the clerk changed.
func TestSiteFormKeepsHolidayOrder(t *testing.T) {
	st, site, clock := billingStore(t)
	site.Holidays = []core.Date{core.MustDate(2026, 8, 1), core.MustDate(2026, 1, 1)}
	if err := st.Update(func(tx store.Tx) error { return tx.PutSite(site) }); err != nil {
		t.Fatal(err)
	}
	m := newTestMaster(t, st, site, clock)
	m.Sites.selected = 0
	m.Sites.onEdit()
	f := m.Sites.form
	if f.holidays.Text != "01.08.2026\n01.01.2026" {
		t.Errorf("holidays shown %q", f.holidays.Text)
	}
	f.name.SetText("ZEV Birkenweg")
	test.Tap(f.save)
	if audit := auditActions(t, st); len(audit) != 1 || audit[0] != "site.update name changed" {
		t.Errorf("audit %q (general %q)", audit, f.fs.general.Text)
	}
}
