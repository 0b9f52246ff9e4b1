package engine

import (
	"fmt"
	"slices"
	"time"

	"github.com/luvs-lb/luvs/internal/diff"
	"github.com/luvs-lb/luvs/internal/model"
)

// reconciler keeps the kernel table equal to the effective state. It diffs
// against the table it last read or applied (applied); the kernel is read
// whole only at start, on the repair tick and after a failed apply. It also
// keeps the set of services luvs manages (owned), recorded in the
// OwnerStore before an apply that adds services and after one that deletes
// them, so that a crash never leaves a service nobody deletes.
type reconciler struct {
	e       *Engine
	applied *model.State
	stale   bool // applied may differ from the kernel: read it first
	owned   map[model.ServiceKey]bool
	saved   []model.ServiceKey // what the store holds (sorted)
	retry   *time.Timer
	backoff time.Duration
}

const (
	retryMin = time.Second
	retryMax = 30 * time.Second
	// logEach is the most changes one apply logs one by one at info level;
	// bigger applies log a summary (and each change at debug level).
	logEach = 64
)

func newReconciler(e *Engine, owned []model.ServiceKey) reconciler {
	r := reconciler{e: e, owned: map[model.ServiceKey]bool{}, stale: true}
	for _, k := range owned {
		r.owned[k] = true
	}
	r.saved = sortedKeys(r.owned)
	return r
}

func sortedKeys(m map[model.ServiceKey]bool) []model.ServiceKey {
	keys := make([]model.ServiceKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, model.ServiceKey.Compare)
	return keys
}

// read reads the whole kernel table.
func (r *reconciler) read() (*model.State, error) {
	st, err := r.e.opts.DataPlane.State()
	if err != nil {
		return nil, fmt.Errorf("read the kernel table: %w", err)
	}
	r.e.updateStats(func(s *Stats) { s.TableReads++ })
	r.applied, r.stale = st, false
	return st, nil
}

// own adds cfg's services to the managed set.
func (r *reconciler) own(cfg *model.Config) {
	for i := range cfg.Services {
		r.owned[cfg.Services[i].ServiceKey] = true
	}
}

// save records the managed set when it differs from what the store holds.
func (r *reconciler) save() error {
	keys := sortedKeys(r.owned)
	if slices.Equal(keys, r.saved) || r.e.opts.Store == nil {
		r.saved = keys
		return nil
	}
	if err := r.e.opts.Store.SaveOwned(keys); err != nil {
		return fmt.Errorf("record the managed services: %w", err)
	}
	r.saved = keys
	return nil
}

func (r *reconciler) retryC() <-chan time.Time {
	if r.retry == nil {
		return nil
	}
	return r.retry.C
}

// failed schedules another attempt, backing off up to retryMax.
func (r *reconciler) failed() {
	r.backoff = min(max(r.backoff*2, retryMin), retryMax)
	if r.retry == nil {
		r.retry = time.NewTimer(r.backoff)
	} else {
		r.retry.Reset(r.backoff)
	}
}

func (r *reconciler) succeeded() {
	r.backoff = 0
	if r.retry != nil {
		r.retry.Stop()
		r.retry = nil
	}
}

// adopt takes in the kernel table read at start: the configuration's
// services are managed from now on, and a service that shows nothing but
// its sorry server has lost its quorum (so that a restart does not bring
// its failed servers back before their checks decide).
func (e *Engine) adopt(actual *model.State) {
	e.recon.own(e.cfg)
	for i := range e.cfg.Services {
		sc := &e.cfg.Services[i]
		v := actual.Find(sc.ServiceKey)
		if v == nil || sc.Sorry == nil || len(v.Dests) != 1 || v.Dests[0].DestKey != sc.Sorry.DestKey {
			continue
		}
		if slices.ContainsFunc(sc.Servers, func(rs model.ServerConfig) bool { return rs.DestKey == sc.Sorry.DestKey }) {
			continue
		}
		e.quorum[sc.ServiceKey] = false
	}
}

