package engine

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/testlog"
)

// fakeRoutes records what the engine asks to announce.
type fakeRoutes struct {
	mu    sync.Mutex
	sets  int
	last  map[netip.Prefix]model.Announce
	calls []string
}

func (f *fakeRoutes) SetRoutes(m map[netip.Prefix]model.Announce) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sets++
	f.last = m
	var ps []string
	for p := range m {
		ps = append(ps, p.String())
	}
	slices.Sort(ps)
	f.calls = append(f.calls, strings.Join(ps, " "))
}

func (f *fakeRoutes) announced() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		return "(never set)"
	}
	return f.calls[len(f.calls)-1]
}

// TestRoutesFollowHealth: a virtual address is announced while every
// service on it serves; one service losing its live servers withdraws it,
// and their return announces it again. A service on another address is
// announced on its own; one that does not ask is not. Health changes that
// do not change the set tell the announcer nothing.
func TestRoutesFollowHealth(t *testing.T) {
	web := testConfig(model.Drain, 0, false)
	tls := testConfig(model.Drain, 0, false)
	tls.Services[0].Port = 443
	other := testConfig(model.Drain, 0, false)
	other.Services[0].Addr = netip.MustParseAddr("198.18.0.11")
	for i := range other.Services[0].Servers {
		other.Services[0].Servers[i].Addr = netip.MustParseAddr(fmt.Sprintf("198.18.2.%d", i+1))
	}
	quiet := testConfig(model.Drain, 0, false)
	quiet.Services[0].Addr = netip.MustParseAddr("198.18.0.12")
	med := uint32(7)
	web.Services[0].Announce = &model.Announce{Communities: []string{"65000:80"}, MED: &med}
	tls.Services[0].Announce = &model.Announce{}
	other.Services[0].Announce = &model.Announce{}
	cfg := &model.Config{Services: slices.Concat(web.Services, tls.Services, other.Services, quiet.Services)}

	k, p, r := newKernel(), &fakeProbes{down: map[string]bool{}}, &fakeRoutes{}
	var logs testlog.Buffer
	e, _ := run(t, cfg, Options{DataPlane: k, Probers: p.factory, Routes: r, Logger: slogTo(&logs)})
	eventually(t, "announced at start", func() bool { return r.announced() == "198.18.0.10/32 198.18.0.11/32" })
	r.mu.Lock()
	if a := r.last[netip.MustParsePrefix("198.18.0.10/32")]; len(a.Communities) != 1 || a.MED == nil || *a.MED != 7 {
		t.Errorf("198.18.0.10 announced with %+v, want the first service's attributes", a)
	}
	r.mu.Unlock()

	// One server of two down: both services still serve; nothing changes.
	p.set("198.18.1.1", true)
	eventually(t, "drained", func() bool { return k.weight(web.Services[0].ServiceKey, "198.18.1.1") == 0 })
	time.Sleep(50 * time.Millisecond)
	r.mu.Lock()
	if r.sets != 1 {
		t.Errorf("told %d times (%q), want once: a health change that keeps the set says nothing", r.sets, r.calls)
	}
	r.mu.Unlock()
	// Both down: 198.18.0.10's services have no live server: withdrawn.
	p.set("198.18.1.2", true)
	eventually(t, "withdrawn", func() bool { return r.announced() == "198.18.0.11/32" })
	if !strings.Contains(logs.String(), `msg="withdrawing virtual address" prefix=198.18.0.10/32 reason="TCP 198.18.0.10:80: no live real server; TCP 198.18.0.10:443: no live real server"`) {
		t.Errorf("the withdraw is not logged with its reason:\n%s", logs.String())
	}
	anns := e.Announcements()
	if len(anns) != 2 || anns[0].Announced || len(anns[0].Services) != 2 || !anns[1].Announced {
		t.Errorf("Announcements() = %+v", anns)
	}
	p.set("198.18.1.2", false)
	eventually(t, "announced again", func() bool { return r.announced() == "198.18.0.10/32 198.18.0.11/32" })

	// A reload that stops announcing 198.18.0.11 withdraws it.
	next := &model.Config{Services: slices.Concat(web.Services, tls.Services, quiet.Services)}
	if err := e.Reload(t.Context(), next); err != nil {
		t.Fatal(err)
	}
	eventually(t, "withdrawn by the reload", func() bool { return r.announced() == "198.18.0.10/32" })
	if !strings.Contains(logs.String(), "no service announces it any more") {
		t.Errorf("not logged:\n%s", logs.String())
	}
}

