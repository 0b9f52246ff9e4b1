package keepalived

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
)

// args reads the arguments of one statement, recording a problem at its
// line for each bad one. Readers return the zero value after a problem.
type args struct {
	errs *errorList
	n    *Node
}

func (a *args) errf(format string, v ...any) {
	a.errs.add(a.n.Pos, "%s: %s", a.n.Key, fmt.Sprintf(format, v...))
}

func (a *args) len() int { return len(a.n.Args) }

func (a *args) str(i int) string {
	if i >= len(a.n.Args) {
		return ""
	}
	return a.n.Args[i]
}

// integer reads argument i as a decimal integer in lo..hi.
func (a *args) integer(i int, lo, hi int64) (int64, bool) {
	s := a.str(i)
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		a.errf("%q is not an integer", s)
		return 0, false
	}
	if v < lo || v > hi {
		a.errf("%d is out of range %d..%d", v, lo, hi)
		return 0, false
	}
	return v, true
}

// timer reads a <TIMER>: non-negative seconds, fractions allowed
// (microsecond resolution).
func (a *args) timer(i int) (time.Duration, bool) {
	s := a.str(i)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || strings.ContainsAny(s, "xXpP_") {
		a.errf("%q is not a number of seconds", s)
		return 0, false
	}
	if v < 0 || v > 1e9 {
		a.errf("%s seconds is out of range 0..1000000000", s)
		return 0, false
	}
	return time.Duration(math.Round(v*1e6)) * time.Microsecond, true
}

// boolean reads an optional <BOOL> (on|off|true|false|yes|no); a keyword
// given alone is true.
func (a *args) boolean(i int) (bool, bool) {
	if i >= a.len() {
		return true, true
	}
	switch strings.ToLower(a.str(i)) {
	case "on", "true", "yes":
		return true, true
	case "off", "false", "no":
		return false, true
	}
	a.errf("%q is not a boolean (on, off, true, false, yes or no)", a.str(i))
	return false, false
}

// addr reads an IPv4 or IPv6 address (no zone, no host name).
func (a *args) addr(i int) (netip.Addr, bool) {
	s := a.str(i)
	ip, err := netip.ParseAddr(s)
	if err != nil || ip.Zone() != "" {
		a.errf("%q is not an IP address", s)
		return netip.Addr{}, false
	}
	return ip.Unmap(), true
}

// port reads a port 1..65535 (0 when allowZero).
func (a *args) port(i int, allowZero bool) (uint16, bool) {
	s := a.str(i)
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil || v > 65535 || (v == 0 && !allowZero) {
		a.errf("%q is not a port (1..65535)", s)
		return 0, false
	}
	return uint16(v), true
}

// addrPort reads ADDR [PORT] starting at argument i.
func (a *args) addrPort(i int) (netip.AddrPort, bool) {
	ip, ok := a.addr(i)
	if !ok {
		return netip.AddrPort{}, false
	}
	var p uint16
	if i+1 < a.len() {
		if p, ok = a.port(i+1, true); !ok {
			return netip.AddrPort{}, false
		}
	}
	return netip.AddrPortFrom(ip, p), true
}

// script reads COMMAND [USER [GROUP]].
func (a *args) script() *Script {
	return &Script{Pos: a.n.Pos, Command: a.str(0), User: a.str(1), Group: a.str(2)}
}

// method reads NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]
// (also the old lb_kind spellings, and the aliases model.ParseForwardMethod
// accepts).
func (a *args) method(i int) (Method, bool) {
	kind, err := model.ParseForwardMethod(a.str(i))
	if err != nil || kind == model.LocalNode {
		a.errf("unknown forwarding method %q (want NAT, DR or TUN)", a.str(i))
		return Method{}, false
	}
	m := Method{Kind: kind}
	rest := a.n.Args[i+1:]
	if kind != model.Tunnel {
		if len(rest) > 0 {
			a.errf("%s takes no options (%q)", a.str(i), rest[0])
			return Method{}, false
		}
		return m, true
	}
	if len(rest) > 0 && rest[0] == "type" {
		if len(rest) < 2 {
			a.errf("type wants ipip, gue or gre")
			return Method{}, false
		}
		if m.Tunnel, err = model.ParseTunnelType(rest[1]); err != nil {
			a.errf("%v", err)
			return Method{}, false
		}
		rest = rest[2:]
		if m.Tunnel == model.TunnelGUE {
			if len(rest) < 2 || rest[0] != "port" {
				a.errf("a gue tunnel needs port NUM")
				return Method{}, false
			}
			v, err := strconv.ParseUint(rest[1], 10, 32)
			if err != nil || v == 0 || v > 65535 {
				a.errf("%q is not a port (1..65535)", rest[1])
				return Method{}, false
			}
			m.TunnelPort, rest = uint16(v), rest[2:]
		}
	}
	if len(rest) > 0 {
		switch {
		case rest[0] == "nocsum":
			m.NoCsum = true
		case rest[0] == "csum" && m.Tunnel != model.TunnelIPIP:
			m.TunnelFlags = model.TunnelCsum
		case rest[0] == "remcsum" && m.Tunnel == model.TunnelGUE:
			m.TunnelFlags = model.TunnelRemCsum
		default:
			a.errf("%q is not a checksum option of tunnel type %s", rest[0], m.Tunnel)
			return Method{}, false
		}
		rest = rest[1:]
	}
	if len(rest) > 0 {
		a.errf("unexpected %q", rest[0])
		return Method{}, false
	}
	return m, true
}

// set stores v in s, or reports a second setting of the keyword.
func set[T any](a *args, s *Setting[T], v T, ok bool) {
	if !ok {
		return
	}
	if s.Set {
		a.errf("set again (first on line %d)", s.Pos.Line)
		return
	}
	*s = Setting[T]{Value: v, Set: true, Pos: a.n.Pos}
}

// fresh reports whether a once-only statement has not been seen yet (else
// a problem).
func fresh(a *args, seen bool) bool {
	if seen {
		a.errf("given twice")
	}
	return !seen
}
