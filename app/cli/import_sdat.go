package cli

import (
	"flag"
	"fmt"
	"io"
	"slices"

	"github.com/zevdesk/zevdesk/core"
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
	var meter *string
	return runImport(env, args, importCommand{
		name:     cmd,
		siteHelp: "the site the documents belong to (needed when the database has several)",
		files:    "SDAT-CH documents (XML)",
		flags: func(fs *flag.FlagSet) {
			meter = fs.String("meter", "", "the meter that takes every metering point of the files (default: by the meters' metering_point)")
		},
		read: func(_ store.Store, site *core.Site, files []string) ([]importStep, error) {
			if *meter != "" && site.Meter(*meter) == nil {
				return nil, Usagef(cmd, "--meter %s: site %s has no such meter", *meter, site.ID)
			}
			// Map every file before storing any; store them oldest first, so
			// that within one command a correction always comes after what
			// it corrects, whatever the order on the command line.
			var ds []*importer.SDATDelivery
			var esl []*importer.ESLDelivery
			for _, f := range files {
				isESL, err := sdatIsESL(env, f)
				if err != nil {
					return nil, err
				}
				if isESL {
					exp, err := env.readESL(f)
					if err != nil {
						return nil, err
					}
					d, err := importer.ResolveESL(exp, site, *meter)
					if err != nil {
						return nil, err
					}
					esl = append(esl, d)
					continue
				}
				doc, err := env.readSDAT(f)
				if err != nil {
					return nil, err
				}
				d, err := importer.ResolveSDAT(doc, site, *meter)
				if err != nil {
					return nil, err
				}
				ds = append(ds, d)
			}
			slices.SortStableFunc(ds, func(a, b *importer.SDATDelivery) int { return a.Doc.Creation.Compare(b.Doc.Creation) })
			opt := vee.Options{Clock: env.Clock, Actor: actor()}
			var steps []importStep
			for _, d := range ds {
				steps = append(steps, func(st store.Store) (importResult, error) {
					rep, err := importer.ImportSDAT(st, site, d, opt)
					if err != nil {
						return importResult{}, err
					}
					return importResult{rep.Summary(), rep.File, rep.Flags, rep.Conflicts}, nil
				})
			}
			for _, d := range esl {
				steps = append(steps, func(st store.Store) (importResult, error) {
					rep, err := importer.ImportESL(st, site, d, opt)
					if err != nil {
						return importResult{}, err
					}
					return importResult{rep.Summary(), rep.File, rep.Flags, rep.Conflicts}, nil
				})
			}
			return steps, nil
		},
	})
}

// sdatIsESL reports whether the file at path is an ESL register export
// rather than an SDAT-CH document, by its first bytes.
func sdatIsESL(env *Env, path string) (bool, error) {
	f, err := env.Open(path)
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
