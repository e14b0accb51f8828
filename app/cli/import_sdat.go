package cli

import (
	"fmt"
	"slices"

	"github.com/zevdesk/zevdesk/core/vee"
	"github.com/zevdesk/zevdesk/ingest/importer"
)

func init() {
	Register(Command{
		Name:    "import sdat",
		Args:    "[--site ID] [--meter ID] FILE...",
		Summary: "import SDAT-CH documents of the grid operator, one transaction per file (docs/formats.md)",
		Run:     runImportSDAT,
	})
}

func runImportSDAT(env *Env, args []string) error {
	const cmd = "import sdat"
	fs := NewFlagSet(cmd)
	siteID := fs.String("site", "", "the site the documents belong to (needed when the database has several)")
	meter := fs.String("meter", "", "the meter that takes every metering point of the files (default: by the meters' metering_point)")
	files, err := ParseFlags(cmd, fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return Usagef(cmd, "expected one or more SDAT-CH documents (XML)")
	}
	st, err := env.Store()
	if err != nil {
		return err
	}
	site, err := chooseSite(st, cmd, *siteID)
	if err != nil {
		return err
	}
	if *meter != "" && site.Meter(*meter) == nil {
		return Usagef(cmd, "--meter %s: site %s has no such meter", *meter, site.ID)
	}
	// Read and map every file before storing any; store them oldest first,
	// so that within one command a correction always comes after what it
	// corrects, whatever the order on the command line.
	ds := make([]*importer.SDATDelivery, len(files))
	for i, f := range files {
		doc, err := importer.ReadSDATFile(f)
		if err != nil {
			return err
		}
		if ds[i], err = importer.ResolveSDAT(doc, site, *meter); err != nil {
			return err
		}
	}
	slices.SortStableFunc(ds, func(a, b *importer.SDATDelivery) int { return a.Doc.Creation.Compare(b.Doc.Creation) })
	opt := vee.Options{Clock: env.Clock, Actor: actor()}
	for _, d := range ds {
		rep, err := importer.ImportSDAT(st, site, d, opt)
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
