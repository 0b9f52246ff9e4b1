package engine

import (
	"github.com/luvs-lb/luvs/internal/model"
)

// Overrides are the changes Lua health checks made to the table; they last
// until the next reload.
type Overrides struct {
	Removed map[ServerKey]bool                // lvs:del_dest
	Weight  map[ServerKey]int                 // dest.weight = n
	Added   map[model.ServiceKey][]model.Dest // lvs:add_dest of servers not in the configuration
}

func newOverrides() *Overrides {
	return &Overrides{Removed: map[ServerKey]bool{}, Weight: map[ServerKey]int{}, Added: map[model.ServiceKey][]model.Dest{}}
}

// ScriptDest is a real server as a Lua health check sees it.
type ScriptDest struct {
	model.Dest
	Up bool
}

// ScriptView returns the real servers of a service as the table has them
// now (after health and script changes).
func (e *Engine) ScriptView(svc model.ServiceKey) []ScriptDest {
	var out []ScriptDest
	e.call(func() {
		v := e.effective().Find(svc)
		if v == nil {
			return
		}
		out = make([]ScriptDest, len(v.Dests))
		for i, d := range v.Dests {
			h, ok := e.health[ServerKey{svc, d.DestKey}]
			out[i] = ScriptDest{Dest: d, Up: !ok || h.Up}
		}
	})
	return out
}

// ScriptRemove takes a real server out of a service until the next reload
// (lvs:del_dest in a Lua health check).
func (e *Engine) ScriptRemove(svc model.ServiceKey, dk model.DestKey) {
	e.call(func() {
		sk := ServerKey{svc, dk}
		e.ov.Removed[sk] = true
		e.ov.Added[svc] = dropDest(e.ov.Added[svc], dk)
		e.log.Info("real server removed by health script", "service", svc.String(), "server", dk.String())
		e.changed("lua")
	})
}

func dropDest(ds []model.Dest, dk model.DestKey) []model.Dest {
	out := ds[:0]
	for _, d := range ds {
		if d.DestKey != dk {
			out = append(out, d)
		}
	}
	return out
}

// ScriptAdd puts a real server into a service until the next reload
// (lvs:add_dest in a Lua health check).
func (e *Engine) ScriptAdd(svc model.ServiceKey, d model.Dest) {
	e.call(func() {
		sk := ServerKey{svc, d.DestKey}
		switch {
		case e.ov.Removed[sk]:
			delete(e.ov.Removed, sk)
		case e.cfgServer(sk) == nil:
			for _, a := range e.ov.Added[svc] {
				if a.DestKey == d.DestKey {
					return
				}
			}
			e.ov.Added[svc] = append(e.ov.Added[svc], d)
		default:
			return // configured and in the table already
		}
		e.log.Info("real server added by health script", "service", svc.String(), "server", d.DestKey.String())
		e.changed("lua")
	})
}

// ScriptWeight sets a real server's weight until the next reload
// (dest.weight = n in a Lua health check).
func (e *Engine) ScriptWeight(svc model.ServiceKey, dk model.DestKey, w int) {
	e.call(func() {
		sk := ServerKey{svc, dk}
		if old, ok := e.ov.Weight[sk]; ok && old == w {
			return
		}
		e.ov.Weight[sk] = w
		e.log.Info("weight set by health script", "service", svc.String(), "server", dk.String(), "weight", w)
		e.changed("lua")
	})
}
