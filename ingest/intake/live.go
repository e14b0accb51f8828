package intake

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// Live follows the gateway's live power stream until ctx is done, calling fn
// for each event from Live's goroutine, one call at a time. A dropped or
// stalled stream is reopened with exponential backoff. Live returns nil when
// ctx ends, or an error that retrying cannot heal (ErrCertChanged,
// ErrUnauthorized).
func (c *Client) Live(ctx context.Context, fn func(protocol.Live)) error {
	backoff := c.opt.MinBackoff
	for {
		got, err := c.liveOnce(ctx, fn)
		if ctx.Err() != nil {
			return nil
		}
		if permanent(err) {
			return err
		}
		if got {
			backoff = c.opt.MinBackoff
		}
		slog.Debug("intake: live stream ended; reconnecting", "gateway", c.p.GatewayID, "error", err, "in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-c.opt.After(backoff):
		}
		if !got {
			backoff = min(2*backoff, c.opt.MaxBackoff)
		}
	}
}

// maxLiveEvent bounds one event's data, which the scanner's line limit
// alone does not: an event may have any number of data lines. A gateway's
// event is a few kB.
const maxLiveEvent = 1 << 20

// liveOnce reads one connection of the stream; got reports whether any
// event arrived.
func (c *Client) liveOnce(ctx context.Context, fn func(protocol.Live)) (got bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	idle := time.AfterFunc(c.opt.LiveIdle, cancel)
	defer idle.Stop()
	resp, err := c.get(ctx, c.sse, protocol.PathLive)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 4096), maxLiveEvent)
	var event string
	var data strings.Builder
	for sc.Scan() {
		idle.Reset(c.opt.LiveIdle)
		line := sc.Text()
		switch {
		case line == "":
			if data.Len() > 0 && (event == "" || event == protocol.LiveEvent) {
				var ev protocol.Live
				if err := json.Unmarshal([]byte(data.String()), &ev); err != nil {
					return got, fmt.Errorf("live stream: malformed event: %w", err)
				}
				got = true
				fn(ev)
			}
			event = ""
			data.Reset()
		case strings.HasPrefix(line, ":"):
			// A comment: the gateway's keep-alive.
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "event":
				event = value
			case "data":
				if data.Len()+len(value) > maxLiveEvent {
					return got, fmt.Errorf("live stream: an event larger than %d bytes", maxLiveEvent)
				}
				if data.Len() > 0 {
					data.WriteByte('\n')
				}
				data.WriteString(value)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return got, fmt.Errorf("live stream: %w", err)
	}
	return got, fmt.Errorf("live stream: the gateway closed it")
}
