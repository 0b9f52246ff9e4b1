package engine

import (
	"maps"

	"errors"
	"fmt"
	"github.com/luvs-lb/luvs/internal/diff"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/override"
)

// OverrideStore keeps the operator's overrides across restarts
// (statedir.Dir in production).
type OverrideStore interface {
	SaveOverrides(s override.Set) error
}

// ErrNoMatch is returned for an override that names no configured server.
var ErrNoMatch = errors.New("no such real server")

// Touched is a real server an operator command changed.
type Touched struct {
	Service model.ServiceKey
	Server  model.DestKey
	Name    string
	// Before and After are the server's weight in the table before the
	// command and the weight the command asks for (-1: not in the table).
	Before, After int
}

// SetOverride puts an operator's override in force (drain, maint, weight,
// add, remove): stored first (a change that would not survive a restart is
// refused), then layered over the configuration. It returns the servers it
// applies to.
func (e *Engine) SetOverride(o override.Override) ([]Touched, error) {
	if o.At.IsZero() {
		o.At = time.Now()
	}
	var out []Touched
	var err error
	if !e.call(func() {
		next := e.opOverrides.With(o)
		inBase := namesServer(e.base, o.Target)
		switch {
		case o.Kind == override.Add && inBase:
			// Adding a configured server undoes its removal.
			next = e.opOverrides.Without("member", o.Target)
			if len(next) == len(e.opOverrides) {
				err = fmt.Errorf("%s is in its service already", o.Target)
				return
			}
		case o.Kind == override.Remove && !inBase:
			// Removing an added server undoes its addition.
			next = e.opOverrides.Without("member", o.Target)
		}
		out, err = e.setOverrides(next, o.Target, o.Kind == override.Add, o.String())
	}) {
		return nil, ErrStopped
	}
	return out, err
}

// ClearOverride ends overrides: kind Drain or Maint (`luvs server ready`)
// clears the state of every server target covers; Weight the weight
// override of exactly target; Add or Remove the membership change of
// exactly target.
func (e *Engine) ClearOverride(kind override.Kind, t override.Target) ([]Touched, error) {
	var out []Touched
	var err error
	ok := e.call(func() {
		var next override.Set
		switch kind {
		case override.Drain, override.Maint:
			var cleared []override.Override
			next, cleared = e.opOverrides.Ready(t)
			if len(cleared) == 0 {
				err = fmt.Errorf("%s is neither drained nor in maintenance", t)
				return
			}
		default:
			slot := string(kind)
			if kind == override.Add || kind == override.Remove {
				slot = "member"
			}
			next = e.opOverrides.Without(slot, t)
			if len(next) == len(e.opOverrides) {
				err = fmt.Errorf("%s has no %s override", t, kind)
				return
			}
		}
		out, err = e.setOverrides(next, t, false, "clear "+string(kind)+" "+t.String())
	})
	if !ok {
		return nil, ErrStopped
	}
	return out, err
}

// Overrides returns the overrides in force and what they make of each
// server they name.
func (e *Engine) Overrides() (override.Set, map[ServerKey]override.ServerState) {
	var set override.Set
	var states map[ServerKey]override.ServerState
	e.call(func() {
		set = append(override.Set(nil), e.opOverrides...)
		states = make(map[ServerKey]override.ServerState, len(e.opState))
		for k, v := range e.opState {
			states[k] = v
		}
	})
	return set, states
}

