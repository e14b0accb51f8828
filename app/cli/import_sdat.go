package cli

import (
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/vee"
	"github.com/zevdesk/zevdesk/ingest/importer"
)

func init() {
	Register(Command{
		Name:    "import sdat",
		Args:    "[--site ID] [--meter ID] FILE...",
		Summary: "import SDAT-CH documents (and ESL register exports) of the grid operator, one transaction per file (docs/formats.md)",
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
	var ds []*importer.SDATDelivery
	var esl []*importer.ESLDelivery
	for _, f := range files {
		isESL, err := sdatIsESL(f)
		if err != nil {
			return err
		}
		if isESL {
			exp, err := importer.ReadESLFile(f)
			if err != nil {
				return err
			}
			d, err := importer.ResolveESL(exp, site, *meter)
			if err != nil {
				return err
			}
			esl = append(esl, d)
			continue
		}
		doc, err := importer.ReadSDATFile(f)
		if err != nil {
			return err
		}
		d, err := importer.ResolveSDAT(doc, site, *meter)
		if err != nil {
			return err
		}
		ds = append(ds, d)
	}
	slices.SortStableFunc(ds, func(a, b *importer.SDATDelivery) int { return a.Doc.Creation.Compare(b.Doc.Creation) })
	opt := vee.Options{Clock: env.Clock, Actor: actor()}
	for _, d := range ds {
		rep, err := importer.ImportSDAT(st, site, d, opt)
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, rep.Summary())
		sdatList(env, rep.File, rep.Flags, rep.Conflicts)
	}
	for _, d := range esl {
		rep, err := importer.ImportESL(st, site, d, opt)
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, rep.Summary())
		sdatList(env, rep.File, rep.Flags, rep.Conflicts)
	}
	return nil
}

// sdatIsESL reports whether the file at path is an ESL register export
// rather than an SDAT-CH document, by its first bytes.
func sdatIsESL(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, 1024)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return false, fmt.Errorf("reading %s: %w", path, err)
	}
	return importer.IsESL(head[:n]), nil
}

// sdatList prints the first flags and conflicts of an import.
func sdatList(env *Env, file string, flags []store.Flag, conflicts []importer.ReadingsConflict) {
	for i, f := range flags {
		if i == maxListed {
			fmt.Fprintf(env.Stdout, "  ... and %d more flags (zevdesk quality lists them)\n", len(flags)-maxListed)
			break
		}
		fmt.Fprintf(env.Stdout, "  flag %s %s %s: %s\n", f.Meter, f.Slot, f.Kind, f.Reason)
	}
	if n := len(conflicts); n > 0 {
		fmt.Fprintf(env.Stderr, "warning: %s: %d values differ from the stored ones; the stored values were kept:\n", file, n)
		for i, c := range conflicts {
			if i == maxListed {
				fmt.Fprintf(env.Stderr, "  ... and %d more\n", n-maxListed)
				break
			}
			fmt.Fprintf(env.Stderr, "  %s\n", c)
		}
	}
}
