package bolt

import (
	"bytes"
	"encoding/binary"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// Keys join ids with a NUL byte, which ids may not contain; then
// "A\0..." sorts before "AB\0...", so key order is id order.
const sep = 0

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

// seriesName is the name of a series' bucket inside its site's bucket:
// meter\0channel.
func seriesName(dst []byte, meter string, ch store.Channel) []byte {
	dst = append(dst, meter...)
	return append(dst, sep, byte(ch))
}

// parseSeriesName splits a series bucket name.
func parseSeriesName(site string, name []byte) (store.SeriesID, bool) {
	i := bytes.IndexByte(name, sep)
	if i <= 0 || len(name) != i+2 || name[i+1] > byte(store.Export) {
		return store.SeriesID{}, false
	}
	return store.SeriesID{Site: site, Meter: string(name[:i]), Channel: store.Channel(name[i+1])}, true
}

// dayKey is a day's key in a series bucket.
func dayKey(day int64) [4]byte {
	var k [4]byte
	binary.BigEndian.PutUint32(k[:], uint32(day+dayBias))
	return k
}

func parseDayKey(k []byte) (int64, bool) {
	if len(k) != 4 {
		return 0, false
	}
	return int64(binary.BigEndian.Uint32(k)) - dayBias, true
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

// appendSlot appends s as 8 bytes in numeric order.
func appendSlot(dst []byte, s core.Slot) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(s)^(1<<63))
}

func parseSlot(b []byte) core.Slot {
	return core.Slot(binary.BigEndian.Uint64(b) ^ (1 << 63))
}
