package protocol

import (
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	"filippo.io/edwards25519/field"
)

// Pairing uses a password-authenticated key exchange (CPace on X25519) before
// the proofs: both sides derive a session key from the pairing code and
// ephemeral Diffie-Hellman shares, and the proofs are HMACs keyed with that
// session key. A proof keyed with the code itself would let whoever receives
// one (a man in the middle answering in the gateway's place) try all 10^8
// codes offline in seconds; with the exchange, each run tests one guess.
//
// The generator of the exchange is derived from the code and the gateway
// nonce: G = Elligator2(SHA-512("zevgw-pair-v1|generator|" + code + "|" +
// gateway_nonce)) on Curve25519. Each side picks a random scalar s and sends
// its share X25519(s, G); the shared secret K = X25519(s, peer's share) is
// the same on both sides only when both used the same code. The session key
// is SHA-256("zevgw-pair-v1|session|" + hex(K) + "|" + client_share + "|" +
// gateway_share) as hex (see docs/protocol.md for a worked example).

// ShareHexLen is the length of a share on the wire: 32 bytes as lowercase
// hex.
const ShareHexLen = 64

// jElem is the Montgomery coefficient J = 486662 of Curve25519.
var jElem = func() *field.Element {
	var b [32]byte
	binary.LittleEndian.PutUint32(b[:], 486662)
	e, err := new(field.Element).SetBytes(b[:])
	if err != nil {
		panic(err) // 32 bytes: cannot fail
	}
	return e
}()

// Generator returns the exchange's generator for code and gatewayNonce as a
// Curve25519 u-coordinate (32 bytes, little-endian): Elligator 2 (RFC 9380,
// map_to_curve_elligator2 with Z = 2) applied to the SHA-512 of the label,
// code and nonce read as a big-endian integer modulo 2^255-19.
func Generator(code, gatewayNonce string) []byte {
	h := sha512.Sum512([]byte(proofLabel + "|generator|" + code + "|" + gatewayNonce))
	u := elligator2(&h)
	return u[:]
}

// elligator2 maps a 64-byte big-endian integer to a Curve25519
// u-coordinate. It runs in constant time (CPace requires it: the input
// depends on the pairing code, and a map whose duration depends on its input
// lets an observer who knows the public nonce test codes offline against
// timings): field arithmetic from filippo.io/edwards25519/field, both
// candidates computed and one selected by mask, no branch or table index on
// secret data. elligator2Big in the tests is the plain math/big version it
// must agree with.
func elligator2(h *[64]byte) [32]byte {
	// SetWideBytes reduces a little-endian integer mod p; the hash is read
	// big-endian, so reverse it (a fixed permutation, independent of data).
	var le [64]byte
	for i, b := range h {
		le[63-i] = b
	}
	r, _ := new(field.Element).SetWideBytes(le[:]) // 64 bytes: cannot fail
	one := new(field.Element).One()
	zero := new(field.Element).Zero()

	// tv1 = 2·r²; den = 1 + tv1. den = 0 cannot happen on this curve (-1/2
	// is not a square mod p), but is handled as RFC 9380 does (x1 = -J).
	tv1 := new(field.Element).Square(r)
	tv1.Add(tv1, tv1)
	den := new(field.Element).Add(tv1, one)
	den.Select(one, den, den.Equal(zero))

	// x1 = -J / den
	x1 := new(field.Element).Invert(den)
	x1.Multiply(x1, jElem)
	x1.Negate(x1)

	// gx1 = ((x1 + J)·x1 + 1)·x1 = x1³ + J·x1² + x1
	gx1 := new(field.Element).Add(x1, jElem)
	gx1.Multiply(gx1, x1)
	gx1.Add(gx1, one)
	gx1.Multiply(gx1, x1)

	// Euler's criterion: gx1^((p-1)/2) ∈ {0, 1} when gx1 is a square.
	// (p-1)/2 = 4·(p-5)/8 + 2, and Pow22523 raises to (p-5)/8.
	leg := new(field.Element).Pow22523(gx1)
	leg.Square(leg)
	leg.Square(leg)
	gx1sq := new(field.Element).Square(gx1)
	leg.Multiply(leg, gx1sq)
	isSquare := leg.Equal(one) | leg.Equal(zero)

	// x2 = -x1 - J, taken when gx1 is not a square.
	x2 := new(field.Element).Add(x1, jElem)
	x2.Negate(x2)
	u := new(field.Element).Select(x1, x2, isSquare)

	var out [32]byte
	copy(out[:], u.Bytes())
	return out
}

// PairingSecret is one side's ephemeral part of the exchange.
type PairingSecret struct {
	key   *ecdh.PrivateKey
	share string
}

