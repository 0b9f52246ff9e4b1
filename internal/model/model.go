// Package model holds the desired state of an IPVS load balancer as plain Go
// values: virtual services, their real servers (destinations) and the
// operations that turn one state into another. It knows nothing of Lua or
// netlink; the config loaders build it and the data planes apply it.
package model

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Protocol is the IP protocol of a virtual service.
type Protocol uint16

// Protocols supported by IPVS.
const (
	TCP  Protocol = 6
	UDP  Protocol = 17
	SCTP Protocol = 132
)

// String returns the protocol name as ipvsadm prints it (TCP, UDP, SCTP).
func (p Protocol) String() string {
	switch p {
	case TCP:
		return "TCP"
	case UDP:
		return "UDP"
	case SCTP:
		return "SCTP"
	}
	return "proto(" + strconv.Itoa(int(p)) + ")"
}

// ParseProtocol accepts tcp, udp or sctp in any case.
func ParseProtocol(s string) (Protocol, error) {
	switch strings.ToLower(s) {
	case "tcp":
		return TCP, nil
	case "udp":
		return UDP, nil
	case "sctp":
		return SCTP, nil
	}
	return 0, fmt.Errorf("unknown protocol %q (want tcp, udp or sctp)", s)
}

// Family is an address family. The values are the Linux AF_* numbers.
type Family uint16

// Address families.
const (
	IPv4 Family = 2  // AF_INET
	IPv6 Family = 10 // AF_INET6
)

// String returns "IPv4" or "IPv6".
func (f Family) String() string {
	switch f {
	case IPv4:
		return "IPv4"
	case IPv6:
		return "IPv6"
	}
	return "af(" + strconv.Itoa(int(f)) + ")"
}

// FamilyOf returns the family of an address.
func FamilyOf(a netip.Addr) Family {
	if a.Is4() {
		return IPv4
	}
	return IPv6
}

// ServiceKey identifies a virtual service: either protocol, address and port,
// or a firewall mark (with the family of the marked packets).
type ServiceKey struct {
	Family   Family
	Protocol Protocol   // zero for fwmark services
	Addr     netip.Addr // invalid (zero) for fwmark services
	Port     uint16
	FWMark   uint32
}

// IsFWMark reports whether the key names a firewall-mark service.
func (k ServiceKey) IsFWMark() bool { return k.FWMark != 0 }

// String renders the key compactly: "TCP 198.18.0.10:80", "UDP [2001:db8::1]:53",
// "FWM 7" or "FWM 7 IPv6".
func (k ServiceKey) String() string {
	if k.IsFWMark() {
		s := "FWM " + strconv.FormatUint(uint64(k.FWMark), 10)
		if k.Family == IPv6 {
			s += " IPv6"
		}
		return s
	}
	return k.Protocol.String() + " " + netip.AddrPortFrom(k.Addr, k.Port).String()
}

// Compare orders keys as Less does: -1, 0 or +1 (for slices.SortFunc).
func (k ServiceKey) Compare(o ServiceKey) int {
	switch {
	case k.Less(o):
		return -1
	case o.Less(k):
		return 1
	}
	return 0
}

// Less orders keys: fwmark services after address services, then by family,
// protocol, address and port. It gives stable output and diffs.
func (k ServiceKey) Less(o ServiceKey) bool {
	if k.FWMark != o.FWMark {
		return k.FWMark < o.FWMark
	}
	if k.Family != o.Family {
		return k.Family < o.Family
	}
	if k.Protocol != o.Protocol {
		return k.Protocol < o.Protocol
	}
	if c := k.Addr.Compare(o.Addr); c != 0 {
		return c < 0
	}
	return k.Port < o.Port
}

