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
		Summary: "write a snapshot of the database, checked like zevdesk check, to FILE or as a dated file in DIR keeping the newest N; while the desktop app or serve has the database open, it writes the snapshot (and they also back up by themselves into backups/ beside the database, at start unless done that day, then every 24 hours)",
		Run:     runBackup,
	})
	Register(Command{
		Name:    "restore",
		Args:    "FILE",
		Summary: "replace the database with a backup FILE after checking it; close the desktop app and serve first (restore refuses while they hold the database); the database it replaces is kept as DB.before-restore",
		Run:     runRestore,
		Owner:   RefuseOwner,
	})
}

func runBackup(env *Env, args []string) error {
	fs := NewFlagSet("backup")
	out := fs.String("out", "", "backup file to write")
	dir := fs.String("dir", "", "directory for dated backups")
	keep := fs.Int("keep", 0, "with --dir: keep only the newest N backups (0 keeps all); a new backup that fails its check deletes none")
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
	if err := requireDB(env); err != nil {
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
	path := env.Path(*out)
	if *dir != "" {
		if path, err = bs.BackupTo(env.Path(*dir), env.Clock.Now(), bolt.KeepLast(*keep)); err != nil {
			return err
		}
		path = env.shown(*dir, path)
	} else if err := bs.BackupFile(path); err != nil {
		return err
	} else {
		path = *out
	}
	fi, err := os.Stat(env.Path(path))
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
