package assets

import "embed"

// Web holds the resident web view's files (app/web): the page templates
// (*.html), the style sheet and script served under /static/, and the
// page's translations (i18n/<lang>.json, a flat {"key": "text"} object per
// language: de, fr, it, en).
//
//go:embed web
var Web embed.FS
