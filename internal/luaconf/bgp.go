package luaconf

import (
	"math"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luvs-lb/luvs/internal/luasrc"
	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/value"
)

// Keys of the BGP declarations.
var (
	bgpKeys      = []string{"asn", "router_id", "listen_port", "shutdown_delay", "peers"}
	bgpPeerKeys  = []string{"address", "asn", "port", "source", "password", "hold_time", "connect_retry", "multihop", "bfd"}
	bfdKeys      = []string{"min_tx", "min_rx", "multiplier"}
	announceKeys = []string{"prefixes", "communities", "med", "local_pref", "next_hop"}
)

// sysctlKey is a dotted sysctl name under net. (what a network namespace
// holds), such as net.ipv4.vs.sloppy_tcp.
var sysctlKey = regexp.MustCompile(`^net(\.[a-z0-9_-]+)+$`)

// nested makes a declaration of a table written inside another one (a BGP
// peer, its bfd, an announce) whose '{' is at pos: its keys and values are
// reported where they are written, or at pos for a table built elsewhere.
func (l *loader) nested(kind string, t *lua.LTable, pos Pos) *decl {
	d := &decl{kind: kind, opts: t, pos: pos}
	if f := l.files[pos.File]; f != nil {
		if site, ok := luasrc.TableAt(f.tokens, luasrc.Pos{Line: pos.Line, Col: pos.Col}); ok {
			d.site = site
		}
	}
	return d
}

// resolveBGP reads bgp { ... } into cfg.
func (l *loader) resolveBGP(cfg *model.Config) {
	d := l.bgp
	if d == nil {
		return
	}
	l.checkKeys(d, bgpKeys, false)
	c := chain{d}
	b := &model.BGP{ShutdownDelay: model.DefaultShutdownDelay, Where: d.pos.String()}
	n0 := len(l.problems)
	if v, _, ok := l.integer(c, "asn", 1, math.MaxUint32); ok {
		b.ASN = uint32(v)
	} else if d.opts.RawGetString("asn") == lua.LNil {
		l.problem(d.tablePos(), "bgp needs asn = 65001 (this director's AS number)")
	}
	if v, vd, ok := l.str(c, "router_id"); ok {
		if a, err := netip.ParseAddr(v); err != nil || !a.Is4() || a.IsUnspecified() {
			l.problem(vd.valPos("router_id"), "router_id must be an IPv4 address such as \"198.18.10.1\", got %q", v)
		} else {
			b.RouterID = a
		}
	} else if d.opts.RawGetString("router_id") == lua.LNil {
		l.problem(d.tablePos(), "bgp needs router_id = \"198.18.10.1\" (an IPv4 address of this director)")
	}
	if v, _, ok := l.integer(c, "listen_port", 1, 65535); ok {
		b.ListenPort = uint16(v)
	}
	if v, _, ok := l.duration(c, "shutdown_delay", 0); ok {
		b.ShutdownDelay = v
	}
	if v, pd := c.get("peers"); pd != nil {
		t, ok := v.(*lua.LTable)
		if !ok || t.Len() == 0 {
			l.problem(pd.valPos("peers"), "peers must be a list of peers: peers = { { address = \"198.18.10.254\", asn = 65000 } }, got %s", typeName(v))
		} else {
			l.checkList(t, pd.valPos("peers"), "peers")
			items := l.tableItems(pd.valPos("peers"))
			seen := map[netip.Addr]Pos{}
			for i := 1; i <= t.Len(); i++ {
				pos := pd.valPos("peers")
				if i-1 < len(items) {
					pos = items[i-1]
				}
				pt, ok := t.RawGetInt(i).(*lua.LTable)
				if !ok {
					l.problem(pos, "peers[%d] must be a table { address = ..., asn = ... }, got %s", i, typeName(t.RawGetInt(i)))
					continue
				}
				p, ok := l.resolvePeer(l.nested("bgp peer", pt, pos))
				if first, dup := seen[p.Address]; dup && p.Address.IsValid() {
					l.problem(pos, "duplicate bgp peer %s (first at %s)", p.Address, first)
					continue
				}
				seen[p.Address] = pos
				if ok {
					b.Peers = append(b.Peers, p)
				}
			}
		}
	} else {
		l.problem(d.tablePos(), "bgp needs peers = { { address = \"198.18.10.254\", asn = 65000 } } (the routers to announce to)")
	}
	if l.noErrorsSince(n0) {
		cfg.BGP = b
	}
}

