// Package daemon wires `luvs run` together: the instance lock and the
// ownership record (statedir), the configuration and its reload
// transaction (luaconf), the engine that owns the kernel, the Lua health
// checks (luacheck), the control socket and the metrics listener. Every
// setting is checked and every listener opened before anything touches the
// kernel, so a bad flag or a second daemon fails at once and changes
// nothing.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/luvs-lb/luvs/internal/announce"
	"github.com/luvs-lb/luvs/internal/check"
	"github.com/luvs-lb/luvs/internal/control"
	"github.com/luvs-lb/luvs/internal/crash"
	"github.com/luvs-lb/luvs/internal/engine"
	"github.com/luvs-lb/luvs/internal/failover"
	"github.com/luvs-lb/luvs/internal/ipvs"
	"github.com/luvs-lb/luvs/internal/luacheck"
	"github.com/luvs-lb/luvs/internal/luaconf"
	"github.com/luvs-lb/luvs/internal/luasandbox"
	"github.com/luvs-lb/luvs/internal/metrics"
	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/statedir"
)

// DefaultStateDir holds the lock and the ownership record (one
// subdirectory per network namespace other than the host's).
const DefaultStateDir = "/var/lib/luvs"

// Kernel is the IPVS table the daemon manages (*ipvs.Client in
// production).
type Kernel interface {
	engine.DataPlane
	Table() ([]ipvs.Service, error)
}

// Options configure a daemon.
type Options struct {
	ConfigPath string
	// StateDir is the base of the state directory (DefaultStateDir when empty).
	StateDir string
	// Socket is the control socket's path (empty: none).
	Socket string
	// MetricsAddr is HOST:PORT for the web listener: the status page (/),
	// its JSON (/api/v1/status) and /metrics (empty: none).
	MetricsAddr string
	// Version and Revision are the build's, shown in the status and the
	// metrics.
	Version, Revision string
	// RepairInterval is how often the kernel is read back (0: never).
	RepairInterval time.Duration
	CleanupOnExit  bool
	Logger         *slog.Logger
	// OpenKernel connects to the table; called only once the lock is held
	// and the configuration is valid.
	OpenKernel func() (Kernel, error)
	// Probers builds the built-in checkers (nil: internal/check).
	Probers engine.ProberFactory
	// LuaOutput receives print() output of the configuration (nil: discarded).
	LuaOutput io.Writer
	// LoadLimits bound each load of the configuration (zero: the sandbox's
	// defaults).
	LoadLimits luasandbox.Limits
	// HookTimeout bounds one run of a hook written as a Lua function (0:
	// engine.HookTimeout, as for notify programs).
	HookTimeout time.Duration
	// NewSpeaker makes the BGP speaker of a bgp { } declaration (nil:
	// internal/bgp's).
	NewSpeaker announce.NewSpeaker
	// OpenVRRP opens the virtual router of a vrrp declaration (nil: on the
	// real network).
	OpenVRRP failover.Open
}

// InputError is a problem with what the operator gave: a flag or the
// configuration (the command exits 2).
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Daemon is a started `luvs run`.
type Daemon struct {
	opts    Options
	log     *slog.Logger
	dir     *statedir.Dir
	lock    *statedir.Lock
	kernel  Kernel
	engine  *engine.Engine
	ctl     net.Listener
	met     net.Listener
	reloads metrics.Reloads
	metrics *metrics.Metrics
	reqs    chan reloadRequest
	// hooks carries the Lua hooks the engine fires to the Lua runtime of
	// the configuration in force (scripts).
	hooks *luacheck.HookQueue

	mu         sync.Mutex // guards current and scripts
	current    *luaconf.Result
	scripts    *scriptRun
	lastReload reloadInfo

	notify *notifier // systemd's (nil: not run by systemd)
	// ann announces the services' addresses over BGP (bgp { }).
	ann *announce.Announcer
	// table is the kernel's table for the status and the metrics, read at
	// most once a second.
	table *sharedTable
	// vrrp runs the virtual routers of the vrrp declarations.
	vrrp *failover.Manager
}

type reloadRequest struct {
	trigger string
	reply   chan error
}

type reloadInfo struct {
	At      time.Time
	Trigger string
	Err     string
}

