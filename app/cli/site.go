package cli

import (
	"fmt"
	"os"
	"os/user"

	"github.com/zevdesk/zevdesk/ingest/importer"
)

func init() {
	Register(Command{
		Name:    "site import",
		Args:    "FILE.toml",
		Summary: "create or update a site from a site file (docs/site-file.md)",
		Run:     runSiteImport,
	})
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
	f, err := os.Open(pos[0])
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
	created, err := importer.ImportSite(st, site, actor(), env.Clock.Now())
	if err != nil {
		return err
	}
	verb := "updated"
	if created {
		verb = "created"
	}
	fmt.Fprintf(env.Stdout, "%s site %s\n", verb, site.ID)
	return nil
}

// actor names who runs the command, for the audit log.
func actor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}
