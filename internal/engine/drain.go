package engine

import (
	"slices"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
)

// ConnCounter is a DataPlane that counts the connections of a service's
// real servers (as ipvsadm -Ln shows them): a server leaving the table is
// deleted once it has none left (see liveConns). Without it a leaving
// server waits out its drain timeout.
type ConnCounter interface {
	Conns(svc model.ServiceKey) (map[model.DestKey]model.ConnCount, error)
}

// DrainStore keeps the servers being drained before their removal across
// restarts (statedir.Dir).
type DrainStore interface {
	SaveDraining(recs []model.DrainRecord) error
}

// liveConns is what a leaving server must wait for: for TCP its active
// (established) connections, since an inactive one is closing or closed
// (IPVS keeps a closed connection's TIME_WAIT entry for 2 minutes, carrying
// no traffic); for UDP and SCTP, whose entries are all inactive, every one.
func liveConns(svc model.ServiceKey, c model.ConnCount) int {
	if svc.Protocol == model.TCP {
		return c.Active
	}
	return c.Active + c.Inactive
}

// leaving is a real server on its way out of the table: at weight 0 until
// its connections finish or its drain timeout passes.
type leaving struct {
	dest     model.Dest
	since    time.Time
	deadline time.Time
	conns    int  // at the last count (-1: not counted yet)
	done     bool // drained: the next reconcile deletes it
}

// drainTimeout is how long server sk may drain when it leaves the table
// (0: deleted at once; also for a server luvs never configured, such as a
// stray found at start).
func (e *Engine) drainTimeout(sk ServerKey) time.Duration {
	for _, servers := range []map[ServerKey]*model.ServerConfig{e.servers, e.prevServers} {
		if rs := servers[sk]; rs != nil {
			return rs.DrainTimeout
		}
	}
	return 0
}

// holdLeaving keeps in desired, at weight 0, the servers the kernel has
// that desired drops from a service it keeps, until they are drained.
// Servers replaced by a sorry server (quorum lost) leave at once, as
// keepalived's do. At start only the servers an earlier run was draining
// are held (until their deadline then); other servers the kernel has that
// desired drops are strays, deleted at once.
func (e *Engine) holdLeaving(desired *model.State, now time.Time) {
	applied := e.recon.applied
	if applied == nil || (!e.started && len(e.restored) == 0) {
		return
	}
	index := make(map[model.ServiceKey]int, len(desired.Services))
	for i := range desired.Services {
		index[desired.Services[i].ServiceKey] = i
	}
	for sk, l := range e.leaving {
		if i, ok := index[sk.Service]; ok && desired.Services[i].Dest(sk.Dest) != nil {
			delete(e.leaving, sk) // back in the table
			e.log.Info("real server kept: it is back in the table before it drained", "service", sk.Service.String(), "server", e.serverName(sk))
		} else if !ok || l.done {
			if v := applied.Find(sk.Service); v == nil || v.Dest(sk.Dest) == nil {
				delete(e.leaving, sk) // deleted
			}
		}
	}
	for ai := range applied.Services {
		av := &applied.Services[ai]
		i, ok := index[av.ServiceKey]
		if !ok {
			continue
		}
		dv := &desired.Services[i]
		if held, seen := e.quorum[av.ServiceKey]; seen && !held {
			continue
		}
		for _, d := range av.Dests {
			if dv.Dest(d.DestKey) != nil {
				continue
			}
			sk := ServerKey{av.ServiceKey, d.DestKey}
			l := e.leaving[sk]
			if l == nil {
				if l = e.startLeaving(sk, d, now); l == nil {
					continue
				}
				e.leaving[sk] = l
			}
			if l.done {
				continue
			}
			held := l.dest
			held.Weight = 0
			dv.Dests = append(dv.Dests, held)
		}
	}
}