// Start checks the options, takes the instance lock, loads the
// configuration, opens the listeners and connects to the kernel; Run then
// runs the daemon. On any error nothing has touched the kernel.
func Start(o Options) (_ *Daemon, err error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.StateDir == "" {
		o.StateDir = DefaultStateDir
	}
	if o.Probers == nil {
		o.Probers = NewProber
	}
	if o.RepairInterval < 0 {
		return nil, &InputError{fmt.Errorf("--repair-interval %s: must not be negative (0 turns repair off)", o.RepairInterval)}
	}
	d := &Daemon{opts: o, log: o.Logger, reqs: make(chan reloadRequest),
		hooks: luacheck.NewHookQueue(luacheck.HookQueueSize, o.Logger)}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	if o.MetricsAddr != "" {
		if err := CheckWebAddr(o.MetricsAddr); err != nil {
			return nil, &InputError{fmt.Errorf("--metrics: %w", err)}
		}
	}
	if d.dir, err = statedir.Open(o.StateDir); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	if d.lock, err = d.dir.Lock(); err != nil {
		return nil, err
	}
	owned, err := d.dir.LoadOwned()
	if err != nil {
		return nil, err
	}
	overrides, err := d.dir.LoadOverrides()
	if err != nil {
		return nil, err
	}
	draining, err := d.dir.LoadDraining()
	if err != nil {
		d.log.Warn("cannot read the servers being drained before the restart; they will be removed at once", "err", err)
	}
	if d.current, err = d.load(); err != nil {
		return nil, err
	}
	if o.Socket != "" {
		if d.ctl, err = control.Listen(o.Socket); err != nil {
			return nil, err
		}
	}
	if o.MetricsAddr != "" {
		if d.met, err = listenWeb(o.MetricsAddr); err != nil {
			return nil, err
		}
	}
	if o.OpenKernel == nil {
		return nil, errors.New("daemon: no kernel")
	}
	if d.kernel, err = o.OpenKernel(); err != nil {
		return nil, err
	}
	d.ann = announce.New(d.log, o.NewSpeaker)
	d.engine, err = engine.New(d.current.Config, engine.Options{
		Routes: d.ann, Serving: func(m map[model.ServiceKey]bool) { d.vrrp.Serving(m) },
		DataPlane: d.kernel, Probers: o.Probers, Logger: d.log, RepairInterval: o.RepairInterval,
		Owned: owned, Store: d.dir, CleanupOnExit: o.CleanupOnExit,
		Overrides: overrides, OverrideStore: d.dir, LuaHooks: d.hooks.Fire,
		Draining: draining, DrainStore: d.dir,
		OnProbe: func(kind model.CheckKind, took time.Duration, r engine.ProbeResult) {
			d.metrics.ObserveProbe(kind, took, r)
		},
	})
	if err != nil {
		return nil, &InputError{err}
	}
	d.vrrp = failover.New(d.log, d.engine, o.OpenVRRP)
	d.table = &sharedTable{k: d.kernel, maxAge: time.Second}
	d.metrics = metrics.New(d.engine, d.table, &d.reloads, metrics.Build{Version: o.Version, Revision: o.Revision}).WithBGP(d.bgpStatus).WithVRRP(d.vrrpStatus)
	d.reloads.Loaded(time.Now())
	return d, nil
}

// load reads the configuration; problems are an *InputError listing them.
func (d *Daemon) load() (*luaconf.Result, error) {
	res, err := luaconf.Load(d.opts.ConfigPath, luaconf.Options{Output: d.opts.LuaOutput, Limits: d.opts.LoadLimits})
	if err != nil {
		var ps luaconf.Problems
		if errors.As(err, &ps) {
			return nil, &InputError{fmt.Errorf("%s: %d problem(s), nothing applied:\n%w", d.opts.ConfigPath, len(ps.Errors()), err)}
		}
		return nil, &InputError{err}
	}
	for _, w := range res.Warnings {
		d.log.Warn("config warning", "at", w.Pos.String(), "msg", w.Msg)
	}
	return res, nil
}

func (d *Daemon) close() {
	if d.ctl != nil {
		d.ctl.Close()
	}
	if d.met != nil {
		d.met.Close()
	}
	if c, ok := d.kernel.(io.Closer); ok {
		c.Close()
	}
	d.current.Close()
	if d.lock != nil {
		d.lock.Release()
	}
}

// Engine is the daemon's engine (for tests and status).
func (d *Daemon) Engine() *engine.Engine { return d.engine }

