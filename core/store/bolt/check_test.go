package bolt_test

import (
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
)

// TestCheckFindsCorruptBlock damages one interval block behind the store's
// back and expects Check and ReadIntervals to name it.
func TestCheckFindsCorruptBlock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "zevdesk.db")
	st, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	day := core.MustDate(2026, 3, 2).FirstSlot(time.UTC)
	id := store.SeriesID{Site: "birkenweg", Meter: "M-W01", Channel: store.Import}
	err = st.Update(func(tx store.Tx) error {
		var vals []store.Value
		for i := range 3 * core.SlotsPerUTCDay {
			vals = append(vals, store.Value{Slot: day + core.Slot(i), Energy: core.Energy(i) * core.Wh, Quality: store.Measured})
		}
		_, err := tx.PutIntervals(id, vals, store.KeepFirst)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Check(); err != nil {
		t.Fatalf("Check of a sound file: %v", err)
	}
	st.Close()

	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("intervals")).Bucket([]byte("birkenweg")).Bucket([]byte("M-W01\x00\x00"))
		k := binary.BigEndian.AppendUint32(nil, uint32(int64(day)/96+1<<31+1)) // the second day
		if b.Get(k) == nil {
			t.Fatalf("no block under %x", k)
		}
		return b.Put(k, []byte{0x03, 0xff}) // truncated
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	st, err = bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.Check()
	if err == nil {
		t.Fatal("Check passed a corrupt block")
	}
	for _, want := range []string{"birkenweg/M-W01/import", "2026-03-03", "corrupt interval block"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Check error %q does not mention %q", err, want)
		}
	}
	err = st.View(func(tx store.Tx) error {
		var ser store.Series
		return tx.ReadIntervals(id, day, day+3*core.SlotsPerUTCDay, &ser)
	})
	if err == nil || !strings.Contains(err.Error(), "2026-03-03") {
		t.Errorf("ReadIntervals over the corrupt day = %v", err)
	}
	// The other days still read.
	err = st.View(func(tx store.Tx) error {
		var ser store.Series
		if err := tx.ReadIntervals(id, day, day+core.SlotsPerUTCDay, &ser); err != nil {
			return err
		}
		if ser.Energy[95] != 95*core.Wh {
			t.Errorf("day 1 slot 95 = %d", ser.Energy[95])
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

func TestOpenInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "zevdesk.db")
	st, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = bolt.Open(path, &bolt.Options{Timeout: 50 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second Open = %v, want an in-use error", err)
	}
}
