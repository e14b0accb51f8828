// Package iban checks Swiss and Liechtenstein IBANs and QR-IBANs.
package iban

import (
	"errors"
	"fmt"
	"strings"
)

// Normalize removes spaces and upper-cases s.
func Normalize(s string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
}

// Check returns nil if s (spaces allowed) is a valid CH or LI IBAN: 21
// characters, a known country, digits where the format has them, and ISO
// 13616 check digits (mod 97 = 1).
func Check(s string) error {
	v := Normalize(s)
	if len(v) != 21 {
		return fmt.Errorf("IBAN %q: expected 21 characters for CH or LI, got %d", s, len(v))
	}
	if v[:2] != "CH" && v[:2] != "LI" {
		return fmt.Errorf("IBAN %q: expected a Swiss (CH) or Liechtenstein (LI) IBAN", s)
	}
	for i := 2; i < 9; i++ {
		if v[i] < '0' || v[i] > '9' {
			return fmt.Errorf("IBAN %q: expected digits in the check digits and bank code", s)
		}
	}
	for i := 9; i < 21; i++ {
		c := v[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return fmt.Errorf("IBAN %q: invalid character %q", s, c)
		}
	}
	if mod97(v[4:]+v[:4]) != 1 {
		return fmt.Errorf("IBAN %q: %w", s, ErrChecksum)
	}
	return nil
}

// ErrChecksum is returned when an IBAN's check digits do not match.
var ErrChecksum = errors.New("check digits do not match (mistyped?)")

// IsQRIBAN reports whether a valid IBAN s is a QR-IBAN: its institution
// identification (positions 5-9) lies in 30000-31999. A QR-IBAN takes QRR
// references only.
func IsQRIBAN(s string) bool {
	v := Normalize(s)
	if len(v) != 21 {
		return false
	}
	iid := v[4:9]
	return iid >= "30000" && iid <= "31999"
}

// mod97 computes the ISO 7064 MOD 97-10 remainder of an alphanumeric string,
// letters counting as 10..35.
func mod97(s string) int {
	r := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			r = (r*10 + int(c-'0')) % 97
		default:
			r = (r*100 + int(c-'A') + 10) % 97
		}
	}
	return r
}
