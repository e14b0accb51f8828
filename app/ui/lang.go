package ui

import (
	"fmt"
	"os"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"

	"github.com/zevdesk/zevdesk/assets"
)

// Languages are the languages the catalogues cover, in the order the
// Settings picker lists them.
var Languages = []string{"de", "fr", "it", "en"}

// prefLanguage is the preference holding the chosen language code; empty
// means the system locale.
const prefLanguage = "language"

// localeVars are the variables fyne's lang reads (through go-locale) on
// Linux and the BSDs: the first set of LC_ALL, LC_MESSAGES and LANG, unless
// it is C or POSIX, is overridden by LANGUAGE.
var localeVars = []string{"LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"}

// systemLocale keeps the locale variables as the process started, so that
// choosing "system" again after a language restores them.
var systemLocale struct {
	once sync.Once
	env  map[string]*string
}

// SetupLanguage loads every catalogue of assets.Translations and selects
// the language: the preference p holds (set in Settings) or else the
// system locale. main calls it before building the window; fyne's lang has
// no setter, so the choice goes through the environment it reads.
func SetupLanguage(p fyne.Preferences) error {
	return setLanguage(p.String(prefLanguage))
}

// setLanguage makes code ("de", "fr", "it", "en"; empty for the system
// locale) the language of lang.X from now on. Windows built before keep
// their strings until rebuilt.
func setLanguage(code string) error {
	systemLocale.once.Do(func() {
		systemLocale.env = map[string]*string{}
		for _, k := range localeVars {
			if v, ok := os.LookupEnv(k); ok {
				systemLocale.env[k] = &v
			} else {
				systemLocale.env[k] = nil
			}
		}
	})
	for k, v := range systemLocale.env {
		if v == nil {
			os.Unsetenv(k)
		} else {
			os.Setenv(k, *v)
		}
	}
	if code != "" {
		if !knownLanguage(code) {
			return fmt.Errorf("choosing language %q: not one of %v", code, Languages)
		}
		os.Setenv("LANGUAGE", code)
		// Under a C or POSIX locale gettext, and go-locale, ignore LANGUAGE.
		for _, k := range localeVars[1:] {
			if v := os.Getenv(k); v != "" {
				if v == "C" || v == "POSIX" {
					os.Setenv(k, code)
				}
				break
			}
		}
	}
	// Adding the catalogues (again) is what makes fyne read the locale.
	if err := lang.AddTranslationsFS(assets.Translations, "translations"); err != nil {
		return fmt.Errorf("loading translations: %w", err)
	}
	return nil
}

// currentLanguage returns the code of the language lang.X speaks now, as
// the catalogues themselves say it.
func currentLanguage() string { return lang.X("window.language.code", "en") }

func knownLanguage(code string) bool {
	for _, l := range Languages {
		if l == code {
			return true
		}
	}
	return false
}
