package qrbill

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/iban"
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
	m, ok := iban.Mod97(b + "RF00")
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
	m, ok := iban.Mod97(r[4:] + r[:4])
	if !ok {
		return fmt.Errorf("creditor reference %q: expected letters A-Z and digits only", ref)
	}
	if m != 1 {
		return fmt.Errorf("creditor reference %q: check digits do not match", ref)
	}
	return nil
}

// Invoice references. Invoice numbers are sequential per site, and an
// office often bills several sites into the same account: a reference made
// of the number alone would repeat from site to site, and a payment could
// not be matched. InvoiceQRR and InvoiceSCOR therefore put a code derived
// from the site's id (64 bits of its FNV-1a hash) in front of the invoice
// number, so that every site has a number space of its own, the same on
// every workstation, without a setting to keep unique by hand. The number
// stays readable at the end of the reference.

// MaxInvoiceNumber is the largest invoice number a reference holds.
const MaxInvoiceNumber = 99_999_999

func siteHash(site string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(site))
	return h.Sum64()
}

// SiteQRRCode returns the 18 digits that start the QR references of a
// site's invoices.
func SiteQRRCode(site string) string {
	return fmt.Sprintf("%018d", siteHash(site)%1_000_000_000_000_000_000)
}

// SiteSCORCode returns the 13 characters (base 36) that start the body of
// the creditor references of a site's invoices.
func SiteSCORCode(site string) string {
	s := strings.ToUpper(strconv.FormatUint(siteHash(site), 36))
	return strings.Repeat("0", 13-len(s)) + s
}

func checkInvoiceNumber(number int) error {
	if number < 1 || number > MaxInvoiceNumber {
		return fmt.Errorf("invoice number %d: expected 1 to %d for a payment reference", number, MaxInvoiceNumber)
	}
	return nil
}

// InvoiceQRR returns the QR reference of invoice number of site: the
// site's 18-digit code, the number in 8 digits and the check digit.
func InvoiceQRR(site string, number int) (string, error) {
	if err := checkInvoiceNumber(number); err != nil {
		return "", err
	}
	return QRReference(fmt.Sprintf("%s%08d", SiteQRRCode(site), number))
}

// InvoiceSCOR returns the ISO 11649 creditor reference of invoice number of
// site: RF, the check digits, the site's 13-character code and the number.
func InvoiceSCOR(site string, number int) (string, error) {
	if err := checkInvoiceNumber(number); err != nil {
		return "", err
	}
	return CreditorReference(SiteSCORCode(site) + strconv.Itoa(number))
}

// ParseInvoiceReference finds which of sites' invoices a valid QR or
// creditor reference made by InvoiceQRR or InvoiceSCOR pays, for matching
// incoming payments.
func ParseInvoiceReference(ref string, sites []string) (site string, number int, err error) {
	r := strings.ToUpper(compact(ref))
	var body string
	var code func(string) string
	switch {
	case strings.HasPrefix(r, "RF"):
		if err := CheckSCOR(r); err != nil {
			return "", 0, err
		}
		body, code = r[4:], SiteSCORCode
	default:
		if err := CheckQRR(r); err != nil {
			return "", 0, err
		}
		body, code = r[:26], SiteQRRCode
	}
	for _, s := range sites {
		c := code(s)
		if rest, ok := strings.CutPrefix(body, c); ok && rest != "" {
			n, err := strconv.Atoi(rest)
			if err != nil || checkInvoiceNumber(n) != nil {
				break
			}
			return s, n, nil
		}
	}
	return "", 0, fmt.Errorf("reference %q is not an invoice of the sites %v", ref, sites)
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
