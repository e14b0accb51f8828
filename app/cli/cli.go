// Package cli implements zevdesk's subcommands. Each command lives in a file
// of its own and registers itself with Register from an init function, so
// that adding one never touches another's code.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/core/store/postgres"
)

// Command is one subcommand.
type Command struct {
	// Name is the command's words, e.g. "bill" or "site import".
	Name string
	// Args is the synopsis after the name, e.g. "--site ID --from DATE --to DATE".
	Args string
	// Summary is a one-line description for the help text.
	Summary string
	// Run executes the command with the arguments after its name. It
	// returns a *UsageError for bad arguments.
	Run func(env *Env, args []string) error
	// Owner says what the command does while another process (the desktop
	// app or serve) has the database open; the zero value runs it there.
	Owner OwnerPolicy
}

// OwnerPolicy says how a command runs while another process owns the
// database file (see app/remote).
type OwnerPolicy int

const (
	// ThroughOwner runs the command in the owning process, on its open
	// store, with the output streamed back: the same code, output and exit
	// status as without it.
	ThroughOwner OwnerPolicy = iota
	// NoDatabase marks a command that never opens the database; it runs
	// here whoever owns the database.
	NoDatabase
	// RefuseOwner refuses the command while another process owns the
	// database (serve, demo, restore).
	RefuseOwner
)

var commands = map[string]Command{}

// Register adds a command; it panics on a duplicate name (a programming error).
func Register(c Command) {
	if _, dup := commands[c.Name]; dup {
		panic("cli: command registered twice: " + c.Name)
	}
	commands[c.Name] = c
}

// Env is what a command runs with. Commands write results to Stdout and
// never call os.Exit.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	Clock  core.Clock
	// DBPath is the office database, from --db or the default location.
	DBPath string
	// BackupEvery is the interval of StartBackups' schedule; zero means the
	// constant BackupEvery (the desktop app's Settings may choose another).
	BackupEvery time.Duration
	// Dir, if set, is the directory relative paths are resolved against
	// (Path): a command run for another process resolves them against that
	// process's working directory. Messages name paths as they were given.
	Dir string

	st     store.Store
	shared bool     // st belongs to the owning process: Close leaves it open
	closer []func() // run by Close, last first
}

// Path resolves p, a path as the user gave it, against Dir.
func (e *Env) Path(p string) string {
	if e.Dir == "" || p == "" || filepath.IsAbs(p) || postgres.IsURL(p) {
		return p
	}
	return filepath.Join(e.Dir, p)
}

// Open opens the file p names (resolved by Path); an error names p as given.
func (e *Env) Open(p string) (*os.File, error) {
	f, err := os.Open(e.Path(p))
	var pe *fs.PathError
	if errors.As(err, &pe) {
		pe.Path = p
	}
	return f, err
}

// OnClose registers f to run when Close runs (a command's background work
// that lives as long as the desktop app, such as the demo's gateway).
func (e *Env) OnClose(f func()) { e.closer = append(e.closer, f) }

// Store opens the database DBPath names on first use and returns it (see
// OpenStore: a bbolt file, resolved by Path and created with its directory
// if needed, or a postgres:// URL); Main closes it.
func (e *Env) Store() (store.Store, error) {
	if e.st != nil {
		return e.st, nil
	}
	st, err := OpenStore(e.Path(e.DBPath))
	if err != nil {
		return nil, err
	}
	e.st = st
	return st, nil
}

// DBName is DBPath as it may be shown: a URL without its password.
func (e *Env) DBName() string { return DBName(e.DBPath) }

// Close runs what OnClose registered and closes the store if this Env
// opened it.
func (e *Env) Close() error {
	for i := len(e.closer) - 1; i >= 0; i-- {
		e.closer[i]()
	}
	e.closer = nil
	if e.st == nil || e.shared {
		return nil
	}
	err := e.st.Close()
	e.st = nil
	return err
}

// UsageError is a bad command line: it is printed with the command's synopsis.
type UsageError struct {
	Cmd string
	Msg string
}

func (e *UsageError) Error() string { return e.Msg }

// Usagef returns a *UsageError for cmd.
func Usagef(cmd, format string, args ...any) error {
	return &UsageError{Cmd: cmd, Msg: fmt.Sprintf(format, args...)}
}

// DefaultDBPath is the database in the user's config directory.
func DefaultDBPath() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		dir = "."
	}
	return filepath.Join(dir, "zevdesk", "zevdesk.db")
}

// Desktop asks the caller (main) to open the desktop app on Env's store.
type Desktop struct {
	Env *Env
	// SiteID is the site to show first; empty for the first site.
	SiteID string
}

// desktopResult is the error value by which a command ("zevdesk demo") asks
// Main to hand the open store to the desktop app instead of closing it.
type desktopResult struct{ site string }

// OpenDesktop is returned by a command's Run to ask main to open the app.
func OpenDesktop(site string) error { return &desktopResult{site: site} }

func (d *desktopResult) Error() string { return "open the desktop app" }

