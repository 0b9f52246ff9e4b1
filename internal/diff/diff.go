// Package diff computes the operations that turn the actual IPVS table into
// the desired one. Only differences produce operations, so applying a plan
// to a table that already matches costs nothing.
package diff

import (
	"github.com/luvs-lb/luvs/internal/model"
)

// Options tune a plan.
type Options struct {
	// Owned decides whether an actual service not in the desired state may be
	// deleted. Nil means every service is owned (a full sync).
	Owned func(model.ServiceKey) bool
}

// Plan returns the operations that make actual equal desired, ordered:
// services added, services edited, real servers added, edited, deleted, then
// services deleted. Deleting a service deletes its real servers, so those are
// not listed separately. The ops point into desired and actual.
func Plan(desired, actual *model.State, opts Options) []model.Op {
	// One bucket per kind, in apply order (model.AddService == 1 ...).
	var buckets [model.DelService + 1][]model.Op
	add := func(kind model.OpKind, s *model.Service, d *model.Dest) {
		buckets[kind] = append(buckets[kind], model.Op{Kind: kind, Service: s, Dest: d})
	}
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
			add(model.AddService, &d.Service, nil)
			for j := range d.Dests {
				add(model.AddDest, &d.Service, &d.Dests[j])
			}
			continue
		}
		if !SameService(&d.Service, &a.Service) {
			add(model.EditService, &d.Service, nil)
		}
		planDests(d, a, add)
	}
	for i := range actual.Services {
		a := &actual.Services[i]
		if want[a.ServiceKey] || (opts.Owned != nil && !opts.Owned(a.ServiceKey)) {
			continue
		}
		add(model.DelService, &a.Service, nil)
	}
	n := 0
	for _, b := range buckets {
		n += len(b)
	}
	ops := make([]model.Op, 0, n)
	for _, b := range buckets {
		ops = append(ops, b...)
	}
	return ops
}

// planDests compares the real servers of one service present on both sides.
func planDests(d, a *model.VirtualServer, add func(model.OpKind, *model.Service, *model.Dest)) {
	// Few real servers per service: a linear scan beats a map.
	if len(a.Dests) <= 16 {
		seen := make([]bool, len(a.Dests))
		for j := range d.Dests {
			want := &d.Dests[j]
			k := -1
			for i := range a.Dests {
				if a.Dests[i].DestKey == want.DestKey {
					k = i
					break
				}
			}
			switch {
			case k < 0:
				add(model.AddDest, &d.Service, want)
			case !SameDest(want, &a.Dests[k]):
				seen[k] = true
				add(model.EditDest, &d.Service, want)
			default:
				seen[k] = true
			}
		}
		for i := range a.Dests {
			if !seen[i] {
				add(model.DelDest, &d.Service, &a.Dests[i])
			}
		}
		return
	}
	have := make(map[model.DestKey]*model.Dest, len(a.Dests))
	for i := range a.Dests {
		have[a.Dests[i].DestKey] = &a.Dests[i]
	}
	for j := range d.Dests {
		want := &d.Dests[j]
		cur := have[want.DestKey]
		switch {
		case cur == nil:
			add(model.AddDest, &d.Service, want)
		case !SameDest(want, cur):
			add(model.EditDest, &d.Service, want)
		}
		delete(have, want.DestKey)
	}
	for i := range a.Dests {
		if _, gone := have[a.Dests[i].DestKey]; gone {
			add(model.DelDest, &d.Service, &a.Dests[i])
		}
	}
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
