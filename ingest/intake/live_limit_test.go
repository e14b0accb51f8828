package intake

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// An event split over many data lines (each under the line limit) must not
// be collected without bound: the stream is dropped instead.
func TestLiveEventSizeBounded(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "event: %s\ndata: {\"time\":\"2026-01-01T00:00:00Z\",\"power_w\":{\n", protocol.LiveEvent)
		line := "data: " + strings.Repeat(" ", 64<<10) + "\n"
		for range 2 * maxLiveEvent / len(line) {
			fmt.Fprint(w, line)
		}
		fmt.Fprint(w, "data: \"M0\":1}}\n\n")
	}))
	defer srv.Close()
	p := Pairing{GatewayID: "gw", Address: strings.TrimPrefix(srv.URL, "https://"), Fingerprint: protocol.Fingerprint(srv.Certificate()), Token: "t"}
	c := NewClient(nil, p, testOptions())
	defer c.Close()
	got, err := c.liveOnce(context.Background(), func(protocol.Live) {})
	if got || err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("liveOnce = %v, %v; want the stream refused as too large", got, err)
	}
}
