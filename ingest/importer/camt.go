package importer

import (
	"cmp"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/collect"
	"github.com/zevdesk/zevdesk/core/store"
)

// camtNamespaces are the ISO 20022 bank-to-customer messages read: the
// Swiss Payment Standards' camt.054 (debit/credit notification) and
// camt.053 (statement), versions 08 and the older 04, with their root
// element under Document.
var camtNamespaces = map[string]string{
	"urn:iso:std:iso:20022:tech:xsd:camt.054.001.08": "BkToCstmrDbtCdtNtfctn",
	"urn:iso:std:iso:20022:tech:xsd:camt.054.001.04": "BkToCstmrDbtCdtNtfctn",
	"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08": "BkToCstmrStmt",
	"urn:iso:std:iso:20022:tech:xsd:camt.053.001.04": "BkToCstmrStmt",
}

// CamtError is a camt file that cannot be read: the file, the line, the
// element's path from the message root and what was expected.
type CamtError struct {
	File    string
	Line    int
	Element string
	Msg     string
}

func (e *CamtError) Error() string {
	s := e.File
	if e.Line > 0 {
		s += fmt.Sprintf(":%d", e.Line)
	}
	if e.Element != "" {
		s += ": " + e.Element
	}
	return s + ": " + e.Msg
}

// Camt is a parsed camt.053 or camt.054 file.
type Camt struct {
	// Message is the message name and version ("camt.054.001.08"); MsgID
	// the bank's message id.
	Message string
	MsgID   string
	// Payments are the booked credits, one per transaction (TxDtls) of an
	// entry, or one per entry without transaction details.
	Payments []collect.Payment
	// Debits, Reversals and NotBooked count the entries left out: debits,
	// reversed credits and entries whose status is not BOOK.
	Debits, Reversals, NotBooked int
}

type xAmt struct {
	Value string `xml:",chardata"`
	Ccy   string `xml:"Ccy,attr"`
}

type xDate struct {
	Dt   string `xml:"Dt"`
	DtTm string `xml:"DtTm"`
}

type xParty struct {
	Nm  string `xml:"Nm"`
	Pty struct {
		Nm string `xml:"Nm"`
	} `xml:"Pty"`
}

func (p xParty) name() string { return strings.TrimSpace(cmp.Or(p.Pty.Nm, p.Nm)) }

type xTx struct {
	Refs struct {
		AcctSvcrRef string `xml:"AcctSvcrRef"`
		EndToEndID  string `xml:"EndToEndId"`
	} `xml:"Refs"`
	Amt     *xAmt `xml:"Amt"`
	AmtDtls struct {
		TxAmt struct {
			Amt *xAmt `xml:"Amt"`
		} `xml:"TxAmt"`
	} `xml:"AmtDtls"`
	CdtDbtInd string `xml:"CdtDbtInd"`
	RltdPties struct {
		Dbtr     xParty `xml:"Dbtr"`
		DbtrAcct struct {
			ID struct {
				IBAN string `xml:"IBAN"`
			} `xml:"Id"`
		} `xml:"DbtrAcct"`
		UltmtDbtr xParty `xml:"UltmtDbtr"`
	} `xml:"RltdPties"`
	RmtInf struct {
		Ustrd []string `xml:"Ustrd"`
		Strd  []struct {
			CdtrRefInf struct {
				Ref string `xml:"Ref"`
			} `xml:"CdtrRefInf"`
			AddtlRmtInf []string `xml:"AddtlRmtInf"`
		} `xml:"Strd"`
	} `xml:"RmtInf"`
	AddtlTxInf string `xml:"AddtlTxInf"`
}

