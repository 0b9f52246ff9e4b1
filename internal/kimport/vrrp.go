package kimport

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/luvs-lb/luvs/internal/keepalived"
)

// vrrpDropped are vrrp_instance keys that change nothing luvs does: they
// are dropped with a warning.
var vrrpDropped = map[string]string{
	"state":                      "luvs elects by priority alone",
	"authentication":             "VRRPv3 has no authentication",
	"garp_master_delay":          "luvs sends one gratuitous ARP on becoming master",
	"garp_master_repeat":         "luvs sends one gratuitous ARP on becoming master",
	"garp_master_refresh":        "luvs sends one gratuitous ARP on becoming master",
	"garp_master_refresh_repeat": "luvs sends one gratuitous ARP on becoming master",
	"garp_lower_prio_delay":      "luvs sends one gratuitous ARP on becoming master",
	"garp_lower_prio_repeat":     "luvs sends one gratuitous ARP on becoming master",
	"dont_track_primary":         "luvs tracks only the interfaces listed",
	"debug":                      "not a setting of the virtual router",
	"smtp_alert":                 "luvs sends no mail",
}

// vrrpOut is a translated vrrp_instance.
type vrrpOut struct {
	block *keepalived.RawBlock
	lua   string
}

// translateVRRP turns the vrrp_instance blocks into vrrp declarations
// (Options.VRRP), reporting every key it cannot express.
func (c *conv) translateVRRP() {
	version := 2 // keepalived's default
	for _, b := range c.cfg.Skipped {
		if b.Keyword == "global_defs" {
			for _, n := range b.Node.Children {
				if n.Key == "vrrp_version" && len(n.Args) == 1 {
					version, _ = strconv.Atoi(n.Args[0])
				}
			}
		}
	}
	for _, b := range c.cfg.Skipped {
		switch b.Keyword {
		case "vrrp_instance":
			if lua, ok := c.vrrpInstance(b, version); ok {
				c.vrrps = append(c.vrrps, vrrpOut{b, lua})
			}
		case "vrrp_sync_group", "vrrp_script":
			c.errorf(b.Pos, "%s is not supported by luvs yet (luvs import keepalived --vrrp)", b.Keyword)
		}
	}
}

// translated reports whether b became a vrrp declaration.
func (c *conv) translated(b *keepalived.RawBlock) bool {
	for _, v := range c.vrrps {
		if v.block == b {
			return true
		}
	}
	return false
}

