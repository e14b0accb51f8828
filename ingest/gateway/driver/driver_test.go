package driver

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	name, cfg, err := ParseSpec("modbus:GRID:addr=192.168.1.20:502,unit=1,type=sdm630")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"addr": "192.168.1.20:502", "unit": "1", "type": "sdm630"}
	if name != "modbus" || cfg.ID != "GRID" || !reflect.DeepEqual(cfg.Params, want) {
		t.Errorf("got %q %q %v", name, cfg.ID, cfg.Params)
	}
	if name, cfg, err := ParseSpec("sim:S"); err != nil || name != "sim" || cfg.ID != "S" || len(cfg.Params) != 0 {
		t.Errorf("no parameters: %q %+v %v", name, cfg, err)
	}
	for _, bad := range []string{"", "modbus", ":x", "modbus::addr=a", "modbus:X:addr", "modbus:X:=1"} {
		if _, _, err := ParseSpec(bad); err == nil {
			t.Errorf("ParseSpec(%q) accepted", bad)
		}
	}
}

func TestRegistry(t *testing.T) {
	Register("test-null", func(_ context.Context, cfg Config) (Driver, error) { return nil, nil })
	if !strings.Contains(strings.Join(Names(), ","), "test-null") {
		t.Errorf("names %v", Names())
	}
	if _, err := New(context.Background(), "nope", Config{}); err == nil || !strings.Contains(err.Error(), "test-null") {
		t.Errorf("unknown driver: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a name twice did not panic")
		}
	}()
	Register("test-null", nil)
}
