package bolt_test

import (
	"path/filepath"
	"testing"

	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/core/store/storetest"
)

// openTemp opens a new database under t.TempDir and checks its consistency
// when the test ends.
func openTemp(t *testing.T) *bolt.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "zevdesk.db")
	st, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The suite closes the store; reopen to check what is on disk.
		st, err := bolt.Open(path, nil)
		if err != nil {
			t.Errorf("reopening for the check: %v", err)
			return
		}
		defer st.Close()
		if err := st.Check(); err != nil {
			t.Errorf("Check: %v", err)
		}
	})
	return st
}

func TestSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}
