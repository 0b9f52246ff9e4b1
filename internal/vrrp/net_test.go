package vrrp

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ndp"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"go.uber.org/goleak"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/luvs-lb/luvs/internal/testns"
)

// The network tests only use 198.18.0.0/15 and 2001:db8::/32, and only
// inside network namespaces of their own: the package's tests run in one
// (internal/testns), where each network test joins it to a second one,
// made for the test, by a veth pair.

// netSkip is why the network tests cannot run; "" when they can.
var netSkip string

func TestMain(m *testing.M) {
	code, reexeced, skip := testns.Enter("vrrp", [][]string{
		{"link", "set", "lo", "up"},
	})
	if reexeced {
		os.Exit(code)
	}
	netSkip = skip
	code = m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "vrrp tests: leaked goroutines:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func needNet(tb testing.TB) {
	tb.Helper()
	if netSkip != "" {
		tb.Skip(netSkip)
	}
}

// inNS runs f on a thread in ns, thrown away after (never unlocked).
func inNS(t *testing.T, ns netns.NsHandle, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		if err := netns.Set(ns); err != nil {
			t.Errorf("setns: %v", err)
			return
		}
		f()
	}()
	<-done
}

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v %s", strings.Join(args, " "), err, out)
	}
}

// peerNS makes a namespace and a veth pair: end a here, end b there, both
// up with the addresses given (IPv6 link-local ones without DAD, so that
// they are usable at once).
func peerNS(t *testing.T, a, b string, addrsA, addrsB []string) netns.NsHandle {
	t.Helper()
	var ns netns.NsHandle
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread is thrown away
		ns, err = netns.New()
	}()
	<-done
	if err != nil {
		t.Fatalf("new network namespace: %v", err)
	}
	t.Cleanup(func() { ns.Close() })
	ipCmd(t, "link", "add", a, "type", "veth", "peer", "name", b)
	t.Cleanup(func() { exec.Command("ip", "link", "del", a).Run() })
	l, err := netlink.LinkByName(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetNsFd(l, int(ns)); err != nil {
		t.Fatalf("move %s to the peer namespace: %v", b, err)
	}
	setup := func(dev string, addrs []string) {
		ipCmd(t, "link", "set", dev, "addrgenmode", "none")
		for _, ad := range addrs {
			ipCmd(t, "addr", "add", ad, "dev", dev, "nodad")
		}
		ipCmd(t, "link", "set", dev, "up")
	}
	setup(a, addrsA)
	inNS(t, ns, func() {
		ipCmd(t, "link", "set", "lo", "up")
		setup(b, addrsB)
	})
	return ns
}

// testLog logs to stderr with -v, else nowhere.
func testLog(side string) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("side", side)
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// side is one end's instance and its sockets.
type side struct {
	name   string
	tr     *NetTransport
	am     *NetAddresses
	h      *netlink.Handle
	inst   *Instance
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	trans  []Transition
}

func openSide(t *testing.T, dev string, v6 bool, cfg Config) *side {
	t.Helper()
	return openSideWith(t, NetConfig{Interface: dev, IPv6: v6, VirtualAddresses: cfg.Addresses}, cfg)
}

func openSideWith(t *testing.T, nc NetConfig, cfg Config) *side {
	t.Helper()
	dev := nc.Interface
	s := &side{name: dev, done: make(chan struct{})}
	var err error
	nc.Log = testLog(dev)
	if s.tr, err = ListenNet(nc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.tr.Close() })
	if s.am, err = NewNetAddresses(nc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.am.Close() })
	if s.h, err = netlink.NewHandle(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.h.Close)
	cfg.VRID = 51
	cfg.AdvertInterval = 100 * time.Millisecond
	cfg.Log = testLog(dev)
	cfg.OnTransition = func(tr Transition) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.trans = append(s.trans, tr)
	}
	if s.inst, err = New(cfg, s.tr, s.am); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *side) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() { defer close(s.done); s.inst.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-s.done })
}

func (s *side) last() Transition {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.trans) == 0 {
		return Transition{}
	}
	return s.trans[len(s.trans)-1]
}

// has reports whether addr is on the side's interface, read with netlink.
func (s *side) has(t *testing.T, addr netip.Addr) bool {
	t.Helper()
	l, err := s.h.LinkByName(s.name)
	if err != nil {
		t.Fatal(err)
	}
	as, err := s.h.AddrList(l, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if ip, _ := netip.AddrFromSlice(a.IP); ip.Unmap() == addr {
			return true
		}
	}
	return false
}

