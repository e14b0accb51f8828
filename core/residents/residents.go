// Package residents keeps the personal links of the resident web view: one
// per occupancy, each a random token of 144 bits.
//
// The store holds a token only as its SHA-256 hash (for finding the link of
// a request, compared in constant time) and sealed with AES-GCM under a key
// that lives outside the database (a key file beside it, see LoadKey), so
// that the office can print the same link on every invoice insert while a
// copy of the database (a backup, say) reveals no working link. Without the
// key a link still works; only showing it again needs the key, and renewing
// gives a new one.
//
// A link works from its issue until it is revoked or renewed, or until the
// occupancy's last day plus the site's grace period (default 90 days). It
// is found by the occupancy's unit, tenant name and first day: editing
// those in the site orphans the link, and the occupancy gets a new one.
package residents

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// Meta buckets of this package.
const (
	// BucketLinks holds one Link per occupancy: key "SITE/UNIT/FROM/TENANT",
	// value JSON.
	BucketLinks = "residents.links"
	// BucketTokens maps a token's hash (hex SHA-256) to its link's key.
	BucketTokens = "residents.tokens"
	// BucketGrace holds a site's grace period in days after move-out: key
	// the site id, value decimal.
	BucketGrace = "residents.grace"
)

// DefaultGraceDays is how long a link keeps working after the occupancy's
// last day when the office set nothing else.
const DefaultGraceDays = 90

// tokenBytes is the entropy of a token: 144 bits, 24 characters in
// base64url without padding.
const tokenBytes = 18

// TokenLen is the length of a token in characters.
const TokenLen = 24

// ErrNotFound is returned for a token that is unknown, revoked, expired or
// whose occupancy no longer exists: callers answer all of them alike.
var ErrNotFound = errors.New("no such resident link")

// ErrNoKey is returned where a sealed token must be opened without the key
// it was sealed with.
var ErrNoKey = errors.New("the link cannot be shown: the key it was sealed with is missing (renew it for a new link)")

// Link is an occupancy's personal link as stored.
type Link struct {
	Site   string    `json:"site"`
	Unit   string    `json:"unit"`
	Tenant string    `json:"tenant"`
	From   core.Date `json:"from"`
	// Hash is the token's SHA-256, hex.
	Hash string `json:"hash"`
	// Sealed is the token sealed with the key (nonce followed by the
	// AES-GCM ciphertext), base64; empty when it was issued without one.
	Sealed  string    `json:"sealed,omitempty"`
	Issued  time.Time `json:"issued"`
	Revoked time.Time `json:"revoked,omitzero"`
}

// Key seals tokens. The zero Key is no key.
type Key struct {
	b  [32]byte
	ok bool
}

// NewKey returns a random key.
func NewKey() (*Key, error) {
	k := &Key{ok: true}
	if _, err := rand.Read(k.b[:]); err != nil {
		return nil, fmt.Errorf("making a key: %w", err)
	}
	return k, nil
}

// LoadKey reads the key file at path, creating it (readable by its owner
// only) with a new random key if it does not exist.
func LoadKey(path string) (*Key, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		k, err := NewKey()
		if err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			return LoadKey(path) // another process made it first
		}
		if err != nil {
			return nil, fmt.Errorf("creating the link key %s: %w", path, err)
		}
		_, err = f.WriteString(hex.EncodeToString(k.b[:]) + "\n")
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
			return nil, fmt.Errorf("writing the link key %s: %w", path, err)
		}
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the link key: %w", err)
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(raw) != 32 {
		return nil, fmt.Errorf("reading the link key %s: expected 64 hex digits", path)
	}
	k := &Key{ok: true}
	copy(k.b[:], raw)
	return k, nil
}