// setOverrides switches to the override set next (on the loop). adding
// allows a target that is not configured (an add).
func (e *Engine) setOverrides(next override.Set, t override.Target, adding bool, what string) ([]Touched, error) {
	if !adding && !e.namesServer(t) {
		return nil, fmt.Errorf("%s: %w of any configured service (luvs status lists them)", t, ErrNoMatch)
	}
	if adding {
		if t.AllServices() || t.Port == 0 {
			return nil, errors.New("add needs the server's port and the service (--service)")
		}
		if serviceOf(e.base, t.Service) == nil {
			return nil, fmt.Errorf("add %s: no service %s in the configuration", t, t.Service)
		}
	}
	if e.opts.OverrideStore != nil {
		if err := e.opts.OverrideStore.SaveOverrides(next); err != nil {
			return nil, fmt.Errorf("%s not applied: %w", what, err)
		}
	}
	before := e.effective()
	known := e.servers
	e.prevServers = known
	e.opOverrides = next
	e.layer()
	want, err := e.planMonitors(e.cfg)
	if err != nil {
		return nil, err // a prober that could not be built for an added server
	}
	e.setMonitors(want, func(sk ServerKey) checkState {
		if known[sk] != nil {
			return stateUnknown // leaving maintenance: the first probe decides
		}
		return e.newServerState(sk)
	})
	e.changed("operator")
	after := e.effective()
	var out []Touched
	for i := range e.cfg.Services {
		sc := &e.cfg.Services[i]
		for _, rs := range sc.Servers {
			if !t.Matches(sc.ServiceKey, rs.DestKey) {
				continue
			}
			out = append(out, e.touched(before, after, sc.ServiceKey, rs.DestKey))
		}
	}
	for sk := range known {
		if e.servers[sk] == nil && t.Matches(sk.Service, sk.Dest) {
			out = append(out, e.touched(before, after, sk.Service, sk.Dest))
		}
	}
	for _, tc := range out {
		e.log.Info("operator override", "change", what, "service", tc.Service.String(), "server", tc.Name,
			"weight", WeightChange(tc.Before, tc.After))
	}
	return out, nil
}

func (e *Engine) touched(before, after *model.State, svc model.ServiceKey, dk model.DestKey) Touched {
	weightIn := func(st *model.State) int {
		if v := st.Find(svc); v != nil {
			if d := v.Dest(dk); d != nil {
				return d.Weight
			}
		}
		return -1
	}
	return Touched{Service: svc, Server: dk, Name: e.serverName(ServerKey{svc, dk}), Before: weightIn(before), After: weightIn(after)}
}

// WeightChange renders "3 → 0", with "absent" for a server not in the table.
func WeightChange(before, after int) string {
	w := func(n int) string {
		if n < 0 {
			return "absent"
		}
		return fmt.Sprint(n)
	}
	return w(before) + " → " + w(after)
}

// namesServer reports whether target t names a server of the configuration
// (the file's, or one an operator added).
func (e *Engine) namesServer(t override.Target) bool {
	return namesServer(e.base, t) || namesServer(e.cfg, t)
}

// namesServer reports whether target t names a server of cfg.
func namesServer(cfg *model.Config, t override.Target) bool {
	for i := range cfg.Services {
		sc := &cfg.Services[i]
		for _, rs := range sc.Servers {
			if t.Matches(sc.ServiceKey, rs.DestKey) {
				return true
			}
		}
	}
	return false
}

// layer computes the configuration in force: the file's with the
// operator's overrides on top.
func (e *Engine) layer() {
	clear(e.opState)
	e.cfg = override.Layer(e.base, e.opOverrides, func(svc model.ServiceKey, d model.DestKey, st override.ServerState) {
		e.opState[ServerKey{svc, d}] = st
	})
	e.indexServers()
}

// PlanReload returns the changes a reload to cfg would make to the table
// now, without making them (`luvs reload --dry-run`): cfg under the
// operator's overrides, with the current health (new servers up, or down
// with alpha). A server the reload drops shows as a delete; the reload
// drains it first (see drainTimeout).
func (e *Engine) PlanReload(cfg *model.Config) ([]model.Op, error) {
	var ops []model.Op
	var err error
	if !e.call(func() {
		layered := override.Layer(cfg, e.opOverrides, nil)
		if _, err = e.planMonitors(layered); err != nil {
			return
		}
		health := maps.Clone(e.health)
		for i := range layered.Services {
			sc := &layered.Services[i]
			for _, rs := range sc.Servers {
				sk := ServerKey{sc.ServiceKey, rs.DestKey}
				if _, ok := e.servers[sk]; !ok && rs.Alpha {
					health[sk] = Health{Weight: -1, HeldWeight: -1, Reason: "alpha: down until a check passes"}
				}
			}
		}
		desired := Effective(layered, health, newOverrides(), maps.Clone(e.quorum))
		owned := maps.Clone(e.recon.owned)
		for i := range cfg.Services {
			owned[cfg.Services[i].ServiceKey] = true
		}
		applied := e.recon.applied
		if applied == nil {
			applied = &model.State{}
		}
		ops = diff.Plan(desired, applied, diff.Options{Owned: func(k model.ServiceKey) bool { return owned[k] }})
	}) {
		return nil, ErrStopped
	}
	return ops, err
}