type xNtry struct {
	NtryRef   string `xml:"NtryRef"`
	Amt       *xAmt  `xml:"Amt"`
	CdtDbtInd string `xml:"CdtDbtInd"`
	RvslInd   string `xml:"RvslInd"`
	// Sts is a code in version 04 (<Sts>BOOK</Sts>) and a choice in 08
	// (<Sts><Cd>BOOK</Cd></Sts>).
	Sts struct {
		Text string `xml:",chardata"`
		Cd   string `xml:"Cd"`
	} `xml:"Sts"`
	BookgDt     xDate  `xml:"BookgDt"`
	ValDt       xDate  `xml:"ValDt"`
	AcctSvcrRef string `xml:"AcctSvcrRef"`
	NtryDtls    []struct {
		TxDtls []xTx `xml:"TxDtls"`
	} `xml:"NtryDtls"`
}

// ParseCamt reads a camt.054 or camt.053 file (versions 08 and 04, as
// Swiss banks deliver them) and returns its booked credits as payments.
// Anything malformed or foreign is one *CamtError naming the line and the
// element; nothing is returned with it, so nothing half-read is booked.
func ParseCamt(name string, r io.Reader) (*Camt, error) {
	d := xml.NewDecoder(r)
	fail := func(el, format string, args ...any) error {
		line, _ := d.InputPos()
		return &CamtError{File: name, Line: line, Element: el, Msg: fmt.Sprintf(format, args...)}
	}
	syntax := func(err error) error {
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			if se.Msg == "unexpected EOF" {
				return &CamtError{File: name, Line: se.Line, Msg: "the file ends inside the document: not a complete camt file"}
			}
			return &CamtError{File: name, Line: se.Line, Msg: "not well-formed XML: " + se.Msg}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fail("", "the file ends inside the document: not a complete camt file")
		}
		return fail("", "reading: %v", err)
	}
	// The decoder's raw tokens are read, without its namespace
	// translation (a fifth of the time on a large file): the root's
	// namespace is looked up here, and element names inside are matched
	// by their local part, whatever prefix the bank uses. RawToken does
	// not check that end elements match, so the loop does.
	c := &Camt{}
	var stack []xml.Name
	var path []string // element names below Document, with indices
	var counts []map[string]int
	rootName := ""
	account := ""
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			if len(stack) > 0 {
				return nil, fail("", "the file ends inside the document: not a complete camt file")
			}
			break
		}
		if err != nil {
			return nil, syntax(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 {
				if rootName != "" {
					return nil, fail(t.Name.Local, "a second root element after the Document")
				}
				ns := namespaceOf(t)
				want, ok := camtNamespaces[ns]
				if t.Name.Local != "Document" || !ok {
					return nil, fail(t.Name.Local, "expected a camt.054 or camt.053 Document (versions 04 or 08), "+
						"got <%s> in namespace %q", t.Name.Local, ns)
				}
				rootName = want
				c.Message = ns[strings.LastIndex(ns, ":")+1:]
				stack = append(stack, t.Name)
				counts = append(counts, map[string]int{})
				continue
			}
			idx := counts[len(counts)-1][t.Name.Local]
			counts[len(counts)-1][t.Name.Local]++
			el := t.Name.Local
			if el == "Ntfctn" || el == "Stmt" || el == "Ntry" {
				el = fmt.Sprintf("%s[%d]", el, idx)
			}
			switch {
			case len(path) == 0 && t.Name.Local != rootName:
				return nil, fail(t.Name.Local, "expected <%s> in a %s document", rootName, c.Message)
			case len(path) == 1 && t.Name.Local == "GrpHdr":
				err := readTexts(d, t.Name, func(p, s string) {
					if p == "MsgId" {
						c.MsgID = s
					}
				})
				if err != nil {
					return nil, syntax(err)
				}
				continue
			case len(path) == 2 && t.Name.Local == "Acct":
				var iban, other string
				err := readTexts(d, t.Name, func(p, s string) {
					switch p {
					case "Id/IBAN":
						iban = s
					case "Id/Othr/Id":
						other = s
					}
				})
				if err != nil {
					return nil, syntax(err)
				}
				account = strings.ReplaceAll(strings.TrimSpace(cmp.Or(iban, other)), " ", "")
				continue
			case len(path) == 2 && t.Name.Local == "Ntry":
				line, _ := d.InputPos()
				n, err := readNtry(d, t.Name)
				if err != nil {
					return nil, syntax(err)
				}
				ep := strings.Join(append(path, el), "/")
				if err := c.entry(n, account, ep); err != nil {
					err.File, err.Line = name, line
					return nil, err
				}
				continue
			}
			stack = append(stack, t.Name)
			path = append(path, el)
			counts = append(counts, map[string]int{})
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, fail(t.Name.Local, "end element </%s> without a start", t.Name.Local)
			}
			if top := stack[len(stack)-1]; top != t.Name {
				return nil, fail(strings.Join(path, "/"), "not well-formed XML: element <%s> closed by </%s>",
					top.Local, t.Name.Local)
			}
			stack = stack[:len(stack)-1]
			counts = counts[:len(counts)-1]
			if len(path) > 0 {
				path = path[:len(path)-1]
			}
		}
	}
	if rootName == "" {
		return nil, fail("", "no XML document: expected a camt.054 or camt.053 file")
	}
	return c, nil
}

