package postgres_test

import (
	"path/filepath"
	"testing"

	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/core/store/mem"
	"github.com/zevdesk/zevdesk/core/store/storetest"
)

// TestMatchesMem: the PostgreSQL store gives the same results and contents
// as the in-memory one and the bbolt one under the same random transactions
// (storetest.Match).
func TestMatchesMem(t *testing.T) {
	b := openTemp(t)
	defer b.Close()
	bb, err := bolt.Open(filepath.Join(t.TempDir(), "zevdesk.db"), &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bb.Close()
	storetest.Match(t, []string{"mem", "postgres", "bbolt"}, mem.New(), b, bb)
}
