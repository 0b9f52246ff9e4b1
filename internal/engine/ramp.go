package engine

import (
	"time"

	"github.com/luvs-lb/luvs/internal/model"
)

// rampSteps is the most steps a slow start takes from weight 1 to the
// configured weight.
const rampSteps = 10

// rampWeights applies slow start to desired: a server with slow_start that
// comes up (its weight in the table was 0, or it was absent) after the
// daemon's start gets weight 1, then rises in steps to its weight over
// slow_start. It notes when the next step is due in e.rampNext.
func (e *Engine) rampWeights(desired *model.State, now time.Time) {
	e.rampNext = time.Time{}
	for i := range desired.Services {
		v := &desired.Services[i]
		for j := range v.Dests {
			d := &v.Dests[j]
			sk := ServerKey{v.ServiceKey, d.DestKey}
			rs := e.cfgServer(sk)
			start, ramping := e.ramps[sk]
			if rs == nil || rs.SlowStart <= 0 || d.Weight <= 1 {
				if ramping {
					delete(e.ramps, sk)
				}
				continue
			}
			if !ramping {
				if !e.started || e.heldWeight(sk) > 0 {
					continue
				}
				start = now
				e.ramps[sk] = start
				e.log.Info("slow start", "service", sk.Service.String(), "server", e.serverName(sk),
					"weight", WeightChange(max(e.heldWeight(sk), 0), 1), "to", d.Weight, "over", rs.SlowStart)
			}
			w, next := rampWeight(d.Weight, rs.SlowStart, now.Sub(start))
			if next == 0 {
				delete(e.ramps, sk)
				e.log.Info("slow start done", "service", sk.Service.String(), "server", e.serverName(sk), "weight", d.Weight)
				continue
			}
			d.Weight = w
			if at := start.Add(next); e.rampNext.IsZero() || at.Before(e.rampNext) {
				e.rampNext = at
			}
		}
	}
	for sk := range e.ramps {
		if e.cfgServer(sk) == nil {
			delete(e.ramps, sk)
		}
	}
}

// rampWeight is the weight of a server of weight w, elapsed into a slow
// start of length span, and when (since the start) the next step is due;
// next is 0 once the ramp is over.
func rampWeight(w int, span, elapsed time.Duration) (weight int, next time.Duration) {
	if elapsed >= span || elapsed < 0 {
		return w, 0
	}
	steps := min(rampSteps, w)
	k := int(elapsed * time.Duration(steps) / span)
	return max(1, w*k/steps), span * time.Duration(k+1) / time.Duration(steps)
}