// Main parses the global flags, runs the subcommand and returns the exit
// status. When the command asks for the desktop app it returns a Desktop whose
// Env holds the open store; the caller opens the window and then calls
// Desktop.Env.Close.
func Main(args []string, stdout, stderr io.Writer) (*Desktop, int) {
	env := &Env{Stdout: stdout, Stderr: stderr, Clock: core.SystemClock{}, DBPath: DefaultDBPath()}
	gf := flag.NewFlagSet("zevdesk", flag.ContinueOnError)
	gf.SetOutput(io.Discard)
	gf.StringVar(&env.DBPath, "db", env.DBPath, "database: a file, or postgres://USER@HOST/NAME")
	help := gf.Bool("help", false, "show help")
	version := gf.Bool("version", false, "print the version and commit")
	if err := gf.Parse(args); err != nil {
		fmt.Fprintf(stderr, "zevdesk: %v\n\n", err)
		printHelp(stderr)
		return nil, 1
	}
	if *version || gf.NArg() > 0 && gf.Arg(0) == "version" {
		printVersion(stdout)
		return nil, 0
	}
	if *help || gf.NArg() > 0 && (gf.Arg(0) == "help" || gf.Arg(0) == "-h") {
		printHelp(stdout)
		return nil, 0
	}
	rest := gf.Args()
	if len(rest) == 0 {
		return &Desktop{Env: env}, 0
	}
	cmd, cargs, ok := lookup(rest)
	if !ok {
		fmt.Fprintf(stderr, "zevdesk: unknown command %q\n\n", strings.Join(rest, " "))
		printHelp(stderr)
		return nil, 1
	}
	if cmd.Owner != NoDatabase {
		if code, ok := throughOwner(env, cmd, rest); ok {
			return nil, code
		}
	}
	if cmd.Owner == ThroughOwner {
		// An owner that opened the database a moment ago may not answer on
		// its socket yet: when the database turns out to be held, before
		// the command said anything, ask the owner again.
		run, quiet := cmd.Run, &quietWriters{env: env}
		cmd.Run = func(env *Env, args []string) error {
			err := run(env, args)
			if errors.Is(err, bolt.ErrInUse) && !quiet.wrote.Load() {
				if code, ok := throughOwner(quiet.restore(), cmd, rest); ok {
					return exitStatus(code)
				}
			}
			return err
		}
		quiet.watch()
	}
	return runCommand(env, cmd, cargs)
}

// quietWriters notes whether a command wrote to Env's output.
type quietWriters struct {
	env            *Env
	stdout, stderr io.Writer
	wrote          atomic.Bool
}

func (q *quietWriters) watch() {
	q.stdout, q.stderr = q.env.Stdout, q.env.Stderr
	q.env.Stdout, q.env.Stderr = noteWriter{q, q.stdout}, noteWriter{q, q.stderr}
}

func (q *quietWriters) restore() *Env {
	q.env.Stdout, q.env.Stderr = q.stdout, q.stderr
	return q.env
}

type noteWriter struct {
	q *quietWriters
	w io.Writer
}

func (n noteWriter) Write(p []byte) (int, error) {
	if len(p) > 0 {
		n.q.wrote.Store(true)
	}
	return n.w.Write(p)
}

// exitStatus is a command's result whose messages were already printed
// (by the owner that ran it): Main exits with it and prints nothing.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// runCommand runs cmd and turns its error into messages and an exit status.
func runCommand(env *Env, cmd Command, cargs []string) (*Desktop, int) {
	stdout, stderr := env.Stdout, env.Stderr
	err := cmd.Run(env, cargs)
	var es exitStatus
	if errors.As(err, &es) {
		env.Close()
		return nil, int(es)
	}
	var dr *desktopResult
	if errors.As(err, &dr) {
		return &Desktop{Env: env, SiteID: dr.site}, 0
	}
	if cerr := env.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err == nil {
		return nil, 0
	}
	var hr *helpRequest
	if errors.As(err, &hr) {
		fmt.Fprintf(stdout, "zevdesk %s: %s\nusage: zevdesk %s\n", cmd.Name, cmd.Summary, cmd.synopsis())
		hr.fs.SetOutput(stdout)
		hr.fs.PrintDefaults()
		return nil, 0
	}
	var ue *UsageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "zevdesk %s: %s\nusage: zevdesk %s\n", cmd.Name, ue.Msg, cmd.synopsis())
		return nil, 1
	}
	fmt.Fprintf(stderr, "zevdesk %s: %v\n", cmd.Name, err)
	return nil, 1
}

// synopsis is the command's name and arguments, without a trailing space
// for a command that takes none.
func (c Command) synopsis() string { return strings.TrimSpace(c.Name + " " + c.Args) }

// lookup finds the longest registered command name that prefixes args.
func lookup(args []string) (Command, []string, bool) {
	for n := min(len(args), 3); n > 0; n-- {
		if c, ok := commands[strings.Join(args[:n], " ")]; ok {
			return c, args[n:], true
		}
	}
	return Command{}, nil, false
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "zevdesk: metering and billing for self-consumption communities (ZEV/RCP, vZEV, LEG)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "usage:")
	fmt.Fprintln(w, "  zevdesk [--db FILE|URL]             open the desktop app (URL: postgres://USER@HOST/NAME)")
	fmt.Fprintln(w, "  zevdesk --version                   print the version and the commit it was built from")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := commands[n]
		fmt.Fprintf(w, "  zevdesk [--db FILE|URL] %s\n      %s\n", c.synopsis(), c.Summary)
	}
}

// NewFlagSet returns a flag set for a command that reports errors as
// *UsageError instead of printing them.
func NewFlagSet(cmd string) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// ParseFlags parses args into fs and wraps errors as *UsageError. Flags may
// follow positional arguments ("import readings a.csv --site X").
func ParseFlags(cmd string, fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			return nil, &helpRequest{fs}
		} else if err != nil {
			return nil, Usagef(cmd, "%v", err)
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// helpRequest is ParseFlags' answer to -h or --help: Main prints the
// command's usage and flags on standard output and exits 0.
type helpRequest struct{ fs *flag.FlagSet }

func (*helpRequest) Error() string { return "help requested" }
