package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core/store"
)

// testNotify: a store that announces commits (store.Notifier) announces
// every committed Update, none for a rolled-back one, and nothing after the
// subscription stopped. Views rely on it to refresh without a restart.
func testNotify(t *testing.T, st store.Store) {
	n, ok := st.(store.Notifier)
	if !ok {
		t.Skip("the store does not announce commits")
	}
	calls := make(chan struct{}, 16)
	stop := n.Subscribe(func() { calls <- struct{}{} })
	// wait bounds a wait for an announcement that must come; a missing one
	// fails instead of hanging the suite.
	wait := func(what string) {
		t.Helper()
		select {
		case <-calls:
		case <-time.After(10 * time.Second):
			t.Fatalf("no announcement after %s", what)
		}
	}
	update(t, st, func(tx store.Tx) error { return tx.PutMeta("storetest", "k", []byte("1")) })
	wait("a committed Update")

	boom := errors.New("boom")
	if err := st.Update(func(tx store.Tx) error {
		if err := tx.PutMeta("storetest", "k", []byte("2")); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want %v", err, boom)
	}
	// quiet fails on an announcement within a moment: it cannot fail
	// spuriously, only miss one on a very slow machine.
	quiet := func(what string) {
		t.Helper()
		select {
		case <-calls:
			t.Errorf("an announcement %s", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
	quiet("for a rolled-back Update")
	update(t, st, func(tx store.Tx) error { return tx.PutMeta("storetest", "k", []byte("3")) })
	wait("the second committed Update")

	stop()
	update(t, st, func(tx store.Tx) error { return tx.PutMeta("storetest", "k", []byte("4")) })
	quiet("after stop")
}