func (l *loader) resolvePeer(d *decl) (model.BGPPeer, bool) {
	l.checkKeys(d, bgpPeerKeys, false)
	n0 := len(l.problems)
	c := chain{d}
	var p model.BGPPeer
	addr := func(key string) (netip.Addr, bool) {
		v, vd, ok := l.str(c, key)
		if !ok {
			return netip.Addr{}, false
		}
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" || a.IsUnspecified() {
			l.problem(vd.valPos(key), "bgp peer %s must be an IP address, got %q", key, v)
			return netip.Addr{}, false
		}
		return a.Unmap(), true
	}
	if a, ok := addr("address"); ok {
		p.Address = a
	} else if d.opts.RawGetString("address") == lua.LNil {
		l.problem(d.pos, "a bgp peer needs address = \"198.18.10.254\"")
	}
	if v, _, ok := l.integer(c, "asn", 1, math.MaxUint32); ok {
		p.ASN = uint32(v)
	} else if d.opts.RawGetString("asn") == lua.LNil {
		l.problem(d.pos, "a bgp peer needs asn = 65000 (the router's AS number)")
	}
	if v, _, ok := l.integer(c, "port", 1, 65535); ok {
		p.Port = uint16(v)
	}
	if a, ok := addr("source"); ok {
		if p.Address.IsValid() && a.Is4() != p.Address.Is4() {
			l.problem(d.pos, "bgp peer source %s and address %s are of different families", a, p.Address)
		}
		p.Source = a
	}
	if v, vd, ok := l.str(c, "password"); ok {
		if v == "" || len(v) > 80 {
			l.problem(vd.valPos("password"), "bgp peer password must be 1 to 80 bytes (a TCP MD5 key)")
		}
		p.Password = v
	}
	wholeSeconds := func(key string, lo, hi time.Duration) (time.Duration, bool) {
		v, vd, ok := l.duration(c, key, lo)
		if !ok {
			return 0, false
		}
		if v%time.Second != 0 || v > hi {
			l.problem(vd.valPos(key), "%s must be whole seconds from %s to %s, got %s", key, lo, hi, v)
			return 0, false
		}
		return v, true
	}
	if v, ok := wholeSeconds("hold_time", 3*time.Second, 65535*time.Second); ok {
		p.HoldTime = v
	}
	if v, ok := wholeSeconds("connect_retry", time.Second, time.Hour); ok {
		p.ConnectRetry = v
	}
	if v, _, ok := l.integer(c, "multihop", 1, 255); ok {
		p.MultihopTTL = uint8(v)
	}
	if v, bd := c.get("bfd"); bd != nil {
		switch v := v.(type) {
		case lua.LBool:
			if v {
				p.BFD = &model.BFD{MinTx: 300 * time.Millisecond, MinRx: 300 * time.Millisecond, Multiplier: 3}
			}
		case *lua.LTable:
			p.BFD = l.resolveBFD(l.nested("bfd", v, bd.valPos("bfd")))
		default:
			l.problem(bd.valPos("bfd"), "bfd must be true or { min_tx = \"300ms\", min_rx = \"300ms\", multiplier = 3 }, got %s", typeName(v))
		}
		if p.BFD != nil && p.MultihopTTL > 0 {
			l.problem(bd.valPos("bfd"), "bfd is single hop: not with multihop")
		}
	}
	return p, l.noErrorsSince(n0)
}

func (l *loader) resolveBFD(d *decl) *model.BFD {
	l.checkKeys(d, bfdKeys, false)
	c := chain{d}
	b := &model.BFD{MinTx: 300 * time.Millisecond, MinRx: 300 * time.Millisecond, Multiplier: 3}
	for _, f := range []struct {
		key string
		to  *time.Duration
	}{{"min_tx", &b.MinTx}, {"min_rx", &b.MinRx}} {
		if v, vd, ok := l.duration(c, f.key, 10*time.Millisecond); ok {
			if v > time.Minute {
				l.problem(vd.valPos(f.key), "bfd %s %s is longer than a minute", f.key, v)
			}
			*f.to = v
		}
	}
	if v, _, ok := l.integer(c, "multiplier", 1, 255); ok {
		b.Multiplier = uint8(v)
	}
	return b
}

