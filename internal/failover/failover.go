// Package failover runs the configuration's VRRP virtual routers
// (internal/vrrp) for the daemon: one instance per vrrp declaration, its
// priority following the health of what it tracks, and the connection-sync
// daemon that follows it (master while master, backup otherwise), set
// through the engine, which owns the kernel. A Manager's goroutine (Run)
// owns the instances; state changes, health and reloads reach it as
// messages.
package failover

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/luvs-lb/luvs/internal/engine"
	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/vrrp"
)

// Engine is where the sync daemons that follow a role are set and the
// notify hooks run (engine.Engine).
type Engine interface {
	SetFollowedSync(daemons []model.SyncDaemon, why string) error
	Fire(ev engine.Event)
}

// Router is a running virtual router (a *vrrp.Instance).
type Router interface {
	Run(ctx context.Context) error
	SetPriority(p uint8) error
	Status() vrrp.Status
}

// Open makes the virtual router of v, reporting its state changes to
// onTransition; close releases its sockets. Tests replace it.
type Open func(v model.VRRP, onTransition func(vrrp.Transition), log *slog.Logger) (r Router, close func(), err error)

// Manager runs the virtual routers.
type Manager struct {
	log    *slog.Logger
	engine Engine
	open   Open
	// LinkUp reports whether a tracked interface is up (nil: its
	// operstate in /sys/class/net).
	LinkUp func(name string) bool

	reqs  chan func()
	trans chan transition

	mu     sync.Mutex // guards status, read by Status
	status []Status

	// Owned by Run.
	routers map[string]*router
	serving map[model.ServiceKey]bool
	links   map[string]bool
	// told is the set of followed sync daemons last given to the engine
	// (nil before the first).
	told []model.SyncDaemon
}

type transition struct {
	name string
	vrrp.Transition
}

// router is one vrrp declaration and its instance (none while it gives
// the mastership up because a tracked item fails, with TrackWeight 0).
type router struct {
	cfg     model.VRRP
	r       Router
	cancel  context.CancelFunc
	done    chan struct{}
	close   func()
	faulted bool
	fault   string // what fails
	prio    uint8
}

// Status is a virtual router as luvs status shows it.
type Status struct {
	Name      string
	Interface string
	VRID      uint8
	State     string // initialize, backup, master, fault
	Priority  uint8  // in effect (after tracking)
	Base      uint8  // configured
	Master    string // the master's address, if known
	Reason    string // of the last change
	Addresses []string
}

// New returns a manager; open nil opens real network virtual routers
// (NetOpen).
func New(log *slog.Logger, engine Engine, open Open) *Manager {
	if open == nil {
		open = NetOpen
	}
	return &Manager{log: log, engine: engine, open: open, reqs: make(chan func()), trans: make(chan transition, 16),
		routers: map[string]*router{}, serving: map[model.ServiceKey]bool{}, links: map[string]bool{}}
}

// NetOpen opens a virtual router on the real network: its raw socket and
// its interface's addresses.
func NetOpen(v model.VRRP, onTransition func(vrrp.Transition), log *slog.Logger) (Router, func(), error) {
	addrs := make([]netip.Addr, len(v.Addresses))
	prefix := map[netip.Addr]int{}
	for i, p := range v.Addresses {
		addrs[i] = p.Addr()
		prefix[p.Addr()] = p.Bits()
	}
	nc := vrrp.NetConfig{Interface: v.Interface, IPv6: v.Family() == model.IPv6, VirtualAddresses: addrs,
		Unicast: len(v.Peers) > 0, AnyUnicastTTL: len(v.Peers) > 0, PrefixLen: prefix, Log: log}
	tr, err := vrrp.ListenNet(nc)
	if err != nil {
		return nil, nil, err
	}
	am, err := vrrp.NewNetAddresses(nc)
	if err != nil {
		tr.Close()
		return nil, nil, err
	}
	inst, err := vrrp.New(vrrp.Config{VRID: v.VRID, Priority: v.Priority, AdvertInterval: v.AdvertInterval,
		NoPreempt: !v.Preempt, PreemptDelay: v.PreemptDelay, Accept: v.Accept, Addresses: addrs, Peers: v.Peers,
		OnTransition: onTransition, Log: log}, tr, am)
	if err != nil {
		tr.Close()
		am.Close()
		return nil, nil, err
	}
	return inst, func() { tr.Close(); am.Close() }, nil
}

// call runs fn on Run's goroutine and waits for it; false if Run is not
// running (ctx done).
func (m *Manager) call(ctx context.Context, fn func()) bool {
	done := make(chan struct{})
	select {
	case m.reqs <- func() { fn(); m.publish(); close(done) }: // Status shows the change on return
		<-done
		return true
	case <-ctx.Done():
		return false
	}
}

// Configure starts, restarts (settings changed) and stops virtual routers
// to match vs. A router that cannot be opened is an error naming it; the
// others are still configured.
func (m *Manager) Configure(ctx context.Context, vs []model.VRRP) error {
	var err error
	if !m.call(ctx, func() { err = m.configure(ctx, vs) }) {
		return errors.New("vrrp: the manager is stopped")
	}
	return err
}

