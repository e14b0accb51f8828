package billing

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// ErrNoReason is returned by Unlock without a reason: an unlock lets billed
// data change, so the audit log must say why.
var ErrNoReason = errors.New("an unlock needs a reason for the audit log")

// Unlock removes the lock of a billed period of site so that its data can be
// corrected and the period billed again (Commit then reuses the invoice
// numbers). The period must be exactly one that was committed. The unlock is
// written to the audit log with actor and reason.
func Unlock(tx store.Tx, site string, p core.Period, actor, reason string, now time.Time) error {
	if strings.TrimSpace(reason) == "" {
		return ErrNoReason
	}
	if err := tx.UnlockPeriod(site, p); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("site %s has no billed period %s: %w", site, p, err)
		}
		return fmt.Errorf("unlocking %s: %w", p, err)
	}
	if _, err := tx.AppendAudit(store.Entry{Time: now.UTC(), Actor: actor, Site: site, Action: "period.unlock",
		Detail: p.String() + ": " + reason}); err != nil {
		return fmt.Errorf("logging the unlock: %w", err)
	}
	return nil
}