// Service flags understood by the kernel. SchedFlag1..3 mean different things
// to different schedulers (for sh and mh: 1 = fallback, 2 = port).
const (
	FlagPersistent uint32 = 0x0001
	FlagHashed     uint32 = 0x0002 // set by the kernel, ignored on input
	FlagOnePacket  uint32 = 0x0004
	SchedFlag1     uint32 = 0x0008
	SchedFlag2     uint32 = 0x0010
	SchedFlag3     uint32 = 0x0020
)

// Service is a virtual service without its real servers.
type Service struct {
	ServiceKey
	Scheduler string
	// SchedFlags holds SchedFlag1..3 (see SchedFlagNames).
	SchedFlags uint32
	// Persistent enables client affinity for Timeout seconds.
	Persistent bool
	Timeout    uint32
	// NetmaskBits is the persistence granularity as a prefix length
	// (0..32 for IPv4, 0..128 for IPv6). Zero on input means "host" (/32 or /128).
	NetmaskBits int
	// OnePacket schedules each UDP datagram separately (ipvsadm -o).
	OnePacket bool
	// PEName is the persistence engine (e.g. "sip"), empty for none.
	PEName string
}

// Flags returns the kernel flag word for the service.
func (s *Service) Flags() uint32 {
	f := s.SchedFlags & (SchedFlag1 | SchedFlag2 | SchedFlag3)
	if s.Persistent {
		f |= FlagPersistent
	}
	if s.OnePacket {
		f |= FlagOnePacket
	}
	return f
}

// SetFlags sets Persistent, OnePacket and SchedFlags from a kernel flag word.
func (s *Service) SetFlags(f uint32) {
	s.Persistent = f&FlagPersistent != 0
	s.OnePacket = f&FlagOnePacket != 0
	s.SchedFlags = f & (SchedFlag1 | SchedFlag2 | SchedFlag3)
}

// Netmask returns the persistence prefix length, defaulting to a host mask.
func (s *Service) Netmask() int {
	if s.NetmaskBits == 0 {
		return s.maxBits()
	}
	return s.NetmaskBits
}

func (s *Service) maxBits() int {
	if s.Family == IPv6 {
		return 128
	}
	return 32
}

// ForwardMethod is how packets reach a real server.
type ForwardMethod uint32

// Forwarding methods (the kernel's IP_VS_CONN_F_* values).
const (
	Masquerade  ForwardMethod = 0 // NAT
	LocalNode   ForwardMethod = 1
	Tunnel      ForwardMethod = 2 // IP-in-IP, GUE or GRE
	DirectRoute ForwardMethod = 3 // gatewaying
	Bypass      ForwardMethod = 4
)

// String returns the name ipvsadm prints in the Forward column.
func (m ForwardMethod) String() string {
	switch m {
	case Masquerade:
		return "Masq"
	case LocalNode:
		return "Local"
	case Tunnel:
		return "Tunnel"
	case DirectRoute:
		return "Route"
	case Bypass:
		return "Bypass"
	}
	return "fwd(" + strconv.Itoa(int(m)) + ")"
}

// ParseForwardMethod accepts the names used by luvs, ipvsadm and keepalived:
// nat/masq/masquerade, dr/route/direct/gatewaying, tun/tunnel/ipip, local.
func ParseForwardMethod(s string) (ForwardMethod, error) {
	switch strings.ToLower(s) {
	case "nat", "masq", "masquerade", "masquerading":
		return Masquerade, nil
	case "dr", "route", "direct", "droute", "gatewaying":
		return DirectRoute, nil
	case "tun", "tunnel", "ipip":
		return Tunnel, nil
	case "local", "localnode":
		return LocalNode, nil
	}
	return 0, fmt.Errorf("unknown forwarding method %q (want nat, dr, tunnel or local)", s)
}

// TunnelType is the encapsulation of a tunnel destination.
type TunnelType uint8

// Tunnel types (IP_VS_CONN_F_TUNNEL_TYPE_*).
const (
	TunnelIPIP TunnelType = 0
	TunnelGUE  TunnelType = 1
	TunnelGRE  TunnelType = 2
)