// startStateAtBoot is where a server's checks start when the daemon starts:
// unknown (keeping the kernel's weight, or its absence) for a server of a
// service already in the kernel that was in the table or may have been
// taken out by health, up for a new one.
func (e *Engine) startStateAtBoot(sk ServerKey, actual *model.State) checkState {
	v := actual.Find(sk.Service)
	if v == nil {
		return e.newServerState(sk)
	}
	if v.Dest(sk.Dest) != nil {
		return stateUnknown
	}
	if rs := e.cfgServer(sk); rs != nil && rs.OnFail == model.Remove {
		return stateUnknown
	}
	if held, seen := e.quorum[sk.Service]; seen && !held {
		return stateUnknown
	}
	return e.newServerState(sk)
}

// newServerState is how a server's checks start when the kernel does not
// have it: up, or down until a check passes with alpha.
func (e *Engine) newServerState(sk ServerKey) checkState {
	if rs := e.cfgServer(sk); rs != nil && rs.Alpha {
		return stateDown
	}
	return stateUp
}

// heldWeight is a server's weight in the table as last applied (-1: absent).
func (e *Engine) heldWeight(sk ServerKey) int {
	if e.recon.applied == nil {
		return -1
	}
	if v := e.recon.applied.Find(sk.Service); v != nil {
		if d := v.Dest(sk.Dest); d != nil {
			return d.Weight
		}
	}
	return -1
}

// effective returns the table health asks for, logging quorum changes.
func (e *Engine) effective() *model.State {
	if e.desired != nil {
		return e.desired
	}
	before := make(quorumState, len(e.quorum))
	for k, v := range e.quorum {
		before[k] = v
	}
	e.desired = Effective(e.cfg, e.health, e.ov, e.quorum)
	now := time.Now()
	e.rampWeights(e.desired, now)
	e.holdLeaving(e.desired, now)
	for k, held := range e.quorum {
		was, seen := before[k]
		if seen && was == held || !seen && held {
			continue
		}
		sc := serviceOf(e.cfg, k)
		if held {
			e.log.Info("quorum regained", "service", k.String())
			if sc != nil && !sc.QuorumUp.IsZero() && seen {
				e.hook(Event{Kind: "quorum_up", Service: k, Name: sc.Name, Hook: sc.QuorumUp})
			}
		} else {
			e.log.Warn("quorum lost", "service", k.String(), "sorry_server", sorryOf(e.cfg, k))
			if sc != nil && !sc.QuorumDown.IsZero() {
				e.hook(Event{Kind: "quorum_down", Service: k, Name: sc.Name, Hook: sc.QuorumDown})
			}
		}
	}
	return e.desired
}

