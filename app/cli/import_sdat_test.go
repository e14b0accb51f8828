package cli

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/shareddata"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
)

const sdatCLIPoint = "CH100790123450000000D011000800065"

// sdatOffice returns a database whose grid meter has the real deliveries'
// metering point.
func sdatOffice(t *testing.T) (db, dir string) {
	t.Helper()
	return impOfficeWith(t, strings.Replace(impSiteTOML, "id = \"GRID\"\nrole = \"grid\"", "id = \"GRID\"\nrole = \"grid\"\nmetering_point = \""+sdatCLIPoint+"\"", 1))
}

// sdatStoredSum sums a channel of GRID over [from, to).
func sdatStoredSum(t *testing.T, db string, ch store.Channel, from, to time.Time) (core.Energy, int) {
	t.Helper()
	st, err := bolt.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var s store.Series
	err = st.View(func(tx store.Tx) error {
		return tx.ReadIntervals(store.SeriesID{Site: "linde", Meter: "GRID", Channel: ch}, core.SlotOf(from), core.SlotOf(to), &s)
	})
	if err != nil {
		t.Fatal(err)
	}
	var sum core.Energy
	n := 0
	for i, q := range s.Quality {
		if q != store.Missing {
			sum += s.Energy[i]
			n++
		}
	}
	return sum, n
}

// sdatTextSum adds up a document's Volume elements as decimal text.
func sdatTextSum(t *testing.T, path string) core.Energy {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sum core.Energy
	for _, m := range regexp.MustCompile(`<rsm:Volume>([^<]*)<`).FindAllStringSubmatch(string(raw), -1) {
		e, err := core.ParseKWh(m[1])
		if err != nil {
			t.Fatal(err)
		}
		sum += e
	}
	return sum
}

func TestImportSDATCommand(t *testing.T) {
	db, _ := sdatOffice(t)
	day := shareddata.Path(t, "sdat-ch/20190313_093127_12X-0000001216-O_E66_12X-LIPPUNEREM-T_ESLEVU121963_-279617263.xml")
	feedIn := shareddata.Path(t, "sdat-ch/20190313_093127_12X-0000001216-O_E66_12X-LIPPUNEREM-T_ESLEVU121964_42591648.xml")
	twoWeeks := shareddata.Path(t, "sdat-ch/20190314_093200_12X-0000001216-O_E66_12X-LIPPUNEREM-T_ESLEVU122094_678352821.xml")

	// The 13-day document (created a day later) is given first; the day's
	// document is stored first all the same, and the later one, which
	// covers the same day, is its corrected delivery.
	code, out, errs := run(t, db, "import", "sdat", twoWeeks, day, feedIn)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var summaries []string
	for _, l := range lines {
		if !strings.HasPrefix(l, "  ") {
			summaries = append(summaries, l)
		}
	}
	want := []string{
		day + ": document eslevu121963_BR2294_ID742 of 2019-03-13T08:31:00Z: 96 observations, 96 values written, 0 unchanged, 0 replaced, 0 conflicts,",
		feedIn + ": document eslevu121964_BR2294_ID735 of 2019-03-13T08:31:00Z: 96 observations, 96 values written, 0 unchanged, 0 replaced, 0 conflicts,",
		twoWeeks + ": document eslevu122094_BR2294_ID742 of 2019-03-14T08:32:00Z: 1248 observations, 1152 values written, 96 unchanged, 0 replaced, 0 conflicts,",
	}
	if len(summaries) != len(want) {
		t.Fatalf("stdout:\n%s", out)
	}
	for i := range want {
		if !strings.HasPrefix(summaries[i], want[i]) {
			t.Errorf("line %d:\n got %s\nwant %s ...", i, summaries[i], want[i])
		}
	}
	from := time.Date(2019, 2, 28, 23, 0, 0, 0, time.UTC)
	to := time.Date(2019, 3, 13, 23, 0, 0, 0, time.UTC)
	if sum, n := sdatStoredSum(t, db, store.Import, from, to); n != 1248 || sum != sdatTextSum(t, twoWeeks) {
		t.Errorf("stored import %s in %d intervals; the document has %s in 1248", sum, n, sdatTextSum(t, twoWeeks))
	}
	if sum, n := sdatStoredSum(t, db, store.Export, from, to); n != 96 || sum != sdatTextSum(t, feedIn) {
		t.Errorf("stored export %s in %d intervals; the document has %s in 96", sum, n, sdatTextSum(t, feedIn))
	}

	// Again: nothing written.
	code, out, _ = run(t, db, "import", "sdat", day)
	if code != 0 || !strings.Contains(out, "96 observations, 0 values written, 96 unchanged, 0 replaced") {
		t.Errorf("repeat: exit %d, %s", code, out)
	}
}

