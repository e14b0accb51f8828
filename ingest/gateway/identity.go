package gateway

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// Files in the data directory.
const (
	keyFile   = "key.pem"    // ECDSA P-256 private key (PKCS #8), mode 0600
	certFile  = "cert.pem"   // the self-signed certificate, mode 0600 too
	stateFile = "state.json" // id, pairing code, paired office (token hash)
)

// identity is what makes a gateway itself: its key and certificate, its id
// and pairing code, and the office it is paired with.
type identity struct {
	cert  tls.Certificate
	x509  *x509.Certificate
	fp    string // full fingerprint
	state state
}

// state is kept in state.json. The token is stored as its SHA-256 only, so
// reading the file does not let anyone pull records.
type state struct {
	ID          string    `json:"id"`
	Code        string    `json:"code"`
	TokenSHA256 string    `json:"token_sha256,omitempty"`
	Client      string    `json:"client,omitempty"`
	PairedAt    time.Time `json:"paired_at,omitzero"`
	// Source is where the paired office paired from (sourceKey): the
	// connections reserved to the office are its after a restart too.
	Source string `json:"source,omitempty"`
	// Replaced are the last tokens a pairing replaced, so that an office
	// still using one is told when the gateway was paired elsewhere.
	Replaced []replacedToken `json:"replaced,omitempty"`
}

// replacedToken is a token that a later pairing replaced.
type replacedToken struct {
	TokenSHA256 string    `json:"token_sha256"`
	At          time.Time `json:"at"`
}

// maxReplaced bounds the replaced tokens remembered.
const maxReplaced = 4

// loadIdentity reads the identity from dir, creating a key, certificate, id
// and pairing code on first start when create is set.
func loadIdentity(dir string, now time.Time, create bool) (*identity, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	id := &identity{}
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	switch {
	case errors.Is(err, fs.ErrNotExist) && create:
		id.state = state{ID: "zevgw-" + randomHex(4), Code: newCode()}
		if err := id.save(dir); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, fmt.Errorf("reading gateway state: %w", err)
	default:
		if err := json.Unmarshal(data, &id.state); err != nil {
			return nil, fmt.Errorf("reading %s: %w", filepath.Join(dir, stateFile), err)
		}
		if id.state.ID == "" || len(id.state.Code) != protocol.CodeDigits {
			return nil, fmt.Errorf("reading %s: missing id or pairing code", filepath.Join(dir, stateFile))
		}
	}
	keyPath, certPath := filepath.Join(dir, keyFile), filepath.Join(dir, certFile)
	if _, err := os.Stat(keyPath); errors.Is(err, fs.ErrNotExist) && create {
		if err := makeCertificate(keyPath, certPath, id.state.ID, now); err != nil {
			return nil, err
		}
	}
	id.cert, err = tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return nil, fmt.Errorf("loading the gateway certificate: %w", err)
	}
	id.x509 = id.cert.Leaf
	id.fp = protocol.Fingerprint(id.x509)
	return id, nil
}

// save writes state.json atomically (write, sync, rename).
func (id *identity) save(dir string) error {
	data, err := json.MarshalIndent(id.state, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, stateFile), append(data, '\n')); err != nil {
		return fmt.Errorf("saving gateway state: %w", err)
	}
	return nil
}

// makeCertificate creates an ECDSA P-256 key and a self-signed certificate
// valid for 30 years: clients pin it by fingerprint at pairing, so neither
// its names nor its expiry are what makes it trusted, and a gateway in an
// electrical room must not stop working when a certificate runs out.
func makeCertificate(keyPath, certPath, id string, now time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("creating the gateway key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return fmt.Errorf("creating the gateway certificate: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: id, Organization: []string{"zevdesk gateway"}},
		DNSNames:              []string{id, id + ".local"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(30, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("creating the gateway certificate: %w", err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("encoding the gateway key: %w", err)
	}
	// The certificate first and the key last, each synced and renamed into
	// place: the key's presence is what tells a later start that both are
	// there, so a power cut during the first start (a gateway in an
	// electrical room) leaves either both files or no key, and the next
	// start makes a new pair instead of failing forever.
	if err := writeFileAtomic(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})); err != nil {
		return fmt.Errorf("writing the gateway certificate: %w", err)
	}
	if err := writeFileAtomic(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})); err != nil {
		return fmt.Errorf("writing the gateway key: %w", err)
	}
	return nil
}

// newCode returns a uniformly random 8-digit pairing code.
func newCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(100_000_000))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return fmt.Sprintf("%08d", n.Int64())
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Info is what `zevdesk gateway status` shows of a gateway's data directory.
type Info struct {
	ID          string
	Code        string
	Fingerprint string
	Paired      bool
	Client      string
	PairedAt    time.Time
	// Locked lists the pairing lockouts (by source) running at the time
	// ReadInfo was asked about.
	Locked map[string]time.Time
	// WindowUntil is when the open pairing window closes; zero when none
	// is open.
	WindowUntil time.Time
}

// ReadInfo reads a gateway's identity from its data directory without
// opening its buffer (so it works while the gateway runs). It creates
// nothing: a directory without a gateway is an error.
//
// now is the instant the lockouts are judged at.
func ReadInfo(dir string, now time.Time) (Info, error) {
	return readInfo(dir, now, false)
}

// Init makes the gateway's identity in dir (key, self-signed certificate, id
// and pairing code) as its first start would, if it has none yet, and
// returns its Info. An installer runs it so that the pairing code is known
// before the service first starts; an existing identity is left unchanged.
func Init(dir string, now time.Time) (Info, error) {
	return readInfo(dir, now, true)
}

func readInfo(dir string, now time.Time, create bool) (Info, error) {
	if create {
		if _, err := loadIdentity(dir, now, true); err != nil {
			return Info{}, err
		}
	}
	if _, err := os.Stat(filepath.Join(dir, stateFile)); err != nil {
		return Info{}, fmt.Errorf("no gateway in %s: %w", dir, err)
	}
	id, err := loadIdentity(dir, now, false)
	if err != nil {
		return Info{}, err
	}
	info := Info{ID: id.state.ID, Code: id.state.Code, Fingerprint: id.fp, Paired: id.state.TokenSHA256 != "",
		Client: id.state.Client, PairedAt: id.state.PairedAt, Locked: map[string]time.Time{}}
	g, err := loadGuard(dir)
	if err != nil {
		return info, err
	}
	w, err := readWindow(dir)
	if err != nil {
		return info, err
	}
	if w.open(&g, now) {
		info.WindowUntil = w.Until
	}
	// A window the running gateway has not seen yet clears the lockouts
	// at its next pairing request: show them as they will be.
	w.apply(&g, now)
	for src, s := range g.Sources {
		if now.Before(s.LockedUntil) {
			info.Locked[src] = s.LockedUntil
		}
	}
	return info, nil
}
