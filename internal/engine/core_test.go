package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/luvs-lb/luvs/internal/diff"
	"github.com/luvs-lb/luvs/internal/fakeipvs"
	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/testlog"
)

// memStore is an OwnerStore in memory, shared by the runs of a test as the
// state directory is shared by daemon restarts.
type memStore struct {
	mu   sync.Mutex
	keys []model.ServiceKey
	fail error
}

func (s *memStore) SaveOwned(keys []model.ServiceKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.keys = slices.Clone(keys)
	return nil
}

func (s *memStore) owned() []model.ServiceKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.keys)
}

// run starts an engine and returns it with a function that stops it (as a
// SIGTERM would) and waits for Run to return.
func run(t *testing.T, cfg *model.Config, opts Options) (*Engine, func()) {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	e, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	return e, stop
}

// bigConfig is n services (from first) x m servers, each with a tcp check.
func bigConfig(first, n, m int) *model.Config {
	cfg := &model.Config{}
	chk := model.Check{Kind: model.CheckTCP, Interval: 20 * time.Millisecond, Timeout: 10 * time.Millisecond, Rise: 1, Fall: 1}
	for i := first; i < first+n; i++ {
		key, _ := model.ParseServiceKey(fmt.Sprintf("198.18.%d.%d:80", i/250, i%250+1))
		sc := model.ServiceConfig{Service: model.Service{ServiceKey: key, Scheduler: "wrr"}}
		for j := 0; j < m; j++ {
			sc.Servers = append(sc.Servers, model.ServerConfig{
				Dest:   model.Dest{DestKey: model.DestKey{Addr: netip.AddrFrom4([4]byte{198, 19, byte(j), byte(i % 250)}), Port: 80}, Weight: 1},
				Checks: []model.Check{chk},
			})
		}
		cfg.Services = append(cfg.Services, sc)
	}
	return cfg
}

// sameTable fails unless the kernel holds exactly want.
func sameTable(t *testing.T, k *fakeipvs.Kernel, want *model.State) {
	t.Helper()
	got := k.Snapshot()
	if ops := diff.Plan(want, got, diff.Options{}); len(ops) != 0 {
		t.Fatalf("kernel differs from the configuration by %d changes, first: %s", len(ops), ops[0])
	}
}

func TestRunFailsWhenTheKernelCannotBeRead(t *testing.T) {
	k := fakeipvs.New()
	k.SetReadError(errors.New("no IPVS"))
	e, err := New(testConfig(model.Drain, 0, false), Options{DataPlane: k, Probers: (&fakeProbes{}).factory})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- e.Run(context.Background()) }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Run succeeded without a kernel")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run hangs when the first kernel read fails")
	}
	if e.Health() != nil || e.ScriptView(model.ServiceKey{}) != nil {
		t.Error("requests to a stopped engine should answer empty")
	}
}

