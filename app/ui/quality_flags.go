package ui

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/vee"
)

// flagGroup is a run of flags of one meter and kind in consecutive slots
// [From, To): a gap of three hours is one row, not twelve.
type flagGroup struct {
	Meter, Kind string
	From, To    core.Slot
	Reasons     []string // one per slot, in slot order
}

// groupFlags groups each meter's flags (ordered by slot) into runs.
func groupFlags(meters []vee.MeterQuality) []flagGroup {
	var out []flagGroup
	for _, m := range meters {
		open := map[string]int{} // kind → index in out of its last run
		for _, f := range m.Flags {
			if i, ok := open[f.Kind]; ok && out[i].To == f.Slot {
				out[i].To++
				out[i].Reasons = append(out[i].Reasons, f.Reason)
				continue
			}
			open[f.Kind] = len(out)
			out = append(out, flagGroup{Meter: f.Meter, Kind: f.Kind, From: f.Slot, To: f.Slot + 1, Reasons: []string{f.Reason}})
		}
	}
	return out
}

// span formats the slots [from, to) in loc: "01.07.2026 08:00 – 11:15", the
// date repeated only when the span ends on another day.
func span(from, to core.Slot, loc *time.Location) string {
	a, b := from.Time().In(loc), to.Time().In(loc)
	end := b.Format("15:04")
	if core.DateOf(a) != core.DateOf(b) {
		end = localTime(b, loc)
	}
	return localTime(a, loc) + " – " + end
}

// duration writes d as people do: "15 min", "3 h 15 min", "2 days 4 h".
func duration(d time.Duration) string {
	days := int(d / (24 * time.Hour))
	h := int(d % (24 * time.Hour) / time.Hour)
	m := int(d % time.Hour / time.Minute)
	var parts []string
	if days > 0 {
		parts = append(parts, lang.XN("quality.dur.days", "{{.N}} days", days, map[string]any{"N": days}))
	}
	if h > 0 {
		parts = append(parts, strconv.Itoa(h)+" h")
	}
	if m > 0 || len(parts) == 0 {
		parts = append(parts, strconv.Itoa(m)+" min")
	}
	return strings.Join(parts, " ")
}

// kindName names a flag kind for people.
func kindName(kind string) string {
	switch kind {
	case vee.KindRegisterBackwards:
		return lang.X("quality.kind.backwards", "register went backwards")
	case vee.KindMaxPower:
		return lang.X("quality.kind.maxpower", "above the meter's maximum power")
	case vee.KindFuture:
		return lang.X("quality.kind.future", "time in the future")
	case vee.KindOffGrid:
		return lang.X("quality.kind.offgrid", "off the 15-minute grid")
	case vee.KindDuplicate:
		return lang.X("quality.kind.duplicate", "differs from the stored value")
	case vee.KindNightProduction:
		return lang.X("quality.kind.night", "production at night")
	case vee.KindSwapped:
		return lang.X("quality.kind.swapped", "import and export swapped")
	case vee.KindBalance:
		return lang.X("quality.kind.balance", "sub-meters disagree with the grid meter")
	case vee.KindGap:
		return lang.X("quality.kind.gap", "gap")
	case vee.KindLocked:
		return lang.X("quality.kind.locked", "differs from the billed value")
	}
	return kind
}

// maxReasons is how many of a run's reasons the detail lists.
const maxReasons = 12

// openFlag shows a run of flags whole, in the site's local time, with what
// the office can do about it: confirm the meter exchange of a register that
// went backwards, estimate a gap, or accept the values as they are.
func (q *Quality) openFlag(g flagGroup) {
	loc := q.site.Location()
	n := int(g.To - g.From)
	text := []string{
		lang.X("quality.detail.what", "Meter {{.Meter}}: {{.Kind}}", map[string]any{"Meter": g.Meter, "Kind": kindName(g.Kind)}),
		lang.X("quality.detail.when", "{{.Span}} ({{.Zone}}), {{.Duration}}, {{.N}} intervals",
			map[string]any{"Span": span(g.From, g.To, loc), "Zone": loc.String(), "Duration": duration(time.Duration(n) * core.SlotDuration), "N": count(n)}),
		"",
	}
	for i, r := range g.Reasons {
		if i == maxReasons {
			text = append(text, lang.X("quality.detail.more", "… and {{.N}} more", map[string]any{"N": count(len(g.Reasons) - maxReasons)}))
			break
		}
		t := (g.From + core.Slot(i)).Time().In(loc)
		text = append(text, t.Format("15:04")+"  "+r)
	}
	q.detailText = widget.NewLabel(lines(text))
	q.detailText.Wrapping = fyne.TextWrapWord
	switch g.Kind {
	case vee.KindRegisterBackwards:
		q.action = widget.NewButton(lang.X("quality.exchange", "Confirm meter exchange…"), func() { q.openExchange(g) })
	case vee.KindGap:
		q.action = widget.NewButton(lang.X("quality.estimate", "Estimate the gap"), func() { q.estimate(g) })
	default:
		q.action = widget.NewButton(lang.X("quality.accept", "Accept the values"), func() { q.accept(g) })
	}
	q.action.Importance = widget.HighImportance
	body := container.NewBorder(nil, container.NewHBox(q.action), nil, nil,
		container.NewVScroll(q.detailText))
	q.detail = dialog.NewCustom(lang.X("quality.detail.title", "Flag"), lang.X("quality.detail.close", "Close"), body, q.win)
	q.detail.Resize(fyne.NewSize(640, 420))
	q.detail.Show()
}

