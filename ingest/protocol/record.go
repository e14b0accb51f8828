package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/zevdesk/zevdesk/core"
)

// Record is one reading of a meter's cumulative registers as the gateway
// took it. On the wire the registers are decimal Wh with up to three
// decimals ("import_wh": 1234567.891); in Go they are exact core.Energy (mWh).
type Record struct {
	// Seq is the gateway's sequence number: strictly increasing over the
	// gateway's life, never reused, with gaps allowed.
	Seq    uint64
	Meter  string
	Time   time.Time // UTC, millisecond precision on the wire
	Import core.Energy
	Export core.Energy
}

// AppendJSON appends r's JSON object to b, in the key order
// seq, meter, time, import_wh, export_wh.
func (r Record) AppendJSON(b []byte) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, r.Seq, 10)
	b = append(b, `,"meter":`...)
	b = appendString(b, r.Meter)
	b = append(b, `,"time":"`...)
	b = r.Time.UTC().AppendFormat(b, TimeFormat)
	b = append(b, `","import_wh":`...)
	b = AppendWh(b, r.Import)
	b = append(b, `,"export_wh":`...)
	b = AppendWh(b, r.Export)
	return append(b, '}')
}

// MarshalJSON implements json.Marshaler.
func (r Record) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil), nil }

// UnmarshalJSON implements json.Unmarshaler. seq (> 0), meter (non-empty),
// time and import_wh are required, export_wh defaults to 0; unknown keys are
// ignored so that later versions may add fields.
func (r *Record) UnmarshalJSON(b []byte) error {
	if rec, ok := parseRecordFast(b, nil); ok {
		*r = rec
		return nil
	}
	return r.unmarshalSlow(b)
}

