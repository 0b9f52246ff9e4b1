package vrrp

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// The state machine tests run in synctest bubbles: time is virtual there
// (SystemClock's timers are the bubble's), advances only when every
// goroutine is blocked, so the timings are exact and nothing sleeps.

// lan connects in-memory transports: a multicast advertisement reaches
// every other connected endpoint, a unicast one the endpoint of that
// address. Each goes through Marshal and Unmarshal.
type lan struct {
	t     *testing.T
	mu    sync.Mutex
	ends  []*endpoint
	nodes []*node
}

type endpoint struct {
	lan  *lan
	addr netip.Addr
	rx   chan Received
	cut  bool // guarded by lan.mu: sends and receives nothing
}

func (e *endpoint) LocalAddr() netip.Addr    { return e.addr }
func (e *endpoint) Receive() <-chan Received { return e.rx }

func (e *endpoint) Send(adv *Advertisement, dst netip.Addr) error {
	b, err := adv.Marshal(e.addr, dst)
	if err != nil {
		return err
	}
	e.lan.mu.Lock()
	defer e.lan.mu.Unlock()
	if e.cut {
		return nil
	}
	for _, o := range e.lan.ends {
		if o == e || o.cut || (!dst.IsMulticast() && dst != o.addr) {
			continue
		}
		r := Received{Src: e.addr, Dst: dst}
		if err := r.Unmarshal(e.addr, dst, b); err != nil {
			e.lan.t.Errorf("advertisement from %v does not decode: %v", e.addr, err)
			continue
		}
		select {
		case o.rx <- r:
		default:
		}
	}
	return nil
}

// fakeAddrs is an AddressManager that records what is on the interface.
type fakeAddrs struct {
	mu        sync.Mutex
	have      []netip.Addr
	announced int
}

func (f *fakeAddrs) AddAddresses(addrs []netip.Addr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range addrs {
		if !slices.Contains(f.have, a) {
			f.have = append(f.have, a)
		}
	}
	return nil
}

func (f *fakeAddrs) RemoveAddresses(addrs []netip.Addr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.have = slices.DeleteFunc(f.have, func(a netip.Addr) bool { return slices.Contains(addrs, a) })
	return nil
}

func (f *fakeAddrs) Announce(addrs []netip.Addr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.announced++
	return nil
}

func (f *fakeAddrs) holds() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.have) > 0
}

// node is a running instance on the lan.
type node struct {
	*Instance
	name    string
	ep      *endpoint
	addrs   *fakeAddrs
	cancel  context.CancelFunc
	done    chan struct{} // closed when Run returned err
	err     error
	mu      sync.Mutex
	history []Transition
}

var vip = netip.MustParseAddr("198.18.0.10")

func newLAN(t *testing.T) *lan { return &lan{t: t} }

// start runs an instance of cfg (VRID 1 and vip unless set) at addr.
func (l *lan) start(addr string, cfg Config) *node {
	l.t.Helper()
	n := &node{name: addr, addrs: &fakeAddrs{}, done: make(chan struct{})}
	n.ep = &endpoint{lan: l, addr: netip.MustParseAddr(addr), rx: make(chan Received, 16)}
	if cfg.VRID == 0 {
		cfg.VRID = 1
	}
	if cfg.Addresses == nil {
		cfg.Addresses = []netip.Addr{vip}
	}
	cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.OnTransition = func(tr Transition) {
		n.mu.Lock()
		defer n.mu.Unlock()
		n.history = append(n.history, tr)
	}
	inst, err := New(cfg, n.ep, n.addrs)
	if err != nil {
		l.t.Fatal(err)
	}
	n.Instance = inst
	l.mu.Lock()
	l.ends = append(l.ends, n.ep)
	l.nodes = append(l.nodes, n)
	l.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go func() { n.err = inst.Run(ctx); close(n.done) }()
	synctest.Wait()
	return n
}

// stop shuts n down cleanly.
func (n *node) stop(t *testing.T) {
	t.Helper()
	n.cancel()
	<-n.done
	if n.err != nil {
		t.Errorf("%s: Run: %v", n.name, n.err)
	}
	synctest.Wait()
}

// cut disconnects n from the lan, as if it had crashed.
func (l *lan) cut(n *node) {
	l.mu.Lock()
	n.ep.cut = true
	l.mu.Unlock()
}

func (l *lan) stopAll() {
	for _, n := range l.nodes {
		n.cancel()
		<-n.done
	}
}

// last returns n's last transition.
func (n *node) last() Transition {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.history) == 0 {
		return Transition{}
	}
	return n.history[len(n.history)-1]
}

