// Package driver declares how the gateway reads meters: a small interface
// that every device driver implements, optional capabilities found by type
// assertion, and a registry of drivers by name (as in evcc). The drivers
// themselves live in subpackages (sim, modbus, shelly) and register
// themselves from an init function.
package driver

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// Reading is one meter's cumulative registers at an instant.
type Reading struct {
	Meter string
	// Time is when the registers were read, in UTC. The gateway stamps
	// readings with its own clock: drivers set it from the Clock they were
	// given.
	Time   time.Time
	Import core.Energy // import register (A+), mWh
	Export core.Energy // export register (A-), mWh
}

// Power is one meter's instantaneous active power in W: positive when
// importing, negative when exporting (producing, feeding in).
type Power struct {
	Meter string
	W     float64
}

// Driver reads the registers of one device, which may hold several meters
// (a simulated building, a Modbus gateway, a three-phase Shelly).
type Driver interface {
	// Meters describes the meters this driver reads; their ids are unique on
	// the gateway and never change.
	Meters() []protocol.Meter
	// Registers reads the cumulative registers of every meter.
	Registers(ctx context.Context) ([]Reading, error)
}

// PowerMeter is the optional capability of reading instantaneous power, for
// the live stream.
type PowerMeter interface {
	// Power returns the active power of each meter in W.
	Power(ctx context.Context) ([]Power, error)
}

// RegistersAtReader is the optional capability of reading the registers as
// they were (or will be) at a given instant: the simulator has it, so that
// the gateway can fill history and read exactly on the 15-minute grid.
type RegistersAtReader interface {
	// RegistersAt returns every meter's registers at t.
	RegistersAt(t time.Time) ([]Reading, error)
}

// Closer is the optional capability of releasing connections.
type Closer interface {
	Close() error
}

// Config configures one driver instance.
type Config struct {
	// ID prefixes the meter ids of the device (a driver with one meter may
	// use it as the meter id).
	ID string
	// Params are the driver's own settings ("addr", "unit", "type", ...).
	Params map[string]string
	// Clock stamps readings; nil means the system clock.
	Clock core.Clock
}

// Param returns c.Params[key] or def when it is missing or empty.
func (c Config) Param(key, def string) string {
	if v := c.Params[key]; v != "" {
		return v
	}
	return def
}

// Now returns the configured clock's time in UTC.
func (c Config) Now() time.Time {
	if c.Clock == nil {
		return time.Now().UTC()
	}
	return c.Clock.Now().UTC()
}

// Factory makes a driver from its configuration.
type Factory func(ctx context.Context, cfg Config) (Driver, error)

var (
	mu       sync.Mutex
	registry = map[string]Factory{}
)

// Register makes a driver available by name; it panics on a duplicate name
// (a programming error).
func Register(name string, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[name]; dup {
		panic("driver: registered twice: " + name)
	}
	registry[name] = f
}

// Names lists the registered drivers in lexical order.
func Names() []string {
	mu.Lock()
	defer mu.Unlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// New makes a driver by name.
func New(ctx context.Context, name string, cfg Config) (Driver, error) {
	mu.Lock()
	f, ok := registry[name]
	mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("unknown meter driver %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	d, err := f(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("driver %s %s: %w", name, cfg.ID, err)
	}
	return d, nil
}

// ParseSpec parses a device specification of the form
// "DRIVER:ID:key=value,key=value" (e.g.
// "modbus:grid:addr=192.168.1.20:502,unit=1,type=sdm630"). Values may
// contain ':' but not ','. Errors never quote a password parameter.
func ParseSpec(spec string) (name string, cfg Config, err error) {
	name, rest, ok := strings.Cut(spec, ":")
	if !ok || name == "" {
		return "", cfg, fmt.Errorf("device %q: expected DRIVER:ID[:key=value,key=value]", shownSpec(spec))
	}
	id, params, _ := strings.Cut(rest, ":")
	if id == "" {
		return "", cfg, fmt.Errorf("device %q: missing the meter id after %q", shownSpec(spec), name+":")
	}
	cfg.ID = id
	cfg.Params = map[string]string{}
	if params != "" {
		afterPassword := false
		for _, kv := range strings.Split(params, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				if afterPassword { // likely the rest of a password with a comma
					return "", cfg, fmt.Errorf("device %q: a parameter after password= is not key=value (a password cannot contain ',')", shownSpec(spec))
				}
				return "", cfg, fmt.Errorf("device %q: parameter %q: expected key=value", shownSpec(spec), kv)
			}
			afterPassword = afterPassword || k == "password"
			cfg.Params[k] = v
		}
	}
	return name, cfg, nil
}

// shownSpec is spec as an error may quote it: everything from "password="
// on is hidden, since a password with a comma spills into what follows.
func shownSpec(spec string) string {
	if i := strings.Index(spec, "password="); i >= 0 {
		return spec[:i] + "password=…"
	}
	return spec
}

// EnergyMeter returns the description of a meter with import and export
// registers.
func EnergyMeter(id, driverName, model, serial string, live bool) protocol.Meter {
	return protocol.Meter{
		ID: id, Driver: driverName, Model: model, Serial: serial, Live: live,
		Channels: []protocol.Channel{
			{Name: protocol.ChannelImport, OBIS: protocol.OBISImport, Unit: "Wh"},
			{Name: protocol.ChannelExport, OBIS: protocol.OBISExport, Unit: "Wh"},
		},
	}
}