// act runs work, an action's store transaction, on a goroutine of its own
// (a transaction can wait for an import's or a gateway's, and the window
// stays responsive meanwhile) with the detail's action disabled; then, on
// Fyne's goroutine, resolved shows its outcome.
func (q *Quality) act(work func() error) {
	if q.busy {
		return
	}
	q.busy = true
	q.action.Disable()
	go func() {
		err := work()
		fyne.Do(func() {
			q.busy = false
			q.action.Enable()
			q.resolved(err)
			if q.done != nil {
				q.done()
			}
		})
	}()
}

// resolved closes the detail after an action and shows the month again
// with the stored data, or shows the action's error in a dialog over the
// detail, which stays open.
func (q *Quality) resolved(err error) {
	q.failed, q.failure = err, nil
	if err != nil {
		q.failure = dialog.NewError(err, q.win)
		q.failure.Show()
		return
	}
	q.detail.Hide()
	q.reload(q.site)
}

func (q *Quality) opts() vee.Options { return vee.Options{Clock: q.clock, Actor: desktopActor()} }

// estimate fills the run's missing intervals, both channels, as `zevdesk
// meter estimate` does (vee.Estimate), in one small transaction.
func (q *Quality) estimate(g flagGroup) {
	st, site, opts := q.st, q.site, q.opts()
	none := lang.X("quality.estimate.none", "Nothing to estimate: the intervals have values, or no readings enclose them.")
	q.act(func() error {
		filled := 0
		err := st.Update(func(tx store.Tx) error {
			filled = 0
			for _, ch := range []store.Channel{store.Import, store.Export} {
				n, err := vee.Estimate(tx, site, store.SeriesID{Site: site.ID, Meter: g.Meter, Channel: ch}, g.From, g.To, opts)
				if err != nil {
					return err
				}
				filled += n
			}
			return nil
		})
		if err == nil && filled == 0 {
			err = errors.New(none)
		}
		return err
	})
}

// accept accepts the run's values as stored (vee.AcceptFlags, logged).
func (q *Quality) accept(g flagGroup) {
	st, site, opts := q.st, q.site, q.opts()
	q.act(func() error {
		return st.Update(func(tx store.Tx) error {
			_, err := vee.AcceptFlags(tx, site, g.Meter, g.Kind, g.From, g.To, "", opts)
			return err
		})
	})
}

// openExchange asks for the exchange's time (local, prefilled with the
// flagged reading's interval) and the old meter's final and the new meter's
// initial import reading; the export register is taken as unchanged
// (vee.KeepExport), as `zevdesk meter replace` does without export readings.
func (q *Quality) openExchange(g flagGroup) {
	loc := q.site.Location()
	q.exTime = widget.NewEntry()
	q.exTime.SetText(localTime(g.From.Time(), loc))
	q.exTime.Validator = func(s string) error {
		_, err := time.ParseInLocation("02.01.2006 15:04", strings.TrimSpace(s), loc)
		if err != nil {
			return errors.New(lang.X("quality.exchange.badtime", "Expected a date and time such as 02.03.2026 10:30"))
		}
		return nil
	}
	kwhEntry := func() *widget.Entry {
		e := widget.NewEntry()
		e.SetPlaceHolder("12'345.6")
		e.Validator = func(s string) error {
			v, err := parseKWh(s)
			if err != nil || v < 0 {
				return errors.New(lang.X("quality.exchange.badkwh", "Expected a register reading in kWh, such as 12'345.6"))
			}
			return nil
		}
		return e
	}
	q.exOld, q.exNew = kwhEntry(), kwhEntry()
	items := []*widget.FormItem{
		widget.NewFormItem(lang.X("quality.exchange.time", "Exchanged at"), q.exTime),
		widget.NewFormItem(lang.X("quality.exchange.old", "Old meter's final reading, kWh"), q.exOld),
		widget.NewFormItem(lang.X("quality.exchange.new", "New meter's initial reading, kWh"), q.exNew),
	}
	q.exchange = dialog.NewForm(lang.X("quality.exchange.title", "Meter exchange of {{.Meter}}", map[string]any{"Meter": g.Meter}),
		lang.X("quality.exchange.confirm", "Confirm"), lang.X("quality.exchange.cancel", "Cancel"), items, func(ok bool) {
			if ok {
				q.confirmExchange(g.Meter)
			}
		}, q.win)
	q.exchange.Resize(fyne.NewSize(520, 280))
	q.exchange.Show()
}

// confirmExchange stores the exchange of the form (vee.ConfirmReplacement).
func (q *Quality) confirmExchange(meter string) {
	site := q.site
	at, err := time.ParseInLocation("02.01.2006 15:04", strings.TrimSpace(q.exTime.Text), site.Location())
	if err != nil {
		q.resolved(err)
		return
	}
	oldE, err1 := parseKWh(q.exOld.Text)
	newE, err2 := parseKWh(q.exNew.Text)
	if err := errors.Join(err1, err2); err != nil {
		q.resolved(err)
		return
	}
	r := store.Replacement{Time: at.UTC(), OldFinal: store.Register{Import: oldE}, NewInitial: store.Register{Import: newE}}
	st, opts := q.st, q.opts()
	q.act(func() error {
		return st.Update(func(tx store.Tx) error {
			if err := vee.KeepExport(tx, site.ID, meter, &r); err != nil {
				return err
			}
			return vee.ConfirmReplacement(tx, site, meter, r, opts)
		})
	})
}

// parseKWh reads a kWh figure as an office writes it: 12'345.6 or 12345,6.
func parseKWh(s string) (core.Energy, error) {
	s = strings.NewReplacer("'", "", "’", "", " ", "", ",", ".").Replace(strings.TrimSpace(s))
	return core.ParseKWh(s)
}
