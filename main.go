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
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/app/cli"
	_ "github.com/zevdesk/zevdesk/app/posixlocale" // before Fyne reads the locale
	"github.com/zevdesk/zevdesk/app/ui"
	"github.com/zevdesk/zevdesk/assets"
	"github.com/zevdesk/zevdesk/core/store/bolt"
)

func main() {
	desk, code := cli.Main(os.Args[1:], os.Stdout, os.Stderr)
	if desk == nil {
		os.Exit(code)
	}
	// The app ID names the preferences' folder and, on Linux, the window's
	// WM class, which packaging/ch.zevdesk.app.desktop's StartupWMClass
	// matches so that docks group the window under the launcher.
	a := app.NewWithID("ch.zevdesk.app")
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	if err := ui.SetupLanguage(a.Preferences()); err != nil {
		slog.Error("loading translations", "err", err)
	}
	// The database chosen in Settings, unless the command line decides.
	desk.Env.DBPath = ui.StartDB(a.Preferences(), os.Args[1:], desk.Env.DBPath)
	// A restore chosen in Settings replaces the database before it opens.
	if backup := ui.PendingRestore(a.Preferences()); backup != "" {
		if err := bolt.Restore(backup, desk.Env.DBPath); err != nil {
			slog.Error("restoring the backup chosen in Settings", "backup", backup, "err", err)
		} else {
			slog.Info("backup restored", "backup", backup, "db", desk.Env.DBPath)
		}
	}
	// A second start on the same database brings the running window to the
	// front; a launcher shows no stderr, so anything else is said in a window.
	st, raised, err := desk.Env.OpenOrRaise()
	if err != nil || raised {
		desk.Env.Close()
		if err != nil {
			fail(a, err)
		}
		os.Exit(0)
	}
	defer desk.Env.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if every := ui.BackupInterval(a.Preferences()); every > 0 {
		desk.Env.BackupEvery = every
		if err := desk.Env.StartBackups(ctx); err != nil {
			slog.Error("automatic backups are off", "err", err)
		}
	}
	ui.CreateDemo = cli.CreateDemo
	opts := &ui.Options{DBPath: desk.Env.DBPath, BackupDir: desk.Env.BackupDir(), Files: cli.SideFiles(desk.Env.DBPath)}
	win := ui.NewMainWindow(a, st, desk.SiteID, desk.Env.Clock, opts)
	stop, err := desk.Env.ServeOwner(func() bool {
		fyne.Do(func() { win.Show(); win.RequestFocus() })
		return true
	})
	if err != nil {
		slog.Error("commands started beside the app cannot reach its database", "err", err)
	} else {
		defer stop()
	}
	win.ShowAndRun()
}

// fail shows err in a window (and on stderr) and exits 1 when it is closed.
func fail(a fyne.App, err error) {
	os.Stderr.WriteString("zevdesk: " + err.Error() + "\n")
	w := a.NewWindow("zevdesk")
	msg := widget.NewLabel(err.Error())
	msg.Wrapping = fyne.TextWrapWord
	w.SetContent(container.NewBorder(nil, container.NewCenter(widget.NewButton("OK", a.Quit)), nil, nil, msg))
	w.Resize(fyne.NewSize(520, 160))
	w.ShowAndRun()
	os.Exit(1)
}
