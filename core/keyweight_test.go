package core

import "testing"

func TestUnitKeyWeight(t *testing.T) {
	u := Unit{ID: "W01", Area: 6250, Quota: 120, Weight: -3}
	for k, want := range map[Key]int64{KeyArea: 6250, KeyQuota: 120, KeyCustom: 0, KeyUnits: 1, KeyOwner: 0} {
		if got := u.KeyWeight(k); got != want {
			t.Errorf("KeyWeight(%s) = %d, want %d", k, got, want)
		}
	}
}