// announce reads a service's announce: true, or a table of how.
func (l *loader) announce(c chain, sc *model.ServiceConfig) *model.Announce {
	v, d := c.get("announce")
	switch v := v.(type) {
	case *lua.LNilType:
		return nil
	case lua.LBool:
		if !v {
			return nil
		}
		if sc.IsFWMark() {
			l.problem(d.valPos("announce"), "a fwmark service has no address to announce: announce = { prefixes = { \"198.18.0.0/24\" } }")
		}
		return &model.Announce{}
	case *lua.LTable:
		a := &model.Announce{}
		ad := l.nested("announce", v, d.valPos("announce"))
		l.checkKeys(ad, announceKeys, false)
		ac := chain{ad}
		if list, _, ok := decode(l, ac, "prefixes", func(v any) ([]string, error) { return value.Strings("prefixes", v) }); ok {
			for _, s := range list {
				p, err := netip.ParsePrefix(s)
				switch {
				case err != nil:
					l.problem(ad.valPos("prefixes"), "announce prefixes: %q is not a prefix such as \"198.18.0.0/24\"", s)
				case p.Masked() != p:
					l.problem(ad.valPos("prefixes"), "announce prefixes: %q has host bits set (did you mean %q?)", s, p.Masked())
				case !sc.IsFWMark() && !p.Contains(sc.Addr):
					l.problem(ad.valPos("prefixes"), "announce prefixes: %s does not hold the service's address %s", p, sc.Addr)
				default:
					if !slices.Contains(a.Prefixes, p) {
						a.Prefixes = append(a.Prefixes, p)
					}
				}
			}
		}
		if sc.IsFWMark() && len(a.Prefixes) == 0 {
			l.problem(ad.pos, "a fwmark service has no address to announce: give prefixes = { \"198.18.0.0/24\" }")
		}
		if list, _, ok := decode(l, ac, "communities", func(v any) ([]string, error) { return value.Strings("communities", v) }); ok {
			for _, s := range list {
				if !validCommunity(s) {
					l.problem(ad.valPos("communities"), "announce communities: %q is not a community ASN:VALUE such as \"65000:100\"", s)
					continue
				}
				a.Communities = append(a.Communities, s)
			}
		}
		for _, f := range []struct {
			key string
			to  **uint32
		}{{"med", &a.MED}, {"local_pref", &a.LocalPref}} {
			if n, _, ok := l.integer(ac, f.key, 0, math.MaxUint32); ok {
				u := uint32(n)
				*f.to = &u
			}
		}
		if s, vd, ok := l.str(ac, "next_hop"); ok {
			if nh, err := netip.ParseAddr(s); err != nil || nh.Zone() != "" {
				l.problem(vd.valPos("next_hop"), "announce next_hop must be an IP address, got %q", s)
			} else {
				a.NextHop = nh
			}
		}
		return a
	}
	l.problem(d.valPos("announce"), "announce must be true or a table { communities = ..., med = ... }, got %s", typeName(v))
	return nil
}

func validCommunity(s string) bool {
	hi, lo, ok := strings.Cut(s, ":")
	if !ok {
		return false
	}
	_, e1 := strconv.ParseUint(hi, 10, 16)
	_, e2 := strconv.ParseUint(lo, 10, 16)
	return e1 == nil && e2 == nil
}

// ecmp applies ecmp = true to a service: the mh scheduler with mh-fallback
// and mh-port (a scheduler set to another is an error).
func (l *loader) ecmp(c chain, sc *model.ServiceConfig) {
	v, d, ok := l.boolean(c, "ecmp")
	if !ok || !v {
		return
	}
	sc.ECMP = true
	if s, sd := c.get("scheduler"); sd != nil && strings.ToLower(s.String()) != "mh" {
		l.problem(sd.valPos("scheduler"), "ecmp = true (at %s) needs the mh scheduler, so that every director picks the same real server for a flow; drop scheduler = %q", d.valPos("ecmp"), s.String())
	}
	sc.Scheduler = "mh"
	for _, f := range []string{"mh-fallback", "mh-port"} {
		bit, _ := model.ParseSchedFlag("mh", f)
		sc.SchedFlags |= bit
	}
}

// checkECMP checks the real servers of an ecmp service: direct routing or
// tunnels (a NAT reply would have to pass through the director that holds
// the connection), and few enough for mh's table.
func (l *loader) checkECMP(vd *decl, c chain, sc *model.ServiceConfig) {
	if !sc.ECMP {
		return
	}
	_, d := c.get("ecmp")
	for _, rs := range sc.Servers {
		if rs.Forward == model.Masquerade {
			l.problem(d.valPos("ecmp"), "ecmp = true needs forward = \"dr\" or \"tunnel\": real server %s is NAT, whose replies must pass through the director holding the connection, which ECMP does not promise", rs.DestKey)
			break
		}
	}
	if sc.Sorry != nil && sc.Sorry.Forward == model.Masquerade {
		l.problem(d.valPos("ecmp"), "ecmp = true needs forward = \"dr\" or \"tunnel\": the sorry server %s is NAT", sc.Sorry.DestKey)
	}
	// The kernel builds the mh table in the order of its list of servers:
	// the same order on every director.
	slices.SortFunc(sc.Servers, func(a, b model.ServerConfig) int { return a.DestKey.Compare(b.DestKey) })
	if n := len(sc.Servers); n > model.MHEvenServers {
		l.warn(vd.pos, "virtual_server %q has %d real servers: the kernel's mh table (%d slots) spreads more than about %d unevenly", vd.arg, n, model.MHTableSize, model.MHEvenServers)
	}
}

