package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
)

// monitorKey identifies one check of one real server.
type monitorKey struct {
	Server ServerKey
	Index  int
}

// checkState is a monitor's verdict.
type checkState uint8

const (
	stateUp      checkState = iota
	stateDown               // fall failures in a row
	stateUnknown            // no probe yet; the first one decides
)

// monitor is one check of one real server. The scheduler owns next and
// index; everything else belongs to the engine loop.
type monitor struct {
	key    monitorKey
	check  model.Check
	prober Prober
	addr   netip.Addr
	port   uint16

	state          checkState
	okRun, failRun int
	last           ProbeResult
	probed         bool

	next  time.Time
	index int
}

// verdict is a probe's result on its way to the engine loop.
type verdict struct {
	m *monitor
	r ProbeResult
}

// SameCheck reports whether two checks have the same settings (their source
// positions aside): a reload keeps the health history of a check for which
// it holds.
func SameCheck(a, b model.Check) bool {
	a.Where, b.Where = "", ""
	return reflect.DeepEqual(a, b)
}

// planMonitors returns the monitors cfg asks for: the running one where a
// check is unchanged, a new one (with its prober built) otherwise. It
// changes nothing, so that a prober that cannot be built leaves the running
// checks as they were.
func (e *Engine) planMonitors(cfg *model.Config) (map[monitorKey]*monitor, error) {
	want := make(map[monitorKey]*monitor, len(e.monitors))
	for i := range cfg.Services {
		s := &cfg.Services[i]
		for _, rs := range s.Servers {
			for ci, c := range rs.Checks {
				k := monitorKey{ServerKey{s.ServiceKey, rs.DestKey}, ci}
				if m := e.monitors[k]; m != nil && SameCheck(m.check, c) {
					want[k] = m
					continue
				}
				p, err := e.opts.Probers(c)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", c.Where, err)
				}
				m := &monitor{key: k, check: c, prober: p, addr: rs.Addr, port: rs.Port, index: -1}
				if c.Addr.IsValid() {
					m.addr = c.Addr
				}
				if c.Port != 0 {
					m.port = c.Port
				}
				want[k] = m
			}
		}
	}
	return want, nil
}

// setMonitors switches to the monitors of planMonitors: stopped ones leave
// the scheduler at once, new ones start in the state startState gives their
// server, with their first probes spread over a second.
func (e *Engine) setMonitors(want map[monitorKey]*monitor, startState func(ServerKey) checkState) {
	for k, m := range e.monitors {
		if want[k] != m {
			e.sched.remove(m)
		}
	}
	fresh := map[ServerKey]bool{}
	for k, m := range want {
		if e.monitors[k] != m {
			fresh[k.Server] = true
		}
	}
	states := make(map[ServerKey]checkState, len(fresh))
	for sk := range fresh {
		states[sk] = startState(sk)
	}
	old := e.monitors
	e.monitors = want
	clear(e.byServer)
	for k, m := range want {
		e.byServer[k.Server] = append(e.byServer[k.Server], m)
		if old[k] == m {
			continue
		}
		m.state = states[k.Server]
		spread := time.Duration(rand.Int64N(int64(min(m.check.Interval, time.Second)) + 1))
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
}

// probe runs one probe (on a scheduler worker) and hands the result to the
// engine loop.
func (e *Engine) probe(ctx context.Context, m *monitor) {
	pctx, cancel := context.WithTimeout(ctx, m.check.Timeout)
	r := m.prober.Probe(pctx, m.addr, m.port)
	cancel()
	select {
	case e.verdicts <- verdict{m, r}:
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
	m.last, m.probed = r, true
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
		if e.recompute(m.key.Server, -1) {
			e.changed()
		}
	}
}

// recompute derives a server's health from its checks and reports whether
// it changed. held is the weight an Unknown server keeps (for a server
// becoming Unknown); an Unknown one keeps its earlier held weight.
func (e *Engine) recompute(sk ServerKey, held int) bool {
	h := Health{Up: true, Weight: -1, HeldWeight: -1}
	unknown := false
	for _, m := range e.byServer[sk] {
		switch m.state {
		case stateUnknown:
			unknown = true
			continue
		case stateDown:
			h.Up = false
			h.Reason = m.last.Msg
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
	case !h.Up && (old.Up || old.Unknown):
		e.log.Warn("real server down", "service", sk.Service.String(), "server", name, "reason", h.Reason)
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
