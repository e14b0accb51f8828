// Package qrbill builds and validates the payload of a Swiss QR-bill (QR type
// SPC, version 0200, coding 1) as the Swiss Implementation Guidelines QR-bill
// 2.3 define it, and computes and checks its references (QRR and ISO 11649
// SCOR). Rendering the payment part lives in app/report.
//
// Lengths are counted in characters (runes), never bytes: "Zürich" is six.
package qrbill

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/iban"
)

// Separators between the payload's fields. The guidelines allow both; no
// separator follows the last field.
const (
	LF   = "\n"
	CRLF = "\r\n"
)

// AddressType is the QR-bill address type.
type AddressType string

// Address types. Only structured addresses are accepted from November 2025
// (IG 2.3); Encode still writes combined ones so that older payloads can be
// reproduced, but Validate refuses them.
const (
	Structured AddressType = "S"
	Combined   AddressType = "K"
)

// Address is a party of the bill: the creditor or the ultimate debtor.
type Address struct {
	// Type is Structured when empty.
	Type AddressType
	Name string
	// Street and Number are the street name and building number of a
	// structured address; for a combined address they are address lines 1
	// and 2 (line 2 holds postcode and town).
	Street string
	Number string
	// Postcode and Town are empty in a combined address.
	Postcode string
	Town     string
	// Country is the ISO 3166-1 alpha-2 code.
	Country string
}

func (a Address) typ() AddressType {
	if a.Type == "" {
		return Structured
	}
	return a.Type
}

// IsZero reports whether a has no content at all (an absent debtor).
func (a Address) IsZero() bool {
	return a.Name == "" && a.Street == "" && a.Number == "" && a.Postcode == "" && a.Town == "" && a.Country == ""
}

// RefType is the type of the payment reference.
type RefType string

// Reference types.
const (
	QRR  RefType = "QRR"  // QR reference, 27 digits; only with a QR-IBAN
	SCOR RefType = "SCOR" // ISO 11649 creditor reference; only with an IBAN
	NON  RefType = "NON"  // no reference; only with an IBAN
)

// Bill is the content of a QR-bill's Swiss QR Code.
type Bill struct {
	// Account is the creditor's IBAN or QR-IBAN (CH or LI), spaces allowed.
	Account  string
	Creditor Address
	// Amount in Rappen (or euro cents); ignored unless HasAmount: a bill
	// without an amount leaves the payer to fill it in.
	Amount    core.Rappen
	HasAmount bool
	// Currency is CHF or EUR; empty means CHF.
	Currency string
	// Debtor is the ultimate debtor; a zero Address leaves it blank.
	Debtor Address
	// RefType and Reference: the reference is written without spaces.
	RefType   RefType
	Reference string
	// Message is the unstructured message (Ustrd); line breaks become spaces.
	Message string
	// BillInfo is the structured bill information (StrdBkgInf, "//S1/...").
	BillInfo string
	// AltSchemes are up to two alternative procedure parameters.
	AltSchemes []string
}

// Field limits of IG QR-bill 2.3, in characters.
const (
	maxName       = 70
	maxStreet     = 70
	maxNumber     = 16
	maxPostcode   = 16
	maxTown       = 35
	maxAddrLine   = 70
	maxMessage    = 140 // Ustrd and StrdBkgInf together
	maxAltScheme  = 100
	maxAltSchemes = 2
	maxPayload    = 997
	// MaxAmount is the largest amount a QR-bill may carry (999 999 999.99).
	MaxAmount core.Rappen = 99_999_999_999
	// MinAmount is the smallest amount: 0.01.
	MinAmount core.Rappen = 1
)

// clean prepares a field for the payload: surrounding spaces go, and line
// breaks inside (which would split the field) become single spaces.
func clean(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

func compact(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), " ", "") }

