package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/vee"
	"github.com/zevdesk/zevdesk/ingest/importer"
)

func init() {
	Register(Command{
		Name:    "import readings",
		Args:    "[--site ID] FILE...",
		Summary: "import readings CSV or XLSX files, one transaction per file (docs/formats.md)",
		Run:     runImportReadings,
	})
}

// maxListed is how many conflicts and flags a file's report lists.
const maxListed = 5

func runImportReadings(env *Env, args []string) error {
	const cmd = "import readings"
	fs := NewFlagSet(cmd)
	siteID := fs.String("site", "", "the site the readings belong to (needed when the database has several)")
	files, err := ParseFlags(cmd, fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return Usagef(cmd, "expected one or more readings files (CSV or XLSX)")
	}
	st, err := env.Store()
	if err != nil {
		return err
	}
	site, err := chooseSite(st, cmd, *siteID)
	if err != nil {
		return err
	}
	// Read every file before storing any, so that a bad file found late
	// does not leave the earlier ones half of an intended whole.
	rds := make([]*importer.Readings, len(files))
	for i, f := range files {
		if rds[i], err = importer.ReadReadingsFile(f, site); err != nil {
			return err
		}
	}
	opt := vee.Options{Clock: env.Clock, Actor: actor()}
	for _, rd := range rds {
		rep, err := importer.ImportReadings(st, site, rd, opt)
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, rep.Summary())
		for i, f := range rep.Flags {
			if i == maxListed {
				fmt.Fprintf(env.Stdout, "  ... and %d more flags (zevdesk quality lists them)\n", len(rep.Flags)-maxListed)
				break
			}
			fmt.Fprintf(env.Stdout, "  flag %s %s %s: %s\n", f.Meter, f.Slot, f.Kind, f.Reason)
		}
		if n := len(rep.Conflicts); n > 0 {
			fmt.Fprintf(env.Stderr, "warning: %s: %d values differ from the stored ones; the stored values were kept:\n", rep.File, n)
			for i, c := range rep.Conflicts {
				if i == maxListed {
					fmt.Fprintf(env.Stderr, "  ... and %d more\n", n-maxListed)
					break
				}
				fmt.Fprintf(env.Stderr, "  %s\n", c)
			}
		}
	}
	return nil
}

// chooseSite returns the site named by id, or the only site of the database.
func chooseSite(st store.Store, cmd, id string) (*core.Site, error) {
	var site *core.Site
	err := st.View(func(tx store.Tx) error {
		ids, err := tx.SiteIDs()
		if err != nil {
			return fmt.Errorf("listing sites: %w", err)
		}
		if id == "" {
			switch len(ids) {
			case 0:
				return errors.New("the database has no site: create one first with zevdesk site import FILE.toml")
			case 1:
				id = ids[0]
			default:
				return Usagef(cmd, "--site is required: the database has the sites %s", strings.Join(ids, ", "))
			}
		}
		site, err = tx.Site(id)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no site %q: the database has %s", id, siteList(ids))
		}
		if err != nil {
			return fmt.Errorf("reading site %s: %w", id, err)
		}
		return nil
	})
	return site, err
}

func siteList(ids []string) string {
	if len(ids) == 0 {
		return "no site"
	}
	return "the sites " + strings.Join(ids, ", ")
}