// namespaceOf returns the namespace of a start element read as a raw
// token: its prefix's declaration (or the default one) among its
// attributes.
func namespaceOf(t xml.StartElement) string {
	for _, a := range t.Attr {
		if t.Name.Space == "" && a.Name.Space == "" && a.Name.Local == "xmlns" ||
			t.Name.Space != "" && a.Name.Space == "xmlns" && a.Name.Local == t.Name.Space {
			return a.Value
		}
	}
	return ""
}

// maxRef is the length of the standard's Max35Text, which the bank's
// references are: they become store keys, so a longer one is refused
// rather than stored.
const maxRef = 35

// entry adds a booked credit entry's payments.
func (c *Camt) entry(n xNtry, account, ep string) *CamtError {
	bad := func(el, format string, args ...any) *CamtError {
		if el != "" {
			el = ep + "/" + el
		} else {
			el = ep
		}
		return &CamtError{Element: el, Msg: fmt.Sprintf(format, args...)}
	}
	amt, ccy, err := amount(n.Amt)
	if err != "" {
		return bad("Amt", "%s", err)
	}
	ind := n.CdtDbtInd
	if ind != "CRDT" && ind != "DBIT" {
		return bad("CdtDbtInd", "expected CRDT or DBIT, got %q", ind)
	}
	status := strings.TrimSpace(cmp.Or(n.Sts.Cd, n.Sts.Text))
	if status == "" {
		return bad("Sts", "missing: expected the entry's status (BOOK, PDNG or INFO)")
	}
	booked, derr := camtDate(n.BookgDt)
	if derr != "" && status == "BOOK" {
		return bad("BookgDt", "%s", derr)
	}
	value, _ := camtDate(n.ValDt)
	switch {
	case status != "BOOK":
		c.NotBooked++
		return nil
	case ind == "DBIT":
		c.Debits++
		return nil
	case n.RvslInd == "true":
		c.Reversals++
		return nil
	}
	ref := strings.TrimSpace(cmp.Or(n.AcctSvcrRef, n.NtryRef))
	if len(ref) > maxRef {
		return bad("AcctSvcrRef", "%d characters: the standard allows at most %d", len(ref), maxRef)
	}
	var txs []xTx
	for _, d := range n.NtryDtls {
		txs = append(txs, d.TxDtls...)
	}
	base := collect.Payment{Account: account, Booked: booked, Value: value, Currency: ccy}
	if len(txs) == 0 {
		if ref == "" {
			return bad("AcctSvcrRef", "missing, and no NtryRef: an entry needs the bank's reference, "+
				"which keeps a second import of the file from booking it twice")
		}
		p := base
		p.ID, p.Amount = account+"/"+ref, amt
		c.Payments = append(c.Payments, p)
		return nil
	}
	var sum core.Rappen
	for i, tx := range txs {
		tp := fmt.Sprintf("NtryDtls/TxDtls[%d]", i)
		if tx.CdtDbtInd == "DBIT" {
			c.Debits++
			continue
		}
		p := base
		a := tx.Amt
		if a == nil {
			a = tx.AmtDtls.TxAmt.Amt
		}
		if a == nil && len(txs) == 1 {
			a = n.Amt
		}
		var e string
		if p.Amount, p.Currency, e = amount(a); e != "" {
			return bad(tp+"/Amt", "%s", e)
		}
		sum += p.Amount
		id := strings.TrimSpace(tx.Refs.AcctSvcrRef)
		if len(id) > maxRef {
			return bad(tp+"/Refs/AcctSvcrRef", "%d characters: the standard allows at most %d", len(id), maxRef)
		}
		switch {
		case id != "":
		case ref == "":
			return bad(tp+"/Refs/AcctSvcrRef", "missing, and the entry has no AcctSvcrRef or NtryRef: "+
				"a booking needs the bank's reference, which keeps a second import from booking it twice")
		case len(txs) == 1:
			id = ref
		default:
			id = fmt.Sprintf("%s/%d", ref, i)
		}
		p.ID = account + "/" + id
		for _, s := range tx.RmtInf.Strd {
			if r := strings.TrimSpace(s.CdtrRefInf.Ref); r != "" && p.Reference == "" {
				p.Reference = r
			}
			for _, m := range s.AddtlRmtInf {
				p.Message = joinText(p.Message, m)
			}
		}
		for _, m := range tx.RmtInf.Ustrd {
			p.Message = joinText(p.Message, m)
		}
		p.Debtor = cmp.Or(tx.RltdPties.Dbtr.name(), tx.RltdPties.UltmtDbtr.name())
		p.DebtorIBAN = strings.ReplaceAll(tx.RltdPties.DbtrAcct.ID.IBAN, " ", "")
		c.Payments = append(c.Payments, p)
	}
	return nil
}

