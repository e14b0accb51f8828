package bolt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// Keys join ids with a NUL byte, which ids may not contain; then
// "A\0..." sorts before "AB\0...", so key order is id order.
const sep = 0

// checkID rejects ids that would make keys ambiguous.
func checkID(what, id string) error {
	if id == "" {
		return fmt.Errorf("empty %s id", what)
	}
	if strings.IndexByte(id, sep) >= 0 {
		return fmt.Errorf("invalid %s id %q: contains a NUL byte", what, id)
	}
	return nil
}

// prefix returns the ids joined, each followed by sep.
func prefix(ids ...string) []byte {
	n := 0
	for _, id := range ids {
		n += len(id) + 1
	}
	b := make([]byte, 0, n+16)
	for _, id := range ids {
		b = append(b, id...)
		b = append(b, sep)
	}
	return b
}

// Days in keys are int32 offset by 2^31 so that byte order is numeric order.
const dayBias = 1 << 31

// dayOf returns the UTC day number of slot s (floor division).
func dayOf(s core.Slot) int64 {
	d := int64(s) / slotsPerDay
	if int64(s)%slotsPerDay < 0 {
		d--
	}
	return d
}

// checkSlot rejects slots whose day does not fit a key.
func checkSlot(s core.Slot) error {
	if d := dayOf(s); d < math.MinInt32 || d > math.MaxInt32 {
		return fmt.Errorf("slot %d out of range", int64(s))
	}
	return nil
}

// seriesPrefix is meter\0channel: the common prefix of a series' day keys
// inside its site's bucket.
func seriesPrefix(dst []byte, meter string, ch store.Channel) []byte {
	dst = append(dst, meter...)
	dst = append(dst, sep, byte(ch))
	return dst
}

// appendDayKey appends the key of a series' day.
func appendDayKey(dst []byte, meter string, ch store.Channel, day int64) []byte {
	dst = seriesPrefix(dst, meter, ch)
	return binary.BigEndian.AppendUint32(dst, uint32(day+dayBias))
}

// parseDayKey splits a day key of site's bucket.
func parseDayKey(site string, k []byte) (store.SeriesID, int64, bool) {
	i := bytes.IndexByte(k, sep)
	if i <= 0 || len(k) != i+6 || k[i+1] > byte(store.Export) {
		return store.SeriesID{}, 0, false
	}
	day := int64(binary.BigEndian.Uint32(k[i+2:])) - dayBias
	return store.SeriesID{Site: site, Meter: string(k[:i]), Channel: store.Channel(k[i+1])}, day, true
}

// dayStart names a day for messages.
func dayStart(day int64) string {
	return core.Slot(day * slotsPerDay).Time().Format(time.DateOnly)
}

// appendTime appends t as 12 bytes that sort in time order: Unix seconds
// with the sign bit flipped, then nanoseconds.
func appendTime(dst []byte, t time.Time) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(t.Unix())^(1<<63))
	return binary.BigEndian.AppendUint32(dst, uint32(t.Nanosecond()))
}

// parseTime decodes appendTime's 12 bytes.
func parseTime(b []byte) time.Time {
	sec := int64(binary.BigEndian.Uint64(b) ^ (1 << 63))
	return time.Unix(sec, int64(binary.BigEndian.Uint32(b[8:]))).UTC()
}

// appendSlot appends s as 8 bytes in numeric order.
func appendSlot(dst []byte, s core.Slot) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(s)^(1<<63))
}

func parseSlot(b []byte) core.Slot {
	return core.Slot(binary.BigEndian.Uint64(b) ^ (1 << 63))
}
