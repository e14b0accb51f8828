package importer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/collect"
	"github.com/zevdesk/zevdesk/core/qrbill"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/mem"
)

// benchStore returns a store with one site and n final invoices of CHF
// 100.00 + i Rappen, tenant "Tenant i".
func benchStore(tb testing.TB, n int) store.Store {
	st := mem.New()
	p := core.Period{From: core.MustDate(2026, 1, 1), To: core.MustDate(2026, 3, 31)}
	run := &billing.Run{Site: "birke", Period: p}
	numbers := map[string]int{}
	for i := 1; i <= n; i++ {
		key := fmt.Sprintf("occ:W%d:Tenant %d:2026-01-01", i, i)
		amt := core.Rappen(10000 + i)
		run.Invoices = append(run.Invoices, billing.Invoice{Number: i, Key: key, Unit: fmt.Sprintf("W%d", i),
			Tenant: fmt.Sprintf("Tenant %d", i), From: p.From, To: p.To, Total: amt, Balance: amt})
		numbers[key] = i
	}
	rj, _ := json.Marshal(run)
	rec, _ := json.Marshal(billing.Record{Site: "birke", Period: p, Committed: time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC),
		Numbers: numbers, Run: rj})
	err := st.Update(func(tx store.Tx) error {
		s := &core.Site{ID: "birke", Name: "ZEV Birke", Timezone: "Europe/Zurich",
			Operator: core.Operator{Name: "Immo AG", IBAN: "CH4431999123000889012"}}
		if err := tx.PutSite(s); err != nil {
			return err
		}
		if err := tx.PutMeta(billing.BucketCounter, "birke", []byte(strconv.Itoa(n))); err != nil {
			return err
		}
		return tx.PutMeta(billing.BucketRuns, "birke/"+p.String(), rec)
	})
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

// benchCamt returns a camt.054 file of n entries: half pay invoices by QR
// reference (some in part), half carry no reference and are matched by
// amount and debtor or left unassigned.
func benchCamt(tb testing.TB, n, invoices int) []byte {
	var es []camtEntry
	for i := range n {
		inv := i%invoices + 1
		tx := camtTx{ref: fmt.Sprintf("T%d", i), debtor: fmt.Sprintf("Tenant %d", inv), iban: "CH5604835012345678009"}
		amt := core.Rappen(10000 + inv)
		if i%2 == 0 {
			r, err := qrbill.InvoiceQRR("birke", inv)
			if err != nil {
				tb.Fatal(err)
			}
			tx.cref = r
			if i%4 == 0 {
				amt /= 2
			}
		}
		tx.amount = amt.String()
		es = append(es, camtEntry{ref: fmt.Sprintf("E%d", i), amount: tx.amount, txs: []camtTx{tx}})
	}
	return []byte(buildCamt("camt.054.001.08", es...))
}

// BenchmarkCamtImport parses a camt.054 file of 10,000 entries and books
// it against 5,000 open invoices in one transaction (in memory): the time
// an import takes beyond the store's own writes.
func BenchmarkCamtImport(b *testing.B) {
	doc := benchCamt(b, 10_000, 5_000)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		b.StopTimer()
		st := benchStore(b, 5_000)
		b.StartTimer()
		c, err := ParseCamt("bench.xml", bytes.NewReader(doc))
		if err != nil {
			b.Fatal(err)
		}
		var res *collect.BookResult
		err = st.Update(func(tx store.Tx) error {
			res, err = collect.Book(tx, "bench.xml", c.Payments, "bench", time.Now())
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.New) != 10_000 || res.ByReference != 5_000 {
			b.Fatalf("%+v", res)
		}
	}
}

// BenchmarkParseCamt parses the 10,000 entries of BenchmarkCamtImport's
// file alone.
func BenchmarkParseCamt(b *testing.B) {
	doc := benchCamt(b, 10_000, 5_000)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := ParseCamt("bench.xml", bytes.NewReader(doc)); err != nil {
			b.Fatal(err)
		}
	}
}
