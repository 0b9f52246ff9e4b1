package daemon

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/announce/announcetest"
	"github.com/luvs-lb/luvs/internal/failover"
	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/vrrp"
)

const bgpConfig = `bgp { asn = 65001, router_id = "198.18.10.1", shutdown_delay = "400ms",
  peers = { { address = "198.18.10.254", asn = 65000 } } }
`

// TestBGPAnnouncements: the daemon announces a service's address while it
// serves, withdraws it when its servers fail, shows both in the status, and
// on a clean stop withdraws first and keeps the table for the shutdown
// delay before it stops the speaker.
func TestBGPAnnouncements(t *testing.T) {
	l := newLab(t)
	l.write(bgpConfig + strings.Replace(config("198.18.0.1:80"), `virtual_server "198.18.0.1:80" {`, `virtual_server "198.18.0.1:80" { announce = true,`, 1))
	sp := &announcetest.Speaker{}
	o := l.options()
	o.NewSpeaker = sp.New()
	d, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, "announced", func() bool { return sp.Events() == "start; announce 198.18.0.1/32" })
	st := statusOf(t, d)
	if st.BGP == nil || st.BGP.ASN != 65001 || len(st.BGP.Peers) != 1 || st.BGP.Peers[0].State != "established" ||
		len(st.BGP.Announcements) != 1 || !st.BGP.Announcements[0].Announced {
		t.Fatalf("status bgp %+v", st.BGP)
	}
	if text := st.Text(); !strings.Contains(text, "198.18.0.1/32  yes") {
		t.Errorf("luvs status text lacks the announcement:\n%s", text)
	}
	rec := httptest.NewRecorder()
	d.metrics.Handler(nil).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{`luvs_bgp_peer_established{peer="198.18.10.254",peer_asn="65000"} 1`, `luvs_bgp_prefix_announced{prefix="198.18.0.1/32"} 1`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	l.probes.set("198.18.1.1", true)
	l.probes.set("198.18.1.2", true)
	waitFor(t, "withdrawn", func() bool { return strings.HasSuffix(sp.Events(), "withdraw 198.18.0.1/32") })
	if a := statusOf(t, d).BGP.Announcements[0]; a.Announced || a.Reason != "TCP 198.18.0.1:80: no live real server" {
		t.Errorf("status of the withdrawn prefix %+v", a)
	}
	l.probes.set("198.18.1.1", false)
	waitFor(t, "announced again", func() bool { return strings.HasSuffix(sp.Events(), "announce 198.18.0.1/32") })

	// A reload with another peer updates the speaker; one without announce
	// withdraws; one with a bad bgp changes nothing.
	l.write(strings.Replace(bgpConfig, `asn = 65000 } }`, `asn = 65000 }, { address = "198.18.10.253", asn = 65000 } }`, 1) + config("198.18.0.1:80"))
	if err := d.Reload(context.Background(), "test"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "updated and withdrawn", func() bool { return strings.HasSuffix(sp.Events(), "update; withdraw 198.18.0.1/32") })
	if n := len(sp.Config().Peers); n != 2 {
		t.Errorf("%d peers after the reload, want 2", n)
	}
	l.write(strings.Replace(bgpConfig, `router_id = "198.18.10.1"`, `router_id = "2001:db8::1"`, 1) + config("198.18.0.1:80"))
	if err := d.Reload(context.Background(), "test"); err == nil || !strings.Contains(err.Error(), "router_id must be an IPv4 address") {
		t.Errorf("a reload with a bad router_id: %v", err)
	}
	l.write(bgpConfig + strings.Replace(config("198.18.0.1:80"), `virtual_server "198.18.0.1:80" {`, `virtual_server "198.18.0.1:80" { announce = true,`, 1))
	if err := d.Reload(context.Background(), "test"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "announced after the reload", func() bool { return strings.HasSuffix(sp.Events(), "announce 198.18.0.1/32") })

	// A clean stop: withdraw, serve for the shutdown delay, then stop.
	stopAt := time.Now()
	cancel()
	waitFor(t, "withdrawn by the stop", func() bool { return strings.HasSuffix(sp.Events(), "withdraw 198.18.0.1/32") })
	if l.kernel.Weight(svc("198.18.0.1:80"), dest("198.18.1.1:80")) != 3 {
		t.Error("the table went before the shutdown delay")
	}
	<-done
	if took := time.Since(stopAt); took < 400*time.Millisecond {
		t.Errorf("stopped %s after the signal, before the shutdown delay", took)
	}
	if !strings.HasSuffix(sp.Events(), "withdraw 198.18.0.1/32; stop") {
		t.Errorf("speaker calls %s", sp.Events())
	}
}

// fixedRouter is a VRRP virtual router that is master from the start.
type fixedRouter struct{}

func (fixedRouter) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (fixedRouter) SetPriority(uint8) error       { return nil }
func (fixedRouter) Status() vrrp.Status {
	return vrrp.Status{State: vrrp.Master, Priority: 150, Master: netip.MustParseAddr("198.18.100.11")}
}

// TestVRRPStatus: the daemon runs the vrrp declarations and shows them in
// the status (JSON and text) and the metrics.
func TestVRRPStatus(t *testing.T) {
	l := newLab(t)
	l.write(config("198.18.0.1:80") + `vrrp "VI_1" { interface = "eth0", virtual_router_id = 51, priority = 150, virtual_addresses = { "198.18.0.1" } }` + "\n")
	o := l.options()
	o.OpenVRRP = func(model.VRRP, func(vrrp.Transition), *slog.Logger) (failover.Router, func(), error) {
		return fixedRouter{}, func() {}, nil
	}
	d, _ := l.start(o)
	waitFor(t, "the virtual router in the status", func() bool { return len(statusOf(t, d).VRRP) == 1 })
	v := statusOf(t, d).VRRP[0]
	if v.Name != "VI_1" || v.State != "master" || v.Priority != 150 || v.VRID != 51 || v.Master != "198.18.100.11" {
		t.Errorf("status %+v", v)
	}
	if text := statusOf(t, d).Text(); !strings.Contains(text, "VI_1  eth0       51    master") {
		t.Errorf("text status:\n%s", text)
	}
	rec := httptest.NewRecorder()
	d.metrics.Handler(nil).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(rec.Body.String(), `luvs_vrrp_master{interface="eth0",vrid="51",vrrp="VI_1"} 1`) {
		t.Errorf("metrics lack the virtual router:\n%s", rec.Body.String())
	}
}
