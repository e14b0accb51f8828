package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/zevdesk/zevdesk/app/report"
	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/collect"
	"github.com/zevdesk/zevdesk/core/store"
)

func init() {
	Register(Command{
		Name: "reminders",
		Args: "--site ID [--date DATE] [--out DIR]",
		Summary: "list the reminders due by the site's schedule; --out writes each as a PDF with a new QR-bill " +
			"in the tenant's language and records it as issued (nothing is sent)",
		Run: runReminders,
	})
}

func runReminders(env *Env, args []string) error {
	const cmd = "reminders"
	fs := NewFlagSet(cmd)
	siteID := fs.String("site", "", "site id")
	dateS := fs.String("date", "", "the reminders' date (default today)")
	out := fs.String("out", "", "write the reminder PDFs into this directory and record them as issued")
	pos, err := ParseFlags(cmd, fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return Usagef(cmd, "unexpected argument %q", pos[0])
	}
	if *siteID == "" {
		return Usagef(cmd, "--site is required")
	}
	site, l, err := siteLedger(env, *siteID)
	if err != nil {
		return err
	}
	day := l.Today(site.ID, env.Clock.Now())
	if *dateS != "" {
		if day, err = core.ParseDate(*dateS); err != nil {
			return Usagef(cmd, "--date: %v", err)
		}
	}
	if !site.Settings.CollectSelf {
		fmt.Fprintf(env.Stdout, "%s does not collect itself (collect_self): no reminders\n", site.ID)
		return nil
	}
	due := l.DueReminders(site.ID, day)
	t := &table{right: []bool{true, false, true, false, true, true, false}}
	t.row("no.", "recipient", "level", "due since", "fee", "open", "pay by")
	for _, r := range due {
		level := fmt.Sprint(r.Level)
		if r.Final {
			level += " (final)"
		}
		t.row(fmt.Sprint(r.Item.Number), r.Item.Tenant, level, r.Since.String(), tableCHF(r.Fee), tableCHF(r.Open),
			r.PayBy.String())
	}
	if err := t.write(env.Stdout); err != nil {
		return err
	}
	if *out == "" || len(due) == 0 {
		fmt.Fprintf(env.Stdout, "%d reminders due on %s\n", len(due), day)
		return nil
	}
	if err := os.MkdirAll(env.Path(*out), 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	// Each PDF is written before its reminder is recorded: a reminder on
	// record always has its letter.
	st, err := env.Store()
	if err != nil {
		return err
	}
	for _, r := range due {
		path, err := report.WriteReminderFile(env.Path(*out), site, r, day)
		if err != nil {
			return err
		}
		name := filepath.Join(*out, filepath.Base(path)) // as the user named the folder
		err = st.Update(func(tx store.Tx) error {
			return collect.RecordReminder(tx, r.Reminder(day), actor(), env.Clock.Now())
		})
		if err != nil {
			return fmt.Errorf("recording the reminder in %s: %w", name, err)
		}
		fmt.Fprintf(env.Stdout, "wrote %s\n", name)
	}
	return nil
}
