package announce

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/bgp"
	"github.com/luvs-lb/luvs/internal/model"
)

// fakeSpeaker records what it is told; it refuses announcements while
// refuse is set.
type fakeSpeaker struct {
	mu      sync.Mutex
	cfg     bgp.Config
	started bool
	stopped bool
	refuse  bool
	routes  map[netip.Prefix]bgp.Attrs
	log     []string
}

func (f *fakeSpeaker) Start(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = true
	return nil
}

func (f *fakeSpeaker) Announce(p netip.Prefix, a bgp.Attrs) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse {
		return errors.New("refused")
	}
	f.routes[p] = a
	f.log = append(f.log, "announce "+p.String())
	return nil
}

func (f *fakeSpeaker) Withdraw(p netip.Prefix) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.routes, p)
	f.log = append(f.log, "withdraw "+p.String())
	return nil
}

func (f *fakeSpeaker) Announced() []netip.Prefix {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []netip.Prefix
	for p := range f.routes {
		out = append(out, p)
	}
	slices.SortFunc(out, netip.Prefix.Compare)
	return out
}

func (f *fakeSpeaker) Peers() []bgp.PeerState { return nil }

func (f *fakeSpeaker) Update(cfg bgp.Config) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cfg = cfg
	return nil
}

func (f *fakeSpeaker) Stop(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = true
	return nil
}

func (f *fakeSpeaker) announced() string {
	var s []string
	for _, p := range f.Announced() {
		s = append(s, p.String())
	}
	return strings.Join(s, " ")
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

var testBGP = &model.BGP{ASN: 65001, RouterID: netip.MustParseAddr("198.18.10.1"), ShutdownDelay: time.Second,
	Peers: []model.BGPPeer{{Address: netip.MustParseAddr("198.18.10.254"), ASN: 65000, BFD: &model.BFD{MinTx: 300 * time.Millisecond, MinRx: 300 * time.Millisecond, Multiplier: 3}}}}

func TestAnnouncer(t *testing.T) {
	var made []*fakeSpeaker
	a := New(slog.New(slog.NewTextHandler(io.Discard, nil)), func(cfg bgp.Config, _ *slog.Logger) (Speaker, error) {
		f := &fakeSpeaker{cfg: cfg, routes: map[netip.Prefix]bgp.Attrs{}}
		made = append(made, f)
		return f, nil
	})
	a.retry = 20 * time.Millisecond
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
	f := made[0]
	if !f.started || f.cfg.ListenPort != -1 || f.cfg.Peers[0].ConnectRetry != 5*time.Second || !f.cfg.Peers[0].BFD.Enabled {
		t.Errorf("speaker config %+v (started %v)", f.cfg, f.started)
	}
	eventually(t, "announced", func() bool { return f.announced() == "198.18.0.10/32" })
	if m := f.routes[vip].MED; m == nil || *m != 5 {
		t.Errorf("attrs %+v", f.routes[vip])
	}
	// A refusing speaker is retried until it takes the route.
	f.mu.Lock()
	f.refuse = true
	f.mu.Unlock()
	a.SetRoutes(map[netip.Prefix]model.Announce{vip: {MED: &med}, other: {}})
	time.Sleep(50 * time.Millisecond)
	if st := a.Status(); st == nil || st.Failing[other.String()] != "refused" {
		t.Errorf("status while refused: %+v", st)
	}
	f.mu.Lock()
	f.refuse = false
	f.mu.Unlock()
	eventually(t, "retried", func() bool { return f.announced() == "198.18.0.10/32 198.18.0.11/32" })
	if st := a.Status(); len(st.Failing) != 0 || st.ASN != 65001 {
		t.Errorf("status after the retry: %+v", st)
	}
	// Same set again: nothing is sent.
	n := len(f.log)
	a.SetRoutes(map[netip.Prefix]model.Announce{vip: {MED: &med}, other: {}})
	time.Sleep(30 * time.Millisecond)
	if len(f.log) != n {
		t.Errorf("an unchanged set sent %q", f.log[n:])
	}
	// A reload with another peer updates the speaker in place.
	next := *testBGP
	next.Peers = append(slices.Clone(next.Peers), model.BGPPeer{Address: netip.MustParseAddr("198.18.10.253"), ASN: 65000})
	if err := a.Configure(ctx, &next); err != nil || len(made) != 1 || len(f.cfg.Peers) != 2 {
		t.Fatalf("update: %v, %d speakers, %d peers", err, len(made), len(f.cfg.Peers))
	}
	// Shutdown withdraws everything and announces nothing after it.
	if !a.Shutdown() || f.announced() != "" {
		t.Fatalf("after Shutdown: %q", f.announced())
	}
	a.SetRoutes(map[netip.Prefix]model.Announce{vip: {}})
	time.Sleep(30 * time.Millisecond)
	if f.announced() != "" {
		t.Errorf("announced after Shutdown: %q", f.announced())
	}
	if a.ShutdownDelay() != time.Second {
		t.Errorf("shutdown delay %s", a.ShutdownDelay())
	}
	// A reload without bgp stops the speaker.
	if err := a.Configure(ctx, nil); err != nil || !f.stopped || a.Status() != nil {
		t.Errorf("configure nil: %v, stopped %v", err, f.stopped)
	}
}
