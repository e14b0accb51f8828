package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/postgres"
)

func init() {
	Register(Command{
		Name:    "check",
		Args:    "",
		Summary: "verify the database: file structure and every stored interval block (on PostgreSQL: the schema version, every interval block, site and replacement; the server checks its own pages)",
		Run:     runCheck,
	})
}

func runCheck(env *Env, args []string) error {
	fs := NewFlagSet("check")
	rest, err := ParseFlags("check", fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return Usagef("check", "unexpected argument %q", rest[0])
	}
	if err := requireDB(env); err != nil {
		return err
	}
	st, err := env.Store()
	if err != nil {
		return err
	}
	if err := st.Check(); err != nil {
		return err
	}
	var sites, series int
	err = st.View(func(tx store.Tx) error {
		ids, err := tx.SiteIDs()
		if err != nil {
			return err
		}
		sites = len(ids)
		for _, id := range ids {
			s, err := tx.SeriesIDs(id)
			if err != nil {
				return err
			}
			series += len(s)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("counting sites: %w", err)
	}
	if postgres.IsURL(env.DBPath) {
		fmt.Fprintln(env.Stdout, "PostgreSQL: checked the schema version and decoded every interval block, site and replacement; the server checks its own pages (pg_amcheck)")
	}
	fmt.Fprintf(env.Stdout, "%s: ok (%d sites, %d interval series)\n", env.DBName(), sites, series)
	return nil
}

// requireDB fails when there is no database at env's DBPath, so that
// checking or backing up a mistyped path does not create an empty one. A
// PostgreSQL URL passes: the server says whether the database exists.
func requireDB(env *Env) error { return requireDBAt(env, env.DBPath) }

// requireDBAt is requireDB for the database db names (a path as the user
// gave it, or a URL).
func requireDBAt(env *Env, db string) error {
	if postgres.IsURL(db) {
		return nil
	}
	if _, err := os.Stat(env.Path(db)); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no database at %s", db)
	} else if err != nil {
		return err
	}
	return nil
}
