package engine

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"

	"github.com/luvs-lb/luvs/internal/diff"
	"github.com/luvs-lb/luvs/internal/ipvs"
	"github.com/luvs-lb/luvs/internal/model"
)

// DataPlane is where the table lives (*ipvs.Client in production).
type DataPlane interface {
	State() (*model.State, error)
	Apply(ops []model.Op) *ipvs.ApplyResult
}

// ProbeResult is the outcome of one health probe.
type ProbeResult struct {
	OK     bool
	Weight int // >= 0: a dynamic weight; -1: none
	Msg    string
}

// Prober runs one kind of check against a real server.
type Prober interface {
	Probe(ctx context.Context, addr netip.Addr, port uint16) ProbeResult
}

// ProberFactory builds the prober for a check.
type ProberFactory func(model.Check) (Prober, error)

// Options configure an Engine.
type Options struct {
	DataPlane DataPlane
	Probers   ProberFactory
	Logger    *slog.Logger
	// RepairInterval is how often the kernel is read back to repair changes
	// made behind luvs's back (0: 10 s).
	RepairInterval time.Duration
	// MaxProbes bounds the probes in flight at once (0: 1,024).
	MaxProbes int
}

// Engine runs health checks and keeps the kernel in line.
type Engine struct {
	opts Options
	log  *slog.Logger

	mu       sync.Mutex
	cfg      *model.Config
	health   map[ServerKey]Health
	monitors map[monitorKey]*monitor
	checkUp  map[monitorKey]ProbeResult // last verdict of each check
	byServer map[ServerKey][]monitorKey // the checks of each server
	quorum   quorumState
	added    map[model.ServiceKey][]model.Dest
	owned    map[model.ServiceKey]bool
	stats    Stats

	kick  chan struct{}
	sched *scheduler
}

// Stats count what the engine did.
type Stats struct {
	Reconciles  int
	OpsApplied  int
	OpsFailed   int
	Repairs     int
	LastApplied time.Time
}

// monitorKey identifies one check of one real server; a check whose
// settings change gets a new key (and so a fresh health history).
type monitorKey struct {
	Server ServerKey
	Index  int
	Sig    string
}

// monitor is the state of one check; the scheduler runs its probes.
type monitor struct {
	key     monitorKey
	check   model.Check
	prober  Prober
	addr    netip.Addr
	port    uint16
	stopped bool // set under e.mu when the check is no longer configured
	// Owned by the probe in flight (one at a time per monitor):
	up             bool
	okRun, failRun int
	next           time.Time
	index          int // in the scheduler heap
}

// New creates an engine for cfg; Run starts it.
func New(cfg *model.Config, opts Options) (*Engine, error) {
	if opts.RepairInterval == 0 {
		opts.RepairInterval = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	e := &Engine{
		opts: opts, log: opts.Logger, cfg: cfg,
		health: map[ServerKey]Health{}, monitors: map[monitorKey]*monitor{}, checkUp: map[monitorKey]ProbeResult{},
		byServer: map[ServerKey][]monitorKey{},
		quorum:   quorumState{}, added: map[model.ServiceKey][]model.Dest{}, owned: map[model.ServiceKey]bool{},
		kick: make(chan struct{}, 1),
	}
	e.sched = newScheduler(opts.MaxProbes, e.probe)
	for _, s := range cfg.Services {
		e.owned[s.ServiceKey] = true
	}
	return e, nil
}

func checkSig(c model.Check) string {
	c.Where = ""
	return fmt.Sprintf("%+v|%+v|%+v|%+v|%+v", c, c.HTTP, c.UDP, c.DNS, c.Exec)
}

// Run adopts the kernel's table (changing only what differs), starts the
// health checks and keeps the table in line until ctx is done.
func (e *Engine) Run(ctx context.Context) error {
	e.mu.Lock()
	err := e.startMonitors(ctx)
	e.mu.Unlock()
	if err != nil {
		return err
	}
	schedDone := make(chan struct{})
	go func() { e.sched.run(ctx); close(schedDone) }()
	defer func() { <-schedDone }()
	if err := e.reconcile("start"); err != nil {
		return err
	}
	tick := time.NewTicker(e.opts.RepairInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-e.kick:
			// Let a burst of health changes settle into one apply.
			time.Sleep(20 * time.Millisecond)
			select {
			case <-e.kick:
			default:
			}
			if err := e.reconcile("health"); err != nil {
				e.log.Error("reconcile failed", "err", err)
			}
		case <-tick.C:
			if err := e.reconcile("repair"); err != nil {
				e.log.Error("read-back failed", "err", err)
			}
		}
	}
}

