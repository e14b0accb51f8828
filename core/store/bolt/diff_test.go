package bolt_test

import (
	"testing"

	"github.com/zevdesk/zevdesk/core/store/mem"
	"github.com/zevdesk/zevdesk/core/store/storetest"
)

// TestMatchesMem: the bbolt store and the in-memory one, two independent
// implementations of the store's rules, give the same results and contents
// under the same random transactions (storetest.Match).
func TestMatchesMem(t *testing.T) {
	b := openTemp(t)
	defer b.Close()
	storetest.Match(t, []string{"mem", "bbolt"}, mem.New(), b)
}
