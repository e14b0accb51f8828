package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/ingest/discover"
	"github.com/zevdesk/zevdesk/ingest/intake"
	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// The wizard's steps, in order.
const (
	stepFind = iota
	stepPair
	stepMeters
	stepCheck
	stepCount
)

// WizardBucket is the Meta bucket where the setup wizard keeps, per site id,
// how far it got (JSON wizardProgress), so that closing it and opening it
// again resumes at the same step with the same gateway.
const WizardBucket = "setup-wizard"

// wizardProgress is the wizard's saved position.
type wizardProgress struct {
	Step    int    `json:"step"`
	Gateway string `json:"gateway,omitempty"`
	Address string `json:"address,omitempty"`
}

// Wizard is the installer's setup wizard: find a gateway (mDNS or an
// address typed in), pair it with its code, give its meters roles and
// units while watching their live power, and check the first values. Each
// step has Back and Next; the position is saved in WizardBucket. It is not
// safe for concurrent use; call its methods on Fyne's goroutine.
type Wizard struct {
	st    store.Store
	clock core.Clock
	win   fyne.Window

	site *core.Site
	step int
	prog wizardProgress

	title, status *widget.Label
	body          *fyne.Container
	back, next    *widget.Button
	content       fyne.CanvasObject
	pages         [stepCount]fyne.CanvasObject

	// Step 1: find.
	found  *widget.Table
	search *widget.Label
	addr   *widget.Entry
	gws    []discover.Gateway
	picked *discover.Gateway // the chosen found gateway; nil for an address typed in

	// Step 2: pair.
	code      *widget.Entry
	pairBtn   *widget.Button
	pairTitle *widget.Label
	pairMsg   *widget.Label

	// Step 3: meters.
	meterBox *fyne.Container
	gwMeters []protocol.Meter
	roleSel  []*widget.Select
	unitSel  []*widget.Select
	powerLbl []*widget.Label

	// Step 4: check.
	checkLbl *widget.Label

	// browse, pairFn, meters and follow reach the LAN and the gateway
	// (discover.Browse, intake.Pair, intake.Client.Meters and .Live);
	// tests may replace them.
	browse func(ctx context.Context, fn func([]discover.Gateway)) error
	pairFn func(ctx context.Context, addr, id, code string) (intake.Pairing, error)
	meters func(ctx context.Context, p intake.Pairing) ([]protocol.Meter, error)
	follow func(ctx context.Context, p intake.Pairing, fn func(protocol.Live)) error
	// done, when set, is called after a background job has drawn its
	// result; tests wait on it. powered, when set, is called after live
	// power was drawn.
	done, powered func()
	// changed, when set, is called on Fyne's goroutine after a pairing or
	// an assignment was saved (the main window restarts its intake loops).
	changed func()

	busy        bool
	stopBrowse  context.CancelFunc
	stopLive    context.CancelFunc
	mu          sync.Mutex
	power       map[string]float64 // latest live power by gateway meter, W
	powerAt     time.Time
	powerDrawn  bool
	samples     int
	pairing     *intake.Pairing
	liveGateway string
}

// NewWizard builds the setup wizard for site; win hosts its dialogs.
func NewWizard(st store.Store, clock core.Clock, win fyne.Window, site *core.Site) *Wizard {
	w := &Wizard{st: st, clock: clock, win: win, site: site, power: map[string]float64{}}
	w.browse = func(ctx context.Context, fn func([]discover.Gateway)) error {
		return discover.Browse(ctx, discover.BrowseOptions{}, fn)
	}
	w.pairFn = intake.Pair
	w.meters = func(ctx context.Context, p intake.Pairing) ([]protocol.Meter, error) {
		c := intake.NewClient(st, p, nil)
		defer c.Close()
		return c.Meters(ctx)
	}
	w.follow = func(ctx context.Context, p intake.Pairing, fn func(protocol.Live)) error {
		c := intake.NewClient(st, p, nil)
		defer c.Close()
		return c.Live(ctx, fn)
	}
	w.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	w.status = widget.NewLabel("")
	w.status.Wrapping = fyne.TextWrapWord
	w.back = widget.NewButton(lang.X("wizard.back", "Back"), func() { w.goTo(w.step - 1) })
	w.next = widget.NewButton(lang.X("wizard.next", "Next"), w.onNext)
	w.next.Importance = widget.HighImportance
	w.pages = [stepCount]fyne.CanvasObject{w.findPage(), w.pairPage(), w.metersPage(), w.checkPage()}
	w.body = container.NewStack()
	w.content = container.NewBorder(w.title, container.NewVBox(w.status, container.NewHBox(layout.NewSpacer(), w.back, w.next)), nil, nil, w.body)
	return w
}