// Run runs the daemon until ctx is done: the engine, the Lua health
// checks, reloads, the control socket and metrics. It returns the engine's
// error (the kernel could not be read at start) or nil.
func (d *Daemon) Run(ctx context.Context) error {
	defer d.close()
	st := d.current.Config.State()
	d.log.Info("luvs starting", "config", d.opts.ConfigPath, "services", len(st.Services), "servers", st.DestCount(),
		"pid", os.Getpid(), "state_dir", d.dir.Path, "namespace", nsName(d.dir.Namespace), "socket", d.opts.Socket)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	d.mu.Lock()
	d.scripts = d.startScripts(ctx, d.current)
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		d.scripts.stop()
		d.mu.Unlock()
	}()
	d.notify = newNotifier(d.engine, d.log)
	wg.Add(2)
	go func() { defer crash.Guard(); defer wg.Done(); d.notify.run(ctx) }()
	go func() { defer crash.Guard(); defer wg.Done(); d.reloadLoop(ctx) }()
	if d.ctl != nil {
		wg.Add(1)
		go func() {
			defer crash.Guard()
			defer wg.Done()
			if err := control.Serve(ctx, d.ctl, d.handle); err != nil {
				d.log.Error("control socket failed", "err", err)
			}
		}()
	}
	if d.met != nil {
		wg.Add(1)
		go func() {
			defer crash.Guard()
			defer wg.Done()
			if err := d.serveWeb(ctx); err != nil {
				d.log.Error("web listener failed", "err", err)
			}
		}()
	}
	if err := d.ann.Configure(ctx, d.current.Config.BGP); err != nil {
		return err
	}
	defer func() {
		stopCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
		defer done()
		d.ann.Stop(stopCtx)
	}()
	wg.Add(2)
	go func() { defer crash.Guard(); defer wg.Done(); d.ann.Run(ctx) }()
	// The virtual routers: a clean stop gives their addresses up at once
	// (priority 0), so that the backup takes over within its skew time.
	go func() { defer crash.Guard(); defer wg.Done(); d.vrrp.Run(ctx) }()
	if vs := d.current.Config.VRRP; len(vs) > 0 {
		go func() {
			defer crash.Guard()
			if err := d.vrrp.Configure(ctx, vs); err != nil {
				d.log.Error("vrrp not started", "err", err)
			}
		}()
	}
	// A clean stop withdraws the announcements first and keeps serving for
	// the shutdown delay, so that the routers move the flows away before
	// the engine stops.
	engineCtx, stopEngine := context.WithCancel(context.Background())
	defer stopEngine()
	go func() {
		defer crash.Guard()
		select {
		case <-ctx.Done():
		case <-engineCtx.Done():
			return
		}
		if d.ann.Shutdown() {
			delay := d.ann.ShutdownDelay()
			d.log.Info("withdrew the announcements; still serving until the routers move the flows", "shutdown_delay", delay)
			time.Sleep(delay)
		}
		stopEngine()
	}()
	// Loading a large configuration allocates far more than the daemon
	// keeps: hand that back to the system before settling down.
	debug.FreeOSMemory()
	err := d.engine.Run(engineCtx)
	cancel()
	d.log.Info("luvs stopped", "cleanup", d.opts.CleanupOnExit)
	return err
}

func nsName(ns string) string {
	if ns == "" {
		return "host"
	}
	return ns
}

// Reload asks for a reload of the configuration file and waits for its
// result; reloads are serialised.
func (d *Daemon) Reload(ctx context.Context, trigger string) error {
	req := reloadRequest{trigger: trigger, reply: make(chan error, 1)}
	select {
	case d.reqs <- req:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *Daemon) reloadLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case req := <-d.reqs:
			d.notify.reloading()
			err := d.reload(ctx, req.trigger)
			d.notify.reloaded(err)
			d.mu.Lock()
			d.lastReload = reloadInfo{At: time.Now(), Trigger: req.trigger}
			if err != nil {
				d.lastReload.Err = err.Error()
			}
			d.mu.Unlock()
			req.reply <- err
		}
	}
}

// reload is the reload transaction: load and validate the file; on any
// problem keep everything as it is. Otherwise stop the Lua checks and hooks
// (they run on the old configuration's state), switch the engine, and start
// the new configuration's; if the engine refuses, go back to the old
// state's. Lua hooks fired meanwhile wait in the queue for the runner that
// follows, which finds them by name (model.Hook.Func).
func (d *Daemon) reload(ctx context.Context, trigger string) error {
	start := time.Now()
	next, err := d.load()
	loaded := time.Now()
	if err != nil {
		d.reloads.Done(time.Now(), err)
		var ps luaconf.Problems
		if errors.As(err, &ps) {
			for _, p := range ps {
				if p.Warning {
					d.log.Warn("config warning", "at", p.Pos.String(), "msg", p.Msg)
				} else {
					d.log.Error("config problem", "at", p.Pos.String(), "msg", p.Msg)
				}
			}
		}
		d.log.Error("reload rejected: the running configuration stays", "trigger", trigger, "err", firstLine(err))
		return fmt.Errorf("reload rejected: %w", err)
	}
	if err := d.ann.Configure(ctx, next.Config.BGP); err != nil {
		next.Close()
		d.reloads.Done(time.Now(), err)
		d.log.Error("reload rejected: the running configuration stays", "trigger", trigger, "err", err)
		return fmt.Errorf("reload rejected: %w", err)
	}
	before := d.engine.Stats().OpsApplied
	d.mu.Lock()
	defer d.mu.Unlock()
	d.scripts.stop()
	if err := d.engine.Reload(ctx, next.Config); err != nil {
		next.Close()
		d.scripts = d.startScripts(ctx, d.current)
		d.reloads.Done(time.Now(), err)
		d.log.Error("reload rejected: the running configuration stays", "trigger", trigger, "err", err)
		return fmt.Errorf("reload rejected: %w", err)
	}
	d.current.Close()
	d.current = next
	d.scripts = d.startScripts(ctx, d.current)
	if err := d.vrrp.Configure(ctx, next.Config.VRRP); err != nil {
		d.log.Error("reload: vrrp not fully applied", "err", err)
		d.reloads.Done(time.Now(), err)
		return fmt.Errorf("reload applied but for vrrp: %w", err)
	}
	d.reloads.Done(time.Now(), nil)
	st := next.Config.State()
	d.log.Info("reload applied", "trigger", trigger, "services", len(st.Services), "servers", st.DestCount(),
		"changes", d.engine.Stats().OpsApplied-before, "load_time", loaded.Sub(start).Round(time.Millisecond),
		"total_time", time.Since(start).Round(time.Millisecond))
	return nil
}

