package qrbill

import (
	"fmt"
	"strings"

	"github.com/zevdesk/zevdesk/core"
)

// Parse reads a QR-bill payload (fields separated by LF or CR LF) back into
// a Bill, checking its structure: the header SPC/0200/1, 31 fields up to
// the trailer EPD, at most three optional fields after it. It does not
// apply the field rules; call Validate for those.
func Parse(payload string) (*Bill, error) {
	f := strings.Split(strings.ReplaceAll(payload, "\r\n", "\n"), "\n")
	if len(f) < 31 || len(f) > 34 {
		return nil, fmt.Errorf("QR-bill payload: %d fields, expected 31 to 34", len(f))
	}
	if f[0] != "SPC" || f[1] != "0200" || f[2] != "1" {
		return nil, fmt.Errorf("QR-bill payload: header %q/%q/%q, expected SPC/0200/1", f[0], f[1], f[2])
	}
	if f[30] != "EPD" {
		return nil, fmt.Errorf("QR-bill payload: field 31 is %q, expected the trailer EPD", f[30])
	}
	addr := func(a []string) Address {
		return Address{Type: AddressType(a[0]), Name: a[1], Street: a[2], Number: a[3], Postcode: a[4], Town: a[5], Country: a[6]}
	}
	for i := 11; i < 18; i++ {
		if f[i] != "" {
			return nil, fmt.Errorf("QR-bill payload: the ultimate creditor (fields 12 to 18) must be empty")
		}
	}
	b := &Bill{Account: f[3], Creditor: addr(f[4:11]), Currency: f[19], Debtor: addr(f[20:27]),
		RefType: RefType(f[27]), Reference: f[28], Message: f[29]}
	if b.Debtor.Type == "" && b.Debtor.IsZero() {
		b.Debtor = Address{}
	}
	if f[18] != "" {
		r, err := core.ParseCHF(f[18])
		if err != nil || !strings.Contains(f[18], ".") || len(f[18])-strings.IndexByte(f[18], '.') != 3 {
			return nil, fmt.Errorf("QR-bill payload: amount %q: expected digits with two decimals", f[18])
		}
		b.Amount, b.HasAmount = r, true
	}
	if len(f) > 31 {
		b.BillInfo = f[31]
		b.AltSchemes = f[32:]
	}
	return b, nil
}
