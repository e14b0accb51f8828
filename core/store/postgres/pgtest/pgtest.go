// Package pgtest starts a throw-away PostgreSQL server for tests: Debian's
// postgresql package (initdb and pg_ctl under /usr/lib/postgresql/*/bin) in a
// temporary directory, listening on a Unix socket only. When the tests run
// as root, the server runs as the postgres system user (or nobody), since
// PostgreSQL refuses to run as root.
package pgtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// ErrNotInstalled is returned by Start without the postgresql package.
var ErrNotInstalled = errors.New("PostgreSQL is not installed (Debian package postgresql; `make deps` installs it)")

// Server is a running test server.
type Server struct {
	dir  string // socket directory and data directory's parent
	bin  string
	as   []string // the command prefix that runs as the server's user
	next atomic.Int64
}

// binDir returns the newest /usr/lib/postgresql/*/bin holding initdb.
func binDir() (string, error) {
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(m) == 0 {
		return "", ErrNotInstalled
	}
	sort.Slice(m, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(m[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(m[j]))))
		return vi < vj
	})
	return filepath.Dir(m[len(m)-1]), nil
}

// Start initialises and starts a server. Stop it with Stop.
func Start() (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	// A Unix socket's path is limited to about 100 bytes.
	dir, err := os.MkdirTemp("/tmp", "zevdesk-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, bin: bin}
	if os.Getuid() == 0 {
		var u *user.User
		for _, name := range []string{"postgres", "nobody"} {
			if u, err = user.Lookup(name); err == nil {
				break
			}
		}
		if u == nil {
			os.RemoveAll(dir)
			return nil, errors.New("running as root and neither a postgres nor a nobody user exists to run the server")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		s.as = []string{"runuser", "-u", u.Username, "--"}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if out, err := s.run("initdb", "-D", data, "-U", "zevdesk", "--auth=trust", "-E", "UTF8", "--no-locale", "-N"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	// A throw-away server: no fsync.
	opts := "-k " + dir + " -c listen_addresses= -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
	if out, err := s.run("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	return s, nil
}

func (s *Server) run(prog string, args ...string) ([]byte, error) {
	argv := append(append(append([]string{}, s.as...), filepath.Join(s.bin, prog)), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = s.dir
	return cmd.CombinedOutput()
}

// Stop stops the server and removes its directory.
func (s *Server) Stop() error {
	out, err := s.run("pg_ctl", "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w", "stop")
	os.RemoveAll(s.dir)
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	return nil
}

// Dir is the socket directory (the host of a connection string).
func (s *Server) Dir() string { return s.dir }

// Conn returns the keyword/value connection string of database db.
func (s *Server) Conn(db string) string {
	return fmt.Sprintf("host=%s user=zevdesk dbname=%s sslmode=disable", s.dir, db)
}

// URL returns the postgres:// URL of database db.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://zevdesk@/%s?host=%s&sslmode=disable", db, s.dir)
}

// Exec runs SQL in database db with psql.
func (s *Server) Exec(db, sql string) error {
	cmd := exec.Command(filepath.Join(s.bin, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", s.dir, "-U", "zevdesk", "-d", db, "-c", sql)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("psql %q: %v\n%s", sql, err, out)
	}
	return nil
}

// NewDB creates an empty database and returns its name.
func (s *Server) NewDB() (string, error) {
	name := fmt.Sprintf("t%d", s.next.Add(1))
	return name, s.Exec("postgres", "CREATE DATABASE "+name)
}

// Need returns the server of a package's tests, or fails (under CI, where
// PostgreSQL must be installed) or skips the test when startErr says why
// there is none.
func Need(t testing.TB, srv *Server, startErr error) *Server {
	t.Helper()
	if srv != nil {
		return srv
	}
	if os.Getenv("CI") != "" {
		t.Fatal(startErr)
	}
	t.Skip(startErr)
	return nil
}

// Query runs a query in database db with psql and returns its output
// unaligned, without headers (psql -At).
func (s *Server) Query(db, sql string) (string, error) {
	cmd := exec.Command(filepath.Join(s.bin, "psql"), "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", s.dir, "-U", "zevdesk", "-d", db, "-c", sql)
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("psql %q: %v", sql, err)
	}
	return strings.TrimSpace(string(out)), nil
}
