package qrbill

import (
	"errors"
	"fmt"
	"strings"

	"github.com/zevdesk/zevdesk/core"
)

// mod10 is the table of the modulo 10 recursive check digit (the ESR/QRR
// algorithm, IG QR-bill annex B).
var mod10 = [10]int{0, 9, 4, 6, 8, 2, 7, 1, 3, 5}

// Mod10 returns the modulo 10 recursive check digit of a string of digits.
func Mod10(digits string) (byte, error) {
	carry := 0
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q: expected digits only", digits)
		}
		carry = mod10[(carry+int(c-'0'))%10]
	}
	return byte('0' + (10-carry)%10), nil
}

// QRReference returns the 27-digit QR reference for up to 26 digits of
// payload: zero-padded on the left to 26 digits, then the check digit.
func QRReference(digits string) (string, error) {
	d := compact(digits)
	if d == "" || len(d) > 26 {
		return "", fmt.Errorf("QR reference: %q: expected 1 to 26 digits", digits)
	}
	d = strings.Repeat("0", 26-len(d)) + d
	c, err := Mod10(d)
	if err != nil {
		return "", fmt.Errorf("QR reference: %w", err)
	}
	if strings.Trim(d, "0") == "" {
		return "", errors.New("QR reference: must not be all zeros")
	}
	return d + string(c), nil
}

// CheckQRR returns nil if ref (spaces allowed) is a valid QR reference: 27
// digits, not all zeros, with a matching modulo 10 recursive check digit.
func CheckQRR(ref string) error {
	r := compact(ref)
	if len(r) != 27 {
		return fmt.Errorf("QR reference %q: expected 27 digits, got %d characters", ref, len(r))
	}
	c, err := Mod10(r[:26])
	if err != nil {
		return fmt.Errorf("QR reference %q: expected digits only", ref)
	}
	if strings.Trim(r, "0") == "" {
		return fmt.Errorf("QR reference %q: must not be all zeros", ref)
	}
	if c != r[26] {
		return fmt.Errorf("QR reference %q: check digit is %c, expected %c", ref, r[26], c)
	}
	return nil
}

// CreditorReference returns the ISO 11649 creditor reference ("RF" + two
// check digits + body) for a body of 1 to 21 letters and digits.
func CreditorReference(body string) (string, error) {
	b := strings.ToUpper(compact(body))
	if b == "" || len(b) > 21 {
		return "", fmt.Errorf("creditor reference: %q: expected 1 to 21 letters or digits", body)
	}
	m, ok := mod97(b + "RF00")
	if !ok {
		return "", fmt.Errorf("creditor reference: %q: expected letters A-Z and digits only", body)
	}
	return fmt.Sprintf("RF%02d%s", 98-m, b), nil
}

// CheckSCOR returns nil if ref (spaces allowed) is a valid ISO 11649
// creditor reference: "RF", two check digits, 1 to 21 letters or digits, and
// mod 97 = 1.
func CheckSCOR(ref string) error {
	r := strings.ToUpper(compact(ref))
	if len(r) < 5 || len(r) > 25 {
		return fmt.Errorf("creditor reference %q: expected 5 to 25 characters, got %d", ref, len(r))
	}
	if r[:2] != "RF" || r[2] < '0' || r[2] > '9' || r[3] < '0' || r[3] > '9' {
		return fmt.Errorf("creditor reference %q: must start with RF and two check digits", ref)
	}
	m, ok := mod97(r[4:] + r[:4])
	if !ok {
		return fmt.Errorf("creditor reference %q: expected letters A-Z and digits only", ref)
	}
	if m != 1 {
		return fmt.Errorf("creditor reference %q: check digits do not match", ref)
	}
	return nil
}

func mod97(s string) (int, bool) {
	r := 0
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

// FormatReference formats a reference for print as the style guide asks: a
// QR reference in blocks of five digits from the right ("21 00000 00003
// 13947 14300 09017"), a creditor reference in blocks of four from the left.
func FormatReference(t RefType, ref string) string {
	r := strings.ToUpper(compact(ref))
	switch t {
	case QRR:
		var parts []string
		for len(r) > 5 {
			parts = append([]string{r[len(r)-5:]}, parts...)
			r = r[:len(r)-5]
		}
		return strings.Join(append([]string{r}, parts...), " ")
	case SCOR:
		return blocks4(r)
	}
	return r
}

// FormatIBAN formats an IBAN in blocks of four ("CH44 3199 9123 0008 8901 2").
func FormatIBAN(s string) string {
	return blocks4(strings.ToUpper(compact(s)))
}

func blocks4(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// FormatAmount formats an amount for the payment part: a space between
// thousands and two decimals ("1 949.75"), as the style guide prints it.
func FormatAmount(amount core.Rappen) string {
	r := int64(amount)
	neg := r < 0
	if neg {
		r = -r
	}
	whole, frac := r/100, r%100
	s := fmt.Sprint(whole)
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteByte(s[i])
	}
	out := fmt.Sprintf("%s.%02d", b.String(), frac)
	if neg {
		out = "-" + out
	}
	return out
}
