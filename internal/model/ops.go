package model

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
