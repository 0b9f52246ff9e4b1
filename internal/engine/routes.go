package engine

import (
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/luvs-lb/luvs/internal/model"
)

// Routes is told which prefixes to announce over BGP (Options.Routes), a
// whole set at a time, whenever the set or its attributes change. It must
// not block: the announcer (internal/announce) talks to the peers off the
// engine's loop.
type Routes interface {
	SetRoutes(map[netip.Prefix]model.Announce)
}

// Announcement is the state of one prefix that services announce.
type Announcement struct {
	Prefix    netip.Prefix
	Announced bool
	// Services are those announcing the prefix; it is announced while
	// every one of them serves (holds its quorum, has a live real server).
	Services []model.ServiceKey
	// Reason says why it is withdrawn ("TCP 198.18.0.10:80: quorum lost").
	Reason string
	attrs  model.Announce // the first service's, without its Prefixes
}

// serving reports whether service i of the configuration can take traffic, for its
// announcement: it holds its quorum and a real server (not the sorry
// server) has a weight above 0; else why not.
func (e *Engine) serving(i int) (bool, string) {
	sc := &e.cfg.Services[i]
	if held, seen := e.quorum[sc.ServiceKey]; seen && !held {
		return false, "quorum lost"
	}
	live := 0
	desired := e.effective()
	v := (*model.VirtualServer)(nil)
	if i < len(desired.Services) && desired.Services[i].ServiceKey == sc.ServiceKey {
		v = &desired.Services[i] // Effective keeps the configuration's order
	} else {
		v = desired.Find(sc.ServiceKey)
	}
	if v != nil {
		for _, d := range v.Dests {
			if sc.Sorry == nil || d.DestKey != sc.Sorry.DestKey {
				live += d.Weight
			}
		}
	}
	if live == 0 {
		return false, "no live real server"
	}
	return true, ""
}

// announcements computes, from the configuration in force and the health
// of its services, which prefixes to announce. A prefix several services
// announce (a virtual address with several ports) goes with the attributes
// of the first of them in the configuration, and only while all serve.
func (e *Engine) announcements() []Announcement {
	var out []Announcement
	index := map[netip.Prefix]int{}
	for i := range e.cfg.Services {
		sc := &e.cfg.Services[i]
		for _, p := range sc.AnnouncedPrefixes() {
			j, ok := index[p]
			if !ok {
				j = len(out)
				index[p] = j
				attrs := *sc.Announce
				attrs.Prefixes = nil
				out = append(out, Announcement{Prefix: p, Announced: true, attrs: attrs})
			}
			a := &out[j]
			a.Services = append(a.Services, sc.ServiceKey)
			if ok, why := e.serving(i); !ok {
				a.Announced = false
				if a.Reason != "" {
					a.Reason += "; "
				}
				a.Reason += sc.ServiceKey.String() + ": " + why
			}
		}
	}
	slices.SortFunc(out, func(a, b Announcement) int { return a.Prefix.Addr().Compare(b.Prefix.Addr()) })
	return out
}

// updateRoutes tells Options.Routes the prefixes to announce when they
// changed, logging each announce and withdraw with its reason.
func (e *Engine) updateRoutes() {
	if e.opts.Routes == nil {
		return
	}
	want := map[netip.Prefix]model.Announce{}
	announced := map[netip.Prefix]bool{} // by some service, served or not
	for _, a := range e.announcements() {
		announced[a.Prefix] = true
		_, was := e.routes[a.Prefix]
		switch {
		case a.Announced:
			want[a.Prefix] = a.attrs
			if !was {
				services := make([]string, len(a.Services))
				for i, k := range a.Services {
					services[i] = k.String()
				}
				e.log.Info("announcing virtual address", "prefix", a.Prefix.String(), "services", strings.Join(services, ", "))
			}
		case was:
			e.log.Warn("withdrawing virtual address", "prefix", a.Prefix.String(), "reason", a.Reason)
		}
	}
	for p := range e.routes {
		if _, kept := want[p]; !kept && !announced[p] {
			e.log.Info("withdrawing virtual address", "prefix", p.String(), "reason", "no service announces it any more")
		}
	}
	if e.routes != nil && maps.EqualFunc(want, e.routes, func(a, b model.Announce) bool { return a.Equal(&b) }) {
		return
	}
	e.routes = want
	e.opts.Routes.SetRoutes(maps.Clone(want))
}

// Announcements returns the prefixes services announce, and whether each is
// announced now.
func (e *Engine) Announcements() []Announcement {
	var out []Announcement
	e.call(func() { out = e.announcements() })
	return out
}

// updateServing tells Options.Serving which services serve, when that
// changed.
func (e *Engine) updateServing() {
	if e.opts.Serving == nil {
		return
	}
	now := make(map[model.ServiceKey]bool, len(e.cfg.Services))
	for i := range e.cfg.Services {
		ok, _ := e.serving(i)
		now[e.cfg.Services[i].ServiceKey] = ok
	}
	if e.servingSet != nil && maps.Equal(now, e.servingSet) {
		return
	}
	e.servingSet = now
	e.opts.Serving(maps.Clone(now))
}
