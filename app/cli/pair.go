package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/ingest/discover"
	"github.com/zevdesk/zevdesk/ingest/intake"
	"github.com/zevdesk/zevdesk/ingest/protocol"
)

func init() {
	Register(Command{
		Name:    "pair",
		Args:    "--gateway ID --code CODE [--address HOST:PORT] [--site ID]",
		Summary: "pair a gateway with its 8-digit code (found by mDNS unless --address)",
		Run:     runPair,
	})
}

// pairFindWait is how long pair listens for the gateway's mDNS answer.
var pairFindWait = 3 * time.Second

func runPair(env *Env, args []string) error {
	fs := NewFlagSet("pair")
	id := fs.String("gateway", "", "the gateway's id (on its label, or from `zevdesk gateways`)")
	code := fs.String("code", "", "the 8-digit pairing code on the gateway")
	addr := fs.String("address", "", "the gateway's HOST:PORT (default: found by mDNS)")
	siteID := fs.String("site", "", "the site whose meters the gateway reads")
	rest, err := ParseFlags("pair", fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return Usagef("pair", "unexpected argument %q", rest[0])
	case *id == "":
		return Usagef("pair", "--gateway ID is required")
	case *code == "":
		return Usagef("pair", "--code CODE is required")
	}
	if _, err := intake.NormalizeCode(*code); err != nil {
		return Usagef("pair", "--code: %v", err)
	}
	st, err := env.Store()
	if err != nil {
		return err
	}
	// Check the site before talking to the gateway: a pairing uses up the
	// gateway's nonce and is logged there.
	var old *intake.Pairing
	site := *siteID
	err = st.View(func(tx store.Tx) error {
		if p, err := intake.LoadPairing(tx, *id); err == nil {
			old = &p
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if site != "" {
			if _, err := tx.Site(site); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("--site %s: no such site (import it first: zevdesk site import FILE.toml)", site)
				}
				return err
			}
			return nil
		}
		if old != nil && old.Site != "" {
			site = old.Site // re-pairing keeps the assignment
			return nil
		}
		ids, err := tx.SiteIDs()
		if err != nil {
			return err
		}
		if len(ids) == 1 {
			site = ids[0] // the office's only site
		}
		return nil
	})
	if err != nil {
		return err
	}

	ctx := context.Background()
	advertisedFP := ""
	if *addr == "" {
		gs, err := discover.Find(ctx, pairFindWait)
		if err != nil {
			return fmt.Errorf("searching for gateway %s: %w (give --address HOST:PORT)", *id, err)
		}
		for _, g := range gs {
			if g.ID == *id {
				*addr, advertisedFP = g.Address, g.FP
			}
		}
		if *addr == "" {
			return fmt.Errorf("gateway %s did not answer on the LAN within %s: check that it is powered and on this network, or give --address HOST:PORT", *id, pairFindWait)
		}
	}
	p, err := intake.Pair(ctx, *addr, *id, *code)
	if err != nil {
		return err
	}
	if advertisedFP != "" && !strings.HasPrefix(p.Fingerprint, advertisedFP) {
		return fmt.Errorf("the certificate at %s (%s) is not the one gateway %s announces (%s): possible man in the middle; pairing not saved",
			*addr, protocol.FingerprintPrefix(p.Fingerprint), *id, advertisedFP)
	}
	p.Site = site
	if old != nil {
		p.Meters = old.Meters
	}
	var cursor uint64
	err = st.Update(func(tx store.Tx) error {
		if err := intake.SavePairing(tx, p, env.Clock.Now(), "cli"); err != nil {
			return err
		}
		cursor, err = tx.Cursor(p.GatewayID)
		return err
	})
	if err != nil {
		return err
	}
	if cursor > 0 && site != "" && (old == nil || old.Site != site) {
		// Records kept raw while the gateway fed no site (or another one)
		// are derived for the site now.
		n, err := intake.Assign(st, p.GatewayID, site, p.Meters, env.Clock, "cli")
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "derived %d stored records for site %s\n", n, site)
	}
	fmt.Fprintf(env.Stdout, "paired with gateway %s at %s (certificate %s)\n", p.GatewayID, p.Address, p.Fingerprint)
	if site != "" {
		fmt.Fprintf(env.Stdout, "its meters feed site %s (gateway meter ids = site meter ids)\n", site)
	} else {
		fmt.Fprintln(env.Stdout, "not assigned to a site yet: its records are kept raw until you assign one (zevdesk gateways assign --gateway "+p.GatewayID+" --site ID, or the Gateways tab)")
	}
	return nil
}
