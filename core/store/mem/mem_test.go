package mem_test

import (
	"bytes"
	"errors"
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

func TestBackupAndClose(t *testing.T) {
	st := mem.New()
	err := st.Update(func(tx store.Tx) error {
		if err := tx.PutSite(storetest.FullSite("s")); err != nil {
			return err
		}
		_, err := tx.PutIntervals(store.SeriesID{Site: "s", Meter: "M"}, []store.Value{{Slot: 1, Energy: 5, Quality: store.Measured}}, store.KeepFirst)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := st.Backup(&buf)
	if err != nil || n == 0 || n != int64(buf.Len()) {
		t.Errorf("Backup = %d, %v (wrote %d bytes)", n, err, buf.Len())
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.View(func(store.Tx) error { return nil }); !errors.Is(err, mem.ErrClosed) {
		t.Errorf("View after Close = %v, want ErrClosed", err)
	}
}
