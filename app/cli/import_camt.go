package cli

import (
	"fmt"
	"path/filepath"

	"github.com/zevdesk/zevdesk/ingest/importer"
)

func init() {
	Register(Command{
		Name: "import camt",
		Args: "FILE...",
		Summary: "import bank payments (ISO 20022 camt.054 or camt.053, versions 04 and 08) and match them to invoices " +
			"by QR or creditor reference, else amount and debtor; one transaction per file, nothing booked twice (docs/collection.md)",
		Run: runImportCamt,
	})
}

func runImportCamt(env *Env, args []string) error {
	const cmd = "import camt"
	fs := NewFlagSet(cmd)
	files, err := ParseFlags(cmd, fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return Usagef(cmd, "no files given")
	}
	// Every file is read before anything is booked: a bad file stops the
	// import with nothing booked.
	camts := make([]*importer.Camt, len(files))
	for i, f := range files {
		if camts[i], err = readCamt(env, f); err != nil {
			return fmt.Errorf("%w (nothing was booked)", err)
		}
	}
	st, err := env.Store()
	if err != nil {
		return err
	}
	for i, f := range files {
		c := camts[i]
		res, err := importer.ImportCamt(st, f, c, actor(), env.Clock.Now())
		if err != nil {
			if i > 0 {
				return fmt.Errorf("%w (the files before it were booked)", err)
			}
			return err
		}
		fmt.Fprintf(env.Stdout, "%s (%s): %d payments booked: %d by reference, %d by amount and debtor, %d unassigned; "+
			"%d already booked", f, c.Message, len(res.New), res.ByReference, res.ByAmount, res.Unassigned, len(res.Duplicates))
		if n := c.Debits + c.Reversals + c.NotBooked; n > 0 {
			fmt.Fprintf(env.Stdout, "; left out: %d debits, %d reversals, %d not booked", c.Debits, c.Reversals, c.NotBooked)
		}
		fmt.Fprintln(env.Stdout)
		for _, p := range res.New {
			if p.Unassigned() != 0 || p.Note != "" {
				fmt.Fprintf(env.Stdout, "  %s  CHF %s  %s: %s\n", p.ID, tableCHF(p.Unassigned()), orDash(p.Debtor), p.Note)
			}
		}
	}
	return nil
}

// readCamt reads the camt file path names (resolved by env.Path, so that a
// command run through the app reads the caller's file).
func readCamt(env *Env, path string) (*importer.Camt, error) {
	f, err := env.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return importer.ParseCamt(filepath.Base(path), f)
}