func (a Address) fields() []string {
	if a.IsZero() {
		return []string{"", "", "", "", "", "", ""}
	}
	return []string{string(a.typ()), clean(a.Name), clean(a.Street), clean(a.Number), clean(a.Postcode), clean(a.Town), strings.ToUpper(clean(a.Country))}
}

func (b *Bill) currency() string {
	if b.Currency == "" {
		return "CHF"
	}
	return strings.ToUpper(clean(b.Currency))
}

// Fields returns the payload's fields in order, cleaned (spaces trimmed, line
// breaks in free text replaced, account and reference compacted). Trailing
// optional fields that are empty are left out.
func (b *Bill) Fields() []string {
	f := make([]string, 0, 34)
	f = append(f, "SPC", "0200", "1", iban.Normalize(b.Account))
	f = append(f, b.Creditor.fields()...)
	f = append(f, "", "", "", "", "", "", "") // ultimate creditor: reserved
	amount := ""
	if b.HasAmount {
		amount = b.Amount.String()
	}
	f = append(f, amount, b.currency())
	f = append(f, b.Debtor.fields()...)
	rt := b.RefType
	if rt == "" {
		rt = NON
	}
	f = append(f, string(rt), strings.ToUpper(compact(b.Reference)), clean(b.Message), "EPD")
	bi := clean(b.BillInfo)
	if bi != "" || len(b.AltSchemes) > 0 {
		f = append(f, bi)
	}
	for _, a := range b.AltSchemes {
		f = append(f, clean(a))
	}
	return f
}

// Encode returns the payload with fields separated by sep (LF or CRLF),
// without validating it.
func (b *Bill) Encode(sep string) string { return strings.Join(b.Fields(), sep) }

// Payload validates b and returns its payload with fields separated by sep.
func (b *Bill) Payload(sep string) (string, error) {
	if sep != LF && sep != CRLF {
		return "", fmt.Errorf("qrbill: separator must be LF or CRLF, got %q", sep)
	}
	if err := b.Validate(); err != nil {
		return "", err
	}
	return b.Encode(sep), nil
}

// FieldError is a rule of the guidelines that a field breaks.
type FieldError struct {
	// Field names the field as the guidelines do ("Cdtr.Name", "Amt").
	Field string
	Msg   string
}

// Error names the field and the rule it breaks.
func (e *FieldError) Error() string { return "QR-bill field " + e.Field + ": " + e.Msg }

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid QR-bill")

