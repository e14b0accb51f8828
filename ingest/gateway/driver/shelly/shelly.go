// Package shelly is the gateway driver for Shelly Gen2+ three-phase energy
// meters (Pro 3EM, 3EM-63) over their HTTP RPC API: EMData.GetStatus for
// the energy registers (Wh) and EM.GetStatus for the power (W).
//
// Parameters (see driver.ParseSpec): addr (host or host:port, required), em
// (the EM component id, default 0), timeout (default 5s), and for a device
// with authentication enabled its password, given as password=... or read
// from password_file=PATH (the device's user is always "admin"). The
// password is never logged or shown in an error.
package shelly

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver"
	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// Name is the driver's registered name.
const Name = "shelly"

// maxBody bounds a device's answer (a status is about 1 kB).
const maxBody = 256 << 10

// Driver reads one Shelly energy meter. It is safe for concurrent use.
type Driver struct {
	id       string
	addr     string // host[:port], for messages
	base     string // http://host[:port]
	em       int
	password string // "" when the device has no authentication
	http     *http.Client
	clock    core.Clock
}

// ErrWrongPassword means the device refused the configured password.
var ErrWrongPassword = errors.New("wrong password")

var (
	_ driver.Driver     = (*Driver)(nil)
	_ driver.PowerMeter = (*Driver)(nil)
)

func init() {
	driver.Register(Name, func(_ context.Context, cfg driver.Config) (driver.Driver, error) { return New(cfg) })
}

// New makes a driver from its configuration.
func New(cfg driver.Config) (*Driver, error) {
	addr := cfg.Param("addr", "")
	if addr == "" {
		return nil, errors.New("addr: the device's host[:port] is required")
	}
	u, err := url.Parse("http://" + addr)
	if err != nil || u.Host == "" || u.Path != "" {
		return nil, fmt.Errorf("addr=%q: expected host or host:port", addr)
	}
	em, err := strconv.Atoi(cfg.Param("em", "0"))
	if err != nil || em < 0 {
		return nil, fmt.Errorf("em=%q: expected a component id (0, 1, ...)", cfg.Params["em"])
	}
	timeout, err := time.ParseDuration(cfg.Param("timeout", "5s"))
	if err != nil {
		return nil, fmt.Errorf("timeout: %w", err)
	}
	for k := range cfg.Params {
		switch k {
		case "addr", "em", "timeout", "password", "password_file":
		default:
			return nil, fmt.Errorf("unknown parameter %q (known: addr, em, timeout, password, password_file)", k)
		}
	}
	password, err := readPassword(cfg)
	if err != nil {
		return nil, err
	}
	clock := cfg.Clock
	if clock == nil {
		clock = core.SystemClock{}
	}
	return &Driver{id: cfg.ID, addr: u.Host, base: "http://" + u.Host, em: em, password: password,
		http: &http.Client{Timeout: timeout}, clock: clock}, nil
}

