package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
)

// monitorKey identifies one probe: a target and the settings of the check
// that probes it. Real servers of several services that share a backend and
// a check share one monitor: one probe, its verdict fanned out to each.
type monitorKey struct {
	Target   netip.AddrPort
	Settings string // the check's settings, canonically encoded
}

// checkState is a monitor's verdict.
type checkState uint8

const (
	stateUp      checkState = iota
	stateDown               // fall failures in a row
	stateUnknown            // no probe yet; the first one decides
)

// monitor is one probe and the real servers it speaks for. The scheduler
// owns next and index; everything else belongs to the engine loop.
type monitor struct {
	key    monitorKey
	check  model.Check
	prober Prober
	subs   []ServerKey // the real servers this probe's verdict applies to

	state          checkState
	okRun, failRun int
	last           ProbeResult
	lastAt         time.Time     // when the last probe finished
	lastTook       time.Duration // how long it took
	probed         bool

	next  time.Time
	index int
}

// verdict is a probe's result on its way to the engine loop, with when the
// probe started.
type verdict struct {
	m     *monitor
	r     ProbeResult
	start time.Time
}

// settingsKey encodes a check's settings (its source position aside) so
// that equal settings give equal keys, whatever pointers hold them.
func settingsKey(c model.Check) string {
	c.Where = ""
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Sprintf("unencodable %p", &c) // never equal: no sharing, no keeping
	}
	return string(b)
}

// SameCheck reports whether two checks have the same settings (their source
// positions aside): a reload keeps the health history of a check for which
// it holds.
func SameCheck(a, b model.Check) bool { return settingsKey(a) == settingsKey(b) }

// monitorPlan is the set of monitors a configuration asks for.
type monitorPlan struct {
	monitors map[monitorKey]*monitor
	subs     map[*monitor][]ServerKey
}

// planMonitors returns the monitors cfg asks for: the running one where a
// probe is unchanged, a new one (with its prober built) otherwise. It
// changes nothing, so that a prober that cannot be built leaves the running
// checks as they were.
func (e *Engine) planMonitors(cfg *model.Config) (*monitorPlan, error) {
	p := &monitorPlan{monitors: make(map[monitorKey]*monitor, len(e.monitors)), subs: map[*monitor][]ServerKey{}}
	for i := range cfg.Services {
		s := &cfg.Services[i]
		for _, rs := range s.Servers {
			sk := ServerKey{s.ServiceKey, rs.DestKey}
			for _, c := range rs.Checks {
				addr, port := rs.Addr, rs.Port
				if c.Addr.IsValid() {
					addr = c.Addr
				}
				if c.Port != 0 {
					port = c.Port
				}
				k := monitorKey{netip.AddrPortFrom(addr, port), settingsKey(c)}
				m := p.monitors[k]
				if m == nil {
					m = e.monitors[k]
				}
				if m == nil {
					pr, err := e.opts.Probers(c)
					if err != nil {
						return nil, fmt.Errorf("%s: %w", c.Where, err)
					}
					m = &monitor{key: k, check: c, prober: pr, index: -1}
				}
				p.monitors[k] = m
				if subs := p.subs[m]; len(subs) == 0 || subs[len(subs)-1] != sk {
					p.subs[m] = append(subs, sk)
				}
			}
		}
	}
	return p, nil
}

// setMonitors switches to the monitors of planMonitors: stopped ones leave
// the scheduler at once, new ones start in the state startState gives their
// servers (unknown if it is unknown for any of them), with their first
// probes spread over a second.
func (e *Engine) setMonitors(p *monitorPlan, startState func(ServerKey) checkState) {
	for k, m := range e.monitors {
		if p.monitors[k] != m {
			e.sched.remove(m)
		}
	}
	old := e.monitors
	e.monitors = p.monitors
	clear(e.byServer)
	for k, m := range p.monitors {
		m.subs = p.subs[m]
		for _, sk := range m.subs {
			e.byServer[sk] = append(e.byServer[sk], m)
		}
		if old[k] == m {
			continue
		}
		// Unknown (a server in the kernel: the first probe decides) wins
		// over down (alpha: down until a check passes), which wins over up.
		m.state = stateUp
		for _, sk := range m.subs {
			if st := startState(sk); st == stateUnknown {
				m.state = stateUnknown
				break
			} else if st == stateDown {
				m.state = stateDown
			}
		}
		first := min(m.check.Interval, time.Second)
		if m.check.Warmup > 0 {
			first = m.check.Warmup
		}
		spread := time.Duration(rand.Int64N(int64(first) + 1))
		e.sched.add(m, time.Now().Add(spread))
	}
	for sk := range e.health {
		if _, ok := e.byServer[sk]; !ok {
			delete(e.health, sk) // no checks (or no server) any more: up
		}
	}
	for sk := range e.byServer {
		e.recompute(sk, e.heldWeight(sk))
	}
	e.updateStats(func(s *Stats) { s.Probes = len(e.monitors) })
}

// tryProbe starts m's probe on the scheduler's goroutine when its prober
// can (TryProber). A probe that finished without waiting has its verdict
// handed to the loop here (done); otherwise rest finishes it on a worker.
// Other probers run whole on a worker (rest nil, done false).
func (e *Engine) tryProbe(ctx context.Context, m *monitor) (rest func() ProbeResult, done bool) {
	tp, ok := m.prober.(TryProber)
	if !ok {
		return nil, false
	}
	start := time.Now()
	r, finish := tp.TryProbeBy(ctx, start.Add(m.check.Timeout), m.key.Target.Addr(), m.key.Target.Port())
	if finish != nil {
		return func() ProbeResult {
			r := finish()
			r.started = start
			return r
		}, false
	}
	e.deliver(ctx, m, r, start)
	return nil, true
}

