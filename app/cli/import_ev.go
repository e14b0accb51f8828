package cli

import (
	"fmt"

	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/ingest/importer"
)

func init() {
	Register(Command{
		Name:    "import ev",
		Args:    "[--site ID] FILE...",
		Summary: "import EV charging sessions (CSV or XLSX), one transaction per file (docs/formats.md)",
		Run:     runImportEV,
	})
}

func runImportEV(env *Env, args []string) error {
	const cmd = "import ev"
	fs := NewFlagSet(cmd)
	siteID := fs.String("site", "", "the site of the chargers (needed when the database has several)")
	files, err := ParseFlags(cmd, fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return Usagef(cmd, "expected one or more EV sessions files (CSV or XLSX)")
	}
	st, err := env.Store()
	if err != nil {
		return err
	}
	site, err := chooseSite(st, cmd, *siteID)
	if err != nil {
		return err
	}
	// The card table: cards known from stored sessions, then from each
	// file for the files after it.
	var cards importer.EVCards
	err = st.View(func(tx store.Tx) error {
		cards, err = importer.StoredEVCards(tx, site.ID)
		return err
	})
	if err != nil {
		return err
	}
	evs := make([]*importer.EVSessions, len(files))
	for i, f := range files {
		if evs[i], err = importer.ReadEVFile(f, site, cards); err != nil {
			return err
		}
		cards.Add(evs[i])
	}
	for _, ev := range evs {
		rep, err := importer.ImportEV(st, site, ev, actor(), env.Clock.Now())
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, rep.Summary())
	}
	return nil
}