// TestCrashRecovery: a daemon killed part-way through the start-up apply or
// through a reload from A (services 0-99) to B (50-149) leaves a partial
// table; the next run of B leaves exactly B, nothing missing, no strays.
func TestCrashRecovery(t *testing.T) {
	p := &fakeProbes{down: map[string]bool{}}
	a, b := bigConfig(0, 100, 10), bigConfig(50, 100, 10)
	for _, tc := range []struct {
		name  string
		first *model.Config
		crash func(t *testing.T, e *Engine, k *fakeipvs.Kernel)
	}{
		{"during start-up", b, func(*testing.T, *Engine, *fakeipvs.Kernel) {}},
		{"during reload", a, func(t *testing.T, e *Engine, k *fakeipvs.Kernel) {
			eventually(t, "A applied", func() bool { return k.Applied() == 1100 })
			k.CrashAfter(300)
			e.Reload(context.Background(), bigConfig(50, 100, 10))
			// Adds come first: the 50 new services, then their servers.
			if n := len(k.Snapshot().Services); n != 150 {
				t.Fatalf("after the cut reload the kernel has %d services", n)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, store := fakeipvs.New(), &memStore{}
			if tc.name == "during start-up" {
				k.CrashAfter(500)
			}
			e, stopFirst := run(t, tc.first, Options{DataPlane: k, Probers: p.factory, Store: store})
			tc.crash(t, e, k)
			eventually(t, "apply cut short", func() bool { return k.Applied() >= 500 && len(store.owned()) > 0 })
			// The process dies here: nothing after the cut reaches the
			// kernel, and it stops without cleaning up.
			stopFirst()
			k.SetHook(nil)
			st := k.Snapshot()
			if n := len(st.Services); n == 0 || n == 100 && st.DestCount() == 1000 && tc.name == "during start-up" {
				t.Fatalf("the crash did not interrupt the apply (%d services)", n)
			}
			k2 := k // same kernel, new process
			_, stop := run(t, bigConfig(50, 100, 10), Options{DataPlane: k2, Probers: p.factory, Store: &memStore{keys: store.owned()}, Owned: store.owned()})
			eventually(t, "table converged", func() bool {
				return len(diff.Plan(b.State(), k.Snapshot(), diff.Options{})) == 0
			})
			stop()
			sameTable(t, k, b.State())
		})
	}
}

// TestNeverOwnedNeverTouched: services luvs never managed survive a start,
// a reload that drops everything, and a cleanup on exit.
func TestNeverOwnedNeverTouched(t *testing.T) {
	k := fakeipvs.New()
	other, _ := model.ParseServiceKey("198.18.99.1:80")
	k.Apply([]model.Op{{Kind: model.AddService, Service: &model.Service{ServiceKey: other, Scheduler: "rr"}}})
	store := &memStore{}
	e, stop := run(t, bigConfig(0, 3, 2), Options{DataPlane: k, Probers: (&fakeProbes{}).factory, Store: store, CleanupOnExit: true})
	eventually(t, "applied", func() bool { return len(k.Snapshot().Services) == 4 })
	if slices.Contains(store.owned(), other) {
		t.Error("a foreign service was recorded as owned")
	}
	e.Reload(context.Background(), &model.Config{})
	if got := k.Snapshot(); len(got.Services) != 1 || got.Services[0].ServiceKey != other {
		t.Fatalf("after dropping everything the kernel has %v", got.Services)
	}
	stop()
	if k.Weight(other, model.DestKey{}) != -1 {
		t.Error("cleanup removed a foreign service")
	}
	if len(store.owned()) != 0 {
		t.Errorf("owned after everything was deleted: %v", store.owned())
	}
}

// TestOwnershipRecordedBeforeAdd: the record names a service before the
// kernel gets it; if the record cannot be written nothing is added.
func TestOwnershipRecordedBeforeAdd(t *testing.T) {
	k, store := fakeipvs.New(), &memStore{fail: errors.New("disk full")}
	var bad atomic.Bool
	k.SetHook(func(op model.Op) error {
		if op.Kind == model.AddService && !slices.Contains(store.owned(), op.Service.ServiceKey) {
			bad.Store(true)
		}
		return nil
	})
	run(t, bigConfig(0, 2, 1), Options{DataPlane: k, Probers: (&fakeProbes{}).factory, Store: store})
	time.Sleep(100 * time.Millisecond)
	if n := len(k.Snapshot().Services); n != 0 {
		t.Fatalf("%d services added although they could not be recorded", n)
	}
	store.mu.Lock()
	store.fail = nil
	store.mu.Unlock()
	eventually(t, "applied after the store recovered (retry)", func() bool { return len(k.Snapshot().Services) == 2 })
	if bad.Load() {
		t.Error("a service was added before it was recorded")
	}
}

// TestFailedDeleteIsRetried: a service dropped by a reload whose delete
// fails stays owned and is deleted by a later attempt.
func TestFailedDeleteIsRetried(t *testing.T) {
	k, store := fakeipvs.New(), &memStore{}
	e, _ := run(t, bigConfig(0, 2, 1), Options{DataPlane: k, Probers: (&fakeProbes{}).factory, Store: store})
	eventually(t, "applied", func() bool { return len(k.Snapshot().Services) == 2 })
	var fails atomic.Int32
	k.SetHook(func(op model.Op) error {
		if op.Kind == model.DelService && fails.Add(1) == 1 {
			return unix.EBUSY
		}
		return nil
	})
	e.Reload(context.Background(), bigConfig(0, 1, 1))
	if len(store.owned()) != 2 {
		t.Errorf("a service whose delete failed is no longer owned: %v", store.owned())
	}
	eventually(t, "delete retried", func() bool { return len(k.Snapshot().Services) == 1 })
	eventually(t, "record updated", func() bool { return len(store.owned()) == 1 })
}

// checkOfEachKind returns one check of every kind with its settings, built
// afresh on each call (new pointers, equal values).
func checkOfEachKind() []model.Check {
	base := model.Check{Interval: 20 * time.Millisecond, Timeout: 10 * time.Millisecond, Rise: 2, Fall: 1}
	var out []model.Check
	for _, kind := range []model.CheckKind{model.CheckHTTP, model.CheckHTTPS, model.CheckTCP, model.CheckUDP, model.CheckDNS, model.CheckExec, model.CheckPing} {
		c := base
		c.Kind = kind
		switch kind {
		case model.CheckHTTP, model.CheckHTTPS:
			c.HTTP = &model.HTTPCheck{Method: "GET", Path: "/health", Headers: map[string]string{"X-A": "1", "X-B": "2"},
				Status: []model.StatusRange{{Lo: 200, Hi: 299}}, Body: "ok"}
		case model.CheckUDP:
			c.UDP = &model.UDPCheck{Payload: []byte("ping"), Expect: []byte("pong")}
		case model.CheckDNS:
			c.DNS = &model.DNSCheck{Name: "example.test", Type: "A", Rcode: "NOERROR"}
		case model.CheckExec:
			c.Exec = &model.ExecCheck{Argv: []string{"/bin/check", "--fast"}, DynamicWeight: true}
		}
		out = append(out, c)
	}
	return out
}

// TestDrainedServerStaysDrainedAcrossReloads: for each check kind, a
// drained server never gets a weight above 0 across reloads of an equal
// configuration (built anew, so its checks are equal values, not the same
// pointers), and a changed check keeps it drained until its first probe.
func TestDrainedServerStaysDrainedAcrossReloads(t *testing.T) {
	for _, chk := range checkOfEachKind() {
		t.Run(string(chk.Kind), func(t *testing.T) {
			build := func(mutate bool) *model.Config {
				cfg := testConfig(model.Drain, 0, false)
				c := checkOfEachKind()[slices.IndexFunc(checkOfEachKind(), func(c model.Check) bool { return c.Kind == chk.Kind })]
				if mutate {
					c.Interval = 30 * time.Millisecond
				}
				c.Where = fmt.Sprintf("web.lua:%d:1", time.Now().Nanosecond()) // positions may move
				for i := range cfg.Services[0].Servers {
					cfg.Services[0].Servers[i].Checks = []model.Check{c}
				}
				return cfg
			}
			k, p := newKernel(), &fakeProbes{down: map[string]bool{"198.18.1.1": true}}
			svc := build(false).Services[0].ServiceKey
			e, _ := run(t, build(false), Options{DataPlane: k, Probers: p.factory})
			eventually(t, "drained", func() bool { return k.weight(svc, "198.18.1.1") == 0 })
			var revived atomic.Bool
			k.SetHook(func(op model.Op) error {
				if op.Dest != nil && op.Dest.Addr.String() == "198.18.1.1" && op.Dest.Weight > 0 {
					revived.Store(true)
				}
				return nil
			})
			for i := 0; i < 5; i++ {
				if err := e.Reload(context.Background(), build(i == 4)); err != nil {
					t.Fatal(err)
				}
				time.Sleep(30 * time.Millisecond)
			}
			if revived.Load() {
				t.Fatal("a reload put a dead server back into service")
			}
			if w := k.weight(svc, "198.18.1.2"); w != 3 {
				t.Errorf("healthy server has weight %d", w)
			}
		})
	}
}

// TestRestartKeepsDrainedServerDrained: the kernel holds a drained server
// (weight 0) and a sorry-mode service; a new engine must not raise either
// before the checks decide, and raises the drained one once they pass.
func TestRestartKeepsDrainedServerDrained(t *testing.T) {
	cfg := testConfig(model.Drain, 0, false)
	svc := cfg.Services[0].ServiceKey
	k, p := newKernel(), &fakeProbes{down: map[string]bool{"198.18.1.1": true}}
	st := cfg.State()
	st.Services[0].Dests[0].Weight = 0
	k.Apply(diff.Plan(st, &model.State{}, diff.Options{}))
	var revived atomic.Bool
	k.SetHook(func(op model.Op) error {
		if op.Dest != nil && op.Dest.Addr.String() == "198.18.1.1" && op.Dest.Weight > 0 {
			revived.Store(true)
		}
		return nil
	})
	_, stop := run(t, cfg, Options{DataPlane: k, Probers: p.factory})
	time.Sleep(200 * time.Millisecond)
	if revived.Load() || k.weight(svc, "198.18.1.1") != 0 {
		t.Fatal("a restart put a dead server back into service")
	}
	p.set("198.18.1.1", false)
	eventually(t, "restored once its check passes", func() bool { return k.weight(svc, "198.18.1.1") == 3 })
	stop()

	// Quorum lost before the restart: only the sorry server is in the kernel.
	q := testConfig(model.Drain, 4, true)
	k2 := newKernel()
	sorry := q.State()
	sorry.Services[0].Dests = []model.Dest{*q.Services[0].Sorry}
	k2.Apply(diff.Plan(sorry, &model.State{}, diff.Options{}))
	p2 := &fakeProbes{down: map[string]bool{"198.18.1.1": true}}
	run(t, q, Options{DataPlane: k2, Probers: p2.factory})
	time.Sleep(200 * time.Millisecond)
	if k2.weight(svc, "198.18.1.1") != -1 || k2.weight(svc, "198.18.9.1") != 1 {
		t.Fatalf("restart left sorry mode early: table %+v", k2.Snapshot())
	}
	p2.set("198.18.1.1", false)
	eventually(t, "quorum regained", func() bool { return k2.weight(svc, "198.18.9.1") == -1 && k2.weight(svc, "198.18.1.1") == 3 })
}

// TestHealthChangesReadNothing: at 1,000 x 10 with repair off, health
// transitions are applied from the table the engine keeps: one full read at
// start, none after.
func TestHealthChangesReadNothing(t *testing.T) {
	cfg := bigConfig(0, 1000, 10)
	k, p := fakeipvs.New(), &fakeProbes{down: map[string]bool{}}
	e, _ := run(t, cfg, Options{DataPlane: k, Probers: p.factory})
	eventually(t, "applied", func() bool { return k.Applied() == 11000 })
	svc := cfg.Services[0].ServiceKey
	for i := 0; i < 10; i++ {
		addr := cfg.Services[0].Servers[i].Addr
		p.set(addr.String(), true)
		eventually(t, "drained", func() bool { return k.Weight(svc, model.DestKey{Addr: addr, Port: 80}) == 0 })
	}
	if r := k.Reads(); r != 1 {
		t.Errorf("%d full table reads for 10 health transitions, want 1 (at start)", r)
	}
	if s := e.Stats(); s.TableReads != 1 {
		t.Errorf("Stats.TableReads = %d, want 1", s.TableReads)
	}
}

// TestFailedApplyRereads: after the kernel refuses a change the engine reads
// the table again and converges.
func TestFailedApplyRereads(t *testing.T) {
	cfg := testConfig(model.Drain, 0, false)
	svc := cfg.Services[0].ServiceKey
	k, p := newKernel(), &fakeProbes{down: map[string]bool{}}
	var once atomic.Bool
	k.SetHook(func(op model.Op) error {
		if op.Kind == model.AddDest && !once.Swap(true) {
			return unix.ENOMEM
		}
		return nil
	})
	run(t, cfg, Options{DataPlane: k, Probers: p.factory})
	eventually(t, "converged after the failure", func() bool {
		return k.weight(svc, "198.18.1.1") == 3 && k.weight(svc, "198.18.1.2") == 3
	})
	if k.Reads() < 2 {
		t.Errorf("no read after a failed apply (%d reads)", k.Reads())
	}
}

// TestStoppedMonitorsLeaveTheScheduler: a reload that changes or drops
// checks leaves only the configured monitors queued.
func TestStoppedMonitorsLeaveTheScheduler(t *testing.T) {
	p := &fakeProbes{down: map[string]bool{}}
	e, _ := run(t, bigConfig(0, 10, 10), Options{DataPlane: fakeipvs.New(), Probers: p.factory})
	for i := 0; i < 5; i++ {
		cfg := bigConfig(0, 10-i, 10)
		for s := range cfg.Services {
			for r := range cfg.Services[s].Servers {
				cfg.Services[s].Servers[r].Checks[0].Interval += time.Duration(i) * time.Millisecond
			}
		}
		e.Reload(context.Background(), cfg)
	}
	want := 6 * 10
	eventually(t, "only configured monitors queued", func() bool {
		var n int
		e.call(func() { n = len(e.monitors) })
		return n == want && e.sched.queued() <= want
	})
}

// TestReloadRacesHealth: reloads, probe verdicts and Lua overrides arriving
// at once leave the kernel equal to what the last configuration and health
// ask for (under -race, also no data race).
func TestReloadRacesHealth(t *testing.T) {
	k, p := fakeipvs.New(), &fakeProbes{down: map[string]bool{}}
	cfg := bigConfig(0, 20, 5)
	e, _ := run(t, cfg, Options{DataPlane: k, Probers: p.factory, RepairInterval: 0})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(2)
	until := func(fn func(i int)) { // runs fn(0), fn(1), ... until stop
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			fn(i)
		}
	}
	go until(func(i int) { // flapping servers
		p.set(cfg.Services[0].Servers[i%5].Addr.String(), i%2 == 0)
		time.Sleep(time.Millisecond)
	})
	go until(func(i int) { // a Lua check changing weights
		e.ScriptWeight(cfg.Services[1].ServiceKey, cfg.Services[1].Servers[0].DestKey, i%5+1)
		e.ScriptView(cfg.Services[1].ServiceKey)
		runtime.Gosched()
	})
	for i := 0; i < 20; i++ {
		next := bigConfig(0, 20, 5)
		next.Services[2].Servers[0].Weight = i + 1
		if err := e.Reload(context.Background(), next); err != nil {
			t.Fatal(err)
		}
		if w := k.Weight(next.Services[2].ServiceKey, next.Services[2].Servers[0].DestKey); w != i+1 {
			t.Fatalf("reload %d: weight %d right after the reload, want %d", i, w, i+1)
		}
	}
	close(stop)
	wg.Wait()
	for _, rs := range cfg.Services[0].Servers {
		p.set(rs.Addr.String(), false)
	}
	final := bigConfig(0, 20, 5)
	final.Services[2].Servers[0].Weight = 20
	if err := e.Reload(context.Background(), final); err != nil { // (drops the Lua overrides)
		t.Fatal(err)
	}
	eventually(t, "kernel equal to the last configuration", func() bool {
		return len(diff.Plan(final.State(), k.Snapshot(), diff.Options{})) == 0
	})
}

