package store

import "sync"

// Notifier is an optional capability of a Store, found by type assertion:
// Subscribe calls fn after committed Updates, so that views refresh when data
// changes (an import, a gateway's records, a tenant edited in a form). A
// server database also announces other clients' commits.
//
// fn runs on a goroutine of the subscription's own, never inside a
// transaction and never concurrently with itself; commits that happen while
// it runs are announced by one further call (coalesced), so a slow fn sees
// the latest state without a backlog. stop ends the subscription and waits
// for a running fn to return; call it from outside fn.
type Notifier interface {
	Subscribe(fn func()) (stop func())
}

// Hub fans commit announcements out to subscribers; stores embed it to
// implement Notifier. The zero Hub is ready to use and safe for concurrent
// use.
type Hub struct {
	mu   sync.Mutex
	subs map[*subscription]struct{}
}

type subscription struct {
	kick chan struct{} // capacity 1: a pending announcement
	done chan struct{} // closed by stop
	gone chan struct{} // closed when the goroutine has returned
}

// Subscribe implements Notifier.
func (h *Hub) Subscribe(fn func()) (stop func()) {
	s := &subscription{kick: make(chan struct{}, 1), done: make(chan struct{}), gone: make(chan struct{})}
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[*subscription]struct{}{}
	}
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	go func() {
		defer close(s.gone)
		for {
			select {
			case <-s.done:
				return
			case <-s.kick:
				fn()
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs, s)
			h.mu.Unlock()
			close(s.done)
			<-s.gone
		})
	}
}

// Notify announces a commit to every subscriber. It never blocks.
func (h *Hub) Notify() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		select {
		case s.kick <- struct{}{}:
		default: // one is pending already: it will see this commit too
		}
	}
}
