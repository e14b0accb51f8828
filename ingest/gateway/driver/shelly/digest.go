package shelly

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// Shelly Gen2+ devices protect their HTTP API with Digest authentication
// (RFC 7616, SHA-256, user "admin", realm = the device id) once a password
// is set. Over plain HTTP each request is challenged anew (firmware before
// 2.0 accepts a nonce only once), so the driver answers each 401 with one
// retry. No Go library in our dependencies does Digest, so this is a small
// client side: parsing the challenge and computing the response.

// digestUser is the only user a Shelly Gen2+ device knows.
const digestUser = "admin"

// challenge is a parsed WWW-Authenticate header.
type challenge struct {
	scheme string            // "digest", "basic", ... (lowercase)
	params map[string]string // keys lowercase
}

// pickChallenge returns the best of a response's WWW-Authenticate
// challenges: Digest with SHA-256, else Digest, else whatever came first
// (for the error message); a zero challenge when there is none.
func pickChallenge(headers []string) challenge {
	rank := func(c challenge) int {
		switch {
		case c.scheme == "digest" && strings.EqualFold(c.params["algorithm"], "SHA-256"):
			return 2
		case c.scheme == "digest":
			return 1
		}
		return 0
	}
	best := challenge{params: map[string]string{}}
	for i, h := range headers {
		if c := parseChallenge(h); i == 0 || rank(c) > rank(best) {
			best = c
		}
	}
	return best
}

// parseChallenge splits a WWW-Authenticate value into its scheme and its
// key=token or key="quoted string" parameters.
func parseChallenge(h string) challenge {
	scheme, s, _ := strings.Cut(strings.TrimSpace(h), " ")
	c := challenge{scheme: strings.ToLower(scheme), params: map[string]string{}}
	for {
		s = strings.TrimLeft(s, " \t,")
		key, rest, ok := strings.Cut(s, "=")
		if !ok {
			return c
		}
		s = strings.TrimLeft(rest, " \t")
		var val strings.Builder
		if strings.HasPrefix(s, `"`) {
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				val.WriteByte(s[i])
			}
			s = s[min(i+1, len(s)):]
		} else {
			end := strings.IndexAny(s, ", \t")
			if end < 0 {
				end = len(s)
			}
			val.WriteString(s[:end])
			s = s[end:]
		}
		c.params[strings.ToLower(strings.TrimSpace(key))] = val.String()
	}
}

// authorization answers a Digest challenge for a request of method to uri
// (the request target, path and query) with qop=auth, or in RFC 2069's form
// when the challenge offers no qop.
func (c challenge) authorization(password, method, uri string) (string, error) {
	var newHash func() hash.Hash
	switch alg := c.params["algorithm"]; strings.ToUpper(alg) {
	case "SHA-256":
		newHash = sha256.New
	case "", "MD5": // RFC 7616: no algorithm means MD5
		newHash = md5.New
	default:
		return "", fmt.Errorf("the device asks for digest algorithm %q (supported: SHA-256, MD5)", alg)
	}
	h := func(parts ...string) string {
		x := newHash()
		x.Write([]byte(strings.Join(parts, ":")))
		return hex.EncodeToString(x.Sum(nil))
	}
	realm, nonce := c.params["realm"], c.params["nonce"]
	if nonce == "" {
		return "", errors.New("the device's digest challenge has no nonce")
	}
	ha1, ha2 := h(digestUser, realm, password), h(method, uri)
	var b strings.Builder
	fmt.Fprintf(&b, "Digest username=%s, realm=%s, nonce=%s, uri=%s", quote(digestUser), quote(realm), quote(nonce), quote(uri))
	if alg := c.params["algorithm"]; alg != "" {
		fmt.Fprintf(&b, ", algorithm=%s", alg)
	}
	switch qops := c.params["qop"]; {
	case qops == "":
		fmt.Fprintf(&b, ", response=%s", quote(h(ha1, nonce, ha2)))
	case hasToken(qops, "auth"):
		cnonce := rand.Text()
		// Every request gets a fresh challenge, so the nonce count is 1.
		const nc = "00000001"
		fmt.Fprintf(&b, ", response=%s, qop=auth, nc=%s, cnonce=%s", quote(h(ha1, nonce, nc, cnonce, "auth", ha2)), nc, quote(cnonce))
	default:
		return "", fmt.Errorf("the device asks for digest qop %q (supported: auth)", qops)
	}
	if opaque, ok := c.params["opaque"]; ok {
		fmt.Fprintf(&b, ", opaque=%s", quote(opaque))
	}
	return b.String(), nil
}

// hasToken reports whether the comma-separated list has tok.
func hasToken(list, tok string) bool {
	for t := range strings.SplitSeq(list, ",") {
		if strings.EqualFold(strings.TrimSpace(t), tok) {
			return true
		}
	}
	return false
}

// quote makes s a quoted string of an HTTP header.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
