package cli

import (
	"errors"
	"flag"
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
	return runImport(env, args, importCommand{
		name:     "import readings",
		siteHelp: "the site the readings belong to (needed when the database has several)",
		files:    "readings files (CSV or XLSX)",
		read: func(_ store.Store, site *core.Site, files []string) ([]importStep, error) {
			opt := vee.Options{Clock: env.Clock, Actor: actor()}
			steps := make([]importStep, len(files))
			for i, f := range files {
				rd, err := env.readReadings(f, site)
				if err != nil {
					return nil, err
				}
				steps[i] = func(st store.Store) (importResult, error) {
					rep, err := importer.ImportReadings(st, site, rd, opt)
					if err != nil {
						return importResult{}, err
					}
					return importResult{rep.Summary(), rep.File, rep.Flags, rep.Conflicts}, nil
				}
			}
			return steps, nil
		},
	})
}

// importCommand is what sets one import command apart; runImport does the
// rest, the same for all of them.
type importCommand struct {
	name     string
	siteHelp string // help of --site
	files    string // what FILE... are, for the usage error when there is none
	// flags, if set, adds the command's own flags before the arguments are
	// parsed.
	flags func(fs *flag.FlagSet)
	// read reads every file and checks it against the site before any is
	// stored, so that a bad file found late does not leave the earlier ones
	// half of an intended whole. It returns the steps that store the files,
	// one transaction each, in the order they are to run.
	read func(st store.Store, site *core.Site, files []string) ([]importStep, error)
}

// importStep stores one file and says what to print about it.
type importStep func(st store.Store) (importResult, error)

// importResult is what an import command prints about one stored file.
type importResult struct {
	summary   string
	file      string
	flags     []store.Flag                // listed up to maxListed
	conflicts []importer.ReadingsConflict // warned about on stderr
}

// runImport parses --site and the files, picks the site, reads all files,
// then stores them one transaction each and prints a summary per file.
func runImport(env *Env, args []string, c importCommand) error {
	fs := NewFlagSet(c.name)
	siteID := fs.String("site", "", c.siteHelp)
	if c.flags != nil {
		c.flags(fs)
	}
	files, err := ParseFlags(c.name, fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return Usagef(c.name, "expected one or more %s", c.files)
	}
	st, site, err := openSite(env, c.name, *siteID)
	if err != nil {
		return err
	}
	steps, err := c.read(st, site, files)
	if err != nil {
		return err
	}
	for _, step := range steps {
		res, err := step(st)
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, res.summary)
		listImported(env, res)
	}
	return nil
}

// listImported prints the first flags and conflicts of an import.
func listImported(env *Env, res importResult) {
	for i, f := range res.flags {
		if i == maxListed {
			fmt.Fprintf(env.Stdout, "  ... and %d more flags (zevdesk quality lists them)\n", len(res.flags)-maxListed)
			break
		}
		fmt.Fprintf(env.Stdout, "  flag %s %s %s: %s\n", f.Meter, f.Slot, f.Kind, f.Reason)
	}
	if n := len(res.conflicts); n > 0 {
		fmt.Fprintf(env.Stderr, "warning: %s: %d values differ from the stored ones; the stored values were kept:\n", res.file, n)
		for i, c := range res.conflicts {
			if i == maxListed {
				fmt.Fprintf(env.Stderr, "  ... and %d more\n", n-maxListed)
				break
			}
			fmt.Fprintf(env.Stderr, "  %s\n", c)
		}
	}
}

// openSite opens the database and picks the site named by id, or its only
// site.
func openSite(env *Env, cmd, id string) (store.Store, *core.Site, error) {
	st, err := env.Store()
	if err != nil {
		return nil, nil, err
	}
	site, err := chooseSite(st, cmd, id)
	if err != nil {
		return nil, nil, err
	}
	return st, site, nil
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
		site, err = siteByID(tx, id)
		return err
	})
	return site, err
}

// siteByID reads site id; an unknown id is one line naming the sites the
// database has, the same for every command.
func siteByID(tx store.Tx, id string) (*core.Site, error) {
	site, err := tx.Site(id)
	if errors.Is(err, store.ErrNotFound) {
		ids, lerr := tx.SiteIDs()
		if lerr != nil {
			return nil, fmt.Errorf("listing sites: %w", lerr)
		}
		return nil, fmt.Errorf("no site %q: the database has %s", id, siteList(ids))
	}
	if err != nil {
		return nil, fmt.Errorf("reading site %s: %w", id, err)
	}
	return site, nil
}

func siteList(ids []string) string {
	if len(ids) == 0 {
		return "no site"
	}
	return "the sites " + strings.Join(ids, ", ")
}