// String returns ipip, gue or gre.
func (t TunnelType) String() string {
	switch t {
	case TunnelIPIP:
		return "ipip"
	case TunnelGUE:
		return "gue"
	case TunnelGRE:
		return "gre"
	}
	return "tun(" + strconv.Itoa(int(t)) + ")"
}

// ParseTunnelType accepts ipip, gue or gre.
func ParseTunnelType(s string) (TunnelType, error) {
	switch strings.ToLower(s) {
	case "ipip":
		return TunnelIPIP, nil
	case "gue":
		return TunnelGUE, nil
	case "gre":
		return TunnelGRE, nil
	}
	return 0, fmt.Errorf("unknown tunnel type %q (want ipip, gue or gre)", s)
}

// Tunnel checksum flags (IP_VS_TUNNEL_ENCAP_FLAG_*).
const (
	TunnelCsum    uint16 = 1 << 0
	TunnelRemCsum uint16 = 1 << 1
)

// MaxWeight is the largest weight luvs accepts (the range ipvsadm documents).
const MaxWeight = 65535

// DestKey identifies a real server within a service.
type DestKey struct {
	Addr netip.Addr
	Port uint16
}

// String renders "198.18.1.1:80" or "[2001:db8::1]:80".
func (k DestKey) String() string { return netip.AddrPortFrom(k.Addr, k.Port).String() }

// Less orders destinations by address, then port.
func (k DestKey) Less(o DestKey) bool { return k.Compare(o) < 0 }

// Compare orders destinations by address, then port (-1, 0 or 1).
func (k DestKey) Compare(o DestKey) int {
	if c := k.Addr.Compare(o.Addr); c != 0 {
		return c
	}
	return cmp.Compare(k.Port, o.Port)
}

// Dest is a real server of a virtual service.
type Dest struct {
	DestKey
	Weight  int
	Forward ForwardMethod
	// UpperThreshold and LowerThreshold bound active connections (0 = none).
	UpperThreshold uint32
	LowerThreshold uint32
	// TunnelType, TunnelPort and TunnelFlags apply to Tunnel forwarding only.
	TunnelType  TunnelType
	TunnelPort  uint16
	TunnelFlags uint16
}

// Family is the address family of the real server.
func (d *Dest) Family() Family { return FamilyOf(d.Addr) }

// ConnCount is a real server's connections as the kernel counts them:
// established (active) and the others (inactive: opening, closing, closed
// but remembered, and every UDP entry).
type ConnCount struct {
	Active, Inactive int
}

// DrainRecord is a real server being drained before its removal, as kept
// across restarts: a restarted daemon goes on draining it until Deadline.
type DrainRecord struct {
	Service         ServiceKey
	Dest            DestKey
	Since, Deadline time.Time
}

// Compare orders drain records by service, then real server.
func (r DrainRecord) Compare(o DrainRecord) int {
	if c := r.Service.Compare(o.Service); c != 0 {
		return c
	}
	return r.Dest.Compare(o.Dest)
}

// Equal reports whether r and o record the same drain.
func (r DrainRecord) Equal(o DrainRecord) bool {
	return r.Service == o.Service && r.Dest == o.Dest && r.Since.Equal(o.Since) && r.Deadline.Equal(o.Deadline)
}

// VirtualServer is a service together with its real servers: the unit of
// desired state.
type VirtualServer struct {
	Service
	Dests []Dest
}

// Dest returns the real server with the given key, or nil.
func (v *VirtualServer) Dest(k DestKey) *Dest {
	for i := range v.Dests {
		if v.Dests[i].DestKey == k {
			return &v.Dests[i]
		}
	}
	return nil
}

// State is a whole IPVS table: every virtual server luvs manages.
type State struct {
	Services []VirtualServer
}

// Find returns the virtual server with the given key, or nil.
func (s *State) Find(k ServiceKey) *VirtualServer {
	for i := range s.Services {
		if s.Services[i].ServiceKey == k {
			return &s.Services[i]
		}
	}
	return nil
}

