package engine

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/diff"
	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/override"
	"github.com/luvs-lb/luvs/internal/testlog"
)

// memOverrides is an OverrideStore in memory, shared by the runs of a test
// as the state directory is shared by restarts.
type memOverrides struct {
	mu  sync.Mutex
	set override.Set
}

func (m *memOverrides) SaveOverrides(s override.Set) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.set = append(override.Set(nil), s...)
	return nil
}

func (m *memOverrides) get() override.Set {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append(override.Set(nil), m.set...)
}

func target(t *testing.T, server, service string) override.Target {
	t.Helper()
	tg, err := override.ParseTarget(server, service)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// countingProbes counts probes per address, all up.
type countingProbes struct {
	fakeProbes
	mu sync.Mutex
	n  map[string]int
}

func (c *countingProbes) factory(model.Check) (Prober, error) { return c, nil }

func (c *countingProbes) Probe(ctx context.Context, addr netip.Addr, port uint16) ProbeResult {
	c.mu.Lock()
	c.n[addr.String()]++
	c.mu.Unlock()
	return c.fakeProbes.Probe(ctx, addr, port)
}

func (c *countingProbes) count(addr string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[addr]
}

// drain, maint, ready and weight take effect at once, maint stops the
// server's checks and drain does not, and they last across a reload and a
// restart (through the store) until cleared.
func TestOperatorOverrides(t *testing.T) {
	cfg := testConfig(model.Drain, 0, false)
	svc := cfg.Services[0].ServiceKey
	k := newKernel()
	p := &countingProbes{fakeProbes: fakeProbes{down: map[string]bool{}}, n: map[string]int{}}
	store := &memOverrides{}
	var logs testlog.Buffer
	opts := Options{DataPlane: k, Probers: p.factory, OverrideStore: store, Logger: slogTo(&logs)}
	e, stop := run(t, cfg, opts)
	eventually(t, "service created", func() bool { return k.weight(svc, "198.18.1.1") == 3 })

	touched, err := e.SetOverride(override.Override{Kind: override.Drain, Target: target(t, "198.18.1.1", "")})
	if err != nil || len(touched) != 1 || touched[0].Before != 3 || touched[0].After != 0 {
		t.Fatalf("drain: %+v, %v", touched, err)
	}
	eventually(t, "drained", func() bool { return k.weight(svc, "198.18.1.1") == 0 })
	if !strings.Contains(logs.String(), "weight=\"3 → 0\"") {
		t.Errorf("the drain is not logged with old → new weight:\n%s", logs.String())
	}
	// Drained: the checks go on.
	before := p.count("198.18.1.1")
	eventually(t, "checks of a drained server go on", func() bool { return p.count("198.18.1.1") > before+2 })

	// Maint: the checks stop.
	if _, err := e.SetOverride(override.Override{Kind: override.Maint, Target: target(t, "198.18.1.1", "")}); err != nil {
		t.Fatal(err)
	}
	if got := store.get(); len(got) != 1 || got[0].Kind != override.Maint {
		t.Fatalf("stored: %v (maint replaces the drain of the same server)", got)
	}
	time.Sleep(50 * time.Millisecond)
	before = p.count("198.18.1.1")
	time.Sleep(100 * time.Millisecond)
	if n := p.count("198.18.1.1") - before; n > 0 {
		t.Errorf("a server in maintenance was probed %d times", n)
	}
	if k.weight(svc, "198.18.1.1") != 0 || k.weight(svc, "198.18.1.2") != 3 {
		t.Errorf("maint: weights %d, %d", k.weight(svc, "198.18.1.1"), k.weight(svc, "198.18.1.2"))
	}

	// A weight override, in percent of the configured weight.
	if _, err := e.SetOverride(override.Override{Kind: override.Weight, Target: target(t, "198.18.1.2", ""), Weight: 200, Percent: true}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "weight 200%", func() bool { return k.weight(svc, "198.18.1.2") == 6 })

	// A reload keeps the overrides; so does a restart.
	if err := e.Reload(t.Context(), testConfig(model.Drain, 0, false)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if k.weight(svc, "198.18.1.1") != 0 || k.weight(svc, "198.18.1.2") != 6 {
		t.Fatalf("after a reload: weights %d, %d", k.weight(svc, "198.18.1.1"), k.weight(svc, "198.18.1.2"))
	}
	stop()
	opts.Overrides = store.get()
	e, _ = run(t, testConfig(model.Drain, 0, false), opts)
	time.Sleep(150 * time.Millisecond)
	if k.weight(svc, "198.18.1.1") != 0 || k.weight(svc, "198.18.1.2") != 6 {
		t.Fatalf("after a restart: weights %d, %d", k.weight(svc, "198.18.1.1"), k.weight(svc, "198.18.1.2"))
	}

	// Ready: back to normal once a check passes; the weight cleared.
	if _, err := e.ClearOverride(override.Maint, target(t, "198.18.1.1", "")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "ready", func() bool { return k.weight(svc, "198.18.1.1") == 3 })
	if _, err := e.ClearOverride(override.Weight, target(t, "198.18.1.2", "")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "weight cleared", func() bool { return k.weight(svc, "198.18.1.2") == 3 })
	if got := store.get(); len(got) != 0 {
		t.Errorf("overrides left after clearing them: %v", got)
	}

	// Errors: an unknown server, clearing what is not set.
	if _, err := e.SetOverride(override.Override{Kind: override.Drain, Target: target(t, "198.18.7.7", "")}); err == nil {
		t.Error("drain of a server no service has: no error")
	}
	if _, err := e.ClearOverride(override.Drain, target(t, "198.18.1.1", "")); err == nil {
		t.Error("ready of a server that is neither drained nor in maintenance: no error")
	}
}

// add and remove change a service's servers; an added server gets the
// checks of the service's first server, and a removed one is drained first.
func TestOperatorAddRemove(t *testing.T) {
	cfg := testConfig(model.Drain, 0, false)
	for i := range cfg.Services[0].Servers {
		cfg.Services[0].Servers[i].DrainTimeout = 10 * time.Second
	}
	svc := cfg.Services[0].ServiceKey
	k := newKernel()
	p := &countingProbes{fakeProbes: fakeProbes{down: map[string]bool{}}, n: map[string]int{}}
	e, _ := run(t, cfg, Options{DataPlane: k, Probers: p.factory, DrainPoll: 20 * time.Millisecond})
	eventually(t, "service created", func() bool { return k.weight(svc, "198.18.1.2") == 3 })

	if _, err := e.SetOverride(override.Override{Kind: override.Add, Target: target(t, "198.18.1.3:80", "198.18.0.10:80"), Weight: 5}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "added", func() bool { return k.weight(svc, "198.18.1.3") == 5 })
	eventually(t, "the added server is checked", func() bool { return p.count("198.18.1.3") > 0 })
	p.set("198.18.1.3", true)
	eventually(t, "the added server drained by its check", func() bool { return k.weight(svc, "198.18.1.3") == 0 })
	if _, err := e.SetOverride(override.Override{Kind: override.Add, Target: target(t, "198.18.1.4", "")}); err == nil {
		t.Error("add without a port and service: no error")
	}

	// Remove with a connection open: weight 0 until the connection ends.
	k.SetConns(svc, model.DestKey{Addr: netip.MustParseAddr("198.18.1.2"), Port: 80}, model.ConnCount{Active: 1})
	if _, err := e.SetOverride(override.Override{Kind: override.Remove, Target: target(t, "198.18.1.2:80", "198.18.0.10:80")}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "weight 0 while draining", func() bool { return k.weight(svc, "198.18.1.2") == 0 })
	if d := e.Draining(); len(d) != 1 {
		t.Errorf("draining: %v", d)
	}
	time.Sleep(100 * time.Millisecond)
	if k.weight(svc, "198.18.1.2") != 0 {
		t.Fatalf("a server with a connection open was deleted: weight %d", k.weight(svc, "198.18.1.2"))
	}
	k.SetConns(svc, model.DestKey{Addr: netip.MustParseAddr("198.18.1.2"), Port: 80}, model.ConnCount{Inactive: 2})
	eventually(t, "deleted once drained", func() bool { return k.weight(svc, "198.18.1.2") == -1 })
}

// A server a reload drops leaves at weight 0 and is deleted when its
// connections finish or, at the latest, after its drain timeout; one with
// drain_timeout 0 goes at once; one that comes back while draining stays.
func TestGracefulRemovalOnReload(t *testing.T) {
	cfg := testConfig(model.Drain, 0, false)
	cfg.Services[0].Servers[0].DrainTimeout = 300 * time.Millisecond
	cfg.Services[0].Servers[1].DrainTimeout = 0
	svc := cfg.Services[0].ServiceKey
	k := newKernel()
	p := &fakeProbes{down: map[string]bool{}}
	var logs testlog.Buffer
	e, _ := run(t, cfg, Options{DataPlane: k, Probers: p.factory, DrainPoll: 20 * time.Millisecond, Logger: slogTo(&logs)})
	eventually(t, "service created", func() bool { return k.weight(svc, "198.18.1.2") == 3 })
	k.SetConns(svc, model.DestKey{Addr: netip.MustParseAddr("198.18.1.1"), Port: 80}, model.ConnCount{Active: 3})

	next := testConfig(model.Drain, 0, false)
	next.Services[0].Servers = nil
	start := time.Now()
	if err := e.Reload(t.Context(), next); err != nil {
		t.Fatal(err)
	}
	if w := k.weight(svc, "198.18.1.1"); w != 0 {
		t.Fatalf("a dropped server with connections: weight %d right after the reload, want 0", w)
	}
	if w := k.weight(svc, "198.18.1.2"); w != -1 {
		t.Fatalf("a dropped server with drain_timeout 0: weight %d, want deleted", w)
	}
	eventually(t, "deleted after the drain timeout", func() bool { return k.weight(svc, "198.18.1.1") == -1 })
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("deleted after %s, before its drain timeout, with connections open", took)
	}
	if !strings.Contains(logs.String(), "drain timeout passed") {
		t.Errorf("the timeout is not logged:\n%s", logs.String())
	}

	// Dropped, then back before it drained: it stays, at its weight.
	cfg2 := testConfig(model.Drain, 0, false)
	cfg2.Services[0].Servers[0].DrainTimeout = 10 * time.Second
	if err := e.Reload(t.Context(), cfg2); err != nil {
		t.Fatal(err)
	}
	eventually(t, "back", func() bool { return k.weight(svc, "198.18.1.1") == 3 })
	if err := e.Reload(t.Context(), next); err != nil {
		t.Fatal(err)
	}
	if err := e.Reload(t.Context(), cfg2); err != nil {
		t.Fatal(err)
	}
	eventually(t, "kept at its weight", func() bool { return k.weight(svc, "198.18.1.1") == 3 })
	if len(e.Draining()) != 0 {
		t.Errorf("still draining: %v", e.Draining())
	}
}

// memDrain is a DrainStore in memory, shared by the runs of a test.
type memDrain struct {
	mu   sync.Mutex
	recs []model.DrainRecord
}

func (m *memDrain) SaveDraining(recs []model.DrainRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append([]model.DrainRecord(nil), recs...)
	return nil
}

func (m *memDrain) get() []model.DrainRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]model.DrainRecord(nil), m.recs...)
}