// waitState waits (real time, polling) up to d for s to be in state st.
func waitState(t *testing.T, s *side, st State, d time.Duration) {
	t.Helper()
	for end := time.Now().Add(d); s.inst.State() != st; {
		if time.Now().After(end) {
			t.Fatalf("%s is %v after %v (last transition %+v), want %v", s.name, s.inst.State(), d, s.last(), st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// announcements listens on the interface of the current namespace for
// gratuitous ARP or unsolicited NA about vip and sends the sender's MAC
// address on the channel.
func announcements(t *testing.T, dev string, vip netip.Addr) <-chan net.HardwareAddr {
	t.Helper()
	ifi, err := net.InterfaceByName(dev)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan net.HardwareAddr, 16)
	if vip.Is4() {
		c, err := arp.Dial(ifi)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		go func() {
			for {
				p, _, err := c.Read()
				if err != nil {
					if strings.Contains(err.Error(), "closed") {
						return
					}
					continue
				}
				if p.SenderIP == vip && p.TargetIP == vip {
					ch <- p.SenderHardwareAddr
				}
			}
		}()
		return ch
	}
	c, _, err := ndp.Listen(ifi, ndp.LinkLocal)
	if err != nil {
		t.Fatal(err)
	}
	var f ipv6.ICMPFilter
	f.SetAll(true)
	f.Accept(ipv6.ICMPTypeNeighborAdvertisement)
	if err := c.SetICMPFilter(&f); err != nil {
		t.Fatal(err)
	}
	if err := c.JoinGroup(netip.IPv6LinkLocalAllNodes()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		for {
			m, _, _, err := c.ReadFrom()
			if err != nil {
				if strings.Contains(err.Error(), "closed") {
					return
				}
				continue
			}
			if na, ok := m.(*ndp.NeighborAdvertisement); ok && na.TargetAddress == vip && !na.Solicited && na.Override {
				for _, o := range na.Options {
					if lla, ok := o.(*ndp.LinkLayerAddress); ok && lla.Direction == ndp.Target {
						ch <- lla.Addr
					}
				}
			}
		}
	}()
	return ch
}

func TestNetFailover(t *testing.T) {
	needNet(t)
	for _, tc := range []struct {
		name       string
		v6         bool
		vip        string
		addrsA     []string
		addrsB     []string
		srcA, srcB string
	}{
		{"IPv4", false, "198.18.0.10", []string{"198.18.0.1/24"}, []string{"198.18.0.2/24"}, "198.18.0.1", "198.18.0.2"},
		{"IPv6", true, "2001:db8::10", []string{"fe80::1/64", "2001:db8::1/64"}, []string{"fe80::2/64", "2001:db8::2/64"}, "fe80::1", "fe80::2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vip := netip.MustParseAddr(tc.vip)
			devA, devB := "vrrp"+tc.name[2:]+"a", "vrrp"+tc.name[2:]+"b"
			ns := peerNS(t, devA, devB, tc.addrsA, tc.addrsB)
			a := openSide(t, devA, tc.v6, Config{Priority: 200, Addresses: []netip.Addr{vip}})
			if got := a.tr.LocalAddr().String(); got != tc.srcA {
				t.Errorf("a's source address %s, want %s", got, tc.srcA)
			}
			var b *side
			var seenByB <-chan net.HardwareAddr
			inNS(t, ns, func() {
				b = openSide(t, devB, tc.v6, Config{Priority: 100, Addresses: []netip.Addr{vip}})
				seenByB = announcements(t, devB, vip)
			})
			if t.Failed() {
				t.FailNow()
			}
			if got := b.tr.LocalAddr().String(); got != tc.srcB {
				t.Errorf("b's source address %s, want %s", got, tc.srcB)
			}
			seenByA := announcements(t, devA, vip)

			start := time.Now()
			a.run(t)
			b.run(t)
			// a becomes master after its Master_Down_Interval (322 ms).
			waitState(t, a, Master, 2*time.Second)
			waitState(t, b, Backup, time.Second)
			took := time.Since(start)
			if mdi := MasterDownInterval(200, 100*time.Millisecond); took < mdi-50*time.Millisecond {
				t.Errorf("a became master after %v, before its Master_Down_Interval %v", took, mdi)
			}
			time.Sleep(300 * time.Millisecond) // b hears a few advertisements
			if b.inst.State() != Backup || b.inst.Status().Master.String() != tc.srcA {
				t.Fatalf("b: %+v, want a backup of %s", b.inst.Status(), tc.srcA)
			}
			if !a.has(t, vip) || b.has(t, vip) {
				t.Fatalf("%v on a: %v, on b: %v; want on a only", vip, a.has(t, vip), b.has(t, vip))
			}
			select {
			case mac := <-seenByB:
				if mac.String() != a.tr.ifi.HardwareAddr.String() {
					t.Errorf("b saw %v announced by %v, want a's %v", vip, mac, a.tr.ifi.HardwareAddr)
				}
			case <-time.After(time.Second):
				t.Errorf("b saw no announcement of %v", vip)
			}

			// A clean stop: a sends priority 0; b takes over after its
			// Skew_Time (61 ms).
			stopped := time.Now()
			a.cancel()
			<-a.done
			if a.last().To != Initialize || a.has(t, vip) {
				t.Errorf("a stopped: %+v, %v still on it: %v", a.last(), vip, a.has(t, vip))
			}
			waitState(t, b, Master, time.Second)
			if took, skew := b.last().At.Sub(stopped), Skew(100, 100*time.Millisecond); took > skew+100*time.Millisecond {
				t.Errorf("b took over %v after a stopped, want about Skew_Time %v", took, skew)
			}
			if r := b.last().Reason; r != fmt.Sprintf("master %s shut down (priority 0 advertisement)", tc.srcA) {
				t.Errorf("b's reason %q", r)
			}
			if !b.has(t, vip) {
				t.Errorf("%v not on b", vip)
			}
			select {
			case mac := <-seenByA:
				if mac.String() != b.tr.ifi.HardwareAddr.String() {
					t.Errorf("a saw %v announced by %v, want b's %v", vip, mac, b.tr.ifi.HardwareAddr)
				}
			case <-time.After(time.Second):
				t.Errorf("a saw no announcement of %v", vip)
			}

			// a comes back and preempts b; then a fails silently (its
			// socket closes: no priority 0) and b takes over after its
			// Master_Down_Interval.
			a2 := openSide(t, devA, tc.v6, Config{Priority: 200, Addresses: []netip.Addr{vip}})
			a2.run(t)
			waitState(t, a2, Master, 2*time.Second)
			waitState(t, b, Backup, time.Second)
			if r := b.last().Reason; !strings.Contains(r, "higher priority advertisement from "+tc.srcA) {
				t.Errorf("b's reason %q", r)
			}
			time.Sleep(150 * time.Millisecond)
			failed := time.Now()
			a2.tr.Close()
			<-a2.done
			waitState(t, b, Master, 2*time.Second)
			mdi := MasterDownInterval(100, 100*time.Millisecond)
			if took := b.last().At.Sub(failed); took > mdi+100*time.Millisecond || took < mdi-150*time.Millisecond {
				t.Errorf("b took over %v after a failed, want within Master_Down_Interval %v", took, mdi)
			}
			if r := b.last().Reason; r != "master down timer expired" {
				t.Errorf("b's reason %q", r)
			}
			if !b.has(t, vip) || a2.has(t, vip) {
				t.Errorf("%v on a: %v, on b: %v; want on b only", vip, a2.has(t, vip), b.has(t, vip))
			}
		})
	}
}

// injector sends hand-made advertisements from the peer namespace.
type injector struct {
	p   *ipv4.PacketConn
	ifi *net.Interface
	src netip.Addr
}

func newInjector(t *testing.T, ns netns.NsHandle, dev, src string) *injector {
	t.Helper()
	var in *injector
	inNS(t, ns, func() {
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			t.Error(err)
			return
		}
		c, err := net.ListenPacket("ip4:112", "0.0.0.0")
		if err != nil {
			t.Error(err)
			return
		}
		t.Cleanup(func() { c.Close() })
		p := ipv4.NewPacketConn(c)
		if err := p.SetMulticastInterface(ifi); err != nil {
			t.Error(err)
		}
		in = &injector{p: p, ifi: ifi, src: netip.MustParseAddr(src)}
	})
	if t.Failed() {
		t.FailNow()
	}
	return in
}

// send sends b (a whole VRRP message) to dst with ttl.
func (in *injector) send(t *testing.T, b []byte, dst netip.Addr, ttl int) {
	t.Helper()
	if err := in.p.SetMulticastTTL(ttl); err != nil {
		t.Fatal(err)
	}
	if err := in.p.SetTTL(ttl); err != nil {
		t.Fatal(err)
	}
	if _, err := in.p.WriteTo(b, &ipv4.ControlMessage{Src: in.src.AsSlice(), IfIndex: in.ifi.Index}, &net.IPAddr{IP: dst.AsSlice()}); err != nil {
		t.Fatal(err)
	}
}

// TestNetReceiveChecks sends a master advertisements of priority 255 that
// it must discard (TTL 254, bad checksum, other VRID) before one it must
// obey.
func TestNetReceiveChecks(t *testing.T) {
	needNet(t)
	ns := peerNS(t, "vrrpca", "vrrpcb", []string{"198.18.0.1/24"}, []string{"198.18.0.2/24"})
	vip := netip.MustParseAddr("198.18.0.10")
	a := openSide(t, "vrrpca", false, Config{Priority: 254, Addresses: []netip.Addr{vip}})
	a.run(t)
	waitState(t, a, Master, 2*time.Second)
	in := newInjector(t, ns, "vrrpcb", "198.18.0.2")
	adv := Advertisement{VRID: 51, Priority: 255, Interval: 100 * time.Millisecond, Addresses: []netip.Addr{vip}}
	good, err := adv.Marshal(in.src, GroupIPv4)
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), good...)
	bad[7] ^= 1
	other := adv
	other.VRID = 52
	otherVRID, _ := other.Marshal(in.src, GroupIPv4)
	for _, tc := range []struct {
		name string
		b    []byte
		ttl  int
	}{
		{"TTL 254", good, 254},
		{"TTL 1", good, 1},
		{"bad checksum", bad, 255},
		{"other VRID", otherVRID, 255},
	} {
		in.send(t, tc.b, GroupIPv4, tc.ttl)
		time.Sleep(50 * time.Millisecond)
		if s := a.inst.State(); s != Master {
			t.Fatalf("after an advertisement with %s: a is %v (%+v), want Master", tc.name, s, a.last())
		}
	}
	in.send(t, good, GroupIPv4, 255)
	waitState(t, a, Backup, time.Second)
	if r := a.last().Reason; r != "higher priority advertisement from 198.18.0.2 (priority 255 > 254)" {
		t.Errorf("reason %q", r)
	}
}

