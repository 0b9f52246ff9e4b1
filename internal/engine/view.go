package engine

import (
	"time"

	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/override"
)

// Server states as View reports them, the most telling first: an operator's
// hold, then a removal in progress, then what the checks say.
const (
	StateUp        = "up"
	StateDown      = "down"
	StateUnknown   = "unknown"     // checks not decided since the start or a change
	StateDrain     = "drain"       // operator: weight 0, checks go on
	StateMaint     = "maint"       // operator: weight 0, checks stopped
	StateLeaving   = "leaving"     // dropped from the table: weight 0 until drained
	StateSlowStart = "slow_start"  // up, its weight ramping
	StateRemoved   = "removed"     // operator: taken out of the service
	StateSorry     = "sorry"       // the sorry server, standing in
	StateScripted  = "lua_changed" // changed by a Lua health check
)

// ServiceView is one virtual service as the engine sees it.
type ServiceView struct {
	Key  model.ServiceKey
	Name string
	// QuorumLost is set while the service's live weight is below its quorum;
	// SorryActive while its sorry server stands in.
	QuorumLost, SorryActive bool
	Servers                 []ServerView
}

// ServerView is one real server of a service.
type ServerView struct {
	Key  model.DestKey
	Name string
	// Configured is the configuration file's weight (-1: not in the file,
	// added by an operator or a Lua check); Kernel the weight in the table
	// as luvs last applied it (-1: absent).
	Configured, Kernel int
	State              string
	Health             Health
	// Overrides are the operator's overrides that name the server.
	Overrides []override.Override
	// Leaving: since when it drains and until when at most, and its
	// connections at the last count (-1: not counted yet).
	LeavingSince, LeavingDeadline time.Time
	Conns                         int
	// RampSince is when its slow start began (zero: none).
	RampSince time.Time
	// Checks are its health checks with their last results (none while in
	// maintenance: its checks are stopped).
	Checks []CheckView
}

// CheckView is one health check of a real server and its last probe. A
// check shared by several services' servers shows the same probe in each.
type CheckView struct {
	Kind   model.CheckKind
	Target string // where the probe connects, HOST:PORT
	// State is the check's verdict after rise and fall: up, down or
	// unknown (not probed yet).
	State string
	// Probed is false until the first probe finished; then OK, Msg, At and
	// Took describe the last one.
	Probed bool
	OK     bool
	Msg    string
	At     time.Time
	Took   time.Duration
}

func (m *monitor) view() CheckView {
	cv := CheckView{Kind: m.check.Kind, Target: m.key.Target.String(), State: StateUp, Probed: m.probed}
	switch m.state {
	case stateDown:
		cv.State = StateDown
	case stateUnknown:
		cv.State = StateUnknown
	}
	if m.probed {
		cv.OK, cv.Msg, cv.At, cv.Took = m.last.OK, m.last.Msg, m.lastAt, m.lastTook
	}
	return cv
}

// View returns every service and real server with its weights and state:
// what `luvs status`, the status page and the metrics show.
func (e *Engine) View() []ServiceView {
	var out []ServiceView
	e.call(func() { out = e.view() })
	return out
}

func (e *Engine) view() []ServiceView {
	desired := e.effective()
	base := make(map[ServerKey]int)
	for i := range e.base.Services {
		sc := &e.base.Services[i]
		for _, rs := range sc.Servers {
			base[ServerKey{sc.ServiceKey, rs.DestKey}] = rs.Weight
		}
	}
	out := make([]ServiceView, 0, len(e.cfg.Services))
	for i := range e.cfg.Services {
		sc := &e.cfg.Services[i]
		sv := ServiceView{Key: sc.ServiceKey, Name: sc.Name}
		if held, seen := e.quorum[sc.ServiceKey]; seen && !held {
			sv.QuorumLost = true
		}
		dv := desired.Find(sc.ServiceKey)
		seen := map[model.DestKey]bool{}
		add := func(dk model.DestKey, name string) {
			sk := ServerKey{sc.ServiceKey, dk}
			v := ServerView{Key: dk, Name: name, Configured: -1, Kernel: e.heldWeight(sk), Conns: -1}
			if w, ok := base[sk]; ok {
				v.Configured = w
			}
			v.Health = upHealth
			if h, ok := e.health[sk]; ok {
				v.Health = h
			}
			st := e.opState[sk]
			v.Overrides = st.Overrides
			if l := e.leaving[sk]; l != nil && !l.done {
				v.LeavingSince, v.LeavingDeadline, v.Conns = l.since, l.deadline, l.conns
			}
			v.RampSince = e.ramps[sk]
			for _, m := range e.byServer[sk] {
				v.Checks = append(v.Checks, m.view())
			}
			_, scripted := e.ov.Weight[sk]
			switch {
			case st.State == override.Maint:
				v.State = StateMaint
			case st.State == override.Drain:
				v.State = StateDrain
			case !v.LeavingSince.IsZero():
				v.State = StateLeaving
			case e.ov.Removed[sk]:
				v.State = StateScripted
			case e.cfgServer(sk) == nil && v.Configured >= 0:
				v.State = StateRemoved
			case v.Health.Unknown:
				v.State = StateUnknown
			case !v.Health.Up:
				v.State = StateDown
			case !v.RampSince.IsZero():
				v.State = StateSlowStart
			case scripted:
				v.State = StateScripted
			default:
				v.State = StateUp
			}
			sv.Servers = append(sv.Servers, v)
			seen[dk] = true
		}
		for _, rs := range sc.Servers {
			add(rs.DestKey, rs.Name)
		}
		// Servers not in the layered configuration: removed by an operator
		// (still in the file), added by a Lua check, or leaving.
		if bs := serviceOf(e.base, sc.ServiceKey); bs != nil && len(bs.Servers) != len(sc.Servers) {
			for _, rs := range bs.Servers {
				if !seen[rs.DestKey] {
					add(rs.DestKey, rs.Name)
				}
			}
		}
		if dv != nil {
			for _, d := range dv.Dests {
				if seen[d.DestKey] {
					continue
				}
				if sc.Sorry != nil && d.DestKey == sc.Sorry.DestKey {
					sv.SorryActive = true
					sv.Servers = append(sv.Servers, ServerView{Key: d.DestKey, Configured: sc.Sorry.Weight,
						Kernel: e.heldWeight(ServerKey{sc.ServiceKey, d.DestKey}), State: StateSorry, Health: upHealth, Conns: -1})
					seen[d.DestKey] = true
					continue
				}
				add(d.DestKey, "")
			}
		}
		out = append(out, sv)
	}
	return out
}
