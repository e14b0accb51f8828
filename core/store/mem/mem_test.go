package mem_test

import (
	"testing"

	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/mem"
	"github.com/zevdesk/zevdesk/core/store/storetest"
)

func TestSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		st := mem.New()
		t.Cleanup(func() {
			if err := st.Check(); err != nil {
				t.Errorf("Check: %v", err)
			}
		})
		return st
	})
}
