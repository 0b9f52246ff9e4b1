// Package diff computes the operations that turn the actual IPVS table into
// the desired one. Only differences produce operations, so applying a plan
// to a table that already matches costs nothing.
package diff

import (
	"slices"

	"github.com/luvs-lb/luvs/internal/model"
)

// Options tune a plan.
type Options struct {
	// Owned decides whether an actual service not in the desired state may be
	// deleted. Nil means every service is owned (a full sync).
	Owned func(model.ServiceKey) bool
}

// Plan returns the operations that make actual equal desired, ordered:
// services added or edited, real servers added, edited, deleted, then
// services deleted. Deleting a service deletes its real servers, so those are
// not listed separately.
func Plan(desired, actual *model.State, opts Options) []model.Op {
	var adds, edits, dadds, dedits, ddels, dels []model.Op
	act := make(map[model.ServiceKey]*model.VirtualServer, len(actual.Services))
	for i := range actual.Services {
		act[actual.Services[i].ServiceKey] = &actual.Services[i]
	}
	want := make(map[model.ServiceKey]bool, len(desired.Services))
	for i := range desired.Services {
		d := &desired.Services[i]
		want[d.ServiceKey] = true
		a := act[d.ServiceKey]
		if a == nil {
			adds = append(adds, model.Op{Kind: model.AddService, Service: d.Service})
			for _, dst := range d.Dests {
				dadds = append(dadds, model.Op{Kind: model.AddDest, Service: d.Service, Dest: dst})
			}
			continue
		}
		if !SameService(&d.Service, &a.Service) {
			edits = append(edits, model.Op{Kind: model.EditService, Service: d.Service})
		}
		have := make(map[model.DestKey]*model.Dest, len(a.Dests))
		for j := range a.Dests {
			have[a.Dests[j].DestKey] = &a.Dests[j]
		}
		for _, dst := range d.Dests {
			cur := have[dst.DestKey]
			switch {
			case cur == nil:
				dadds = append(dadds, model.Op{Kind: model.AddDest, Service: d.Service, Dest: dst})
			case !SameDest(&dst, cur):
				dedits = append(dedits, model.Op{Kind: model.EditDest, Service: d.Service, Dest: dst})
			}
			delete(have, dst.DestKey)
		}
		for _, cur := range a.Dests {
			if _, gone := have[cur.DestKey]; gone {
				ddels = append(ddels, model.Op{Kind: model.DelDest, Service: d.Service, Dest: cur})
			}
		}
	}
	for i := range actual.Services {
		a := &actual.Services[i]
		if want[a.ServiceKey] || (opts.Owned != nil && !opts.Owned(a.ServiceKey)) {
			continue
		}
		dels = append(dels, model.Op{Kind: model.DelService, Service: a.Service})
	}
	return slices.Concat(adds, edits, dadds, dedits, ddels, dels)
}

// SameService reports whether two services have the same settings
// (scheduler, flags, persistence), ignoring real servers.
func SameService(a, b *model.Service) bool {
	return a.ServiceKey == b.ServiceKey &&
		a.Scheduler == b.Scheduler &&
		a.Flags() == b.Flags() &&
		(!a.Persistent || (a.Timeout == b.Timeout && a.Netmask() == b.Netmask() && a.PEName == b.PEName))
}

// SameDest reports whether two real servers have the same settings.
func SameDest(a, b *model.Dest) bool {
	if a.DestKey != b.DestKey || a.Weight != b.Weight || a.Forward != b.Forward ||
		a.UpperThreshold != b.UpperThreshold || a.LowerThreshold != b.LowerThreshold {
		return false
	}
	if a.Forward == model.Tunnel {
		return a.TunnelType == b.TunnelType && a.TunnelPort == b.TunnelPort && a.TunnelFlags == b.TunnelFlags
	}
	return true
}