// Validate checks every field rule of IG QR-bill 2.3 and returns the
// problems found, each a *FieldError, joined; nil if the bill is valid.
func (b *Bill) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	acct := iban.Normalize(b.Account)
	qriban := false
	if err := iban.Check(acct); err != nil {
		bad("IBAN", "%v", err)
	} else {
		qriban = iban.IsQRIBAN(acct)
	}
	validateAddress("Cdtr", b.Creditor, true, bad)
	if !b.Debtor.IsZero() {
		validateAddress("UltmtDbtr", b.Debtor, true, bad)
	}
	if b.HasAmount && (b.Amount < MinAmount || b.Amount > MaxAmount) {
		bad("Amt", "amount %s is outside 0.01 to 999999999.99", b.Amount)
	}
	if c := b.currency(); c != "CHF" && c != "EUR" {
		bad("Ccy", "currency must be CHF or EUR, got %q", c)
	}
	ref := strings.ToUpper(compact(b.Reference))
	switch rt := b.RefType; rt {
	case QRR:
		if acct != "" && !qriban && iban.Check(acct) == nil {
			bad("Tp", "a QR reference (QRR) needs a QR-IBAN; %s is an ordinary IBAN", acct)
		}
		if err := CheckQRR(ref); err != nil {
			bad("Ref", "%v", err)
		}
	case SCOR:
		if qriban {
			bad("Tp", "a QR-IBAN needs a QR reference (QRR), not SCOR")
		}
		if err := CheckSCOR(ref); err != nil {
			bad("Ref", "%v", err)
		}
	case NON, "":
		if qriban {
			bad("Tp", "a QR-IBAN needs a QR reference (QRR)")
		}
		if ref != "" {
			bad("Ref", "reference must be empty for type NON")
		}
	default:
		bad("Tp", "reference type must be QRR, SCOR or NON, got %q", rt)
	}
	msg, info := clean(b.Message), clean(b.BillInfo)
	checkText("Ustrd", msg, maxMessage, bad)
	checkText("StrdBkgInf", info, maxMessage, bad)
	if n := utf8.RuneCountInString(msg) + utf8.RuneCountInString(info); n > maxMessage {
		bad("Ustrd", "message and bill information together have %d characters, at most %d allowed", n, maxMessage)
	}
	if info != "" && !strings.HasPrefix(info, "//") {
		bad("StrdBkgInf", "bill information must start with \"//\" (e.g. //S1/...)")
	}
	if len(b.AltSchemes) > maxAltSchemes {
		bad("AltPmt", "at most %d alternative procedures, got %d", maxAltSchemes, len(b.AltSchemes))
	}
	for _, a := range b.AltSchemes {
		checkText("AltPmt", clean(a), maxAltScheme, bad)
	}
	if len(errs) == 0 {
		if n := utf8.RuneCountInString(b.Encode(CRLF)); n > maxPayload {
			bad("QRCH", "payload has %d characters, at most %d allowed", n, maxPayload)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
}

func validateAddress(prefix string, a Address, required bool, bad func(field, format string, args ...any)) {
	switch a.typ() {
	case Combined:
		bad(prefix+".AdrTp", "combined addresses (type K) are no longer allowed (IG QR-bill 2.3); give street, number, postcode and town separately (type S)")
		return
	case Structured:
	default:
		bad(prefix+".AdrTp", "address type must be S, got %q", a.Type)
		return
	}
	req := func(field, v string) {
		if required && clean(v) == "" {
			bad(prefix+"."+field, "is required")
		}
	}
	req("Name", a.Name)
	req("PstCd", a.Postcode)
	req("TwnNm", a.Town)
	req("Ctry", a.Country)
	checkText(prefix+".Name", clean(a.Name), maxName, bad)
	checkText(prefix+".StrtNmOrAdrLine1", clean(a.Street), maxStreet, bad)
	checkText(prefix+".BldgNbOrAdrLine2", clean(a.Number), maxNumber, bad)
	checkText(prefix+".PstCd", clean(a.Postcode), maxPostcode, bad)
	checkText(prefix+".TwnNm", clean(a.Town), maxTown, bad)
	if c := strings.ToUpper(clean(a.Country)); c != "" && (len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z') {
		bad(prefix+".Ctry", "country must be an ISO 3166-1 two-letter code, got %q", a.Country)
	}
}

// checkText checks a field's length in characters and its character set.
func checkText(field, v string, max int, bad func(field, format string, args ...any)) {
	if n := utf8.RuneCountInString(v); n > max {
		bad(field, "%d characters, at most %d allowed", n, max)
	}
	for _, r := range v {
		if !Allowed(r) {
			bad(field, "character %q (U+%04X) is not in the QR-bill character set", r, r)
			return
		}
	}
}

// Allowed reports whether r may appear in a QR-bill field: Basic Latin,
// Latin-1 Supplement and Latin Extended-A without control characters, plus
// Ș ș Ț ț and the euro sign (IG QR-bill 2.3, section 4.1.1).
func Allowed(r rune) bool {
	switch {
	case r >= 0x20 && r <= 0x7E:
		return true
	case r >= 0xA0 && r <= 0x17F:
		return true
	case r >= 0x218 && r <= 0x21B:
		return true
	case r == 0x20AC:
		return true
	}
	return false
}

// Replace returns s with every character outside the QR-bill character set
// replaced by '.', so that free text from elsewhere never makes a bill
// invalid.
func Replace(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || Allowed(r) {
			return r
		}
		return '.'
	}, s)
}
