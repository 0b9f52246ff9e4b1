// Package override holds an operator's runtime changes to real servers
// (`luvs server drain|maint|ready|weight|add|remove`): plain values kept
// apart from the configuration file, which stays the base, and layered on
// top of it. The daemon stores them in its state directory, so they last
// across reloads and restarts until cleared.
package override

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
)

// Kind is what an override does.
type Kind string

// Override kinds. Drain and Maint hold a server's state (Ready clears
// them), Weight sets its weight, Add and Remove change a service's servers.
const (
	Drain  Kind = "drain"  // weight 0; checks go on
	Maint  Kind = "maint"  // weight 0; checks stop
	Weight Kind = "weight" // the weight, absolute or a percentage of the configured one
	Add    Kind = "add"    // a server added to a service
	Remove Kind = "remove" // a server taken out of a service (drained first)
)

// slot groups the kinds that replace one another: a server has at most one
// state (drain or maint), one weight and one membership change per target.
func (k Kind) slot() string {
	switch k {
	case Drain, Maint:
		return "state"
	case Add, Remove:
		return "member"
	}
	return string(k)
}

// Target names the real servers an override applies to.
type Target struct {
	// Service is the virtual service; the zero key means every service
	// that has the server.
	Service model.ServiceKey
	Addr    netip.Addr
	// Port is the server's port; 0 means every port of Addr.
	Port uint16
}

// AllServices reports whether the target spans every service.
func (t Target) AllServices() bool { return t.Service == model.ServiceKey{} }

// Matches reports whether the target names the server d of service svc.
func (t Target) Matches(svc model.ServiceKey, d model.DestKey) bool {
	return (t.AllServices() || t.Service == svc) && t.Addr == d.Addr && (t.Port == 0 || t.Port == d.Port)
}

// String renders the target as the command line names it.
func (t Target) String() string {
	s := t.Addr.String()
	if t.Port != 0 {
		s = netip.AddrPortFrom(t.Addr, t.Port).String()
	}
	if !t.AllServices() {
		s += " in " + t.Service.String()
	}
	return s
}

// Override is one operator change.
type Override struct {
	Kind Kind
	Target
	// Weight is the weight (Kind Weight, or the weight of an added server);
	// with Percent, a percentage of the configured weight.
	Weight  int
	Percent bool
	// At is when the operator made the change.
	At time.Time
}

// String describes the override for logs and status: "drain 198.18.1.1:80".
func (o Override) String() string {
	s := string(o.Kind) + " " + o.Target.String()
	if o.Kind == Weight || o.Kind == Add {
		s += " weight " + o.WeightText()
	}
	return s
}

// WeightText renders the weight as given: "3" or "50%".
func (o Override) WeightText() string {
	if o.Percent {
		return strconv.Itoa(o.Weight) + "%"
	}
	return strconv.Itoa(o.Weight)
}

// ParseWeight reads "N" (0..65535) or "N%" (0..1000 percent of the
// configured weight).
func ParseWeight(s string) (w int, percent bool, err error) {
	num, percent := strings.CutSuffix(strings.TrimSpace(s), "%")
	n, err := strconv.Atoi(num)
	hi := model.MaxWeight
	if percent {
		hi = 1000
	}
	if err != nil || n < 0 || n > hi {
		if percent {
			return 0, false, fmt.Errorf("weight %q: a percentage must be 0%%..1000%%", s)
		}
		return 0, false, fmt.Errorf("weight %q: must be 0..%d or a percentage such as 50%%", s, model.MaxWeight)
	}
	return n, percent, nil
}

