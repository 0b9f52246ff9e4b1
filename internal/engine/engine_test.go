package engine

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/fakeipvs"
	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/poll"
	"github.com/luvs-lb/luvs/internal/testlog"
)

// fakeKernel wraps the shared fake table with an address-string lookup.
type fakeKernel struct{ *fakeipvs.Kernel }

func newKernel() *fakeKernel { return &fakeKernel{fakeipvs.New()} }

// weight returns a server's weight, -1 when absent, -2 without the service.
func (k *fakeKernel) weight(svc model.ServiceKey, addr string) int {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return k.Weight(svc, model.DestKey{})
	}
	return k.Weight(svc, model.DestKey{Addr: a, Port: 80})
}

// fakeProbes answers by address; unknown addresses are up.
type fakeProbes struct {
	mu   sync.Mutex
	down map[string]bool
}

func (f *fakeProbes) set(addr string, down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down[addr] = down
}

func (f *fakeProbes) factory(model.Check) (Prober, error) { return f, nil }

func (f *fakeProbes) Probe(ctx context.Context, addr netip.Addr, port uint16) ProbeResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down[addr.String()] {
		return ProbeResult{OK: false, Weight: -1, Msg: "connection refused"}
	}
	return ProbeResult{OK: true, Weight: -1}
}

func testConfig(onFail model.OnFail, quorum int, sorry bool) *model.Config {
	key, _ := model.ParseServiceKey("198.18.0.10:80")
	chk := model.Check{Kind: model.CheckTCP, Interval: 10 * time.Millisecond, Timeout: 5 * time.Millisecond, Rise: 2, Fall: 2}
	sc := model.ServiceConfig{Service: model.Service{ServiceKey: key, Scheduler: "wrr"}, Quorum: quorum}
	for _, a := range []string{"198.18.1.1", "198.18.1.2"} {
		sc.Servers = append(sc.Servers, model.ServerConfig{
			Dest:   model.Dest{DestKey: model.DestKey{Addr: netip.MustParseAddr(a), Port: 80}, Weight: 3, Forward: model.Masquerade},
			Checks: []model.Check{chk}, OnFail: onFail,
		})
	}
	if sorry {
		sc.Sorry = &model.Dest{DestKey: model.DestKey{Addr: netip.MustParseAddr("198.18.9.1"), Port: 80}, Weight: 1}
	}
	return &model.Config{Services: []model.ServiceConfig{sc}}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	poll.Until(t, what, 3*time.Second, cond)
}

func start(t *testing.T, cfg *model.Config, k *fakeKernel, p *fakeProbes, logs io.Writer) *Engine {
	t.Helper()
	e, err := New(cfg, Options{DataPlane: k, Probers: p.factory, RepairInterval: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return e
}

func TestDrainAndRestore(t *testing.T) {
	cfg := testConfig(model.Drain, 0, false)
	svc := cfg.Services[0].ServiceKey
	k, p := newKernel(), &fakeProbes{down: map[string]bool{}}
	var logs testlog.Buffer
	start(t, cfg, k, p, &logs)
	eventually(t, "service created", func() bool { return k.weight(svc, "198.18.1.1") == 3 })
	p.set("198.18.1.1", true)
	eventually(t, "drained", func() bool { return k.weight(svc, "198.18.1.1") == 0 })
	if k.weight(svc, "198.18.1.2") != 3 {
		t.Error("healthy server touched")
	}
	p.set("198.18.1.1", false)
	eventually(t, "restored", func() bool { return k.weight(svc, "198.18.1.1") == 3 })
}

func TestRemoveOnFail(t *testing.T) {
	cfg := testConfig(model.Remove, 0, false)
	svc := cfg.Services[0].ServiceKey
	k, p := newKernel(), &fakeProbes{down: map[string]bool{}}
	start(t, cfg, k, p, io.Discard)
	eventually(t, "service created", func() bool { return k.weight(svc, "198.18.1.2") == 3 })
	p.set("198.18.1.2", true)
	eventually(t, "removed", func() bool { return k.weight(svc, "198.18.1.2") == -1 })
	p.set("198.18.1.2", false)
	eventually(t, "re-added", func() bool { return k.weight(svc, "198.18.1.2") == 3 })
}

func TestQuorumAndSorryServer(t *testing.T) {
	cfg := testConfig(model.Drain, 4, true) // quorum 4: both servers (3+3) needed above 3
	svc := cfg.Services[0].ServiceKey
	k, p := newKernel(), &fakeProbes{down: map[string]bool{}}
	var logs testlog.Buffer
	start(t, cfg, k, p, &logs)
	eventually(t, "service created", func() bool { return k.weight(svc, "198.18.1.1") == 3 })
	p.set("198.18.1.1", true)
	eventually(t, "sorry server in", func() bool { return k.weight(svc, "198.18.9.1") == 1 && k.weight(svc, "198.18.1.2") == -1 })
	p.set("198.18.1.1", false)
	eventually(t, "sorry server out", func() bool { return k.weight(svc, "198.18.9.1") == -1 && k.weight(svc, "198.18.1.1") == 3 })
	for _, want := range []string{"quorum lost", "sorry_server=198.18.9.1:80", "quorum regained"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, logs.String())
		}
	}
}

