package protocol

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"math/big"
	"math/rand/v2"
	"testing"
)

var (
	p25519 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	j25519 = big.NewInt(486662)
	// pMinus1Half is (p-1)/2, the exponent of Euler's criterion.
	pMinus1Half = new(big.Int).Rsh(new(big.Int).Sub(p25519, big.NewInt(1)), 1)
)

// elligator2Big is the map as zevdesk first computed it, with math/big (in
// variable time): the reference the constant-time elligator2 must agree
// with, and a transcription of docs/protocol.md. It also reports whether
// gx1 was a square, so that the tests can see both branches taken.
func elligator2Big(h *[64]byte) (u [32]byte, square bool) {
	p := p25519
	r := new(big.Int).SetBytes(h[:])
	r.Mod(r, p)
	tv1 := new(big.Int).Mul(r, r)
	tv1.Lsh(tv1, 1).Mod(tv1, p)
	den := new(big.Int).Add(tv1, big.NewInt(1))
	den.Mod(den, p)
	if den.Sign() == 0 {
		den.SetInt64(1)
	}
	x1 := new(big.Int).ModInverse(den, p)
	x1.Mul(x1, j25519).Neg(x1).Mod(x1, p)
	gx1 := new(big.Int).Add(x1, j25519)
	gx1.Mul(gx1, x1).Add(gx1, big.NewInt(1)).Mul(gx1, x1).Mod(gx1, p)
	x := x1
	square = true
	if leg := new(big.Int).Exp(gx1, pMinus1Half, p); leg.Sign() != 0 && leg.Cmp(big.NewInt(1)) != 0 {
		x = new(big.Int).Add(x1, j25519)
		x.Neg(x).Mod(x, p)
		square = false
	}
	be := x.FillBytes(make([]byte, 32))
	for i := range 32 {
		u[i] = be[31-i]
	}
	return u, square
}

// wide returns n as the 64-byte big-endian input of the map.
func wide(n *big.Int) *[64]byte {
	var h [64]byte
	n.FillBytes(h[:])
	return &h
}

// The constant-time map gives exactly the reference's output: at the edges
// of the input range (0, 1, p-1, p and its multiples, which reduce to 0,
// the largest 64-byte value) and for 100,000 random inputs, which take both
// branches (gx1 a square or not) about equally often.
func TestElligator2MatchesReference(t *testing.T) {
	one := big.NewInt(1)
	p := p25519
	max512 := new(big.Int).Sub(new(big.Int).Lsh(one, 512), one)
	edges := map[string]*big.Int{
		"0":                     big.NewInt(0),
		"1":                     one,
		"2":                     big.NewInt(2),
		"p-1":                   new(big.Int).Sub(p, one),
		"(p-1)/2":               pMinus1Half,
		"p":                     p,
		"p+1":                   new(big.Int).Add(p, one),
		"2p":                    new(big.Int).Lsh(p, 1),
		"2^255":                 new(big.Int).Lsh(one, 255),
		"2^256-1":               new(big.Int).Sub(new(big.Int).Lsh(one, 256), one),
		"p·2^256":               new(big.Int).Lsh(p, 256),
		"p·2^256 - 1":           new(big.Int).Sub(new(big.Int).Lsh(p, 256), one),
		"2^511":                 new(big.Int).Lsh(one, 511),
		"2^512-1":               max512,
		"largest multiple of p": new(big.Int).Mul(new(big.Int).Div(max512, p), p),
	}
	for name, n := range edges {
		h := wide(n)
		want, _ := elligator2Big(h)
		if got := elligator2(h); got != want {
			t.Errorf("input %s: u = %x, want %x", name, got, want)
		}
	}

	// The random inputs: seeded, so that referenceDigest holds for them.
	n := 100_000
	rng := rand.New(rand.NewChaCha8([32]byte{'z', 'e', 'v'}))
	var h [64]byte
	branches := map[bool]int{}
	digest := sha256.New()
	for i := range n {
		for j := 0; j < 64; j += 8 {
			binary.LittleEndian.PutUint64(h[j:], rng.Uint64())
		}
		// Every tenth input has few significant bytes, so that small
		// values (below p, reduced not at all) are covered as well.
		if i%10 == 1 {
			clear(h[:32+rng.IntN(32)])
		}
		got := elligator2(&h)
		digest.Write(got[:])
		if raceEnabled {
			continue
		}
		want, square := elligator2Big(&h)
		branches[square]++
		if got != want {
			t.Fatalf("input %x: u = %x, want %x", h, got, want)
		}
	}
	if d := hex.EncodeToString(digest.Sum(nil)); d != referenceDigest {
		t.Errorf("the %d outputs hash to %s, want the reference's %s (run the test without -race to see the first input that differs)", n, d, referenceDigest)
	}
	// Each branch about half the time; a map that never took one would
	// leave that branch untested.
	if !raceEnabled && (branches[true] < n/3 || branches[false] < n/3) {
		t.Errorf("branches taken: square %d, non-square %d of %d", branches[true], branches[false], n)
	}
}

// referenceDigest is the SHA-256 of elligator2Big's outputs for the random
// inputs of TestElligator2MatchesReference, one after the other. Under the
// race detector the math/big reference takes close to a minute for the
// 100,000 inputs (on a shared two-core machine), so with -race (make test)
// the test compares the outputs with the reference through this digest;
// without -race it runs the reference on each input, which also checks the
// digest.
const referenceDigest = "e8d2a897cdcd00ae58c889d591a01d2f6ca6811bb4e7dcefca3b670750b95012"

// The constant-time hex encoding of secrets is encoding/hex's for every
// byte.
func TestHexConstantTime(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	if got, want := hexConstantTime(all), hex.EncodeToString(all); got != want {
		t.Errorf("hexConstantTime = %s, want %s", got, want)
	}
}

// The generator of docs/protocol.md's test vector, through both maps.
func TestGeneratorVector(t *testing.T) {
	const want = "051a61f7f666785de10e8597a3429fa4a3514348695b073ccf88cef345b54b78"
	gn := hex.EncodeToString(bytes.Repeat([]byte{2}, 32))
	if got := hex.EncodeToString(Generator("12345678", gn)); got != want {
		t.Errorf("generator = %s, want %s", got, want)
	}
	h := sha512.Sum512([]byte(proofLabel + "|generator|12345678|" + gn))
	if u, _ := elligator2Big(&h); hex.EncodeToString(u[:]) != want {
		t.Errorf("the reference map gives %x, want %s", u, want)
	}
}

// benchInputs are two very different inputs: 0 (r = 0, the smallest) and a
// full 64-byte hash.
func benchInputs() map[string]*[64]byte {
	h := sha512.Sum512([]byte("zevgw-pair-v1|generator|12345678|" + "0202"))
	return map[string]*[64]byte{"zero": new([64]byte), "hash": &h}
}

func BenchmarkElligator2(b *testing.B) {
	for name, h := range benchInputs() {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				elligator2(h)
			}
		})
	}
}

// BenchmarkElligator2Big measures the old math/big map, for comparison.
func BenchmarkElligator2Big(b *testing.B) {
	for name, h := range benchInputs() {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				elligator2Big(h)
			}
		})
	}
}
