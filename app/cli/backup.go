package cli

import (
	"fmt"
	"os"

	"github.com/zevdesk/zevdesk/core/store/bolt"
)

func init() {
	Register(Command{
		Name:    "backup",
		Args:    "--out FILE | --dir DIR [--keep N]",
		Summary: "write a consistent snapshot of the database (while zevdesk keeps running): to FILE, or as a dated file in DIR keeping the newest N",
		Run:     runBackup,
	})
	Register(Command{
		Name:    "restore",
		Args:    "FILE",
		Summary: "replace the database with a backup after checking it (zevdesk must not be running; the old file is kept as .before-restore)",
		Run:     runRestore,
	})
}

func runBackup(env *Env, args []string) error {
	fs := NewFlagSet("backup")
	out := fs.String("out", "", "backup file to write")
	dir := fs.String("dir", "", "directory for dated backups")
	keep := fs.Int("keep", 0, "with --dir: keep only the newest N backups (0 keeps all)")
	rest, err := ParseFlags("backup", fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return Usagef("backup", "unexpected argument %q", rest[0])
	case (*out == "") == (*dir == ""):
		return Usagef("backup", "give either --out FILE or --dir DIR")
	case *keep < 0:
		return Usagef("backup", "--keep must not be negative")
	}
	if err := requireDB(env.DBPath); err != nil {
		return err
	}
	st, err := env.Store()
	if err != nil {
		return err
	}
	bs, ok := st.(*bolt.Store)
	if !ok {
		return fmt.Errorf("backup: the database is not a bbolt store")
	}
	path := *out
	if *dir != "" {
		if path, err = bs.BackupTo(*dir, env.Clock.Now(), *keep); err != nil {
			return err
		}
	} else if err := bs.BackupFile(path); err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "backup written to %s (%d bytes)\n", path, fi.Size())
	return nil
}

func runRestore(env *Env, args []string) error {
	fs := NewFlagSet("restore")
	rest, err := ParseFlags("restore", fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return Usagef("restore", "expected one backup FILE")
	}
	_, statErr := os.Stat(env.DBPath)
	if err := bolt.Restore(rest[0], env.DBPath); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "restored %s into %s\n", rest[0], env.DBPath)
	if statErr == nil {
		fmt.Fprintf(env.Stdout, "the previous database is kept as %s.before-restore\n", env.DBPath)
	}
	return nil
}
