// Package protocol is the zevdesk gateway API's wire format, shared by the
// gateway (ingest/gateway) and the workstation (ingest/intake): endpoint
// paths, JSON message types, the pairing proof and a strict request decoder.
// docs/protocol.md describes the same protocol for third parties.
//
// Everything here is stable: a field may be added, none renamed or removed,
// within API version 1.
package protocol

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"time"
)

// APIVersion is the protocol version; gateways advertise it as TXT "api".
const APIVersion = 1

// ServiceType is the DNS-SD service under which gateways announce themselves.
const ServiceType = "_zevgw._tcp"

// Endpoint paths. The pairing endpoints need no authentication; every other
// one needs "Authorization: Bearer TOKEN".
const (
	PathPairStart  = "/api/v1/pair/start"
	PathPairFinish = "/api/v1/pair/finish"
	PathMeters     = "/api/v1/meters"
	PathRecords    = "/api/v1/records"
	PathLive       = "/api/v1/live"
	PathStatus     = "/api/v1/status"
)

// Limits.
const (
	// MaxRecordsLimit is the largest page GET /records returns; a larger
	// limit is capped to it.
	MaxRecordsLimit = 10000
	// DefaultRecordsLimit is the page size when the request gives none.
	DefaultRecordsLimit = 1000
	// MaxRequestBody is the largest request body a gateway reads (pairing
	// messages are a few hundred bytes).
	MaxRequestBody = 4096
	// MaxResponseBody is the largest non-streamed response body (status,
	// meters, pairing, errors) a client should read.
	MaxResponseBody = 1 << 20
	// CodeDigits is the length of a pairing code.
	CodeDigits = 8
	// LockoutAfter is the number of wrong proofs after which a gateway
	// refuses pairing for a while (429 with Retry-After).
	LockoutAfter = 5
)

// TimeFormat is the layout of record times on the wire: RFC 3339 in UTC with
// milliseconds, e.g. "2026-03-01T12:15:00.000Z". Other times (status, live)
// are RFC 3339 in UTC with as many fractional digits as they need.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// Roles in the pairing proof.
const (
	RoleClient  = "client"
	RoleGateway = "gateway"
)

// proofLabel separates this protocol's HMACs from any other use of the code.
const proofLabel = "zevgw-pair-v1"

// Fingerprint returns the SHA-256 of the certificate's DER encoding as 64
// lowercase hex digits.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return hex.EncodeToString(sum[:])
}

// FingerprintPrefix returns the first 16 hex digits of a fingerprint, the
// form advertised in the mDNS TXT key "fp".
func FingerprintPrefix(fp string) string {
	if len(fp) > 16 {
		return fp[:16]
	}
	return fp
}

// Proof returns the pairing proof of role (RoleClient or RoleGateway):
// HMAC-SHA256 keyed with the ASCII of sessionKey (PairingSecret.SessionKey,
// 64 hex digits, derived from the pairing code by the exchange) over
// "zevgw-pair-v1|ROLE|FINGERPRINT|CLIENTNONCE|GATEWAYNONCE", as 64 lowercase
// hex digits. fingerprint is the full Fingerprint of the certificate the
// client saw on its TLS connection, so a proof made through a
// man-in-the-middle's certificate does not verify at the gateway.
func Proof(sessionKey, role, fingerprint, clientNonce, gatewayNonce string) string {
	m := hmac.New(sha256.New, []byte(sessionKey))
	m.Write([]byte(proofLabel + "|" + role + "|" + fingerprint + "|" + clientNonce + "|" + gatewayNonce))
	return hex.EncodeToString(m.Sum(nil))
}

// VerifyProof reports in constant time whether proof is Proof(sessionKey,
// role, fingerprint, clientNonce, gatewayNonce).
func VerifyProof(proof, sessionKey, role, fingerprint, clientNonce, gatewayNonce string) bool {
	want := Proof(sessionKey, role, fingerprint, clientNonce, gatewayNonce)
	return hmac.Equal([]byte(proof), []byte(want))
}

