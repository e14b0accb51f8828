package shelly

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/shareddata"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver"
)

// fakeShelly answers the RPC calls with the components of a real Pro 3EM's
// status dump.
func fakeShelly(t *testing.T) *httptest.Server {
	t.Helper()
	data, err := os.ReadFile(shareddata.Path(t, "devices/shelly/gen2_Shelly_Pro_3EM_SPEM-003CEBEU_20231219-134001-1.1.0-g34b5d4f.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dump struct {
		Status map[string]json.RawMessage `json:"status"`
	}
	if err := json.Unmarshal(data, &dump); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("id") != "0" {
			http.Error(w, `{"code":-105,"message":"Argument 'id', value 1 not found!"}`, http.StatusNotFound)
			return
		}
		var part json.RawMessage
		switch r.URL.Path {
		case "/rpc/EMData.GetStatus":
			part = dump.Status["emdata:0"]
		case "/rpc/EM.GetStatus":
			part = dump.Status["em:0"]
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(part)
	}))
	t.Cleanup(srv.Close)
	return srv
}

var at = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestPro3EM(t *testing.T) {
	srv := fakeShelly(t)
	d, err := driver.New(context.Background(), Name, driver.Config{ID: "WP", Params: map[string]string{"addr": strings.TrimPrefix(srv.URL, "http://")}, Clock: core.FixedClock(at)})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := d.Registers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The dump says total_act 2589773.39 Wh and total_act_ret 1026.61 Wh.
	if len(rs) != 1 || rs[0].Meter != "WP" || rs[0].Import != 2_589_773_390 || rs[0].Export != 1_026_610 || !rs[0].Time.Equal(at) {
		t.Errorf("readings %+v", rs)
	}
	ps, err := d.(driver.PowerMeter).Power(context.Background())
	if err != nil || len(ps) != 1 || ps[0].W != 558.965 {
		t.Errorf("power %+v %v", ps, err)
	}

	// Another component id is an error, not a zero reading.
	d1, err := driver.New(context.Background(), Name, driver.Config{ID: "X", Params: map[string]string{"addr": strings.TrimPrefix(srv.URL, "http://"), "em": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d1.Registers(context.Background()); err == nil || !strings.Contains(err.Error(), "HTTP 404") {
		t.Errorf("absent component: %v", err)
	}
}

func TestUnreachableAndBadAnswers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/rpc/EMData.GetStatus":
			w.Write([]byte(`{"id":0,"total_act":-5,"total_act_ret":0}`))
		case "/rpc/EM.GetStatus":
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	d, err := New(driver.Config{ID: "X", Params: map[string]string{"addr": strings.TrimPrefix(srv.URL, "http://")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Registers(context.Background()); err == nil || !strings.Contains(err.Error(), "implausible") {
		t.Errorf("negative register: %v", err)
	}
	if _, err := d.Power(context.Background()); err == nil || !strings.Contains(err.Error(), "password") {
		t.Errorf("auth: %v", err)
	}
	srv.Close()
	if _, err := d.Registers(context.Background()); err == nil {
		t.Error("reading a stopped device succeeded")
	}
	for _, p := range []map[string]string{{}, {"addr": "h/x"}, {"addr": "h", "em": "-1"}, {"addr": "h", "x": "1"}} {
		if _, err := New(driver.Config{ID: "x", Params: p}); err == nil {
			t.Errorf("%v accepted", p)
		}
	}
}
