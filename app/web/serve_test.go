package web_test

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/app/web"
	"github.com/zevdesk/zevdesk/core/store/mem"
)

// TestServeTLS: the workstation's own certificate is made once, kept, and
// serves the view over HTTPS to a client that trusts it; Close stops the
// server.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	crt, key := filepath.Join(dir, "web.crt"), filepath.Join(dir, "web.key")
	cert, fp, err := web.WorkstationCert(crt, key, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v %v", fi, err)
	}
	_, fp2, err := web.WorkstationCert(crt, key, time.Now())
	if err != nil || fp2 != fp || len(fp) != 95 {
		t.Errorf("the certificate changed on loading: %s, %s (%v)", fp, fp2, err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)

	srv := web.New(mem.New(), web.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(ln, cert) }()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get("https://" + ln.Addr().String() + "/static/style.css")
	if err != nil {
		t.Fatalf("over TLS with the workstation's certificate: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("status %d, headers %v", resp.StatusCode, resp.Header)
	}
	client.CloseIdleConnections()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve after Close: %v", err)
	}
	// A server closed before it serves does not start.
	srv2 := web.New(mem.New(), web.Options{})
	srv2.Close()
	ln2, _ := net.Listen("tcp", "127.0.0.1:0")
	if err := srv2.Serve(ln2); err != nil {
		t.Errorf("Serve of a closed server: %v", err)
	}
}
