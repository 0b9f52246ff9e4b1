package engine

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/luvs-lb/luvs/internal/ipvs"
	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/override"
)

// DataPlane is where the table lives (*ipvs.Client in production,
// fakeipvs.Kernel in tests).
type DataPlane interface {
	// State reads the whole table.
	State() (*model.State, error)
	// Apply applies ops in order and reports each one's result.
	Apply(ops []model.Op) *ipvs.ApplyResult
}

// OwnerStore keeps the set of services the daemon manages across crashes
// and restarts (statedir.Dir in production).
type OwnerStore interface {
	SaveOwned(keys []model.ServiceKey) error
}

// ProbeResult is the outcome of one health probe.
type ProbeResult struct {
	OK     bool
	Weight int // >= 0: a dynamic weight; -1: none
	Msg    string

	started time.Time // set by the engine for a probe finished on a worker
}

// Prober runs one kind of check against a real server.
type Prober interface {
	Probe(ctx context.Context, addr netip.Addr, port uint16) ProbeResult
}

// A DeadlineProber is a Prober that also probes by a deadline, with the
// context it is given only for cancellation: the engine then spares it a
// context and a timer per probe. ProbeBy must behave as Probe with a
// context whose deadline is deadline.
type DeadlineProber interface {
	Prober
	ProbeBy(ctx context.Context, deadline time.Time, addr netip.Addr, port uint16) ProbeResult
}

// A TryProber is a DeadlineProber that can start a probe on the
// scheduler's own goroutine: TryProbeBy must not block; it returns the
// result when the probe finished without waiting (rest nil), else rest,
// which finishes the probe (waits for it) on a worker. A probe that needs no
// waiting (a TCP connect to a nearby server) then costs no goroutine
// hand-off.
type TryProber interface {
	DeadlineProber
	TryProbeBy(ctx context.Context, deadline time.Time, addr netip.Addr, port uint16) (r ProbeResult, rest func() ProbeResult)
}

// ProberFactory builds the prober for a check.
type ProberFactory func(model.Check) (Prober, error)

// Options configure an Engine.
type Options struct {
	DataPlane DataPlane
	Probers   ProberFactory
	Logger    *slog.Logger
	// RepairInterval is how often the kernel is read back to repair changes
	// made behind luvs's back (0: never).
	RepairInterval time.Duration
	// MaxProbes bounds the probes in flight at once (0: 1,024).
	MaxProbes int
	// Owned are the services an earlier run managed (from the OwnerStore):
	// those the configuration no longer has are deleted at start.
	Owned []model.ServiceKey
	// Store records the managed services (nil: kept in memory only).
	Store OwnerStore
	// CleanupOnExit deletes every managed service when Run stops.
	CleanupOnExit bool
	// Settle is how long a burst of health changes may gather into one
	// apply (0: 20 ms).
	Settle time.Duration
	// Hooks runs the notify and quorum hooks of events, programs and Lua
	// functions alike (nil: RunHook for programs, each in its own goroutine,
	// and LuaHooks for functions). It must not block.
	Hooks func(Event)
	// LuaHooks runs the hooks that are Lua functions (Event.Hook.Func) in
	// the configuration's Lua runtime (luacheck.HookQueue.Fire); nil: they
	// are logged as not run. It must not block.
	LuaHooks func(Event)
	// Overrides are the operator's overrides in force at start (from the
	// OverrideStore); OverrideStore records changes to them (nil: kept in
	// memory only).
	Overrides     override.Set
	OverrideStore OverrideStore
	// Draining are the servers an earlier run was draining before their
	// removal (from the DrainStore): they go on draining until their
	// deadline. DrainStore records the servers being drained (nil: kept in
	// memory only).
	Draining   []model.DrainRecord
	DrainStore DrainStore
	// Routes is told the prefixes to announce over BGP (nil: none are).
	Routes Routes
	// Serving, when set, is told which services serve (hold their quorum
	// and have a live real server) whenever that changes, for VRRP
	// tracking. It must not block.
	Serving func(map[model.ServiceKey]bool)
	// DrainPoll is how often the connections of servers being drained
	// before removal are counted (0: every second).
	DrainPoll time.Duration
	// OnProbe, when set, is told of every probe's result and duration (for
	// metrics), on the engine loop: it must be quick and not block.
	OnProbe func(kind model.CheckKind, took time.Duration, r ProbeResult)
}

