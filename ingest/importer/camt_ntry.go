package importer

import (
	"encoding/xml"
	"fmt"
	"strings"
)

// readTexts reads the subtree of the element start (its start element
// read last), calling fn with each element's path below it and its text,
// up to start's end element. It checks that end elements match.
func readTexts(d *xml.Decoder, start xml.Name, fn func(path, text string)) error {
	var stack []xml.Name
	var path []string
	var text []byte
	for {
		tok, err := d.RawToken()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, t.Name)
			path = append(path, t.Name.Local)
			text = text[:0]
		case xml.CharData:
			text = append(text, t...)
		case xml.EndElement:
			top := start
			if len(stack) > 0 {
				top = stack[len(stack)-1]
			}
			if top != t.Name {
				line, _ := d.InputPos()
				return &xml.SyntaxError{Line: line, Msg: fmt.Sprintf("element <%s> closed by </%s>", top.Local, t.Name.Local)}
			}
			if len(stack) == 0 {
				return nil
			}
			fn(strings.Join(path, "/"), string(text))
			stack, path = stack[:len(stack)-1], path[:len(path)-1]
			text = text[:0]
		}
	}
}

// readNtry reads an entry (its start element read last) into an xNtry:
// by readTexts' walk over the raw tokens rather than DecodeElement, which
// spent a third of a large file's time in reflection.
func readNtry(d *xml.Decoder, start xml.Name) (xNtry, error) {
	var n xNtry
	var stack []xml.Name
	var path []string
	var text []byte
	var amt *xAmt // the Amt element open, for its text
	var tx *xTx   // the TxDtls open
	for {
		tok, err := d.RawToken()
		if err != nil {
			return n, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, t.Name)
			path = append(path, t.Name.Local)
			text = text[:0]
			rel := path
			if tx != nil {
				rel = path[2:]
			}
			switch p := strings.Join(rel, "/"); {
			case tx == nil && p == "NtryDtls":
				n.NtryDtls = append(n.NtryDtls, struct {
					TxDtls []xTx `xml:"TxDtls"`
				}{})
			case tx == nil && p == "NtryDtls/TxDtls":
				dt := &n.NtryDtls[len(n.NtryDtls)-1]
				dt.TxDtls = append(dt.TxDtls, xTx{})
				tx = &dt.TxDtls[len(dt.TxDtls)-1]
			case t.Name.Local == "Amt":
				a := &xAmt{}
				for _, at := range t.Attr {
					if at.Name.Local == "Ccy" {
						a.Ccy = at.Value
					}
				}
				switch {
				case tx == nil && p == "Amt":
					n.Amt, amt = a, a
				case tx != nil && p == "Amt":
					tx.Amt, amt = a, a
				case tx != nil && p == "AmtDtls/TxAmt/Amt":
					tx.AmtDtls.TxAmt.Amt, amt = a, a
				}
			case tx != nil && p == "RmtInf/Strd":
				tx.RmtInf.Strd = append(tx.RmtInf.Strd, struct {
					CdtrRefInf struct {
						Ref string `xml:"Ref"`
					} `xml:"CdtrRefInf"`
					AddtlRmtInf []string `xml:"AddtlRmtInf"`
				}{})
			}
		case xml.CharData:
			text = append(text, t...)
		case xml.EndElement:
			top := start
			if len(stack) > 0 {
				top = stack[len(stack)-1]
			}
			if top != t.Name {
				line, _ := d.InputPos()
				return n, &xml.SyntaxError{Line: line, Msg: fmt.Sprintf("element <%s> closed by </%s>", top.Local, t.Name.Local)}
			}
			if len(stack) == 0 {
				return n, nil // </Ntry>
			}
			s := string(text)
			switch {
			case tx == nil:
				n.set(strings.Join(path, "/"), s, amt)
			case len(path) == 2:
				tx = nil // </TxDtls>
			default:
				tx.set(strings.Join(path[2:], "/"), s, amt)
			}
			if t.Name.Local == "Amt" {
				amt = nil
			}
			stack, path = stack[:len(stack)-1], path[:len(path)-1]
			text = text[:0]
		}
	}
}

// set stores the text of the element at path p (relative to the Ntry).
func (n *xNtry) set(p, s string, amt *xAmt) {
	switch p {
	case "NtryRef":
		n.NtryRef = s
	case "Amt":
		if amt != nil {
			amt.Value = s
		}
	case "CdtDbtInd":
		n.CdtDbtInd = s
	case "RvslInd":
		n.RvslInd = s
	case "Sts":
		n.Sts.Text = s
	case "Sts/Cd":
		n.Sts.Cd = s
	case "BookgDt/Dt":
		n.BookgDt.Dt = s
	case "BookgDt/DtTm":
		n.BookgDt.DtTm = s
	case "ValDt/Dt":
		n.ValDt.Dt = s
	case "ValDt/DtTm":
		n.ValDt.DtTm = s
	case "AcctSvcrRef":
		n.AcctSvcrRef = s
	}
}

// set stores the text of the element at path p (relative to the TxDtls).
func (tx *xTx) set(p, s string, amt *xAmt) {
	switch p {
	case "Refs/AcctSvcrRef":
		tx.Refs.AcctSvcrRef = s
	case "Refs/EndToEndId":
		tx.Refs.EndToEndID = s
	case "Amt", "AmtDtls/TxAmt/Amt":
		if amt != nil {
			amt.Value = s
		}
	case "CdtDbtInd":
		tx.CdtDbtInd = s
	case "RltdPties/Dbtr/Nm":
		tx.RltdPties.Dbtr.Nm = s
	case "RltdPties/Dbtr/Pty/Nm":
		tx.RltdPties.Dbtr.Pty.Nm = s
	case "RltdPties/DbtrAcct/Id/IBAN":
		tx.RltdPties.DbtrAcct.ID.IBAN = s
	case "RltdPties/UltmtDbtr/Nm":
		tx.RltdPties.UltmtDbtr.Nm = s
	case "RltdPties/UltmtDbtr/Pty/Nm":
		tx.RltdPties.UltmtDbtr.Pty.Nm = s
	case "RmtInf/Ustrd":
		tx.RmtInf.Ustrd = append(tx.RmtInf.Ustrd, s)
	case "RmtInf/Strd/CdtrRefInf/Ref":
		if len(tx.RmtInf.Strd) > 0 {
			tx.RmtInf.Strd[len(tx.RmtInf.Strd)-1].CdtrRefInf.Ref = s
		}
	case "RmtInf/Strd/AddtlRmtInf":
		if len(tx.RmtInf.Strd) > 0 {
			st := &tx.RmtInf.Strd[len(tx.RmtInf.Strd)-1]
			st.AddtlRmtInf = append(st.AddtlRmtInf, s)
		}
	case "AddtlTxInf":
		tx.AddtlTxInf = s
	}
}