// Content returns the wizard's canvas object.
func (w *Wizard) Content() fyne.CanvasObject { return w.content }

// Start resumes where the wizard was left for this site, or begins with
// the search.
func (w *Wizard) Start() {
	step := stepFind
	err := w.st.View(func(tx store.Tx) error {
		b, err := tx.GetMeta(WizardBucket, w.site.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &w.prog); err != nil {
			return fmt.Errorf("decoding the wizard's progress: %w", err)
		}
		if w.prog.Gateway != "" {
			if p, err := intake.LoadPairing(tx, w.prog.Gateway); err == nil {
				w.pairing = &p
			}
		}
		step = w.prog.Step
		return nil
	})
	if err != nil {
		slog.Error("reading the setup wizard's progress", "site", w.site.ID, "err", err)
	}
	if w.prog.Address != "" {
		w.addr.SetText(w.prog.Address)
	}
	// Steps after pairing need the pairing.
	if step > stepPair && w.pairing == nil {
		step = stepPair
	}
	if step > stepFind && w.prog.Address == "" && w.pairing == nil {
		step = stepFind
	}
	w.goTo(max(stepFind, min(step, stepCheck)))
}

// Stop ends the search and the live power.
func (w *Wizard) Stop() {
	if w.stopBrowse != nil {
		w.stopBrowse()
		w.stopBrowse = nil
	}
	w.stopPower()
}

// goTo shows step s and saves it.
func (w *Wizard) goTo(s int) {
	if s < stepFind || s >= stepCount || w.busy {
		return
	}
	w.step = s
	w.status.SetText("")
	titles := []string{
		lang.X("wizard.find.title", "Step 1 of 4: find the gateway"),
		lang.X("wizard.pair.title", "Step 2 of 4: pair it"),
		lang.X("wizard.meters.title", "Step 3 of 4: its meters"),
		lang.X("wizard.check.title", "Step 4 of 4: check"),
	}
	w.title.SetText(titles[s])
	w.body.Objects = []fyne.CanvasObject{w.pages[s]}
	w.body.Refresh()
	if s == stepPair {
		w.enterPair()
	}
	if s != stepMeters && s != stepCheck {
		w.stopPower()
	}
	if s == stepCheck {
		w.startPower()
		w.refreshCheck()
	}
	w.next.SetText(lang.X("wizard.next", "Next"))
	if s == stepCheck {
		w.next.SetText(lang.X("wizard.finish", "Finish"))
	}
	w.prog.Step = s
	w.save()
	w.refreshButtons()
	// Last: these run in the background.
	if s == stepFind {
		w.startBrowse()
	}
	if s == stepMeters {
		w.loadMeters()
	}
}

// save stores the wizard's position.
func (w *Wizard) save() {
	b, _ := json.Marshal(w.prog)
	if err := w.st.Update(func(tx store.Tx) error { return tx.PutMeta(WizardBucket, w.site.ID, b) }); err != nil {
		slog.Error("saving the setup wizard's progress", "site", w.site.ID, "err", err)
	}
}

func (w *Wizard) onNext() {
	switch w.step {
	case stepFind:
		addr := strings.TrimSpace(w.addr.Text)
		if w.picked == nil || w.picked.Address != addr {
			w.picked = nil // typed in: the certificate and status name it
			if w.prog.Address != addr {
				w.prog.Gateway = ""
			}
		}
		w.prog.Address = addr
		if w.picked != nil {
			w.prog.Gateway = w.picked.ID
		}
		w.goTo(stepPair)
	case stepPair:
		w.goTo(stepMeters)
	case stepMeters:
		w.onAssign()
	case stepCheck:
		w.prog = wizardProgress{}
		if err := w.st.Update(func(tx store.Tx) error { return tx.DeleteMeta(WizardBucket, w.site.ID) }); err != nil {
			slog.Error("ending the setup wizard", "err", err)
		}
		w.Stop()
		w.win.Close()
	}
}

func (w *Wizard) refreshButtons() {
	if w.step == stepFind || w.busy {
		w.back.Disable()
	} else {
		w.back.Enable()
	}
	ok := !w.busy
	switch w.step {
	case stepFind:
		ok = ok && validAddress(strings.TrimSpace(w.addr.Text))
	case stepPair:
		ok = ok && w.pairing != nil && w.pairing.Address == w.prog.Address
		_, err := intake.NormalizeCode(w.code.Text)
		if err == nil && !w.busy {
			w.pairBtn.Enable()
		} else {
			w.pairBtn.Disable()
		}
	case stepMeters:
		ok = ok && len(w.gwMeters) > 0
	}
	if ok {
		w.next.Enable()
	} else {
		w.next.Disable()
	}
}

