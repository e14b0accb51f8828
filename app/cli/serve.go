package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/ingest/intake"
)

func init() {
	Register(Command{
		Name:    "serve",
		Args:    "[--web ADDR]",
		Summary: "headless: ingest from every paired gateway until interrupted",
		Run:     runServe,
	})
}

// serveOptions are the intake options of `zevdesk serve`; tests shorten
// the poll.
var serveOptions = intake.Options{Poll: 30 * time.Second}

func runServe(env *Env, args []string) error {
	fs := NewFlagSet("serve")
	web := fs.String("web", "", "serve the resident web view on ADDR (not available yet)")
	rest, err := ParseFlags("serve", fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return Usagef("serve", "unexpected argument %q", rest[0])
	}
	st, err := env.Store()
	if err != nil {
		return err
	}
	var ps []intake.Pairing
	if err := st.View(func(tx store.Tx) (err error) { ps, err = intake.Pairings(tx); return err }); err != nil {
		return err
	}
	if len(ps) == 0 {
		return fmt.Errorf("no paired gateway in %s: pair one first (zevdesk pair --gateway ID --code CODE)", env.DBPath)
	}
	if *web != "" {
		fmt.Fprintf(env.Stderr, "zevdesk serve: the resident web view is not available yet; ignoring --web %s and only ingesting\n", *web)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var mu sync.Mutex // serialises output lines
	say := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(env.Stdout, format+"\n", a...)
	}
	var wg sync.WaitGroup
	for _, p := range ps {
		opt := serveOptions
		opt.Clock = env.Clock
		c := intake.NewClient(st, p, &opt)
		say("gateway %s at %s: ingesting", p.GatewayID, p.Address)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			err := c.Run(ctx, func(s intake.State) {
				switch {
				case s.Err != "":
					say("gateway %s: %s (retrying)", s.Gateway, s.Err)
				case s.Behind == 0:
					say("gateway %s: caught up at record %d", s.Gateway, s.Cursor)
				default:
					say("gateway %s: at record %d, %d behind", s.Gateway, s.Cursor, s.Behind)
				}
				if s.SkewFlag {
					say("gateway %s: its clock is off by %s: set its time (NTP)", s.Gateway, s.ClockSkew.Round(time.Second))
				}
				if s.Lost != "" {
					say("gateway %s: %s", s.Gateway, s.Lost)
				}
			})
			if err != nil {
				slog.Error("serve: gateway stopped", "gateway", p.GatewayID, "error", err)
			}
		}()
	}
	<-ctx.Done()
	wg.Wait()
	say("stopped")
	return nil
}