// resolveSysctls reads sysctl { ... } and adds the settings ecmp services
// need (net.ipv4.vs.sloppy_tcp, sloppy_sctp) unless the file sets them.
func (l *loader) resolveSysctls(cfg *model.Config) {
	set := map[string]int{}
	for _, d := range l.sysctls {
		keys := make([]string, 0)
		d.opts.ForEach(func(k, _ lua.LValue) {
			if s, ok := k.(lua.LString); ok {
				keys = append(keys, string(s))
			} else {
				l.problem(d.tablePos(), "sysctl keys are names such as [\"net.ipv4.vs.sloppy_tcp\"], got %s", typeName(k))
			}
		})
		slices.Sort(keys)
		for _, k := range keys {
			pos := d.keyPos(k)
			if !sysctlKey.MatchString(k) || strings.Contains(k, "..") {
				l.problem(pos, "sysctl %q: luvs sets network settings only, named like net.ipv4.vs.sloppy_tcp", k)
				continue
			}
			var val string
			switch v := d.opts.RawGetString(k).(type) {
			case lua.LNumber:
				n, err := value.Int(k, float64(v), math.MinInt32, math.MaxInt32)
				if err != nil {
					l.problem(d.valPos(k), "sysctl %v", err)
					continue
				}
				val = strconv.Itoa(n)
			case lua.LBool:
				val = map[bool]string{true: "1", false: "0"}[bool(v)]
			case lua.LString:
				val = string(v)
				if val == "" || strings.ContainsAny(val, "\n\x00") {
					l.problem(d.valPos(k), "sysctl %s: the value must be one line, not empty", k)
					continue
				}
			default:
				l.problem(d.valPos(k), "sysctl %s must be a number, a boolean or a string, got %s", k, typeName(v))
				continue
			}
			if i, dup := set[k]; dup {
				l.problem(pos, "sysctl %s already set at %s", k, cfg.Sysctls[i].Where)
				continue
			}
			set[k] = len(cfg.Sysctls)
			cfg.Sysctls = append(cfg.Sysctls, model.Sysctl{Key: k, Value: val, Where: pos.String()})
		}
	}
	for i := range cfg.Services {
		sc := &cfg.Services[i]
		if !sc.ECMP {
			continue
		}
		key := "net.ipv4.vs.sloppy_tcp"
		switch {
		case sc.Protocol == model.SCTP:
			key = "net.ipv4.vs.sloppy_sctp"
		case sc.Protocol == model.UDP:
			continue // no connection state to pick up
		}
		vd := l.declared[sc.ServiceKey]
		if j, ok := set[key]; ok {
			if cfg.Sysctls[j].Value != "1" && vd != nil {
				l.warn(vd.pos, "virtual_server %q has ecmp = true but %s is %s (at %s): a director that takes over a flow drops it", vd.arg, key, cfg.Sysctls[j].Value, cfg.Sysctls[j].Where)
			}
			continue
		}
		why := "ecmp = true"
		if vd != nil {
			why += " at " + vd.pos.String()
		}
		set[key] = len(cfg.Sysctls)
		cfg.Sysctls = append(cfg.Sysctls, model.Sysctl{Key: key, Value: "1", Where: why})
	}
}

// checkAnnounces reports services that announce without a bgp
// declaration, and warns of services announcing one prefix differently
// (the first one's attributes are used).
func (l *loader) checkAnnounces(cfg *model.Config) {
	first := map[netip.Prefix]*model.ServiceConfig{}
	for i := range cfg.Services {
		sc := &cfg.Services[i]
		for _, p := range sc.AnnouncedPrefixes() {
			f := first[p]
			if f == nil {
				first[p] = sc
				continue
			}
			a, b := *f.Announce, *sc.Announce
			a.Prefixes, b.Prefixes = nil, nil
			if vd := l.declared[sc.ServiceKey]; !a.Equal(&b) && vd != nil {
				l.warn(vd.pos, "virtual_server %q announces %s with other attributes than %s does; the first one's are announced", vd.arg, p, f.ServiceKey)
			}
		}
	}
	if cfg.BGP != nil || l.bgp != nil {
		return
	}
	for _, sc := range cfg.Services {
		if sc.Announce != nil {
			vd := l.declared[sc.ServiceKey]
			_, d := chain{vd, l.defaults}.get("announce")
			l.problem(d.valPos("announce"), "announce needs a bgp { asn = ..., router_id = ..., peers = { ... } } declaration")
			return
		}
	}
}
