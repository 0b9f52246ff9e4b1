package model

import (
	"fmt"
	"strings"
)

// Problem is one validation failure: where it is, which field, and why.
type Problem struct {
	// Where names the object, e.g. "service TCP 198.18.0.10:80" or
	// "service TCP 198.18.0.10:80, real server 198.18.1.1:80".
	Where string
	// Field is the offending field ("weight", "scheduler", ...), or empty.
	Field string
	Msg   string
}

func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.Where)
	if p.Field != "" {
		b.WriteString(": ")
		b.WriteString(p.Field)
	}
	b.WriteString(": ")
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is a list of validation failures; it is an error when non-empty.
type Problems []Problem

func (ps Problems) Error() string {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Error()
	}
	return strings.Join(msgs, "\n")
}

// Err returns ps as an error, or nil when there are no problems.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// MaxPersistTimeout is the longest persistence timeout accepted (31 days, as ipvsadm).
const MaxPersistTimeout = 86400 * 31

// ValidateService checks a service's own fields.
func ValidateService(s *Service) Problems {
	var ps Problems
	add := func(field, format string, args ...any) {
		ps = append(ps, Problem{Where: "service " + s.ServiceKey.String(), Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	k := s.ServiceKey
	if k.IsFWMark() {
		if k.Family != IPv4 && k.Family != IPv6 {
			add("family", "fwmark service needs family IPv4 or IPv6")
		}
		if k.Addr.IsValid() || k.Port != 0 || k.Protocol != 0 {
			add("fwmark", "a fwmark service has no address, port or protocol")
		}
	} else {
		switch {
		case !k.Addr.IsValid():
			add("address", "missing virtual address")
		case k.Addr.IsUnspecified():
			add("address", "%s is unspecified; give a real virtual address", k.Addr)
		case k.Addr.Is4In6():
			add("address", "%s is an IPv4-mapped IPv6 address; write it as IPv4", k.Addr)
		case k.Addr.Zone() != "":
			add("address", "%s has a zone; zones are not supported", k.Addr)
		case k.Family != FamilyOf(k.Addr):
			add("family", "family %s does not match address %s", k.Family, k.Addr)
		}
		switch k.Protocol {
		case TCP, UDP, SCTP:
		default:
			add("protocol", "must be tcp, udp or sctp")
		}
		if k.Port == 0 && !s.Persistent {
			add("port", "port 0 (all ports) is only allowed for persistent services")
		}
	}
	switch {
	case s.Scheduler == "":
		add("scheduler", "missing (one of %s)", SchedulerNames())
	case !KnownScheduler(s.Scheduler):
		add("scheduler", "unknown scheduler %q (one of %s)", s.Scheduler, SchedulerNames())
	}
	if s.SchedFlags&^(SchedFlag1|SchedFlag2|SchedFlag3) != 0 {
		add("sched_flags", "unknown bits %#x", s.SchedFlags)
	}
	if s.Persistent {
		if s.Timeout == 0 {
			add("persistence", "timeout must be at least 1 second")
		}
		if s.Timeout > MaxPersistTimeout {
			add("persistence", "timeout %d s is over the maximum %d s (31 days)", s.Timeout, MaxPersistTimeout)
		}
	} else if s.Timeout != 0 || s.NetmaskBits != 0 || s.PEName != "" {
		add("persistence", "timeout, netmask and persistence engine need persistence enabled")
	}
	if s.NetmaskBits < 0 || s.NetmaskBits > s.maxBits() {
		add("netmask", "prefix length %d out of range 1..%d", s.NetmaskBits, s.maxBits())
	}
	if s.PEName != "" && s.PEName != "sip" {
		add("pe", "unknown persistence engine %q (only sip)", s.PEName)
	}
	if s.OnePacket && k.Protocol != UDP && !k.IsFWMark() {
		add("one_packet", "one-packet scheduling applies to UDP services only")
	}
	return ps
}

// ValidateDest checks a real server in the context of its service.
func ValidateDest(s *Service, d *Dest) Problems {
	var ps Problems
	add := func(field, format string, args ...any) {
		where := "service " + s.ServiceKey.String() + ", real server " + d.DestKey.String()
		ps = append(ps, Problem{Where: where, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	switch {
	case !d.Addr.IsValid():
		add("address", "missing real server address")
	case d.Addr.IsUnspecified():
		add("address", "%s is unspecified", d.Addr)
	case d.Addr.Is4In6():
		add("address", "%s is an IPv4-mapped IPv6 address; write it as IPv4", d.Addr)
	case d.Addr.Zone() != "":
		add("address", "%s has a zone; zones are not supported", d.Addr)
	}
	if d.Weight < 0 || d.Weight > MaxWeight {
		add("weight", "%d out of range 0..%d", d.Weight, MaxWeight)
	}
	switch d.Forward {
	case Masquerade, LocalNode, Tunnel, DirectRoute:
	default:
		add("forward", "unknown forwarding method %d", d.Forward)
	}
	if d.Addr.IsValid() && s.Family != 0 && d.Family() != s.Family && d.Forward != Tunnel {
		add("address", "%s real server in %s service: mixed families need tunnel forwarding", d.Family(), s.Family)
	}
	if d.Forward == Masquerade && d.Port == 0 && !s.IsFWMark() && s.Port != 0 {
		add("port", "NAT real servers need a port")
	}
	// The kernel refuses (ERANGE) a lower threshold above the upper one,
	// also when the upper one is 0 (none).
	if d.LowerThreshold > d.UpperThreshold && d.UpperThreshold == 0 {
		add("thresholds", "lower threshold %d without an upper threshold (the kernel refuses it)", d.LowerThreshold)
	} else if d.LowerThreshold > d.UpperThreshold {
		add("thresholds", "lower threshold %d is above upper threshold %d", d.LowerThreshold, d.UpperThreshold)
	}
	if d.Forward != Tunnel {
		if d.TunnelType != TunnelIPIP || d.TunnelPort != 0 || d.TunnelFlags != 0 {
			add("tunnel", "tunnel settings need tunnel forwarding")
		}
	} else {
		switch d.TunnelType {
		case TunnelIPIP:
			if d.TunnelPort != 0 {
				add("tunnel_port", "ipip tunnels have no port")
			}
			if d.TunnelFlags != 0 {
				add("tunnel_csum", "ipip tunnels have no checksum options")
			}
		case TunnelGUE:
			if d.TunnelPort == 0 {
				add("tunnel_port", "gue tunnels need a port")
			}
		case TunnelGRE:
			if d.TunnelPort != 0 {
				add("tunnel_port", "gre tunnels have no port")
			}
		default:
			add("tunnel_type", "unknown tunnel type %d", d.TunnelType)
		}
		if d.TunnelFlags&^(TunnelCsum|TunnelRemCsum) != 0 || d.TunnelFlags == TunnelCsum|TunnelRemCsum {
			add("tunnel_csum", "choose one of csum or remcsum")
		}
	}
	return ps
}

// Validate checks a whole state: every service and real server, and that no
// service or real server appears twice. It returns every problem found.
func Validate(st *State) Problems {
	var ps Problems
	seen := make(map[ServiceKey]bool, len(st.Services))
	for i := range st.Services {
		v := &st.Services[i]
		if seen[v.ServiceKey] {
			ps = append(ps, Problem{Where: "service " + v.ServiceKey.String(), Msg: "duplicate virtual service"})
		}
		seen[v.ServiceKey] = true
		ps = append(ps, ValidateService(&v.Service)...)
		dseen := make(map[DestKey]bool, len(v.Dests))
		for j := range v.Dests {
			d := &v.Dests[j]
			if dseen[d.DestKey] {
				ps = append(ps, Problem{
					Where: "service " + v.ServiceKey.String() + ", real server " + d.DestKey.String(),
					Msg:   "duplicate real server",
				})
			}
			dseen[d.DestKey] = true
			ps = append(ps, ValidateDest(&v.Service, d)...)
		}
	}
	return ps
}
