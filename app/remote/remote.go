// Package remote lets a second zevdesk process run commands in the process
// that owns the database file (the desktop app or `zevdesk serve`): bbolt
// allows one process per file, so a command started beside the app sends its
// arguments over a local socket and the owner runs it on its open store,
// streaming the output back.
//
// The socket is a Unix domain socket (Linux, macOS, Windows 10 and later) in
// a directory only the user can open, named by a hash of the database's
// absolute path, so that its path stays short whatever the database's path
// (sun_path holds about 100 bytes). On Linux the server also checks the
// peer's user id (SO_PEERCRED).
//
// The protocol is one JSON request line from the client, then frames from
// the server: a kind byte ('o' standard output, 'e' standard error, 'x' exit
// status), a big-endian uint32 length and the payload; the exit frame ends the
// exchange.
package remote

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
)

// Operations of a Request.
const (
	// OpRun runs a command: Args are its words and arguments after the
	// global flags, Dir the client's working directory.
	OpRun = "run"
	// OpShow asks the owner to bring its window to the front.
	OpShow = "show"
	// OpPing only asks whether an owner answers.
	OpPing = "ping"
)

// Request is what a client asks the owner.
type Request struct {
	Op   string   `json:"op"`
	Args []string `json:"args,omitempty"`
	// Dir is the client's working directory, against which the owner
	// resolves relative paths.
	Dir string `json:"dir,omitempty"`
	// DB is the database path as the client's user gave it, for messages.
	DB string `json:"db,omitempty"`
}

// Handler serves one request, writing the command's output to stdout and
// stderr, and returns the exit status. It is called on its own goroutine for
// each connection, so several run at once.
type Handler func(req Request, stdout, stderr io.Writer) int

// ErrNoOwner is returned by Do when no process answers on the database's
// socket: nobody has the database open, or its owner is an older zevdesk
// or is still starting.
var ErrNoOwner = errors.New("no zevdesk process serves this database")

// maxSunPath is the longest socket path that fits every platform's
// sockaddr_un (104 bytes on macOS, 108 on Linux and Windows, with the NUL).
const maxSunPath = 100

// maxRequest bounds a request line.
const maxRequest = 1 << 20

// Frame kinds.
const (
	frameStdout = 'o'
	frameStderr = 'e'
	frameExit   = 'x'
)

// SocketPath returns the socket of the database at dbPath, creating its
// private directory if needed: the first candidate (socketPaths) whose
// directory is the user's alone.
func SocketPath(dbPath string) (string, error) {
	paths, err := socketPaths(dbPath)
	if err != nil {
		return "", err
	}
	var last error
	for _, p := range paths {
		if len(p) > maxSunPath {
			last = fmt.Errorf("the socket path %s is longer than %d bytes", p, maxSunPath)
			continue
		}
		if err := privateDir(filepath.Dir(p)); err != nil {
			last = err
			continue
		}
		return p, nil
	}
	return "", fmt.Errorf("finding a directory for the socket of %s: %w", dbPath, last)
}

// socketPaths returns the places the socket of the database at dbPath may
// be, best first: one name, a hash of the database's absolute path, in each
// of socketDirs.
func socketPaths(dbPath string) ([]string, error) {
	abs, err := filepath.Abs(dbPath)
	if err != nil {
		return nil, fmt.Errorf("locating the database %s: %w", dbPath, err)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	sum := sha256.Sum256([]byte(abs))
	name := hex.EncodeToString(sum[:8]) + ".sock"
	var paths []string
	for _, dir := range socketDirs() {
		paths = append(paths, filepath.Join(dir, name))
	}
	return paths, nil
}

// dialOwner connects to the owner's socket. It tries every candidate place,
// not only the one this process would listen at: the owner may have been
// started with another environment (a desktop session's XDG_RUNTIME_DIR, a
// shell without it). It only dials into directories that are the user's
// alone.
func dialOwner(dbPath string) (net.Conn, error) {
	paths, err := socketPaths(dbPath)
	if err != nil {
		return nil, err
	}
	for _, p := range paths {
		fi, err := os.Lstat(filepath.Dir(p))
		if err != nil || !fi.IsDir() || checkOwner(filepath.Dir(p), fi) != nil {
			continue
		}
		if c, err := net.Dial("unix", p); err == nil {
			return c, nil
		}
	}
	return nil, ErrNoOwner
}

// socketDirs are the candidate directories, best first: the per-user
// runtime directory, else a per-user directory in the temporary one.
func socketDirs() []string {
	var dirs []string
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) {
		dirs = append(dirs, filepath.Join(d, "zevdesk"))
	}
	// What XDG_RUNTIME_DIR usually is (systemd), for a process started
	// without it (cron, su) to find an owner started with it.
	if d := filepath.Join("/run/user", strconv.Itoa(os.Getuid())); runtime.GOOS == "linux" {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() && !slices.Contains(dirs, filepath.Join(d, "zevdesk")) {
			dirs = append(dirs, filepath.Join(d, "zevdesk"))
		}
	}
	if runtime.GOOS == "windows" {
		if d, err := os.UserCacheDir(); err == nil {
			dirs = append(dirs, filepath.Join(d, "zevdesk", "run"))
		}
	}
	dirs = append(dirs, filepath.Join(os.TempDir(), "zevdesk-"+strconv.Itoa(os.Getuid())))
	if runtime.GOOS != "windows" {
		dirs = append(dirs, filepath.Join("/tmp", "zevdesk-"+strconv.Itoa(os.Getuid())))
	}
	return dirs
}