func (r *Record) unmarshalSlow(b []byte) error {
	var aux struct {
		Seq      *uint64      `json:"seq"`
		Meter    *string      `json:"meter"`
		Time     *string      `json:"time"`
		ImportWh *json.Number `json:"import_wh"`
		ExportWh *json.Number `json:"export_wh"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return fmt.Errorf("record: %w", err)
	}
	switch {
	case aux.Seq == nil || *aux.Seq == 0:
		return errors.New("record: missing or zero seq")
	case aux.Meter == nil || *aux.Meter == "":
		return fmt.Errorf("record %d: missing meter", *aux.Seq)
	case aux.Time == nil:
		return fmt.Errorf("record %d: missing time", *aux.Seq)
	case aux.ImportWh == nil:
		return fmt.Errorf("record %d: missing import_wh", *aux.Seq)
	}
	t, err := time.Parse(time.RFC3339Nano, *aux.Time)
	if err != nil {
		return fmt.Errorf("record %d: time %q: expected RFC 3339", *aux.Seq, *aux.Time)
	}
	imp, err := ParseWh(string(*aux.ImportWh))
	if err != nil {
		return fmt.Errorf("record %d: import_wh: %w", *aux.Seq, err)
	}
	var exp core.Energy
	if aux.ExportWh != nil {
		if exp, err = ParseWh(string(*aux.ExportWh)); err != nil {
			return fmt.Errorf("record %d: export_wh: %w", *aux.Seq, err)
		}
	}
	*r = Record{Seq: *aux.Seq, Meter: *aux.Meter, Time: t.UTC(), Import: imp, Export: exp}
	return nil
}

// parseRecordFast parses the exact form AppendJSON writes (five keys, in any
// order, simple strings without escapes). Anything else reports false and
// goes the slow, general way.
//
// intern, if not nil, maps meter ids already seen to one string each, so
// that a page of thousands of records of a few meters allocates each id
// once.
func parseRecordFast(b []byte, intern map[string]string) (Record, bool) {
	var r Record
	var have uint8
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return r, false
	}
	i++
	for {
		i = skipWS(b, i)
		if i >= len(b) || b[i] != '"' {
			return r, false
		}
		key, j, ok := simpleString(b, i)
		if !ok {
			return r, false
		}
		i = skipWS(b, j)
		if i >= len(b) || b[i] != ':' {
			return r, false
		}
		i = skipWS(b, i+1)
		if i >= len(b) {
			return r, false
		}
		switch string(key) {
		case "seq":
			j = numberEnd(b, i)
			v, err := strconv.ParseUint(string(b[i:j]), 10, 64)
			if err != nil || v == 0 {
				return r, false
			}
			r.Seq, have = v, have|1
		case "meter":
			s, k, ok := simpleString(b, i)
			if !ok || len(s) == 0 {
				return r, false
			}
			if m, ok := intern[string(s)]; ok {
				r.Meter = m
			} else {
				r.Meter = string(s)
				if intern != nil && len(intern) < maxInterned {
					intern[r.Meter] = r.Meter
				}
			}
			j, have = k, have|2
		case "time":
			s, k, ok := simpleString(b, i)
			if !ok {
				return r, false
			}
			t, ok := parseWireTime(s)
			if !ok {
				var err error
				if t, err = time.Parse(time.RFC3339Nano, string(s)); err != nil {
					return r, false
				}
			}
			r.Time, j, have = t.UTC(), k, have|4
		case "import_wh", "export_wh":
			j = numberEnd(b, i)
			e, err := parseWhBytes(b[i:j])
			if err != nil {
				return r, false
			}
			if key[0] == 'i' {
				r.Import, have = e, have|8
			} else {
				r.Export, have = e, have|16
			}
		default:
			return r, false
		}
		i = skipWS(b, j)
		if i >= len(b) {
			return r, false
		}
		if b[i] == '}' {
			return r, have&15 == 15 && skipWS(b, i+1) == len(b)
		}
		if b[i] != ',' {
			return r, false
		}
		i++
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// simpleString returns the contents of the string starting at b[i] == '"'
// and the index after its closing quote; ok is false for strings with
// escapes or control characters.
func simpleString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return b[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20:
			return nil, i, false
		}
	}
	return nil, i, false
}

func numberEnd(b []byte, i int) int {
	for i < len(b) {
		c := b[i]
		if !('0' <= c && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			break
		}
		i++
	}
	return i
}

func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// AppendWh appends e as a decimal number of Wh with up to three decimals and
// no trailing zeros ("1234.5", "0", "17.001").
func AppendWh(b []byte, e core.Energy) []byte {
	if e < 0 {
		b = append(b, '-')
		e = -e
	}
	b = strconv.AppendInt(b, int64(e/core.Wh), 10)
	frac := int64(e % core.Wh)
	if frac == 0 {
		return b
	}
	b = append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	for b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	return b
}

// FormatWh formats e like AppendWh.
func FormatWh(e core.Energy) string { return string(AppendWh(nil, e)) }

// ParseWh parses a JSON number of Wh into mWh: exactly when it has at most
// three decimals, rounded to the nearest mWh when it has more or an
// exponent. Negative values are refused (registers only count up).
func ParseWh(s string) (core.Energy, error) { return parseWhBytes([]byte(s)) }

func parseWhBytes(s []byte) (core.Energy, error) {
	bad := func(why string) (core.Energy, error) {
		return 0, fmt.Errorf("invalid Wh value %q: %s", s, why)
	}
	if len(s) == 0 {
		return bad("empty")
	}
	if s[0] == '-' {
		return bad("negative")
	}
	var whole, frac int64
	i := 0
	for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		if whole > (math.MaxInt64/int64(core.Wh)-9)/10 {
			return bad("too large")
		}
		whole = whole*10 + int64(s[i]-'0')
	}
	if i == 0 {
		return bad("expected a number")
	}
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
			if i-start < 3 {
				frac = frac*10 + int64(s[i]-'0')
			}
		}
		n := i - start
		if n == 0 {
			return bad("expected digits after the point")
		}
		for k := n; k < 3; k++ {
			frac *= 10
		}
		if n > 3 && i == len(s) {
			// More precision than a mWh: round to the nearest.
			if s[start+3] >= '5' {
				frac++
			}
		}
	}
	if i < len(s) {
		if s[i] != 'e' && s[i] != 'E' {
			return bad("expected a number")
		}
		f, err := strconv.ParseFloat(string(s), 64)
		if err != nil || f < 0 || f > math.MaxInt64/float64(core.Wh) {
			return bad("expected a number")
		}
		return core.Energy(math.Round(f * float64(core.Wh))), nil
	}
	return core.Energy(whole)*core.Wh + core.Energy(frac), nil
}

// RecordsPage is what a GET /records response says besides the records.
type RecordsPage struct {
	// Gateway is the answering gateway's id.
	Gateway string
	// OldestSeq is the lowest sequence number still buffered (0 for none).
	// A client whose cursor is below OldestSeq-1 lost records to the
	// gateway's retention.
	OldestSeq uint64
	// LastSeq is the highest sequence number the gateway had assigned when
	// it answered.
	LastSeq uint64
	// More reports whether records after the page's last one exist.
	More bool
	// Count is the number of records in the page.
	Count int
}

// WriteRecordsHead writes the start of a GET /records response body:
//
//	{"gateway":ID,"oldest_seq":N,"records":[
//
// Records follow, separated by commas, then WriteRecordsTail closes it.
func WriteRecordsHead(b []byte, gateway string, oldestSeq uint64) []byte {
	b = append(b, `{"gateway":`...)
	b = appendString(b, gateway)
	b = append(b, `,"oldest_seq":`...)
	b = strconv.AppendUint(b, oldestSeq, 10)
	return append(b, `,"records":[`...)
}

// WriteRecordsTail closes a GET /records response body:
//
//	],"last_seq":N,"more":BOOL}
func WriteRecordsTail(b []byte, lastSeq uint64, more bool) []byte {
	b = append(b, `],"last_seq":`...)
	b = strconv.AppendUint(b, lastSeq, 10)
	b = append(b, `,"more":`...)
	b = strconv.AppendBool(b, more)
	return append(b, "}\n"...)
}

// MaxRecordsBody bounds the GET /records response body a client reads: a
// page of MaxRecordsLimit records takes about 1.2 MB.
const MaxRecordsBody = 64 << 20

// readBufs holds the buffers ReadRecords reads pages into (up to
// MaxRecordsBody each): a catch-up reads thousands of pages.
var readBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxInterned bounds the meter ids interned per page.
const maxInterned = 4096

// parseWireTime parses exactly TimeFormat's form
// "2006-01-02T15:04:05.000Z", what gateways send, without time.Parse's
// generality; anything else reports false (and goes the general way).
func parseWireTime(s []byte) (time.Time, bool) {
	if len(s) != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' || s[23] != 'Z' {
		return time.Time{}, false
	}
	num := func(i, n int) (int, bool) {
		v := 0
		for _, c := range s[i : i+n] {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 2)
	d, ok3 := num(8, 2)
	h, ok4 := num(11, 2)
	mi, ok5 := num(14, 2)
	sec, ok6 := num(17, 2)
	ms, ok7 := num(20, 3)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, ms*int(time.Millisecond), time.UTC)
	if t.Day() != d { // 31 June and the like: time.Date would roll over
		return time.Time{}, false
	}
	return t, true
}

// ReadRecords decodes a GET /records response body from r, calling fn for
// each record in order, and returns the page's other fields. It checks that
// sequence numbers strictly increase and stops at fn's first error. A
// truncated or malformed body is an error, possibly after fn saw some of
// the records, so the caller must treat a page as complete only when
// ReadRecords returns nil. Unknown keys are skipped (later versions may add
// some).
func ReadRecords(r io.Reader, fn func(Record) error) (RecordsPage, error) {
	var page RecordsPage
	buf := readBufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 2*MaxRecordsBody {
			readBufs.Put(buf)
		}
	}()
	if _, err := buf.ReadFrom(io.LimitReader(r, MaxRecordsBody+1)); err != nil {
		return page, fmt.Errorf("reading records: %w", err)
	}
	// Nothing parsed keeps a reference into data (strings are copies), so
	// the buffer goes back to the pool.
	data := buf.Bytes()
	intern := map[string]string{}
	if len(data) > MaxRecordsBody {
		return page, fmt.Errorf("reading records: %w (more than %d bytes)", ErrTooLarge, MaxRecordsBody)
	}
	p := &scanner{b: data}
	fail := func(format string, args ...any) (RecordsPage, error) {
		return page, fmt.Errorf("reading records: at byte %d: %s", p.i, fmt.Sprintf(format, args...))
	}
	if !p.consume('{') {
		return fail("expected '{'")
	}
	seen := map[string]bool{}
	var last uint64
	for first := true; ; first = false {
		if p.consume('}') {
			break
		}
		if !first && !p.consume(',') {
			return fail("expected ',' or '}'")
		}
		key, ok := p.key()
		if !ok {
			return fail("expected a key")
		}
		if seen[key] {
			return fail("duplicate key %q", key)
		}
		seen[key] = true
		if key != "records" {
			v, ok := p.value()
			if !ok {
				return fail("malformed value of %q", key)
			}
			var err error
			switch key {
			case "gateway":
				err = json.Unmarshal(v, &page.Gateway)
			case "oldest_seq":
				err = json.Unmarshal(v, &page.OldestSeq)
			case "last_seq":
				err = json.Unmarshal(v, &page.LastSeq)
			case "more":
				err = json.Unmarshal(v, &page.More)
			default:
				if !json.Valid(v) {
					err = errors.New("invalid JSON")
				}
			}
			if err != nil {
				return fail("%s: %v", key, err)
			}
			continue
		}
		if !p.consume('[') {
			return fail("records: expected '['")
		}
		for n := 0; ; n++ {
			if p.consume(']') {
				break
			}
			if n > 0 && !p.consume(',') {
				return fail("records: expected ',' or ']'")
			}
			v, ok := p.value()
			if !ok {
				return fail("records: malformed record")
			}
			rec, ok := parseRecordFast(v, intern)
			if !ok {
				if err := rec.UnmarshalJSON(v); err != nil {
					return fail("%v", err)
				}
			}
			if rec.Seq <= last {
				return fail("record seq %d after %d: sequence numbers must strictly increase", rec.Seq, last)
			}
			last = rec.Seq
			page.Count++
			if err := fn(rec); err != nil {
				return page, err
			}
		}
	}
	if p.skipWS(); p.i != len(p.b) {
		return fail("data after the response")
	}
	if !seen["records"] || !seen["last_seq"] {
		return page, errors.New("reading records: incomplete response (no records or last_seq)")
	}
	return page, nil
}

// scanner walks a JSON text far enough to cut it into values; the values
// themselves are checked by whoever decodes them.
type scanner struct {
	b []byte
	i int
}

func (p *scanner) skipWS() { p.i = skipWS(p.b, p.i) }

func (p *scanner) consume(c byte) bool {
	p.skipWS()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// key reads "name" and the colon after it.
func (p *scanner) key() (string, bool) {
	v, ok := p.value()
	if !ok || len(v) == 0 || v[0] != '"' {
		return "", false
	}
	var k string
	if s, _, simple := simpleString(v, 0); simple {
		k = string(s)
	} else if json.Unmarshal(v, &k) != nil {
		return "", false
	}
	return k, p.consume(':')
}

// value returns the next value's bytes: a string, object or array up to
// its matching end, or a literal or number up to the next delimiter.
func (p *scanner) value() ([]byte, bool) {
	p.skipWS()
	start := p.i
	if p.i >= len(p.b) {
		return nil, false
	}
	switch p.b[p.i] {
	case '"':
		if !p.skipString() {
			return nil, false
		}
	case '{', '[':
		depth := 0
		for p.i < len(p.b) {
			switch p.b[p.i] {
			case '"':
				if !p.skipString() {
					return nil, false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			p.i++
			if depth == 0 {
				return p.b[start:p.i], true
			}
		}
		return nil, false
	default:
		for p.i < len(p.b) {
			c := p.b[p.i]
			if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\t' || c == '\r' {
				break
			}
			p.i++
		}
		if p.i == start {
			return nil, false
		}
	}
	return p.b[start:p.i], true
}

// skipString moves past the string starting at p.i.
func (p *scanner) skipString() bool {
	for j := p.i + 1; j < len(p.b); j++ {
		switch p.b[j] {
		case '\\':
			j++
		case '"':
			p.i = j + 1
			return true
		}
	}
	return false
}

// DecodeStrict decodes exactly one JSON value from r into v, reading at most
// limit bytes: unknown fields, trailing data and oversize bodies are errors.
// Both sides use it for request and small response bodies.
func DecodeStrict(r io.Reader, limit int64, v any) error {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return fmt.Errorf("reading body: %w", err)
	}
	if int64(len(data)) > limit {
		return fmt.Errorf("%w (more than %d bytes)", ErrTooLarge, limit)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if err == io.EOF {
			return errors.New("empty body: expected a JSON object")
		}
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("invalid JSON: data after the value")
	}
	return nil
}

// ErrTooLarge is returned by DecodeStrict for a body over its limit.
var ErrTooLarge = errors.New("body too large")
