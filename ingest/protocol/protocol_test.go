package protocol

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
)

// The vectors were computed independently (a Python script with its own
// Elligator 2 and RFC 7748 X25519, hashlib and hmac) so that a third-party
// implementation can check itself against docs/protocol.md.
func TestPairingVectors(t *testing.T) {
	const code = "12345678"
	fp := strings.Repeat("ab", 32)
	cn := strings.Repeat("01", 32)
	gn := strings.Repeat("02", 32)
	want := map[string]string{
		"generator":     "051a61f7f666785de10e8597a3429fa4a3514348695b073ccf88cef345b54b78",
		"client share":  "1c99d85179251e55821f114c8bddff060ab1f98e3487450e528de9b2ea38be11",
		"gateway share": "eb705eabbd8f89f18147225788d5d9c0821625eebfbfcbdde4492b6e7b55db15",
		"session key":   "45f7d84ca802e11e98481d84ab41eb0423e03c353ba0afd4f5e3d90c2d255ccc",
		"client proof":  "8033d2f0ba4ebb23fd5a2f1f4a6bc6f8f876c6cb345fe98b4e453f1ef264be81",
		"gateway proof": "7041b7574a30b452706e80fce74bddd6a329371c81b696a64515735333cd267b",
	}
	cs, err := PairingSecretFromScalar(code, gn, bytes.Repeat([]byte{0x11}, 32))
	if err != nil {
		t.Fatal(err)
	}
	gs, err := PairingSecretFromScalar(code, gn, bytes.Repeat([]byte{0x22}, 32))
	if err != nil {
		t.Fatal(err)
	}
	ck, err := cs.SessionKey(gs.Share(), cs.Share(), gs.Share())
	if err != nil {
		t.Fatal(err)
	}
	gk, err := gs.SessionKey(cs.Share(), cs.Share(), gs.Share())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{
		"generator": hex.EncodeToString(Generator(code, gn)), "client share": cs.Share(), "gateway share": gs.Share(),
		"session key":  ck,
		"client proof": Proof(ck, RoleClient, fp, cn, gn), "gateway proof": Proof(gk, RoleGateway, fp, cn, gn),
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %s, want %s", k, got[k], w)
		}
	}
	if gk != ck {
		t.Errorf("the two sides derived different session keys")
	}
	p := Proof(ck, RoleClient, fp, cn, gn)
	for name, ok := range map[string]bool{
		"wrong role":        VerifyProof(p, ck, RoleGateway, fp, cn, gn),
		"other fingerprint": VerifyProof(p, ck, RoleClient, strings.Repeat("cd", 32), cn, gn),
		"other nonce":       VerifyProof(p, ck, RoleClient, fp, gn, cn),
	} {
		if ok {
			t.Errorf("VerifyProof accepted a proof with a %s", name)
		}
	}
}

// With another code the two sides share no key: the proof of one does not
// verify at the other, and what a man in the middle who guessed wrong
// receives is keyed with a secret it cannot compute for other codes.
func TestPairingWrongCode(t *testing.T) {
	gn := NewNonce()
	gw, err := NewPairingSecret("12345678", gn)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := NewPairingSecret("12345679", gn)
	if err != nil {
		t.Fatal(err)
	}
	ck, _ := cl.SessionKey(gw.Share(), cl.Share(), gw.Share())
	gk, _ := gw.SessionKey(cl.Share(), cl.Share(), gw.Share())
	if ck == gk {
		t.Fatal("different codes gave the same session key")
	}
	// Degenerate shares: the all-zero point and a low-order point.
	for _, bad := range []string{strings.Repeat("00", 32), "0100000000000000000000000000000000000000000000000000000000000000", "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", "zz", strings.Repeat("0", 63)} {
		if _, err := gw.SessionKey(bad, bad, gw.Share()); err == nil {
			t.Errorf("SessionKey accepted the share %s", bad)
		}
	}
	// Generators of different codes or nonces differ.
	if bytes.Equal(Generator("12345678", gn), Generator("12345679", gn)) || bytes.Equal(Generator("12345678", gn), Generator("12345678", NewNonce())) {
		t.Error("generators do not depend on the code and the nonce")
	}
}

func TestFingerprint(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gw"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	fp := Fingerprint(cert)
	if fp != hex.EncodeToString(sum[:]) || len(fp) != 64 {
		t.Errorf("Fingerprint = %s, want SHA-256 of the DER", fp)
	}
	if p := FingerprintPrefix(fp); p != fp[:16] {
		t.Errorf("FingerprintPrefix = %s", p)
	}
}

func TestNoncesAndTokens(t *testing.T) {
	n1, n2 := NewNonce(), NewNonce()
	if n1 == n2 || !ValidNonce(n1) || len(n1) != 64 {
		t.Errorf("nonces %q %q", n1, n2)
	}
	tok := NewToken()
	if !ValidToken(tok) {
		t.Errorf("token %q not valid", tok)
	}
	for _, bad := range []string{"", "abc", strings.Repeat("g", 64), strings.Repeat("A", 64), strings.Repeat("a", 129)} {
		if ValidNonce(bad) {
			t.Errorf("ValidNonce(%q) = true", bad)
		}
	}
}

