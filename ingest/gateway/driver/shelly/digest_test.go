package shelly

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/shareddata"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver"
)

// lockedShelly is a Pro 3EM with authentication enabled, as its HTTP API
// behaves then: every /rpc request without valid credentials gets a 401
// with a fresh SHA-256 Digest challenge (realm = the device id), each nonce
// is good for one request, and a request whose response hash is right gets
// the real device's answer.
type lockedShelly struct {
	srv      *httptest.Server
	realm    string
	password string
	opaque   string // sent with each challenge when not empty (RFC 7616; Shelly sends none)

	mu       sync.Mutex
	nonces   map[string]bool // issued and not yet used
	accepted int             // requests answered after a valid response hash
	rejected []string        // why each bad Authorization was refused
}

func newLockedShelly(t *testing.T, password, opaque string) *lockedShelly {
	t.Helper()
	data, err := os.ReadFile(shareddata.Path(t, "devices/shelly/gen2_Shelly_Pro_3EM_SPEM-003CEBEU_20231219-134001-1.1.0-g34b5d4f.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dump struct {
		Shelly struct {
			ID string `json:"id"`
		} `json:"shelly"`
		Status map[string]json.RawMessage `json:"status"`
	}
	if err := json.Unmarshal(data, &dump); err != nil {
		t.Fatal(err)
	}
	s := &lockedShelly{realm: dump.Shelly.ID, password: password, opaque: opaque, nonces: map[string]bool{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if why := s.check(r); why != "" {
			s.challenge(w, why)
			return
		}
		var part json.RawMessage
		switch r.URL.Path {
		case "/rpc/EMData.GetStatus":
			part = dump.Status["emdata:0"]
		case "/rpc/EM.GetStatus":
			part = dump.Status["em:0"]
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(part)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// counts returns how many requests the device accepted and why it refused
// the others that carried credentials.
func (s *lockedShelly) counts() (int, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted, append([]string(nil), s.rejected...)
}

func (s *lockedShelly) addr() string { return strings.TrimPrefix(s.srv.URL, "http://") }

// challenge answers 401 with a new nonce, as the device does.
func (s *lockedShelly) challenge(w http.ResponseWriter, why string) {
	nonce := rand.Text()
	s.mu.Lock()
	s.nonces[nonce] = true
	if why != "no credentials" {
		s.rejected = append(s.rejected, why)
	}
	s.mu.Unlock()
	h := fmt.Sprintf(`Digest qop="auth", realm=%q, nonce=%q, algorithm=SHA-256`, s.realm, nonce)
	if s.opaque != "" {
		h += fmt.Sprintf(", opaque=%q", s.opaque)
	}
	w.Header().Set("WWW-Authenticate", h)
	w.WriteHeader(http.StatusUnauthorized)
	w.Write([]byte(`{"code":401,"message":"unauthorized"}`))
}

var (
	authParam = regexp.MustCompile(`(\w+)=(?:"([^"]*)"|([^\s,]+))`)
	ncPattern = regexp.MustCompile(`^[0-9a-f]{8}$`)
)

// check verifies r's Authorization header as RFC 7616 says a server does,
// and returns why it is refused, or "".
func (s *lockedShelly) check(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "no credentials"
	}
	scheme, rest, _ := strings.Cut(h, " ")
	if scheme != "Digest" {
		return "scheme " + scheme
	}
	p := map[string]string{}
	for _, m := range authParam.FindAllStringSubmatch(rest, -1) {
		p[m[1]] = m[2] + m[3]
	}
	s.mu.Lock()
	fresh := s.nonces[p["nonce"]]
	delete(s.nonces, p["nonce"]) // one use per nonce
	s.mu.Unlock()
	switch {
	case !fresh:
		return "unknown or reused nonce"
	case p["username"] != "admin":
		return "username " + p["username"]
	case p["realm"] != s.realm:
		return "realm " + p["realm"]
	case p["uri"] != r.URL.RequestURI():
		return "uri " + p["uri"] + " for " + r.URL.RequestURI()
	case p["algorithm"] != "SHA-256":
		return "algorithm " + p["algorithm"]
	case p["qop"] != "auth":
		return "qop " + p["qop"]
	case !ncPattern.MatchString(p["nc"]) || p["nc"] == "00000000":
		return "nc " + p["nc"]
	case len(p["cnonce"]) < 8:
		return "cnonce " + p["cnonce"]
	case p["opaque"] != s.opaque:
		return "opaque " + p["opaque"]
	}
	ha1 := sha256Hex("admin:" + s.realm + ":" + s.password)
	ha2 := sha256Hex(r.Method + ":" + p["uri"])
	want := sha256Hex(ha1 + ":" + p["nonce"] + ":" + p["nc"] + ":" + p["cnonce"] + ":auth:" + ha2)
	if subtle.ConstantTimeCompare([]byte(p["response"]), []byte(want)) != 1 {
		return "response hash"
	}
	s.mu.Lock()
	s.accepted++
	s.mu.Unlock()
	return ""
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// A device with a password is read with it, from the spec as the gateway's
// --device flag gives it or from a file; every request is answered to a
// fresh challenge and checked by the device.
func TestDigestAuth(t *testing.T) {
	const password = "correct horse: battery staple"
	pwFile := filepath.Join(t.TempDir(), "shelly.pw")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, opaque, param string }{
		{"password", "", "password=" + password},
		{"password_file", "", "password_file=" + pwFile},
		{"opaque", "5ccc069c403ebaf9f0171e9517f40e41", "password=" + password},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dev := newLockedShelly(t, password, tc.opaque)
			name, cfg, err := driver.ParseSpec("shelly:WP:addr=" + dev.addr() + "," + tc.param)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Clock = core.FixedClock(at)
			d, err := driver.New(context.Background(), name, cfg)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := d.Registers(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != 1 || rs[0].Import != 2_589_773_390 || rs[0].Export != 1_026_610 {
				t.Errorf("readings %+v", rs)
			}
			ps, err := d.(driver.PowerMeter).Power(context.Background())
			if err != nil || len(ps) != 1 || ps[0].W != 558.965 {
				t.Errorf("power %+v %v", ps, err)
			}
			if accepted, rejected := dev.counts(); accepted != 2 || len(rejected) != 0 {
				t.Errorf("the device accepted %d requests and refused %q", accepted, rejected)
			}
		})
	}
}

// A wrong password is one error that names the meter and the device and
// says "wrong password", and does not show the password.
func TestDigestWrongPassword(t *testing.T) {
	dev := newLockedShelly(t, "right", "")
	d, err := New(driver.Config{ID: "WP", Params: map[string]string{"addr": dev.addr(), "password": "wr0ng-pw"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Registers(context.Background())
	if !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("error %v, want ErrWrongPassword", err)
	}
	want := "meter WP: Shelly shellypro3em-aabbccddeeff at " + dev.addr() + ": wrong password"
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if accepted, rejected := dev.counts(); accepted != 0 || len(rejected) != 1 || rejected[0] != "response hash" {
		t.Errorf("the device accepted %d requests and refused %q", accepted, rejected)
	}

	// Without a password the error says how to give one.
	d, err = New(driver.Config{ID: "WP", Params: map[string]string{"addr": dev.addr()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Power(context.Background()); err == nil || !strings.Contains(err.Error(), "shellypro3em-aabbccddeeff at "+dev.addr()+" asks for a password: give password=") {
		t.Errorf("no password: %v", err)
	}
}

// A password never appears in an error about the spec or the driver's
// parameters.
func TestPasswordNotShown(t *testing.T) {
	const pw = "s3cr3t-Pa55"
	for _, spec := range []string{
		"shelly:WP:addr=h,password=" + pw + ",oops",
		"shelly:WP:password=" + pw + ",addr=h,em=x",
		"shelly:WP:password=" + pw + ",addr=h,nope=1",
		"shelly:WP:password=" + pw + ",password_file=/nonexistent",
		"shelly:WP:password=" + pw,
	} {
		name, cfg, err := driver.ParseSpec(spec)
		if err == nil {
			_, err = driver.New(context.Background(), name, cfg)
		}
		if err == nil {
			t.Errorf("%s accepted", spec)
		} else if strings.Contains(err.Error(), pw) {
			t.Errorf("the error shows the password: %v", err)
		}
	}
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{empty, filepath.Join(t.TempDir(), "absent")} {
		if _, err := New(driver.Config{ID: "WP", Params: map[string]string{"addr": "h", "password_file": file}}); err == nil || !strings.Contains(err.Error(), file) {
			t.Errorf("password_file %s: %v", file, err)
		}
	}
}

// A device that asks for Basic authentication (Gen1) is told apart: the
// driver does not send the password in clear.
func TestBasicChallengeRefused(t *testing.T) {
	var sawAuth atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			sawAuth.Store(true)
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="shellyem3-AABBCC"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	d, err := New(driver.Config{ID: "X", Params: map[string]string{"addr": strings.TrimPrefix(srv.URL, "http://"), "password": "pw"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Registers(context.Background()); err == nil || !strings.Contains(err.Error(), "Basic") || errors.Is(err, ErrWrongPassword) {
		t.Errorf("basic challenge: %v", err)
	}
	if sawAuth.Load() {
		t.Error("the driver sent credentials to a Basic challenge")
	}
}

// Challenges as devices and other servers write them.
func TestParseChallenge(t *testing.T) {
	c := pickChallenge([]string{
		`Basic realm="x"`,
		`Digest realm="a, \"b\"", nonce=abc,qop="auth,auth-int", algorithm=MD5`,
		`Digest qop="auth", realm="shellypro3em-aabbccddeeff", nonce="1a2b", algorithm=SHA-256, opaque=""`,
	})
	want := map[string]string{"qop": "auth", "realm": "shellypro3em-aabbccddeeff", "nonce": "1a2b", "algorithm": "SHA-256", "opaque": ""}
	if c.scheme != "digest" || fmt.Sprint(c.params) != fmt.Sprint(want) {
		t.Errorf("picked %s %v", c.scheme, c.params)
	}
	c = parseChallenge(`Digest realm="a, \"b\"", nonce=abc,qop="auth,auth-int", algorithm=MD5`)
	want = map[string]string{"realm": `a, "b"`, "nonce": "abc", "qop": "auth,auth-int", "algorithm": "MD5"}
	if fmt.Sprint(c.params) != fmt.Sprint(want) {
		t.Errorf("parsed %v", c.params)
	}
}
