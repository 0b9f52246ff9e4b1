package failover

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/engine"
	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/poll"
	"github.com/luvs-lb/luvs/internal/vrrp"
)

// fakeRouter is a virtual router whose state the test sets.
type fakeRouter struct {
	mu      sync.Mutex
	prio    uint8
	state   vrrp.State
	running bool
	notify  func(vrrp.Transition)
}

func (f *fakeRouter) Run(ctx context.Context) error {
	f.mu.Lock()
	f.running = true
	f.mu.Unlock()
	<-ctx.Done()
	f.mu.Lock()
	f.running = false
	f.mu.Unlock()
	return nil
}

func (f *fakeRouter) SetPriority(p uint8) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prio = p
	return nil
}

func (f *fakeRouter) Status() vrrp.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return vrrp.Status{State: f.state, Priority: f.prio}
}

func (f *fakeRouter) become(s vrrp.State) {
	f.mu.Lock()
	from := f.state
	f.state = s
	f.mu.Unlock()
	f.notify(vrrp.Transition{From: from, To: s, Reason: "test"})
}

func (f *fakeRouter) priority() uint8 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.prio
}

// fakeEngine records the followed sync daemons and the hooks fired.
type fakeEngine struct {
	mu    sync.Mutex
	last  string
	fired []string
}

func (e *fakeEngine) Fire(ev engine.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.fired = append(e.fired, ev.Kind+" "+ev.Name+" "+strings.Join(ev.Hook.Argv, " "))
}

func (e *fakeEngine) hooks() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.fired, "; ")
}

func (e *fakeEngine) SetFollowedSync(ds []model.SyncDaemon, why string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var s []string
	for _, d := range ds {
		s = append(s, d.State.String()+" "+d.Interface)
	}
	e.last = strings.Join(s, ", ")
	return nil
}

func (e *fakeEngine) sync() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.last
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	poll.Until(t, what, 3*time.Second, cond)
}

// TestManager: a router's priority follows its tracked services (weight
// per failing one); with weight 0 it gives the mastership up (stopped)
// while one fails and comes back after; its sync daemon follows the role;
// Status shows it.
func TestManager(t *testing.T) {
	web := model.ServiceKey{Family: model.IPv4, Protocol: model.TCP, Addr: netip.MustParseAddr("198.18.0.10"), Port: 80}
	tls := web
	tls.Port = 443
	routers := map[string]*fakeRouter{}
	var mu sync.Mutex
	open := func(v model.VRRP, onT func(vrrp.Transition), _ *slog.Logger) (Router, func(), error) {
		mu.Lock()
		defer mu.Unlock()
		r := &fakeRouter{prio: v.Priority, state: vrrp.Backup, notify: onT}
		routers[v.Name] = r
		return r, func() {}, nil
	}
	get := func(name string) *fakeRouter {
		mu.Lock()
		defer mu.Unlock()
		return routers[name]
	}
	eng := &fakeEngine{}
	m := New(slog.New(slog.NewTextHandler(io.Discard, nil)), eng, open)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	vs := []model.VRRP{
		{Name: "VI_1", Interface: "eth0", VRID: 51, Priority: 150, AdvertInterval: time.Second, Preempt: true,
			Addresses:     []netip.Prefix{netip.MustParsePrefix("198.18.0.10/32")},
			TrackServices: []model.ServiceKey{web, tls}, TrackWeight: -60,
			Sync: &model.SyncDaemon{Interface: "eth1", SyncID: 51}},
		{Name: "VI_2", Interface: "eth0", VRID: 52, Priority: 100, AdvertInterval: time.Second, Preempt: true,
			Addresses:     []netip.Prefix{netip.MustParsePrefix("198.18.0.11/32")},
			TrackServices: []model.ServiceKey{web},
			NotifyMaster:  model.Hook{Argv: []string{"/bin/m"}}, NotifyBackup: model.Hook{Argv: []string{"/bin/b"}},
			NotifyFault: model.Hook{Argv: []string{"/bin/f"}}},
	}
	if err := m.Configure(ctx, vs); err != nil {
		t.Fatal(err)
	}
	if eng.sync() != "backup eth1" {
		t.Errorf("sync daemon as backup: %q", eng.sync())
	}
	get("VI_1").become(vrrp.Master)
	eventually(t, "the master sync daemon", func() bool { return eng.sync() == "master eth1" })

	m.Serving(map[model.ServiceKey]bool{web: false, tls: true})
	eventually(t, "VI_1 at 90", func() bool { return get("VI_1").priority() == 90 })
	eventually(t, "VI_2 gives the mastership up", func() bool {
		for _, s := range m.Status() {
			if s.Name == "VI_2" {
				return s.State == "fault" && strings.Contains(s.Reason, "TCP 198.18.0.10:80")
			}
		}
		return false
	})
	if h := eng.hooks(); h != "fault VI_2 /bin/f" {
		t.Errorf("hooks fired: %q, want VI_2's notify_fault", h)
	}
	m.Serving(map[model.ServiceKey]bool{web: false, tls: false})
	eventually(t, "VI_1 at 30", func() bool { return get("VI_1").priority() == 30 })
	old := get("VI_2")
	m.Serving(map[model.ServiceKey]bool{web: true, tls: true})
	eventually(t, "VI_1 back at 150", func() bool { return get("VI_1").priority() == 150 })
	eventually(t, "VI_2 started again", func() bool { r := get("VI_2"); return r != old && r.Status().State == vrrp.Backup })

	get("VI_2").become(vrrp.Master)
	eventually(t, "VI_2's notify_master", func() bool { return strings.HasSuffix(eng.hooks(), "master VI_2 /bin/m") })
	get("VI_1").become(vrrp.Backup)
	eventually(t, "the backup sync daemon again", func() bool { return eng.sync() == "backup eth1" })

	// A reload without VI_2 stops it; VI_1 unchanged keeps its router.
	keep := get("VI_1")
	if err := m.Configure(ctx, vs[:1]); err != nil {
		t.Fatal(err)
	}
	st := m.Status()
	if len(st) != 1 || st[0].Name != "VI_1" || get("VI_1") != keep {
		t.Errorf("after the reload: %+v", st)
	}
}
