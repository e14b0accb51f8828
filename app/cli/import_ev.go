package cli

import (
	"github.com/zevdesk/zevdesk/core"
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
	return runImport(env, args, importCommand{
		name:     "import ev",
		siteHelp: "the site of the chargers (needed when the database has several)",
		files:    "EV sessions files (CSV or XLSX)",
		read: func(st store.Store, site *core.Site, files []string) ([]importStep, error) {
			// The card table: cards known from stored sessions, then from
			// each file for the files after it.
			var cards importer.EVCards
			err := st.View(func(tx store.Tx) error {
				var err error
				cards, err = importer.StoredEVCards(tx, site.ID)
				return err
			})
			if err != nil {
				return nil, err
			}
			steps := make([]importStep, len(files))
			for i, f := range files {
				ev, err := env.readEV(f, site, cards)
				if err != nil {
					return nil, err
				}
				cards.Add(ev)
				steps[i] = func(st store.Store) (importResult, error) {
					rep, err := importer.ImportEV(st, site, ev, actor(), env.Clock.Now())
					if err != nil {
						return importResult{}, err
					}
					return importResult{summary: rep.Summary()}, nil
				}
			}
			return steps, nil
		},
	})
}