// TestSharedChecks: 100 services over the same two servers with equal
// checks run two probes; a verdict reaches every service.
func TestSharedChecks(t *testing.T) {
	cfg := &model.Config{}
	for i := 0; i < 100; i++ {
		c := testConfig(model.Drain, 0, false).Services[0]
		c.Port = uint16(1000 + i)
		for j := range c.Servers {
			chk := c.Servers[j].Checks[0]
			chk.Where = fmt.Sprintf("web.lua:%d:1", i) // another position, the same check
			c.Servers[j].Checks = []model.Check{chk}
		}
		cfg.Services = append(cfg.Services, c)
	}
	k, p := newKernel(), &fakeProbes{down: map[string]bool{}}
	e, _ := run(t, cfg, Options{DataPlane: k, Probers: p.factory})
	eventually(t, "applied", func() bool { return k.Applied() == 300 })
	if n := e.Stats().Probes; n != 2 {
		t.Errorf("%d probes for 100 services over 2 servers, want 2", n)
	}
	p.set("198.18.1.1", true)
	eventually(t, "every service drained the server", func() bool {
		for _, s := range cfg.Services {
			if k.weight(s.ServiceKey, "198.18.1.1") != 0 {
				return false
			}
		}
		return true
	})
	if h := e.Health(); len(h) != 200 || h[ServerKey{cfg.Services[42].ServiceKey, cfg.Services[42].Servers[0].DestKey}].Up {
		t.Errorf("health should show each service's view (%d entries)", len(h))
	}
}