// TestRestartGoesOnDraining: a server being drained before its removal is
// still drained by a restarted daemon, until its connections end, while a
// stray is deleted at start and so is a server whose drain timeout passed
// while the daemon was stopped.
func TestRestartGoesOnDraining(t *testing.T) {
	cfg := testConfig(model.Drain, 0, false)
	cfg.Services[0].Servers[0].DrainTimeout = time.Minute
	cfg.Services[0].Servers[1].DrainTimeout = time.Minute
	svc := cfg.Services[0].ServiceKey
	web1 := model.DestKey{Addr: netip.MustParseAddr("198.18.1.1"), Port: 80}
	web2 := model.DestKey{Addr: netip.MustParseAddr("198.18.1.2"), Port: 80}
	k, store := newKernel(), &memDrain{}
	p := &fakeProbes{down: map[string]bool{}}
	opts := Options{DataPlane: k, Probers: p.factory, DrainPoll: 20 * time.Millisecond, DrainStore: store}
	e, stop := run(t, cfg, opts)
	eventually(t, "service created", func() bool { return k.weight(svc, "198.18.1.2") == 3 })
	k.SetConns(svc, web1, model.ConnCount{Active: 2})
	k.SetConns(svc, web2, model.ConnCount{Active: 1})
	next := testConfig(model.Drain, 0, false)
	next.Services[0].Servers = nil
	if err := e.Reload(t.Context(), next); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both drains recorded", func() bool { return len(store.get()) == 2 })
	before := e.Draining()
	stop()

	// web2's drain ran out while the daemon was stopped; a stray appeared.
	recs := store.get()
	for i := range recs {
		if recs[i].Dest == web2 {
			recs[i].Deadline = time.Now().Add(-time.Second)
		}
	}
	st := next.State()
	st.Services[0].Dests = []model.Dest{{DestKey: model.DestKey{Addr: netip.MustParseAddr("198.18.1.7"), Port: 80}, Weight: 5}}
	k.Apply(diff.Plan(st, &model.State{}, diff.Options{}))
	var logs testlog.Buffer
	opts.Draining, opts.Logger = recs, slogTo(&logs)
	e2, _ := run(t, next, opts)
	eventually(t, "started", func() bool { return k.weight(svc, "198.18.1.7") == -1 })
	if w := k.weight(svc, "198.18.1.1"); w != 0 {
		t.Fatalf("web1, draining before the restart: weight %d after it, want 0 (still draining)", w)
	}
	if w := k.weight(svc, "198.18.1.2"); w != -1 {
		t.Errorf("web2, whose drain timeout passed while stopped: weight %d, want deleted", w)
	}
	d := e2.Draining()
	if l, ok := d[ServerKey{svc, web1}]; len(d) != 1 || !ok || !l.Deadline.Equal(before[ServerKey{svc, web1}].Deadline) {
		t.Errorf("draining after the restart: %v, want web1 with its old deadline %v", d, before[ServerKey{svc, web1}].Deadline)
	}
	for _, want := range []string{"from before the restart", "passed while the daemon was stopped"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	eventually(t, "web2 no longer recorded", func() bool { return len(store.get()) == 1 })
	k.SetConns(svc, web1, model.ConnCount{Inactive: 4})
	eventually(t, "web1 deleted once drained", func() bool { return k.weight(svc, "198.18.1.1") == -1 })
	eventually(t, "nothing recorded", func() bool { return len(store.get()) == 0 })
}

// Slow start: a server that comes back up ramps from 1 to its weight in
// steps over slow_start; at the daemon's start nothing ramps.
func TestSlowStart(t *testing.T) {
	cfg := testConfig(model.Drain, 0, false)
	for i := range cfg.Services[0].Servers {
		cfg.Services[0].Servers[i].Weight = 10
		cfg.Services[0].Servers[i].SlowStart = 500 * time.Millisecond
	}
	svc := cfg.Services[0].ServiceKey
	k := newKernel()
	p := &fakeProbes{down: map[string]bool{}}
	run(t, cfg, Options{DataPlane: k, Probers: p.factory})
	eventually(t, "full weight at start", func() bool { return k.weight(svc, "198.18.1.1") == 10 })
	p.set("198.18.1.1", true)
	eventually(t, "down", func() bool { return k.weight(svc, "198.18.1.1") == 0 })
	p.set("198.18.1.1", false)
	eventually(t, "up at weight 1", func() bool { return k.weight(svc, "198.18.1.1") == 1 })
	seen := map[int]bool{}
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) && k.weight(svc, "198.18.1.1") != 10 {
		seen[k.weight(svc, "198.18.1.1")] = true
		time.Sleep(5 * time.Millisecond)
	}
	if k.weight(svc, "198.18.1.1") != 10 {
		t.Fatalf("the ramp did not reach the weight: %d", k.weight(svc, "198.18.1.1"))
	}
	if len(seen) < 4 {
		t.Errorf("weights seen during the ramp: %v, want a few steps", seen)
	}
}

func TestRampWeight(t *testing.T) {
	for _, c := range []struct {
		w       int
		elapsed time.Duration
		want    int
		next    time.Duration
	}{
		{10, 0, 1, 3 * time.Second},
		{10, 3 * time.Second, 1, 6 * time.Second},
		{10, 6 * time.Second, 2, 9 * time.Second},
		{10, 29 * time.Second, 9, 30 * time.Second},
		{10, 30 * time.Second, 10, 0},
		{3, 10 * time.Second, 1, 20 * time.Second},
		{3, 20 * time.Second, 2, 30 * time.Second},
		{100, 15 * time.Second, 50, 18 * time.Second},
	} {
		w, next := rampWeight(c.w, 30*time.Second, c.elapsed)
		if w != c.want || next != c.next {
			t.Errorf("rampWeight(%d, 30s, %s) = %d, %s; want %d, %s", c.w, c.elapsed, w, next, c.want, c.next)
		}
	}
}

func slogTo(w *testlog.Buffer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
