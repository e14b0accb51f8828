package intake

import (
	"errors"
	"fmt"
	"testing"

	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// A MaxBody above what protocol.ReadRecords reads is clamped to it, and the
// error of either limit is ErrTooLarge: a caller that tells an oversized
// page from a malformed one must see the same error whichever limit hit.
func TestMaxBodyLimitIsOne(t *testing.T) {
	o := (&Options{MaxBody: 4 * protocol.MaxRecordsBody}).withDefaults()
	if o.MaxBody != protocol.MaxRecordsBody {
		t.Errorf("MaxBody %d, want it clamped to %d", o.MaxBody, protocol.MaxRecordsBody)
	}
	if !errors.Is(fmt.Errorf("reading records: %w", protocol.ErrTooLarge), ErrTooLarge) {
		t.Error("protocol.ErrTooLarge is not intake.ErrTooLarge")
	}
}