// TestGlobalsFollowTheConfiguration: timeouts and sync daemons are set at
// start, a reload that drops a sync daemon stops it, one that changes
// nothing changes nothing.
func TestGlobalsFollowTheConfiguration(t *testing.T) {
	k := fakeipvs.New()
	master := model.SyncDaemon{State: model.SyncMaster, Interface: "eth0", SyncID: 9}
	cfg := bigConfig(0, 1, 1)
	cfg.Timeouts = &model.Timeouts{UDP: 60}
	cfg.SyncDaemons = []model.SyncDaemon{master}
	e, _ := run(t, cfg, Options{DataPlane: k, Probers: (&fakeProbes{}).factory})
	eventually(t, "the sync daemon to start", func() bool { ds, _ := k.Daemons(); return len(ds) == 1 })
	if tm, _ := k.Timeouts(); tm.UDP != 60 || tm.TCP != 900 {
		t.Fatalf("timeouts %+v, want udp 60 and the rest untouched", tm)
	}
	n := k.GlobalChanges()
	same := bigConfig(0, 1, 1)
	same.Timeouts, same.SyncDaemons = cfg.Timeouts, cfg.SyncDaemons
	if err := e.Reload(context.Background(), same); err != nil {
		t.Fatal(err)
	}
	if k.GlobalChanges() != n {
		t.Fatalf("a reload with the same settings made %d changes", k.GlobalChanges()-n)
	}
	if err := e.Reload(context.Background(), bigConfig(0, 1, 1)); err != nil {
		t.Fatal(err)
	}
	if ds, _ := k.Daemons(); len(ds) != 0 {
		t.Fatalf("the dropped sync daemon still runs: %+v", ds)
	}
}

