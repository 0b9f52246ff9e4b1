package bgp

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/osrg/gobgp/v4/pkg/packet/bfd"
)

// Each test's routers listen on a port of their own.
const (
	portSession = 1790 + iota
	portUnreachable
	portUpdate
	portUpdate6
	portBFD
)

const (
	luvsASN   = 65001
	routerASN = 65000
)

var (
	v4 = netip.MustParsePrefix("198.18.0.10/32")
	v6 = netip.MustParsePrefix("2001:db8::10/128")
)

// eventually polls cond until it returns "" or timeout passes, then fails
// with cond's last complaint.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		why := cond()
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %s", what, timeout, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// peerState returns s's state of the peer at addr.
func peerState(s *Speaker, addr netip.Addr) PeerState {
	for _, p := range s.Peers() {
		if p.Address == addr {
			return p
		}
	}
	return PeerState{State: "not configured"}
}

// established is a condition: the session of s with addr is established.
func established(s *Speaker, addr netip.Addr) func() string {
	return func() string {
		if p := peerState(s, addr); !p.Established() {
			return fmt.Sprintf("session with %s is %s", addr, p.State)
		}
		return ""
	}
}

// hasRoutes is a condition: r received from peer exactly want.
func hasRoutes(r *router, peer netip.Addr, want map[netip.Prefix]route) func() string {
	return func() string {
		got, err := r.received(peer)
		if err != nil {
			return err.Error()
		}
		if len(got) != len(want) {
			return fmt.Sprintf("received %v, want %v", got, want)
		}
		for p, w := range want {
			g, ok := got[p]
			if !ok || g.String() != w.String() {
				return fmt.Sprintf("received %v, want %v", got, want)
			}
		}
		return ""
	}
}

// logBuffer collects a speaker's log.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logger returns a logger at debug level writing to b.
func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// luvsPeer is the router at routerAddr:port, as the speaker under test
// sees it.
func luvsPeer(port uint16) Peer {
	return Peer{
		Address:      netip.MustParseAddr(routerAddr),
		ASN:          routerASN,
		Port:         port,
		LocalAddress: netip.MustParseAddr(luvsAddr),
		ConnectRetry: 2 * time.Second,
	}
}

// routerPeer is the speaker under test, as a router sees it.
func routerPeer() Peer {
	return Peer{Address: netip.MustParseAddr(luvsAddr), ASN: luvsASN}
}

