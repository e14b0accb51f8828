package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/zevdesk/zevdesk/ingest/importer"
)

func init() {
	Register(Command{
		Name:    "import preview",
		Args:    "[--site ID] FILE...",
		Summary: "say what importing files would store (readings, SDAT-CH, ESL, EV sessions, tenant lists; the kind told from the file), storing nothing",
		Run:     runImportPreview,
	})
}

// runImportPreview reads and checks each file as the window's import does
// (importer.DetectFileKind, importer.Prepare) and prints its preview; a bad
// file is the importer's error, naming its line.
func runImportPreview(env *Env, args []string) error {
	const cmd = "import preview"
	fs := NewFlagSet(cmd)
	siteID := fs.String("site", "", "the site the files would go to (needed when the database has several)")
	files, err := ParseFlags(cmd, fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return Usagef(cmd, "expected one or more files to preview")
	}
	st, site, err := openSite(env, cmd, *siteID)
	if err != nil {
		return err
	}
	for _, f := range files {
		data, err := os.ReadFile(env.Path(f))
		if err != nil {
			return fmt.Errorf("reading %s: %w", f, err)
		}
		p, err := importer.Prepare(context.Background(), st, site, importer.DetectFileKind(f, data), f, data, nil)
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, p.Summary(site.Location()))
	}
	return nil
}
