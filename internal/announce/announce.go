// Package announce puts the engine's health-gated announcements on the
// wire: it owns the BGP speaker (internal/bgp) of the configuration's
// bgp { } declaration, starts, updates and stops it as reloads ask, and
// keeps the announced prefixes equal to the set the engine last asked for
// (engine.Routes), on a goroutine of its own so that a slow speaker never
// holds the engine's loop.
package announce

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/luvs-lb/luvs/internal/bgp"
	"github.com/luvs-lb/luvs/internal/model"
)

// Speaker is the part of a bgp.Speaker the announcer uses.
type Speaker interface {
	Start(ctx context.Context) error
	Announce(p netip.Prefix, a bgp.Attrs) error
	Withdraw(p netip.Prefix) error
	Announced() []netip.Prefix
	Peers() []bgp.PeerState
	Update(cfg bgp.Config) error
	Stop(ctx context.Context) error
}

// NewSpeaker makes a speaker (bgp.New); tests replace it.
type NewSpeaker func(cfg bgp.Config, log *slog.Logger) (Speaker, error)

// Announcer keeps a speaker's announcements equal to the wanted set. Its
// methods are safe for concurrent use.
type Announcer struct {
	log        *slog.Logger
	newSpeaker NewSpeaker
	retry      time.Duration

	mu     sync.Mutex // guards want and closed: SetRoutes never waits for the speaker
	want   map[netip.Prefix]model.Announce
	closed bool // Shutdown withdrew everything: nothing more is announced
	wake   chan struct{}

	spMu    sync.Mutex // guards the speaker and what it was told
	sp      Speaker    // nil: no bgp declared
	cfg     *model.BGP
	applied map[netip.Prefix]model.Announce // what the speaker was told
	failing map[netip.Prefix]string         // prefixes the speaker refused, why
}

// New returns an announcer without a speaker; Configure gives it one.
// newSpeaker nil is bgp.New.
func New(log *slog.Logger, newSpeaker NewSpeaker) *Announcer {
	if newSpeaker == nil {
		newSpeaker = func(cfg bgp.Config, log *slog.Logger) (Speaker, error) { return bgp.New(cfg, log) }
	}
	return &Announcer{log: log, newSpeaker: newSpeaker, retry: time.Second,
		applied: map[netip.Prefix]model.Announce{}, failing: map[netip.Prefix]string{}, wake: make(chan struct{}, 1)}
}

// SpeakerConfig is the bgp.Config of the configuration's bgp { }.
func SpeakerConfig(b *model.BGP) bgp.Config {
	cfg := bgp.Config{ASN: b.ASN, RouterID: b.RouterID, ListenPort: -1}
	if b.ListenPort != 0 {
		cfg.ListenPort = int32(b.ListenPort)
	}
	for _, p := range b.Peers {
		bp := bgp.Peer{Address: p.Address, ASN: p.ASN, LocalAddress: p.Source, Port: p.Port, Password: p.Password,
			HoldTime: p.HoldTime, ConnectRetry: p.ConnectRetry, MultihopTTL: p.MultihopTTL}
		if bp.ConnectRetry == 0 {
			bp.ConnectRetry = 5 * time.Second // GoBGP's 120 s keeps a restarted router waiting
		}
		if p.BFD != nil {
			bp.BFD = bgp.BFD{Enabled: true, MinTx: p.BFD.MinTx, MinRx: p.BFD.MinRx, Multiplier: p.BFD.Multiplier}
		}
		cfg.Peers = append(cfg.Peers, bp)
	}
	return cfg
}

func attrs(a model.Announce) bgp.Attrs {
	return bgp.Attrs{NextHop: a.NextHop, Communities: a.Communities, MED: a.MED, LocalPref: a.LocalPref}
}

// Configure starts, updates or stops the speaker for b (nil: no bgp).
// A speaker that cannot start is an error, and the announcer keeps the one
// it had.
func (a *Announcer) Configure(ctx context.Context, b *model.BGP) error {
	a.spMu.Lock()
	defer a.spMu.Unlock()
	switch {
	case b == nil && a.sp == nil:
		return nil
	case b == nil:
		a.log.Info("bgp speaker stopped: the configuration has no bgp any more")
		a.stopLocked(ctx)
		return nil
	case a.sp == nil:
		sp, err := a.newSpeaker(SpeakerConfig(b), a.log.With("from", "bgp"))
		if err != nil {
			return fmt.Errorf("bgp (at %s): %w", b.Where, err)
		}
		if err := sp.Start(ctx); err != nil {
			return fmt.Errorf("bgp (at %s): %w", b.Where, err)
		}
		a.sp, a.cfg = sp, b
		clear(a.applied)
		a.log.Info("bgp speaker started", "asn", b.ASN, "router_id", b.RouterID.String(), "peers", len(b.Peers))
	default:
		if err := a.sp.Update(SpeakerConfig(b)); err != nil {
			return fmt.Errorf("bgp (at %s): %w", b.Where, err)
		}
		a.cfg = b
	}
	a.poke()
	return nil
}

