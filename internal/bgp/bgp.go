// Package bgp is the BGP speaker of luvs: it embeds GoBGP as a library to
// announce virtual addresses (usually /32 and /128 prefixes, IPv4 and IPv6
// unicast) to routers, so that several directors can share them by ECMP and
// a director stops attracting traffic by withdrawing them.
//
// The speaker only originates routes: it rejects every route its peers send
// (so it never re-advertises one router's routes to another), installs
// nothing in the kernel and keeps no GoBGP types in its API.
package bgp

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// Config is the configuration of a Speaker.
type Config struct {
	ASN      uint32     // local AS number, not 0
	RouterID netip.Addr // BGP identifier: an IPv4 address, not 0.0.0.0

	// ListenPort is the TCP port the speaker accepts sessions on, on all
	// addresses: 0 is 179, -1 does not listen (sessions are only
	// connected out).
	ListenPort int32

	Peers []Peer // no two with the same address

	// GoBGPLog is the least level of GoBGP's own messages that reach the
	// logger (with "gobgp: " before them); nil is slog.LevelWarn. It is
	// read when GoBGP starts (Start, or an Update that restarts it).
	GoBGPLog slog.Leveler
}

// Peer is a BGP neighbour. Both IPv4 and IPv6 unicast are enabled on every
// session, whatever the family of its address.
type Peer struct {
	Address netip.Addr // the peer's address, without zone
	ASN     uint32     // the peer's AS number: iBGP when equal to Config.ASN

	// LocalAddress is the source address of the sessions connected out;
	// zero lets the kernel choose. Same family as Address.
	LocalAddress netip.Addr

	Port     uint16 // the peer's TCP port; 0 is 179
	Password string // TCP MD5 signature key (RFC 2385), at most 80 bytes; never logged

	// HoldTime is the proposed hold time, in whole seconds, 3 s or more;
	// 0 is GoBGP's default, 90 s. Keepalives are sent every third of it.
	HoldTime time.Duration

	// ConnectRetry is the wait between connection attempts, and after a
	// reset (BFD down) before the next, in whole seconds; 0 is GoBGP's
	// defaults, 120 s and 30 s. GoBGP waits 2 s at least.
	ConnectRetry time.Duration

	// MultihopTTL, for an eBGP peer that is not directly connected, is the
	// TTL of the session's packets (2 to 255); 0 means directly connected
	// (TTL 1).
	MultihopTTL uint8

	BFD BFD // BFD (RFC 5880, single hop) for the session; off by default
}

// BFD configures a single-hop BFD session (RFC 5880, 5881, asynchronous
// mode, no authentication) that resets the BGP session when it goes down
// (GoBGP then keeps the session idle for 30 s, and reconnects whether BFD
// is up or not). The peer must run BFD too. GoBGP listens for BFD on UDP
// port 3784 of all addresses while any peer uses it.
type BFD struct {
	Enabled    bool          // BFD on for this peer
	MinTx      time.Duration // desired minimum transmit interval; 0 is 1 s
	MinRx      time.Duration // required minimum receive interval; 0 is 1 s
	Multiplier uint8         // detection time multiplier; 0 is 3
}

// Attrs are the path attributes of an announced prefix.
type Attrs struct {
	// NextHop is the next hop announced, of the prefix's family; zero is
	// the local address of each session ("next-hop self"). Over a session
	// of the other family, that is not of the prefix's family (for an
	// IPv6 prefix over IPv4, the IPv4-mapped address ::ffff:a.b.c.d, which
	// few routers accept): give the next hop then.
	NextHop netip.Addr

	// Communities are RFC 1997 communities, "ASN:value" with both parts
	// 0 to 65535, or well-known names such as "no-export".
	Communities []string

	MED       *uint32 // MULTI_EXIT_DISC; nil: none
	LocalPref *uint32 // LOCAL_PREF, sent to iBGP peers only; nil: 100 for iBGP
}

