package metrics

import (
	"errors"
	"io"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/engine"
	"github.com/luvs-lb/luvs/internal/ipvs"
	"github.com/luvs-lb/luvs/internal/model"
)

type fakeSource struct{ view []engine.ServiceView }

func (f fakeSource) View() []engine.ServiceView { return f.view }
func (f fakeSource) Stats() engine.Stats        { return engine.Stats{Reconciles: 4, OpsApplied: 9} }

type fakeKernel struct {
	table []ipvs.Service
	err   error
}

func (f fakeKernel) Table() ([]ipvs.Service, error) { return f.table, f.err }

var (
	svcKey  = model.ServiceKey{Family: model.IPv4, Protocol: model.TCP, Addr: netip.MustParseAddr("198.18.0.10"), Port: 80}
	markKey = model.ServiceKey{Family: model.IPv6, FWMark: 7}
	dest1   = model.DestKey{Addr: netip.MustParseAddr("198.18.1.1"), Port: 8080}
	dest6   = model.DestKey{Addr: netip.MustParseAddr("2001:db8::5"), Port: 80}
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler(nil).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Result().Body)
	return string(b)
}

func TestMetrics(t *testing.T) {
	src := fakeSource{view: []engine.ServiceView{
		{Key: svcKey, Name: "web", Servers: []engine.ServerView{
			{Key: dest1, Name: "web1", Configured: 3, Kernel: 3, State: engine.StateUp, Health: engine.Health{Up: true}},
		}},
		{Key: markKey, QuorumLost: true, Servers: []engine.ServerView{
			{Key: dest6, Configured: 2, Kernel: 0, State: engine.StateDown, Health: engine.Health{Reason: "tcp check: connection refused"}},
		}},
	}}
	var d1, d6 ipvs.Dest
	d1.DestKey, d1.Weight, d1.ActiveConns, d1.InactConns = dest1, 3, 5, 2
	d1.Stats = ipvs.Stats{Conns: 100, InPkts: 1000, OutPkts: 900, InBytes: 64000, OutBytes: 128000, CPS: 7, InPPS: 70, OutPPS: 60, InBPS: 4096, OutBPS: 8192}
	d6.DestKey = dest6
	var s1, s6 ipvs.Service
	s1.ServiceKey, s1.Stats, s1.Dests = svcKey, ipvs.Stats{Conns: 100, CPS: 7, InBPS: 4096}, []ipvs.Dest{d1}
	s6.ServiceKey, s6.Dests = markKey, []ipvs.Dest{d6}
	var reloads Reloads
	reloads.Loaded(time.Unix(1700000000, 0))
	m := New(src, fakeKernel{table: []ipvs.Service{s1, s6}}, &reloads, Build{Version: "v1.2.3", Revision: "abc123"})
	m.ObserveProbe(model.CheckHTTP, 3*time.Millisecond, engine.ProbeResult{OK: true})
	m.ObserveProbe(model.CheckHTTP, 2*time.Second, engine.ProbeResult{Msg: "timed out after 2s"})
	m.ObserveProbe(model.CheckTCP, time.Millisecond, engine.ProbeResult{Msg: "dial: connection refused"})

	out := scrape(t, m)
	web1 := `local_address="198.18.0.10",local_mark="",local_port="80",name="web1",proto="TCP",remote_address="198.18.1.1",remote_port="8080",service_name="web"`
	fwm := `local_address="",local_mark="7",local_port="0",name="",proto="FWM",remote_address="2001:db8::5",remote_port="80",service_name=""`
	for _, want := range []string{
		`luvs_real_server_up{` + web1 + `} 1`,
		`luvs_real_server_up{` + fwm + `} 0`,
		`luvs_real_server_state{` + web1 + `,state="up"} 1`,
		`luvs_real_server_state{` + fwm + `,state="down"} 1`,
		`luvs_real_server_weight{` + web1 + `} 3`,
		`luvs_real_server_configured_weight{` + fwm + `} 2`,
		`luvs_real_server_active_connections{` + web1 + `} 5`,
		`luvs_real_server_inactive_connections{` + web1 + `} 2`,
		`luvs_real_server_connections_total{` + web1 + `} 100`,
		`luvs_real_server_in_packets_total{` + web1 + `} 1000`,
		`luvs_real_server_out_bytes_total{` + web1 + `} 128000`,
		`luvs_real_server_connections_per_second{` + web1 + `} 7`,
		`luvs_real_server_in_packets_per_second{` + web1 + `} 70`,
		`luvs_real_server_in_bytes_per_second{` + web1 + `} 4096`,
		`luvs_real_server_out_bytes_per_second{` + web1 + `} 8192`,
		`luvs_service_connections_per_second{local_address="198.18.0.10",local_mark="",local_port="80",proto="TCP",service_name="web"} 7`,
		`luvs_service_quorum_up{local_address="",local_mark="7",local_port="0",proto="FWM",service_name=""} 0`,
		`luvs_check_duration_seconds_bucket{kind="http",le="0.005"} 1`,
		`luvs_check_duration_seconds_bucket{kind="http",le="2.5"} 2`,
		`luvs_check_duration_seconds_count{kind="tcp"} 1`,
		`luvs_check_failures_total{kind="http",reason="timeout"} 1`,
		`luvs_check_failures_total{kind="tcp",reason="refused"} 1`,
		`luvs_build_info{goversion="go`, `revision="abc123",version="v1.2.3"} 1`,
		`luvs_config_last_reload_success_timestamp_seconds 1.7e+09`,
		`luvs_config_last_reload_successful 1`,
		`luvs_changes_applied_total 9`,
		`luvs_kernel_read_errors 0`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if t.Failed() {
		t.Log(out)
	}

	reloads.Done(time.Unix(1800000000, 0), errors.New("bad"))
	out = scrape(t, m)
	for _, want := range []string{`luvs_config_last_reload_successful 0`, `luvs_config_reloads_total{result="rejected"} 1`,
		`luvs_config_last_reload_success_timestamp_seconds 1.7e+09`} {
		if !strings.Contains(out, want) {
			t.Errorf("after a rejected reload, metrics lack %s", want)
		}
	}
	reloads.Done(time.Unix(1800000000, 0), nil)
	if out = scrape(t, m); !strings.Contains(out, `luvs_config_last_reload_success_timestamp_seconds 1.8e+09`) ||
		!strings.Contains(out, `luvs_config_last_reload_successful 1`) {
		t.Errorf("after an applied reload:\n%s", out)
	}
}

func TestKernelUnreadable(t *testing.T) {
	m := New(fakeSource{}, fakeKernel{err: errors.New("netlink: gone")}, &Reloads{}, Build{})
	if out := scrape(t, m); !strings.Contains(out, "luvs_kernel_read_errors 1") {
		t.Errorf("no read error:\n%s", out)
	}
}

func TestFailureReason(t *testing.T) {
	for msg, want := range map[string]string{
		"dial: connect: connection refused":            "refused",
		"timed out after 1s":                           "timeout",
		"no echo reply after 1s":                       "timeout",
		"read: connection reset by peer":               "reset",
		"connect: no route to host":                    "unreachable",
		"HTTP 503 Service Unavailable":                 "http_status",
		"body digest abc, want def":                    "digest",
		`body does not match "ok"`:                     "content",
		"rcode SERVFAIL, want NOERROR":                 "dns_rcode",
		"tls: failed to verify certificate: x509: ...": "tls",
		"exit status 1":                                "exit_status",
		"something odd":                                "other",
	} {
		if got := FailureReason(msg); got != want {
			t.Errorf("FailureReason(%q) = %q, want %q", msg, got, want)
		}
	}
}