// newLuvs returns the speaker under test, not started, stopped at the end.
func newLuvs(t *testing.T, log *slog.Logger, peers ...Peer) *Speaker {
	t.Helper()
	s, err := New(Config{ASN: luvsASN, RouterID: netip.MustParseAddr(luvsAddr), ListenPort: -1, Peers: peers, GoBGPLog: slog.LevelDebug}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(context.Background()); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return s
}

func ptr[T any](v T) *T { return &v }

// The speaker under test and a router: announcements with their
// attributes reach the router, are replaced, withdrawn, and withdrawn all
// by Stop; the states of the sessions are reported.
func TestSession(t *testing.T) {
	needNet(t)
	const password = "s3cret-md5-key"
	luvsIP, routerIP := netip.MustParseAddr(luvsAddr), netip.MustParseAddr(routerAddr)
	rp := routerPeer()
	rp.Password = password
	router := startRouter(t, portSession, routerAddr, rp)

	var logs logBuffer
	lp := luvsPeer(portSession)
	lp.Password = password
	lp.HoldTime = 9 * time.Second
	s := newLuvs(t, logs.logger(), lp)

	// Announced before Start, sent once the session is up.
	if err := s.Announce(v4, Attrs{Communities: []string{"65001:100", "no-export"}, MED: ptr(uint32(50))}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err == nil {
		t.Errorf("second Start accepted")
	}
	if err := s.Announce(v6, Attrs{NextHop: netip.MustParseAddr(luvsAddr6), Communities: []string{"65001:200"}, MED: ptr(uint32(60)), LocalPref: ptr(uint32(200))}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 8*time.Second, "luvs established", established(s, routerIP))
	t.Logf("established after %v", time.Since(start).Round(time.Millisecond))
	eventually(t, 2*time.Second, "router established", func() string {
		if p := router.peer(luvsIP); !p.Established() {
			return p.State
		}
		return ""
	})

	want := map[netip.Prefix]route{
		// next hop self: the session's local address; LOCAL_PREF is not
		// sent over eBGP; the AS path is ours.
		v4: {NextHop: luvsIP, Communities: []uint32{65001<<16 | 100, 0xffffff01}, MED: 50, LocalPref: -1, ASPath: []uint32{luvsASN}},
		v6: {NextHop: netip.MustParseAddr(luvsAddr6), Communities: []uint32{65001<<16 | 200}, MED: 60, LocalPref: -1, ASPath: []uint32{luvsASN}},
	}
	eventually(t, 3*time.Second, "router receives both prefixes", hasRoutes(router, luvsIP, want))

	p := peerState(s, routerIP)
	if p.ASN != routerASN || p.Since.Before(start) || p.Since.After(time.Now()) || p.Advertised != 2 || p.Received != 0 || p.BFD != "" {
		t.Errorf("luvs' peer state: %+v", p)
	}
	if p := router.peer(luvsIP); p.Received != 2 || p.Advertised != 0 {
		t.Errorf("router's peer state: %+v (it rejects what it receives, so advertises nothing)", p)
	}

	// Announcing the same again does nothing; with a new MED replaces.
	if err := s.Announce(v4, Attrs{Communities: []string{"65001:100", "no-export"}, MED: ptr(uint32(50))}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), `msg="BGP announce" prefix=198.18.0.10/32`); n != 1 {
		t.Errorf("announced %d times, want once:\n%s", n, logs.String())
	}
	if err := s.Announce(v4, Attrs{MED: ptr(uint32(70))}); err != nil {
		t.Fatal(err)
	}
	want[v4] = route{NextHop: luvsIP, MED: 70, LocalPref: -1, ASPath: []uint32{luvsASN}}
	eventually(t, 3*time.Second, "router receives the new MED", hasRoutes(router, luvsIP, want))

	// Withdraw, twice.
	for range 2 {
		if err := s.Withdraw(v4); err != nil {
			t.Fatal(err)
		}
	}
	delete(want, v4)
	eventually(t, 3*time.Second, "router loses the withdrawn prefix", hasRoutes(router, luvsIP, want))
	if got := join(s.Announced()); got != v6.String() {
		t.Errorf("Announced() = %s, want %s", got, v6)
	}

	// Stop withdraws everything and closes the session.
	if err := s.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 3*time.Second, "router loses all prefixes", hasRoutes(router, luvsIP, nil))
	eventually(t, 3*time.Second, "router's session down", func() string {
		if p := router.peer(luvsIP); p.Established() {
			return "still established"
		}
		return ""
	})
	if got := s.Announced(); len(got) != 0 {
		t.Errorf("after Stop, Announced() = %v", got)
	}
	if p := peerState(s, routerIP); p.State != "idle" {
		t.Errorf("after Stop, peer %+v", p)
	}
	if err := s.Withdraw(v6); err != nil {
		t.Errorf("Withdraw after Stop: %v", err)
	}
	if err := s.Stop(t.Context()); err != nil {
		t.Errorf("second Stop: %v", err)
	}

	out := logs.String()
	defer func() {
		if t.Failed() {
			t.Logf("log:\n%s", out)
		}
	}()
	for _, w := range []string{
		`msg="BGP peer state changed" peer=198.18.0.2 asn=65000 from=`,
		`to=established`,
		`msg="BGP announce with new attributes" prefix=198.18.0.10/32 next_hop=self med=70`,
		`msg="BGP withdraw" prefix=198.18.0.10/32`,
		`msg="BGP speaker stopped" withdrawn=1`,
		`msg="gobgp: `, // GoBGP's own log, here at debug level
	} {
		if !strings.Contains(out, w) {
			t.Errorf("log lacks %q", w)
		}
	}
	if strings.Contains(out, password) {
		t.Errorf("the password is in the log")
	}
}

