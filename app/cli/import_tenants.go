package cli

import (
	"flag"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/ingest/importer"
)

func init() {
	Register(Command{
		Name:    "import tenants",
		Args:    "[--site ID] [--replace] FILE...",
		Summary: "merge tenant lists (XLSX or CSV) into a site's tenancies, one transaction per file (docs/formats.md)",
		Run:     runImportTenants,
	})
}

func runImportTenants(env *Env, args []string) error {
	var replace *bool
	return runImport(env, args, importCommand{
		name:     "import tenants",
		siteHelp: "the site the tenants belong to (needed when the database has several)",
		files:    "tenant lists (XLSX or CSV)",
		flags: func(fs *flag.FlagSet) {
			replace = fs.Bool("replace", false, "the file is the complete list: remove stored tenancies it does not name")
		},
		read: func(_ store.Store, site *core.Site, files []string) ([]importStep, error) {
			// Each file is checked against the site as the files before it
			// leave it.
			steps := make([]importStep, len(files))
			check := site
			for i, f := range files {
				tl, err := env.readTenants(f)
				if err != nil {
					return nil, err
				}
				if check, _, err = importer.MergeTenants(check, tl, *replace); err != nil {
					return nil, err
				}
				steps[i] = func(st store.Store) (importResult, error) {
					rep, err := importer.ImportTenants(st, site.ID, tl, *replace, actor(), env.Clock.Now())
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
