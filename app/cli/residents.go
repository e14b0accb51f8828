package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/residents"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/postgres"
)

func init() {
	Register(Command{
		Name: "residents",
		Args: "--site ID [--json] [--base URL]",
		Summary: "list each occupancy with its personal link to the resident web view (issuing missing links); " +
			"--base sets the view's address printed in the links",
		Run: runResidents,
	})
	Register(Command{
		Name:    "residents renew",
		Args:    "--site ID --unit U [--tenant NAME]",
		Summary: "give an occupancy a new personal link; the old one stops working",
		Run:     func(env *Env, args []string) error { return runResidentChange(env, "residents renew", args) },
	})
	Register(Command{
		Name:    "residents revoke",
		Args:    "--site ID --unit U [--tenant NAME]",
		Summary: "stop an occupancy's personal link (renew gives a new one)",
		Run:     func(env *Env, args []string) error { return runResidentChange(env, "residents revoke", args) },
	})
	Register(Command{
		Name:    "residents grace",
		Args:    "--site ID --days N",
		Summary: "how many days after move-out a former tenant's link keeps working (default 90)",
		Run:     runResidentGrace,
	})
}

// LinkKeyPath is the key file that seals the links' tokens of the database
// at db (residents.KeyPath beside SideFiles(db)).
func LinkKeyPath(db string) string { return residents.KeyPath(SideFiles(db)) }

// SideFiles is the path that names the files kept beside the database db
// (the link key, the web page's certificate): the database file itself, or
// for a PostgreSQL database, which has no file, the default database file,
// so that no part of a URL (its password least of all) names a file.
func SideFiles(db string) string {
	if postgres.IsURL(db) {
		return DefaultDBPath()
	}
	return db
}

// linkKey loads (or makes) the database's link key.
func linkKey(env *Env) (*residents.Key, error) {
	return residents.LoadKey(LinkKeyPath(env.Path(env.DBPath)))
}

// ResidentURLs returns, for the inserts of `bill --out`, each occupancy's
// link by billing key ("occ:UNIT:NAME:FROM"), issuing missing ones; nil
// when no address of the view is set (links then stay off the inserts).
func ResidentURLs(env *Env, site *core.Site) (map[string]string, error) {
	st, err := env.Store()
	if err != nil {
		return nil, err
	}
	key, err := linkKey(env)
	if err != nil {
		return nil, err
	}
	var out map[string]string
	err = st.Update(func(tx store.Tx) error {
		base, err := residents.BaseURL(tx)
		if err != nil || base == "" {
			return err
		}
		es, err := residents.List(tx, site, key, true, env.Clock.Now())
		if err != nil {
			return err
		}
		out = map[string]string{}
		for _, e := range es {
			if e.State == "active" && e.Token != "" {
				o := e.Occupancy
				out["occ:"+o.Unit+":"+o.Name+":"+o.From.String()] = residents.URL(base, e.Token)
			}
		}
		return nil
	})
	return out, err
}

type residentRow struct {
	Unit    string    `json:"unit"`
	Tenant  string    `json:"tenant"`
	From    core.Date `json:"from"`
	To      core.Date `json:"to,omitzero"`
	URL     string    `json:"url"`
	State   string    `json:"state"`
	Expires core.Date `json:"expires,omitzero"`
}