// PeerState is a peer as the running speaker sees it.
type PeerState struct {
	Address netip.Addr
	ASN     uint32
	// State is the session's FSM state: "idle", "connect", "active",
	// "opensent", "openconfirm" or "established".
	State      string
	Since      time.Time // when the session entered State; zero if unknown
	Reason     string    // why the session last left established, if it did
	Received   int       // prefixes received from the peer (all rejected)
	Advertised int       // prefixes advertised to the peer
	// BFD is the BFD session's state, "down", "init", "up" or
	// "admin-down"; "" when BFD is off.
	BFD string
}

// Established reports whether the session is established.
func (p PeerState) Established() bool { return p.State == "established" }

// maxMD5Key is TCP_MD5SIG_MAXKEYLEN.
const maxMD5Key = 80

// validate checks cfg and returns it normalized (4in6 addresses unmapped).
func (cfg Config) validate() (Config, error) {
	if cfg.ASN == 0 {
		return cfg, errors.New("ASN 0 is not valid")
	}
	if !cfg.RouterID.IsValid() {
		return cfg, errors.New("no router id")
	}
	cfg.RouterID = cfg.RouterID.Unmap()
	if !cfg.RouterID.Is4() || cfg.RouterID.IsUnspecified() {
		return cfg, fmt.Errorf("router id %s: must be a non-zero IPv4 address", cfg.RouterID)
	}
	if cfg.ListenPort < -1 || cfg.ListenPort > math.MaxUint16 {
		return cfg, fmt.Errorf("listen port %d: must be -1 (no listening), 0 (179) or a port", cfg.ListenPort)
	}
	peers := make([]Peer, len(cfg.Peers))
	seen := make(map[netip.Addr]bool, len(cfg.Peers))
	for i, p := range cfg.Peers {
		p, err := p.validate(cfg.ASN)
		if err != nil {
			return cfg, err
		}
		if seen[p.Address] {
			return cfg, fmt.Errorf("peer %s: configured twice", p.Address)
		}
		seen[p.Address] = true
		peers[i] = p
	}
	cfg.Peers = peers
	return cfg, nil
}

func (p Peer) validate(localASN uint32) (Peer, error) {
	if !p.Address.IsValid() {
		return p, errors.New("peer without an address")
	}
	p.Address = p.Address.Unmap()
	fail := func(format string, a ...any) (Peer, error) {
		return p, fmt.Errorf("peer %s: %s", p.Address, fmt.Sprintf(format, a...))
	}
	switch {
	case p.Address.Zone() != "":
		return fail("zoned addresses are not supported")
	case p.Address.IsUnspecified() || p.Address.IsMulticast():
		return fail("not a unicast address")
	case p.ASN == 0:
		return fail("ASN 0 is not valid")
	}
	if p.LocalAddress.IsValid() {
		p.LocalAddress = p.LocalAddress.Unmap()
		if p.LocalAddress.Is4() != p.Address.Is4() || p.LocalAddress.Zone() != "" ||
			p.LocalAddress.IsUnspecified() || p.LocalAddress.IsMulticast() {
			return fail("local address %s: must be a unicast address of the same family, without zone", p.LocalAddress)
		}
	}
	if len(p.Password) > maxMD5Key {
		return fail("password longer than %d bytes", maxMD5Key)
	}
	if err := wholeSeconds(p.HoldTime, 3*time.Second, math.MaxUint16*time.Second); err != nil {
		return fail("hold time %v: %v", p.HoldTime, err)
	}
	if err := wholeSeconds(p.ConnectRetry, time.Second, math.MaxUint16*time.Second); err != nil {
		return fail("connect retry %v: %v", p.ConnectRetry, err)
	}
	if p.MultihopTTL != 0 {
		if p.ASN == localASN {
			return fail("multihop TTL is for eBGP peers (iBGP sessions are not limited to one hop)")
		}
		if p.MultihopTTL < 2 {
			return fail("multihop TTL 1: 0 means directly connected, a multihop TTL is 2 or more")
		}
	}
	if b := p.BFD; b.Enabled {
		for _, d := range []struct {
			name string
			v    time.Duration
		}{{"transmit", b.MinTx}, {"receive", b.MinRx}} {
			if d.v != 0 && (d.v < time.Millisecond || d.v > time.Duration(math.MaxUint32)*time.Microsecond) {
				return fail("BFD %s interval %v: must be 1ms to %v", d.name, d.v, time.Duration(math.MaxUint32)*time.Microsecond)
			}
		}
	} else if b != (BFD{}) {
		return fail("BFD intervals or multiplier set but BFD not enabled")
	}
	return p, nil
}