// NonceBytes is the number of random bytes in a nonce (hex-encoded on the
// wire: 64 characters).
const NonceBytes = 32

// TokenBytes is the number of random bytes in a bearer token (hex-encoded:
// 64 characters).
const TokenBytes = 32

// NewNonce returns NonceBytes random bytes as lowercase hex.
func NewNonce() string { return randomHex(NonceBytes) }

// NewToken returns TokenBytes random bytes as lowercase hex.
func NewToken() string { return randomHex(TokenBytes) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// ValidNonce reports whether s is a well-formed nonce: 32 to 128 lowercase
// hex digits (at least 128 bits).
func ValidNonce(s string) bool { return validHex(s, 32, 128) }

// ValidToken reports whether s has the form of a token: 64 lowercase hex
// digits.
func ValidToken(s string) bool { return validHex(s, 2*TokenBytes, 2*TokenBytes) }

func validHex(s string, minLen, maxLen int) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// PairStartResponse answers POST /pair/start (the request has an empty body
// or "{}"). The nonce is single-use and expires after a minute or two.
type PairStartResponse struct {
	GatewayNonce string `json:"gateway_nonce"`
	// GatewayShare is the gateway's share of the exchange for this nonce
	// (PairingSecret.Share).
	GatewayShare string `json:"gateway_share"`
	// Gateway is the gateway's id, so that a client can stop before
	// pairing a gateway other than the one it means. It is not
	// authenticated (the authenticated id is GET /status's, after
	// pairing); gateways before it was added leave it out.
	Gateway string `json:"gateway,omitempty"`
}

// PairFinishRequest is POST /pair/finish's body: the client's own nonce, the
// gateway nonce from /pair/start, the client's share of the exchange and its
// Proof with RoleClient.
type PairFinishRequest struct {
	ClientNonce  string `json:"client_nonce"`
	GatewayNonce string `json:"gateway_nonce"`
	ClientShare  string `json:"client_share"`
	Proof        string `json:"proof"`
	// Client optionally names the office pairing (shown in the gateway's
	// status); it is not part of the proof.
	Client string `json:"client,omitempty"`
	// Gateway optionally names the gateway the client means to pair; a
	// gateway with another id answers 409 and keeps its pairing.
	Gateway string `json:"gateway,omitempty"`
}

// PairFinishResponse answers a correct PairFinishRequest: the bearer token
// for every later request, and the gateway's Proof with RoleGateway over the
// same fingerprint and nonces, which the client must verify before trusting
// (pinning) the certificate.
type PairFinishResponse struct {
	Token        string `json:"token"`
	GatewayProof string `json:"gateway_proof"`
}

// Channel is one register of a meter.
type Channel struct {
	// Name is "import" or "export".
	Name string `json:"name"`
	// OBIS is the register's OBIS code, e.g. "1-0:1.8.0" (active energy
	// import total) or "1-0:2.8.0" (export).
	OBIS string `json:"obis"`
	// Unit is the register's unit on the wire: always "Wh".
	Unit string `json:"unit"`
}

// Channel names and their OBIS codes.
const (
	ChannelImport = "import"
	ChannelExport = "export"
	OBISImport    = "1-0:1.8.0"
	OBISExport    = "1-0:2.8.0"
	OBISPower     = "1-0:16.7.0" // instantaneous active power, W (import positive)
)

// Meter describes one meter the gateway reads.
type Meter struct {
	// ID is the gateway's meter id, unique on the gateway and stable: the
	// workstation maps it to a site meter.
	ID string `json:"id"`
	// Driver names how the gateway reads it ("sim", "modbus", "shelly").
	Driver string `json:"driver,omitempty"`
	// Model is the device model, when known.
	Model string `json:"model,omitempty"`
	// Serial is the device serial number, when known.
	Serial   string    `json:"serial,omitempty"`
	Channels []Channel `json:"channels"`
	// Live reports whether the meter's power appears in the live stream.
	Live bool `json:"live"`
}

// MetersResponse answers GET /meters.
type MetersResponse struct {
	Gateway string  `json:"gateway"`
	Meters  []Meter `json:"meters"`
}

// Status answers GET /status.
type Status struct {
	ID    string `json:"id"`
	Model string `json:"model"`
	FW    string `json:"fw"`
	API   int    `json:"api"`
	// Time is the gateway clock when it answered; the client compares it
	// with its own to spot a gateway whose clock is off.
	Time    time.Time `json:"time"`
	UptimeS int64     `json:"uptime_s"`
	// LastSeq is the highest sequence number assigned (0 for none).
	LastSeq uint64 `json:"last_seq"`
	// OldestSeq is the lowest sequence number still buffered (0 for none);
	// records below it were pruned after the retention period.
	OldestSeq uint64 `json:"oldest_seq"`
	// Buffered is the number of records in the buffer.
	Buffered uint64 `json:"buffered"`
	// RetentionDays is how long records stay buffered.
	RetentionDays int  `json:"retention_days"`
	Paired        bool `json:"paired"`
	// Client is the name the paired office gave, if any.
	Client string `json:"client,omitempty"`
	Meters int    `json:"meters"`
}

// Live is one server-sent event of GET /live (event name "power"): the
// instantaneous active power of each live meter in W at Time, import
// positive, export (production, feed-in) negative.
type Live struct {
	Time   time.Time          `json:"time"`
	PowerW map[string]float64 `json:"power_w"`
}

// LiveEvent is the SSE event name of Live messages.
const LiveEvent = "power"

// Error is the body of every error response (4xx, 5xx).
type Error struct {
	// Error says what went wrong, for people.
	Error string `json:"error"`
	// Code says the same for programs (one of the ErrorCode constants);
	// gateways before it was added leave it out, and a client must treat
	// an unknown code by the HTTP status alone.
	Code ErrorCode `json:"code,omitempty"`
	// PairedAt is, with ErrorTokenReplaced, when the gateway was paired
	// with another workstation, which replaced the token presented.
	PairedAt time.Time `json:"paired_at,omitzero"`
}

// ErrorCode is the machine-readable reason of an error response.
type ErrorCode string

// Error codes, with the HTTP status each comes with.
const (
	// ErrorBadRequest (400): a malformed request, query or body.
	ErrorBadRequest ErrorCode = "bad_request"
	// ErrorUnauthorized (401): no token, or one the gateway never issued.
	ErrorUnauthorized ErrorCode = "unauthorized"
	// ErrorTokenReplaced (401): the token was valid until the gateway was
	// paired with another workstation (at Error.PairedAt).
	ErrorTokenReplaced ErrorCode = "token_replaced"
	// ErrorWrongCode (403): the pairing proof is wrong (a wrong code, or
	// another certificate in between).
	ErrorWrongCode ErrorCode = "wrong_code"
	// ErrorBadNonce (403): the gateway nonce is unknown, used or expired.
	ErrorBadNonce ErrorCode = "bad_nonce"
	// ErrorNotFound (404) and ErrorMethodNotAllowed (405).
	ErrorNotFound         ErrorCode = "not_found"
	ErrorMethodNotAllowed ErrorCode = "method_not_allowed"
	// ErrorWrongGateway (409): the pairing names another gateway's id.
	ErrorWrongGateway ErrorCode = "wrong_gateway"
	// ErrorTooLarge (413): the request body is over MaxRequestBody.
	ErrorTooLarge ErrorCode = "too_large"
	// ErrorPairingClosed (423): the gateway is paired and its pairing
	// window is closed; it is opened on the gateway itself.
	ErrorPairingClosed ErrorCode = "pairing_closed"
	// ErrorLockedOut (429, Retry-After): too many wrong codes from this
	// source.
	ErrorLockedOut ErrorCode = "locked_out"
	// ErrorRateLimited (429, Retry-After): too many pairing requests, from
	// this source or from everywhere together.
	ErrorRateLimited ErrorCode = "rate_limited"
	// ErrorInternal (500): the gateway failed.
	ErrorInternal ErrorCode = "internal"
	// ErrorBusy (503, Retry-After): a capacity limit (live listeners).
	ErrorBusy ErrorCode = "busy"
)