// readPassword returns the password parameter, or the first line of the
// file password_file names (a password there stays out of the process list
// and may contain commas, which a device spec cannot).
func readPassword(cfg driver.Config) (string, error) {
	pw, file := cfg.Params["password"], cfg.Params["password_file"]
	if file == "" {
		return pw, nil
	}
	if pw != "" {
		return "", errors.New("give password or password_file, not both")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	pw, _, _ = strings.Cut(string(data), "\n")
	pw = strings.TrimSuffix(pw, "\r")
	if pw == "" {
		return "", fmt.Errorf("password_file %s: the first line is empty", file)
	}
	return pw, nil
}

// Meters describes the one meter.
func (d *Driver) Meters() []protocol.Meter {
	return []protocol.Meter{driver.EnergyMeter(d.id, Name, "Shelly 3EM (Gen2+)", "", true)}
}

// call runs GET /rpc/METHOD?id=EM and decodes the result into v. A 401
// with a Digest challenge is answered with the password, once: the
// challenge is fresh, so a second 401 means a wrong password.
func (d *Driver) call(ctx context.Context, method string, v any) error {
	uri := fmt.Sprintf("/rpc/%s?id=%d", method, d.em)
	status, body, chal, err := d.get(ctx, uri, "")
	if err == nil && status == http.StatusUnauthorized {
		var auth string
		auth, err = d.answer(chal, uri)
		if err == nil {
			status, body, chal, err = d.get(ctx, uri, auth)
		}
		if err == nil && status == http.StatusUnauthorized && !strings.EqualFold(chal.params["stale"], "true") {
			return fmt.Errorf("meter %s: %s: %w", d.id, d.device(chal), ErrWrongPassword)
		}
	}
	if err != nil {
		return fmt.Errorf("meter %s: %s: %w", d.id, method, err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("meter %s: %s: HTTP %d: %.200s", d.id, method, status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("meter %s: %s: %w", d.id, method, err)
	}
	return nil
}

// get runs GET uri, with an Authorization header when auth is not empty,
// and returns the status, the body and, for a 401, the device's challenge.
func (d *Driver) get(ctx context.Context, uri, auth string) (int, []byte, challenge, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.base+uri, nil)
	if err != nil {
		return 0, nil, challenge{}, err
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return 0, nil, challenge{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return 0, nil, challenge{}, err
	}
	chal := pickChallenge(resp.Header.Values("WWW-Authenticate"))
	return resp.StatusCode, body, chal, nil
}

// answer returns the Authorization header for GET uri answering the
// device's challenge, or an error saying why the driver cannot give one.
func (d *Driver) answer(chal challenge, uri string) (string, error) {
	switch {
	case chal.scheme == "basic":
		// Basic would send the password in clear over plain HTTP; only
		// Gen1 devices ask for it, and this driver reads Gen2+ RPC.
		return "", fmt.Errorf("%s asks for HTTP Basic authentication (a Gen1 device?); this driver reads Gen2+ devices, which use digest authentication", d.device(chal))
	case chal.scheme != "digest":
		return "", fmt.Errorf("%s asks for a password but sends no digest challenge", d.device(chal))
	case d.password == "":
		return "", fmt.Errorf("%s asks for a password: give password=... or password_file=PATH in its device spec", d.device(chal))
	}
	return chal.authorization(d.password, http.MethodGet, uri)
}

// device names the device for messages: "Shelly ID at ADDR", the id being
// the digest realm when the device sent one.
func (d *Driver) device(chal challenge) string {
	if realm := chal.params["realm"]; realm != "" {
		return fmt.Sprintf("Shelly %s at %s", realm, d.addr)
	}
	return "Shelly at " + d.addr
}

// emData is the part of EMData.GetStatus the driver uses: the totals over
// the three phases, in Wh.
type emData struct {
	TotalAct    *float64 `json:"total_act"`
	TotalActRet *float64 `json:"total_act_ret"`
}

// emStatus is the part of EM.GetStatus the driver uses.
type emStatus struct {
	TotalActPower *float64 `json:"total_act_power"`
}

// Registers reads total active energy drawn (import) and returned (export).
func (d *Driver) Registers(ctx context.Context) ([]driver.Reading, error) {
	var s emData
	if err := d.call(ctx, "EMData.GetStatus", &s); err != nil {
		return nil, err
	}
	if s.TotalAct == nil || s.TotalActRet == nil {
		return nil, fmt.Errorf("meter %s: EMData.GetStatus has no total_act/total_act_ret", d.id)
	}
	imp, err1 := whFloat(*s.TotalAct)
	exp, err2 := whFloat(*s.TotalActRet)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("meter %s: %w", d.id, err)
	}
	return []driver.Reading{{Meter: d.id, Time: d.clock.Now().UTC(), Import: imp, Export: exp}}, nil
}

// Power reads the total active power (positive: import).
func (d *Driver) Power(ctx context.Context) ([]driver.Power, error) {
	var s emStatus
	if err := d.call(ctx, "EM.GetStatus", &s); err != nil {
		return nil, err
	}
	if s.TotalActPower == nil {
		return nil, fmt.Errorf("meter %s: EM.GetStatus has no total_act_power", d.id)
	}
	return []driver.Power{{Meter: d.id, W: *s.TotalActPower}}, nil
}

func whFloat(v float64) (core.Energy, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > 1e12 {
		return 0, fmt.Errorf("implausible register value %v Wh", v)
	}
	return core.Energy(math.Round(v * float64(core.Wh))), nil
}