func (e *Engine) poke() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// reconcile makes the kernel equal to the effective state. why is "start",
// "health", "reload" or "repair" (for a repair, any change means someone
// else changed the table).
func (e *Engine) reconcile(why string) error {
	e.mu.Lock()
	before := copyQuorum(e.quorum)
	desired := Effective(e.cfg, e.health, e.added, e.quorum)
	for k, held := range e.quorum {
		if was, seen := before[k]; seen && was != held || !seen && !held {
			if held {
				e.log.Info("quorum regained", "service", k.String())
			} else {
				e.log.Warn("quorum lost", "service", k.String(), "sorry_server", sorryOf(e.cfg, k))
			}
		}
	}
	owned := make(map[model.ServiceKey]bool, len(e.owned))
	for k := range e.owned {
		owned[k] = true
	}
	e.mu.Unlock()

	actual, err := e.opts.DataPlane.State()
	if err != nil {
		return err
	}
	ops := diff.Plan(desired, actual, diff.Options{Owned: func(k model.ServiceKey) bool { return owned[k] }})
	if len(ops) == 0 {
		e.mu.Lock()
		e.stats.Reconciles++
		e.mu.Unlock()
		return nil
	}
	res := e.opts.DataPlane.Apply(ops)
	for i, op := range ops {
		switch {
		case res.Errors[i] != nil:
			e.log.Error("change failed", "op", op.String(), "err", res.Errors[i])
		case why == "repair":
			e.log.Warn("repaired a change made outside luvs", "op", op.String())
		default:
			e.log.Info("applied", "op", op.String(), "why", why)
		}
	}
	e.mu.Lock()
	e.stats.Reconciles++
	e.stats.OpsApplied += res.Applied()
	e.stats.OpsFailed += res.Failed()
	e.stats.LastApplied = time.Now()
	if why == "repair" {
		e.stats.Repairs++
	}
	// Services dropped by a reload are deleted now; stop owning them.
	for k := range e.owned {
		if !inConfig(e.cfg, k) {
			delete(e.owned, k)
		}
	}
	e.mu.Unlock()
	return nil
}

func sorryOf(cfg *model.Config, k model.ServiceKey) string {
	for i := range cfg.Services {
		if s := &cfg.Services[i]; s.ServiceKey == k && s.Sorry != nil {
			return s.Sorry.DestKey.String()
		}
	}
	return "none"
}

func inConfig(cfg *model.Config, k model.ServiceKey) bool {
	for i := range cfg.Services {
		if cfg.Services[i].ServiceKey == k {
			return true
		}
	}
	return false
}

// Reload switches to a new configuration. Checks whose settings did not
// change keep running with their up/down state and counters; the rest start
// afresh. Services the new configuration drops are deleted.
func (e *Engine) Reload(ctx context.Context, cfg *model.Config) error {
	e.mu.Lock()
	old := e.cfg
	e.cfg = cfg
	if err := e.startMonitors(ctx); err != nil {
		e.cfg = old // nothing else was changed
		e.mu.Unlock()
		return err
	}
	for _, s := range cfg.Services {
		e.owned[s.ServiceKey] = true
	}
	// Forget Lua-added servers and per-server state of servers now gone.
	e.added = map[model.ServiceKey][]model.Dest{}
	for k, h := range e.health {
		if !hasServer(cfg, k) {
			delete(e.health, k)
		} else {
			h.Removed, h.ScriptWeight = false, -1
			e.health[k] = h
		}
	}
	e.mu.Unlock()
	return e.reconcile("reload")
}

func hasServer(cfg *model.Config, k ServerKey) bool {
	for i := range cfg.Services {
		s := &cfg.Services[i]
		if s.ServiceKey != k.Service {
			continue
		}
		for j := range s.Servers {
			if s.Servers[j].DestKey == k.Dest {
				return true
			}
		}
	}
	return false
}