// hookLog records the events handed to the hook runner.
type hookLog struct {
	mu     sync.Mutex
	events []string
}

func (h *hookLog) record(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := ev.Kind + " " + ev.Service.String()
	if ev.Server.Addr.IsValid() {
		s += " " + ev.Server.String()
	}
	if ev.Hook.Argv != nil {
		s += " " + strings.Join(ev.Hook.Argv, " ")
	} else {
		s += " " + ev.Hook.String()
	}
	h.events = append(h.events, s)
}

func (h *hookLog) list() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.events)
}

// TestAlphaAndNotifyHooks: an alpha server stays out of the table until its
// check passes (then notify_up runs, once); a failing server runs
// notify_down and, when the quorum goes, quorum_down; a recovery runs
// notify_up and quorum_up.
func TestAlphaAndNotifyHooks(t *testing.T) {
	k := fakeipvs.New()
	probes := &fakeProbes{down: map[string]bool{"198.18.1.1": true}}
	cfg := testConfig(model.Drain, 6, false)
	sc := &cfg.Services[0]
	sc.QuorumUp, sc.QuorumDown = model.Hook{Argv: []string{"/q", "up"}}, model.Hook{Argv: []string{"/q", "down"}}
	for i := range sc.Servers {
		sc.Servers[i].Alpha = true
		sc.Servers[i].NotifyUp, sc.Servers[i].NotifyDown = model.Hook{Argv: []string{"/n", "up"}}, model.Hook{Argv: []string{"/n", "down"}}
	}
	hooks := &hookLog{}
	_, _ = run(t, cfg, Options{DataPlane: k, Probers: probes.factory, Hooks: hooks.record})
	svc := sc.ServiceKey
	one, two := sc.Servers[0].DestKey, sc.Servers[1].DestKey
	eventually(t, "198.18.1.2 to come up", func() bool { return k.Weight(svc, two) == 3 })
	if w := k.Weight(svc, one); w > 0 {
		t.Fatalf("alpha server 198.18.1.1 has weight %d before any check passed", w)
	}
	want := []string{"quorum_down TCP 198.18.0.10:80 /q down", "up TCP 198.18.0.10:80 198.18.1.2:80 /n up"}
	eventually(t, "the hooks of the start", func() bool { return slices.Equal(hooks.list(), want) })

	probes.set("198.18.1.1", false)
	eventually(t, "198.18.1.1 to come up", func() bool { return k.Weight(svc, one) == 3 })
	want = append(want, "up TCP 198.18.0.10:80 198.18.1.1:80 /n up", "quorum_up TCP 198.18.0.10:80 /q up")
	eventually(t, "notify_up and quorum_up", func() bool { return slices.Equal(hooks.list(), want) })

	probes.set("198.18.1.1", true)
	eventually(t, "198.18.1.1 to be drained", func() bool { return k.Weight(svc, one) == 0 })
	want = append(want, "down TCP 198.18.0.10:80 198.18.1.1:80 /n down", "quorum_down TCP 198.18.0.10:80 /q down")
	eventually(t, "notify_down and quorum_down", func() bool { return slices.Equal(hooks.list(), want) })
}

