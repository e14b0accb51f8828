package cli

import (
	"fmt"
	"strings"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/store"
)

func init() {
	Register(Command{
		Name:    "unlock",
		Args:    "--site ID --from DATE --to DATE --reason TEXT",
		Summary: "unlock a billed period so that its data can be corrected and billed again (logged with the reason)",
		Run:     runUnlock,
	})
	Register(Command{
		Name:    "locks",
		Args:    "--site ID",
		Summary: "list a site's billed (locked) periods",
		Run:     runLocks,
	})
}

func runUnlock(env *Env, args []string) error {
	fs := NewFlagSet("unlock")
	site := fs.String("site", "", "site id")
	from := fs.String("from", "", "first day of the billed period (YYYY-MM-DD)")
	to := fs.String("to", "", "last day of the billed period (YYYY-MM-DD)")
	reason := fs.String("reason", "", "why the period is unlocked (kept in the audit log)")
	if _, err := ParseFlags("unlock", fs, args); err != nil {
		return err
	}
	p, err := periodFlags("unlock", *site, *from, *to)
	if err != nil {
		return err
	}
	if *reason == "" {
		return Usagef("unlock", "--reason is required: the audit log keeps why a billed period was reopened")
	}
	st, err := env.Store()
	if err != nil {
		return err
	}
	err = st.Update(func(tx store.Tx) error {
		if _, err := siteByID(tx, *site); err != nil {
			return err
		}
		if err := isBilled(tx, *site, p); err != nil {
			return err
		}
		return billing.Unlock(tx, *site, p, actor(), *reason, env.Clock.Now())
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "unlocked %s of site %s; billing it again with --final keeps the invoice numbers\n", p, *site)
	return nil
}

// isBilled checks that p is exactly one of the site's billed periods, and
// otherwise names the billed periods there are: a lock is reopened whole,
// never a part of it.
func isBilled(tx store.Tx, site string, p core.Period) error {
	locks, err := tx.LocksOf(site)
	if err != nil {
		return fmt.Errorf("reading the billed periods of %s: %w", site, err)
	}
	var billed []string
	for _, l := range locks {
		if l.Period == p {
			return nil
		}
		billed = append(billed, l.Period.String())
	}
	if len(billed) == 0 {
		return fmt.Errorf("site %s has no billed period", site)
	}
	return fmt.Errorf("site %s has no billed period %s: its billed periods are %s", site, p, strings.Join(billed, ", "))
}

func runLocks(env *Env, args []string) error {
	fs := NewFlagSet("locks")
	site := fs.String("site", "", "site id")
	if _, err := ParseFlags("locks", fs, args); err != nil {
		return err
	}
	if *site == "" {
		return Usagef("locks", "--site is required")
	}
	st, err := env.Store()
	if err != nil {
		return err
	}
	return st.View(func(tx store.Tx) error {
		s, err := siteByID(tx, *site)
		if err != nil {
			return err
		}
		locks, err := tx.LocksOf(*site)
		if err != nil {
			return err
		}
		if len(locks) == 0 {
			fmt.Fprintf(env.Stdout, "site %s has no billed period\n", *site)
		}
		for _, l := range locks {
			fmt.Fprintf(env.Stdout, "%s  billed %s  %s\n", l.Period, l.Time.In(s.Location()).Format("02.01.2006 15:04"), l.Note)
		}
		return nil
	})
}