// Serving tells the manager which services serve (engine.Options.Serving);
// it does not block.
func (m *Manager) Serving(s map[model.ServiceKey]bool) {
	go func() {
		select {
		case m.reqs <- func() { m.serving = s; m.retrack("service health") }:
		case <-time.After(5 * time.Second):
		}
	}()
}

// Run runs the virtual routers until ctx is done, then stops them (each
// master sends priority 0, so that its backup takes over at once) and
// returns.
func (m *Manager) Run(ctx context.Context) {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	defer m.stopAll()
	for {
		select {
		case <-ctx.Done():
			return
		case fn := <-m.reqs:
			fn()
		case t := <-m.trans:
			m.transitioned(t)
		case <-tick.C:
			if m.pollLinks() {
				m.retrack("interface state")
			}
		}
		m.publish()
	}
}

func (m *Manager) configure(ctx context.Context, vs []model.VRRP) error {
	want := map[string]model.VRRP{}
	for _, v := range vs {
		want[v.Name] = v
	}
	for name, r := range m.routers {
		w, keep := want[name]
		w.Where = r.cfg.Where
		if keep && reflect.DeepEqual(w, r.cfg) {
			continue
		}
		m.stop(r)
		delete(m.routers, name)
		if !keep {
			m.log.Info("vrrp stopped: no longer configured", "vrrp", name)
		}
	}
	var errs []error
	for _, v := range vs {
		if _, running := m.routers[v.Name]; running {
			m.routers[v.Name].cfg = v
			continue
		}
		r := &router{cfg: v, prio: v.Priority}
		m.routers[v.Name] = r
		m.pollLinks()
		if err := m.start(ctx, r); err != nil {
			errs = append(errs, err)
			delete(m.routers, v.Name)
		}
	}
	m.retrack("configuration")
	m.syncRole("configuration")
	return errors.Join(errs...)
}

// start opens and runs r's instance, unless a tracked item fails and r
// gives the mastership up while it does.
func (m *Manager) start(ctx context.Context, r *router) error {
	prio, fault := m.priority(r.cfg)
	if fault != "" {
		r.faulted, r.fault = true, fault
		m.log.Warn("vrrp not started: a tracked item fails", "vrrp", r.cfg.Name, "failing", fault)
		return nil
	}
	name := r.cfg.Name
	inst, closeFn, err := m.open(r.cfg, func(t vrrp.Transition) {
		select {
		case m.trans <- transition{name, t}:
		default:
			m.log.Warn("vrrp state change not reported: queue full", "vrrp", name, "to", t.To.String())
		}
	}, m.log.With("vrrp", name))
	if err != nil {
		return fmt.Errorf("vrrp %q (at %s): %w", name, r.cfg.Where, err)
	}
	rctx, cancel := context.WithCancel(ctx)
	r.r, r.close, r.cancel, r.done, r.faulted, r.fault = inst, closeFn, cancel, make(chan struct{}), false, ""
	if prio != r.cfg.Priority {
		inst.SetPriority(prio)
	}
	r.prio = prio
	go func() {
		defer close(r.done)
		if err := inst.Run(rctx); err != nil {
			m.log.Error("vrrp stopped", "vrrp", name, "err", err)
		}
	}()
	m.log.Info("vrrp started", "vrrp", name, "interface", r.cfg.Interface, "vrid", r.cfg.VRID, "priority", prio)
	return nil
}

// stop stops r's instance (a master sends priority 0 and removes its
// addresses) and waits for it.
func (m *Manager) stop(r *router) {
	if r.cancel == nil {
		return
	}
	r.cancel()
	<-r.done
	r.close()
	r.r, r.cancel = nil, nil
}

func (m *Manager) stopAll() {
	for _, r := range m.routers {
		m.stop(r)
	}
	m.syncRole("stop")
	m.publish()
}

// priority is v's priority with its tracking: lowered by TrackWeight for
// each failing item, or a fault (what fails) when TrackWeight is 0.
func (m *Manager) priority(v model.VRRP) (uint8, string) {
	var failing []string
	for _, k := range v.TrackServices {
		if ok, seen := m.serving[k]; seen && !ok {
			failing = append(failing, k.String())
		}
	}
	for _, ifname := range v.TrackInterfaces {
		if !m.links[ifname] {
			failing = append(failing, "interface "+ifname)
		}
	}
	if len(failing) == 0 || v.Priority == vrrp.PriorityOwner {
		return v.Priority, ""
	}
	if v.TrackWeight == 0 {
		return v.Priority, strings.Join(failing, ", ")
	}
	p := int(v.Priority) + v.TrackWeight*len(failing)
	return uint8(min(max(p, 1), 254)), ""
}