// Share returns the share to send: X25519(scalar, generator) as hex.
func (s *PairingSecret) Share() string { return s.share }

// NewPairingSecret picks a random scalar for the exchange bound to code and
// gatewayNonce.
func NewPairingSecret(code, gatewayNonce string) (*PairingSecret, error) {
	scalar := make([]byte, 32)
	_, _ = rand.Read(scalar) // crypto/rand.Read never fails (Go 1.24+)
	return PairingSecretFromScalar(code, gatewayNonce, scalar)
}

// PairingSecretFromScalar is NewPairingSecret with a given 32-byte scalar
// (X25519 clamps it): for test vectors only.
func PairingSecretFromScalar(code, gatewayNonce string, scalar []byte) (*PairingSecret, error) {
	key, err := ecdh.X25519().NewPrivateKey(scalar)
	if err != nil {
		return nil, fmt.Errorf("pairing exchange: %w", err)
	}
	g, err := ecdh.X25519().NewPublicKey(Generator(code, gatewayNonce))
	if err != nil {
		return nil, fmt.Errorf("pairing exchange: %w", err)
	}
	share, err := key.ECDH(g)
	if err != nil {
		return nil, fmt.Errorf("pairing exchange: %w", err)
	}
	return &PairingSecret{key: key, share: hex.EncodeToString(share)}, nil
}

// ErrBadShare means a peer's share is malformed or of low order.
var ErrBadShare = errors.New("malformed or degenerate pairing share")

// SessionKey combines this side's secret with the peer's share into the
// session key that keys both proofs (Proof's first argument).
func (s *PairingSecret) SessionKey(peerShare, clientShare, gatewayShare string) (string, error) {
	if !validHex(peerShare, ShareHexLen, ShareHexLen) {
		return "", ErrBadShare
	}
	raw, _ := hex.DecodeString(peerShare)
	pub, err := ecdh.X25519().NewPublicKey(raw)
	if err != nil {
		return "", ErrBadShare
	}
	k, err := s.key.ECDH(pub)
	if err != nil { // an all-zero result: a low-order share
		return "", ErrBadShare
	}
	sum := sha256.Sum256([]byte(proofLabel + "|session|" + hexConstantTime(k) + "|" + clientShare + "|" + gatewayShare))
	return hexConstantTime(sum[:]), nil
}

// hexConstantTime is hex.EncodeToString for secrets (the shared point K and
// the session key): encoding/hex indexes a table with each nibble, which a
// cache-timing observer could in principle see; this computes each digit
// with arithmetic and a mask instead.
func hexConstantTime(b []byte) string {
	out := make([]byte, 2*len(b))
	for i, v := range b {
		out[2*i] = hexDigit(v >> 4)
		out[2*i+1] = hexDigit(v & 0xf)
	}
	return string(out)
}

// hexDigit returns the lowercase hex digit of n (0 to 15) without a branch:
// '0'+n, plus the distance from '9'+1 to 'a' when n ≥ 10.
func hexDigit(n byte) byte {
	// (9 - n) >> 8 is all ones exactly when n > 9 (as an int, no wrap).
	ge10 := byte((9 - int(n)) >> 8)
	return '0' + n + (ge10 & ('a' - '9' - 1))
}

// ValidShare reports whether s has the form of a share: 64 lowercase hex
// digits.
func ValidShare(s string) bool { return validHex(s, ShareHexLen, ShareHexLen) }

// ClientFinish is the client's side of pairing after /pair/start: it runs
// the exchange for code against start, and returns the /pair/finish request
// (with a fresh client nonce, its share and its proof over fingerprint, the
// certificate the client saw) and the session key, with which the client
// checks the gateway's proof.
func ClientFinish(code, fingerprint string, start PairStartResponse) (PairFinishRequest, string, error) {
	if !ValidNonce(start.GatewayNonce) {
		return PairFinishRequest{}, "", errors.New("the gateway sent a malformed nonce")
	}
	if !ValidShare(start.GatewayShare) {
		return PairFinishRequest{}, "", errors.New("the gateway sent a malformed share (an older protocol?)")
	}
	secret, err := NewPairingSecret(code, start.GatewayNonce)
	if err != nil {
		return PairFinishRequest{}, "", err
	}
	key, err := secret.SessionKey(start.GatewayShare, secret.Share(), start.GatewayShare)
	if err != nil {
		return PairFinishRequest{}, "", err
	}
	req := PairFinishRequest{ClientNonce: NewNonce(), GatewayNonce: start.GatewayNonce, ClientShare: secret.Share()}
	req.Proof = Proof(key, RoleClient, fingerprint, req.ClientNonce, req.GatewayNonce)
	return req, key, nil
}