// TestLuaHooksGoToLuaHooks: without a Hooks override, an event whose hook
// is a Lua function goes to LuaHooks (with the event's fields) and one
// whose hook is a program runs the program; without LuaHooks, a Lua hook
// is logged as not run.
func TestLuaHooksGoToLuaHooks(t *testing.T) {
	for _, withLua := range []bool{true, false} {
		k := fakeipvs.New()
		probes := &fakeProbes{down: map[string]bool{}}
		cfg := testConfig(model.Drain, 6, false)
		sc := &cfg.Services[0]
		sc.Name = "web"
		sc.QuorumDown = model.Hook{Func: "t.lua:9", Where: "t.lua:9"}
		sc.Servers[0].Name = "web1"
		sc.Servers[0].NotifyDown = model.Hook{Func: "t.lua:3#2", Where: "t.lua:3"}
		sc.Servers[1].NotifyDown = model.Hook{Argv: []string{"/bin/true"}}
		lua := &hookLog{}
		var logs testlog.Buffer
		opts := Options{DataPlane: k, Probers: probes.factory, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
		if withLua {
			opts.LuaHooks = lua.record
		}
		run(t, cfg, opts)
		svc := sc.ServiceKey
		eventually(t, "servers up", func() bool { return k.Weight(svc, sc.Servers[1].DestKey) == 3 })
		probes.set("198.18.1.1", true)
		probes.set("198.18.1.2", true)
		eventually(t, "notify program ran", func() bool { return strings.Contains(logs.String(), `msg="notify program ran" event=down`) })
		if !withLua {
			eventually(t, "Lua hooks logged", func() bool {
				return strings.Count(logs.String(), `msg="Lua hook not run: no Lua runtime"`) == 2
			})
			continue
		}
		want := []string{"down TCP 198.18.0.10:80 198.18.1.1:80 lua function (t.lua:3)", "quorum_down TCP 198.18.0.10:80 lua function (t.lua:9)"}
		eventually(t, "Lua notify_down and quorum_down", func() bool {
			l := lua.list()
			slices.Sort(l)
			return slices.Equal(l, want)
		})
	}
}

// TestRepairTickAppliesPendingChangesFirst: a repair tick that comes while
// health changes wait to settle applies them as health changes, and does
// not report them as changes made outside luvs.
func TestRepairTickAppliesPendingChangesFirst(t *testing.T) {
	cfg := testConfig(model.Drain, 0, false)
	svc := cfg.Services[0].ServiceKey
	k, p := newKernel(), &fakeProbes{down: map[string]bool{}}
	var logs testlog.Buffer
	run(t, cfg, Options{DataPlane: k, Probers: p.factory, Settle: 2 * time.Second, RepairInterval: 30 * time.Millisecond, Logger: slogTo(&logs)})
	eventually(t, "service created", func() bool { return k.weight(svc, "198.18.1.1") == 3 })
	p.set("198.18.1.1", true)
	eventually(t, "drained", func() bool { return k.weight(svc, "198.18.1.1") == 0 })
	if strings.Contains(logs.String(), "repaired a change made outside luvs") {
		t.Errorf("a pending health change was reported as an outside change:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "why=health") {
		t.Errorf("the health change is not logged as one:\n%s", logs.String())
	}
}