func TestImportSDATCommandErrors(t *testing.T) {
	db, dir := sdatOffice(t)
	good := shareddata.Path(t, "sdat-ch/20190313_093127_12X-0000001216-O_E66_12X-LIPPUNEREM-T_ESLEVU121963_-279617263.xml")
	raw, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	bad := impWriteFile(t, dir, "bad.xml", strings.Replace(string(raw), "<rsm:Volume>2.700</rsm:Volume>", "<rsm:Volume>2,700</rsm:Volume>", 1))
	// A good file before a bad one: nothing is written.
	code, out, errs := run(t, db, "import", "sdat", good, bad)
	if want := "zevdesk import sdat: " + bad + `:70: MeteringData[1]/Observation[2]/Volume: expected a decimal number of kWh of zero or more with at most 6 decimals, such as 2.700, got "2,700"` + "\n"; code != 1 || out != "" || errs != want {
		t.Errorf("exit %d, stdout %q\nstderr %q\nwant   %q", code, out, errs, want)
	}
	if _, n := sdatStoredSum(t, db, store.Import, time.Date(2019, 3, 11, 0, 0, 0, 0, time.UTC), time.Date(2019, 3, 14, 0, 0, 0, 0, time.UTC)); n != 0 {
		t.Errorf("%d intervals written", n)
	}
	// A point no meter has, and the --meter way out.
	other := impWriteFile(t, dir, "other.xml", strings.ReplaceAll(string(raw), sdatCLIPoint, "CH100790123450000000D011000800099"))
	code, _, errs = run(t, db, "import", "sdat", other)
	if want := "zevdesk import sdat: " + other + `:43: MeteringData[1]: unknown metering point CH100790123450000000D011000800099: no meter of site linde has metering_point = "CH100790123450000000D011000800099" (set it in the site file, or name the meter with --meter)` + "\n"; code != 1 || errs != want {
		t.Errorf("unknown point: exit %d\nstderr %q\nwant   %q", code, errs, want)
	}
	code, out, errs = run(t, db, "import", "sdat", "--meter", "MA", other)
	if code != 0 || !strings.Contains(out, "96 values written") {
		t.Errorf("--meter MA: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	code, _, errs = run(t, db, "import", "sdat", "--meter", "XX", other)
	if code != 1 || !strings.Contains(errs, "--meter XX: site linde has no such meter") {
		t.Errorf("--meter XX: exit %d, stderr %q", code, errs)
	}
	code, _, errs = run(t, db, "import", "sdat")
	if code != 1 || !strings.Contains(errs, "expected one or more SDAT-CH documents") {
		t.Errorf("no file: exit %d, stderr %q", code, errs)
	}
}

// TestImportSDATCommandESL: an ESL register export given to import sdat is
// read as register readings of the meter.
func TestImportSDATCommandESL(t *testing.T) {
	db, _ := sdatOffice(t)
	esl := shareddata.Path(t, "sdat-ch/esl/EdmRegisterWertExport_20191003_eslevu_20191003051042.xml")
	code, _, errs := run(t, db, "import", "sdat", esl)
	if want := "zevdesk import sdat: " + esl + `:4: Meter 38157930: unknown meter number 38157930: no meter of site linde has metering_point = "38157930" (set it in the site file, or name the meter with --meter)` + "\n"; code != 1 || errs != want {
		t.Errorf("exit %d\nstderr %q\nwant   %q", code, errs, want)
	}
	code, out, errs := run(t, db, "import", "sdat", "--meter", "GRID", esl)
	// Three readings, at the ends of July, August and September 2019: the
	// 61 days between them are estimated, on both channels.
	if want := esl + ": 3 register readings, 11712 values written, 0 unchanged, 0 replaced, 11712 estimated, 0 conflicts, 0 flags\n"; code != 0 || out != want || errs != "" {
		t.Errorf("exit %d, stderr %q\nstdout %q\nwant   %q", code, errs, out, want)
	}
	from := time.Date(2019, 6, 30, 22, 0, 0, 0, time.UTC)
	to := time.Date(2019, 9, 30, 22, 0, 0, 0, time.UTC)
	if sum, n := sdatStoredSum(t, db, store.Import, from, to); n != 61*96 || sum != (8109500+20730800-7579900-19871200)*core.Wh {
		t.Errorf("import %s in %d intervals", sum, n)
	}
}
