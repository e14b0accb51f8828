package assets

import "embed"

// Translations holds the desktop app's string catalogues: one flat JSON
// object per area and language, translations/<area>.<lang>.json (lang de,
// fr, it or en), loaded by app/ui with fyne's lang.AddTranslationsFS.
//
//go:embed translations
var Translations embed.FS
