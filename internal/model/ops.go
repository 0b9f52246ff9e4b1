package model

import "slices"

// OpKind names a change to the IPVS table.
type OpKind uint8

// Operation kinds, in the order a plan applies them: additions before
// deletions so that capacity is never lower than needed mid-change.
const (
	AddService OpKind = iota + 1
	EditService
	AddDest
	EditDest
	DelDest
	DelService
)

// String returns a short verb phrase ("add service", "edit dest", ...).
func (k OpKind) String() string {
	switch k {
	case AddService:
		return "add service"
	case EditService:
		return "edit service"
	case DelService:
		return "delete service"
	case AddDest:
		return "add dest"
	case EditDest:
		return "edit dest"
	case DelDest:
		return "delete dest"
	}
	return "op?"
}

// Op is one change. Service is always set (for dest ops and deletions only
// its key matters); Dest is set for dest ops (for deletions only its key
// matters). They point into the states a plan was made from, which must not
// change while the op is in use.
type Op struct {
	Kind    OpKind
	Service *Service
	Dest    *Dest
}

// IsDest reports whether the op changes a real server.
func (o Op) IsDest() bool { return o.Kind == AddDest || o.Kind == EditDest || o.Kind == DelDest }

// String describes the op: "add dest 198.18.1.1:80 to TCP 198.18.0.10:80".
func (o Op) String() string {
	switch o.Kind {
	case AddDest:
		return "add dest " + o.Dest.DestKey.String() + " to " + o.Service.ServiceKey.String()
	case EditDest:
		return "edit dest " + o.Dest.DestKey.String() + " of " + o.Service.ServiceKey.String()
	case DelDest:
		return "delete dest " + o.Dest.DestKey.String() + " from " + o.Service.ServiceKey.String()
	}
	return o.Kind.String() + " " + o.Service.ServiceKey.String()
}

// Apply changes s as the kernel would for each op not skipped (skip may be
// nil): services and real servers are added, edited and deleted by key.
// Ops that do not fit s (an add of something present, a change of something
// absent) change nothing.
func (s *State) Apply(ops []Op, skip func(i int) bool) {
	index := make(map[ServiceKey]int, len(s.Services))
	for i := range s.Services {
		index[s.Services[i].ServiceKey] = i
	}
	var gone []int // indexes of deleted services
	for i, op := range ops {
		if skip != nil && skip(i) {
			continue
		}
		k := op.Service.ServiceKey
		at, ok := index[k]
		switch op.Kind {
		case AddService:
			if !ok {
				index[k] = len(s.Services)
				s.Services = append(s.Services, VirtualServer{Service: *op.Service})
			}
			continue
		case DelService:
			if ok {
				delete(index, k)
				gone = append(gone, at)
			}
			continue
		}
		if !ok {
			continue
		}
		v := &s.Services[at]
		switch op.Kind {
		case EditService:
			v.Service = *op.Service
		case AddDest:
			if v.Dest(op.Dest.DestKey) == nil {
				v.Dests = append(v.Dests, *op.Dest)
			}
		case EditDest:
			if d := v.Dest(op.Dest.DestKey); d != nil {
				*d = *op.Dest
			}
		case DelDest:
			for j := range v.Dests {
				if v.Dests[j].DestKey == op.Dest.DestKey {
					v.Dests = append(v.Dests[:j], v.Dests[j+1:]...)
					break
				}
			}
		}
	}
	if len(gone) > 0 {
		slices.Sort(gone)
		kept := s.Services[:0]
		for i, v := range s.Services {
			if len(gone) > 0 && gone[0] == i {
				gone = gone[1:]
				continue
			}
			kept = append(kept, v)
		}
		s.Services = kept
	}
}

// Clone returns a deep copy of s.
func (s *State) Clone() *State {
	c := &State{Services: make([]VirtualServer, len(s.Services))}
	for i, v := range s.Services {
		c.Services[i] = VirtualServer{Service: v.Service, Dests: slices.Clone(v.Dests)}
	}
	return c
}
