package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/zevdesk/zevdesk/app/remote"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
)

// ownerMissed, if set (by tests), is called when no owner answered for a
// command.
var ownerMissed func()

// throughOwner runs cmd (rest are its words and arguments) in the process
// that owns env's database, if one answers on its socket, and reports
// whether it did so (ok) and the exit status. A command the owner does not
// run is refused here with one line saying why.
func throughOwner(env *Env, cmd Command, rest []string) (code int, ok bool) {
	if cmd.Owner == RefuseOwner {
		if slices.ContainsFunc(rest, func(a string) bool { return a == "-h" || a == "-help" || a == "--help" }) {
			return 0, false // the help opens nothing
		}
		if _, err := remote.Do(env.DBPath, remote.Request{Op: remote.OpPing}, io.Discard, io.Discard); err != nil {
			return 0, false
		}
		if cmd.Name == "demo" && !slices.Contains(rest, "--no-window") {
			// `make run` again while the app runs: the same as a second start.
			if _, err := env.RaiseOwner(); err == nil {
				fmt.Fprintf(env.Stdout, "zevdesk already has %s open: its window is in front\n", env.DBPath)
				return 0, true
			}
		}
		fmt.Fprintf(env.Stderr, "zevdesk %s: %s is open in the desktop app or in zevdesk serve; %s cannot run beside it: close that first\n",
			cmd.Name, env.DBPath, cmd.Name)
		return 1, true
	}
	dir, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(env.Stderr, "zevdesk %s: finding the working directory: %v\n", cmd.Name, err)
		return 1, true
	}
	code, err = remote.Do(env.DBPath, remote.Request{Op: remote.OpRun, Args: rest, Dir: dir, DB: env.DBPath}, env.Stdout, env.Stderr)
	if errors.Is(err, remote.ErrNoOwner) {
		if ownerMissed != nil {
			ownerMissed()
		}
		return 0, false
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "zevdesk %s: %v\n", cmd.Name, err)
		return 1, true
	}
	return code, true
}

// ServeOwner lets other zevdesk processes run their commands on env's open
// store (see app/remote) until the returned stop is called. show brings the
// desktop window to the front and reports whether there is one; nil means
// there is no window (serve). Call it after Store succeeded.
func (e *Env) ServeOwner(show func() bool) (stop func(), err error) {
	if e.st == nil {
		return nil, errors.New("serving other processes: the database is not open")
	}
	st, clock, db := e.st, e.Clock, e.Path(e.DBPath)
	srv, err := remote.Listen(db, func(req remote.Request, stdout, stderr io.Writer) int {
		switch req.Op {
		case remote.OpPing:
			return 0
		case remote.OpShow:
			if show != nil && show() {
				return 0
			}
			fmt.Fprintf(stderr, "zevdesk: %s is open in zevdesk serve, which has no window; stop it to open the app on this database\n", db)
			return 1
		case remote.OpRun:
		default:
			fmt.Fprintf(stderr, "zevdesk: unknown request %q\n", req.Op)
			return 1
		}
		env := &Env{Stdout: stdout, Stderr: stderr, Clock: clock, DBPath: req.DB, Dir: req.Dir, st: st, shared: true}
		if env.DBPath == "" {
			env.DBPath = db
		}
		cmd, cargs, ok := lookup(req.Args)
		if !ok {
			fmt.Fprintf(stderr, "zevdesk: unknown command %q\n", req.Args)
			return 1
		}
		if cmd.Owner != ThroughOwner {
			fmt.Fprintf(stderr, "zevdesk %s: cannot run in the process that has %s open\n", cmd.Name, db)
			return 1
		}
		_, code := runCommand(env, cmd, cargs)
		return code
	})
	if err != nil {
		return nil, err
	}
	return func() { srv.Close() }, nil
}

// RaiseOwner asks the process that has e's database open to bring its
// window to the front (a second start of the desktop app). It reports
// whether a process answered; err says why it could not (serve has no
// window).
func (e *Env) RaiseOwner() (answered bool, err error) {
	var msg strings.Builder
	code, err := remote.Do(e.DBPath, remote.Request{Op: remote.OpShow}, io.Discard, &msg)
	switch {
	case errors.Is(err, remote.ErrNoOwner):
		return false, nil
	case err != nil:
		return true, err
	case code != 0:
		return true, errors.New(strings.TrimPrefix(strings.TrimSpace(msg.String()), "zevdesk: "))
	}
	return true, nil
}

// OpenOrRaise opens e's database for the desktop app, unless another
// process has it open: then it asks that one to bring its window to the
// front and reports raised. err says why neither worked, in words for a
// window (a launcher shows no standard error).
func (e *Env) OpenOrRaise() (st store.Store, raised bool, err error) {
	if answered, err := e.RaiseOwner(); answered {
		return nil, err == nil, err
	}
	st, err = e.Store()
	if errors.Is(err, bolt.ErrInUse) {
		// Another start may have opened it meanwhile and be answering now.
		if answered, rerr := e.RaiseOwner(); answered {
			return nil, rerr == nil, rerr
		}
	}
	return st, false, err
}