// probe runs one probe on a scheduler worker (or, with rest, finishes one
// that tryProbe started) and hands the result to the engine loop.
func (e *Engine) probe(ctx context.Context, m *monitor, rest func() ProbeResult) {
	var r ProbeResult
	start := time.Now()
	dp, ok := m.prober.(DeadlineProber)
	switch {
	case rest != nil:
		r = rest()
		start = r.started
	case ok:
		r = dp.ProbeBy(ctx, start.Add(m.check.Timeout), m.key.Target.Addr(), m.key.Target.Port())
	default:
		pctx, cancel := context.WithTimeout(ctx, m.check.Timeout)
		r = m.prober.Probe(pctx, m.key.Target.Addr(), m.key.Target.Port())
		cancel()
	}
	e.deliver(ctx, m, r, start)
}

// deliver hands a probe's result to the engine loop.
func (e *Engine) deliver(ctx context.Context, m *monitor, r ProbeResult, start time.Time) {
	select {
	case e.verdicts <- verdict{m, r, start}:
	case <-ctx.Done():
	}
}

// handleVerdict applies a probe's result to its monitor (rise and fall),
// queues the next probe, and recomputes the server's health.
func (e *Engine) handleVerdict(v verdict) {
	m, r := v.m, v.r
	if e.monitors[m.key] != m {
		return // stopped while the probe ran
	}
	c := m.check
	if r.OK {
		m.okRun, m.failRun = m.okRun+1, 0
	} else {
		m.okRun, m.failRun = 0, m.failRun+1
	}
	wait := c.Interval
	if !r.OK && c.RetryDelay > 0 && m.state == stateUp && m.failRun < c.Fall {
		// keepalived's delay_before_retry: retry sooner than the interval.
		wait = c.RetryDelay
	}
	weightChanged := (m.probed && m.last.Weight != r.Weight) || (!m.probed && r.Weight >= 0)
	now := time.Now()
	m.last, m.probed, m.lastAt, m.lastTook = r, true, now, now.Sub(v.start)
	if e.opts.OnProbe != nil {
		e.opts.OnProbe(c.Kind, m.lastTook, r)
	}
	e.sched.add(m, time.Now().Add(wait))
	prev := m.state
	switch {
	case m.state == stateUnknown && r.OK:
		m.state = stateUp
	case m.state == stateUnknown:
		m.state = stateDown
	case m.state == stateDown && m.okRun >= c.Rise:
		m.state = stateUp
	case m.state == stateUp && m.failRun >= c.Fall:
		m.state = stateDown
	}
	if m.state != prev || weightChanged {
		for _, sk := range m.subs {
			if e.recompute(sk, -1) {
				e.changed("health")
			}
		}
	}
}

// recompute derives a server's health from its checks and reports whether
// it changed. held is the weight an Unknown server keeps (for a server
// becoming Unknown); an Unknown one keeps its earlier held weight.
func (e *Engine) recompute(sk ServerKey, held int) bool {
	h := Health{Up: true, Weight: -1, HeldWeight: -1}
	unknown := false
	failed := false // a probe (not alpha's wait for the first one) says down
	for _, m := range e.byServer[sk] {
		switch m.state {
		case stateUnknown:
			unknown = true
			continue
		case stateDown:
			h.Up = false
			h.Reason = string(m.check.Kind) + " check: " + m.last.Msg
			if !m.probed {
				h.Reason = "alpha: down until a check passes"
			} else {
				failed = true
			}
		}
		if m.probed && m.last.Weight >= 0 {
			h.Weight = m.last.Weight
		}
	}
	old, seen := e.health[sk]
	if unknown && h.Up {
		h.Unknown = true
		h.HeldWeight = held
		if seen && old.Unknown {
			h.HeldWeight = old.HeldWeight
		}
		h.Up = h.HeldWeight > 0
	}
	if !seen {
		old = upHealth
	}
	if old == h {
		return false
	}
	if h == upHealth {
		delete(e.health, sk)
	} else {
		e.health[sk] = h
	}
	name := e.serverName(sk)
	switch {
	case h.Unknown:
		if !old.Unknown {
			e.log.Info("real server's health unknown until its checks decide; keeping its kernel weight",
				"service", sk.Service.String(), "server", name, "weight", h.HeldWeight)
		}
	case h.Up && (!old.Up || old.Unknown):
		e.log.Info("real server up", "service", sk.Service.String(), "server", name)
		if rs := e.cfgServer(sk); rs != nil && !rs.NotifyUp.IsZero() && !old.Unknown {
			e.hook(Event{Kind: "up", Service: sk.Service, Server: sk.Dest, Name: rs.Name, Hook: rs.NotifyUp})
		}
	case !h.Up && (old.Up || old.Unknown):
		e.log.Warn("real server down", "service", sk.Service.String(), "server", name, "reason", h.Reason)
		if rs := e.cfgServer(sk); rs != nil && !rs.NotifyDown.IsZero() && !old.Unknown && failed {
			e.hook(Event{Kind: "down", Service: sk.Service, Server: sk.Dest, Name: rs.Name, Reason: h.Reason, Hook: rs.NotifyDown})
		}
	}
	if h.Weight != old.Weight && h.Weight >= 0 {
		e.log.Info("weight changed by check", "service", sk.Service.String(), "server", name, "weight", h.Weight)
	}
	return true
}

// serverName is a server's address, with its name when configured.
func (e *Engine) serverName(sk ServerKey) string {
	if rs := e.cfgServer(sk); rs != nil && rs.Name != "" {
		return rs.Name + " (" + sk.Dest.String() + ")"
	}
	return sk.Dest.String()
}
