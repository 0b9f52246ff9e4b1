// Package announcetest has a BGP speaker for tests: it records what it is
// told instead of talking to peers.
package announcetest

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/luvs-lb/luvs/internal/announce"
	"github.com/luvs-lb/luvs/internal/bgp"
)

// Speaker is an announce.Speaker that records its calls. Its peers are
// the configured ones, established.
type Speaker struct {
	mu      sync.Mutex
	cfg     bgp.Config
	refuse  bool
	routes  map[netip.Prefix]bgp.Attrs
	events  []string
	stopped bool
}

// New returns an announce.NewSpeaker making sp (once).
func (sp *Speaker) New() announce.NewSpeaker {
	return func(cfg bgp.Config, _ *slog.Logger) (announce.Speaker, error) {
		sp.mu.Lock()
		defer sp.mu.Unlock()
		sp.cfg, sp.routes = cfg, map[netip.Prefix]bgp.Attrs{}
		return sp, nil
	}
}

func (sp *Speaker) note(ev string) { sp.events = append(sp.events, ev) }

// Refuse makes Announce fail (true) or work again.
func (sp *Speaker) Refuse(on bool) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.refuse = on
}

// Start records the start.
func (sp *Speaker) Start(context.Context) error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.note("start")
	return nil
}

// Announce records p (unless refusing).
func (sp *Speaker) Announce(p netip.Prefix, a bgp.Attrs) error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.refuse {
		return errors.New("refused")
	}
	sp.routes[p] = a
	sp.note("announce " + p.String())
	return nil
}

// Withdraw records the withdraw of p.
func (sp *Speaker) Withdraw(p netip.Prefix) error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	delete(sp.routes, p)
	sp.note("withdraw " + p.String())
	return nil
}

// Announced returns the prefixes announced, sorted.
func (sp *Speaker) Announced() []netip.Prefix {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return slices.SortedFunc(func(yield func(netip.Prefix) bool) {
		for p := range sp.routes {
			if !yield(p) {
				return
			}
		}
	}, netip.Prefix.Compare)
}

// Attrs returns the attributes p is announced with.
func (sp *Speaker) Attrs(p netip.Prefix) bgp.Attrs {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.routes[p]
}

// Peers are the configured peers, established.
func (sp *Speaker) Peers() []bgp.PeerState {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	var out []bgp.PeerState
	for _, p := range sp.cfg.Peers {
		out = append(out, bgp.PeerState{Address: p.Address, ASN: p.ASN, State: "established"})
	}
	return out
}

// Update records the new configuration.
func (sp *Speaker) Update(cfg bgp.Config) error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.cfg = cfg
	sp.note("update")
	return nil
}

// Stop records the stop.
func (sp *Speaker) Stop(context.Context) error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.stopped = true
	sp.note("stop")
	return nil
}

// Config is the configuration it was made or updated with.
func (sp *Speaker) Config() bgp.Config {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.cfg
}

// Stopped reports whether Stop was called.
func (sp *Speaker) Stopped() bool {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.stopped
}

// Events are its calls so far: "start; announce 198.18.0.1/32; ...".
func (sp *Speaker) Events() string {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return strings.Join(sp.events, "; ")
}

// Count is the number of calls so far.
func (sp *Speaker) Count() int {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return len(sp.events)
}
