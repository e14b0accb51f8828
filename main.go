//go:build cgo

// zevdesk: metering and billing for Swiss self-consumption communities.
// main only wires: it runs a subcommand, or opens the desktop app.
package main

import (
	"context"
	"log/slog"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/zevdesk/zevdesk/app/cli"
	_ "github.com/zevdesk/zevdesk/app/posixlocale" // before Fyne reads the locale
	"github.com/zevdesk/zevdesk/app/ui"
	"github.com/zevdesk/zevdesk/assets"
)

func main() {
	desk, code := cli.Main(os.Args[1:], os.Stdout, os.Stderr)
	if desk == nil {
		os.Exit(code)
	}
	defer desk.Env.Close()
	st, err := desk.Env.Store()
	if err != nil {
		os.Stderr.WriteString("zevdesk: " + err.Error() + "\n")
		os.Exit(1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := desk.Env.StartBackups(ctx); err != nil {
		slog.Error("automatic backups are off", "err", err)
	}
	a := app.NewWithID("ch.zevdesk.app")
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	ui.CreateDemo = cli.CreateDemo
	ui.NewMainWindow(a, st, desk.SiteID, desk.Env.Clock).ShowAndRun()
}
