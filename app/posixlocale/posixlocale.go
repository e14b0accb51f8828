// Package posixlocale keeps Fyne from logging errors at start-up on machines
// whose locale is "C.UTF-8" (Debian's default in containers and ssh
// sessions): Fyne reads the locale in a package initialiser and cannot parse
// "C" as a language tag. Importing this package for its side effect rewrites
// such a value to en_US.UTF-8 before Fyne's initialiser runs.
//
// It imports nothing but syscall on purpose: Go initialises packages in
// import-path order once their imports are done, so with no dependency on os
// this package is initialised before every package that reads the
// environment through os, Fyne's locale lookup among them.
package posixlocale

import "syscall"

func init() { fix() }

// fix rewrites the first of LC_ALL, LC_MESSAGES and LANG that is set (the
// order in which gettext and Fyne read them) if it names the C or POSIX
// locale with a codeset ("C.UTF-8"). The bare "C" and "POSIX" are left: Fyne
// handles them.
func fix() {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v, ok := syscall.Getenv(k)
		if !ok || v == "" {
			continue
		}
		if hasPrefix(v, "C.") || hasPrefix(v, "POSIX.") {
			syscall.Setenv(k, "en_US.UTF-8")
		}
		return
	}
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }
