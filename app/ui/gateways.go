package ui

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/ingest/discover"
	"github.com/zevdesk/zevdesk/ingest/intake"
	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// pairedColumns and foundColumns are the headers of the paired and the found
// gateways tables.
func pairedColumns() []string {
	return []string{lang.X("gateways.col.gateway", "Gateway"), lang.X("gateways.col.address", "Address"), lang.X("gateways.col.site", "Site"),
		lang.X("gateways.col.paired", "Paired"), lang.X("gateways.col.contact", "Last contact"), lang.X("gateways.col.state", "State")}
}

func foundColumns() []string {
	return []string{lang.X("gateways.col.gateway", "Gateway"), lang.X("gateways.col.model", "Model"), lang.X("gateways.col.firmware", "Firmware"),
		lang.X("gateways.col.address", "Address"), lang.X("gateways.col.paired", "Paired")}
}

// pairingClosedText says how to pair a gateway that is paired already.
func pairingClosedText(id string) string {
	return lang.X("gateways.closed", "Gateway {{.ID}} is already paired and accepts a new pairing only while its pairing window is open: "+
		"at the gateway, run zevdesk gateway open-pairing (open for 10 minutes), then pair again.", map[string]any{"ID": id})
}

// pairedGateway is a pairing with the state the intake loop last stored.
type pairedGateway struct {
	intake.Pairing
	State    intake.State
	HasState bool
}

// Gateways lists the paired gateways (the store's Meta bucket "gateways")
// and the gateways found on the LAN by mDNS, and pairs one with its code. It
// is not safe for concurrent use; call its methods on Fyne's goroutine.
type Gateways struct {
	st    store.Store
	clock core.Clock
	win   fyne.Window

	paired  *widget.Table
	found   *widget.Table
	search  *widget.Label
	id      *widget.Entry
	addr    *widget.Entry
	code    *widget.Entry
	pair    *widget.Button
	status  *widget.Label
	content fyne.CanvasObject

	// Meter assignment of the chosen paired gateway.
	meterTitle *widget.Label
	meterBox   *fyne.Container
	assign     *widget.Button
	chosen     *pairedGateway
	gwMeters   []protocol.Meter
	meterSel   []*widget.Select

	// browse searches the LAN and calls fn with the whole list whenever it
	// changes, until ctx ends (discover.Browse); pairFn pairs (intake.Pair).
	// Tests replace them.
	browse func(ctx context.Context, fn func([]discover.Gateway)) error
	pairFn func(ctx context.Context, addr, id, code string) (intake.Pairing, error)
	// meters asks a paired gateway for its meters; tests may replace it.
	meters func(ctx context.Context, p intake.Pairing) ([]protocol.Meter, error)
	// done, when set, is called on the UI goroutine after a pairing attempt
	// has drawn its result; tests wait on it.
	done func()
	// changed, when set, is called on the UI goroutine after a pairing was
	// made or its meters assigned (the window restarts its intake loops).
	changed func()
	// setUp, when set, opens the setup wizard ("Set up gateways…").
	setUp func()

	site     *core.Site
	list     []pairedGateway
	gws      []discover.Gateway
	cancel   context.CancelFunc
	busy     bool
	location *time.Location
}