// ParseTarget reads a server as the command line gives it: "198.18.1.1",
// "198.18.1.1:80" or "[2001:db8::1]:80", and an optional service
// ("198.18.0.10:80", "udp:...", "fwmark:7"; empty for every service).
func ParseTarget(server, service string) (Target, error) {
	var t Target
	if service != "" {
		k, err := model.ParseServiceKey(service)
		if err != nil {
			return t, fmt.Errorf("service %q: %w", service, err)
		}
		t.Service = k
	}
	if ap, err := netip.ParseAddrPort(server); err == nil {
		t.Addr, t.Port = ap.Addr().Unmap(), ap.Port()
		if t.Port == 0 {
			return t, fmt.Errorf("server %q: port 0; give the server's port or only its address", server)
		}
		return t, nil
	}
	a, err := netip.ParseAddr(strings.Trim(server, "[]"))
	if err != nil {
		return t, fmt.Errorf("server %q: not an address or address:port", server)
	}
	t.Addr = a.Unmap()
	return t, nil
}

// Set is the overrides in force, oldest first.
type Set []Override

// With returns the set with o in force: it replaces the override of the
// same slot and target (a drain replaces a maint, an add a remove).
func (s Set) With(o Override) Set {
	out := s.Without(o.Kind.slot(), o.Target)
	if o.Kind.slot() == "state" {
		// A new state replaces those of the servers it covers.
		out, _ = out.Ready(o.Target)
	}
	return append(out, o)
}

// Without returns the set without the override of slot ("state", "weight",
// "member") for exactly target.
func (s Set) Without(slot string, t Target) Set {
	return slices.DeleteFunc(slices.Clone(s), func(x Override) bool { return x.Kind.slot() == slot && x.Target == t })
}

// Ready clears the state (drain, maint) of every override that names the
// server d of svc or, with t not naming one server, of every target t
// covers; it returns the new set and the overrides it cleared.
func (s Set) Ready(t Target) (Set, []Override) {
	var cleared []Override
	out := slices.DeleteFunc(slices.Clone(s), func(x Override) bool {
		if x.Kind.slot() != "state" || !covers(t, x.Target) {
			return false
		}
		cleared = append(cleared, x)
		return true
	})
	return out, cleared
}

// covers reports whether target t (as given to ready) includes target x:
// the same address, any port when t has none, any service when t has none.
func covers(t, x Target) bool {
	return t.Addr == x.Addr && (t.Port == 0 || t.Port == x.Port) && (t.AllServices() || t.Service == x.Service)
}

// ServerState is what the overrides make of one real server.
type ServerState struct {
	State     Kind // Drain, Maint or "" (normal)
	Overrides []Override
}

// Layer returns base with the overrides applied: removed servers dropped,
// added ones appended (with the checks and settings of the service's first
// configured server, pointed at the new address), weights replaced, drained
// and maintained servers at weight 0, maintained ones without checks. base
// is not modified; services nothing applies to share its slices. info
// receives the state of every server an override names.
func Layer(base *model.Config, s Set, info func(svc model.ServiceKey, d model.DestKey, st ServerState)) *model.Config {
	if len(s) == 0 {
		return base
	}
	out := *base
	out.Services = slices.Clone(base.Services)
	for i := range out.Services {
		sc := &out.Services[i]
		var servers []model.ServerConfig
		touched := false
		for _, rs := range sc.Servers {
			st, keep := apply(s, sc.ServiceKey, &rs)
			touched = touched || !keep || len(st.Overrides) > 0
			if keep {
				servers = append(servers, rs)
			}
			if len(st.Overrides) > 0 && info != nil {
				info(sc.ServiceKey, rs.DestKey, st)
			}
		}
		for _, o := range s {
			if o.Kind != Add || o.AllServices() || o.Service != sc.ServiceKey || o.Port == 0 {
				continue
			}
			dk := model.DestKey{Addr: o.Addr, Port: o.Port}
			if slices.ContainsFunc(servers, func(rs model.ServerConfig) bool { return rs.DestKey == dk }) {
				continue // configured (or added) already
			}
			rs := added(sc, dk, o)
			st, _ := apply(s, sc.ServiceKey, &rs)
			servers = append(servers, rs)
			touched = true
			if info != nil {
				info(sc.ServiceKey, rs.DestKey, st)
			}
		}
		if touched {
			sc.Servers = servers
		}
	}
	return &out
}