// startMonitors starts the checks of e.cfg that are not running and stops
// those no longer configured. Called with e.mu held.
func (e *Engine) startMonitors(ctx context.Context) error {
	want := map[monitorKey]model.Check{}
	for i := range e.cfg.Services {
		s := &e.cfg.Services[i]
		for _, rs := range s.Servers {
			for ci, c := range rs.Checks {
				want[monitorKey{ServerKey{s.ServiceKey, rs.DestKey}, ci, checkSig(c)}] = c
			}
		}
	}
	// Build every new prober before changing anything, so that a failure
	// leaves the running checks as they were.
	fresh := map[monitorKey]Prober{}
	for k, c := range want {
		if _, running := e.monitors[k]; running {
			continue
		}
		p, err := e.opts.Probers(c)
		if err != nil {
			return fmt.Errorf("%s: %w", c.Where, err)
		}
		fresh[k] = p
	}
	for k, m := range e.monitors {
		if _, ok := want[k]; !ok {
			m.stopped = true
			delete(e.monitors, k)
			delete(e.checkUp, k)
		}
	}
	clear(e.byServer)
	for k := range want {
		e.byServer[k.Server] = append(e.byServer[k.Server], k)
	}
	for k, p := range fresh {
		c := want[k]
		m := &monitor{key: k, check: c, prober: p, up: true, addr: k.Server.Dest.Addr, port: k.Server.Dest.Port}
		if c.Addr.IsValid() {
			m.addr = c.Addr
		}
		if c.Port != 0 {
			m.port = c.Port
		}
		// Spread the first probes over a second so that a large
		// configuration does not probe everything at once.
		m.next = time.Now().Add(time.Duration(rand.Int64N(int64(min(c.Interval, time.Second)))))
		e.monitors[k] = m
		e.sched.add(m)
	}
	// Servers whose checks changed get their health recomputed from the
	// checks now running.
	for k := range e.health {
		e.recompute(k)
	}
	return nil
}

// probe runs one probe of m (on a scheduler worker) and returns when m
// should be probed next, or false when m is no longer wanted.
func (e *Engine) probe(ctx context.Context, m *monitor) (time.Time, bool) {
	e.mu.Lock()
	stopped := m.stopped
	e.mu.Unlock()
	if stopped {
		return time.Time{}, false
	}
	c := m.check
	pctx, cancel := context.WithTimeout(ctx, c.Timeout)
	r := m.prober.Probe(pctx, m.addr, m.port)
	cancel()
	if ctx.Err() != nil {
		return time.Time{}, false
	}
	wait := c.Interval
	if !r.OK && c.RetryDelay > 0 && m.failRun+1 < c.Fall {
		// keepalived's delay_before_retry: retry sooner than the interval.
		wait = c.RetryDelay
	}
	if r.OK {
		m.okRun, m.failRun = m.okRun+1, 0
	} else {
		m.okRun, m.failRun = 0, m.failRun+1
	}
	changed := false
	switch {
	case !m.up && m.okRun >= c.Rise:
		m.up, changed = true, true
	case m.up && m.failRun >= c.Fall:
		m.up, changed = false, true
	}
	e.report(m.key, m.up, r, changed)
	return time.Now().Add(wait), true
}

// report records a check's verdict and recomputes its server's health.
func (e *Engine) report(k monitorKey, up bool, r ProbeResult, changed bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, live := e.monitors[k]; !live {
		return
	}
	prev, seen := e.checkUp[k]
	r.OK = up
	e.checkUp[k] = r
	if changed || !seen || prev.Weight != r.Weight {
		if e.recompute(k.Server) {
			e.poke()
		}
	}
}

// recompute derives a server's health from its checks; it reports whether
// the result changed. Called with e.mu held.
func (e *Engine) recompute(sk ServerKey) bool {
	h := Health{Up: true, Weight: -1, ScriptWeight: -1}
	for _, mk := range e.byServer[sk] {
		r, ok := e.checkUp[mk]
		if !ok {
			continue
		}
		if !r.OK {
			h.Up = false
			h.Reason = r.Msg
		}
		if r.Weight >= 0 {
			h.Weight = r.Weight
		}
	}
	old, seen := e.health[sk]
	if seen {
		h.Removed, h.ScriptWeight = old.Removed, old.ScriptWeight
	}
	if seen && old.Up == h.Up && old.Weight == h.Weight {
		return false
	}
	if !seen && h.Up && h.Weight < 0 && h.ScriptWeight < 0 {
		e.health[sk] = h
		return false
	}
	e.health[sk] = h
	if old.Up != h.Up || !seen {
		if h.Up {
			e.log.Info("real server up", "service", sk.Service.String(), "server", sk.Dest.String())
		} else {
			e.log.Warn("real server down", "service", sk.Service.String(), "server", sk.Dest.String(), "reason", h.Reason)
		}
	}
	if h.Weight != old.Weight && h.Weight >= 0 {
		e.log.Info("weight changed by check", "service", sk.Service.String(), "server", sk.Dest.String(), "weight", h.Weight)
	}
	return true
}

