package vee

import (
	"path/filepath"
	"testing"

	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/core/store/mem"
)

// onStores runs fn in one read-write transaction on each store: the
// in-memory one and a real bbolt file under t.TempDir(), whose consistency
// is checked afterwards. The site of testSite is stored first.
func onStores(t *testing.T, fn func(t *testing.T, tx store.Tx)) {
	t.Helper()
	for _, kind := range []string{"mem", "bolt"} {
		t.Run(kind, func(t *testing.T) {
			var st store.Store = mem.New()
			if kind == "bolt" {
				b, err := bolt.Open(filepath.Join(t.TempDir(), "office.db"), &bolt.Options{NoSync: true})
				if err != nil {
					t.Fatal(err)
				}
				st = b
			}
			t.Cleanup(func() {
				if err := st.Check(); err != nil {
					t.Errorf("store check: %v", err)
				}
				st.Close()
			})
			err := st.Update(func(tx store.Tx) error {
				if err := tx.PutSite(testSite()); err != nil {
					return err
				}
				fn(t, tx)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// auditOf returns the whole audit log.
func auditOf(t *testing.T, tx store.Tx) []store.Entry {
	t.Helper()
	var es []store.Entry
	if err := tx.ScanAudit(0, func(e store.Entry) bool { es = append(es, e); return true }); err != nil {
		t.Fatal(err)
	}
	return es
}
