package assets

import "embed"

// Translations holds the UI's catalogues, translations/<area>.<lang>.json
// (a flat {"key": "text"} object per area and language: de, fr, it, en),
// for lang.AddTranslationsFS(Translations, "translations").
//
//go:embed translations
var Translations embed.FS