// added builds the server an Add override puts into sc.
func added(sc *model.ServiceConfig, dk model.DestKey, o Override) model.ServerConfig {
	rs := model.ServerConfig{Dest: model.Dest{DestKey: dk, Weight: 1, Forward: model.Masquerade},
		OnFail: model.Drain, DrainTimeout: model.DefaultDrainTimeout, Where: "luvs server add"}
	if len(sc.Servers) > 0 {
		first := sc.Servers[0]
		rs.Forward, rs.TunnelType, rs.TunnelPort, rs.TunnelFlags = first.Forward, first.TunnelType, first.TunnelPort, first.TunnelFlags
		rs.UpperThreshold, rs.LowerThreshold = first.UpperThreshold, first.LowerThreshold
		rs.OnFail, rs.DrainTimeout, rs.SlowStart = first.OnFail, first.DrainTimeout, first.SlowStart
		// A check probes its server's address unless it names another
		// (connect_ip), which the new server's copy keeps.
		rs.Checks = slices.Clone(first.Checks)
	}
	if !o.Percent {
		rs.Weight = o.Weight
	}
	return rs
}

// apply changes rs by the overrides that name it and reports whether it
// stays in the service.
func apply(s Set, svc model.ServiceKey, rs *model.ServerConfig) (ServerState, bool) {
	var st ServerState
	keep := true
	configured := rs.Weight
	for _, o := range s {
		if !o.Matches(svc, rs.DestKey) {
			continue
		}
		switch o.Kind {
		case Remove:
			keep = false
		case Add:
			keep = true
		case Weight:
			if o.Percent {
				rs.Weight = (configured*o.Weight + 50) / 100
			} else {
				rs.Weight = o.Weight
			}
		case Drain, Maint:
			st.State = o.Kind
		}
		st.Overrides = append(st.Overrides, o)
	}
	switch st.State {
	case Drain:
		rs.Weight = 0
	case Maint:
		rs.Weight = 0
		rs.Checks = nil
		rs.Alpha = false
	}
	return st, keep
}

// record is an override as stored.
type record struct {
	Kind    Kind      `json:"kind"`
	Service string    `json:"service,omitempty"`
	Server  string    `json:"server"`
	Weight  string    `json:"weight,omitempty"`
	At      time.Time `json:"at"`
}

// Encode renders the set for the state directory.
func (s Set) Encode() ([]byte, error) {
	recs := make([]record, 0, len(s))
	for _, o := range s {
		r := record{Kind: o.Kind, Server: o.Addr.String(), At: o.At}
		if o.Port != 0 {
			r.Server = netip.AddrPortFrom(o.Addr, o.Port).String()
		}
		if !o.AllServices() {
			r.Service = o.Service.Spec()
		}
		if o.Kind == Weight || o.Kind == Add {
			r.Weight = o.WeightText()
		}
		recs = append(recs, r)
	}
	return json.MarshalIndent(struct {
		Overrides []record `json:"overrides"`
	}{recs}, "", "  ")
}

// Decode reads a set written by Encode.
func Decode(b []byte) (Set, error) {
	var doc struct {
		Overrides []record `json:"overrides"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("overrides: %w", err)
	}
	var s Set
	for i, r := range doc.Overrides {
		t, err := ParseTarget(r.Server, r.Service)
		if err != nil {
			return nil, fmt.Errorf("overrides: entry %d: %w", i+1, err)
		}
		o := Override{Kind: r.Kind, Target: t, At: r.At}
		switch r.Kind {
		case Drain, Maint, Remove:
		case Weight, Add:
			if o.Weight, o.Percent, err = ParseWeight(r.Weight); err != nil {
				return nil, fmt.Errorf("overrides: entry %d: %w", i+1, err)
			}
		default:
			return nil, fmt.Errorf("overrides: entry %d: unknown kind %q", i+1, r.Kind)
		}
		s = append(s, o)
	}
	return s, nil
}
