package assets

import "embed"

// Translations holds the UI's string catalogues, translations/<area>.<lang>.json
// (flat {"key": "text"} objects; lang de, fr, it, en), for
// lang.AddTranslationsFS(Translations, "translations").
//
//go:embed translations
var Translations embed.FS
