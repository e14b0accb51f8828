package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/zevdesk/zevdesk/ingest/discover"
)

func init() {
	Register(Command{
		Name:    "gateways",
		Args:    "[--json] [--wait 5s]",
		Summary: "list the zevdesk gateways on the LAN (mDNS)",
		Run:     runGateways,
		Owner:   NoDatabase,
	})
}

// gatewayJSON is one line of `gateways --json`.
type gatewayJSON struct {
	ID      string `json:"id"`
	Model   string `json:"model"`
	FW      string `json:"fw"`
	Address string `json:"address"`
	FP      string `json:"fp"`
	Paired  bool   `json:"paired"`
}

func runGateways(env *Env, args []string) error {
	fs := NewFlagSet("gateways")
	asJSON := fs.Bool("json", false, "print JSON")
	wait := fs.Duration("wait", 5*time.Second, "how long to listen for answers")
	rest, err := ParseFlags("gateways", fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return Usagef("gateways", "unexpected argument %q", rest[0])
	}
	if *wait <= 0 {
		return Usagef("gateways", "--wait must be positive, e.g. 5s")
	}
	gs, err := discover.Find(context.Background(), *wait)
	if err != nil {
		return fmt.Errorf("searching the LAN: %w", err)
	}
	if *asJSON {
		out := make([]gatewayJSON, 0, len(gs))
		for _, g := range gs {
			out = append(out, gatewayJSON{ID: g.ID, Model: g.Model, FW: g.FW, Address: g.Address, FP: g.FP, Paired: g.Paired})
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(gs) == 0 {
		fmt.Fprintf(env.Stdout, "no gateway answered within %s\n", *wait)
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tMODEL\tFW\tADDRESS\tPAIRED")
	for _, g := range gs {
		paired := "no"
		if g.Paired {
			paired = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", g.ID, g.Model, g.FW, g.Address, paired)
	}
	return tw.Flush()
}
