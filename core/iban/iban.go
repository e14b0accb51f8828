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
// 13616 check digits (mod 97 = 1). Its errors are *Error.
func Check(s string) error {
	v := Normalize(s)
	if len(v) != 21 {
		return fail(nil, "IBAN %q: expected 21 characters for CH or LI, got %d", s, len(v))
	}
	if v[:2] != "CH" && v[:2] != "LI" {
		return fail(nil, "IBAN %q: expected a Swiss (CH) or Liechtenstein (LI) IBAN", s)
	}
	for i := 2; i < 9; i++ {
		if v[i] < '0' || v[i] > '9' {
			return fail(nil, "IBAN %q: expected digits in the check digits and bank code", s)
		}
	}
	for i := 9; i < 21; i++ {
		c := v[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return fail(nil, "IBAN %q: invalid character %q", s, string(c))
		}
	}
	if m, _ := Mod97(v[4:] + v[:4]); m != 1 { // characters checked above
		return fail(ErrChecksum, "IBAN %q: check digits do not match (mistyped?)", s)
	}
	return nil
}

// ErrChecksum is wrapped by Check's error when an IBAN's check digits do
// not match.
var ErrChecksum = errors.New("check digits do not match (mistyped?)")

// Error is an IBAN that Check refuses. Format and Args are its message
// before formatting, so that a user interface can translate it (Args are
// the IBAN as given, and a count or a character); Err is ErrChecksum or nil.
type Error struct {
	Format string
	Args   []any
	Err    error
}

// Error formats the message in English.
func (e *Error) Error() string { return fmt.Sprintf(e.Format, e.Args...) }

// Unwrap returns ErrChecksum for a checksum mismatch.
func (e *Error) Unwrap() error { return e.Err }

func fail(err error, format string, args ...any) error {
	return &Error{Format: format, Args: args, Err: err}
}

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

// Mod97 computes the ISO 7064 MOD 97-10 remainder of s, digits and
// upper-case letters (counting as 10..35); ok is false for any other
// character. IBANs (ISO 13616) and creditor references (ISO 11649, package
// qrbill) both check with it.
func Mod97(s string) (r int, ok bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			r = (r*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			r = (r*100 + int(c-'A') + 10) % 97
		default:
			return 0, false
		}
	}
	return r, true
}
