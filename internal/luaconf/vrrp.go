package luaconf

import (
	"net/netip"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/value"
)

// Keys of a vrrp declaration and of its track and sync_daemon tables.
var (
	vrrpKeys = []string{"interface", "virtual_router_id", "priority", "advert_interval", "virtual_addresses",
		"preempt", "preempt_delay", "accept", "unicast_peers", "track", "sync_daemon",
		"notify_master", "notify_backup", "notify_fault"}
	trackKeys    = []string{"services", "interfaces", "weight"}
	vrrpSyncKeys = []string{"interface", "id", "maxlen", "group", "port", "ttl"}
)

// vrrpFn is `vrrp "VI_1" { ... }`: a VRRPv3 virtual router.
func (l *loader) vrrpFn(L *lua.LState) int {
	if L.Get(1).Type() != lua.LTString {
		L.RaiseError(`vrrp needs a name: vrrp "VI_1" { interface = "eth0", virtual_router_id = 51, ... } (got %s)`, L.Get(1).Type())
	}
	name := L.CheckString(1)
	L.Push(L.NewFunction(func(L *lua.LState) int {
		opts, ok := L.Get(1).(*lua.LTable)
		if !ok {
			L.RaiseError(`vrrp %q needs a table of options: vrrp %q { ... } (got %s)`, name, name, L.Get(1).Type())
		}
		if l.loaded {
			L.RaiseError("vrrp can only be declared while the configuration loads, not in a health check")
		}
		l.vrrps = append(l.vrrps, l.newDecl("vrrp", "vrrp", name, opts))
		return 0
	}))
	return 1
}

// validIfName reports whether s can name a network interface (IFNAMSIZ).
func validIfName(s string) bool { return s != "" && len(s) <= 15 && !strings.ContainsAny(s, "/ ") }

// interfaceName reads a network interface name.
func (l *loader) interfaceName(c chain, key, what string) (string, bool) {
	v, d, ok := l.line(c, key)
	if !ok {
		return "", false
	}
	if !validIfName(v) {
		l.problem(d.valPos(key), "%s %q is not a network interface name", what, v)
		return "", false
	}
	return v, true
}

// resolveVRRP reads the vrrp declarations into cfg (after the services,
// which they may track).
func (l *loader) resolveVRRP(cfg *model.Config) {
	type ifVRID struct {
		ifname string
		family model.Family
		vrid   uint8
	}
	seenName := map[string]*decl{}
	seenVRID := map[ifVRID]*decl{}
	var syncer *decl // the vrrp whose sync daemon follows it
	for _, d := range l.vrrps {
		l.checkKeys(d, vrrpKeys, false)
		if first := seenName[d.arg]; first != nil {
			l.problem(d.pos, "vrrp %q already declared at %s", d.arg, first.pos)
			continue
		}
		seenName[d.arg] = d
		v, ok := l.resolveOneVRRP(d)
		if !ok {
			continue
		}
		k := ifVRID{v.Interface, v.Family(), v.VRID}
		if first := seenVRID[k]; first != nil {
			l.problem(d.valPos("virtual_router_id"), "vrrp %q: virtual_router_id %d on %s is already vrrp %q's (at %s)", d.arg, v.VRID, v.Interface, first.arg, first.pos)
			continue
		}
		seenVRID[k] = d
		if v.Sync != nil {
			if syncer != nil {
				l.problem(d.valPos("sync_daemon"), "vrrp %q: a sync_daemon already follows vrrp %q (at %s); the kernel runs one master and one backup", d.arg, syncer.arg, syncer.pos)
				continue
			}
			if len(cfg.SyncDaemons) > 0 {
				l.problem(d.valPos("sync_daemon"), "vrrp %q has a sync_daemon, and sync_daemon { } declares one too; keep the one that follows the role", d.arg)
				continue
			}
			if v.PreemptDelay == 0 && v.Preempt && d.opts.RawGetString("preempt_delay") == lua.LNil {
				// A node coming back waits as backup, receiving the
				// connections, before it takes the addresses back.
				v.PreemptDelay = DefaultSyncPreemptDelay
			}
			syncer = d
		}
		cfg.VRRP = append(cfg.VRRP, v)
	}
}

// DefaultSyncPreemptDelay is the preempt_delay of a vrrp with a
// sync_daemon that does not set one: time for a node coming back to
// receive the connection table as backup before it preempts.
const DefaultSyncPreemptDelay = 10 * time.Second

