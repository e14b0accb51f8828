package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/ingest/intake"
)

func init() {
	Register(Command{
		Name:    "gateways assign",
		Args:    "--gateway ID --site ID [--meter GATEWAY_METER=SITE_METER]...",
		Summary: "assign a paired gateway to a site (no re-pairing) and derive the records it kept meanwhile",
		Run:     runAssign,
	})
}

// runAssign assigns a paired gateway to a site. It is the command-line twin
// of the Gateways tab's Assign: a paired gateway accepts a new pairing only
// in its pairing window, so changing the site must not need one.
func runAssign(env *Env, args []string) error {
	fs := NewFlagSet("gateways assign")
	id := fs.String("gateway", "", "the paired gateway's id")
	site := fs.String("site", "", "the site whose meters the gateway reads")
	var meters multiFlag
	fs.Var(&meters, "meter", "map a gateway meter to a site meter of another id, as GATEWAY_METER=SITE_METER (repeatable)")
	rest, err := ParseFlags("gateways assign", fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return Usagef("gateways assign", "unexpected argument %q", rest[0])
	case *id == "":
		return Usagef("gateways assign", "--gateway ID is required")
	case *site == "":
		return Usagef("gateways assign", "--site ID is required")
	}
	mapping := map[string]string{}
	for _, m := range meters {
		gw, sm, ok := strings.Cut(m, "=")
		if !ok || gw == "" || sm == "" {
			return Usagef("gateways assign", "--meter %q: expected GATEWAY_METER=SITE_METER", m)
		}
		if _, dup := mapping[gw]; dup {
			return Usagef("gateways assign", "--meter: gateway meter %s is mapped twice", gw)
		}
		mapping[gw] = sm
	}
	st, err := env.Store()
	if err != nil {
		return err
	}
	var p intake.Pairing
	err = st.View(func(tx store.Tx) error {
		var err error
		p, err = intake.LoadPairing(tx, *id)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("gateway %s is not paired with this database (pair it first: zevdesk pair --gateway %s --code CODE)", *id, *id)
		}
		return err
	})
	if err != nil {
		return err
	}
	if len(mapping) == 0 && p.Site == *site {
		mapping = p.Meters // assigning the same site again keeps its mapping
	}
	n, err := intake.Assign(st, *id, *site, mapping, env.Clock, "cli")
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "gateway %s feeds site %s; derived %d stored records\n", *id, *site, n)
	return nil
}