// NewGateways builds the gateways screen on st.
func NewGateways(st store.Store, clock core.Clock, win fyne.Window) *Gateways {
	g := &Gateways{st: st, clock: clock, win: win, location: time.Local}
	g.browse = func(ctx context.Context, fn func([]discover.Gateway)) error {
		return discover.Browse(ctx, discover.BrowseOptions{}, fn)
	}
	g.pairFn = intake.Pair
	g.meters = func(ctx context.Context, p intake.Pairing) ([]protocol.Meter, error) {
		c := intake.NewClient(st, p, nil)
		defer c.Close()
		return c.Meters(ctx)
	}
	g.paired = newTable(pairedColumns(), nil, g.pairedSize, g.updatePaired)
	g.found = newTable(foundColumns(), nil, g.foundSize, g.updateFound)
	g.fitColumns()
	g.found.OnSelected = func(id widget.TableCellID) { g.onFound(id.Row) }
	g.paired.OnSelected = func(id widget.TableCellID) { g.onChoose(id.Row) }
	g.meterTitle = widget.NewLabelWithStyle(lang.X("gateways.choose", "Choose a paired gateway to assign its meters to the site's meters."), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	g.meterTitle.Wrapping = fyne.TextWrapWord
	g.meterBox = container.NewVBox()
	g.assign = widget.NewButton(lang.X("gateways.assign", "Assign meters"), g.onAssign)
	g.assign.Disable()
	g.search = widget.NewLabel("")
	g.id = widget.NewEntry()
	g.id.SetPlaceHolder(lang.X("gateways.gateway", "Gateway id (optional)"))
	g.addr = widget.NewEntry()
	g.addr.SetPlaceHolder(lang.X("gateways.address", "Address (host:port)"))
	g.code = widget.NewEntry()
	g.code.SetPlaceHolder(lang.X("gateways.codehint", "8 digits, on the gateway's label"))
	g.code.OnChanged = func(string) { g.refreshPair() }
	g.id.OnChanged = g.code.OnChanged
	g.addr.OnChanged = g.code.OnChanged
	g.pair = widget.NewButton(lang.X("gateways.pair", "Pair"), g.onPair)
	g.pair.Importance = widget.HighImportance
	g.pair.Disable()
	g.status = widget.NewLabel("")
	g.status.Wrapping = fyne.TextWrapWord
	bold := func(s string) *widget.Label {
		return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	form := container.NewBorder(nil, nil, nil, g.pair, container.NewGridWithColumns(3, g.id, g.addr, g.code))
	meters := container.NewBorder(g.meterTitle, container.NewHBox(layout.NewSpacer(), g.assign), nil, nil, container.NewVScroll(g.meterBox))
	split := container.NewHSplit(g.paired, meters)
	split.Offset = 0.72
	top := container.NewBorder(bold(lang.X("gateways.paired", "Paired gateways")), nil, nil, nil, split)
	bottom := container.NewBorder(container.NewVBox(bold(lang.X("gateways.found", "Gateways on this network")), g.search), container.NewVBox(form, g.status), nil, nil, g.found)
	wizard := widget.NewButtonWithIcon(lang.X("gateways.setup", "Set up gateways…"), theme.SettingsIcon(), func() {
		if g.setUp != nil {
			g.setUp()
		}
	})
	wizard.Importance = widget.HighImportance
	g.content = container.NewBorder(container.NewHBox(wizard), nil, nil, nil, container.NewVSplit(top, bottom))
	return g
}

// Content returns the screen's canvas object.
func (g *Gateways) Content() fyne.CanvasObject { return g.content }

// setSite lists the pairings and starts searching the LAN (once).
func (g *Gateways) setSite(site *core.Site) {
	g.site = site
	g.location = site.Location()
	g.onReload()
	if g.cancel == nil {
		g.startBrowse()
	}
}

// Stop ends the LAN search.
func (g *Gateways) Stop() {
	if g.cancel != nil {
		g.cancel()
	}
}

func (g *Gateways) startBrowse() {
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	g.search.SetText(lang.X("gateways.searching", "Searching the network…"))
	browse := g.browse
	go func() {
		err := browse(ctx, func(gws []discover.Gateway) {
			fyne.Do(func() { g.onBrowse(gws) })
		})
		if err != nil {
			slog.Warn("searching for gateways", "err", err)
			fyne.Do(func() {
				g.search.SetText(lang.X("gateways.browsefailed", "This computer cannot search the network for gateways: enter the gateway's address by hand."))
			})
		}
	}()
}

func (g *Gateways) onBrowse(gws []discover.Gateway) {
	g.gws = gws
	if len(gws) == 0 {
		g.search.SetText(lang.X("gateways.nonefound", "No gateway answered on this network."))
	} else {
		g.search.SetText("")
	}
	g.fitColumns()
	g.found.Refresh()
}

// onFound fills the pairing form from a found gateway.
func (g *Gateways) onFound(row int) {
	if row < 0 || row >= len(g.gws) {
		return
	}
	gw := g.gws[row]
	g.id.SetText(gw.ID)
	g.addr.SetText(gw.Address)
	g.refreshPair()
}

// onReload reads the pairings and their last states.
func (g *Gateways) onReload() {
	var list []pairedGateway
	err := g.st.View(func(tx store.Tx) error {
		ps, err := intake.Pairings(tx)
		if err != nil {
			return err
		}
		for _, p := range ps {
			pg := pairedGateway{Pairing: p}
			if s, err := intake.LoadState(tx, p.GatewayID); err == nil {
				pg.State, pg.HasState = s, true
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			list = append(list, pg)
		}
		return nil
	})
	if err != nil {
		g.status.SetText(err.Error())
		return
	}
	g.list = list
	if len(list) == 0 {
		g.status.SetText(lang.X("gateways.nopaired", "No gateway paired yet."))
	}
	// A gateway taken by another workstation stops feeding this one: say
	// so in a sentence, not only in the table's narrow column.
	for _, p := range list {
		if p.HasState && p.State.Rejected {
			if p.State.PairedElsewhere.IsZero() {
				g.status.SetText(lang.X("gateways.rejectedlong", "Gateway {{.ID}} no longer accepts this workstation (it was reset or paired with another workstation). "+
					"Open its pairing window on the gateway (zevdesk gateway open-pairing) and pair it again here.", map[string]any{"ID": p.GatewayID}))
			} else {
				g.status.SetText(lang.X("gateways.elsewherelong", "Gateway {{.ID}} was paired with another workstation on {{.When}}: this workstation no longer receives its data. "+
					"If that was not meant, open its pairing window on the gateway (zevdesk gateway open-pairing) and pair it again here.",
					map[string]any{"ID": p.GatewayID, "When": g.stamp(p.State.PairedElsewhere)}))
			}
			break
		}
	}
	g.fitColumns()
	g.paired.Refresh()
	g.found.Refresh()
}

// onPair pairs the gateway in the form with the entered code, pins its
// certificate and assigns it to the current site.
func (g *Gateways) onPair() {
	id, addr := strings.TrimSpace(g.id.Text), strings.TrimSpace(g.addr.Text)
	code, err := intake.NormalizeCode(g.code.Text)
	if err != nil {
		g.status.SetText(err.Error())
		return
	}
	if addr == "" || g.busy {
		return
	}
	advertised := ""
	for _, gw := range g.gws {
		if gw.ID == id && gw.Address == addr {
			advertised = gw.FP
		}
	}
	site := ""
	if g.site != nil {
		site = g.site.ID
	}
	g.busy = true
	g.status.SetText(lang.X("gateways.pairing", "Pairing…"))
	g.refreshPair()
	pairFn, now := g.pairFn, g.clock.Now()
	go func() {
		id, err := g.pairAndSave(pairFn, addr, id, code, advertised, site, now)
		fyne.Do(func() {
			g.busy = false
			if err != nil {
				g.status.SetText(err.Error())
			} else {
				g.code.SetText("")
				g.onReload()
				if g.changed != nil {
					g.changed()
				}
				g.status.SetText(lang.X("gateways.pairedok", "Gateway {{.ID}} paired with site {{.Site}}.", map[string]any{"ID": id, "Site": site}))
			}
			g.refreshPair()
			if g.done != nil {
				g.done()
			}
		})
	}()
}

// pairAndSave runs off the UI goroutine: pairing talks to the gateway.
func (g *Gateways) pairAndSave(pairFn func(context.Context, string, string, string) (intake.Pairing, error),
	addr, id, code, advertised, site string, now time.Time) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The id may be left empty: the gateway's certificate and status
	// give it.
	p, err := pairFn(ctx, addr, id, code)
	if errors.Is(err, intake.ErrPairingClosed) {
		name := id
		if name == "" {
			name = addr
		}
		return "", errors.New(pairingClosedText(name))
	}
	if err != nil {
		return "", errors.New(pairMessage(err, addr))
	}
	if advertised != "" && !strings.HasPrefix(p.Fingerprint, advertised) {
		return "", errors.New(pairMessage(errImpostor, addr))
	}
	p.Site = site
	p.PairedAt = now.UTC() // the office's clock, like the audit entry
	err = g.st.Update(func(tx store.Tx) error {
		if old, err := intake.LoadPairing(tx, p.GatewayID); err == nil {
			p.Meters = old.Meters // re-pairing keeps the meter assignment
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return intake.SavePairing(tx, p, now, "desktop")
	})
	return p.GatewayID, err
}

// onChoose asks the chosen paired gateway for its meters and shows, for
// each, the site meter it feeds.
func (g *Gateways) onChoose(row int) {
	if row < 0 || row >= len(g.list) || g.busy || g.site == nil {
		return
	}
	pg := g.list[row]
	g.chosen = &pg
	g.gwMeters, g.meterSel = nil, nil
	g.meterBox.RemoveAll()
	g.meterTitle.SetText(lang.X("gateways.meters", "Meters of {{.ID}}", map[string]any{"ID": pg.GatewayID}))
	g.status.SetText(lang.X("gateways.loadingmeters", "Asking the gateway for its meters…"))
	g.busy = true
	g.refreshPair()
	meters := g.meters
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		ms, err := meters(ctx, pg.Pairing)
		fyne.Do(func() {
			g.busy = false
			if err != nil {
				g.status.SetText(lang.X("gateways.metersfailed", "Gateway {{.ID}} did not list its meters: {{.Err}}", map[string]any{"ID": pg.GatewayID, "Err": err.Error()}))
			} else if g.chosen != nil && g.chosen.GatewayID == pg.GatewayID {
				g.status.SetText("")
				g.gwMeters = ms
				g.refreshMeters()
			}
			g.refreshPair()
			if g.done != nil {
				g.done()
			}
		})
	}()
}

// refreshMeters draws one row per gateway meter with a choice of the site's
// meters, preselected with the current assignment.
func (g *Gateways) refreshMeters() {
	g.meterBox.RemoveAll()
	g.meterSel = nil
	var opts []string
	for _, m := range g.site.Meters {
		opts = append(opts, m.ID)
	}
	for _, m := range g.gwMeters {
		sel := newSelect(opts, nil)
		sel.PlaceHolder = lang.X("gateways.unassigned", "(not assigned)")
		if sm := g.chosen.SiteMeter(m.ID); g.site.Meter(sm) != nil && (g.chosen.Site == "" || g.chosen.Site == g.site.ID) {
			sel.SetSelected(sm)
		}
		name := m.ID
		if m.Model != "" {
			name += " (" + m.Model + ")"
		}
		g.meterSel = append(g.meterSel, sel)
		g.meterBox.Add(container.NewGridWithColumns(2, widget.NewLabel(name), sel))
	}
}

// onAssign makes the chosen gateway feed the current site with the chosen
// meter mapping (intake.Assign, which derives stored records again).
func (g *Gateways) onAssign() {
	if g.chosen == nil || g.site == nil || g.busy {
		return
	}
	mapping := map[string]string{}
	for i, m := range g.gwMeters {
		if sel := g.meterSel[i].Selected; sel != "" {
			mapping[m.ID] = sel
		}
	}
	id, site, clock := g.chosen.GatewayID, g.site.ID, g.clock
	g.busy = true
	g.refreshPair()
	go func() {
		n, err := intake.Assign(g.st, id, site, mapping, clock, "desktop")
		fyne.Do(func() {
			g.busy = false
			if err != nil {
				g.status.SetText(lang.X("gateways.assignfailed", "Gateway {{.ID}}: the meters could not be assigned: {{.Err}}", map[string]any{"ID": id, "Err": err.Error()}))
			} else {
				g.onReload()
				if g.changed != nil {
					g.changed()
				}
				g.status.SetText(lang.X("gateways.assigned", "Gateway {{.ID}}: {{.N}} meters assigned to site {{.Site}}; {{.Records}} stored records derived again.",
					map[string]any{"ID": id, "N": len(mapping), "Site": site, "Records": n}))
			}
			g.refreshPair()
			if g.done != nil {
				g.done()
			}
		})
	}()
}

func (g *Gateways) refreshPair() {
	_, err := intake.NormalizeCode(g.code.Text)
	if err == nil && !g.busy && strings.TrimSpace(g.addr.Text) != "" {
		g.pair.Enable()
	} else {
		g.pair.Disable()
	}
	if g.chosen != nil && len(g.gwMeters) > 0 && !g.busy {
		g.assign.Enable()
	} else {
		g.assign.Disable()
	}
}

func (g *Gateways) pairedSize() (int, int) { return len(g.list), len(pairedColumns()) }

func (g *Gateways) updatePaired(id widget.TableCellID, c fyne.CanvasObject) {
	l := c.(*widget.Label)
	l.Truncation = fyne.TextTruncateEllipsis
	if id.Row >= len(g.list) {
		l.SetText("")
		return
	}
	p := g.list[id.Row]
	switch id.Col {
	case 0:
		l.SetText(p.GatewayID)
	case 1:
		l.SetText(p.Address)
	case 2:
		l.SetText(p.Site)
	case 3:
		l.SetText(g.stamp(p.PairedAt))
	case 4:
		l.SetText(g.stamp(p.State.LastContact)) // zero without state: "never"
	case 5:
		l.SetText(g.stateText(p))
	}
}

// stateText sums up a gateway's connection for the office.
func (g *Gateways) stateText(p pairedGateway) string {
	s := p.State
	switch {
	case !p.HasState:
		return lang.X("gateways.state.waiting", "waiting for first contact")
	case s.Rejected && !s.PairedElsewhere.IsZero():
		return lang.X("gateways.state.elsewhere", "paired with another workstation on {{.When}}", map[string]any{"When": g.stamp(s.PairedElsewhere)})
	case s.Rejected:
		return lang.X("gateways.state.rejected", "no longer accepts this workstation")
	case s.Err != "":
		return lang.X("gateways.state.error", "not reachable (last attempt failed)")
	case s.Lost != "":
		return lang.X("gateways.state.lost", "some readings were lost while this workstation was off")
	case s.SkewFlag:
		return lang.X("gateways.state.skew", "clock off by {{.D}}", map[string]any{"D": s.ClockSkew.Round(time.Second).String()})
	case s.Behind > 0:
		return lang.X("gateways.state.behind", "catching up ({{.N}} records behind)", map[string]any{"N": s.Behind})
	}
	return lang.X("gateways.state.ok", "up to date")
}

func (g *Gateways) stamp(t time.Time) string {
	if t.IsZero() {
		return lang.X("gateways.never", "never")
	}
	lt := t.In(g.location)
	return date(core.DateOf(lt)) + " " + lt.Format("15:04")
}

func (g *Gateways) foundSize() (int, int) { return len(g.gws), len(foundColumns()) }

func (g *Gateways) updateFound(id widget.TableCellID, c fyne.CanvasObject) {
	l := c.(*widget.Label)
	l.Truncation = fyne.TextTruncateEllipsis
	if id.Row >= len(g.gws) {
		l.SetText("")
		return
	}
	gw := g.gws[id.Row]
	switch id.Col {
	case 0:
		l.SetText(gw.ID)
	case 1:
		l.SetText(gw.Model)
	case 2:
		l.SetText(gw.FW)
	case 3:
		l.SetText(gw.Address)
	case 4:
		if gw.Paired {
			l.SetText(lang.X("gateways.yes", "yes"))
		} else {
			l.SetText(lang.X("gateways.no", "no"))
		}
	}
}

// Column widths of the gateway tables: a column is as wide as its header or
// its widest cell, in the current language, so that no header runs into the
// next ("Liegenschaft" and "Gekoppelt" did with widths made for English);
// cells wider than maxCellWidth are cut with an ellipsis instead.
const (
	minColumnWidth = 60
	maxCellWidth   = 280
)

// fitColumns sizes the columns of both tables to the current language and
// rows; typical ids, addresses and times keep empty tables from jumping
// when the first row arrives.
func (g *Gateways) fitColumns() {
	const id, addr, stamp = "zevgw-2786067d", "192.168.100.20:8443", "05.01.2026 09:30"
	fitColumns(g.paired, pairedColumns(), []string{id, addr, "", stamp, stamp, ""}, g.pairedSize, g.updatePaired)
	fitColumns(g.found, foundColumns(), []string{id, "zevgw-1", "", addr, ""}, g.foundSize, g.updateFound)
}

// fitColumns sizes t's columns from headers (drawn bold), the samples'
// texts and the texts update gives the cells of the rows size reports.
func fitColumns(t *widget.Table, headers, samples []string, size func() (int, int), update func(widget.TableCellID, fyne.CanvasObject)) {
	th := t.Theme()
	textSize := th.Size(theme.SizeNameText)
	// A label's text is inset by the inner padding on both sides; one
	// padding more keeps the next column's text off this one's.
	pad := 2*th.Size(theme.SizeNameInnerPadding) + th.Size(theme.SizeNamePadding)
	rows, _ := size()
	cell := widget.NewLabel("")
	for col, h := range headers {
		w := fyne.MeasureText(h, textSize, fyne.TextStyle{Bold: true}).Width + pad
		if col < len(samples) {
			w = max(w, fyne.MeasureText(samples[col], textSize, fyne.TextStyle{}).Width+pad)
		}
		for row := 0; row < rows; row++ {
			update(widget.TableCellID{Row: row, Col: col}, cell)
			cw := fyne.MeasureText(cell.Text, textSize, cell.TextStyle).Width + pad
			w = max(w, min(cw, maxCellWidth))
		}
		t.SetColumnWidth(col, max(w, minColumnWidth))
	}
}