// TestNetUnicast runs two instances with unicast peers (no group joined)
// and checks that the checksum keepalived used for unicast IPv4 before
// 1.3.6 (the group as the pseudo-header's destination) is accepted.
func TestNetUnicast(t *testing.T) {
	needNet(t)
	ns := peerNS(t, "vrrpua", "vrrpub", []string{"198.18.0.1/24"}, []string{"198.18.0.2/24"})
	vip := netip.MustParseAddr("198.18.0.10")
	pa, pb := netip.MustParseAddr("198.18.0.1"), netip.MustParseAddr("198.18.0.2")
	open := func(dev string, prio uint8, peer netip.Addr) *side {
		cfg := Config{Priority: prio, Addresses: []netip.Addr{vip}, Peers: []netip.Addr{peer}}
		s := &side{name: dev, done: make(chan struct{})}
		var err error
		nc := NetConfig{Interface: dev, Unicast: true, Log: testLog(dev)}
		if s.tr, err = ListenNet(nc); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.tr.Close() })
		if s.am, err = NewNetAddresses(nc); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.am.Close() })
		if s.h, err = netlink.NewHandle(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.h.Close)
		cfg.VRID, cfg.AdvertInterval = 51, 100*time.Millisecond
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
		cfg.OnTransition = func(tr Transition) { s.mu.Lock(); s.trans = append(s.trans, tr); s.mu.Unlock() }
		if s.inst, err = New(cfg, s.tr, s.am); err != nil {
			t.Fatal(err)
		}
		return s
	}
	a := open("vrrpua", 200, pb)
	var b *side
	inNS(t, ns, func() { b = open("vrrpub", 100, pa) })
	if t.Failed() {
		t.FailNow()
	}
	a.run(t)
	b.run(t)
	waitState(t, a, Master, 2*time.Second)
	time.Sleep(300 * time.Millisecond)
	if st := b.inst.Status(); st.State != Backup || st.Master != pa {
		t.Fatalf("b: %+v, want a backup of %v", st, pa)
	}
	if !a.has(t, vip) || b.has(t, vip) {
		t.Fatalf("%v on a: %v, on b: %v; want on a only", vip, a.has(t, vip), b.has(t, vip))
	}
	// From b's address, priority 255, summed the old way: a yields.
	in := newInjector(t, ns, "vrrpub", "198.18.0.2")
	adv := Advertisement{VRID: 51, Priority: 255, Interval: 100 * time.Millisecond, Addresses: []netip.Addr{vip}}
	old, err := adv.Marshal(pb, GroupIPv4)
	if err != nil {
		t.Fatal(err)
	}
	in.send(t, old, pa, 255)
	waitState(t, a, Backup, time.Second)
	// The injected master falls silent; both are backups, and a's
	// Master_Down_Interval, shorter than b's, makes it master again.
	waitState(t, a, Master, 3*time.Second)
	b.cancel()
	<-b.done
	if a.inst.State() != Master || !a.has(t, vip) {
		t.Errorf("a: %+v, %v on it: %v", a.inst.Status(), vip, a.has(t, vip))
	}
}