// TestRoutesQuorum: with a quorum, the address is withdrawn when the
// quorum is lost (even though the sorry server serves) and announced when
// it is regained.
func TestRoutesQuorum(t *testing.T) {
	cfg := testConfig(model.Drain, 6, true)
	cfg.Services[0].Announce = &model.Announce{}
	k, p, r := newKernel(), &fakeProbes{down: map[string]bool{}}, &fakeRoutes{}
	run(t, cfg, Options{DataPlane: k, Probers: p.factory, Routes: r})
	eventually(t, "announced", func() bool { return r.announced() == "198.18.0.10/32" })
	p.set("198.18.1.1", true)
	eventually(t, "withdrawn with the quorum", func() bool { return r.announced() == "" })
	if w := k.weight(cfg.Services[0].ServiceKey, "198.18.9.1"); w != 1 {
		t.Errorf("sorry server weight %d", w)
	}
	p.set("198.18.1.1", false)
	eventually(t, "announced with the quorum back", func() bool { return r.announced() == "198.18.0.10/32" })
}

// TestFollowedSync: a sync daemon that follows a VRRP role runs as master
// while the engine is told master, and as backup after it is told backup
// (the master one stopped); the configuration's own daemons stay.
func TestFollowedSync(t *testing.T) {
	cfg := testConfig(model.Drain, 0, false)
	k, p := newKernel(), &fakeProbes{down: map[string]bool{}}
	e, _ := run(t, cfg, Options{DataPlane: k, Probers: p.factory})
	eventually(t, "started", func() bool { return k.weight(cfg.Services[0].ServiceKey, "198.18.1.1") == 3 })
	sd := model.SyncDaemon{Interface: "eth1", SyncID: 51}
	daemons := func() string {
		ds, _ := k.Daemons()
		var s []string
		for _, d := range ds {
			s = append(s, d.State.String()+" "+d.Interface)
		}
		slices.Sort(s)
		return strings.Join(s, ", ")
	}
	master := sd
	master.State = model.SyncMaster
	if err := e.SetFollowedSync([]model.SyncDaemon{master}, "vrrp VI_1 became master"); err != nil {
		t.Fatal(err)
	}
	if got := daemons(); got != "master eth1" {
		t.Fatalf("as master: %s", got)
	}
	backup := sd
	backup.State = model.SyncBackup
	if err := e.SetFollowedSync([]model.SyncDaemon{backup}, "vrrp VI_1 became backup"); err != nil {
		t.Fatal(err)
	}
	if got := daemons(); got != "backup eth1" {
		t.Fatalf("as backup: %s", got)
	}
}

// TestServingObserver: Options.Serving hears which services serve, once
// per change.
func TestServingObserver(t *testing.T) {
	cfg := testConfig(model.Drain, 0, false)
	svc := cfg.Services[0].ServiceKey
	k, p := newKernel(), &fakeProbes{down: map[string]bool{}}
	var mu sync.Mutex
	var seen []bool
	run(t, cfg, Options{DataPlane: k, Probers: p.factory, Serving: func(m map[model.ServiceKey]bool) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, m[svc])
	}})
	last := func() string {
		mu.Lock()
		defer mu.Unlock()
		return fmt.Sprint(seen)
	}
	eventually(t, "serving at start", func() bool { return last() == "[true]" })
	p.set("198.18.1.1", true)
	p.set("198.18.1.2", true)
	eventually(t, "not serving", func() bool { return last() == "[true false]" })
	p.set("198.18.1.2", false)
	eventually(t, "serving again", func() bool { return last() == "[true false true]" })
}
