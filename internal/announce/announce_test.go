package announce_test

import (
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/announce"
	"github.com/luvs-lb/luvs/internal/announce/announcetest"
	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/poll"
)

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	poll.Until(t, what, 3*time.Second, cond)
}

func announced(sp *announcetest.Speaker) string {
	var s []string
	for _, p := range sp.Announced() {
		s = append(s, p.String())
	}
	return strings.Join(s, " ")
}

var testBGP = &model.BGP{ASN: 65001, RouterID: netip.MustParseAddr("198.18.10.1"), ShutdownDelay: time.Second,
	Peers: []model.BGPPeer{{Address: netip.MustParseAddr("198.18.10.254"), ASN: 65000, BFD: &model.BFD{MinTx: 300 * time.Millisecond, MinRx: 300 * time.Millisecond, Multiplier: 3}}}}

func TestAnnouncer(t *testing.T) {
	sp := &announcetest.Speaker{}
	a := announce.New(slog.New(slog.NewTextHandler(io.Discard, nil)), sp.New())
	announce.SetRetry(a, 20*time.Millisecond)
	ctx := t.Context()
	go a.Run(ctx)
	vip := netip.MustParsePrefix("198.18.0.10/32")
	other := netip.MustParsePrefix("198.18.0.11/32")
	med := uint32(5)
	// Routes before there is a speaker are kept for it.
	a.SetRoutes(map[netip.Prefix]model.Announce{vip: {MED: &med}})
	if err := a.Configure(ctx, testBGP); err != nil {
		t.Fatal(err)
	}
	cfg := sp.Config()
	if !strings.HasPrefix(sp.Events(), "start") || cfg.ListenPort != -1 || cfg.Peers[0].ConnectRetry != 5*time.Second || !cfg.Peers[0].BFD.Enabled {
		t.Errorf("speaker config %+v (calls %s)", cfg, sp.Events())
	}
	eventually(t, "announced", func() bool { return announced(sp) == "198.18.0.10/32" })
	if m := sp.Attrs(vip).MED; m == nil || *m != 5 {
		t.Errorf("attrs %+v", sp.Attrs(vip))
	}
	// A refusing speaker is retried until it takes the route.
	sp.Refuse(true)
	a.SetRoutes(map[netip.Prefix]model.Announce{vip: {MED: &med}, other: {}})
	time.Sleep(50 * time.Millisecond)
	if st := a.Status(); st == nil || st.Failing[other.String()] != "refused" {
		t.Errorf("status while refused: %+v", st)
	}
	sp.Refuse(false)
	eventually(t, "retried", func() bool { return announced(sp) == "198.18.0.10/32 198.18.0.11/32" })
	if st := a.Status(); len(st.Failing) != 0 || st.ASN != 65001 {
		t.Errorf("status after the retry: %+v", st)
	}
	// Same set again: nothing is sent.
	n := sp.Count()
	a.SetRoutes(map[netip.Prefix]model.Announce{vip: {MED: &med}, other: {}})
	time.Sleep(30 * time.Millisecond)
	if sp.Count() != n {
		t.Errorf("an unchanged set sent more: %s", sp.Events())
	}
	// A reload with another peer updates the speaker in place.
	next := *testBGP
	next.Peers = append(slices.Clone(next.Peers), model.BGPPeer{Address: netip.MustParseAddr("198.18.10.253"), ASN: 65000})
	if err := a.Configure(ctx, &next); err != nil || strings.Count(sp.Events(), "start") != 1 || len(sp.Config().Peers) != 2 {
		t.Fatalf("update: %v, calls %s", err, sp.Events())
	}
	// Shutdown withdraws everything and announces nothing after it.
	if !a.Shutdown() || announced(sp) != "" {
		t.Fatalf("after Shutdown: %q", announced(sp))
	}
	a.SetRoutes(map[netip.Prefix]model.Announce{vip: {}})
	time.Sleep(30 * time.Millisecond)
	if announced(sp) != "" {
		t.Errorf("announced after Shutdown: %q", announced(sp))
	}
	if a.ShutdownDelay() != time.Second {
		t.Errorf("shutdown delay %s", a.ShutdownDelay())
	}
	// A reload without bgp stops the speaker.
	if err := a.Configure(ctx, nil); err != nil || !sp.Stopped() || a.Status() != nil {
		t.Errorf("configure nil: %v, stopped %v", err, sp.Stopped())
	}
}