// wait lets d of virtual time pass and every instance settle.
func wait(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

func want(t *testing.T, n *node, s State, reason string) {
	t.Helper()
	if got := n.State(); got != s {
		t.Fatalf("%s is %v (last transition %+v), want %v", n.name, got, n.last(), s)
	}
	if r := n.last().Reason; !strings.Contains(r, reason) {
		t.Errorf("%s: reason %q, want it to contain %q", n.name, r, reason)
	}
	if holds := n.addrs.holds(); holds != (s == Master) {
		t.Errorf("%s is %v and holds the virtual address: %v", n.name, s, holds)
	}
}

func TestIntervals(t *testing.T) {
	if got := Skew(100, time.Second); got != 609375*time.Microsecond {
		t.Errorf("Skew(100, 1s) = %v", got)
	}
	if got := MasterDownInterval(200, time.Second); got != 3*time.Second+218750*time.Microsecond {
		t.Errorf("MasterDownInterval(200, 1s) = %v", got)
	}
	if got := MasterDownInterval(254, 10*time.Millisecond); got != 30*time.Millisecond+78125*time.Nanosecond {
		t.Errorf("MasterDownInterval(254, 10ms) = %v", got)
	}
}

func TestElectionByPriority(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		defer l.stopAll()
		start := time.Now()
		a := l.start("198.18.0.1", Config{Priority: 200})
		b := l.start("198.18.0.2", Config{Priority: 100})
		want(t, a, Backup, "startup")
		wait(10 * time.Second)
		want(t, a, Master, "master down timer expired")
		want(t, b, Backup, "startup")
		if got, exp := a.last().At.Sub(start), MasterDownInterval(200, time.Second); got != exp {
			t.Errorf("a became master after %v, want Master_Down_Interval %v", got, exp)
		}
		if a.addrs.announced != 1 {
			t.Errorf("a announced its address %d times, want 1", a.addrs.announced)
		}
		if st := b.Status(); st.Master != a.ep.addr || st.MasterAdverInterval != time.Second || st.Priority != 100 {
			t.Errorf("b's status %+v", st)
		}
	})
}

func TestElectionTieByAddress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		defer l.stopAll()
		lo := l.start("198.18.0.1", Config{Priority: 100})
		hi := l.start("198.18.0.2", Config{Priority: 100})
		wait(10 * time.Second)
		// Both time out together. The lower address yields if it became
		// master; or it heard the other's advertisement first and stayed.
		want(t, hi, Master, "master down timer expired")
		want(t, lo, Backup, "")
		if r := lo.last().Reason; r != "startup" && r != "equal priority advertisement from higher address 198.18.0.2 (priority 100)" {
			t.Errorf("lo's reason %q", r)
		}
	})
}

func TestMasterFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		defer l.stopAll()
		a := l.start("198.18.0.1", Config{Priority: 200})
		b := l.start("198.18.0.2", Config{Priority: 100})
		wait(10 * time.Second)
		want(t, a, Master, "")
		wait(300 * time.Millisecond) // between two advertisements
		cut := time.Now()
		l.cut(a)
		wait(10 * time.Second)
		want(t, b, Master, "master down timer expired")
		// b heard a last at most an interval before the cut.
		mdi := MasterDownInterval(100, time.Second)
		if got := b.last().At.Sub(cut); got > mdi || got < mdi-time.Second {
			t.Errorf("b took over %v after the master failed, want within (%v, %v]", got, mdi-time.Second, mdi)
		}
	})
}

func TestShutdownPriorityZero(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		defer l.stopAll()
		a := l.start("198.18.0.1", Config{Priority: 200})
		b := l.start("198.18.0.2", Config{Priority: 100})
		wait(10*time.Second + 300*time.Millisecond)
		stopped := time.Now()
		a.stop(t)
		want(t, a, Initialize, "shutdown")
		wait(5 * time.Second)
		want(t, b, Master, "master 198.18.0.1 shut down (priority 0 advertisement)")
		if got, exp := b.last().At.Sub(stopped), Skew(100, time.Second); got != exp {
			t.Errorf("b took over %v after the master's shutdown, want Skew_Time %v", got, exp)
		}
	})
}

func TestPreemption(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cfg       Config
		preempted bool
		after     time.Duration // at least, once b is master
	}{
		{"on", Config{Priority: 200}, true, 0},
		{"off", Config{Priority: 200, NoPreempt: true}, false, 0},
		{"delay", Config{Priority: 200, PreemptDelay: 20 * time.Second}, true, 20 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newLAN(t)
				defer l.stopAll()
				b := l.start("198.18.0.2", Config{Priority: 100})
				wait(5 * time.Second)
				want(t, b, Master, "")
				joined := time.Now()
				a := l.start("198.18.0.1", tc.cfg)
				wait(60 * time.Second)
				if !tc.preempted {
					want(t, a, Backup, "startup")
					want(t, b, Master, "")
					if st := a.Status(); st.Master != b.ep.addr {
						t.Errorf("a's master is %v, want %v", st.Master, b.ep.addr)
					}
					return
				}
				want(t, a, Master, "preempting lower priority master 198.18.0.2 (priority 100 < 200)")
				want(t, b, Backup, "higher priority advertisement from 198.18.0.1 (priority 200 > 100)")
				// a starts the delay on b's first advertisement (at most 1 s
				// after it joins), then discards b's for Master_Down_Interval.
				took := a.last().At.Sub(joined)
				mdi := MasterDownInterval(200, time.Second)
				if took < tc.after+mdi-time.Second || took > tc.after+mdi+time.Second {
					t.Errorf("a preempted b %v after joining, want %v + %v (± 1 s)", took, tc.after, mdi)
				}
			})
		})
	}
}