func (l *loader) resolveOneVRRP(d *decl) (model.VRRP, bool) {
	n0 := len(l.problems)
	c := chain{d}
	v := model.VRRP{Name: d.arg, Priority: 100, AdvertInterval: time.Second, Preempt: true, Where: d.pos.String()}
	if s, ok := l.interfaceName(c, "interface", "interface"); ok {
		v.Interface = s
	} else if d.opts.RawGetString("interface") == lua.LNil {
		l.problem(d.tablePos(), `vrrp %q needs interface = "eth0" (where the advertisements go)`, d.arg)
	}
	if n, _, ok := l.integer(c, "virtual_router_id", 1, 255); ok {
		v.VRID = uint8(n)
	} else if d.opts.RawGetString("virtual_router_id") == lua.LNil {
		l.problem(d.tablePos(), "vrrp %q needs virtual_router_id = 1..255 (the same on both directors)", d.arg)
	}
	if n, _, ok := l.integer(c, "priority", 1, 255); ok {
		v.Priority = uint8(n)
	}
	if dur, dd, ok := l.duration(c, "advert_interval", 10*time.Millisecond); ok {
		if dur%(10*time.Millisecond) != 0 || dur > 4095*10*time.Millisecond {
			l.problem(dd.valPos("advert_interval"), "advert_interval %s: VRRPv3 counts in hundredths of a second, up to 40.95s", dur)
		} else {
			v.AdvertInterval = dur
		}
	}
	if list, ad, ok := decode(l, c, "virtual_addresses", func(x any) ([]string, error) { return value.Strings("virtual_addresses", x) }); ok {
		for _, s := range list {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				a, aerr := netip.ParseAddr(s)
				if aerr != nil || a.Zone() != "" {
					l.problem(ad.valPos("virtual_addresses"), "virtual_addresses: %q is not an address such as \"198.18.0.10\" or \"198.18.0.10/24\"", s)
					continue
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			if len(v.Addresses) > 0 && p.Addr().Is4() != v.Addresses[0].Addr().Is4() {
				l.problem(ad.valPos("virtual_addresses"), "virtual_addresses mixes IPv4 and IPv6 (%s, %s): VRRPv3 runs one virtual router per family; declare two", v.Addresses[0].Addr(), p.Addr())
				continue
			}
			v.Addresses = append(v.Addresses, p)
		}
		if len(list) == 0 {
			l.problem(ad.valPos("virtual_addresses"), "virtual_addresses is empty")
		}
	} else if d.opts.RawGetString("virtual_addresses") == lua.LNil {
		l.problem(d.tablePos(), `vrrp %q needs virtual_addresses = { "198.18.0.10" }`, d.arg)
	}
	if b, _, ok := l.boolean(c, "preempt"); ok {
		v.Preempt = b
	}
	if dur, _, ok := l.duration(c, "preempt_delay", 0); ok {
		v.PreemptDelay = dur
	}
	if b, _, ok := l.boolean(c, "accept"); ok {
		v.Accept = b
	}
	if list, pd, ok := decode(l, c, "unicast_peers", func(x any) ([]string, error) { return value.Strings("unicast_peers", x) }); ok {
		for _, s := range list {
			a, err := netip.ParseAddr(s)
			if err != nil || a.Zone() != "" {
				l.problem(pd.valPos("unicast_peers"), "unicast_peers: %q is not an IP address", s)
				continue
			}
			if len(v.Addresses) > 0 && a.Is4() != v.Addresses[0].Addr().Is4() {
				l.problem(pd.valPos("unicast_peers"), "unicast_peers: %s is not of the virtual addresses' family", a)
				continue
			}
			v.Peers = append(v.Peers, a)
		}
	}
	v.NotifyMaster = l.hook(c, "notify_master")
	v.NotifyBackup = l.hook(c, "notify_backup")
	v.NotifyFault = l.hook(c, "notify_fault")
	if t, td := c.get("track"); td != nil {
		if tt, ok := t.(*lua.LTable); ok {
			l.resolveTrack(l.nested("track", tt, td.valPos("track")), &v)
		} else {
			l.problem(td.valPos("track"), "track must be a table { services = { ... }, interfaces = { ... }, weight = -50 }, got %s", typeName(t))
		}
	}
	if t, sd := c.get("sync_daemon"); sd != nil {
		if st, ok := t.(*lua.LTable); ok {
			nd := l.nested("sync_daemon", st, sd.valPos("sync_daemon"))
			if st.RawGetString("state") != lua.LNil {
				l.problem(nd.keyPos("state"), "the sync_daemon of vrrp %q follows its role (master while master, backup otherwise): drop state", d.arg)
				st.RawSetString("state", lua.LNil)
			}
			l.checkKeys(nd, vrrpSyncKeys, false)
			st.RawSetString("state", lua.LString("master")) // the role decides; read as master
			if s, ok := l.resolveSyncDaemon(nd); ok {
				v.Sync = &s
			}
			st.RawSetString("state", lua.LNil)
		} else {
			l.problem(sd.valPos("sync_daemon"), "sync_daemon must be a table { interface = \"eth1\", id = 51 }, got %s", typeName(t))
		}
	}
	return v, l.noErrorsSince(n0)
}

func (l *loader) resolveTrack(d *decl, v *model.VRRP) {
	l.checkKeys(d, trackKeys, false)
	c := chain{d}
	if list, sd, ok := decode(l, c, "services", func(x any) ([]string, error) { return value.Strings("services", x) }); ok {
		for _, s := range list {
			k, err := model.ParseServiceKey(s)
			switch {
			case err != nil:
				l.problem(sd.valPos("services"), "track services: %q: %v", s, err)
			case l.declared[k] == nil:
				l.problem(sd.valPos("services"), "track services: %q is not a virtual_server of this configuration", s)
			default:
				v.TrackServices = append(v.TrackServices, k)
			}
		}
	}
	if list, id, ok := decode(l, c, "interfaces", func(x any) ([]string, error) { return value.Strings("interfaces", x) }); ok {
		for _, s := range list {
			if !validIfName(s) {
				l.problem(id.valPos("interfaces"), "track interfaces: %q is not a network interface name", s)
				continue
			}
			v.TrackInterfaces = append(v.TrackInterfaces, s)
		}
	}
	if n, _, ok := l.integer(c, "weight", -254, -1); ok {
		v.TrackWeight = n
	}
}
