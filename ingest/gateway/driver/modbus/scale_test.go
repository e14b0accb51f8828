package modbus

import (
	"math"
	"testing"

	"github.com/zevdesk/zevdesk/core"
)

// A register read with a wrong map or byte order holds any bit pattern: it
// must be refused, never wrapped into a negative or absurd reading.
func TestEnergyConversionRefusesOutOfRange(t *testing.T) {
	for _, c := range []struct {
		raw  uint32
		sf   int16
		want core.Energy
	}{
		{12345, 0, 12345 * core.Wh},
		{12345, -3, 12345 * core.MilliWh},
		{12345, 3, 12345 * core.KWh},
		{15, -4, 2 * core.MilliWh}, // 1.5 mWh rounds half away from zero
	} {
		got, err := scaleWh(c.raw, c.sf)
		if err != nil || got != c.want {
			t.Errorf("scaleWh(%d, %d) = %d, %v; want %d", c.raw, c.sf, got, err, c.want)
		}
	}
	for _, c := range []struct {
		raw uint32
		sf  int16
	}{
		{math.MaxUint32, 10}, // 4.3e22 mWh does not fit an int64
		{1, 11},
		{1, -11},
		{1, math.MaxInt16},
		{1, math.MinInt16},
	} {
		if got, err := scaleWh(c.raw, c.sf); err == nil {
			t.Errorf("scaleWh(%d, %d) = %d, want an error", c.raw, c.sf, got)
		}
	}
	if got, err := kWhFloat(math.MaxFloat32); err == nil {
		t.Errorf("kWhFloat(MaxFloat32) = %d, want an error", got)
	}
	if got, err := kWhFloat(1234.5); err != nil || got != 1234500*core.Wh {
		t.Errorf("kWhFloat(1234.5) = %d, %v", got, err)
	}
}