func TestSetPriority(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		defer l.stopAll()
		a := l.start("198.18.0.1", Config{Priority: 200})
		b := l.start("198.18.0.2", Config{Priority: 100})
		wait(10 * time.Second)
		want(t, a, Master, "")
		if err := a.SetPriority(50); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if st := a.Status(); st.Priority != 50 || st.State != Master {
			t.Errorf("a's status after SetPriority(50): %+v", st)
		}
		wait(10 * time.Second)
		want(t, b, Master, "preempting lower priority master 198.18.0.1 (priority 50 < 100)")
		want(t, a, Backup, "higher priority advertisement from 198.18.0.2 (priority 100 > 50)")
		// Raised again, a takes the virtual router back.
		if err := a.SetPriority(150); err != nil {
			t.Fatal(err)
		}
		wait(10 * time.Second)
		want(t, a, Master, "preempting lower priority master 198.18.0.2")
		want(t, b, Backup, "higher priority advertisement from 198.18.0.1 (priority 150 > 100)")
		for _, p := range []uint8{0, 255} {
			if err := a.SetPriority(p); err == nil {
				t.Errorf("SetPriority(%d) succeeded", p)
			}
		}
	})
}

func TestOwner(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		defer l.stopAll()
		b := l.start("198.18.0.2", Config{Priority: 254})
		wait(5 * time.Second)
		want(t, b, Master, "")
		o := l.start("198.18.0.1", Config{Priority: PriorityOwner})
		want(t, o, Master, "startup as the address owner")
		synctest.Wait()
		want(t, b, Backup, "higher priority advertisement from 198.18.0.1 (priority 255 > 254)")
		wait(10 * time.Second)
		want(t, o, Master, "")
		if err := o.SetPriority(100); err == nil {
			t.Error("the owner's SetPriority succeeded")
		}
	})
}

func TestUnicastPeers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		defer l.stopAll()
		peers := func(s ...string) []netip.Addr {
			var p []netip.Addr
			for _, a := range s {
				p = append(p, netip.MustParseAddr(a))
			}
			return p
		}
		a := l.start("198.18.0.1", Config{Priority: 150, Peers: peers("198.18.0.2")})
		b := l.start("198.18.0.2", Config{Priority: 100, Peers: peers("198.18.0.1")})
		// A stranger of higher priority, multicasting: ignored.
		c := l.start("198.18.0.3", Config{Priority: 250})
		wait(10 * time.Second)
		want(t, a, Master, "master down timer expired")
		want(t, b, Backup, "startup")
		want(t, c, Master, "") // it hears nobody: a and b unicast
		a.stop(t)
		wait(5 * time.Second)
		want(t, b, Master, "master 198.18.0.1 shut down")
	})
}

func TestMasterAnswersShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		defer l.stopAll()
		a := l.start("198.18.0.1", Config{Priority: 200})
		wait(5 * time.Second)
		want(t, a, Master, "")
		// Another master (a split brain healing) shuts down: a asserts
		// itself at once rather than at its next advertisement.
		rx := make(chan Received, 4)
		l.mu.Lock()
		l.ends = append(l.ends, &endpoint{lan: l, addr: netip.MustParseAddr("198.18.0.9"), rx: rx})
		l.mu.Unlock()
		wait(300 * time.Millisecond)
		<-rx // the periodic advertisement
		other := &endpoint{lan: l, addr: netip.MustParseAddr("198.18.0.8"), rx: make(chan Received, 4)}
		if err := other.Send(&Advertisement{VRID: 1, Priority: 0, Interval: time.Second, Addresses: []netip.Addr{vip}}, GroupIPv4); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		for len(rx) > 0 {
			r := <-rx
			if r.Src == a.ep.addr && r.Priority == 200 {
				return
			}
		}
		t.Error("the master did not answer a priority 0 advertisement")
	})
}

