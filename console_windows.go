//go:build windows

package main

import (
	"os"
	"syscall"
)

// zevdesk.exe is linked as a GUI program (-H=windowsgui), so that starting it
// from the Start menu or Explorer opens no console window. Windows gives a GUI
// program no console, though: started from cmd.exe or PowerShell without
// redirection, its standard handles are empty and a subcommand's output would
// vanish. So when a subcommand runs and a standard handle is empty, the
// process attaches to its parent's console and writes there. Handles that are
// set (output redirected to a file or a pipe) are left as they are.
//
// The shell does not wait for a GUI program, so its prompt may come back
// before the output; scripts and scheduled tasks use zevdesk-cli.exe, the same
// program linked as a console program (docs/install.md).
func init() {
	if len(os.Args) < 2 {
		return // the desktop app: no console wanted
	}
	out, err1 := syscall.GetStdHandle(syscall.STD_OUTPUT_HANDLE)
	errh, err2 := syscall.GetStdHandle(syscall.STD_ERROR_HANDLE)
	missingOut := err1 != nil || out == 0 || out == syscall.InvalidHandle
	missingErr := err2 != nil || errh == 0 || errh == syscall.InvalidHandle
	if !missingOut && !missingErr {
		return
	}
	const attachParentProcess = ^uintptr(0) // ATTACH_PARENT_PROCESS, (DWORD)-1
	attach := syscall.NewLazyDLL("kernel32.dll").NewProc("AttachConsole")
	if r, _, _ := attach.Call(attachParentProcess); r == 0 {
		return // no parent console (Explorer, a service): nowhere to write
	}
	con, err := os.OpenFile("CONOUT$", os.O_WRONLY, 0)
	if err != nil {
		return
	}
	if missingOut {
		os.Stdout = con
	}
	if missingErr {
		os.Stderr = con
	}
}