// ScriptDest is a real server as a Lua health check sees it.
type ScriptDest struct {
	model.Dest
	Up bool
}

// ScriptView returns the real servers of a service as the table has them
// now (after health and script changes).
func (e *Engine) ScriptView(svc model.ServiceKey) []ScriptDest {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := Effective(e.cfg, e.health, e.added, copyQuorum(e.quorum))
	v := st.Find(svc)
	if v == nil {
		return nil
	}
	out := make([]ScriptDest, len(v.Dests))
	for i, d := range v.Dests {
		h, ok := e.health[ServerKey{svc, d.DestKey}]
		out[i] = ScriptDest{Dest: d, Up: !ok || h.Up}
	}
	return out
}

func copyQuorum(q quorumState) quorumState {
	c := make(quorumState, len(q))
	for k, v := range q {
		c[k] = v
	}
	return c
}

// ScriptRemove takes a real server out of a service until the next reload
// (lvs:del_dest in a Lua health check).
func (e *Engine) ScriptRemove(svc model.ServiceKey, dk model.DestKey) {
	e.mu.Lock()
	defer e.mu.Unlock()
	sk := ServerKey{svc, dk}
	h, ok := e.health[sk]
	if !ok {
		h = Health{Up: true, Weight: -1, ScriptWeight: -1}
	}
	h.Removed = true
	e.health[sk] = h
	added := e.added[svc][:0]
	for _, d := range e.added[svc] {
		if d.DestKey != dk {
			added = append(added, d)
		}
	}
	e.added[svc] = added
	e.log.Info("real server removed by health script", "service", svc.String(), "server", dk.String())
	e.poke()
}

// ScriptAdd puts a real server into a service until the next reload
// (lvs:add_dest in a Lua health check).
func (e *Engine) ScriptAdd(svc model.ServiceKey, d model.Dest) {
	e.mu.Lock()
	defer e.mu.Unlock()
	sk := ServerKey{svc, d.DestKey}
	if h, ok := e.health[sk]; ok && h.Removed {
		h.Removed = false
		e.health[sk] = h
	} else if !hasServer(e.cfg, sk) {
		for _, a := range e.added[svc] {
			if a.DestKey == d.DestKey {
				return
			}
		}
		e.added[svc] = append(e.added[svc], d)
	}
	e.log.Info("real server added by health script", "service", svc.String(), "server", d.DestKey.String())
	e.poke()
}

// ScriptWeight sets a real server's weight until the next reload
// (dest.weight = n in a Lua health check).
func (e *Engine) ScriptWeight(svc model.ServiceKey, dk model.DestKey, w int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	sk := ServerKey{svc, dk}
	h, ok := e.health[sk]
	if !ok {
		h = Health{Up: true, Weight: -1}
	}
	h.ScriptWeight = w
	e.health[sk] = h
	e.log.Info("weight set by health script", "service", svc.String(), "server", dk.String(), "weight", w)
	e.poke()
}

// Health returns a copy of the servers' health.
func (e *Engine) Health() map[ServerKey]Health {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[ServerKey]Health, len(e.health))
	for k, v := range e.health {
		out[k] = v
	}
	return out
}

// Stats returns counters of the engine's work.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stats
}

// Cleanup deletes every service the engine owns (for --cleanup-on-exit).
func (e *Engine) Cleanup() error {
	e.mu.Lock()
	var ops []model.Op
	for k := range e.owned {
		ops = append(ops, model.Op{Kind: model.DelService, Service: &model.Service{ServiceKey: k}})
	}
	e.mu.Unlock()
	res := e.opts.DataPlane.Apply(ops)
	for i, op := range ops {
		if res.Errors[i] == nil {
			e.log.Info("removed on exit", "op", op.String())
		}
	}
	return res.Err()
}