func firstLine(err error) string {
	s := err.Error()
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}

// handle answers a control-socket command.
func (d *Daemon) handle(ctx context.Context, cmd string) (string, error) {
	switch cmd {
	case "reload":
		if err := d.Reload(ctx, "luvs reload"); err != nil {
			return "", err
		}
		return "reload applied", nil
	case "status":
		return d.StatusJSON()
	case "reload --dry-run":
		return d.DryRunReload()
	}
	if arg, ok := strings.CutPrefix(cmd, "server "); ok {
		return d.serverCommand(arg)
	}
	return "", fmt.Errorf("unknown command %q (reload, reload --dry-run, status, server)", cmd)
}

// scriptRun is a running set of Lua health checks and hooks.
type scriptRun struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// startScripts runs the Lua health checks and hooks of res.
func (d *Daemon) startScripts(ctx context.Context, res *luaconf.Result) *scriptRun {
	sctx, cancel := context.WithCancel(ctx)
	sr := &scriptRun{cancel: cancel, done: make(chan struct{})}
	if !res.HasScripts() && !res.HasLuaHooks() {
		// Without Lua health checks and hooks the Lua state is not needed
		// after loading: free it (a third of the daemon's memory at 10,000
		// servers).
		res.Close()
		d.hooks.Discard() // (fired under the configuration before)
		close(sr.done)
		return sr
	}
	r := luacheck.New(res.L, res.Config, d.engine, res.ServerFor, d.log)
	r.ServeHooks(d.hooks, res.HookFunc, d.opts.HookTimeout)
	go func() { defer crash.Guard(); r.Run(sctx); close(sr.done) }()
	return sr
}

func (s *scriptRun) stop() {
	s.cancel()
	<-s.done
}

// prober adapts a check.Checker to the engine.
type prober struct{ c check.Checker }

func (p prober) Probe(ctx context.Context, addr netip.Addr, port uint16) engine.ProbeResult {
	r := p.c.Probe(ctx, check.Target{Addr: addr, Port: port})
	return engine.ProbeResult{OK: r.OK, Weight: r.Weight, Msg: r.Msg}
}

// ProbeBy implements engine.DeadlineProber.
func (p prober) ProbeBy(ctx context.Context, deadline time.Time, addr netip.Addr, port uint16) engine.ProbeResult {
	r := p.c.ProbeBy(ctx, deadline, check.Target{Addr: addr, Port: port})
	return engine.ProbeResult{OK: r.OK, Weight: r.Weight, Msg: r.Msg}
}

// TryProbeBy implements engine.TryProber.
func (p prober) TryProbeBy(ctx context.Context, deadline time.Time, addr netip.Addr, port uint16) (engine.ProbeResult, func() engine.ProbeResult) {
	r, rest := p.c.TryProbeBy(ctx, deadline, check.Target{Addr: addr, Port: port})
	if rest != nil {
		return engine.ProbeResult{}, func() engine.ProbeResult {
			r := rest()
			return engine.ProbeResult{OK: r.OK, Weight: r.Weight, Msg: r.Msg}
		}
	}
	return engine.ProbeResult{OK: r.OK, Weight: r.Weight, Msg: r.Msg}, nil
}

// NewProber builds the built-in checker for c.
func NewProber(c model.Check) (engine.Prober, error) {
	ch, err := check.New(c)
	if err != nil {
		return nil, err
	}
	return prober{ch}, nil
}
