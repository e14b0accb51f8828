package gateway

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A first start that fails between writing the certificate and the key (a
// power cut, a full disk) must leave a state the next start recovers from,
// not a key without its certificate that fails every start after it.
func TestIdentityFailedFirstStartRecovers(t *testing.T) {
	dir := t.TempDir()
	// A directory where the certificate goes makes its write fail.
	if err := os.MkdirAll(filepath.Join(dir, certFile, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := loadIdentity(dir, time.Now(), true); err == nil {
		t.Fatal("loadIdentity succeeded without a certificate")
	}
	if err := os.RemoveAll(filepath.Join(dir, certFile)); err != nil {
		t.Fatal(err)
	}
	id, err := loadIdentity(dir, time.Now(), true)
	if err != nil {
		t.Fatalf("the start after a failed first start: %v", err)
	}
	again, err := loadIdentity(dir, time.Now(), true)
	if err != nil || again.fp != id.fp || again.state.ID != id.state.ID {
		t.Fatalf("a restart changed the identity: %v", err)
	}
}

// ReadInfo (`zevdesk gateway status`) creates nothing: a data directory
// missing its key is reported, not given a new certificate behind the
// gateway's back.
func TestReadInfoCreatesNoKey(t *testing.T) {
	dir := t.TempDir()
	if _, err := loadIdentity(dir, time.Now(), true); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{keyFile, certFile} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ReadInfo(dir, time.Now()); err == nil {
		t.Error("ReadInfo reported no error for a directory without a key")
	}
	for _, f := range []string{keyFile, certFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("ReadInfo created %s", f)
		}
	}
}