// startLeaving begins the drain of server sk (dest d in the kernel), or
// goes on with the one an earlier run began; nil: it leaves at once.
func (e *Engine) startLeaving(sk ServerKey, d model.Dest, now time.Time) *leaving {
	svc, name := sk.Service.String(), e.serverName(sk)
	if r, ok := e.restored[sk]; ok {
		if !now.Before(r.Deadline) {
			e.log.Warn("real server's drain timeout passed while the daemon was stopped: removing it", "service", svc, "server", name,
				"drain_timeout", r.Deadline.Sub(r.Since))
			return nil
		}
		e.log.Info("still draining real server before its removal (from before the restart)", "service", svc, "server", name,
			"weight", WeightChange(d.Weight, 0), "left", r.Deadline.Sub(now).Round(time.Second))
		return &leaving{dest: d, since: r.Since, deadline: r.Deadline, conns: -1}
	}
	if !e.started {
		return nil // a stray: not ours to drain
	}
	t := e.drainTimeout(sk)
	if t <= 0 {
		return nil
	}
	e.log.Info("draining real server before its removal", "service", svc, "server", name,
		"weight", WeightChange(d.Weight, 0), "drain_timeout", t)
	return &leaving{dest: d, since: now, deadline: now.Add(t), conns: -1}
}

// persistLeaving records the servers being drained in the DrainStore when
// they changed, so that a restarted daemon goes on draining them.
func (e *Engine) persistLeaving() {
	var recs []model.DrainRecord
	for sk, l := range e.leaving {
		if !l.done {
			recs = append(recs, model.DrainRecord{Service: sk.Service, Dest: sk.Dest, Since: l.since, Deadline: l.deadline})
		}
	}
	slices.SortFunc(recs, model.DrainRecord.Compare)
	if slices.EqualFunc(recs, e.savedDrain, model.DrainRecord.Equal) {
		return
	}
	if e.opts.DrainStore != nil {
		if err := e.opts.DrainStore.SaveDraining(recs); err != nil {
			e.log.Warn("cannot record the servers being drained; a restart would delete them at once", "err", err)
			return
		}
	}
	e.savedDrain = recs
}

// checkLeaving counts the connections of the servers being drained and
// lets go of those that have none left or whose time is up.
func (e *Engine) checkLeaving(now time.Time) {
	counter, _ := e.opts.DataPlane.(ConnCounter)
	counts := map[model.ServiceKey]map[model.DestKey]model.ConnCount{}
	released := false
	for sk, l := range e.leaving {
		if l.done {
			continue
		}
		if counter != nil {
			c, seen := counts[sk.Service]
			if !seen {
				var err error
				if c, err = counter.Conns(sk.Service); err != nil {
					e.log.Warn("cannot count the connections of draining servers; waiting for their drain timeout",
						"service", sk.Service.String(), "err", err)
				}
				counts[sk.Service] = c
			}
			if n, ok := c[sk.Dest]; ok {
				l.conns = liveConns(sk.Service, n)
			}
		}
		name, svc := e.serverName(sk), sk.Service.String()
		switch {
		case l.conns == 0:
			e.log.Info("real server drained: removing it", "service", svc, "server", name, "took", now.Sub(l.since).Round(time.Millisecond))
		case !now.Before(l.deadline):
			e.log.Warn("real server's drain timeout passed: removing it with connections left", "service", svc, "server", name,
				"connections", l.conns, "drain_timeout", l.deadline.Sub(l.since))
		default:
			continue
		}
		l.done = true
		released = true
	}
	if released {
		e.changed("drain")
	}
}

// Leaving describes a server being drained before its removal.
type Leaving struct {
	Since, Deadline time.Time
	Conns           int // at the last count; -1 before the first
}

// Draining returns the servers being drained before their removal.
func (e *Engine) Draining() map[ServerKey]Leaving {
	out := map[ServerKey]Leaving{}
	e.call(func() {
		for sk, l := range e.leaving {
			if !l.done {
				out[sk] = Leaving{Since: l.since, Deadline: l.deadline, Conns: l.conns}
			}
		}
	})
	return out
}