// validAddress accepts host:port.
func validAddress(a string) bool {
	h, p, err := net.SplitHostPort(a)
	return err == nil && h != "" && p != ""
}

// background runs job off Fyne's goroutine and then show on it.
func (w *Wizard) background(job func() func()) {
	w.busy = true
	w.refreshButtons()
	go func() {
		show := job()
		fyne.Do(func() {
			w.busy = false
			show()
			w.refreshButtons()
		})
		if w.done != nil {
			w.done()
		}
	}()
}

// ---- Step 1: find ----

func (w *Wizard) findPage() fyne.CanvasObject {
	cols := []string{lang.X("wizard.find.id", "Gateway"), lang.X("wizard.find.model", "Model"),
		lang.X("wizard.find.address", "Address"), lang.X("wizard.find.paired", "Paired")}
	w.found = newTable(cols, []float32{160, 130, 170, 150}, func() (int, int) { return len(w.gws), len(cols) }, w.updateFound)
	w.found.OnSelected = func(id widget.TableCellID) {
		if id.Row >= 0 && id.Row < len(w.gws) {
			g := w.gws[id.Row]
			w.picked = &g
			w.addr.SetText(g.Address)
		}
	}
	w.search = widget.NewLabel("")
	w.search.Wrapping = fyne.TextWrapWord
	w.addr = widget.NewEntry()
	w.addr.SetPlaceHolder(lang.X("wizard.find.addrhint", "e.g. 192.168.1.40:8443"))
	w.addr.OnChanged = func(string) { w.refreshButtons() }
	intro := widget.NewLabel(lang.X("wizard.find.intro", "Gateways on this network appear below as they are found. "+
		"Choose one, or type its address (shown on its screen or in the router) if it is not listed."))
	intro.Wrapping = fyne.TextWrapWord
	manual := container.NewBorder(nil, nil, widget.NewLabel(lang.X("wizard.find.manual", "Address:")), nil, w.addr)
	return container.NewBorder(container.NewVBox(intro, w.search), manual, nil, nil, w.found)
}

func (w *Wizard) startBrowse() {
	if w.stopBrowse != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.stopBrowse = cancel
	w.search.SetText(lang.X("wizard.find.searching", "Searching the network…"))
	browse := w.browse
	go func() {
		err := browse(ctx, func(gws []discover.Gateway) {
			fyne.Do(func() { w.onBrowse(gws) })
		})
		if err != nil {
			slog.Warn("searching for gateways", "err", err)
			fyne.Do(func() {
				w.search.SetText(lang.X("wizard.find.nomdns", "This computer cannot search the network for gateways "+
					"(no network that allows it): type the gateway's address below."))
			})
		}
	}()
}

func (w *Wizard) onBrowse(gws []discover.Gateway) {
	w.gws = gws
	if len(gws) == 0 {
		w.search.SetText(lang.X("wizard.find.none", "No gateway found yet. Is it switched on and connected to this network? The list updates by itself."))
	} else {
		w.search.SetText(lang.X("wizard.find.count", "Gateways found: {{.N}}. The list updates by itself.", map[string]any{"N": len(gws)}))
	}
	w.found.Refresh()
}

func (w *Wizard) updateFound(id widget.TableCellID, c fyne.CanvasObject) {
	l := c.(*widget.Label)
	l.Truncation = fyne.TextTruncateEllipsis
	if id.Row >= len(w.gws) {
		l.SetText("")
		return
	}
	g := w.gws[id.Row]
	switch id.Col {
	case 0:
		l.SetText(g.ID)
	case 1:
		l.SetText(g.Model)
	case 2:
		l.SetText(g.Address)
	case 3:
		l.SetText(w.pairedText(g))
	}
}

// pairedText says with whom a found gateway is paired.
func (w *Wizard) pairedText(g discover.Gateway) string {
	var mine bool
	_ = w.st.View(func(tx store.Tx) error {
		_, err := intake.LoadPairing(tx, g.ID)
		mine = err == nil
		return nil
	})
	switch {
	case mine:
		return lang.X("wizard.find.mine", "with this workstation")
	case g.Paired:
		return lang.X("wizard.find.other", "with another workstation")
	}
	return lang.X("wizard.find.free", "not yet")
}

// ---- Step 2: pair ----

