package billing

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/zevdesk/zevdesk/core/store"
)

// lastNumber returns the last number the site's sequence gave out (0 if
// none): the one sequence of invoices and credit notes.
func lastNumber(tx store.Tx, site string) (int, error) {
	v, err := tx.GetMeta(BucketCounter, site)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading the invoice counter: %w", err)
	}
	last, err := strconv.Atoi(string(v))
	if err != nil {
		return 0, fmt.Errorf("reading the invoice counter of %s: %q is not a number", site, v)
	}
	return last, nil
}

// NextNumber takes the next number of site's invoice sequence for a
// document other than a run's invoice (a credit note) and stores the
// counter, in tx: invoices and credit notes share one sequence, so that a
// number names exactly one document of the site.
func NextNumber(tx store.Tx, site string) (int, error) {
	last, err := lastNumber(tx, site)
	if err != nil {
		return 0, err
	}
	last++
	if err := tx.PutMeta(BucketCounter, site, []byte(strconv.Itoa(last))); err != nil {
		return 0, fmt.Errorf("storing the invoice counter: %w", err)
	}
	return last, nil
}