// Engine runs health checks and keeps the kernel in line. Its methods are
// safe for concurrent use: each one is a message to the goroutine in Run.
type Engine struct {
	opts     Options
	log      *slog.Logger
	requests chan func()
	verdicts chan verdict
	running  chan struct{} // closed when Run's loop starts
	exited   chan struct{} // closed when Run returns
	sched    *scheduler

	statsMu sync.Mutex
	stats   Stats

	// Owned by the loop (and by New before Run starts).
	base        *model.Config // the configuration file's
	cfg         *model.Config // base with the operator's overrides on top
	opOverrides override.Set
	opState     map[ServerKey]override.ServerState
	leaving     map[ServerKey]*leaving          // servers drained before their removal
	restored    map[ServerKey]model.DrainRecord // leaving before the restart (until the start reconcile)
	savedDrain  []model.DrainRecord             // what the DrainStore holds
	routes      map[netip.Prefix]model.Announce // told to Options.Routes (nil: nothing yet)
	servingSet  map[model.ServiceKey]bool       // told to Options.Serving (nil: nothing yet)
	ramps       map[ServerKey]time.Time         // slow start: when each ramp began
	rampNext    time.Time                       // the next ramp step (zero: none)
	started     bool                            // the start-up reconcile is done
	servers     map[ServerKey]*model.ServerConfig
	// prevServers are the servers of the configuration before the last
	// reload (for the drain timeouts of the servers it dropped).
	prevServers map[ServerKey]*model.ServerConfig
	monitors    map[monitorKey]*monitor
	byServer    map[ServerKey][]*monitor
	health      map[ServerKey]Health
	ov          *Overrides
	quorum      quorumState
	desired     *model.State // the effective table; nil: to be computed
	recon       reconciler
	dirty       bool
	causes      []string // why the pending reconcile is due (changed)
	// syncRoles are the sync daemon roles declared so far (by the
	// configuration or a VRRP role), for stopping those no longer declared.
	syncRoles []model.SyncState
	// followedSync are the sync daemons that follow a VRRP role
	// (SetFollowedSync); followedRoles the roles they have had.
	followedSync  []model.SyncDaemon
	followedRoles []model.SyncState
}

// Stats count what the engine did.
type Stats struct {
	Reconciles  int
	OpsApplied  int
	OpsFailed   int
	Repairs     int
	TableReads  int // full reads of the kernel table
	LastApplied time.Time
	// Probes is the number of checks scheduled (monitors).
	Probes int
}

// ErrStopped is returned by requests to an engine whose Run has returned.
var ErrStopped = errors.New("engine stopped")

// New creates an engine for cfg and builds its checks; Run starts it.
func New(cfg *model.Config, opts Options) (*Engine, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Settle == 0 {
		opts.Settle = 20 * time.Millisecond
	}
	if opts.DrainPoll == 0 {
		opts.DrainPoll = time.Second
	}
	e := &Engine{
		opts: opts, log: opts.Logger,
		requests: make(chan func()), verdicts: make(chan verdict, 64),
		running: make(chan struct{}), exited: make(chan struct{}),
		monitors: map[monitorKey]*monitor{}, byServer: map[ServerKey][]*monitor{},
		health: map[ServerKey]Health{}, ov: newOverrides(), quorum: quorumState{},
		opOverrides: opts.Overrides, opState: map[ServerKey]override.ServerState{},
		leaving: map[ServerKey]*leaving{}, ramps: map[ServerKey]time.Time{},
		restored: map[ServerKey]model.DrainRecord{}, savedDrain: opts.Draining,
	}
	for _, r := range opts.Draining {
		e.restored[ServerKey{r.Service, r.Dest}] = r
	}
	e.sched = newScheduler(opts.MaxProbes, e.tryProbe, e.probe)
	e.recon = newReconciler(e, opts.Owned)
	e.setConfig(cfg)
	if _, err := e.planMonitors(e.cfg); err != nil {
		return nil, err
	}
	return e, nil
}

// setConfig switches to the configuration file's cfg, with the operator's
// overrides on top.
func (e *Engine) setConfig(cfg *model.Config) {
	e.base = cfg
	e.layer()
}

// indexServers indexes the servers of the configuration in force.
func (e *Engine) indexServers() {
	cfg := e.cfg
	e.servers = make(map[ServerKey]*model.ServerConfig, len(cfg.Services)*4)
	for i := range cfg.Services {
		s := &cfg.Services[i]
		for j := range s.Servers {
			e.servers[ServerKey{s.ServiceKey, s.Servers[j].DestKey}] = &s.Servers[j]
		}
	}
	e.desired = nil
}

func (e *Engine) cfgServer(sk ServerKey) *model.ServerConfig { return e.servers[sk] }

