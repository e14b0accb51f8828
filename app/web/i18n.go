package web

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"

	"github.com/zevdesk/zevdesk/assets"
	"github.com/zevdesk/zevdesk/core"
)

// catalogue holds the page's texts by language and key; every language
// has every key of English (the tests check it), missing ones fall back.
type catalogue map[string]map[string]string

func loadCatalogue() (catalogue, error) {
	c := catalogue{}
	for _, lang := range core.Languages {
		b, err := fs.ReadFile(assets.Web, "web/i18n/"+lang+".json")
		if err != nil {
			return nil, fmt.Errorf("reading the %s texts: %w", lang, err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("reading web/i18n/%s.json: %w", lang, err)
		}
		c[lang] = m
	}
	for _, lang := range core.Languages {
		merged := maps.Clone(c["en"])
		maps.Copy(merged, c[lang])
		c[lang] = merged
	}
	return c, nil
}

// lang returns the language asked for, or else the occupancy's, or German.
func pickLang(query, occupancy string) string {
	if slices.Contains(core.Languages, query) {
		return query
	}
	if slices.Contains(core.Languages, occupancy) {
		return occupancy
	}
	return "de"
}

// text returns key's text in lang with {name} placeholders filled from
// kv (name, value, name, value...).
func (c catalogue) text(lang, key string, kv ...string) string {
	s, ok := c[lang][key]
	if !ok {
		s = key
	}
	for i := 0; i+1 < len(kv); i += 2 {
		s = strings.ReplaceAll(s, "{"+kv[i]+"}", kv[i+1])
	}
	return s
}
