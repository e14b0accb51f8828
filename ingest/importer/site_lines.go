package importer

import (
	"fmt"
	"strconv"
	"strings"
)

// keyLines maps the key paths of a TOML file ("operator.iban",
// "meters[2].role", "tariffs[0]") to the line where they are defined.
//
// The TOML library keeps key positions to itself, so a light line scan finds
// them: table headers, array-of-tables headers (counted per name to give the
// index) and "key = value" lines, skipping the inside of multi-line strings
// and arrays. That is all a site file uses; an inline table's keys fall back
// to the line of the table's key.
type keyLines map[string]int

// find returns the line of path, or of its nearest enclosing element that has
// one ("tariffs[0].ht[1]" → "tariffs[0].ht" → "tariffs[0]"), or 0.
func (kl keyLines) find(path string) int {
	for path != "" {
		if n, ok := kl[path]; ok {
			return n
		}
		path = parentPath(path)
	}
	return 0
}

func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

func scanKeyLines(data []byte) keyLines {
	kl := keyLines{}
	counts := map[string]int{}
	prefix := ""
	var multi string // the closing delimiter of an open multi-line string
	depth := 0       // open brackets of a multi-line array or inline table
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		if multi != "" {
			if strings.Contains(line, multi) {
				multi = ""
			}
			continue
		}
		if depth > 0 {
			d, m := scanValue(line)
			depth += d
			multi = m
			continue
		}
		trim := strings.TrimSpace(line)
		switch {
		case trim == "" || trim[0] == '#':
			continue
		case strings.HasPrefix(trim, "[["):
			end := strings.Index(trim, "]]")
			if end < 0 {
				continue
			}
			name := indexArrays(normalizeKey(trim[2:end]), counts)
			idx := counts[name]
			counts[name]++
			prefix = name + "[" + strconv.Itoa(idx) + "]"
			kl[prefix] = n
			if _, ok := kl[name]; !ok {
				kl[name] = n
			}
			continue
		case trim[0] == '[':
			end := strings.IndexByte(trim, ']')
			if end < 0 {
				continue
			}
			prefix = indexArrays(normalizeKey(trim[1:end]), counts)
			kl[prefix] = n
			continue
		}
		key, value, ok := cutKey(trim)
		if !ok {
			continue
		}
		path := normalizeKey(key)
		if prefix != "" {
			path = prefix + "." + path
		}
		kl[path] = n
		depth, multi = scanValue(value)
	}
	return kl
}

// indexArrays resolves the parts of a header path that name an array of
// tables to its latest element, as TOML does: after the second [[tenants]],
// [tenants.address] is "tenants[1].address".
func indexArrays(path string, counts map[string]int) string {
	parts := strings.Split(path, ".")
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += "."
		}
		out += p
		if i < len(parts)-1 && counts[out] > 0 {
			out += "[" + strconv.Itoa(counts[out]-1) + "]"
		}
	}
	return out
}

// cutKey splits "key = value" at the first '=' outside quotes.
func cutKey(s string) (key, value string, ok bool) {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '=':
			return s[:i], s[i+1:], true
		case c == '#':
			return "", "", false
		}
	}
	return "", "", false
}

// normalizeKey turns a TOML key as written (`a . "b"`) into a path ("a.b").
func normalizeKey(k string) string {
	parts := strings.Split(k, ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
	}
	return strings.Join(parts, ".")
}

// scanValue returns how many brackets a value leaves open and the closing
// delimiter of a multi-line string it leaves open, ignoring strings and
// comments.
func scanValue(s string) (depth int, multi string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '#':
			return depth, ""
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		case '"', '\'':
			delim := string([]byte{c, c, c})
			if strings.HasPrefix(s[i:], delim) {
				end := strings.Index(s[i+3:], delim)
				if end < 0 {
					return depth, delim
				}
				i += 3 + end + 2
				continue
			}
			for i++; i < len(s) && s[i] != c; i++ {
				if c == '"' && s[i] == '\\' {
					i++
				}
			}
		}
	}
	return depth, ""
}

// MaxSiteFileBytes is the largest site file ParseSite reads: a real one has
// a few KiB, and the TOML parser holds the whole file and its tree in memory.
const MaxSiteFileBytes = 1 << 20

// MaxSiteNesting is how deeply ParseSite lets arrays and inline tables nest.
// A site file needs two levels (an array of strings in an array of tables);
// the TOML parser recurses once per level, and a megabyte of "[" took a
// gigabyte of stack (ten megabytes overflowed it).
const MaxSiteNesting = 32

// checkNesting refuses a file whose arrays or inline tables nest deeper than
// MaxSiteNesting, before the TOML parser sees it. It follows TOML's lexical
// rules just far enough to skip brackets inside strings and comments;
// anything else it gets wrong the parser reports afterwards.
func checkNesting(name string, data []byte) error {
	depth, line, lineStart := 0, 1, 0
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '\n':
			line++
			lineStart = i + 1
		case '#':
			for i+1 < len(data) && data[i+1] != '\n' {
				i++
			}
		case '[', '{':
			depth++
			if depth > MaxSiteNesting {
				return &Error{File: name, Line: line, Column: i - lineStart + 1, Msg: fmt.Sprintf(
					"arrays and inline tables nest more than %d deep here: a site file needs two levels (see docs/site-file.md)", MaxSiteNesting)}
			}
		case ']', '}':
			if depth > 0 {
				depth--
			}
		case '"', '\'':
			triple := i+2 < len(data) && data[i+1] == c && data[i+2] == c
			if triple {
				i += 3
			} else {
				i++
			}
			// Skip to the closing quote; a basic string's backslash escapes
			// the next byte. A single-line string ends at the line's end at
			// the latest (the parser reports it unterminated).
			for ; i < len(data); i++ {
				b := data[i]
				if b == '\\' && c == '"' {
					i++
					if i < len(data) && data[i] == '\n' {
						line++
						lineStart = i + 1
					}
					continue
				}
				if b == '\n' {
					if !triple {
						line++
						lineStart = i + 1
						break
					}
					line++
					lineStart = i + 1
					continue
				}
				if b == c && (!triple || i+2 < len(data) && data[i+1] == c && data[i+2] == c) {
					if triple {
						// """a""""" ends in two quotes of content.
						i += 2
						for n := 0; n < 2 && i+1 < len(data) && data[i+1] == c; n++ {
							i++
						}
					}
					break
				}
			}
		}
	}
	return nil
}