// DestCount returns the number of real servers over all services.
func (s *State) DestCount() int {
	n := 0
	for i := range s.Services {
		n += len(s.Services[i].Dests)
	}
	return n
}

// ProtocolPrefix is what ParseServiceKey reads before an address for
// protocol p: "" for TCP, "udp:", "sctp:".
func ProtocolPrefix(p Protocol) string {
	switch p {
	case UDP:
		return "udp:"
	case SCTP:
		return "sctp:"
	}
	return ""
}

// Spec is the service address in the form ParseServiceKey reads:
// "198.18.0.10:80", "udp:[2001:db8::1]:53", "fwmark6:7".
func (k ServiceKey) Spec() string {
	if k.IsFWMark() {
		if k.Family == IPv6 {
			return "fwmark6:" + strconv.FormatUint(uint64(k.FWMark), 10)
		}
		return "fwmark:" + strconv.FormatUint(uint64(k.FWMark), 10)
	}
	return ProtocolPrefix(k.Protocol) + netip.AddrPortFrom(k.Addr, k.Port).String()
}

// ParseServiceKey reads a service address: "ADDR:PORT" (TCP),
// "udp:ADDR:PORT", "sctp:[2001:db8::1]:80", "fwmark:7" or "fwmark6:7" (an
// IPv6 fwmark service).
func ParseServiceKey(s string) (ServiceKey, error) {
	proto, rest := TCP, s
	if p, r, ok := strings.Cut(s, ":"); ok {
		switch strings.ToLower(p) {
		case "fwmark", "fwmark6":
			m, err := ParseFWMark(r)
			if err != nil {
				return ServiceKey{}, err
			}
			fam := IPv4
			if strings.EqualFold(p, "fwmark6") {
				fam = IPv6
			}
			return ServiceKey{Family: fam, FWMark: m}, nil
		case "tcp", "udp", "sctp":
			proto, _ = ParseProtocol(p)
			rest = r
		}
	}
	ap, err := ParseAddrPort(rest, -1)
	if err != nil {
		return ServiceKey{}, err
	}
	a := ap.Addr()
	return ServiceKey{Family: FamilyOf(a), Protocol: proto, Addr: a, Port: ap.Port()}, nil
}

// PortSuffix reads a bare IPv6 address whose last group could be a port,
// "2001:db8::10:8080", as that address and port ([2001:db8::10]:8080).
// It reports false when s does not read so (brackets, no such group, or
// an address that is not IPv6 without its last group).
func PortSuffix(s string) (netip.AddrPort, bool) {
	i := strings.LastIndexByte(s, ':')
	if strings.HasPrefix(s, "[") || strings.Count(s, ":") < 2 || i < 0 {
		return netip.AddrPort{}, false
	}
	host, port := s[:i], s[i+1:]
	if port == "" || len(port) > 5 || strings.Trim(port, "0123456789") != "" {
		return netip.AddrPort{}, false
	}
	p, _ := strconv.Atoi(port)
	a, err := netip.ParseAddr(host)
	if p < 1 || p > 65535 || err != nil || !a.Is6() || a.Is4In6() || a.Zone() != "" {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a, uint16(p)), true
}

// ParseFWMark reads a firewall mark 1..4294967295, written in decimal or
// in hex after 0x. A leading zero is refused rather than read as octal
// (as iptables would read it), and so are Go's 0b, 0o and 1_000 forms.
func ParseFWMark(s string) (uint32, error) {
	digits, base := s, 10
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		digits, base = s[2:], 16
	}
	bad := func(why string) (uint32, error) {
		return 0, fmt.Errorf("invalid fwmark %q: %s (want 1..4294967295, decimal or 0x hex)", s, why)
	}
	if digits == "" || strings.ContainsAny(digits, "+-_") {
		return bad("not a number")
	}
	m, err := strconv.ParseUint(digits, base, 32)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return bad("too large")
	case err != nil:
		return bad("not a number")
	case base == 10 && len(digits) > 1 && digits[0] == '0':
		return bad("a leading zero (octal is not read)")
	case m == 0:
		return bad("0 is no mark")
	}
	return uint32(m), nil
}