// wholeSeconds checks that d is 0 or whole seconds in [lo, hi].
func wholeSeconds(d, lo, hi time.Duration) error {
	switch {
	case d == 0:
		return nil
	case d%time.Second != 0:
		return errors.New("must be whole seconds")
	case d < lo || d > hi:
		return fmt.Errorf("must be 0 (default) or %v to %v", lo, hi)
	}
	return nil
}

// checkPrefix checks that p can be announced.
func checkPrefix(p netip.Prefix) error {
	switch {
	case !p.IsValid():
		return errors.New("not a valid prefix")
	case p.Addr().Is4In6():
		return errors.New("IPv4-mapped IPv6 prefixes are not supported: give the IPv4 prefix")
	case p.Masked() != p:
		return fmt.Errorf("host bits set (the prefix is %s)", p.Masked())
	}
	return nil
}

// attrs are validated Attrs, comparable.
type attrs struct {
	nextHop     netip.Addr
	communities string // comma-separated, as parsed
	comms       []uint32
	med         uint32
	hasMED      bool
	localPref   uint32
	hasPref     bool
}

// equal reports whether a and b are the same attributes.
func (a attrs) equal(b attrs) bool {
	return a.nextHop == b.nextHop && slices.Equal(a.comms, b.comms) &&
		a.med == b.med && a.hasMED == b.hasMED && a.localPref == b.localPref && a.hasPref == b.hasPref
}

// parseAttrs validates a for a prefix of p's family.
func parseAttrs(p netip.Prefix, a Attrs) (attrs, error) {
	var r attrs
	if a.NextHop.IsValid() {
		nh := a.NextHop
		if nh.Is4() != p.Addr().Is4() || nh.Zone() != "" || nh.IsUnspecified() || nh.IsMulticast() || nh.Is4In6() {
			return r, fmt.Errorf("next hop %s: must be a unicast address of the prefix's family, without zone", nh)
		}
		r.nextHop = nh
	}
	for _, c := range a.Communities {
		v, err := parseCommunity(c)
		if err != nil {
			return r, err
		}
		r.comms = append(r.comms, v)
	}
	r.communities = strings.Join(a.Communities, ",")
	if a.MED != nil {
		r.med, r.hasMED = *a.MED, true
	}
	if a.LocalPref != nil {
		r.localPref, r.hasPref = *a.LocalPref, true
	}
	return r, nil
}

// parseCommunity parses "65000:100" or a well-known community name.
func parseCommunity(s string) (uint32, error) {
	if v, ok := bgp.WellKnownCommunityValueMap[strings.ToLower(s)]; ok {
		return uint32(v), nil
	}
	hi, lo, ok := strings.Cut(s, ":")
	if ok {
		h, err1 := strconv.ParseUint(hi, 10, 16)
		l, err2 := strconv.ParseUint(lo, 10, 16)
		if err1 == nil && err2 == nil {
			return uint32(h)<<16 | uint32(l), nil
		}
	}
	return 0, fmt.Errorf("community %q: want ASN:value (each 0-65535) or a well-known name such as no-export", s)
}

// logArgs are a as slog key-value pairs.
func (a attrs) logArgs() []any {
	var kv []any
	if a.nextHop.IsValid() {
		kv = append(kv, "next_hop", a.nextHop.String())
	} else {
		kv = append(kv, "next_hop", "self")
	}
	if a.communities != "" {
		kv = append(kv, "communities", a.communities)
	}
	if a.hasMED {
		kv = append(kv, "med", a.med)
	}
	if a.hasPref {
		kv = append(kv, "local_pref", a.localPref)
	}
	return kv
}