func (w *Wizard) pairPage() fyne.CanvasObject {
	w.pairTitle = widget.NewLabel("")
	w.pairTitle.Wrapping = fyne.TextWrapWord
	w.code = widget.NewEntry()
	w.code.SetPlaceHolder(lang.X("wizard.pair.hint", "8 digits, on the gateway's label or screen"))
	w.code.OnChanged = func(string) { w.refreshButtons() }
	w.code.OnSubmitted = func(string) {
		if !w.pairBtn.Disabled() {
			w.onPair()
		}
	}
	w.pairBtn = widget.NewButton(lang.X("wizard.pair.pair", "Pair"), w.onPair)
	w.pairBtn.Importance = widget.HighImportance
	w.pairMsg = widget.NewLabel("")
	w.pairMsg.Wrapping = fyne.TextWrapWord
	form := container.NewBorder(nil, nil, widget.NewLabel(lang.X("wizard.pair.code", "Pairing code:")), w.pairBtn, w.code)
	return container.NewVBox(w.pairTitle, form, w.pairMsg)
}

// enterPair says which gateway is about to be paired, and whether it
// already is.
func (w *Wizard) enterPair() {
	name := w.prog.Address
	if w.prog.Gateway != "" {
		name = w.prog.Gateway + " (" + w.prog.Address + ")"
	}
	w.pairTitle.SetText(lang.X("wizard.pair.intro", "Enter the pairing code of gateway {{.Name}}.", map[string]any{"Name": name}))
	w.pairMsg.SetText("")
	if w.pairing == nil && w.prog.Gateway != "" {
		_ = w.st.View(func(tx store.Tx) error {
			if p, err := intake.LoadPairing(tx, w.prog.Gateway); err == nil {
				w.pairing = &p
			}
			return nil
		})
	}
	if w.pairing != nil && w.pairing.Address == w.prog.Address {
		w.pairMsg.SetText(lang.X("wizard.pair.already", "This gateway is paired with this workstation (since {{.When}}): go on with Next, or enter the code to pair it again.",
			map[string]any{"When": w.stamp(w.pairing.PairedAt)}))
	} else {
		w.pairing = nil
	}
}

func (w *Wizard) onPair() {
	code, err := intake.NormalizeCode(w.code.Text)
	if err != nil || w.busy {
		return
	}
	addr, id := w.prog.Address, w.prog.Gateway
	advertised := ""
	if w.picked != nil && w.picked.Address == addr {
		advertised = w.picked.FP
	}
	w.pairMsg.SetText(lang.X("wizard.pair.pairing", "Pairing…"))
	pairFn, now, site := w.pairFn, w.clock.Now(), w.site.ID
	w.background(func() func() {
		p, err := w.pairAndSave(pairFn, addr, id, code, advertised, site, now)
		return func() {
			if err != nil {
				w.pairMsg.SetText(pairMessage(err, addr))
				return
			}
			w.pairing = &p
			w.prog.Gateway = p.GatewayID
			w.save()
			w.code.SetText("")
			w.pairMsg.SetText(lang.X("wizard.pair.ok", "Paired with gateway {{.ID}}. Next: its meters.", map[string]any{"ID": p.GatewayID}))
			if w.changed != nil {
				w.changed()
			}
		}
	})
}

// errImpostor means the certificate the gateway showed is not the one it
// announced on the network.
var errImpostor = errors.New("the gateway's certificate is not the one it announced")

// pairAndSave pairs off Fyne's goroutine and stores the pairing for site,
// keeping an earlier pairing's meter assignment.
func (w *Wizard) pairAndSave(pairFn func(context.Context, string, string, string) (intake.Pairing, error),
	addr, id, code, advertised, site string, now time.Time) (intake.Pairing, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := pairFn(ctx, addr, id, code)
	if err != nil {
		return p, err
	}
	if advertised != "" && !strings.HasPrefix(p.Fingerprint, advertised) {
		return p, errImpostor
	}
	p.Site = site
	p.PairedAt = now.UTC()
	err = w.st.Update(func(tx store.Tx) error {
		if old, err := intake.LoadPairing(tx, p.GatewayID); err == nil && old.Site == site {
			p.Meters = old.Meters
		}
		return intake.SavePairing(tx, p, now, "desktop")
	})
	return p, err
}