func TestNewErrors(t *testing.T) {
	ep := &endpoint{addr: netip.MustParseAddr("198.18.0.1")}
	v6 := netip.MustParseAddr("2001:db8::10")
	for i, cfg := range []Config{
		{Priority: 100, Addresses: []netip.Addr{vip}},
		{VRID: 1, Addresses: []netip.Addr{vip}},
		{VRID: 1, Priority: 100},
		{VRID: 1, Priority: 100, Addresses: []netip.Addr{vip, v6}},
		{VRID: 1, Priority: 100, Addresses: []netip.Addr{vip}, AdvertInterval: 5 * time.Millisecond},
		{VRID: 1, Priority: 100, Addresses: []netip.Addr{vip}, AdvertInterval: 41 * time.Second},
		{VRID: 1, Priority: 100, Addresses: []netip.Addr{vip}, AdvertInterval: 1005 * time.Millisecond},
		{VRID: 1, Priority: 100, Addresses: []netip.Addr{vip}, Peers: []netip.Addr{v6}},
		{VRID: 1, Priority: 100, Addresses: []netip.Addr{vip}, PreemptDelay: -time.Second},
	} {
		if _, err := New(cfg, ep, &fakeAddrs{}); err == nil {
			t.Errorf("config %d (%+v): New succeeded", i, cfg)
		}
	}
	if _, err := New(Config{VRID: 1, Priority: 100, Addresses: []netip.Addr{vip}}, nil, &fakeAddrs{}); err == nil {
		t.Error("New without a transport succeeded")
	}
}

func TestStateString(t *testing.T) {
	for s, w := range map[State]string{Initialize: "Initialize", Backup: "Backup", Master: "Master", 7: "State(7)"} {
		if s.String() != w {
			t.Errorf("%d: %q", int(s), s.String())
		}
	}
	_ = fmt.Sprint(Transition{})
}

// fakeClock is a Clock whose time moves only by Advance.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c      *fakeClock
	ch     chan time.Time
	at     time.Time
	active bool
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, ch: make(chan time.Time, 1), at: c.now.Add(d), active: true}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

// Stop and Reset drop a pending tick, like time.Timer since Go 1.23.
func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.active
	t.active = false
	select {
	case <-t.ch:
	default:
	}
	return was
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.active
	t.active, t.at = true, t.c.now.Add(d)
	select {
	case <-t.ch:
	default:
	}
	return was
}

// Advance moves time on by d, firing the timers due in order; settle
// runs after each, for the instances to act on it.
func (c *fakeClock) Advance(d time.Duration, settle func()) {
	c.mu.Lock()
	end := c.now.Add(d)
	for {
		var next *fakeTimer
		for _, t := range c.timers {
			if t.active && !t.at.After(end) && (next == nil || t.at.Before(next.at)) {
				next = t
			}
		}
		if next == nil {
			break
		}
		c.now = next.at
		next.active = false
		next.ch <- c.now
		c.mu.Unlock()
		settle()
		c.mu.Lock()
	}
	c.now = end
	c.mu.Unlock()
	settle()
}

// TestFakeClock runs an instance on a Clock of the test's: its timers and
// its transitions' times are the clock's. (synctest.Wait only lets the
// instance's goroutine settle; no time passes in the bubble.)
func TestFakeClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		defer l.stopAll()
		clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		start := clock.Now()
		bubble := time.Now()
		a := l.start("198.18.0.1", Config{Priority: 100, Clock: clock})
		mdi := MasterDownInterval(100, time.Second)
		clock.Advance(mdi-time.Nanosecond, synctest.Wait)
		want(t, a, Backup, "startup")
		clock.Advance(time.Nanosecond, synctest.Wait)
		want(t, a, Master, "master down timer expired")
		if got := a.last().At; !got.Equal(start.Add(mdi)) {
			t.Errorf("transition at %v, want %v", got, start.Add(mdi))
		}
		// It advertises every second of the fake clock.
		rx := make(chan Received, 16)
		l.mu.Lock()
		l.ends = append(l.ends, &endpoint{lan: l, addr: netip.MustParseAddr("198.18.0.9"), rx: rx})
		l.mu.Unlock()
		clock.Advance(5*time.Second, synctest.Wait)
		if len(rx) != 5 {
			t.Errorf("%d advertisements in 5 s, want 5", len(rx))
		}
		if !time.Now().Equal(bubble) {
			t.Errorf("the bubble's time moved: %v", time.Since(bubble))
		}
	})
}

func TestZeroIntervalDiscarded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLAN(t)
		defer l.stopAll()
		a := l.start("198.18.0.1", Config{Priority: 100})
		wait(5 * time.Second)
		want(t, a, Master, "")
		other := &endpoint{lan: l, addr: netip.MustParseAddr("198.18.0.8"), rx: make(chan Received, 4)}
		if err := other.Send(&Advertisement{VRID: 1, Priority: 200, Addresses: []netip.Addr{vip}}, GroupIPv4); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		want(t, a, Master, "")
	})
}
