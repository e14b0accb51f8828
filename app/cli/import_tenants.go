package cli

import (
	"fmt"

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
	const cmd = "import tenants"
	fs := NewFlagSet(cmd)
	siteID := fs.String("site", "", "the site the tenants belong to (needed when the database has several)")
	replace := fs.Bool("replace", false, "the file is the complete list: remove stored tenancies it does not name")
	files, err := ParseFlags(cmd, fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return Usagef(cmd, "expected one or more tenant lists (XLSX or CSV)")
	}
	st, err := env.Store()
	if err != nil {
		return err
	}
	site, err := chooseSite(st, cmd, *siteID)
	if err != nil {
		return err
	}
	// Read every file and check it against the site as the files before it
	// leave it, before storing any.
	tls := make([]*importer.TenantList, len(files))
	check := site
	for i, f := range files {
		if tls[i], err = importer.ReadTenantsFile(f); err != nil {
			return err
		}
		if check, _, err = importer.MergeTenants(check, tls[i], *replace); err != nil {
			return err
		}
	}
	for _, tl := range tls {
		rep, err := importer.ImportTenants(st, site.ID, tl, *replace, actor(), env.Clock.Now())
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, rep.Summary())
	}
	return nil
}
