// Package shelly is the gateway driver for Shelly Gen2+ three-phase energy
// meters (Pro 3EM, 3EM-63) over their HTTP RPC API: EMData.GetStatus for
// the energy registers (Wh) and EM.GetStatus for the power (W).
//
// Parameters (see driver.ParseSpec): addr (host or host:port, required), em
// (the EM component id, default 0), timeout (default 5s). Devices with
// authentication enabled (digest auth) are not supported yet.
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
	"strconv"
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
	id    string
	base  string // http://host[:port]
	em    int
	http  *http.Client
	clock core.Clock
}

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
		case "addr", "em", "timeout":
		default:
			return nil, fmt.Errorf("unknown parameter %q (known: addr, em, timeout)", k)
		}
	}
	clock := cfg.Clock
	if clock == nil {
		clock = core.SystemClock{}
	}
	return &Driver{id: cfg.ID, base: "http://" + u.Host, em: em, http: &http.Client{Timeout: timeout}, clock: clock}, nil
}

// Meters describes the one meter.
func (d *Driver) Meters() []protocol.Meter {
	return []protocol.Meter{driver.EnergyMeter(d.id, Name, "Shelly 3EM (Gen2+)", "", true)}
}

// call runs GET /rpc/METHOD?id=EM and decodes the result into v.
func (d *Driver) call(ctx context.Context, method string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/rpc/%s?id=%d", d.base, method, d.em), nil)
	if err != nil {
		return err
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return fmt.Errorf("meter %s: %s: %w", d.id, method, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("meter %s: %s: %w", d.id, method, err)
	}
	if resp.StatusCode != http.StatusOK {
		if resp.StatusCode == http.StatusUnauthorized {
			return fmt.Errorf("meter %s: %s: the device asks for a password (authentication is not supported)", d.id, method)
		}
		return fmt.Errorf("meter %s: %s: HTTP %d: %.200s", d.id, method, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("meter %s: %s: %w", d.id, method, err)
	}
	return nil
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
