package engine

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
)

// probeLog is a prober that records when each target was probed (all up).
type probeLog struct {
	mu    sync.Mutex
	times map[netip.Addr][]time.Time
}

func (p *probeLog) factory(model.Check) (Prober, error) { return p, nil }

func (p *probeLog) Probe(_ context.Context, addr netip.Addr, _ uint16) ProbeResult {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.times[addr] = append(p.times[addr], now)
	return ProbeResult{OK: true, Weight: -1}
}

func (p *probeLog) get(a netip.Addr) []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.times[a])
}

// TestWarmup: a check's warmup spreads the first probes of its monitors
// over [0, warmup), not all at the start nor all at the end, and later
// probes come at the check's interval. Checks without warmup start within
// their interval (the default spread), which is what tells the two apart:
// the interval is much shorter than the warmup.
//
// The engine takes the real clock and math/rand, so the bounds are loose:
// 40 monitors with a uniform first wait put fewer than 5 in one half of the
// warmup with a probability below 1e-7, and every bound in time has 400 ms
// of slack for a loaded CI machine.
func TestWarmup(t *testing.T) {
	const (
		n        = 40
		interval = 200 * time.Millisecond
		warmup   = 1200 * time.Millisecond
		slack    = 400 * time.Millisecond
	)
	svc, _ := model.ParseServiceKey("198.18.0.10:80")
	sc := model.ServiceConfig{Service: model.Service{ServiceKey: svc, Scheduler: "wrr"}}
	var warm, cold []netip.Addr
	for i := range 2 * n {
		a := netip.MustParseAddr(fmt.Sprintf("198.18.%d.%d", 2+i/n, 1+i%n))
		chk := model.Check{Kind: model.CheckTCP, Interval: interval, Timeout: 50 * time.Millisecond, Rise: 1, Fall: 1}
		if i < n {
			chk.Warmup = warmup
			warm = append(warm, a)
		} else {
			cold = append(cold, a)
		}
		sc.Servers = append(sc.Servers, model.ServerConfig{
			Dest:   model.Dest{DestKey: model.DestKey{Addr: a, Port: 80}, Weight: 1, Forward: model.Masquerade},
			Checks: []model.Check{chk}, OnFail: model.Drain,
		})
	}
	cfg := &model.Config{Services: []model.ServiceConfig{sc}}
	k, p := newKernel(), &probeLog{times: map[netip.Addr][]time.Time{}}
	t0 := time.Now() // before the engine starts: offsets are at least the engine's waits
	_, stop := run(t, cfg, Options{DataPlane: k, Probers: p.factory})
	defer stop()

	// Wait until every warm monitor has been probed 4 times (at most the
	// warmup and 3 intervals, plus slack).
	deadline := t0.Add(warmup + 3*interval + 10*slack)
	for {
		done := true
		for _, a := range warm {
			if len(p.get(a)) < 4 {
				done = false
				break
			}
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s some checks with warmup %s and interval %s have not been probed 4 times", time.Since(t0).Round(time.Millisecond), warmup, interval)
		}
		time.Sleep(20 * time.Millisecond)
	}

	var early, late int
	var firsts []time.Duration
	for _, a := range warm {
		ts := p.get(a)
		first := ts[0].Sub(t0)
		firsts = append(firsts, first.Round(time.Millisecond))
		if first > warmup+slack {
			t.Errorf("%s: first probe %s after start, past the warmup %s", a, first, warmup)
		}
		if first < warmup/2 {
			early++
		} else {
			late++
		}
		// Afterwards, one probe per interval: never sooner, and not much
		// later either.
		for i := 1; i < len(ts); i++ {
			gap := ts[i].Sub(ts[i-1])
			if gap < interval-10*time.Millisecond || gap > interval+slack {
				t.Errorf("%s: probe %d came %s after the one before, want the interval %s", a, i+1, gap, interval)
			}
		}
	}
	slices.Sort(firsts)
	t.Logf("first probes of the checks with warmup %s (sorted): %v", warmup, firsts)
	if early < 5 || late < 5 {
		t.Errorf("first probes: %d in the first half of the warmup %s, %d in the second; want them spread over it", early, warmup, late)
	}
	for _, a := range cold {
		ts := p.get(a)
		if len(ts) == 0 {
			t.Errorf("%s (no warmup) never probed", a)
			continue
		}
		if first := ts[0].Sub(t0); first > interval+slack {
			t.Errorf("%s (no warmup): first probe %s after start, want within the interval %s", a, first, interval)
		}
	}
}
