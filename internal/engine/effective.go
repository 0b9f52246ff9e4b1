// Package engine is the luvs daemon's core: it keeps the kernel's IPVS table
// equal to the configured state adjusted by health — drained or removed real
// servers, dynamic weights, sorry servers while a quorum is lost — by
// reading the kernel once, diffing, and applying only the difference.
package engine

import (
	"github.com/luvs-lb/luvs/internal/model"
)

// ServerKey names a real server of a service.
type ServerKey struct {
	Service model.ServiceKey
	Dest    model.DestKey
}

// Health is what the checks say about one real server.
type Health struct {
	Up bool
	// Weight overrides the configured weight when >= 0 (a dynamic weight
	// from an exec check).
	Weight int
	// ScriptWeight, when >= 0, is a weight set by a Lua health check
	// (dest.weight = n); it wins over Weight until the next reload.
	ScriptWeight int
	// Removed is set by a Lua health check (lvs:del_dest): the server is out
	// of the table until a reload or lvs:add_dest.
	Removed bool
	// Reason is the last check's explanation.
	Reason string
}

// quorumState remembers, per service, whether the quorum is currently held,
// for hysteresis.
type quorumState map[model.ServiceKey]bool

// Effective computes the kernel table for cfg given the servers' health and
// the extra servers Lua health checks added. A server without a health entry
// is up. Quorum: when the total weight of live servers falls below
// Quorum-Hysteresis the service switches to its sorry server (if any); it
// switches back once the live weight reaches Quorum+Hysteresis.
func Effective(cfg *model.Config, health map[ServerKey]Health, added map[model.ServiceKey][]model.Dest, quorum quorumState) *model.State {
	st := &model.State{Services: make([]model.VirtualServer, 0, len(cfg.Services))}
	for i := range cfg.Services {
		sc := &cfg.Services[i]
		v := model.VirtualServer{Service: sc.Service}
		live := 0
		for _, rs := range sc.Servers {
			h, known := health[ServerKey{sc.ServiceKey, rs.DestKey}]
			if !known {
				h = Health{Up: true, Weight: -1, ScriptWeight: -1}
			}
			d := rs.Dest
			if h.Weight >= 0 {
				d.Weight = h.Weight
			}
			if h.ScriptWeight >= 0 {
				d.Weight = h.ScriptWeight
			}
			switch {
			case h.Removed:
				continue
			case !h.Up && rs.OnFail == model.Remove:
				continue
			case !h.Up:
				d.Weight = 0
			}
			live += d.Weight
			v.Dests = append(v.Dests, d)
		}
		for _, d := range added[sc.ServiceKey] {
			if v.Dest(d.DestKey) != nil {
				continue
			}
			if h, ok := health[ServerKey{sc.ServiceKey, d.DestKey}]; ok && h.ScriptWeight >= 0 {
				d.Weight = h.ScriptWeight
			}
			live += d.Weight
			v.Dests = append(v.Dests, d)
		}
		q := sc.Quorum
		if q == 0 && sc.Sorry != nil {
			q = 1 // as keepalived: the sorry server stands in when nothing is live
		}
		if q > 0 {
			held, seen := quorum[sc.ServiceKey]
			if !seen {
				held = true
			}
			switch {
			case held && live < q-sc.Hysteresis:
				held = false
			case !held && live >= q+sc.Hysteresis:
				held = true
			}
			quorum[sc.ServiceKey] = held
			if !held && sc.Sorry != nil {
				// keepalived keeps nothing but the sorry server while the
				// quorum is lost.
				v.Dests = []model.Dest{*sc.Sorry}
			}
		}
		st.Services = append(st.Services, v)
	}
	return st
}
