package model

import (
	"net/netip"
	"slices"
	"time"
)

// BGP is the configuration's BGP speaker: the virtual addresses of the
// services that announce themselves are advertised to its peers while the
// services hold their quorum.
type BGP struct {
	ASN      uint32
	RouterID netip.Addr // an IPv4 address
	// ListenPort is where the speaker accepts sessions; 0: it does not
	// listen (it connects to its peers).
	ListenPort uint16
	// ShutdownDelay is how long a stopping daemon waits after it withdrew
	// its announcements, so that routers move the flows first.
	ShutdownDelay time.Duration
	Peers         []BGPPeer
	Where         string // source position of the declaration
}

// DefaultShutdownDelay is ShutdownDelay when the configuration does not say.
const DefaultShutdownDelay = 2 * time.Second

// BGPPeer is a router the speaker peers with.
type BGPPeer struct {
	Address netip.Addr
	ASN     uint32
	Port    uint16 // 0: 179
	// Source is the local address of the session (zero: the kernel picks).
	Source   netip.Addr
	Password string        // TCP MD5 key; never shown
	HoldTime time.Duration // 0: 90 s
	// ConnectRetry is how often a session that is down is tried again
	// (0: 5 s).
	ConnectRetry time.Duration
	MultihopTTL  uint8 // 0: a directly connected peer
	BFD          *BFD  // nil: no BFD
}

// BFD is the bidirectional forwarding detection of a BGP session: the peer
// is declared down after Multiplier intervals without a packet.
type BFD struct {
	MinTx, MinRx time.Duration
	Multiplier   uint8
}

// Announce is how a service's virtual address is announced over BGP.
type Announce struct {
	// Prefixes are announced instead of the service's address (/32, /128);
	// a fwmark service, which has no address, must name them.
	Prefixes    []netip.Prefix
	Communities []string // "65000:100"
	MED         *uint32
	LocalPref   *uint32
	NextHop     netip.Addr // zero: the session's local address
}

// Equal reports whether a and o announce the same way.
func (a *Announce) Equal(o *Announce) bool {
	if a == nil || o == nil {
		return a == o
	}
	eqPtr := func(x, y *uint32) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return slices.Equal(a.Prefixes, o.Prefixes) && slices.Equal(a.Communities, o.Communities) &&
		eqPtr(a.MED, o.MED) && eqPtr(a.LocalPref, o.LocalPref) && a.NextHop == o.NextHop
}

// AnnouncedPrefixes are the prefixes service s announces (none when it
// does not announce).
func (s *ServiceConfig) AnnouncedPrefixes() []netip.Prefix {
	if s.Announce == nil {
		return nil
	}
	if len(s.Announce.Prefixes) > 0 || s.IsFWMark() {
		return s.Announce.Prefixes
	}
	return []netip.Prefix{netip.PrefixFrom(s.Addr, s.Addr.BitLen())}
}

// Sysctl is a kernel setting the configuration asks for, such as
// net.ipv4.vs.sloppy_tcp = 1 (in the daemon's network namespace).
type Sysctl struct {
	Key   string // dotted, under net.
	Value string
	Where string // source position, or why it is implied ("ecmp = true at web.lua:3:3")
}

// MHTableSize is the size of the kernel's default mh lookup table
// (CONFIG_IP_VS_MH_TAB_INDEX 12: 4,093 slots).
const MHTableSize = 4093

// MHEvenServers is about how many real servers the default mh table
// spreads evenly (within about 1%: 100 slots each).
const MHEvenServers = 40