func TestRepairsDrift(t *testing.T) {
	cfg := testConfig(model.Drain, 0, false)
	svc := cfg.Services[0].ServiceKey
	k, p := newKernel(), &fakeProbes{down: map[string]bool{}}
	var logs testlog.Buffer
	e := start(t, cfg, k, p, &logs)
	eventually(t, "service created", func() bool { return k.weight(svc, "198.18.1.1") == 3 })
	// Someone changes a weight and adds a service luvs does not own.
	other, _ := model.ParseServiceKey("198.18.0.99:80")
	k.Apply([]model.Op{
		{Kind: model.EditDest, Service: &model.Service{ServiceKey: svc}, Dest: &model.Dest{DestKey: model.DestKey{Addr: netip.MustParseAddr("198.18.1.1"), Port: 80}, Weight: 7}},
		{Kind: model.AddService, Service: &model.Service{ServiceKey: other, Scheduler: "rr"}},
	})
	eventually(t, "repaired", func() bool { return k.weight(svc, "198.18.1.1") == 3 })
	if k.weight(other, "x") != -1 {
		t.Error("a service luvs does not own was touched")
	}
	if e.Stats().Repairs == 0 || !strings.Contains(logs.String(), "repaired a change made outside luvs") {
		t.Errorf("repair not logged: %s", logs.String())
	}
}

func TestReloadKeepsHealth(t *testing.T) {
	cfg := testConfig(model.Drain, 0, false)
	svc := cfg.Services[0].ServiceKey
	k, p := newKernel(), &fakeProbes{down: map[string]bool{}}
	e := start(t, cfg, k, p, io.Discard)
	p.set("198.18.1.1", true)
	eventually(t, "drained", func() bool { return k.weight(svc, "198.18.1.1") == 0 })
	// Same checks, another weight for the healthy server: the drained one
	// stays drained (its check history is kept), the other gets its new weight.
	next := testConfig(model.Drain, 0, false)
	next.Services[0].Servers[1].Weight = 5
	if err := e.Reload(context.Background(), next); err != nil {
		t.Fatal(err)
	}
	if w := k.weight(svc, "198.18.1.1"); w != 0 {
		t.Errorf("after reload the failed server has weight %d, want 0", w)
	}
	if w := k.weight(svc, "198.18.1.2"); w != 5 {
		t.Errorf("after reload weight %d, want 5", w)
	}
	// A reload that drops the service deletes it.
	if err := e.Reload(context.Background(), &model.Config{}); err != nil {
		t.Fatal(err)
	}
	if k.weight(svc, "x") != -2 {
		t.Error("dropped service still present")
	}
}

// tryProbes is fakeProbes as a TryProber: 198.18.1.1 is answered on the
// scheduler's goroutine, 198.18.1.2 by the rest of the probe on a worker.
type tryProbes struct{ *fakeProbes }

func (f tryProbes) factory(model.Check) (Prober, error) { return f, nil }

func (f tryProbes) ProbeBy(ctx context.Context, _ time.Time, addr netip.Addr, port uint16) ProbeResult {
	return f.Probe(ctx, addr, port)
}

func (f tryProbes) TryProbeBy(ctx context.Context, d time.Time, addr netip.Addr, port uint16) (ProbeResult, func() ProbeResult) {
	if addr.String() == "198.18.1.2" {
		return ProbeResult{}, func() ProbeResult { return f.ProbeBy(ctx, d, addr, port) }
	}
	return f.Probe(ctx, addr, port), nil
}

func TestTryProber(t *testing.T) {
	cfg := testConfig(model.Drain, 0, false)
	svc := cfg.Services[0].ServiceKey
	k, p := newKernel(), &fakeProbes{down: map[string]bool{}}
	e, err := New(cfg, Options{DataPlane: k, Probers: tryProbes{p}.factory, RepairInterval: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	eventually(t, "service created", func() bool { return k.weight(svc, "198.18.1.1") == 3 && k.weight(svc, "198.18.1.2") == 3 })
	for _, a := range []string{"198.18.1.1", "198.18.1.2"} {
		p.set(a, true)
		eventually(t, a+" drained", func() bool { return k.weight(svc, a) == 0 })
		p.set(a, false)
		eventually(t, a+" restored", func() bool { return k.weight(svc, a) == 3 })
	}
}