// pairMessage says what went wrong with a pairing and what to do, in words
// an installer understands.
func pairMessage(err error, addr string) string {
	var re *intake.RetryError
	var ne interface{ Timeout() bool }
	switch {
	case errors.Is(err, intake.ErrWrongCode):
		return lang.X("wizard.pair.wrong", "Wrong code. Check the 8 digits on the gateway's label or screen. After 5 wrong codes the gateway refuses pairing for a while.")
	case errors.As(err, &re) && errors.Is(err, intake.ErrRateLimited):
		return lang.X("wizard.pair.locked", "Too many wrong codes: the gateway refuses pairing for {{.Wait}} more. Check the code, then try again.",
			map[string]any{"Wait": waitText(re.After)})
	case errors.As(err, &re):
		return lang.X("wizard.pair.busy", "The gateway is receiving many pairing requests and asks to wait {{.Wait}}; then try again.",
			map[string]any{"Wait": waitText(re.After)})
	case errors.Is(err, intake.ErrPairingClosed):
		return lang.X("wizard.pair.closed", "This gateway is already paired, with this or another workstation. To pair it here, "+
			"open its pairing window: at the gateway, run “zevdesk gateway open-pairing” (the window stays open 10 minutes), then enter the code again.")
	case errors.Is(err, intake.ErrCertChanged), errors.Is(err, intake.ErrGatewayProof), errors.Is(err, errImpostor):
		return lang.X("wizard.pair.cert", "The gateway's certificate is not the one expected: another device may be posing as the gateway. "+
			"Nothing was saved. Make sure this computer is on the building's network and try again; if it happens again, call support.")
	case errors.As(err, &ne):
		return lang.X("wizard.pair.noanswer", "Nothing answers at {{.Addr}}. Check the address and that the gateway is switched on and connected.",
			map[string]any{"Addr": addr})
	}
	return lang.X("wizard.pair.failed", "Pairing failed: {{.Err}}", map[string]any{"Err": err.Error()})
}

// waitText says a wait as minutes or seconds.
func waitText(d time.Duration) string {
	switch {
	case d <= 0:
		return lang.X("wizard.wait.while", "a while")
	case d < time.Minute:
		return lang.XN("wizard.wait.seconds", "{{.N}} seconds", int(d/time.Second), map[string]any{"N": int(d / time.Second)})
	}
	return lang.XN("wizard.wait.minutes", "{{.N}} minutes", int((d+time.Minute-1)/time.Minute), map[string]any{"N": int((d + time.Minute - 1) / time.Minute)})
}

func (w *Wizard) stamp(t time.Time) string {
	lt := t.In(w.site.Location())
	return date(core.DateOf(lt)) + " " + lt.Format("15:04")
}

// ---- Step 3: meters ----

func (w *Wizard) metersPage() fyne.CanvasObject {
	intro := widget.NewLabel(lang.X("wizard.meters.intro", "Each meter of the gateway with its power now, updated every second. "+
		"Switch a load on (a kettle, the heat pump) and watch which meter moves. Give each meter its role, and consumers their unit."))
	intro.Wrapping = fyne.TextWrapWord
	w.meterBox = container.NewVBox()
	return container.NewBorder(intro, nil, nil, nil, container.NewVScroll(w.meterBox))
}

// roleNames are the roles a meter can get in the wizard, with "not used".
func roleNames() []string {
	return []string{
		lang.X("wizard.role.none", "not used"),
		lang.X("wizard.role.production", "solar production"),
		lang.X("wizard.role.grid", "grid connection"),
		lang.X("wizard.role.unit", "unit (flat, shop)"),
		lang.X("wizard.role.common", "common areas"),
		lang.X("wizard.role.heatpump", "heat pump"),
		lang.X("wizard.role.ev", "EV charger"),
	}
}

// wizardRoles maps roleNames' indexes to roles ("" for not used).
var wizardRoles = []core.Role{"", core.RoleProduction, core.RoleGrid, core.RoleUnit, core.RoleCommon, core.RoleHeatPump, core.RoleEV}

func (w *Wizard) loadMeters() {
	if w.pairing == nil {
		return
	}
	w.meterBox.RemoveAll()
	w.gwMeters = nil
	w.status.SetText(lang.X("wizard.meters.loading", "Asking the gateway for its meters…"))
	meters, p := w.meters, *w.pairing
	w.background(func() func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		ms, err := meters(ctx, p)
		return func() {
			if err != nil {
				w.status.SetText(lang.X("wizard.meters.failed", "The gateway did not list its meters: {{.Err}}", map[string]any{"Err": err.Error()}))
				return
			}
			w.status.SetText("")
			w.gwMeters = ms
			w.drawMeters()
			w.startPower() // once the rows exist to show it
		}
	})
}

// newUnitOption is the last choice of a unit list.
func newUnitOption() string { return lang.X("wizard.meters.newunit", "New unit…") }