// SetRoutes sets the prefixes to announce (engine.Routes); it does not
// block.
func (a *Announcer) SetRoutes(m map[netip.Prefix]model.Announce) {
	a.mu.Lock()
	if !a.closed {
		a.want = m
	}
	a.mu.Unlock()
	a.poke()
}

func (a *Announcer) poke() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// Run keeps the speaker's announcements in line until ctx is done,
// retrying refused ones every second.
func (a *Announcer) Run(ctx context.Context) {
	t := time.NewTimer(time.Hour)
	t.Stop()
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.wake:
		case <-t.C:
		}
		if !a.sync() {
			t.Reset(a.retry)
		}
	}
}

// sync tells the speaker the difference between what it was told and what
// is wanted; false when some of it failed.
func (a *Announcer) sync() bool {
	a.mu.Lock()
	want := a.want
	a.mu.Unlock()
	a.spMu.Lock()
	defer a.spMu.Unlock()
	if a.sp == nil {
		return true
	}
	ok := true
	for _, p := range slices.SortedFunc(maps.Keys(a.applied), netip.Prefix.Compare) {
		if _, keep := want[p]; keep {
			continue
		}
		if err := a.sp.Withdraw(p); err != nil {
			a.fail(p, "withdraw", err)
			ok = false
			continue
		}
		delete(a.applied, p)
		delete(a.failing, p)
	}
	for _, p := range slices.SortedFunc(maps.Keys(want), netip.Prefix.Compare) {
		w := want[p]
		if cur, done := a.applied[p]; done && cur.Equal(&w) {
			continue
		}
		if err := a.sp.Announce(p, attrs(w)); err != nil {
			a.fail(p, "announce", err)
			ok = false
			continue
		}
		a.applied[p] = w
		delete(a.failing, p)
	}
	return ok
}

func (a *Announcer) fail(p netip.Prefix, what string, err error) {
	if a.failing[p] == "" {
		a.log.Error("bgp speaker refused a change; retrying", "prefix", p.String(), "change", what, "err", err)
	}
	a.failing[p] = err.Error()
}

// Shutdown withdraws every announcement at once, for a clean stop: the
// routers move the flows to the other directors while this one still
// serves. Nothing is announced after it. It reports whether anything was
// announced (so that waiting the shutdown delay is worth it).
func (a *Announcer) Shutdown() bool {
	a.mu.Lock()
	a.want, a.closed = nil, true
	a.mu.Unlock()
	a.spMu.Lock()
	any := len(a.applied) > 0
	a.spMu.Unlock()
	a.sync()
	return any
}

// Stop stops the speaker (closing its sessions).
func (a *Announcer) Stop(ctx context.Context) {
	a.spMu.Lock()
	defer a.spMu.Unlock()
	a.stopLocked(ctx)
}

func (a *Announcer) stopLocked(ctx context.Context) {
	if a.sp == nil {
		return
	}
	if err := a.sp.Stop(ctx); err != nil {
		a.log.Warn("bgp speaker stop", "err", err)
	}
	a.sp, a.cfg = nil, nil
	clear(a.applied)
	clear(a.failing)
}

// ShutdownDelay is how long a clean stop waits after the withdraw (0: no
// bgp).
func (a *Announcer) ShutdownDelay() time.Duration {
	a.spMu.Lock()
	defer a.spMu.Unlock()
	if a.cfg == nil {
		return 0
	}
	return a.cfg.ShutdownDelay
}

// Status is the speaker as luvs status shows it.
type Status struct {
	ASN       uint32
	RouterID  string
	Peers     []bgp.PeerState
	Announced []string // what the speaker announces
	// Failing are prefixes the speaker refused, with why.
	Failing map[string]string
}

// Status returns the speaker's state; nil when there is no bgp.
func (a *Announcer) Status() *Status {
	a.spMu.Lock()
	defer a.spMu.Unlock()
	if a.sp == nil {
		return nil
	}
	st := &Status{ASN: a.cfg.ASN, RouterID: a.cfg.RouterID.String(), Peers: a.sp.Peers()}
	for _, p := range a.sp.Announced() {
		st.Announced = append(st.Announced, p.String())
	}
	for p, why := range a.failing {
		if st.Failing == nil {
			st.Failing = map[string]string{}
		}
		st.Failing[p.String()] = why
	}
	return st
}