func TestWh(t *testing.T) {
	for _, c := range []struct {
		in   string
		want core.Energy
		out  string
	}{
		{"0", 0, "0"},
		{"1234.5", 1234500, "1234.5"},
		{"17.001", 17001, "17.001"},
		{"17.0010", 17001, "17.001"},
		{"1.0005", 1001, "1.001"},  // rounded to the nearest mWh
		{"1.00049", 1000, "1"},     // rounded down
		{"1.5e3", 1500000, "1500"}, // exponent form
		{"9000000000", 9_000_000_000_000, "9000000000"},
	} {
		got, err := ParseWh(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseWh(%q) = %d, %v; want %d", c.in, got, err, c.want)
			continue
		}
		if s := FormatWh(got); s != c.out {
			t.Errorf("FormatWh(%d) = %q, want %q", got, s, c.out)
		}
	}
	for _, bad := range []string{"", "-1", "1.", ".5", "abc", "1x", "99999999999999999999"} {
		if _, err := ParseWh(bad); err == nil {
			t.Errorf("ParseWh(%q) accepted", bad)
		}
	}
}

func TestRecordJSONRoundTrip(t *testing.T) {
	tm := time.Date(2026, 3, 1, 12, 15, 0, 123e6, time.UTC)
	recs := []Record{
		{Seq: 1, Meter: "m1", Time: tm, Import: 1234567891, Export: 0},
		{Seq: 7, Meter: `odd "meter" ü`, Time: tm.Add(time.Second), Import: 1, Export: 999},
	}
	for _, r := range recs {
		b := r.AppendJSON(nil)
		var got Record
		if err := got.UnmarshalJSON(b); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if got != r {
			t.Errorf("round trip of %s gave %+v, want %+v", b, got, r)
		}
	}
	if s := string(recs[0].AppendJSON(nil)); s != `{"seq":1,"meter":"m1","time":"2026-03-01T12:15:00.123Z","import_wh":1234567.891,"export_wh":0}` {
		t.Errorf("wire form %s", s)
	}
	// A third party may order keys differently, add keys and leave out
	// export_wh.
	var r Record
	if err := r.UnmarshalJSON([]byte(`{"time":"2026-03-01T13:15:00+01:00","meter":"x","import_wh":5,"seq":3,"extra":{"a":1}}`)); err != nil {
		t.Fatal(err)
	}
	if r.Seq != 3 || r.Meter != "x" || !r.Time.Equal(tm.Truncate(time.Second)) || r.Time.Location() != time.UTC || r.Import != 5000 || r.Export != 0 {
		t.Errorf("decoded %+v", r)
	}
	for _, bad := range []string{
		`{"meter":"x","time":"2026-03-01T12:00:00Z","import_wh":1}`,
		`{"seq":0,"meter":"x","time":"2026-03-01T12:00:00Z","import_wh":1}`,
		`{"seq":1,"time":"2026-03-01T12:00:00Z","import_wh":1}`,
		`{"seq":1,"meter":"x","import_wh":1}`,
		`{"seq":1,"meter":"x","time":"yesterday","import_wh":1}`,
		`{"seq":1,"meter":"x","time":"2026-03-01T12:00:00Z"}`,
		`{"seq":1,"meter":"x","time":"2026-03-01T12:00:00Z","import_wh":-1}`,
	} {
		if err := r.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func page(recs ...Record) []byte {
	b := WriteRecordsHead(nil, "gw1", 1)
	for i, r := range recs {
		if i > 0 {
			b = append(b, ',')
		}
		b = r.AppendJSON(b)
	}
	return WriteRecordsTail(b, 10, true)
}

func TestReadRecords(t *testing.T) {
	tm := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	body := page(Record{Seq: 2, Meter: "a", Time: tm, Import: 1000}, Record{Seq: 5, Meter: "b", Time: tm, Import: 2000, Export: 3})
	var got []uint64
	p, err := ReadRecords(bytes.NewReader(body), func(r Record) error { got = append(got, r.Seq); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if p != (RecordsPage{Gateway: "gw1", OldestSeq: 1, LastSeq: 10, More: true, Count: 2}) || len(got) != 2 || got[1] != 5 {
		t.Errorf("page %+v, seqs %v", p, got)
	}

	// Not increasing.
	body = page(Record{Seq: 5, Meter: "a", Time: tm}, Record{Seq: 5, Meter: "b", Time: tm})
	if _, err := ReadRecords(bytes.NewReader(body), func(Record) error { return nil }); err == nil || !strings.Contains(err.Error(), "strictly increase") {
		t.Errorf("repeated seq: %v", err)
	}
	// Truncated mid-way: the records before the cut were delivered, the
	// call fails.
	body = page(Record{Seq: 1, Meter: "a", Time: tm}, Record{Seq: 2, Meter: "b", Time: tm})
	n := 0
	if _, err := ReadRecords(bytes.NewReader(body[:len(body)-30]), func(Record) error { n++; return nil }); err == nil {
		t.Error("truncated body accepted")
	}
	// fn's error stops the read.
	stop := errors.New("stop")
	if _, err := ReadRecords(bytes.NewReader(page(Record{Seq: 1, Meter: "a", Time: tm})), func(Record) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("fn error: %v", err)
	}
	if _, err := ReadRecords(strings.NewReader(`{"records":[]}`), func(Record) error { return nil }); err == nil {
		t.Error("response without last_seq accepted")
	}
}

func TestDecodeStrict(t *testing.T) {
	var req PairFinishRequest
	if err := DecodeStrict(strings.NewReader(`{"client_nonce":"a","gateway_nonce":"b","proof":"c"}`), MaxRequestBody, &req); err != nil || req.Proof != "c" {
		t.Fatalf("%+v %v", req, err)
	}
	for name, body := range map[string]string{
		"unknown field": `{"client_nonce":"a","x":1}`,
		"trailing":      `{"proof":"c"} {}`,
		"garbage":       `\x00\x01`,
		"empty":         ``,
		"wrong type":    `{"proof":5}`,
	} {
		if err := DecodeStrict(strings.NewReader(body), MaxRequestBody, &req); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	big := `{"proof":"` + strings.Repeat("a", MaxRequestBody) + `"}`
	if err := DecodeStrict(strings.NewReader(big), MaxRequestBody, &req); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversize body: %v", err)
	}
}

func BenchmarkReadRecords(b *testing.B) {
	tm := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	recs := make([]Record, 10000)
	for i := range recs {
		recs[i] = Record{Seq: uint64(i + 1), Meter: "meter-" + string(rune('a'+i%26)), Time: tm.Add(time.Duration(i) * time.Minute), Import: core.Energy(i) * 1234, Export: 17}
	}
	body := page(recs...)
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := ReadRecords(bytes.NewReader(body), func(Record) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*float64(len(recs))/b.Elapsed().Seconds(), "records/s")
}

func TestReadRecordsTolerance(t *testing.T) {
	tm := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	rec := Record{Seq: 9, Meter: `we}ird "[meter]"`, Time: tm, Import: 5}
	body := `{ "extra" : {"a":[1,"}]"]}, "gateway":"g\u0031", "records" : [ ` + string(rec.AppendJSON(nil)) +
		` , {"seq":10,"meter":"b","time":"2026-03-01T00:00:00Z","import_wh":1,"new_field":[{}]} ], "last_seq":10, "more":false, "later":null }`
	var got []Record
	p, err := ReadRecords(strings.NewReader(body), func(r Record) error { got = append(got, r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if p.Gateway != "g1" || p.LastSeq != 10 || len(got) != 2 || got[0] != rec || got[1].Import != core.Wh {
		t.Errorf("page %+v records %+v", p, got)
	}
	for name, bad := range map[string]string{
		"trailing data":  `{"records":[],"last_seq":0} x`,
		"duplicate key":  `{"records":[],"records":[],"last_seq":0}`,
		"bad value":      `{"records":[],"last_seq":"x"}`,
		"unclosed array": `{"records":[{"seq":1,"meter":"a","time":"2026-03-01T00:00:00Z","import_wh":1}`,
		"not an object":  `[1]`,
		"bad record":     `{"records":[{"seq":1}],"last_seq":1}`,
		"bad skip":       `{"x":{"a":},"records":[],"last_seq":0}`,
	} {
		if _, err := ReadRecords(strings.NewReader(bad), func(Record) error { return nil }); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// The fast path for record times gives what time.Parse gives, and leaves
// everything but the exact wire form to it.
func TestParseWireTime(t *testing.T) {
	for _, s := range []string{"2026-03-01T12:15:00.000Z", "2024-02-29T23:59:59.999Z", "2000-01-01T00:00:00.001Z"} {
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := parseWireTime([]byte(s)); !ok || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("parseWireTime(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{
		"2026-06-31T12:00:00.000Z", "2025-02-29T12:00:00.000Z", "2026-13-01T12:00:00.000Z", "2026-00-01T12:00:00.000Z",
		"2026-03-01T24:00:00.000Z", "2026-03-01T12:60:00.000Z", "2026-03-01T12:00:60.000Z", "2026-03-01T12:00:00.00aZ",
		"2026-03-01T12:00:00Z", "2026-03-01T12:00:00.000+01:00", "2026-03-01 12:00:00.000Z", "+026-03-01T12:00:00.000Z",
	} {
		if got, ok := parseWireTime([]byte(s)); ok {
			t.Errorf("parseWireTime(%q) = %v, want it left to time.Parse", s, got)
		}
	}
	// Other RFC 3339 forms still arrive, through the general path.
	var r Record
	if err := json.Unmarshal([]byte(`{"seq":1,"meter":"M","time":"2026-03-01T13:15:00+01:00","import_wh":1}`), &r); err != nil || !r.Time.Equal(time.Date(2026, 3, 1, 12, 15, 0, 0, time.UTC)) {
		t.Errorf("an offset time: %v, %v", r.Time, err)
	}
}
