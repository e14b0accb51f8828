package importer

import (
	"errors"
	"fmt"
	"time"

	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/vee"
)

// logImport appends the audit entry of an import that changed something;
// detail is the report's summary.
func logImport(tx store.Tx, now time.Time, actor, site, action, detail string) error {
	_, err := tx.AppendAudit(store.Entry{Time: now.UTC(), Actor: actor, Site: site, Action: action, Detail: detail})
	if err != nil {
		return fmt.Errorf("logging the import: %w", err)
	}
	return nil
}

// optNow is the time of opt's clock, the system's when it has none.
func optNow(opt vee.Options) time.Time {
	if opt.Clock == nil {
		return time.Now()
	}
	return opt.Clock.Now()
}

// importErr returns an *Error as it is (it names the file and line) and
// wraps any other error of importing file.
func importErr(file string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("importing %s: %w", file, err)
}
