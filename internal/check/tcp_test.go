package check

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
)

// acceptAndClose serves ln by closing every connection.
func acceptAndClose(ln net.Listener) {
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
}

func TestTCP(t *testing.T) {
	needNet(t)
	ln := listen(t, addr1)
	acceptAndClose(ln)
	ln6 := listen(t, addr6)
	acceptAndClose(ln6)
	ln2 := listen(t, addr2)
	acceptAndClose(ln2)
	c := mustNew(t, model.Check{Kind: model.CheckTCP})
	tgt := targetOf(ln.Addr())

	t.Run("up", func(t *testing.T) {
		r := probe(t, c, tgt, time.Second)
		wantUp(t, r, "connected")
		if r.Weight != -1 || r.Latency <= 0 {
			t.Errorf("up result %s: want weight -1 and a latency", fmtResult(r))
		}
	})
	t.Run("ipv6", func(t *testing.T) {
		wantUp(t, probe(t, c, targetOf(ln6.Addr()), time.Second), "connected")
	})
	t.Run("refused", func(t *testing.T) {
		r := probe(t, c, Target{Addr: addr1, Port: unusedPort(t, "tcp", addr1)}, time.Second)
		wantDown(t, r, "connect: connection refused")
	})
	t.Run("refused-ipv6", func(t *testing.T) {
		r := probe(t, c, Target{Addr: addr6, Port: unusedPort(t, "tcp", addr6)}, time.Second)
		wantDown(t, r, "connect: connection refused")
	})
	t.Run("unreachable", func(t *testing.T) {
		wantDown(t, probe(t, c, Target{Addr: unrouted, Port: 80}, time.Second), "connect: network is unreachable")
	})
	t.Run("timeout", func(t *testing.T) {
		start := time.Now()
		r := probe(t, c, Target{Addr: blackhole, Port: 80}, 300*time.Millisecond)
		wantDown(t, r, "timeout after 300ms")
		if took := time.Since(start); took < 290*time.Millisecond {
			t.Errorf("timed out after only %v", took)
		}
	})
	t.Run("port-override", func(t *testing.T) {
		oc := model.Check{Kind: model.CheckTCP, Port: tgt.Port}
		r := probe(t, mustNew(t, oc), TargetFor(oc, addr1, unusedPort(t, "tcp", addr1)), time.Second)
		wantUp(t, r, "connected")
	})
	t.Run("addr-override", func(t *testing.T) {
		oc := model.Check{Kind: model.CheckTCP, Addr: addr2}
		tg := TargetFor(oc, unrouted, targetOf(ln2.Addr()).Port)
		if tg.Addr != addr2 {
			t.Fatalf("target %v", tg)
		}
		wantUp(t, probe(t, mustNew(t, oc), tg, time.Second), "connected")
	})
	t.Run("addr-override-ipv6", func(t *testing.T) {
		oc := model.Check{Kind: model.CheckTCP, Addr: addr6, Port: targetOf(ln6.Addr()).Port}
		wantUp(t, probe(t, mustNew(t, oc), TargetFor(oc, netip.MustParseAddr("198.18.0.50"), 1), time.Second), "connected")
	})
}

// One checker serves many concurrent probes.
func TestTCPConcurrent(t *testing.T) {
	needNet(t)
	ln := listen(t, addr1)
	acceptAndClose(ln)
	c := mustNew(t, model.Check{Kind: model.CheckTCP})
	refused := Target{Addr: addr1, Port: unusedPort(t, "tcp", addr1)}
	errs := make(chan string, 200)
	for i := range 200 {
		go func() {
			tg, want := targetOf(ln.Addr()), true
			if i%2 == 1 {
				tg, want = refused, false
			}
			r := probe(t, c, tg, 2*time.Second)
			if r.OK != want {
				errs <- fmtResult(r)
				return
			}
			errs <- ""
		}()
	}
	for range 200 {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
}

// ProbeBy (the daemon's way, without a context per probe) gives the same
// results as Probe: up, refused, a timeout at the deadline, and canceled
// when its context is.
func TestTCPProbeBy(t *testing.T) {
	needNet(t)
	ln := listen(t, addr1)
	acceptAndClose(ln)
	c := mustNew(t, model.Check{Kind: model.CheckTCP})
	by := func(tg Target, d time.Duration) Result {
		return c.ProbeBy(context.Background(), time.Now().Add(d), tg)
	}
	wantUp(t, by(targetOf(ln.Addr()), time.Second), "connected")
	wantDown(t, by(Target{Addr: addr1, Port: unusedPort(t, "tcp", addr1)}, time.Second), "connect: connection refused")
	start := time.Now()
	wantDown(t, by(Target{Addr: blackhole, Port: 80}, 300*time.Millisecond), "timeout after 300ms")
	if took := time.Since(start); took < 290*time.Millisecond || took > 2*time.Second {
		t.Errorf("timed out after %v, want 300ms", took)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start = time.Now()
	wantDown(t, c.ProbeBy(ctx, time.Now().Add(5*time.Second), Target{Addr: blackhole, Port: 80}), "canceled")
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("canceled after %v", took)
	}
	// A checker that needs its context done at the deadline gets one.
	h := mustNew(t, model.Check{Kind: model.CheckHTTP})
	start = time.Now()
	wantDown(t, h.ProbeBy(context.Background(), time.Now().Add(300*time.Millisecond), Target{Addr: blackhole, Port: 80}), "timeout after 300ms")
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("http timed out after %v", took)
	}
}

// TestSource: a check with source connects from that address (the server
// sees it), and a source not on this machine is a down with the reason.
func TestSource(t *testing.T) {
	needNet(t)
	ln := listen(t, addr1)
	peers := make(chan netip.Addr, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			peers <- c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Unmap()
			c.Close()
		}
	}()
	from := mustNew(t, model.Check{Kind: model.CheckTCP, Source: addr2})
	wantUp(t, probe(t, from, targetOf(ln.Addr()), time.Second), "connected")
	if got := <-peers; got != addr2 {
		t.Errorf("the server saw %s, want the source %s", got, addr2)
	}
	// The daemon's path (ProbeBy, TryProbeBy) takes the source too.
	if r := from.ProbeBy(t.Context(), time.Now().Add(time.Second), targetOf(ln.Addr())); !r.OK {
		t.Errorf("ProbeBy: %s", fmtResult(r))
	} else if got := <-peers; got != addr2 {
		t.Errorf("ProbeBy: the server saw %s, want %s", got, addr2)
	}
	notHere := mustNew(t, model.Check{Kind: model.CheckTCP, Source: netip.MustParseAddr("198.18.99.99")})
	wantDown(t, probe(t, notHere, targetOf(ln.Addr()), time.Second), "cannot assign requested address")
}