// serviceOf is the configuration of service k (nil if none).
func serviceOf(cfg *model.Config, k model.ServiceKey) *model.ServiceConfig {
	for i := range cfg.Services {
		if cfg.Services[i].ServiceKey == k {
			return &cfg.Services[i]
		}
	}
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

// reconcile makes the kernel equal to the effective state. why is "start",
// "reload", "retry", "repair" (for a repair, a change means someone else
// changed the table) or the causes of a settled burst of changes, comma
// separated: "health", "operator", "lua", "slow_start", "drain".
func (e *Engine) reconcile(why string) {
	r := &e.recon
	e.updateStats(func(s *Stats) { s.Reconciles++ })
	if r.stale {
		if _, err := r.read(); err != nil {
			e.log.Error("reconcile postponed", "why", why, "err", err)
			r.failed()
			return
		}
	}
	desired := e.effective()
	defer e.updateServing()
	defer e.updateRoutes() // after the table changed
	ops := diff.Plan(desired, r.applied, diff.Options{Owned: func(k model.ServiceKey) bool { return r.owned[k] }})
	if len(ops) == 0 {
		r.succeeded()
		return
	}
	// The record must name every service before it is created.
	if err := r.save(); err != nil {
		e.log.Error("changes postponed", "why", why, "err", err)
		r.failed()
		return
	}
	res := e.opts.DataPlane.Apply(ops)
	e.logApply(why, ops, res.Errors)
	r.applied.Apply(ops, func(i int) bool { return res.Errors[i] != nil })
	failed := res.Failed()
	e.updateStats(func(s *Stats) {
		s.OpsApplied += len(ops) - failed
		s.OpsFailed += failed
		s.LastApplied = time.Now()
		if why == "repair" {
			s.Repairs++
		}
	})
	// Services dropped by a reload, once gone from the kernel, are no
	// longer managed; one whose delete failed stays managed and is retried.
	inCfg := make(map[model.ServiceKey]bool, len(e.cfg.Services))
	for i := range e.cfg.Services {
		inCfg[e.cfg.Services[i].ServiceKey] = true
	}
	for k := range r.owned {
		if !inCfg[k] && r.applied.Find(k) == nil {
			delete(r.owned, k)
		}
	}
	if err := r.save(); err != nil {
		e.log.Error("record of managed services not updated", "err", err)
	}
	if failed > 0 {
		r.stale = true
		r.failed()
		return
	}
	r.succeeded()
}

// logApply logs an apply's changes: each one when there are few, else a
// summary by kind (each change at debug level), and every failure.
func (e *Engine) logApply(why string, ops []model.Op, errs []error) {
	var counts [model.DelService + 1]int
	for i, op := range ops {
		switch {
		case errs[i] != nil:
			e.log.Error("change failed", "op", op.String(), "err", errs[i], "why", why)
			continue
		case why == "repair":
			e.log.Warn("repaired a change made outside luvs", "op", op.String())
		case op.Kind == model.DelService && !inConfig(e.cfg, op.Service.ServiceKey) && why == "start":
			e.log.Warn("deleted a service an earlier run managed that the configuration no longer has", "service", op.Service.ServiceKey.String())
		case len(ops) <= logEach:
			e.log.Info("applied", e.opAttrs(op, why)...)
		default:
			e.log.Debug("applied", e.opAttrs(op, why)...)
		}
		counts[op.Kind]++
	}
	if len(ops) > logEach {
		e.log.Info("applied changes", "why", why, "changes", len(ops),
			"services_added", counts[model.AddService], "services_edited", counts[model.EditService],
			"services_deleted", counts[model.DelService], "servers_added", counts[model.AddDest],
			"servers_edited", counts[model.EditDest], "servers_deleted", counts[model.DelDest])
	}
}

// opAttrs describes an applied op for the log: for a real server its name,
// its weight before → after and, when it is down, why.
func (e *Engine) opAttrs(op model.Op, why string) []any {
	attrs := []any{"op", op.String(), "why", why}
	if !op.IsDest() {
		return attrs
	}
	sk := ServerKey{op.Service.ServiceKey, op.Dest.DestKey}
	after := op.Dest.Weight
	if op.Kind == model.DelDest {
		after = -1
	}
	attrs = append(attrs, "server", e.serverName(sk), "weight", WeightChange(e.heldWeight(sk), after))
	if h, ok := e.health[sk]; ok && !h.Up && h.Reason != "" {
		attrs = append(attrs, "reason", h.Reason)
	}
	return attrs
}

func inConfig(cfg *model.Config, k model.ServiceKey) bool {
	for i := range cfg.Services {
		if cfg.Services[i].ServiceKey == k {
			return true
		}
	}
	return false
}

// cleanup deletes every managed service (--cleanup-on-exit).
func (r *reconciler) cleanup() {
	e := r.e
	var ops []model.Op
	for _, k := range sortedKeys(r.owned) {
		ops = append(ops, model.Op{Kind: model.DelService, Service: &model.Service{ServiceKey: k}})
	}
	if len(ops) == 0 {
		return
	}
	res := e.opts.DataPlane.Apply(ops)
	for i, op := range ops {
		if res.Errors[i] == nil || r.applied != nil && r.applied.Find(op.Service.ServiceKey) == nil {
			delete(r.owned, op.Service.ServiceKey)
			if res.Errors[i] == nil {
				e.log.Info("removed on exit", "op", op.String())
			}
		} else {
			e.log.Error("remove on exit failed", "op", op.String(), "err", res.Errors[i])
		}
	}
	if err := r.save(); err != nil {
		e.log.Error("record of managed services not updated", "err", err)
	}
}