func (w *Wizard) unitOptions() []string {
	var opts []string
	for _, u := range w.site.Units {
		opts = append(opts, unitLabel(u))
	}
	return append(opts, newUnitOption())
}

func unitLabel(u core.Unit) string {
	if u.Name == "" {
		return u.ID
	}
	return u.ID + " – " + u.Name
}

// drawMeters draws a row per gateway meter, preset from the site meter it
// feeds.
func (w *Wizard) drawMeters() {
	w.meterBox.RemoveAll()
	w.roleSel, w.unitSel, w.powerLbl = nil, nil, nil
	names := roleNames()
	for i, m := range w.gwMeters {
		role := newSelect(names, nil)
		unit := newSelect(w.unitOptions(), nil)
		unit.PlaceHolder = lang.X("wizard.meters.unit", "unit")
		role.OnChanged = func(string) { w.refreshUnit(i) }
		unit.OnChanged = func(s string) {
			if s == newUnitOption() {
				unit.ClearSelected()
				w.onNewUnit(i)
			}
		}
		role.SetSelectedIndex(0)
		if sm := w.site.Meter(w.pairing.SiteMeter(m.ID)); sm != nil {
			for k, r := range wizardRoles {
				if r == sm.Role {
					role.SetSelectedIndex(k)
				}
			}
			if u := w.site.Unit(sm.Unit); u != nil {
				unit.SetSelected(unitLabel(*u))
			}
		}
		pw := widget.NewLabelWithStyle("–", fyne.TextAlignTrailing, fyne.TextStyle{Monospace: true})
		name := m.ID
		if m.Model != "" {
			name += " (" + m.Model + ")"
		}
		w.roleSel = append(w.roleSel, role)
		w.unitSel = append(w.unitSel, unit)
		w.powerLbl = append(w.powerLbl, pw)
		w.meterBox.Add(container.NewGridWithColumns(4, widget.NewLabel(name), pw, role, unit))
		w.refreshUnit(i)
	}
	w.drawPower()
}

// refreshUnit offers a unit only to meters whose role has one.
func (w *Wizard) refreshUnit(i int) {
	if i >= len(w.unitSel) {
		return
	}
	if wizardRoles[max(0, w.roleSel[i].SelectedIndex())] == core.RoleUnit {
		w.unitSel[i].Enable()
	} else {
		w.unitSel[i].ClearSelected()
		w.unitSel[i].Disable()
	}
}

// onNewUnit asks for a new unit's id and name and chooses it for meter i.
func (w *Wizard) onNewUnit(i int) {
	id := widget.NewEntry()
	name := widget.NewEntry()
	items := []*widget.FormItem{
		widget.NewFormItem(lang.X("wizard.unit.id", "Short id"), id),
		widget.NewFormItem(lang.X("wizard.unit.name", "Name"), name),
	}
	id.SetPlaceHolder("W04")
	name.SetPlaceHolder(lang.X("wizard.unit.namehint", "e.g. 3.5 rooms, 2nd floor left"))
	showForm(w.win, lang.X("wizard.unit.title", "New unit"), items, func(ok bool) {
		if ok {
			w.addUnit(i, strings.TrimSpace(id.Text), strings.TrimSpace(name.Text))
		}
	})
}

// showForm shows a form dialog; tests replace it.
var showForm = func(win fyne.Window, title string, items []*widget.FormItem, fn func(bool)) {
	d := dialog.NewForm(title, lang.X("wizard.unit.add", "Add"), lang.X("wizard.unit.cancel", "Cancel"), items, fn, win)
	d.Resize(fyne.NewSize(420, 200))
	d.Show()
}

// addUnit adds a unit to the site being set up (saved with the meters) and
// chooses it for meter i.
func (w *Wizard) addUnit(i int, id, name string) {
	if id == "" {
		w.status.SetText(lang.X("wizard.unit.noid", "A unit needs a short id, such as W04."))
		return
	}
	if w.site.Unit(id) != nil {
		w.status.SetText(lang.X("wizard.unit.exists", "Unit {{.ID}} exists already: choose it from the list.", map[string]any{"ID": id}))
		return
	}
	w.site.Units = append(w.site.Units, core.Unit{ID: id, Name: name})
	for _, s := range w.unitSel {
		s.Options = w.unitOptions()
		s.Refresh()
	}
	w.unitSel[i].SetSelected(unitLabel(core.Unit{ID: id, Name: name}))
	w.status.SetText("")
}

