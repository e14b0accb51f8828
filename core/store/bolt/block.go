package bolt

import "github.com/zevdesk/zevdesk/core/store/block"

// Interval days are stored in the shared day-block encoding (core/store/block),
// so that a copy to or from another store moves the same bytes.
type dayBlock = block.Day

const (
	slotsPerDay = block.SlotsPerDay
	bitmapLen   = block.BitmapLen
)

func appendBlock(dst []byte, b *dayBlock) []byte { return block.Append(dst, b) }
func decodeBlock(src []byte, b *dayBlock) error  { return block.Decode(src, b) }
func uvarint(b []byte) (uint64, int)             { return block.Uvarint(b) }
