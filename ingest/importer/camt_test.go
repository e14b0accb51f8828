package importer

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/zevdesk/zevdesk/core"
)

// camtTx is one transaction of a test entry.
type camtTx struct {
	ref, amount, refType, cref, debtor, iban, ustrd string
}

// camtEntry is one Ntry of a test file.
type camtEntry struct {
	ref, amount, ind, status string
	reversal                 bool
	txs                      []camtTx
}

// buildCamt writes a camt document of message (camt.054.001.08 and so on)
// with the standard's structure: GrpHdr, then Ntfctn (Stmt for camt.053)
// with the account and the entries, each with NtryDtls/TxDtls, related
// parties and structured remittance information.
func buildCamt(message string, entries ...camtEntry) string {
	v08 := strings.HasSuffix(message, ".08")
	root, block := "BkToCstmrDbtCdtNtfctn", "Ntfctn"
	if strings.HasPrefix(message, "camt.053") {
		root, block = "BkToCstmrStmt", "Stmt"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:%s" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <%s>
    <GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2026-05-04T08:00:00</CreDtTm></GrpHdr>
    <%s>
      <Id>N-1</Id>
      <CreDtTm>2026-05-04T08:00:00</CreDtTm>
      <Acct><Id><IBAN>CH4431999123000889012</IBAN></Id><Ccy>CHF</Ccy></Acct>
`, message, root, block)
	if block == "Stmt" {
		b.WriteString("      <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"CHF\">1000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-05-01</Dt></Dt></Bal>\n")
	}
	for _, e := range entries {
		status := e.status
		if status == "" {
			status = "BOOK"
		}
		ind := e.ind
		if ind == "" {
			ind = "CRDT"
		}
		sts := "<Sts>" + status + "</Sts>"
		if v08 {
			sts = "<Sts><Cd>" + status + "</Cd></Sts>"
		}
		b.WriteString("      <Ntry>\n")
		if e.ref != "" {
			fmt.Fprintf(&b, "        <NtryRef>%s</NtryRef>\n", e.ref)
		}
		fmt.Fprintf(&b, "        <Amt Ccy=\"CHF\">%s</Amt>\n        <CdtDbtInd>%s</CdtDbtInd>\n", e.amount, ind)
		if e.reversal {
			b.WriteString("        <RvslInd>true</RvslInd>\n")
		}
		fmt.Fprintf(&b, "        %s\n        <BookgDt><Dt>2026-05-04</Dt></BookgDt>\n        <ValDt><Dt>2026-05-05</Dt></ValDt>\n", sts)
		if e.ref != "" {
			fmt.Fprintf(&b, "        <AcctSvcrRef>%s</AcctSvcrRef>\n", e.ref)
		}
		b.WriteString("        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>VCOM</SubFmlyCd></Fmly></Domn></BkTxCd>\n")
		if len(e.txs) > 0 {
			b.WriteString("        <NtryDtls>\n")
			if len(e.txs) > 1 {
				fmt.Fprintf(&b, "          <Btch><NbOfTxs>%d</NbOfTxs></Btch>\n", len(e.txs))
			}
			for _, tx := range e.txs {
				b.WriteString("          <TxDtls>\n")
				if tx.ref != "" {
					fmt.Fprintf(&b, "            <Refs><AcctSvcrRef>%s</AcctSvcrRef><EndToEndId>NOTPROVIDED</EndToEndId></Refs>\n", tx.ref)
				}
				if v08 {
					fmt.Fprintf(&b, "            <Amt Ccy=\"CHF\">%s</Amt><CdtDbtInd>CRDT</CdtDbtInd>\n", tx.amount)
				} else {
					fmt.Fprintf(&b, "            <AmtDtls><TxAmt><Amt Ccy=\"CHF\">%s</Amt></TxAmt></AmtDtls>\n", tx.amount)
				}
				if tx.debtor != "" {
					if v08 {
						fmt.Fprintf(&b, "            <RltdPties><Dbtr><Pty><Nm>%s</Nm></Pty></Dbtr>", tx.debtor)
					} else {
						fmt.Fprintf(&b, "            <RltdPties><Dbtr><Nm>%s</Nm></Dbtr>", tx.debtor)
					}
					fmt.Fprintf(&b, "<DbtrAcct><Id><IBAN>%s</IBAN></Id></DbtrAcct></RltdPties>\n", tx.iban)
				}
				b.WriteString("            <RmtInf>\n")
				if tx.ustrd != "" {
					fmt.Fprintf(&b, "              <Ustrd>%s</Ustrd>\n", tx.ustrd)
				}
				if tx.cref != "" {
					tp := "<Prtry>QRR</Prtry>"
					if tx.refType == "SCOR" {
						tp = "<Cd>SCOR</Cd>"
					}
					fmt.Fprintf(&b, "              <Strd><CdtrRefInf><Tp><CdOrPrtry>%s</CdOrPrtry></Tp><Ref>%s</Ref></CdtrRefInf></Strd>\n", tp, tx.cref)
				}
				b.WriteString("            </RmtInf>\n          </TxDtls>\n")
			}
			b.WriteString("        </NtryDtls>\n")
		}
		b.WriteString("      </Ntry>\n")
	}
	fmt.Fprintf(&b, "    </%s>\n  </%s>\n</Document>\n", block, root)
	return b.String()
}

const testQRR = "210000000003139471430009017"

func sampleEntries() []camtEntry {
	return []camtEntry{
		{ref: "E1", amount: "150.45", txs: []camtTx{
			{ref: "E1-T1", amount: "100.40", cref: testQRR, debtor: "Anna Muster", iban: "CH5604835012345678009"},
			{ref: "E1-T2", amount: "50.05", cref: "RF18539007547034", refType: "SCOR", debtor: "Beat Beispiel",
				iban: "CH9300762011623852957", ustrd: "Rechnung 2"},
		}},
		{ref: "E2", amount: "80.05", txs: []camtTx{{amount: "80.05", debtor: "Carla Rossi", ustrd: "Strom Q1"}}},
		{ref: "E3", amount: "12.00", ind: "DBIT"},
		{ref: "E4", amount: "9.00", status: "PDNG"},
		{ref: "E5", amount: "7.00", reversal: true},
		{ref: "E6", amount: "5.55"},
	}
}

func TestParseCamtVersions(t *testing.T) {
	for _, msg := range []string{"camt.054.001.08", "camt.054.001.04", "camt.053.001.08", "camt.053.001.04"} {
		t.Run(msg, func(t *testing.T) {
			c, err := ParseCamt("bank.xml", strings.NewReader(buildCamt(msg, sampleEntries()...)))
			if err != nil {
				t.Fatal(err)
			}
			if c.Message != msg || c.MsgID != "MSG-1" || c.Debits != 1 || c.NotBooked != 1 || c.Reversals != 1 {
				t.Errorf("header and counts: %+v", c)
			}
			if len(c.Payments) != 4 {
				t.Fatalf("%d payments: %+v", len(c.Payments), c.Payments)
			}
			acct := "CH4431999123000889012"
			p := c.Payments[0]
			if p.ID != acct+"/E1-T1" || p.Amount != 10040 || p.Reference != testQRR || p.Debtor != "Anna Muster" ||
				p.DebtorIBAN != "CH5604835012345678009" || p.Account != acct || p.Currency != "CHF" ||
				p.Booked != core.MustDate(2026, 5, 4) || p.Value != core.MustDate(2026, 5, 5) {
				t.Errorf("first transaction: %+v", p)
			}
			p = c.Payments[1]
			if p.ID != acct+"/E1-T2" || p.Amount != 5005 || p.Reference != "RF18539007547034" || p.Message != "Rechnung 2" {
				t.Errorf("second transaction: %+v", p)
			}
			// A transaction without its own reference is keyed by the
			// entry's.
			p = c.Payments[2]
			if p.ID != acct+"/E2" || p.Amount != 8005 || p.Reference != "" || p.Debtor != "Carla Rossi" {
				t.Errorf("entry reference: %+v", p)
			}
			if p := c.Payments[3]; p.ID != acct+"/E6" || p.Amount != 555 {
				t.Errorf("entry without details: %+v", p)
			}
		})
	}
}

func TestParseCamtBatchWithoutOwnReferences(t *testing.T) {
	e := camtEntry{ref: "B1", amount: "3.00", txs: []camtTx{{amount: "1.00"}, {amount: "2.00"}}}
	c, err := ParseCamt("b.xml", strings.NewReader(buildCamt("camt.054.001.08", e)))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Payments) != 2 || c.Payments[0].ID == c.Payments[1].ID {
		t.Errorf("a batch's transactions need distinct ids: %+v", c.Payments)
	}
}

func TestParseCamtErrors(t *testing.T) {
	good := buildCamt("camt.054.001.08", sampleEntries()...)
	cases := []struct {
		name, doc string
		line      int // the line of the entry (<Ntry>) or of the XML error
		element   string
		msg       string
	}{
		{"pain", strings.Replace(good, "camt.054.001.08", "pain.001.001.09", 1), 2, "Document",
			`expected a camt.054 or camt.053 Document (versions 04 or 08), got <Document> in namespace "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"`},
		{"camt.054.001.02", strings.Replace(good, "camt.054.001.08", "camt.054.001.02", 1), 2, "Document", "versions 04 or 08"},
		{"wrong root", strings.ReplaceAll(good, "BkToCstmrDbtCdtNtfctn", "BkToCstmrStmt"), 3, "BkToCstmrStmt",
			"expected <BkToCstmrDbtCdtNtfctn> in a camt.054.001.08 document"},
		{"amount", strings.Replace(good, `<Amt Ccy="CHF">80.05</Amt>`, `<Amt Ccy="CHF">80,05</Amt>`, 1), 39,
			"BkToCstmrDbtCdtNtfctn/Ntfctn[0]/Ntry[1]/Amt", `got "80,05"`},
		{"tx amount", strings.Replace(good, `<Amt Ccy="CHF">100.40</Amt>`, `<Amt Ccy="CHF">100.401</Amt>`, 1), 9,
			"BkToCstmrDbtCdtNtfctn/Ntfctn[0]/Ntry[0]/NtryDtls/TxDtls[0]/Amt", "at most two decimals"},
		{"indicator", strings.Replace(good, "<CdtDbtInd>CRDT</CdtDbtInd>", "<CdtDbtInd>CREDIT</CdtDbtInd>", 1), 9,
			"BkToCstmrDbtCdtNtfctn/Ntfctn[0]/Ntry[0]/CdtDbtInd", `expected CRDT or DBIT, got "CREDIT"`},
		{"no reference", buildCamt("camt.054.001.08", camtEntry{amount: "1.00", txs: []camtTx{{amount: "1.00"}}}), 9,
			"Ntry[0]/NtryDtls/TxDtls[0]/Refs/AcctSvcrRef", "keeps a second import from booking it twice"},
		{"booking date", strings.Replace(good, "<BookgDt><Dt>2026-05-04</Dt></BookgDt>", "<BookgDt><Dt>04.05.2026</Dt></BookgDt>", 1), 9,
			"Ntry[0]/BookgDt", `expected a date YYYY-MM-DD, got "04.05.2026"`},
		{"mismatched end in an entry", strings.Replace(good, "</CdtDbtInd>", "</Cdt>", 1), 12, "", "element <CdtDbtInd> closed by </Cdt>"},
		{"mismatched end outside entries", strings.Replace(good, "</Ntfctn>", "</Stmt>", 1), 0,
			"BkToCstmrDbtCdtNtfctn/Ntfctn[0]", "element <Ntfctn> closed by </Stmt>"},
		{"unclosed document", strings.Replace(good, "</Document>", "", 1), 0, "", "the file ends inside the document"},
		{"long reference", strings.Replace(good, "<AcctSvcrRef>E1-T1</AcctSvcrRef>", "<AcctSvcrRef>"+strings.Repeat("X", 36)+"</AcctSvcrRef>", 1), 9,
			"Ntry[0]/NtryDtls/TxDtls[0]/Refs/AcctSvcrRef", "36 characters: the standard allows at most 35"},
		{"truncated", good[:len(good)/2], 0, "", "camt"},
		{"not xml", "Buchungsdatum;Betrag\n2026-05-04;100.40\n", 0, "", "camt"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseCamt("bank.xml", strings.NewReader(c.doc))
			if err == nil {
				t.Fatalf("accepted, %d payments", len(got.Payments))
			}
			var ce *CamtError
			if !errors.As(err, &ce) {
				t.Fatalf("%T %v: want a *CamtError", err, err)
			}
			if ce.File != "bank.xml" || (c.line != 0 && ce.Line != c.line) || !strings.Contains(ce.Element, c.element) ||
				!strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q (line %d, element %q); want line %d, element %q, %q", err, ce.Line, ce.Element, c.line,
					c.element, c.msg)
			}
		})
	}
}

// TestParseCamtPrefixedNamespace reads a file whose elements carry a
// namespace prefix, as some banks write them.
func TestParseCamtPrefixedNamespace(t *testing.T) {
	doc := buildCamt("camt.054.001.08", sampleEntries()...)
	doc = strings.Replace(doc, `<Document xmlns="`, `<Document xmlns:ns2="`, 1)
	doc = regexp.MustCompile(`<(/?)([A-Za-z])`).ReplaceAllString(doc, "<${1}ns2:$2")
	c, err := ParseCamt("ns2.xml", strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Payments) != 4 || c.Payments[0].Reference != testQRR || c.Payments[0].Account != "CH4431999123000889012" {
		t.Errorf("%+v", c.Payments)
	}
	// The prefix must be declared as a camt namespace.
	bad := strings.Replace(doc, "xmlns:ns2=", "xmlns:ns3=", 1)
	if _, err := ParseCamt("ns3.xml", strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "expected a camt.054") {
		t.Errorf("undeclared prefix: %v", err)
	}
}