// onAssign saves the roles and units into the site and makes the gateway
// feed it (intake.Assign).
func (w *Wizard) onAssign() {
	site, mapping, err := w.assignment()
	if err != nil {
		w.status.SetText(err.Error())
		return
	}
	id, clock := w.pairing.GatewayID, w.clock
	w.status.SetText(lang.X("wizard.meters.saving", "Saving…"))
	w.background(func() func() {
		// Stored as the site form and `site import` store a site: validated,
		// audited, billed periods refused.
		stored, err := saveSite(w.st, clock, site)
		if err == nil {
			site = stored
			_, err = intake.Assign(w.st, id, site.ID, mapping, clock, "desktop")
		}
		return func() {
			if err != nil {
				w.status.SetText(lang.X("wizard.meters.savefailed", "Could not save the meters: {{.Err}}", map[string]any{"Err": err.Error()}))
				return
			}
			w.site = site
			_ = w.st.View(func(tx store.Tx) error {
				if p, err := intake.LoadPairing(tx, id); err == nil {
					w.pairing = &p
				}
				return nil
			})
			if w.changed != nil {
				w.changed()
			}
			w.goTo(stepCheck)
		}
	})
}

// assignment builds the site with the chosen roles and units and the
// gateway's meter mapping. A gateway meter feeds the site meter it fed
// before, else a site meter of its own id.
func (w *Wizard) assignment() (*core.Site, map[string]string, error) {
	site := cloneSite(w.site)
	mapping := map[string]string{}
	for i, m := range w.gwMeters {
		role := wizardRoles[max(0, w.roleSel[i].SelectedIndex())]
		if role == "" {
			continue
		}
		unit := ""
		if role == core.RoleUnit {
			k := w.unitSel[i].SelectedIndex()
			if k < 0 || k >= len(site.Units) {
				return nil, nil, errors.New(lang.X("wizard.meters.needunit", "Meter {{.ID}} measures a unit: choose which one.", map[string]any{"ID": m.ID}))
			}
			unit = site.Units[k].ID
		}
		sid := w.pairing.SiteMeter(m.ID)
		mapping[m.ID] = sid
		if sm := site.Meter(sid); sm != nil {
			sm.Role, sm.Unit = role, unit
			if role != core.RoleCommon && role != core.RoleHeatPump {
				sm.Key = ""
			}
		} else {
			sm := core.Meter{ID: sid, Role: role, Unit: unit}
			if role == core.RoleCommon || role == core.RoleHeatPump {
				sm.Key = core.KeyUnits
			}
			site.Meters = append(site.Meters, sm)
		}
	}
	if len(mapping) == 0 {
		return nil, nil, errors.New(lang.X("wizard.meters.noneused", "Give at least one meter a role."))
	}
	if err := site.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%s %s", lang.X("wizard.meters.invalid", "The site is not complete yet:"), errorText(err))
	}
	return site, mapping, nil
}

// ---- live power (steps 3 and 4) ----

// startPower follows the paired gateway's live stream.
func (w *Wizard) startPower() {
	if w.pairing == nil || (w.stopLive != nil && w.liveGateway == w.pairing.GatewayID) {
		return
	}
	w.stopPower()
	ctx, cancel := context.WithCancel(context.Background())
	w.stopLive, w.liveGateway = cancel, w.pairing.GatewayID
	follow, p := w.follow, *w.pairing
	w.mu.Lock()
	w.power, w.samples, w.powerDrawn = map[string]float64{}, 0, false
	w.mu.Unlock()
	go func() {
		err := follow(ctx, p, func(ev protocol.Live) {
			w.mu.Lock()
			w.power = ev.PowerW
			w.powerAt = w.clock.Now()
			w.samples++
			first := !w.powerDrawn
			w.powerDrawn = true
			w.mu.Unlock()
			if first || w.samples%2 == 0 { // every second or two
				fyne.Do(func() {
					w.drawPower()
					if w.step == stepCheck {
						w.refreshCheck()
					}
				})
				if w.powered != nil {
					w.powered()
				}
			}
		})
		if err != nil && ctx.Err() == nil {
			slog.Warn("wizard: live power", "gateway", p.GatewayID, "err", err)
		}
	}()
}

func (w *Wizard) stopPower() {
	if w.stopLive != nil {
		w.stopLive()
		w.stopLive = nil
		w.liveGateway = ""
	}
}

// livePower returns the latest live power per gateway meter.
func (w *Wizard) livePower() (map[string]float64, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.power, w.samples
}

func (w *Wizard) drawPower() {
	pw, _ := w.livePower()
	for i, m := range w.gwMeters {
		if i >= len(w.powerLbl) {
			break
		}
		if v, ok := pw[m.ID]; ok {
			w.powerLbl[i].SetText(kw(v) + " kW")
		} else {
			w.powerLbl[i].SetText("–")
		}
	}
}