// privateDir creates dir with mode 0700 if needed and checks that it is a
// directory (not a link) that only this user can open: in a shared
// temporary directory another user could have created it first.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the socket directory: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("checking the socket directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("the socket directory %s is not a directory", dir)
	}
	return checkOwner(dir, fi)
}

// Server answers requests on a database's socket. Close stops it.
type Server struct {
	ln   net.Listener
	path string
	h    Handler
	wg   sync.WaitGroup
	once sync.Once
}

// Listen starts serving h on the socket of the database at dbPath. The
// caller must own the database (have it open), so a socket file left by a
// process that died is stale and replaced.
func Listen(dbPath string, h Handler) (*Server, error) {
	path, err := SocketPath(dbPath)
	if err != nil {
		return nil, err
	}
	if c, err := dialOwner(dbPath); err == nil {
		c.Close()
		return nil, fmt.Errorf("another zevdesk process already answers for %s", dbPath)
	}
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil && runtime.GOOS != "windows" {
		ln.Close()
		return nil, fmt.Errorf("restricting %s: %w", path, err)
	}
	s := &Server{ln: ln, path: path, h: h}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Path returns the socket's path.
func (s *Server) Path() string { return s.path }

// Close stops listening, removes the socket and waits for the requests
// being served.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		err = s.ln.Close()
		s.wg.Wait()
	})
	return err
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				slog.Error("remote: accepting a connection", "socket", s.path, "err", err)
			}
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			if err := s.serve(c); err != nil {
				slog.Warn("remote: serving a request", "socket", s.path, "err", err)
			}
		}()
	}
}

func (s *Server) serve(c net.Conn) error {
	if err := checkPeer(c); err != nil {
		return err
	}
	line, err := bufio.NewReader(io.LimitReader(c, maxRequest)).ReadBytes('\n')
	if errors.Is(err, io.EOF) && len(line) == 0 {
		return nil // a probe (Listen's) that only checks whether anyone answers
	}
	if err != nil {
		return fmt.Errorf("reading the request: %w", err)
	}
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		return fmt.Errorf("decoding the request: %w", err)
	}
	fw := &frameWriter{w: c}
	code := s.h(req, fw.stream(frameStdout), fw.stream(frameStderr))
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(int32(code)))
	return fw.frame(frameExit, b[:])
}

// frameWriter writes frames to one connection; the command may write from
// several goroutines.
type frameWriter struct {
	mu  sync.Mutex
	w   io.Writer
	err error
}

func (f *frameWriter) frame(kind byte, p []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	hdr := [5]byte{kind}
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(p)))
	if _, f.err = f.w.Write(append(hdr[:], p...)); f.err != nil {
		f.err = fmt.Errorf("writing to the client: %w", f.err)
	}
	return f.err
}

type streamWriter struct {
	f    *frameWriter
	kind byte
}

func (f *frameWriter) stream(kind byte) io.Writer { return streamWriter{f, kind} }

// Write sends p; a client that went away makes later writes fail, but the
// command itself runs to its end so that a transaction is never cut short
// by a closed terminal.
func (w streamWriter) Write(p []byte) (int, error) {
	if err := w.f.frame(w.kind, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Do sends req to the owner of the database at dbPath, copies the output
// frames to stdout and stderr and returns the exit status. It returns
// ErrNoOwner if nobody answers.
func Do(dbPath string, req Request, stdout, stderr io.Writer) (int, error) {
	c, err := dialOwner(dbPath)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	path := c.RemoteAddr().String()
	line, err := json.Marshal(req)
	if err != nil {
		return 0, err
	}
	if _, err := c.Write(append(line, '\n')); err != nil {
		return 0, fmt.Errorf("sending the request to %s: %w", path, err)
	}
	r := bufio.NewReader(c)
	for {
		var hdr [5]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return 0, fmt.Errorf("reading the answer from %s: the zevdesk process owning the database stopped answering: %w", path, err)
		}
		n := binary.BigEndian.Uint32(hdr[1:])
		if n > maxRequest*16 {
			return 0, fmt.Errorf("reading the answer from %s: a frame of %d bytes", path, n)
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(r, p); err != nil {
			return 0, fmt.Errorf("reading the answer from %s: %w", path, err)
		}
		switch hdr[0] {
		case frameStdout:
			stdout.Write(p)
		case frameStderr:
			stderr.Write(p)
		case frameExit:
			if n != 4 {
				return 0, fmt.Errorf("reading the answer from %s: an exit frame of %d bytes", path, n)
			}
			return int(int32(binary.BigEndian.Uint32(p))), nil
		default:
			return 0, fmt.Errorf("reading the answer from %s: unknown frame kind %q", path, hdr[0])
		}
	}
}