// Run adopts the kernel's table (changing only what differs), starts the
// health checks and keeps the table in line until ctx is done. It returns
// an error only when the kernel cannot be read at start.
func (e *Engine) Run(ctx context.Context) error {
	defer close(e.exited)
	actual, err := e.recon.read()
	if err != nil {
		return err
	}
	want, err := e.planMonitors(e.cfg)
	if err != nil {
		return err
	}
	e.adopt(actual)
	e.setMonitors(want, func(sk ServerKey) checkState { return e.startStateAtBoot(sk, actual) })
	e.reconcile("start")
	e.started = true
	clear(e.restored)
	e.persistLeaving()
	e.applyGlobals(e.cfg, "start")

	sctx, stopSched := context.WithCancel(ctx)
	schedDone := make(chan struct{})
	go func() { e.sched.run(sctx); close(schedDone) }()
	defer func() { stopSched(); <-schedDone }()

	var repair <-chan time.Time
	if e.opts.RepairInterval > 0 {
		t := time.NewTicker(e.opts.RepairInterval)
		defer t.Stop()
		repair = t.C
	}
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	defer settle.Stop()
	drainTick := time.NewTicker(e.opts.DrainPoll)
	defer drainTick.Stop()
	rampTimer := time.NewTimer(time.Hour)
	rampTimer.Stop()
	defer rampTimer.Stop()
	var rampAt time.Time
	close(e.running)
	for {
		if e.dirty {
			e.dirty = false
			settle.Reset(e.opts.Settle)
		}
		if e.rampNext != rampAt {
			rampAt = e.rampNext
			rampTimer.Stop()
			if !rampAt.IsZero() {
				rampTimer.Reset(time.Until(rampAt))
			}
		}
		var drainC <-chan time.Time
		if len(e.leaving) > 0 {
			drainC = drainTick.C
		}
		select {
		case now := <-drainC:
			e.checkLeaving(now)
		case <-rampTimer.C:
			rampAt, e.rampNext = time.Time{}, time.Time{}
			e.changed("slow_start")
		case <-ctx.Done():
			if e.opts.CleanupOnExit {
				e.recon.cleanup()
			}
			return nil
		case fn := <-e.requests:
			fn()
		case v := <-e.verdicts:
			e.handleVerdict(v)
		case <-settle.C:
			why := strings.Join(e.causes, ",")
			e.causes = e.causes[:0]
			e.reconcile(why)
		case <-e.recon.retryC():
			e.reconcile("retry")
		case <-repair:
			if len(e.causes) > 0 {
				// Apply the pending changes first: the repair then finds
				// only what someone else changed.
				settle.Stop()
				why := strings.Join(e.causes, ",")
				e.causes = e.causes[:0]
				e.reconcile(why)
			}
			e.recon.stale = true
			e.reconcile("repair")
		}
		e.persistLeaving()
	}
}

// changed notes that the effective table may differ because of why
// (health, operator, lua, slow_start, drain): a reconcile follows once the
// burst settles, logged with every cause.
func (e *Engine) changed(why string) {
	e.desired = nil
	e.dirty = true
	if !slices.Contains(e.causes, why) {
		e.causes = append(e.causes, why)
	}
}

// call runs fn on the engine's goroutine and waits for it. It reports
// false when the engine is not running.
func (e *Engine) call(fn func()) bool {
	done := make(chan struct{})
	select {
	case e.requests <- func() { fn(); close(done) }:
	case <-e.exited:
		return false
	}
	select {
	case <-done:
		return true
	case <-e.exited:
		return false
	}
}

// Reload switches to a new configuration. Checks whose settings did not
// change keep running with their verdicts and counters; new checks of
// servers already in the table start unknown (the server keeps its weight
// until they decide); checks of new servers start up. Services the new
// configuration drops are deleted. A configuration whose checks cannot be
// built changes nothing.
func (e *Engine) Reload(ctx context.Context, cfg *model.Config) error {
	var err error
	if !e.callCtx(ctx, func() { err = e.reload(cfg) }) {
		return ErrStopped
	}
	return err
}

func (e *Engine) callCtx(ctx context.Context, fn func()) bool {
	select {
	case <-e.running:
	case <-e.exited:
		return false
	case <-ctx.Done():
		return false
	}
	return e.call(fn)
}

func (e *Engine) reload(cfg *model.Config) error {
	base, layered, state, known := e.base, e.cfg, e.opState, e.servers
	e.opState = map[ServerKey]override.ServerState{}
	e.setConfig(cfg)
	want, err := e.planMonitors(e.cfg)
	if err != nil {
		e.base, e.cfg, e.opState, e.servers = base, layered, state, known
		return err
	}
	e.prevServers = known
	e.ov = newOverrides()
	e.recon.own(cfg)
	e.setMonitors(want, func(sk ServerKey) checkState {
		if known[sk] != nil {
			return stateUnknown
		}
		return e.newServerState(sk)
	})
	e.reconcile("reload")
	e.applyGlobals(cfg, "reload")
	return nil
}

// Health returns the health of every checked server. It is empty when the
// engine is not running.
func (e *Engine) Health() map[ServerKey]Health {
	var out map[ServerKey]Health
	e.call(func() {
		out = make(map[ServerKey]Health, len(e.byServer))
		for k := range e.byServer {
			h, ok := e.health[k]
			if !ok {
				h = upHealth
			}
			out[k] = h
		}
	})
	return out
}

// Stats returns counters of the engine's work.
func (e *Engine) Stats() Stats {
	e.statsMu.Lock()
	defer e.statsMu.Unlock()
	return e.stats
}

func (e *Engine) updateStats(fn func(*Stats)) {
	e.statsMu.Lock()
	fn(&e.stats)
	e.statsMu.Unlock()
}
