package intake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/zevdesk/zevdesk/core/store"
)

// Run keeps the store up to date with the gateway until ctx is done: it
// finishes an assignment cut short (ResumeAssign), catches up, checks the gateway's clock, waits Options.Poll and repeats.
// After an error (gateway down, network cut, stalled connection, a bad page)
// it waits with exponential backoff between Options.MinBackoff and
// MaxBackoff and tries again; nothing committed is ever lost and nothing is
// committed twice. Run returns nil when ctx ends.
//
// After the first attempt, whenever records were committed and whenever the
// state a person should see changes (an error appears or clears, the clock
// skew flag, records lost to the gateway's retention), Run logs the state,
// stores it in StateBucket and calls onState (if not nil) from Run's
// goroutine.
func (c *Client) Run(ctx context.Context, onState func(State)) error {
	if c.st != nil {
		// An assignment cut short (the app quit or crashed while it derived
		// the stored records) is finished before anything new comes in.
		if n, err := ResumeAssign(c.st, c.p.GatewayID, c.opt.Clock); err != nil {
			slog.Error("intake: finishing the gateway's assignment", "gateway", c.p.GatewayID, "error", err)
		} else if n > 0 {
			slog.Info("intake: finished the gateway's assignment", "gateway", c.p.GatewayID, "records", n)
		}
	}
	backoff := c.opt.MinBackoff
	var shown State
	first := true
	for {
		n, err := c.cycle(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var wait time.Duration
		if err != nil {
			var pe *PairedElsewhereError
			c.mu.Lock()
			c.state.Err = err.Error()
			c.state.Rejected = errors.Is(err, ErrUnauthorized)
			if errors.As(err, &pe) {
				c.state.PairedElsewhere = pe.At
			}
			c.mu.Unlock()
			wait = backoff
			if permanent(err) {
				wait = c.opt.MaxBackoff
			}
			backoff = min(2*backoff, c.opt.MaxBackoff)
		} else {
			backoff = c.opt.MinBackoff
			wait = c.opt.Poll
		}
		s := c.State()
		if first || n > 0 || notable(shown, s) {
			first = false
			shown = s
			c.report(s, onState)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-c.opt.After(wait):
		}
	}
}

// cycle is one catch-up followed by a clock check.
func (c *Client) cycle(ctx context.Context) (int, error) {
	n, err := c.CatchUp(ctx)
	if err != nil {
		return n, err
	}
	before := c.opt.Clock.Now()
	st, err := c.Status(ctx)
	if err != nil {
		return n, fmt.Errorf("checking gateway %s: %w", c.p.GatewayID, err)
	}
	after := c.opt.Clock.Now()
	// The gateway read its clock somewhere during the request: compare with
	// the middle of it.
	ours := before.Add(after.Sub(before) / 2)
	skew := st.Time.Sub(ours)
	c.mu.Lock()
	c.state.ClockSkew = skew
	c.state.SkewFlag = skew > MaxClockSkew || skew < -MaxClockSkew
	c.mu.Unlock()
	return n, nil
}

// permanent reports errors that waiting will not heal: a person must act.
func permanent(err error) bool {
	return errors.Is(err, ErrCertChanged) || errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrBadBatch)
}

func notable(a, b State) bool {
	return a.Err != b.Err || a.SkewFlag != b.SkewFlag || a.Lost != b.Lost || a.Rejected != b.Rejected
}

// report logs s, stores it and tells the caller.
func (c *Client) report(s State, onState func(State)) {
	switch {
	case s.Err != "":
		slog.Warn("intake: gateway unreachable or failing; will retry", "gateway", s.Gateway, "error", s.Err)
	case s.SkewFlag:
		slog.Warn("intake: gateway clock is off", "gateway", s.Gateway, "skew", s.ClockSkew.Round(time.Second).String())
	default:
		slog.Info("intake: gateway up to date", "gateway", s.Gateway, "cursor", s.Cursor, "behind", s.Behind)
	}
	if c.st != nil {
		b, err := json.Marshal(s)
		if err == nil {
			err = c.st.Update(func(tx store.Tx) error { return tx.PutMeta(StateBucket, s.Gateway, b) })
		}
		if err != nil {
			slog.Error("intake: storing gateway state", "gateway", s.Gateway, "error", err)
		}
	}
	if onState != nil {
		onState(s)
	}
}