// ---- Step 4: check ----

func (w *Wizard) checkPage() fyne.CanvasObject {
	w.checkLbl = widget.NewLabel("")
	w.checkLbl.Wrapping = fyne.TextWrapWord
	return container.NewVScroll(w.checkLbl)
}

func (w *Wizard) refreshCheck() {
	pw, n := w.livePower()
	if n == 0 || w.pairing == nil {
		w.checkLbl.SetText(lang.X("wizard.check.waiting", "Waiting for the first values from the gateway…"))
		return
	}
	var lines []string
	// The live values come straight from the gateway; the stored readings
	// from the window's intake loop, which the state tells about.
	var st intake.State
	_ = w.st.View(func(tx store.Tx) (err error) { st, err = intake.LoadState(tx, w.pairing.GatewayID); return })
	if st.Cursor > 0 {
		lines = append(lines, lang.X("wizard.check.stored", "Readings arrive and are stored (last contact {{.When}}).", map[string]any{"When": w.stamp(st.LastContact)}))
	} else {
		lines = append(lines, lang.X("wizard.check.notstored", "No readings stored yet: while the app is open they arrive within a minute."))
	}
	for _, v := range checkMeters(w.site, w.pairing, pw) {
		lines = append(lines, v.Meter+": "+v.Text)
	}
	w.checkLbl.SetText(strings.Join(lines, "\n\n"))
}

// verdict is the plausibility check's word on one meter.
type verdict struct {
	Meter string
	OK    bool
	Text  string
}

// Thresholds of the checks: a meter may show a little power the wrong way
// (standby, measurement noise); the grid meter may differ from the sum of
// production and consumers by a little (the gateway reads its meters one
// after another).
const (
	checkNoiseW    = 50
	checkBalanceW  = 300
	checkBalanceFr = 0.1
)

// checkMeters checks the gateway's live power against the roles of the
// site meters its meters feed: a PV meter that draws or a consumer that
// feeds in has its registers swapped (or the wrong role); a power above the
// meter's limit is implausible (wrong scaling or transformer ratio); and
// the grid meter must match production and consumers.
func checkMeters(site *core.Site, p *intake.Pairing, pw map[string]float64) []verdict {
	var out []verdict
	var prod, cons, grid float64
	gridMeter := ""
	ids := make([]string, 0, len(pw))
	for id := range pw {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		v := pw[id]
		m := site.Meter(p.SiteMeter(id))
		if m == nil || p.Site != site.ID {
			continue
		}
		vd := verdict{Meter: m.ID, OK: true, Text: lang.X("wizard.check.ok", "{{.P}} kW, plausible.", map[string]any{"P": kw(v)})}
		switch {
		case abs(v) > float64(m.MaxPower()):
			vd = verdict{Meter: m.ID, Text: lang.X("wizard.check.implausible", "{{.P}} kW is more than this meter can carry ({{.Max}} kW): "+
				"check its scaling or current transformer ratio in the gateway.", map[string]any{"P": kw(v), "Max": kw(float64(m.MaxPower()))})}
		case m.Role == core.RoleProduction && v > checkNoiseW:
			vd = verdict{Meter: m.ID, Text: lang.X("wizard.check.pvdraws", "{{.P}} kW drawn although it is the solar meter: "+
				"its import and export registers (or its clamp) are swapped, or the role is wrong.", map[string]any{"P": kw(v)})}
		case m.Role.Consumer() && v < -checkNoiseW:
			vd = verdict{Meter: m.ID, Text: lang.X("wizard.check.feeds", "{{.P}} kW fed in although it is a consumer: "+
				"its import and export registers (or its clamp) are swapped, or the role is wrong.", map[string]any{"P": kw(v)})}
		}
		switch {
		case m.Role == core.RoleProduction:
			prod -= v
		case m.Role == core.RoleGrid:
			grid += v
			gridMeter = m.ID
		case m.Role.Consumer():
			cons += v
		}
		out = append(out, vd)
	}
	if gridMeter != "" && cons != 0 {
		want := cons - prod
		if d := grid - want; abs(d) > max(checkBalanceW, checkBalanceFr*max(cons, prod)) {
			out = append(out, verdict{Meter: gridMeter, Text: lang.X("wizard.check.balance",
				"The sub-meters do not add up: the grid meter shows {{.Grid}} kW, production and consumers give {{.Want}} kW. "+
					"A meter may be missing, have the wrong role, or have its registers swapped.",
				map[string]any{"Grid": kw(grid), "Want": kw(want)})})
		}
	}
	return out
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