// fastIPv4Port parses the common "a.b.c.d:port" without allocating; ok is
// false for anything else (ParseAddrPort's general path then decides).
func fastIPv4Port(s string) (netip.AddrPort, bool) {
	var ip [4]byte
	i := 0
	for k := 0; k < 4; k++ {
		start, v := i, 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' && i-start < 3 {
			v = v*10 + int(s[i]-'0')
			i++
		}
		n := i - start
		if n == 0 || v > 255 || (n > 1 && s[start] == '0') {
			return netip.AddrPort{}, false
		}
		ip[k] = byte(v)
		want := byte('.')
		if k == 3 {
			want = ':'
		}
		if i >= len(s) || s[i] != want {
			return netip.AddrPort{}, false
		}
		i++
	}
	port, n := 0, 0
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' || n == 5 {
			return netip.AddrPort{}, false
		}
		port = port*10 + int(s[i]-'0')
		n++
	}
	if n == 0 || port > 65535 {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(netip.AddrFrom4(ip), uint16(port)), true
}

// ParseAddrPort reads "198.18.0.10:80", "[2001:db8::1]:80" or, when defPort
// is not negative, a bare address (which gets port defPort). Its errors say
// what is wrong: a missing port, a port out of range, a bad address, or a
// host name (luvs does not resolve names).
func ParseAddrPort(s string, defPort int) (netip.AddrPort, error) {
	if ap, ok := fastIPv4Port(s); ok {
		return ap, nil
	}
	host, portStr := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]")
		if end < 0 {
			return netip.AddrPort{}, fmt.Errorf("missing ']' in %q", s)
		}
		host, portStr = s[1:end], strings.TrimPrefix(s[end+1:], ":")
		if s[end+1:] != "" && !strings.HasPrefix(s[end+1:], ":") {
			return netip.AddrPort{}, fmt.Errorf("unexpected %q after ']'", s[end+1:])
		}
	} else if strings.Count(s, ":") == 1 {
		host, portStr, _ = strings.Cut(s, ":")
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		if host != "" && strings.Trim(host, "0123456789.") != "" && !strings.Contains(host, ":") {
			return netip.AddrPort{}, fmt.Errorf("%q is not an IP address (luvs does not resolve host names)", host)
		}
		msg := err.Error()
		if i := strings.LastIndex(msg, "): "); i >= 0 {
			msg = msg[i+3:]
		}
		return netip.AddrPort{}, fmt.Errorf("invalid IP address %q: %s", host, msg)
	}
	if a.Zone() != "" {
		return netip.AddrPort{}, fmt.Errorf("%q has a zone; zones are not supported", host)
	}
	a = a.Unmap()
	if portStr == "" {
		if defPort < 0 || strings.HasSuffix(s, ":") {
			withPort := strings.TrimSuffix(netip.AddrPortFrom(a, 0).String(), "0") + "PORT"
			if ap, ok := PortSuffix(s); ok {
				return netip.AddrPort{}, fmt.Errorf("missing port (write %s for port %d, or %s)", ap, ap.Port(), withPort)
			}
			return netip.AddrPort{}, fmt.Errorf("missing port (write %s)", withPort)
		}
		return netip.AddrPortFrom(a, uint16(defPort)), nil
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		if strings.Trim(portStr, "0123456789") == "" {
			return netip.AddrPort{}, fmt.Errorf("port %s out of range 0..65535", portStr)
		}
		return netip.AddrPort{}, fmt.Errorf("invalid port %q", portStr)
	}
	return netip.AddrPortFrom(a, uint16(port)), nil
}
