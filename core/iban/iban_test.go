package iban

import (
	"errors"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		in  string
		ok  bool
		qr  bool
		why error
	}{
		{"CH44 3199 9123 0008 8901 2", true, true, nil},  // DESIGN.md's example, a QR-IBAN
		{"CH93 0076 2011 6238 5295 7", true, false, nil}, // the IBAN of SIX's QR-bill examples
		{"CH93 0076 2011 6238 5295 8", false, false, ErrChecksum},
		{"DE89 3704 0044 0532 0130 00", false, false, nil},
		{"CH93 0076 2011 6238 529", false, false, nil},
	} {
		err := Check(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("Check(%q) = %v, want ok=%v", tc.in, err, tc.ok)
		}
		if tc.why != nil && !errors.Is(err, tc.why) {
			t.Errorf("Check(%q) = %v, want %v", tc.in, err, tc.why)
		}
		if tc.ok && IsQRIBAN(tc.in) != tc.qr {
			t.Errorf("IsQRIBAN(%q) = %v, want %v", tc.in, !tc.qr, tc.qr)
		}
	}
}
