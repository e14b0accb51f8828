// Package assets holds the files zevdesk embeds: the icon, and the fonts,
// translations and web assets of the packages that use them.
package assets

import _ "embed"

// Icon is the application icon (256 × 256 PNG).
//
//go:embed icon.png
var Icon []byte
