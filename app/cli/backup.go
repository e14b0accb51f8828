package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/core/store/postgres"
)

func init() {
	Register(Command{
		Name:    "backup",
		Args:    "--out FILE | --dir DIR [--keep N]",
		Summary: "write a snapshot of the database, checked like zevdesk check, to FILE or as a dated file in DIR keeping the newest N; while the desktop app or serve has the database open, it writes the snapshot (and they also back up by themselves into backups/ beside the database, at start unless done that day, then every 24 hours). On PostgreSQL: --out FILE, a consistent copy into a bbolt file (restore it with zevdesk db copy)",
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
	if postgres.IsURL(env.DBPath) {
		if *out == "" {
			return Usagef("backup", "a PostgreSQL database is backed up with --out FILE (a bbolt file; dated backups in a directory are for the workstation file)")
		}
		return backupPostgres(env, *out)
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
	if postgres.IsURL(env.DBPath) {
		return fmt.Errorf("restore replaces a database file; to put backup %s into PostgreSQL, copy it into an empty database: zevdesk db copy --from %s --to %s",
			rest[0], rest[0], env.DBName())
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

// backupPostgres copies the PostgreSQL database, a consistent snapshot, into
// a new bbolt file at out (replacing out only when the copy is complete,
// verified and passes the file check). `zevdesk db copy --from FILE --to URL`
// restores it.
func backupPostgres(env *Env, out string) error {
	st, err := env.Store()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), filepath.Base(out)+".tmp-*")
	if err != nil {
		return fmt.Errorf("creating the backup: %w", err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	os.Remove(tmpPath) // bolt.Open creates it afresh
	defer os.Remove(tmpPath)
	dst, err := bolt.Open(tmpPath, nil)
	if err != nil {
		return err
	}
	sums, err := CopyStore(st, dst)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backing up %s: %w", env.DBName(), err)
	}
	chk, err := bolt.Open(tmpPath, &bolt.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	err = chk.Check()
	chk.Close()
	if err != nil {
		return fmt.Errorf("backing up %s: the new backup fails its check: %w", env.DBName(), err)
	}
	if err := os.Rename(tmpPath, out); err != nil {
		return fmt.Errorf("backing up %s: %w", env.DBName(), err)
	}
	fi, err := os.Stat(out)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "PostgreSQL: a consistent copy of %s, verified bucket by bucket:\n", env.DBName())
	printSums(env.Stdout, sums)
	fmt.Fprintf(env.Stdout, "backup written to %s (%d bytes, a bbolt file; restore it with zevdesk db copy --from %s --to URL)\n", out, fi.Size(), out)
	return nil
}