func (c *conv) vrrpInstance(b *keepalived.RawBlock, version int) (string, bool) {
	n0 := len(c.errs)
	if version != 3 {
		c.warnf(b.Pos, "vrrp_instance %s: keepalived speaks VRRPv%d here, luvs VRRPv3 only: set vrrp_version 3 in global_defs on the keepalived directors of the pair", b.Name, version)
	}
	var parts []string
	add := func(format string, args ...any) { parts = append(parts, fmt.Sprintf(format, args...)) }
	one := func(n *keepalived.Node) (string, bool) {
		if len(n.Args) != 1 {
			c.errorf(n.Pos, "%s needs one value", n.Key)
			return "", false
		}
		return n.Args[0], true
	}
	integer := func(n *keepalived.Node, lo, hi int) (int, bool) {
		s, ok := one(n)
		if !ok {
			return 0, false
		}
		v, err := strconv.Atoi(s)
		if err != nil || v < lo || v > hi {
			c.errorf(n.Pos, "%s %q: want %d..%d", n.Key, s, lo, hi)
			return 0, false
		}
		return v, true
	}
	var syncIface string
	if sd := c.cfg.Global.SyncDaemon; sd != nil && sd.Instance == b.Name {
		syncIface = sd.Interface
	}
	var track []string
	trackWeight := 0
	for _, n := range b.Node.Children {
		switch n.Key {
		case "interface":
			if s, ok := one(n); ok {
				add("interface = %s", luaString(s))
			}
		case "virtual_router_id":
			if v, ok := integer(n, 1, 255); ok {
				add("virtual_router_id = %d", v)
			}
		case "priority":
			if v, ok := integer(n, 1, 255); ok {
				add("priority = %d", v)
			}
		case "advert_int":
			if s, ok := one(n); ok {
				f, err := strconv.ParseFloat(s, 64)
				d := time.Duration(f * float64(time.Second)).Round(10 * time.Millisecond)
				if err != nil || d < 10*time.Millisecond || d > 40950*time.Millisecond {
					c.errorf(n.Pos, "advert_int %q: want 0.01 to 40.95 seconds", s)
				} else {
					add("advert_interval = %s", luaDuration(d))
				}
			}
		case "virtual_ipaddress":
			var addrs []string
			for _, a := range n.Children {
				if len(a.Args) > 0 && !(len(a.Args) == 2 && a.Args[0] == "dev") {
					c.errorf(a.Pos, "virtual_ipaddress %s %s: options other than the interface are not supported by luvs yet", a.Key, strings.Join(a.Args, " "))
					continue
				}
				s := a.Key
				if _, err := netip.ParsePrefix(s); err != nil {
					if _, err := netip.ParseAddr(s); err != nil {
						c.errorf(a.Pos, "virtual_ipaddress %q is not an address", s)
						continue
					}
				}
				addrs = append(addrs, luaString(s))
			}
			add("virtual_addresses = { %s }", strings.Join(addrs, ", "))
		case "nopreempt":
			add("preempt = false")
		case "preempt_delay":
			if v, ok := integer(n, 0, 1000); ok {
				add("preempt_delay = %s", luaDuration(time.Duration(v)*time.Second))
			}
		case "accept":
			add("accept = true")
		case "no_accept":
			add("accept = false")
		case "unicast_peer":
			var peers []string
			for _, p := range n.Children {
				if _, err := netip.ParseAddr(p.Key); err != nil || len(p.Args) > 0 {
					c.errorf(p.Pos, "unicast_peer %s: only plain addresses are supported by luvs", strings.Join(append([]string{p.Key}, p.Args...), " "))
					continue
				}
				peers = append(peers, luaString(p.Key))
			}
			add("unicast_peers = { %s }", strings.Join(peers, ", "))
		case "track_interface":
			for _, t := range n.Children {
				w := 0
				switch {
				case len(t.Args) == 0:
				case len(t.Args) == 2 && t.Args[0] == "weight":
					v, err := strconv.Atoi(t.Args[1])
					if err != nil || v >= 0 || v < -254 {
						c.errorf(t.Pos, "track_interface %s weight %s: luvs lowers the priority by a negative weight (-254..-1) only", t.Key, t.Args[1])
						continue
					}
					w = v
				default:
					c.errorf(t.Pos, "track_interface %s %s: not understood", t.Key, strings.Join(t.Args, " "))
					continue
				}
				if len(track) > 0 && w != trackWeight {
					c.errorf(t.Pos, "track_interface %s: luvs takes one weight for all the tracked interfaces of an instance", t.Key)
					continue
				}
				trackWeight = w
				track = append(track, luaString(t.Key))
			}
		case "notify_master", "notify_backup", "notify_fault":
			switch {
			case len(n.Args) == 0:
				c.errorf(n.Pos, "%s needs a script", n.Key)
			case len(n.Args) > 1:
				c.errorf(n.Pos, "%s with a user is not supported by luvs yet (scripts { user } sets who runs the programs)", n.Key)
			default:
				argv, err := SplitCommand(n.Args[0])
				if err != nil {
					c.errorf(n.Pos, "%s: %v", n.Key, err)
				} else {
					add("%s = %s", n.Key, luaArgv(argv))
				}
			}
		default:
			if why, ok := vrrpDropped[n.Key]; ok {
				c.warnf(n.Pos, "vrrp_instance %s: %s dropped: %s", b.Name, n.Key, why)
				continue
			}
			c.errorf(n.Pos, "vrrp_instance %s: %s is not supported by luvs yet", b.Name, n.Key)
		}
	}
	if len(track) > 0 {
		t := "interfaces = { " + strings.Join(track, ", ") + " }"
		if trackWeight != 0 {
			t += fmt.Sprintf(", weight = %d", trackWeight)
		}
		add("track = { %s }", t)
	}
	if syncIface != "" {
		sd := c.cfg.Global.SyncDaemon
		s := "interface = " + luaString(syncIface)
		if sd.ID.Set {
			s += fmt.Sprintf(", id = %d", sd.ID.Value)
		} else if v, ok := c.vrid(b.Name); ok {
			s += fmt.Sprintf(", id = %d", v)
		}
		add("sync_daemon = { %s }", s)
	}
	if len(c.errs) > n0 {
		return "", false
	}
	var w strings.Builder
	for _, cm := range b.Node.Comments {
		w.WriteString("--" + strings.TrimLeft(cm.Text, "#!") + "\n")
	}
	fmt.Fprintf(&w, "vrrp %s {\n", luaString(b.Name))
	for _, p := range parts {
		w.WriteString("  " + p + ",\n")
	}
	w.WriteString("}\n")
	return w.String(), true
}
