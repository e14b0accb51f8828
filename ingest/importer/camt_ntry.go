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
	// paths[i] is the path of stack[i] below the Ntry, or below the
	// TxDtls inside one ("Refs/AcctSvcrRef"), joined once per element.
	var paths []string
	var text []byte
	var amt *xAmt // the Amt element open, for its text
	var tx *xTx   // the TxDtls open
	txDepth := 0  // len(stack) at the TxDtls
	for {
		tok, err := d.RawToken()
		if err != nil {
			return n, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			var p string
			switch {
			case len(stack) == txDepth && tx != nil, len(stack) == 0:
				p = t.Name.Local
			default:
				p = paths[len(paths)-1] + "/" + t.Name.Local
			}
			stack = append(stack, t.Name)
			text = text[:0]
			switch {
			case tx == nil && p == "NtryDtls":
				n.NtryDtls = append(n.NtryDtls, struct {
					TxDtls []xTx `xml:"TxDtls"`
				}{})
			case tx == nil && p == "NtryDtls/TxDtls":
				dt := &n.NtryDtls[len(n.NtryDtls)-1]
				dt.TxDtls = append(dt.TxDtls, xTx{})
				tx = &dt.TxDtls[len(dt.TxDtls)-1]
				txDepth = len(stack)
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
			paths = append(paths, p)
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
			p := paths[len(paths)-1]
			switch {
			case tx != nil && len(stack) == txDepth:
				tx = nil // </TxDtls>
			case tx != nil:
				tx.set(p, text, amt)
			default:
				n.set(p, text, amt)
			}
			if t.Name.Local == "Amt" {
				amt = nil
			}
			stack, paths = stack[:len(stack)-1], paths[:len(paths)-1]
			text = text[:0]
		}
	}
}

// set stores the text of the element at path p (relative to the Ntry);
// only the elements read become strings.
func (n *xNtry) set(p string, text []byte, amt *xAmt) {
	switch p {
	case "NtryRef":
		n.NtryRef = string(text)
	case "Amt":
		if amt != nil {
			amt.Value = string(text)
		}
	case "CdtDbtInd":
		n.CdtDbtInd = string(text)
	case "RvslInd":
		n.RvslInd = string(text)
	case "Sts":
		n.Sts.Text = string(text)
	case "Sts/Cd":
		n.Sts.Cd = string(text)
	case "BookgDt/Dt":
		n.BookgDt.Dt = string(text)
	case "BookgDt/DtTm":
		n.BookgDt.DtTm = string(text)
	case "ValDt/Dt":
		n.ValDt.Dt = string(text)
	case "ValDt/DtTm":
		n.ValDt.DtTm = string(text)
	case "AcctSvcrRef":
		n.AcctSvcrRef = string(text)
	}
}

// set stores the text of the element at path p (relative to the TxDtls).
func (tx *xTx) set(p string, text []byte, amt *xAmt) {
	switch p {
	case "Refs/AcctSvcrRef":
		tx.Refs.AcctSvcrRef = string(text)
	case "Refs/EndToEndId":
		tx.Refs.EndToEndID = string(text)
	case "Amt", "AmtDtls/TxAmt/Amt":
		if amt != nil {
			amt.Value = string(text)
		}
	case "CdtDbtInd":
		tx.CdtDbtInd = string(text)
	case "RltdPties/Dbtr/Nm":
		tx.RltdPties.Dbtr.Nm = string(text)
	case "RltdPties/Dbtr/Pty/Nm":
		tx.RltdPties.Dbtr.Pty.Nm = string(text)
	case "RltdPties/DbtrAcct/Id/IBAN":
		tx.RltdPties.DbtrAcct.ID.IBAN = string(text)
	case "RltdPties/UltmtDbtr/Nm":
		tx.RltdPties.UltmtDbtr.Nm = string(text)
	case "RltdPties/UltmtDbtr/Pty/Nm":
		tx.RltdPties.UltmtDbtr.Pty.Nm = string(text)
	case "RmtInf/Ustrd":
		tx.RmtInf.Ustrd = append(tx.RmtInf.Ustrd, string(text))
	case "RmtInf/Strd/CdtrRefInf/Ref":
		if len(tx.RmtInf.Strd) > 0 {
			tx.RmtInf.Strd[len(tx.RmtInf.Strd)-1].CdtrRefInf.Ref = string(text)
		}
	case "RmtInf/Strd/AddtlRmtInf":
		if len(tx.RmtInf.Strd) > 0 {
			st := &tx.RmtInf.Strd[len(tx.RmtInf.Strd)-1]
			st.AddtlRmtInf = append(st.AddtlRmtInf, string(text))
		}
	case "AddtlTxInf":
		tx.AddtlTxInf = string(text)
	}
}