func joinText(a, b string) string {
	b = strings.TrimSpace(b)
	switch {
	case b == "":
		return a
	case a == "":
		return b
	}
	return a + " " + b
}

// amount reads a camt amount: a positive decimal with at most two places
// and a currency.
func amount(a *xAmt) (core.Rappen, string, string) {
	if a == nil {
		return 0, "", "missing: expected an amount such as <Amt Ccy=\"CHF\">123.45</Amt>"
	}
	v := strings.TrimSpace(a.Value)
	r, err := core.ParseCHF(v)
	if err != nil || r <= 0 || strings.HasPrefix(v, "+") {
		return 0, "", fmt.Sprintf("expected a positive amount with at most two decimals such as 123.45, got %q", v)
	}
	if len(a.Ccy) != 3 {
		return 0, "", fmt.Sprintf("expected a currency code such as Ccy=\"CHF\", got %q", a.Ccy)
	}
	return r, a.Ccy, ""
}

func camtDate(x xDate) (core.Date, string) {
	s := strings.TrimSpace(x.Dt)
	if s == "" && len(strings.TrimSpace(x.DtTm)) >= 10 {
		s = strings.TrimSpace(x.DtTm)[:10]
	}
	if s == "" {
		return core.Date{}, "missing: expected <Dt>YYYY-MM-DD</Dt> or <DtTm>"
	}
	d, err := core.ParseDate(s)
	if err != nil {
		return core.Date{}, fmt.Sprintf("expected a date YYYY-MM-DD, got %q", s)
	}
	return d, ""
}

// ImportCamt books a parsed camt file's payments in one transaction
// (collect.Book): matched to the office's invoices, payments already
// booked by an earlier import skipped, the import audit-logged.
func ImportCamt(st store.Store, file string, c *Camt, actor string, now time.Time) (*collect.BookResult, error) {
	var res *collect.BookResult
	err := st.Update(func(tx store.Tx) error {
		var err error
		res, err = collect.Book(tx, file, c.Payments, actor, now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("booking %s: %w", file, err)
	}
	return res, nil
}
