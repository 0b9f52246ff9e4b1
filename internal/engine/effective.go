// Package engine is the luvs daemon's core: it keeps the kernel's IPVS table
// equal to the configured state adjusted by health — drained or removed real
// servers, dynamic weights, sorry servers while a quorum is lost — by diffing
// against the table it last applied and sending only the difference.
//
// One goroutine (Engine.Run) owns the state and is the only one that reads
// or writes the kernel. Probe verdicts, reloads, Lua health-check overrides,
// repair ticks and queries are messages to it. The package is split by job:
// effective.go computes the table health asks for, monitor.go runs checks
// and their rise/fall, script.go holds Lua health-check overrides,
// reconcile.go diffs and applies, and ownership of services survives a crash
// through an OwnerStore.
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
	// Reason is the failing check's explanation.
	Reason string
	// Unknown is set while the server's checks have not decided since the
	// daemon started (or since a check of the server changed): the server
	// keeps what the kernel had, HeldWeight (-1: absent from the table).
	Unknown    bool
	HeldWeight int
}

// upHealth is the health of a server with no verdict against it.
var upHealth = Health{Up: true, Weight: -1, HeldWeight: -1}

// quorumState remembers, per service, whether the quorum is currently held,
// for hysteresis.
type quorumState map[model.ServiceKey]bool

// Effective computes the kernel table for cfg given the servers' health
// (a server without an entry is up), the Lua health checks' overrides and
// the quorum state, which it updates. Quorum: when the total weight of live
// servers falls below Quorum-Hysteresis the service switches to its sorry
// server (if any); it switches back once the live weight reaches
// Quorum+Hysteresis.
func Effective(cfg *model.Config, health map[ServerKey]Health, ov *Overrides, quorum quorumState) *model.State {
	if ov == nil {
		ov = &Overrides{}
	}
	st := &model.State{Services: make([]model.VirtualServer, 0, len(cfg.Services))}
	for i := range cfg.Services {
		sc := &cfg.Services[i]
		v := model.VirtualServer{Service: sc.Service, Dests: make([]model.Dest, 0, len(sc.Servers))}
		live := 0
		for _, rs := range sc.Servers {
			sk := ServerKey{sc.ServiceKey, rs.DestKey}
			h, known := health[sk]
			if !known {
				h = upHealth
			}
			d := rs.Dest
			if h.Weight >= 0 {
				d.Weight = h.Weight
			}
			sw, scripted := ov.Weight[sk]
			if scripted {
				d.Weight = sw
			}
			switch {
			case ov.Removed[sk]:
				continue
			case h.Unknown && h.HeldWeight < 0:
				continue
			case h.Unknown && !scripted:
				d.Weight = h.HeldWeight
			case !h.Unknown && !h.Up && rs.OnFail == model.Remove:
				continue
			case !h.Unknown && !h.Up:
				d.Weight = 0
			}
			live += d.Weight
			v.Dests = append(v.Dests, d)
		}
		for _, d := range ov.Added[sc.ServiceKey] {
			if v.Dest(d.DestKey) != nil {
				continue
			}
			if w, ok := ov.Weight[ServerKey{sc.ServiceKey, d.DestKey}]; ok {
				d.Weight = w
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
