package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/user"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/ingest/importer"
)

func init() {
	Register(Command{
		Name:    "site import",
		Args:    "FILE.toml",
		Summary: "create or update a site from a site file (docs/site-file.md)",
		Run:     runSiteImport,
	})
	Register(Command{
		Name:    "site export",
		Args:    "--site ID [--out FILE]",
		Summary: "write a stored site as a site file that site import reads back unchanged",
		Run:     runSiteExport,
	})
}

func runSiteExport(env *Env, args []string) error {
	const cmd = "site export"
	fs := NewFlagSet(cmd)
	siteID := fs.String("site", "", "site id")
	out := fs.String("out", "", "file to write (standard output without it)")
	pos, err := ParseFlags(cmd, fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return Usagef(cmd, "unexpected argument %q", pos[0])
	}
	if *siteID == "" {
		return Usagef(cmd, "--site is required")
	}
	st, err := env.Store()
	if err != nil {
		return err
	}
	var site *core.Site
	if err := st.View(func(tx store.Tx) error { site, err = siteByID(tx, *siteID); return err }); err != nil {
		return err
	}
	var b bytes.Buffer
	if err := importer.WriteSite(&b, site); err != nil {
		return err
	}
	if *out == "" {
		_, err := env.Stdout.Write(b.Bytes())
		return err
	}
	if err := os.WriteFile(env.Path(*out), b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing the site file: %w", err)
	}
	fmt.Fprintf(env.Stderr, "wrote site %s to %s\n", site.ID, *out)
	return nil
}

func runSiteImport(env *Env, args []string) error {
	const cmd = "site import"
	pos, err := ParseFlags(cmd, NewFlagSet(cmd), args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return Usagef(cmd, "expected one site file, got %d arguments", len(pos))
	}
	f, err := env.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	site, err := importer.ParseSite(pos[0], f)
	if err != nil {
		return err
	}
	st, err := env.Store()
	if err != nil {
		return err
	}
	// The stored site and which of its meters have data, to say what the
	// update changes and warn about meters whose data it leaves unused.
	var old *core.Site
	withData := map[string]bool{}
	err = st.View(func(tx store.Tx) error {
		s, err := tx.Site(site.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading site %s: %w", site.ID, err)
		}
		old = s
		ids, err := tx.SeriesIDs(site.ID)
		if err != nil {
			return fmt.Errorf("reading site %s: %w", site.ID, err)
		}
		for _, id := range ids {
			withData[id.Meter] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	created, err := importer.ImportSite(st, site, actor(), env.Clock.Now())
	if err != nil {
		return err
	}
	if created || old == nil {
		fmt.Fprintf(env.Stdout, "created site %s\n", site.ID)
		return nil
	}
	fmt.Fprintf(env.Stdout, "updated site %s: %s\n", site.ID, importer.SiteDiff(old, site))
	for _, m := range old.Meters {
		if site.Meter(m.ID) == nil && withData[m.ID] {
			fmt.Fprintf(env.Stderr, "warning: meter %s is no longer in %s: its stored data is kept but not checked or billed any more (add the meter again to use it)\n",
				m.ID, pos[0])
		}
	}
	return nil
}

// actor names who runs the command, for the audit log.
func actor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}