func (k *Key) aead() (cipher.AEAD, error) {
	blk, err := aes.NewCipher(k.b[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(blk)
}

// linkKey is the Meta key of an occupancy's link.
func linkKey(site string, o core.Occupancy) string {
	return site + "/" + o.Unit + "/" + o.From.String() + "/" + o.Name
}

// HashToken returns the hex SHA-256 of a token.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// WellFormed reports whether s looks like a token (length and alphabet),
// so that a request with anything else is turned away without a lookup.
func WellFormed(s string) bool {
	if len(s) != TokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Get returns the link of occupancy o of site, or store.ErrNotFound.
func Get(tx store.Tx, site string, o core.Occupancy) (*Link, error) {
	v, err := tx.GetMeta(BucketLinks, linkKey(site, o))
	if err != nil {
		return nil, err
	}
	var l Link
	if err := json.Unmarshal(v, &l); err != nil {
		return nil, fmt.Errorf("reading the link of %s: %w", linkKey(site, o), err)
	}
	return &l, nil
}

// Renew gives occupancy o of site a new link and returns its token; the old
// link, if any, stops working. With a nil key the token is not sealed: it
// can be shown only now.
func Renew(tx store.Tx, site string, o core.Occupancy, key *Key, now time.Time) (string, error) {
	var raw [tokenBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("making a token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	l := Link{Site: site, Unit: o.Unit, Tenant: o.Name, From: o.From, Hash: HashToken(token), Issued: now.UTC()}
	if key != nil && key.ok {
		a, err := key.aead()
		if err != nil {
			return "", fmt.Errorf("sealing the token: %w", err)
		}
		nonce := make([]byte, a.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return "", fmt.Errorf("sealing the token: %w", err)
		}
		l.Sealed = base64.StdEncoding.EncodeToString(a.Seal(nonce, nonce, []byte(token), []byte(l.Hash)))
	}
	if err := drop(tx, site, o); err != nil {
		return "", err
	}
	if err := put(tx, &l); err != nil {
		return "", err
	}
	if err := tx.PutMeta(BucketTokens, l.Hash, []byte(linkKey(site, o))); err != nil {
		return "", fmt.Errorf("storing the link of %s: %w", linkKey(site, o), err)
	}
	return token, nil
}

// drop removes the token index entry of o's current link.
func drop(tx store.Tx, site string, o core.Occupancy) error {
	old, err := Get(tx, site, o)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return tx.DeleteMeta(BucketTokens, old.Hash)
}

func put(tx store.Tx, l *Link) error {
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	k := linkKey(l.Site, core.Occupancy{Unit: l.Unit, Name: l.Tenant, From: l.From})
	if err := tx.PutMeta(BucketLinks, k, b); err != nil {
		return fmt.Errorf("storing the link of %s: %w", k, err)
	}
	return nil
}

// Revoke stops occupancy o's link; it returns store.ErrNotFound if o has
// none. The link stays listed as revoked until it is renewed.
func Revoke(tx store.Tx, site string, o core.Occupancy, now time.Time) error {
	l, err := Get(tx, site, o)
	if err != nil {
		return err
	}
	if err := tx.DeleteMeta(BucketTokens, l.Hash); err != nil {
		return fmt.Errorf("revoking the link of %s: %w", linkKey(site, o), err)
	}
	if l.Revoked.IsZero() {
		l.Revoked = now.UTC()
	}
	return put(tx, l)
}

// Token opens the link's sealed token with key.
func (l *Link) Token(key *Key) (string, error) {
	if l.Sealed == "" || key == nil || !key.ok {
		return "", ErrNoKey
	}
	b, err := base64.StdEncoding.DecodeString(l.Sealed)
	if err != nil {
		return "", fmt.Errorf("reading the sealed token of %s/%s: %w", l.Site, l.Unit, err)
	}
	a, err := key.aead()
	if err != nil {
		return "", err
	}
	if len(b) < a.NonceSize() {
		return "", ErrNoKey
	}
	tok, err := a.Open(nil, b[:a.NonceSize()], b[a.NonceSize():], []byte(l.Hash))
	if err != nil {
		return "", ErrNoKey // sealed with another key
	}
	return string(tok), nil
}

// Grace returns site's grace period after move-out in days.
func Grace(tx store.Tx, site string) (int, error) {
	v, err := tx.GetMeta(BucketGrace, site)
	if errors.Is(err, store.ErrNotFound) {
		return DefaultGraceDays, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading the grace period of %s: %w", site, err)
	}
	n, err := strconv.Atoi(string(v))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("reading the grace period of %s: %q is not a number of days", site, v)
	}
	return n, nil
}

// SetGrace sets site's grace period after move-out in days (0 or more).
func SetGrace(tx store.Tx, site string, days int) error {
	if days < 0 {
		return fmt.Errorf("grace period: expected 0 days or more, got %d", days)
	}
	return tx.PutMeta(BucketGrace, site, []byte(strconv.Itoa(days)))
}

// Expiry returns the last day o's link works: its last day plus grace
// days; zero for an open-ended occupancy.
func Expiry(o core.Occupancy, grace int) core.Date {
	if o.To.IsZero() {
		return core.Date{}
	}
	return o.To.AddDays(grace)
}

// Resident is what a working token opens: the site and the occupancy.
type Resident struct {
	Site      *core.Site
	Occupancy core.Occupancy
	Link      *Link
}

// Resolve returns the resident of token at now, or ErrNotFound when the
// token is malformed, unknown, revoked or expired (now is after the
// occupancy's last day plus the grace period, in the site's time zone), or
// its occupancy is no longer in the site. The hashes are compared in
// constant time.
func Resolve(tx store.Tx, token string, now time.Time) (*Resident, error) {
	if !WellFormed(token) {
		return nil, ErrNotFound
	}
	h := HashToken(token)
	k, err := tx.GetMeta(BucketTokens, h)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("looking up a resident link: %w", err)
	}
	v, err := tx.GetMeta(BucketLinks, string(k))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("looking up a resident link: %w", err)
	}
	var l Link
	if err := json.Unmarshal(v, &l); err != nil {
		return nil, fmt.Errorf("reading a resident link: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(l.Hash), []byte(h)) != 1 || !l.Revoked.IsZero() {
		return nil, ErrNotFound
	}
	site, err := tx.Site(l.Site)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading the site of a resident link: %w", err)
	}
	var occ *core.Occupancy
	for i, o := range site.Occupancies {
		if o.Unit == l.Unit && o.Name == l.Tenant && o.From == l.From {
			occ = &site.Occupancies[i]
			break
		}
	}
	if occ == nil {
		return nil, ErrNotFound
	}
	grace, err := Grace(tx, site.ID)
	if err != nil {
		return nil, err
	}
	if exp := Expiry(*occ, grace); !exp.IsZero() && core.DateOf(now.In(site.Location())).After(exp) {
		return nil, ErrNotFound
	}
	return &Resident{Site: site, Occupancy: *occ, Link: &l}, nil
}

// Entry is an occupancy with its link, for listing.
type Entry struct {
	Occupancy core.Occupancy
	Link      *Link // nil: none issued
	// Token is the link's token, when the key opens it.
	Token string
	// State is "active", "revoked", "expired" or "none".
	State string
	// Expires is the link's last day (zero: open-ended).
	Expires core.Date
}

// List returns every occupancy of site with its link, in the site's
// order. With issue set it gives occupancies without a link (and not past
// their grace period) a new one first, which needs a read-write tx.
func List(tx store.Tx, site *core.Site, key *Key, issue bool, now time.Time) ([]Entry, error) {
	grace, err := Grace(tx, site.ID)
	if err != nil {
		return nil, err
	}
	today := core.DateOf(now.In(site.Location()))
	var out []Entry
	for _, o := range site.Occupancies {
		e := Entry{Occupancy: o, Expires: Expiry(o, grace)}
		expired := !e.Expires.IsZero() && today.After(e.Expires)
		l, err := Get(tx, site.ID, o)
		switch {
		case errors.Is(err, store.ErrNotFound) && issue && !expired:
			tok, err := Renew(tx, site.ID, o, key, now)
			if err != nil {
				return nil, err
			}
			if l, err = Get(tx, site.ID, o); err != nil {
				return nil, err
			}
			e.Link, e.Token = l, tok
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return nil, err
		default:
			e.Link = l
			if tok, err := l.Token(key); err == nil {
				e.Token = tok
			}
		}
		switch {
		case e.Link == nil:
			e.State = "none"
		case !e.Link.Revoked.IsZero():
			e.State, e.Token = "revoked", ""
		case expired:
			e.State = "expired"
		default:
			e.State = "active"
		}
		out = append(out, e)
	}
	return out, nil
}

// BucketSettings holds the office's settings of the view: key "base_url",
// the address residents open ("https://192.168.1.20:8443").
const BucketSettings = "residents.settings"

// BaseURL returns the stored address of the resident view ("" if none).
func BaseURL(tx store.Tx) (string, error) {
	v, err := tx.GetMeta(BucketSettings, "base_url")
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the resident view's address: %w", err)
	}
	return string(v), nil
}

// SetBaseURL stores the address of the resident view: an http or https
// URL without path, query or fragment.
func SetBaseURL(tx store.Tx, base string) error {
	base = strings.TrimSuffix(base, "/")
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") ||
		strings.ContainsAny(strings.SplitN(base, "://", 2)[1], "/?#") || len(base) < 10 {
		return fmt.Errorf("the resident view's address: expected http(s)://HOST[:PORT], got %q", base)
	}
	return tx.PutMeta(BucketSettings, "base_url", []byte(base))
}

// URL returns the link of token under base.
func URL(base, token string) string { return strings.TrimSuffix(base, "/") + "/r/" + token + "/" }

// KeyPath is the key file of the database at db: beside it, not inside,
// so that a copy of the database alone shows no working link. The desktop
// app and the command line use the same file.
func KeyPath(db string) string { return db + ".linkkey" }

// Audit actions of the office's changes to a link.
const (
	ActionRenew  = "residents.renew"
	ActionRevoke = "residents.revoke"
)

// Change renews (renew set) or revokes occupancy o's link of site and
// records the change in the audit log under actor, so that the command line
// and the desktop app log it alike. It returns the new token of a renewal.
// Revoking an occupancy without a link returns store.ErrNotFound.
func Change(tx store.Tx, site string, o core.Occupancy, renew bool, key *Key, actor string, now time.Time) (string, error) {
	action, token := ActionRevoke, ""
	if renew {
		action = ActionRenew
		var err error
		if token, err = Renew(tx, site, o, key, now); err != nil {
			return "", err
		}
	} else if err := Revoke(tx, site, o, now); err != nil {
		return "", err
	}
	detail := fmt.Sprintf("%s, unit %s, from %s", o.Name, o.Unit, o.From)
	if _, err := tx.AppendAudit(store.Entry{Time: now.UTC(), Actor: actor, Site: site, Action: action, Detail: detail}); err != nil {
		return "", fmt.Errorf("logging the change of the link of %s: %w", detail, err)
	}
	return token, nil
}
