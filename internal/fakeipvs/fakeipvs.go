// Package fakeipvs is an in-memory IPVS table for tests of the engine and
// the daemon: it answers like the kernel (EEXIST, ESRCH, ENOENT), counts
// full-table reads, and can refuse operations or stop answering part-way
// through a batch, as a daemon killed in the middle of an apply would leave
// the kernel.
package fakeipvs

import (
	"fmt"
	"sort"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/luvs-lb/luvs/internal/ipvs"
	"github.com/luvs-lb/luvs/internal/model"
)

// Kernel is a fake IPVS table. It is safe for concurrent use.
type Kernel struct {
	mu       sync.Mutex
	services map[model.ServiceKey]*model.VirtualServer
	reads    int
	applied  int
	hook     func(op model.Op) error
	// IPVS-wide settings (globals.go).
	timeouts      model.Timeouts
	daemons       map[model.SyncState]model.SyncDaemon
	globalChanges int
	readErr       error
	conns         map[model.ServiceKey]map[model.DestKey]model.ConnCount
}

// New returns an empty table.
func New() *Kernel {
	return &Kernel{services: map[model.ServiceKey]*model.VirtualServer{}}
}

// State returns a copy of the whole table, sorted by key (a full read).
func (k *Kernel) State() (*model.State, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.readErr != nil {
		return nil, k.readErr
	}
	k.reads++
	return k.snapshot(), nil
}

// Snapshot returns a copy of the table without counting a read.
func (k *Kernel) Snapshot() *model.State {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.snapshot()
}

func (k *Kernel) snapshot() *model.State {
	st := &model.State{Services: make([]model.VirtualServer, 0, len(k.services))}
	for _, v := range k.services {
		c := model.VirtualServer{Service: v.Service, Dests: append([]model.Dest(nil), v.Dests...)}
		sort.Slice(c.Dests, func(a, b int) bool { return c.Dests[a].DestKey.Less(c.Dests[b].DestKey) })
		st.Services = append(st.Services, c)
	}
	sort.Slice(st.Services, func(a, b int) bool { return st.Services[a].ServiceKey.Less(st.Services[b].ServiceKey) })
	return st
}

// Table returns the table in the client's form (for the metrics collector).
func (k *Kernel) Table() ([]ipvs.Service, error) {
	table := ipvs.FromState(k.Snapshot())
	k.mu.Lock()
	defer k.mu.Unlock()
	for i := range table {
		for j := range table[i].Dests {
			d := &table[i].Dests[j]
			c := k.conns[table[i].ServiceKey][d.DestKey]
			d.ActiveConns, d.InactConns = uint32(c.Active), uint32(c.Inactive)
		}
	}
	return table, nil
}

// Reads is the number of full-table reads (State calls) so far.
func (k *Kernel) Reads() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.reads
}

// Applied is the number of operations the table accepted so far.
func (k *Kernel) Applied() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.applied
}

// SetHook makes every later op pass through fn first: an error refuses the
// op (as the kernel would, with that error). nil removes the hook.
func (k *Kernel) SetHook(fn func(op model.Op) error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.hook = fn
}

// SetReadError makes State fail with err (nil: reads work again).
func (k *Kernel) SetReadError(err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.readErr = err
}

// Weight returns a real server's weight, -1 when the service has no such
// server, -2 when there is no such service.
func (k *Kernel) Weight(svc model.ServiceKey, d model.DestKey) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	v := k.services[svc]
	if v == nil {
		return -2
	}
	if x := v.Dest(d); x != nil {
		return x.Weight
	}
	return -1
}

// Apply applies ops in order, each independently, as the kernel does with a
// batch: a refused op does not stop the next.
func (k *Kernel) Apply(ops []model.Op) *ipvs.ApplyResult {
	k.mu.Lock()
	defer k.mu.Unlock()
	res := &ipvs.ApplyResult{Ops: ops, Errors: make([]error, len(ops)), RoundTrips: 1}
	for i, op := range ops {
		err := k.apply(op)
		if err != nil {
			res.Errors[i] = &ipvs.OpError{Op: op, Err: err}
			continue
		}
		k.applied++
	}
	return res
}

func (k *Kernel) apply(op model.Op) error {
	if k.hook != nil {
		if err := k.hook(op); err != nil {
			return err
		}
	}
	key := op.Service.ServiceKey
	v := k.services[key]
	if op.Kind == model.AddService {
		if v != nil {
			return unix.EEXIST
		}
		k.services[key] = &model.VirtualServer{Service: *op.Service}
		return nil
	}
	if v == nil {
		return unix.ESRCH
	}
	switch op.Kind {
	case model.EditService:
		v.Service = *op.Service
	case model.DelService:
		delete(k.services, key)
	case model.AddDest:
		if v.Dest(op.Dest.DestKey) != nil {
			return unix.EEXIST
		}
		v.Dests = append(v.Dests, *op.Dest)
	case model.EditDest:
		d := v.Dest(op.Dest.DestKey)
		if d == nil {
			return unix.ENOENT
		}
		*d = *op.Dest
	case model.DelDest:
		for i := range v.Dests {
			if v.Dests[i].DestKey == op.Dest.DestKey {
				v.Dests = append(v.Dests[:i], v.Dests[i+1:]...)
				return nil
			}
		}
		return unix.ENOENT
	default:
		return fmt.Errorf("unknown op kind %d", op.Kind)
	}
	return nil
}

// CrashAfter makes the table accept only the next n ops and refuse every
// later one, as if the process applying them had been killed after n.
func (k *Kernel) CrashAfter(n int) {
	k.SetHook(func(model.Op) error {
		if n <= 0 {
			return unix.EPIPE
		}
		n--
		return nil
	})
}

// SetConns sets the connection counts Conns reports for a real server.
func (k *Kernel) SetConns(svc model.ServiceKey, d model.DestKey, c model.ConnCount) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.conns == nil {
		k.conns = map[model.ServiceKey]map[model.DestKey]model.ConnCount{}
	}
	if k.conns[svc] == nil {
		k.conns[svc] = map[model.DestKey]model.ConnCount{}
	}
	k.conns[svc][d] = c
}

// Conns counts the connections of a service's real servers: as SetConns
// set them, none for the others.
func (k *Kernel) Conns(svc model.ServiceKey) (map[model.DestKey]model.ConnCount, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v := k.services[svc]
	if v == nil {
		return nil, fmt.Errorf("list real servers of %s: no such service", svc)
	}
	out := make(map[model.DestKey]model.ConnCount, len(v.Dests))
	for _, d := range v.Dests {
		out[d.DestKey] = k.conns[svc][d.DestKey]
	}
	return out, nil
}