// Peers that cannot be reached stay down without delaying anything.
func TestUnreachablePeers(t *testing.T) {
	needNet(t)
	luvsIP, routerIP := netip.MustParseAddr(luvsAddr), netip.MustParseAddr(routerAddr)
	router := startRouter(t, portUnreachable, routerAddr, routerPeer())
	blackhole, unrouted := netip.MustParseAddr(blackholeAddr), netip.MustParseAddr(unroutedAddr)
	s := newLuvs(t, nil,
		Peer{Address: blackhole, ASN: routerASN, ConnectRetry: 2 * time.Second},
		luvsPeer(portUnreachable),
		Peer{Address: unrouted, ASN: routerASN, ConnectRetry: 2 * time.Second, MultihopTTL: 2},
	)
	quick := func(what string, f func()) {
		t.Helper()
		start := time.Now()
		f()
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("%s took %v", what, d)
		}
	}
	quick("Start", func() {
		if err := s.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
	quick("Announce", func() {
		if err := s.Announce(v4, Attrs{}); err != nil {
			t.Fatal(err)
		}
		if err := s.Announce(v6, Attrs{}); err != nil {
			t.Fatal(err)
		}
	})
	eventually(t, 8*time.Second, "established with the reachable router", established(s, routerIP))
	eventually(t, 3*time.Second, "router receives the prefixes", hasRoutes(router, luvsIP, map[netip.Prefix]route{
		v4: {NextHop: luvsIP, MED: -1, LocalPref: -1, ASPath: []uint32{luvsASN}},
		// "Self" over an IPv4 session: the IPv4-mapped address.
		v6: {NextHop: netip.MustParseAddr("::ffff:" + luvsAddr), MED: -1, LocalPref: -1, ASPath: []uint32{luvsASN}},
	}))
	var ps []PeerState
	quick("Peers", func() { ps = s.Peers() })
	if len(ps) != 3 || ps[0].Address != routerIP || ps[1].Address != unrouted || ps[2].Address != blackhole {
		t.Fatalf("Peers() = %+v, want sorted by address", ps)
	}
	for _, p := range ps[1:] {
		if p.Established() || p.Advertised != 0 {
			t.Errorf("unreachable peer %+v", p)
		}
		t.Logf("unreachable peer %s: %s since %v", p.Address, p.State, p.Since)
	}
	quick("Withdraw", func() {
		if err := s.Withdraw(v4); err != nil {
			t.Fatal(err)
		}
		if err := s.Withdraw(v6); err != nil {
			t.Fatal(err)
		}
	})
	eventually(t, 3*time.Second, "router loses the prefixes", hasRoutes(router, luvsIP, nil))
	quick("Stop", func() {
		if err := s.Stop(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

// Update adds, changes and removes peers, and restarts the speaker when
// its router id changes; the prefixes stay announced throughout.
func TestUpdate(t *testing.T) {
	needNet(t)
	luvsIP, routerIP := netip.MustParseAddr(luvsAddr), netip.MustParseAddr(routerAddr)
	luvsIP6, routerIP6 := netip.MustParseAddr(luvsAddr6), netip.MustParseAddr(routerAddr6)
	router := startRouter(t, portUpdate, routerAddr, routerPeer())
	// A second router, over IPv6.
	router6 := startRouter(t, portUpdate6, "198.18.0.3", Peer{Address: luvsIP6, ASN: luvsASN})

	var logs logBuffer
	s := newLuvs(t, logs.logger(), luvsPeer(portUpdate))
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Explicit next hops: over a session of the other family, "self"
	// would not be of the prefix's family.
	if err := s.Announce(v4, Attrs{NextHop: luvsIP}); err != nil {
		t.Fatal(err)
	}
	if err := s.Announce(v6, Attrs{NextHop: luvsIP6, MED: ptr(uint32(6))}); err != nil {
		t.Fatal(err)
	}
	want := map[netip.Prefix]route{
		v4: {NextHop: luvsIP, MED: -1, LocalPref: -1, ASPath: []uint32{luvsASN}},
		v6: {NextHop: luvsIP6, MED: 6, LocalPref: -1, ASPath: []uint32{luvsASN}},
	}
	eventually(t, 8*time.Second, "router receives the prefixes", hasRoutes(router, luvsIP, want))
	firstSince := router.peer(luvsIP).Since

	// Add the IPv6 router; change the first one's hold time, which resets
	// its session.
	cfg := s.cfg
	p1 := luvsPeer(portUpdate)
	p1.HoldTime = 30 * time.Second
	cfg.Peers = []Peer{p1, {Address: routerIP6, ASN: routerASN, Port: portUpdate6, LocalAddress: luvsIP6, ConnectRetry: 2 * time.Second}}
	if err := s.Update(cfg); err != nil {
		t.Fatal(err)
	}
	eventually(t, 8*time.Second, "IPv6 router receives the prefixes", hasRoutes(router6, luvsIP6, want))
	if p := router.peer(luvsIP); p.Established() && !p.Since.After(firstSince) {
		t.Errorf("the changed peer's session was not reset: %+v", p)
	}

	// The same configuration again changes nothing.
	if err := s.Update(cfg); err != nil {
		t.Fatal(err)
	}
	if p := peerState(s, routerIP6); !p.Established() {
		t.Errorf("IPv6 peer after a no-op update: %+v", p)
	}

	// Remove the IPv6 router: it loses the prefixes.
	cfg.Peers = cfg.Peers[:1]
	if err := s.Update(cfg); err != nil {
		t.Fatal(err)
	}
	eventually(t, 3*time.Second, "removed router loses the prefixes", hasRoutes(router6, luvsIP6, nil))
	if ps := s.Peers(); len(ps) != 1 || ps[0].Address != routerIP {
		t.Errorf("after removing a peer, Peers() = %+v", ps)
	}

	// A new router id restarts the speaker, which announces its prefixes
	// again. (GoBGP keeps a lost session idle for 5 s before it accepts
	// a connection again.)
	cfg.RouterID = netip.MustParseAddr("198.18.0.100")
	if err := s.Update(cfg); err != nil {
		t.Fatal(err)
	}
	if got := join(s.Announced()); got != v4.String()+" "+v6.String() {
		t.Errorf("after the restart, Announced() = %s", got)
	}
	eventually(t, 12*time.Second, "re-established after the restart", func() string {
		if p := router.peer(luvsIP); !p.Established() || !p.Since.After(firstSince) {
			return fmt.Sprintf("router's peer: %+v", p)
		}
		return established(s, routerIP)()
	})
	eventually(t, 3*time.Second, "router receives the prefixes again", hasRoutes(router, luvsIP, want))

	out := logs.String()
	for _, w := range []string{
		`msg="BGP peer added" peer=2001:db8::2`,
		`msg="BGP peer changed: its session restarts" peer=198.18.0.2`,
		`msg="BGP peer removed" peer=2001:db8::2`,
		`msg="BGP speaker restarting: its ASN, router id or listen port changed" asn=65001 router_id=198.18.0.100`,
	} {
		if strings.Count(out, w) != 1 {
			t.Errorf("log has not once %q", w)
		}
	}
	if n := strings.Count(out, `msg="BGP speaker started"`); n != 2 {
		t.Errorf("started %d times, want 2", n)
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("log:\n%s", out)
	}
}

func TestSortedPeersAndPrefixes(t *testing.T) {
	ps := []netip.Prefix{v6, netip.MustParsePrefix("198.18.0.0/24"), v4, netip.MustParsePrefix("198.18.0.0/16")}
	slices.SortFunc(ps, comparePrefix)
	if got, want := join(ps), "198.18.0.0/16 198.18.0.0/24 198.18.0.10/32 2001:db8::10/128"; got != want {
		t.Errorf("sorted: %s, want %s", got, want)
	}
}

// bfdResponder stands for a router's BFD: it answers the speaker's BFD
// control packets (at routerAddr:3784, more specific than GoBGP's
// wildcard socket) until silenced.
type bfdResponder struct {
	conn   *net.UDPConn
	silent atomic.Bool
	done   chan struct{}
}

func startBFDResponder(t *testing.T) *bfdResponder {
	t.Helper()
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
		})
		if err == nil {
			err = serr
		}
		return err
	}}
	pc, err := lc.ListenPacket(t.Context(), "udp", net.JoinHostPort(routerAddr, "3784"))
	if err != nil {
		t.Fatal(err)
	}
	r := &bfdResponder{conn: pc.(*net.UDPConn), done: make(chan struct{})}
	speaker := net.UDPAddrFromAddrPort(netip.MustParseAddrPort(net.JoinHostPort(luvsAddr, "3784")))
	go func() {
		defer close(r.done)
		buf := make([]byte, 1500)
		for {
			n, err := r.conn.Read(buf)
			if err != nil {
				return // closed
			}
			var h bfd.BFDHeader
			if h.UnmarshalBinary(buf[:n]) != nil || r.silent.Load() {
				continue
			}
			state := bfd.StateUp
			if h.State == bfd.StateDown {
				state = bfd.StateInit
			}
			reply := bfd.BFDHeader{
				Version:               1,
				State:                 state,
				Final:                 h.Poll,
				DetectTimeMultiplier:  3,
				MyDiscriminator:       0x1ead,
				YourDiscriminator:     h.MyDiscriminator,
				DesiredMinTxInterval:  100_000,
				RequiredMinRxInterval: 100_000,
			}
			b, err := reply.MarshalBinary()
			if err == nil {
				r.conn.WriteToUDP(b, speaker)
			}
		}
	}()
	t.Cleanup(func() {
		r.conn.Close()
		<-r.done
	})
	return r
}

// With BFD, a peer that stops answering loses its session (and the
// prefixes) within the detection time, long before the hold time.
func TestBFD(t *testing.T) {
	needNet(t)
	luvsIP, routerIP := netip.MustParseAddr(luvsAddr), netip.MustParseAddr(routerAddr)
	router := startRouter(t, portBFD, routerAddr, routerPeer())
	responder := startBFDResponder(t)
	var logs logBuffer
	lp := luvsPeer(portBFD)
	lp.BFD = BFD{Enabled: true, MinTx: 100 * time.Millisecond, MinRx: 100 * time.Millisecond, Multiplier: 3}
	s := newLuvs(t, logs.logger(), lp)
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Announce(v4, Attrs{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 8*time.Second, "router receives the prefix", hasRoutes(router, luvsIP, map[netip.Prefix]route{
		v4: {NextHop: luvsIP, MED: -1, LocalPref: -1, ASPath: []uint32{luvsASN}},
	}))
	eventually(t, 5*time.Second, "BFD up", func() string {
		if p := peerState(s, routerIP); p.BFD != "up" || !p.Established() {
			return fmt.Sprintf("%+v", p)
		}
		return ""
	})

	responder.silent.Store(true)
	start := time.Now()
	eventually(t, 3*time.Second, "router loses the prefix", hasRoutes(router, luvsIP, nil))
	t.Logf("session reset %v after BFD went silent", time.Since(start).Round(time.Millisecond))
	p := peerState(s, routerIP)
	if p.Established() || p.BFD != "down" {
		t.Errorf("after BFD timed out: %+v", p)
	}
	t.Logf("peer: %+v", p)
	if t.Failed() {
		t.Logf("log:\n%s", logs.String())
	}
}