func runResidents(env *Env, args []string) error {
	const cmd = "residents"
	fs := NewFlagSet(cmd)
	siteID := fs.String("site", "", "site id")
	asJSON := fs.Bool("json", false, "print JSON")
	base := fs.String("base", "", "the resident view's address, e.g. https://192.168.1.20:8443 (stored for later)")
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
	st, err := env.Store()
	if err != nil {
		return err
	}
	key, err := linkKey(env)
	if err != nil {
		return err
	}
	var rows []residentRow
	var addr string
	err = st.Update(func(tx store.Tx) error {
		site, err := siteByID(tx, *siteID)
		if err != nil {
			return err
		}
		if *base != "" {
			if err := residents.SetBaseURL(tx, *base); err != nil {
				return Usagef(cmd, "--base: %v", err)
			}
		}
		if addr, err = residents.BaseURL(tx); err != nil {
			return err
		}
		es, err := residents.List(tx, site, key, true, env.Clock.Now())
		if err != nil {
			return err
		}
		for _, e := range es {
			r := residentRow{Unit: e.Occupancy.Unit, Tenant: e.Occupancy.Name, From: e.Occupancy.From, To: e.Occupancy.To,
				State: e.State, Expires: e.Expires}
			if e.Token != "" && e.State == "active" {
				r.URL = residents.URL(addr, e.Token)
			}
			rows = append(rows, r)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if addr == "" {
		fmt.Fprintln(env.Stderr, "note: the view's address is not set, so the links are paths only; "+
			"give it once with --base https://HOST:PORT (the address of `zevdesk serve --web` or the app)")
	}
	if *asJSON {
		if rows == nil {
			rows = []residentRow{}
		}
		b, err := json.MarshalIndent(rows, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(env.Stdout, "%s\n", b)
		return err
	}
	t := &table{}
	t.row("unit", "tenant", "from", "to", "link")
	for _, r := range rows {
		to := "-"
		if !r.To.IsZero() {
			to = r.To.String()
		}
		link := r.URL
		switch r.State {
		case "revoked":
			link = "(revoked: residents renew gives a new link)"
		case "expired", "none":
			link = "(expired " + r.Expires.String() + ")"
		case "active":
			if link == "" {
				link = "(the link key is missing: residents renew gives a new link)"
			}
		}
		t.row(r.Unit, r.Tenant, r.From.String(), to, link)
	}
	return t.write(env.Stdout)
}

// pickOccupancy finds the occupancy of --unit and --tenant; without
// --tenant, the unit's latest.
func pickOccupancy(cmd string, site *core.Site, unit, tenant string) (core.Occupancy, error) {
	var found []core.Occupancy
	for _, o := range site.Occupancies {
		if o.Unit == unit && (tenant == "" || o.Name == tenant) {
			found = append(found, o)
		}
	}
	if len(found) == 0 {
		if tenant != "" {
			return core.Occupancy{}, Usagef(cmd, "site %s has no occupancy of %q in unit %q", site.ID, tenant, unit)
		}
		return core.Occupancy{}, Usagef(cmd, "site %s has no occupancy in unit %q", site.ID, unit)
	}
	latest := found[0]
	for _, o := range found[1:] {
		if o.From.After(latest.From) {
			latest = o
		}
	}
	return latest, nil
}

func runResidentChange(env *Env, cmd string, args []string) error {
	fs := NewFlagSet(cmd)
	siteID := fs.String("site", "", "site id")
	unit := fs.String("unit", "", "unit id")
	tenant := fs.String("tenant", "", "tenant name (default: the unit's latest occupancy)")
	pos, err := ParseFlags(cmd, fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return Usagef(cmd, "unexpected argument %q", pos[0])
	}
	if *siteID == "" || *unit == "" {
		return Usagef(cmd, "--site and --unit are required")
	}
	st, err := env.Store()
	if err != nil {
		return err
	}
	key, err := linkKey(env)
	if err != nil {
		return err
	}
	now := env.Clock.Now()
	var msg string
	err = st.Update(func(tx store.Tx) error {
		site, err := siteByID(tx, *siteID)
		if err != nil {
			return err
		}
		o, err := pickOccupancy(cmd, site, *unit, *tenant)
		if err != nil {
			return err
		}
		what := fmt.Sprintf("%s, unit %s, from %s", o.Name, o.Unit, o.From)
		renew := cmd == "residents renew"
		tok, err := residents.Change(tx, site.ID, o, renew, key, actor(), now)
		if !renew && errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%s has no link to revoke", what)
		}
		if err != nil {
			return err
		}
		if !renew {
			msg = "revoked the link of " + what
			return nil
		}
		base, err := residents.BaseURL(tx)
		if err != nil {
			return err
		}
		msg = fmt.Sprintf("new link for %s: %s", what, residents.URL(base, tok))
		return nil
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(env.Stdout, msg)
	return err
}

func runResidentGrace(env *Env, args []string) error {
	const cmd = "residents grace"
	fs := NewFlagSet(cmd)
	siteID := fs.String("site", "", "site id")
	days := fs.String("days", "", "days after move-out")
	pos, err := ParseFlags(cmd, fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return Usagef(cmd, "unexpected argument %q", pos[0])
	}
	n, err := strconv.Atoi(*days)
	if *siteID == "" || err != nil || n < 0 {
		return Usagef(cmd, "--site and --days (0 or more) are required")
	}
	st, err := env.Store()
	if err != nil {
		return err
	}
	return st.Update(func(tx store.Tx) error {
		if _, err := siteByID(tx, *siteID); err != nil {
			return err
		}
		return residents.SetGrace(tx, *siteID, n)
	})
}