// retrack applies the tracked items' state to every router's priority.
func (m *Manager) retrack(why string) {
	for _, r := range m.routers {
		prio, fault := m.priority(r.cfg)
		switch {
		case fault != "" && !r.faulted:
			m.log.Warn("vrrp gives the mastership up: a tracked item fails", "vrrp", r.cfg.Name, "failing", fault, "why", why)
			m.stop(r)
			r.faulted, r.fault = true, fault
			m.notify(r, "fault", r.cfg.NotifyFault, "tracked item failing: "+fault)
		case fault == "" && r.faulted:
			m.log.Info("vrrp back: its tracked items are well", "vrrp", r.cfg.Name, "why", why)
			if err := m.start(context.Background(), r); err != nil {
				m.log.Error("vrrp cannot start", "vrrp", r.cfg.Name, "err", err)
			}
		case fault == "" && r.r != nil && prio != r.prio:
			m.log.Info("vrrp priority changed", "vrrp", r.cfg.Name, "priority", fmt.Sprintf("%d → %d", r.prio, prio), "why", why)
			if err := r.r.SetPriority(prio); err != nil {
				m.log.Warn("vrrp priority not changed", "vrrp", r.cfg.Name, "err", err)
			}
			r.prio = prio
		}
	}
	m.syncRole(why)
}

func (m *Manager) transitioned(t transition) {
	r := m.routers[t.name]
	if r == nil {
		return
	}
	m.log.Info("vrrp state changed", "vrrp", t.name, "state", t.From.String()+" → "+t.To.String(), "reason", t.Reason)
	m.syncRole("vrrp " + t.name + " became " + t.To.String())
	switch t.To {
	case vrrp.Master:
		m.notify(r, "master", r.cfg.NotifyMaster, t.Reason)
	case vrrp.Backup:
		m.notify(r, "backup", r.cfg.NotifyBackup, t.Reason)
	}
}

// notify runs router r's hook for a change of state.
func (m *Manager) notify(r *router, kind string, h model.Hook, reason string) {
	if h.IsZero() || m.engine == nil {
		return
	}
	m.engine.Fire(engine.Event{Kind: kind, Name: r.cfg.Name, Reason: reason, Hook: h})
}

// syncRole sets the sync daemon that follows a router's role.
func (m *Manager) syncRole(why string) {
	var daemons []model.SyncDaemon
	for _, r := range m.routers {
		if r.cfg.Sync == nil {
			continue
		}
		d := *r.cfg.Sync
		d.State = model.SyncBackup
		if r.r != nil && r.r.Status().State == vrrp.Master {
			d.State = model.SyncMaster
		}
		daemons = append(daemons, d)
	}
	if daemons == nil {
		daemons = []model.SyncDaemon{}
	}
	if m.engine == nil || (m.told != nil && slices.Equal(daemons, m.told)) {
		return // unchanged: the engine need not look at the kernel again
	}
	if err := m.engine.SetFollowedSync(daemons, why); err != nil {
		m.log.Warn("sync daemon not set", "err", err)
		return
	}
	m.told = daemons
}

// pollLinks reads the tracked interfaces' state; true when one changed.
func (m *Manager) pollLinks() bool {
	up := m.LinkUp
	if up == nil {
		up = operUp
	}
	changed := false
	for _, r := range m.routers {
		for _, ifname := range r.cfg.TrackInterfaces {
			now := up(ifname)
			if was, seen := m.links[ifname]; !seen || was != now {
				changed = changed || seen
				m.links[ifname] = now
			}
		}
	}
	return changed
}

// operUp reads /sys/class/net/NAME/operstate: up, or unknown (an interface
// without carrier detection, such as lo or a dummy) with the link up.
func operUp(name string) bool {
	b, err := os.ReadFile("/sys/class/net/" + name + "/operstate")
	if err != nil {
		return false
	}
	switch strings.TrimSpace(string(b)) {
	case "up":
		return true
	case "unknown":
		f, err := os.ReadFile("/sys/class/net/" + name + "/flags")
		if err != nil {
			return false
		}
		flags, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(string(f)), "0x"), 16, 32)
		return err == nil && flags&1 != 0 // IFF_UP
	}
	return false
}

// publish records the routers' state for Status.
func (m *Manager) publish() {
	out := make([]Status, 0, len(m.routers))
	for _, r := range m.routers {
		s := Status{Name: r.cfg.Name, Interface: r.cfg.Interface, VRID: r.cfg.VRID, Base: r.cfg.Priority, Priority: r.prio}
		for _, a := range r.cfg.Addresses {
			s.Addresses = append(s.Addresses, a.String())
		}
		switch {
		case r.faulted:
			s.State, s.Reason = "fault", "tracked item failing: "+r.fault
		case r.r != nil:
			st := r.r.Status()
			s.State, s.Reason = strings.ToLower(st.State.String()), st.Reason
			if st.Master.IsValid() {
				s.Master = st.Master.String()
			}
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Status) int { return strings.Compare(a.Name, b.Name) })
	m.mu.Lock()
	m.status = out
	m.mu.Unlock()
}

// Status returns the virtual routers' state.
func (m *Manager) Status() []Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.status)
}
