package protocol

import (
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
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

var (
	p25519 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	j25519 = big.NewInt(486662)
	// pMinus1Half is (p-1)/2, the exponent of Euler's criterion.
	pMinus1Half = new(big.Int).Rsh(new(big.Int).Sub(p25519, big.NewInt(1)), 1)
)

// Generator returns the exchange's generator for code and gatewayNonce as a
// Curve25519 u-coordinate (32 bytes, little-endian): Elligator 2 (RFC 9380,
// map_to_curve_elligator2 with Z = 2) applied to the SHA-512 of the label,
// code and nonce read as a big-endian integer modulo 2^255-19.
func Generator(code, gatewayNonce string) []byte {
	h := sha512.Sum512([]byte(proofLabel + "|generator|" + code + "|" + gatewayNonce))
	p := p25519
	r := new(big.Int).SetBytes(h[:])
	r.Mod(r, p)
	// tv1 = 2·r²; the exceptional case 1 + tv1 = 0 cannot happen on this
	// curve (-1/2 is not a square), but is handled as RFC 9380 does.
	tv1 := new(big.Int).Mul(r, r)
	tv1.Lsh(tv1, 1).Mod(tv1, p)
	den := new(big.Int).Add(tv1, big.NewInt(1))
	den.Mod(den, p)
	if den.Sign() == 0 {
		den.SetInt64(1)
	}
	// x1 = -J / (1 + 2r²)
	x1 := new(big.Int).ModInverse(den, p)
	x1.Mul(x1, j25519).Neg(x1).Mod(x1, p)
	// gx1 = x1³ + J·x1² + x1
	gx1 := new(big.Int).Add(x1, j25519)
	gx1.Mul(gx1, x1).Add(gx1, big.NewInt(1)).Mul(gx1, x1).Mod(gx1, p)
	x := x1
	if leg := new(big.Int).Exp(gx1, pMinus1Half, p); leg.Sign() != 0 && leg.Cmp(big.NewInt(1)) != 0 {
		// gx1 is not a square: x2 = -x1 - J.
		x = new(big.Int).Add(x1, j25519)
		x.Neg(x).Mod(x, p)
	}
	be := x.FillBytes(make([]byte, 32))
	for i, j := 0, 31; i < j; i, j = i+1, j-1 {
		be[i], be[j] = be[j], be[i]
	}
	return be
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
	sum := sha256.Sum256([]byte(proofLabel + "|session|" + hex.EncodeToString(k) + "|" + clientShare + "|" + gatewayShare))
	return hex.EncodeToString(sum[:]), nil
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
