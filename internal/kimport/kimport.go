// Package kimport turns a keepalived configuration (as read by package
// keepalived) into a luvs Lua configuration that behaves like it: the
// keepalived defaults that differ from luvs's are written out (delay_loop
// 60 s, connect_timeout 5 s, the per-checker retry counts, rise 1), a real
// server without inhibit_on_failure gets on_fail = "remove" (keepalived
// deletes a failed server, luvs drains by default), and settings shared by
// all the servers of a service, or all services, are written once, in the
// virtual_server or in defaults { }.
//
// What luvs cannot do yet is an error "file:line: KEYWORD is not supported
// by luvs yet" (then nothing should be written); what can be dropped without
// changing which servers take traffic is a warning. The VRRP and other
// global blocks are listed as notes: they stay with keepalived.
package kimport

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/luvs-lb/luvs/internal/keepalived"
	"github.com/luvs-lb/luvs/internal/model"
)

// Result is an imported configuration.
type Result struct {
	// Lua is the luvs configuration.
	Lua string
	// Warnings are keepalived settings dropped because they do not change
	// which servers take traffic (warmup, smtp_alert, ...), or mapped
	// approximately, each at its line.
	Warnings keepalived.Errors
	// Skipped are the blocks left to keepalived (VRRP, global_defs, ...),
	// one note each.
	Skipped keepalived.Errors
	// Translated are the blocks of keepalived's VRRP part that became
	// vrrp declarations (Options.VRRP): KeepalivedPart leaves them out.
	Translated []*keepalived.RawBlock
}

// Import maps cfg to a luvs configuration. The error, if any, is a
// keepalived.Errors listing every construct luvs cannot express; the
// Result is nil then.
func Import(cfg *keepalived.Config) (*Result, error) { return ImportWith(cfg, Options{}) }

// Options choose what the import translates.
type Options struct {
	// VRRP translates the vrrp_instance blocks into vrrp declarations (and
	// an lvs_sync_daemon that follows one into its sync_daemon) instead of
	// leaving them to keepalived. luvs speaks VRRPv3 only.
	VRRP bool
}

// ImportWith is Import with options.
func ImportWith(cfg *keepalived.Config, opt Options) (*Result, error) {
	c := &conv{cfg: cfg, opts: opt, used: map[keepalived.Pos]bool{}}
	lua := c.run()
	if len(c.errs) > 0 {
		sortErrs(c.errs)
		return nil, c.errs
	}
	sortErrs(c.warns)
	res := &Result{Lua: lua, Warnings: c.warns, Skipped: c.skipped}
	for _, v := range c.vrrps {
		res.Translated = append(res.Translated, v.block)
	}
	return res, nil
}

func sortErrs(es keepalived.Errors) {
	slices.SortStableFunc(es, func(a, b *keepalived.Error) int {
		if a.Pos.File != b.Pos.File {
			return strings.Compare(a.Pos.File, b.Pos.File)
		}
		return a.Pos.Line - b.Pos.Line
	})
}

type conv struct {
	cfg                  *keepalived.Config
	opts                 Options
	vrrps                []vrrpOut
	errs, warns, skipped keepalived.Errors
	used                 map[keepalived.Pos]bool // comments written
	groupFuncs           map[string]int
	pools                int
}

func (c *conv) unsupported(p keepalived.Pos, kw string, why string) {
	msg := kw + " is not supported by luvs yet"
	if why != "" {
		msg += " (" + why + ")"
	}
	c.errs = append(c.errs, &keepalived.Error{Pos: p, Msg: msg})
}

func (c *conv) errorf(p keepalived.Pos, format string, args ...any) {
	c.errs = append(c.errs, &keepalived.Error{Pos: p, Msg: fmt.Sprintf(format, args...)})
}

func (c *conv) warnf(p keepalived.Pos, format string, args ...any) {
	c.warns = append(c.warns, &keepalived.Error{Pos: p, Msg: "warning: " + fmt.Sprintf(format, args...)})
}

// dropped warns that a keyword is left out.
func (c *conv) dropped(p keepalived.Pos, kw, why string) {
	c.warnf(p, "%s dropped: %s", kw, why)
}

// ---- the tree of inheritable settings ----

// node is a level of the luvs inheritance (defaults, virtual server, real
// server, check) with the inheritable settings it sets, as Lua text
// ("interval = \"6s\"") by key.
type node struct {
	keys     map[string]string
	children []*node
}

func newNode() *node { return &node{keys: map[string]string{}} }

// Inheritable keys, in the order they are written.
var (
	timingKeys = []string{"interval", "timeout", "rise", "fall", "retry_delay"}
	serverKeys = []string{"forward", "on_fail"}
	keyOrder   = []string{"forward", "on_fail", "interval", "timeout", "rise", "fall", "retry_delay", "check"}
)

// hoist moves each of keys to n when all of n's children that care about
// it (have it, or have a descendant with it) agree, and deletes it from
// them. It reports the keys on which the children disagree.
func hoist(n *node, keys []string, mixed map[*node]map[string]bool) {
	for _, k := range keys {
		val, have, bad := "", false, false
		for _, ch := range n.children {
			if mixed[ch][k] {
				bad = true
				break
			}
			v, ok := ch.keys[k]
			if !ok {
				continue
			}
			if have && v != val {
				bad = true
				break
			}
			val, have = v, true
		}
		if bad {
			if mixed[n] == nil {
				mixed[n] = map[string]bool{}
			}
			mixed[n][k] = true
			continue
		}
		if !have {
			continue
		}
		n.keys[k] = val
		for _, ch := range n.children {
			delete(ch.keys, k)
		}
	}
}

// ---- output model ----

type checkOut struct {
	comments []string
	ctor     string
	own      []string // "path = \"/\"", in order
	n        *node
}

type serverOut struct {
	comments []string
	addr     string
	ap       netip.AddrPort
	own      []string
	checks   []*checkOut
	n        *node
}

type serviceOut struct {
	pos      keepalived.Pos
	comments []string
	addrs    []addrSpec // one for an address or fwmark, the group entries for a group
	group    string
	own      []string
	servers  []*serverOut
	pool     string // the local holding the last servers, built by a loop
	sorry    *sorryOut
	n        *node
}

type sorryOut struct {
	addr    string
	forward string // "" to inherit
}

// addrSpec is one address (lit) or a loop over the last part of a range:
// format with %d (IPv4) or %x (IPv6) from lo to hi.
type addrSpec struct {
	lit         string
	format      string
	lo, hi      int
	hexadecimal bool
}

func (c *conv) run() string {
	cfg := c.cfg
	var services []*serviceOut
	for _, vs := range cfg.VirtualServers {
		if s := c.service(vs); s != nil {
			services = append(services, s)
		}
	}
	c.global()
	if c.opts.VRRP {
		c.translateVRRP()
	}
	for _, b := range cfg.Skipped {
		if !c.translated(b) {
			c.skip(b)
		}
	}

	// Hoist: check timing into servers, checks into services, then all
	// services' shared settings into defaults.
	mixed := map[*node]map[string]bool{}
	def := newNode()
	for _, s := range services {
		for _, rs := range s.servers {
			hoist(rs.n, timingKeys, mixed)
			rs.n.keys["check"] = checkText(rs.checks)
		}
		hoist(s.n, append(append(slices.Clone(serverKeys), timingKeys...), "check"), mixed)
		def.children = append(def.children, s.n)
	}
	hoist(def, append(slices.Clone(serverKeys), timingKeys...), mixed)
	for _, s := range services {
		if s.n.keys["check"] == "check = false" {
			delete(s.n.keys, "check")
		}
		for _, rs := range s.servers {
			if rs.n.keys["check"] == "check = false" {
				delete(rs.n.keys, "check")
			}
		}
	}

	var w strings.Builder
	w.WriteString("-- luvs configuration imported from " + strings.Join(cfg.Files, ", ") + " by `luvs import keepalived`.\n")
	w.WriteString("-- keepalived's defaults are written out where luvs's differ (delay_loop 60s,\n")
	w.WriteString("-- connect_timeout 5s, retry → fall, rise 1); on_fail = \"remove\" is keepalived's\n")
	w.WriteString("-- behaviour without inhibit_on_failure.\n")
	if top := c.topComments(); len(top) > 0 {
		w.WriteString("\n")
		for _, l := range top {
			w.WriteString(l + "\n")
		}
	}
	c.writeGlobal(&w)
	if len(def.keys) > 0 {
		w.WriteString("\ndefaults {\n")
		writeKeys(&w, "  ", def.keys)
		w.WriteString("}\n")
	}
	for _, s := range services {
		w.WriteString("\n")
		c.writeService(&w, s, def)
	}
	for _, v := range c.vrrps {
		w.WriteString("\n" + v.lua)
	}
	return w.String()
}

// checkText is the Lua of a server's checks.
func checkText(checks []*checkOut) string {
	switch len(checks) {
	case 0:
		return "check = false"
	case 1:
		return "check = " + checks[0].text()
	}
	parts := make([]string, len(checks))
	for i, ch := range checks {
		parts[i] = ch.text()
	}
	return "checks = { " + strings.Join(parts, ", ") + " }"
}

func (ch *checkOut) text() string {
	items := slices.Clone(ch.own)
	for _, k := range keyOrder {
		if v, ok := ch.n.keys[k]; ok {
			items = append(items, v)
		}
	}
	if len(items) == 0 {
		return ch.ctor + " {}"
	}
	return ch.ctor + " { " + strings.Join(items, ", ") + " }"
}

func writeKeys(w *strings.Builder, indent string, keys map[string]string) {
	for _, k := range keyOrder {
		if v, ok := keys[k]; ok {
			w.WriteString(indent + v + ",\n")
		}
	}
}

func (c *conv) writeService(w *strings.Builder, s *serviceOut, def *node) {
	for _, l := range s.comments {
		w.WriteString(l + "\n")
	}
	s.pool = c.pool(w, s)
	indent := "  "
	addr := ""
	if s.group != "" && (len(s.addrs) != 1 || s.addrs[0].lit == "") {
		if c.groupFuncs == nil {
			c.groupFuncs = map[string]int{}
		}
		fn := ident("group_", s.group)
		c.groupFuncs[fn]++
		if n := c.groupFuncs[fn]; n > 1 {
			fn = fmt.Sprintf("%s_%d", fn, n)
		}
		fmt.Fprintf(w, "-- virtual_server group %s: one virtual server per address of the group\n", s.group)
		fmt.Fprintf(w, "local function %s(addr)\n", fn)
		w.WriteString("  virtual_server(addr) {\n")
		c.writeServiceBody(w, s, def, "    ")
		w.WriteString("  }\n")
		w.WriteString("end\n")
		for _, a := range s.addrs {
			if a.lit != "" {
				fmt.Fprintf(w, "%s(%s)\n", fn, luaString(a.lit))
				continue
			}
			fmt.Fprintf(w, "for i = %s, %s do %s((%s):format(i)) end\n", num(a.lo, a.hexadecimal), num(a.hi, a.hexadecimal), fn, luaString(a.format))
		}
		return
	}
	addr = s.addrs[0].lit
	if s.group != "" {
		fmt.Fprintf(w, "-- virtual_server group %s\n", s.group)
	}
	fmt.Fprintf(w, "virtual_server %s {\n", luaString(addr))
	c.writeServiceBody(w, s, def, indent)
	w.WriteString("}\n")
}

func num(v int, hex bool) string {
	if hex {
		return fmt.Sprintf("0x%x", v)
	}
	return fmt.Sprint(v)
}

func (c *conv) writeServiceBody(w *strings.Builder, s *serviceOut, def *node, indent string) {
	for _, o := range s.own {
		w.WriteString(indent + o + ",\n")
	}
	if s.sorry != nil {
		fwd := s.n.keys["forward"]
		if fwd == "" {
			fwd = def.keys["forward"]
		}
		if s.sorry.forward == "" || s.sorry.forward == fwd {
			w.WriteString(indent + "sorry_server = " + luaString(s.sorry.addr) + ",\n")
		} else {
			w.WriteString(indent + "sorry_server = real_server " + luaString(s.sorry.addr) + " { " + s.sorry.forward + " },\n")
		}
	}
	writeKeys(w, indent, s.n.keys)
	for _, rs := range s.servers {
		for _, l := range rs.comments {
			w.WriteString(indent + l + "\n")
		}
		items := rs.items()
		line := indent + "real_server " + luaString(rs.addr) + " { " + strings.Join(items, ", ") + " },"
		if len(items) == 0 {
			line = indent + "real_server " + luaString(rs.addr) + " {},"
		}
		if len(line) <= 100 {
			w.WriteString(line + "\n")
			continue
		}
		w.WriteString(indent + "real_server " + luaString(rs.addr) + " {\n")
		for _, it := range items {
			w.WriteString(indent + "  " + it + ",\n")
		}
		w.WriteString(indent + "},\n")
	}
	if s.pool != "" {
		w.WriteString(indent + "servers = " + s.pool + ", -- after the servers above\n")
	}
}

func (rs *serverOut) items() []string {
	items := slices.Clone(rs.own)
	for _, k := range keyOrder {
		if v, ok := rs.n.keys[k]; ok {
			items = append(items, v)
		}
	}
	return items
}

// poolFrom is the number of alike real servers, at consecutive IPv4
// addresses, from which the last servers of a virtual server are written as
// a loop.
const poolFrom = 4

// pool writes the last real servers of s as a loop into a local list when
// there are poolFrom or more alike ones at consecutive addresses (list
// entries come before servers = ..., so the order is kept), removes them
// from s.servers and returns the list's name.
func (c *conv) pool(w *strings.Builder, s *serviceOut) string {
	n := len(s.servers)
	if n < poolFrom {
		return ""
	}
	last := s.servers[n-1]
	body := strings.Join(last.items(), ", ")
	i := n - 1
	for i > 0 {
		p, q := s.servers[i-1], s.servers[i]
		if len(q.comments) > 0 || len(p.comments) > 0 || !p.ap.Addr().Is4() || p.ap.Port() != q.ap.Port() ||
			p.ap.Addr().Next() != q.ap.Addr() || strings.Join(p.items(), ", ") != body {
			break
		}
		if a, b := p.ap.Addr().As4(), q.ap.Addr().As4(); [3]byte(a[:3]) != [3]byte(b[:3]) {
			break
		}
		i--
	}
	if n-i < poolFrom || len(last.comments) > 0 {
		return ""
	}
	first := s.servers[i].ap
	a := first.Addr().As4()
	c.pools++
	name := fmt.Sprintf("pool%d", c.pools)
	format := fmt.Sprintf("%d.%d.%d.%%d", a[0], a[1], a[2])
	if first.Port() != 0 {
		format += fmt.Sprintf(":%d", first.Port())
	}
	fmt.Fprintf(w, "local %s = {}\n", name)
	fmt.Fprintf(w, "for i = %d, %d do\n", a[3], int(a[3])+n-i-1)
	if body == "" {
		fmt.Fprintf(w, "  %s[#%s + 1] = real_server((%s):format(i)) {}\n", name, name, luaString(format))
	} else {
		fmt.Fprintf(w, "  %s[#%s + 1] = real_server((%s):format(i)) { %s }\n", name, name, luaString(format), body)
	}
	w.WriteString("end\n")
	s.servers = s.servers[:i]
	return name
}

// ---- comments ----

func (c *conv) comments(cs []keepalived.Comment) []string {
	var out []string
	for _, cm := range cs {
		if c.used[cm.Pos] {
			continue
		}
		c.used[cm.Pos] = true
		out = append(out, commentLine(cm.Text))
	}
	return out
}

// commentsIn takes the comments not yet written between two lines of a file.
func (c *conv) commentsIn(from, to keepalived.Pos) []string {
	var out []string
	for _, cm := range c.cfg.Comments {
		if cm.Pos.File != from.File || cm.Pos.Line < from.Line || cm.Pos.Line > to.Line || c.used[cm.Pos] {
			continue
		}
		c.used[cm.Pos] = true
		out = append(out, commentLine(cm.Text))
	}
	return out
}

// topComments are the comments outside every block, in order.
func (c *conv) topComments() []string {
	inside := func(p keepalived.Pos) bool {
		for _, b := range c.cfg.Skipped {
			if b.Pos.File == p.File && p.Line >= b.Pos.Line && p.Line <= b.End.Line {
				return true
			}
			for _, cm := range b.Node.Comments {
				if cm.Pos == p {
					return true
				}
			}
		}
		return false
	}
	var out []string
	for _, cm := range c.cfg.Comments {
		if c.used[cm.Pos] || inside(cm.Pos) {
			continue
		}
		c.used[cm.Pos] = true
		out = append(out, commentLine(cm.Text))
	}
	return out
}

// ---- virtual servers ----

func (c *conv) service(vs *keepalived.VirtualServer) *serviceOut {
	s := &serviceOut{pos: vs.Pos, comments: c.comments(vs.Comments), n: newNode()}
	proto := model.TCP
	if vs.FWMark == 0 {
		if !vs.Protocol.Set {
			c.errorf(vs.Pos, "virtual_server has no protocol: keepalived 2.2.7 picks one itself; write protocol TCP (or UDP, SCTP)")
		} else {
			proto = vs.Protocol.Value
		}
	}
	switch {
	case vs.FWMark != 0:
		s.addrs = []addrSpec{{lit: fwmarkAddr(vs.FWMark, vs.IPFamily.Set && vs.IPFamily.Value == model.IPv6)}}
	case vs.Group != "":
		s.group = vs.Group
		g := c.cfg.Group(vs.Group)
		if g == nil {
			c.errorf(vs.Pos, "virtual_server_group %s is not defined", vs.Group)
			return nil
		}
		s.comments = append(append(c.comments(g.Comments), c.commentsIn(g.Pos, g.End)...), s.comments...)
		for _, e := range g.Entries {
			s.addrs = append(s.addrs, c.groupEntry(e, proto, vs.Protocol.Set)...)
		}
		if len(s.addrs) == 0 {
			c.errorf(g.Pos, "virtual_server_group %s is empty", g.Name)
			return nil
		}
	default:
		s.addrs = []addrSpec{{lit: model.ProtocolPrefix(proto) + hostPort(vs.Addr.Addr(), vs.Addr.Port(), true)}}
	}

	own := func(format string, args ...any) { s.own = append(s.own, fmt.Sprintf(format, args...)) }
	if vs.SNMPName.Set {
		own("name = %s", luaString(vs.SNMPName.Value))
	}
	if vs.Scheduler.Set {
		own("scheduler = %s", luaString(vs.Scheduler.Value))
	}
	if vs.SchedFlags.Set && vs.SchedFlags.Value != 0 {
		sched := vs.Scheduler.Value
		if !vs.Scheduler.Set {
			sched = keepalived.DefaultScheduler
		}
		own("sched_flags = %s", luaString(model.SchedFlagNames(sched, vs.SchedFlags.Value)))
	}
	if vs.Persistence.Set && vs.Persistence.Value > 0 {
		own("persistence = %s", luaDuration(time.Duration(vs.Persistence.Value)*time.Second))
		if vs.Granularity.Set {
			own("netmask = %d", vs.Granularity.Value)
		}
		if vs.PersistenceEngine.Set {
			own("pe = %s", luaString(vs.PersistenceEngine.Value))
		}
	} else {
		if vs.Granularity.Set {
			c.dropped(vs.Granularity.Pos, "persistence_granularity", "the service is not persistent")
		}
		if vs.PersistenceEngine.Set {
			c.dropped(vs.PersistenceEngine.Pos, "persistence_engine", "the service is not persistent")
		}
	}
	if vs.OnePacket.Set && vs.OnePacket.Value {
		own("one_packet = true")
	}
	scripts := vs.QuorumUp != nil || vs.QuorumDown != nil
	if vs.Quorum.Set {
		own("quorum = %d", vs.Quorum.Value)
	} else if scripts && !vs.SorryServer.Set {
		own("quorum = %d", keepalived.DefaultQuorum) // keepalived's default; luvs's is 0 without a sorry server
	}
	if vs.Hysteresis.Set {
		own("hysteresis = %d", vs.Hysteresis.Value)
	}
	if a := c.script(vs.QuorumUp, "quorum_up"); a != "" {
		own("quorum_up = %s", a)
	}
	if a := c.script(vs.QuorumDown, "quorum_down"); a != "" {
		own("quorum_down = %s", a)
	}
	if vs.SorryServer.Set {
		ap := vs.SorryServer.Value
		s.sorry = &sorryOut{addr: hostPort(ap.Addr(), ap.Port(), ap.Port() != 0)}
		m := keepalived.DefaultMethod
		if vs.Method.Set {
			m = vs.Method.Value
		}
		if vs.SorryServerMethod.Set {
			m = vs.SorryServerMethod.Value
		}
		s.sorry.forward = forwardText(m)
	}
	if vs.SorryServerInhibit.Set && vs.SorryServerInhibit.Value {
		c.dropped(vs.SorryServerInhibit.Pos, "sorry_server_inhibit", "luvs installs the sorry server only while the quorum is lost (keepalived keeps it at weight 0 otherwise)")
	}
	if vs.HASuspend.Set && vs.HASuspend.Value {
		c.dropped(vs.HASuspend.Pos, "ha_suspend", "luvs does not run VRRP, so it always checks")
	}
	if vs.SMTPAlert.Set {
		c.dropped(vs.SMTPAlert.Pos, "smtp_alert", "luvs sends no mail; use notify_up/notify_down")
	}
	anyScripts := scripts
	for _, rs := range vs.RealServers {
		if rs.NotifyUp != nil || rs.NotifyDown != nil {
			anyScripts = true
		}
	}
	if vs.Omega.Set && vs.Omega.Value {
		if anyScripts {
			c.unsupported(vs.Omega.Pos, "omega", "running quorum_down/notify_down when the daemon stops")
		} else {
			c.dropped(vs.Omega.Pos, "omega", "the service has no quorum or notify scripts")
		}
	}

	for _, rs := range vs.RealServers {
		s.servers = append(s.servers, c.server(vs, rs))
		s.n.children = append(s.n.children, s.servers[len(s.servers)-1].n)
	}
	s.comments = append(s.comments, c.commentsIn(vs.Pos, vs.End)...)
	return s
}

func fwmarkAddr(mark uint32, v6 bool) string {
	if v6 {
		return fmt.Sprintf("fwmark6:%d", mark)
	}
	return fmt.Sprintf("fwmark:%d", mark)
}

// maxExpand is the largest range written out one address a line (or
// expanded at all, when it cannot be a loop).
const (
	loopFrom  = 4
	maxExpand = 4096
)

func (c *conv) groupEntry(e keepalived.GroupEntry, proto model.Protocol, protoSet bool) []addrSpec {
	if e.FWMark != 0 {
		return []addrSpec{{lit: fwmarkAddr(e.FWMark, e.Family == model.IPv6)}}
	}
	lit := func(a netip.Addr) string { return model.ProtocolPrefix(proto) + hostPort(a, e.Port, true) }
	if e.First == e.Last {
		return []addrSpec{{lit: lit(e.First)}}
	}
	f, l := e.First.As16(), e.Last.As16()
	// A loop over the last byte (IPv4) or the last 16-bit group (IPv6).
	if e.First.Is4() && [15]byte(f[:15]) == [15]byte(l[:15]) || e.First.Is6() && [14]byte(f[:14]) == [14]byte(l[:14]) {
		var lo, hi int
		var format string
		hex := false
		if e.First.Is4() {
			lo, hi = int(f[15]), int(l[15])
			b := e.First.As4()
			format = fmt.Sprintf("%d.%d.%d.%%d", b[0], b[1], b[2])
			format = model.ProtocolPrefix(proto) + format + fmt.Sprintf(":%d", e.Port)
		} else {
			lo, hi = int(f[14])<<8|int(f[15]), int(l[14])<<8|int(l[15])
			str := e.First.String()
			prefix := str[:strings.LastIndexByte(str, ':')+1]
			format = model.ProtocolPrefix(proto) + "[" + prefix + "%x]" + fmt.Sprintf(":%d", e.Port)
			hex = true
		}
		if hi-lo+1 >= loopFrom {
			return []addrSpec{{format: format, lo: lo, hi: hi, hexadecimal: hex}}
		}
	}
	var out []addrSpec
	for a := e.First; ; a = a.Next() {
		if len(out) >= maxExpand {
			c.errorf(e.Pos, "address range %s-%s has more than %d addresses", e.First, e.Last, maxExpand)
			return nil
		}
		out = append(out, addrSpec{lit: lit(a)})
		if a == e.Last || !a.IsValid() {
			break
		}
	}
	return out
}

// forwardText is a forwarding method as luvs keys.
func forwardText(m keepalived.Method) string {
	switch m.Kind {
	case model.DirectRoute:
		return `forward = "dr"`
	case model.LocalNode:
		return `forward = "local"`
	case model.Tunnel:
	default:
		return `forward = "nat"`
	}
	t := `forward = "tunnel"`
	if m.Tunnel == model.TunnelIPIP {
		return t
	}
	t += fmt.Sprintf(", tunnel_type = %s", luaString(m.Tunnel.String()))
	if m.Tunnel == model.TunnelGUE {
		t += fmt.Sprintf(", tunnel_port = %d", m.TunnelPort)
	}
	switch {
	case m.TunnelFlags&model.TunnelCsum != 0:
		t += `, tunnel_csum = "csum"`
	case m.TunnelFlags&model.TunnelRemCsum != 0:
		t += `, tunnel_csum = "remcsum"`
	}
	return t
}

// script maps a notify/quorum script to an argv list ("" if none).
func (c *conv) script(s *keepalived.Script, kw string) string {
	if s == nil {
		return ""
	}
	if s.User != "" {
		c.unsupported(s.Pos, kw+" with a user", "luvs runs the program as its own user")
	}
	argv, err := SplitCommand(s.Command)
	if err != nil {
		c.errorf(s.Pos, "%s: %v", kw, err)
		return ""
	}
	return luaArgv(argv)
}

// ---- real servers ----

// fwmarkEntries reports whether the virtual server is or has fwmarks
// (marks) and addresses (addrs).
func (c *conv) fwmarkEntries(vs *keepalived.VirtualServer) (marks, addrs bool) {
	if vs.FWMark != 0 {
		return true, false
	}
	if vs.Group == "" {
		return false, true
	}
	if g := c.cfg.Group(vs.Group); g != nil {
		for _, e := range g.Entries {
			if e.FWMark != 0 {
				marks = true
			} else {
				addrs = true
			}
		}
	}
	return marks, addrs
}

func (c *conv) server(vs *keepalived.VirtualServer, rs *keepalived.RealServer) *serverOut {
	o := &serverOut{comments: c.comments(rs.Comments), n: newNode()}
	o.addr = hostPort(rs.Addr.Addr(), rs.Addr.Port(), rs.Addr.Port() != 0)
	switch marks, addrs := c.fwmarkEntries(vs); {
	case rs.Addr.Port() == 0 || !marks:
	case vs.FWMark != 0:
		// keepalived clears the port of a fwmark service's real server
		// ("has port specified - clearing"): NAT keeps the packet's port.
		// It keeps it in a group of fwmark entries only (e2e
		// keepalived fixture 18-fwmark-group-ports).
		o.addr = hostPort(rs.Addr.Addr(), 0, false)
		c.warnf(rs.Pos, "real_server %s: keepalived drops the port of a fwmark service's real server; so does the import (its checks keep port %d)", rs.Addr, rs.Addr.Port())
	case addrs:
		c.warnf(rs.Pos, "real_server %s: keepalived drops the port for the group's fwmark entries and keeps it for its addresses; luvs keeps it for both", rs.Addr)
	}
	o.ap = rs.Addr
	own := func(format string, args ...any) { o.own = append(o.own, fmt.Sprintf(format, args...)) }
	if rs.SNMPName.Set {
		own("name = %s", luaString(rs.SNMPName.Value))
	}
	if rs.Weight.Set {
		if rs.Weight.Value > model.MaxWeight {
			c.errorf(rs.Weight.Pos, "weight %d is above luvs's largest weight %d", rs.Weight.Value, model.MaxWeight)
		} else if rs.Weight.Value != 1 {
			own("weight = %d", rs.Weight.Value)
		}
	}
	if rs.UThreshold.Set && rs.UThreshold.Value > 0 {
		own("upper_threshold = %d", rs.UThreshold.Value)
	}
	if rs.LThreshold.Set && rs.LThreshold.Value > 0 {
		own("lower_threshold = %d", rs.LThreshold.Value)
		// The kernel refuses the real server (ERANGE); keepalived logs it
		// and runs without the server (the e2e test showed it).
		if u := pick(0, rs.UThreshold); rs.LThreshold.Value > u {
			c.errorf(rs.LThreshold.Pos, "lthreshold %d is above uthreshold %d (0: none): the kernel refuses the real server (keepalived runs without it)", rs.LThreshold.Value, u)
		}
	}
	if a := c.script(rs.NotifyUp, "notify_up"); a != "" {
		own("notify_up = %s", a)
	}
	if a := c.script(rs.NotifyDown, "notify_down"); a != "" {
		own("notify_down = %s", a)
	}
	if rs.SMTPAlert.Set {
		c.dropped(rs.SMTPAlert.Pos, "smtp_alert", "luvs sends no mail; use notify_up/notify_down")
	}
	m := keepalived.DefaultMethod
	if vs.Method.Set {
		m = vs.Method.Value
	}
	if rs.Method.Set {
		m = rs.Method.Value
	}
	o.n.keys["forward"] = forwardText(m)
	inhibit := vs.InhibitOnFailure
	if rs.InhibitOnFailure.Set {
		inhibit = rs.InhibitOnFailure
	}
	if !inhibit.Set || !inhibit.Value {
		o.n.keys["on_fail"] = `on_fail = "remove"` // keepalived deletes a failed server
	} else {
		o.n.keys["on_fail"] = `on_fail = "drain"` // inhibit_on_failure: weight 0
	}
	// alpha: the real server's, else the virtual server's, or any of its
	// checkers'; luvs wants it on servers with checks only.
	alpha := pick(false, rs.Alpha, vs.Alpha)
	host := vs.Virtualhost
	if rs.Virtualhost.Set {
		host = rs.Virtualhost
	}
	for _, ch := range rs.Checkers {
		for _, co := range c.checker(vs, rs, ch, host) {
			o.checks = append(o.checks, co)
			o.n.children = append(o.n.children, co.n)
		}
		if b := ch.Base(); b.Alpha.Set && b.Alpha.Value {
			alpha = true
		}
	}
	if alpha && len(o.checks) > 0 {
		own("alpha = true")
	}
	o.comments = append(o.comments, c.commentsIn(rs.Pos, rs.End)...)
	return o
}

// ---- checkers ----

// timing resolves a keepalived timing value: checker, real server, virtual
// server, else def.
func pick[T any](def T, ss ...keepalived.Setting[T]) T {
	for _, s := range ss {
		if s.Set {
			return s.Value
		}
	}
	return def
}

func (c *conv) checker(vs *keepalived.VirtualServer, rs *keepalived.RealServer, ch keepalived.Checker, host keepalived.Setting[string]) []*checkOut {
	b := ch.Base()
	kind := b.Type
	base := &checkOut{comments: c.comments(b.Comments), n: newNode()}
	var own []string
	add := func(format string, args ...any) { own = append(own, fmt.Sprintf(format, args...)) }

	// Timing, with keepalived's per-kind defaults.
	const fileCheckInterval = time.Second
	interval := pick(keepalived.DefaultDelayLoop, b.DelayLoop, rs.DelayLoop, vs.DelayLoop)
	retryDef := keepalived.DefaultRetry
	delayDef := keepalived.DefaultDelayBeforeRetry
	switch kind {
	case "DNS_CHECK":
		retryDef, delayDef = keepalived.DefaultRetryDNS, interval
	case "MISC_CHECK":
		retryDef = keepalived.DefaultRetryMisc
	case "HTTP_GET", "SSL_GET":
		delayDef = keepalived.DefaultDelayBeforeRetryHTTP
	}
	timeout := pick(keepalived.DefaultConnectTimeout, b.ConnectTimeout, rs.ConnectTimeout, vs.ConnectTimeout)
	if m, ok := ch.(*keepalived.MiscCheck); ok {
		timeout = interval // keepalived's misc_timeout default
		if m.Timeout.Set {
			timeout = m.Timeout.Value
		}
	}
	retry := pick(retryDef, b.Retry, rs.Retry, vs.Retry)
	delay := pick(delayDef, b.DelayBeforeRetry, rs.DelayBeforeRetry, vs.DelayBeforeRetry)
	if _, file := ch.(*keepalived.FileCheck); file {
		// keepalived watches a track_file (inotify) and reacts to a change
		// at once; luvs reads the file every interval: at most a second.
		interval = min(interval, fileCheckInterval)
		timeout = min(timeout, interval) // FILE_CHECK has no connect_timeout
	}
	if timeout > interval {
		c.warnf(b.Pos, "%s: timeout %s is longer than delay_loop %s; luvs limits it to the interval", kind, timeout, interval)
		timeout = interval
	}
	if interval < 100*time.Millisecond {
		c.errorf(b.Pos, "%s: delay_loop %s is below luvs's shortest interval 100ms", kind, interval)
	}
	fall := retry + 1
	if fall > 1000 {
		c.errorf(b.Pos, "%s: retry %d is above luvs's largest fall 1000 (retry + 1)", kind, retry)
	}
	base.n.keys["interval"] = "interval = " + luaDuration(interval)
	base.n.keys["timeout"] = "timeout = " + luaDuration(max(timeout, 10*time.Millisecond))
	base.n.keys["rise"] = "rise = 1"
	base.n.keys["fall"] = fmt.Sprintf("fall = %d", fall)
	base.n.keys["retry_delay"] = "retry_delay = " + luaDuration(delay)
	if w := pick(0, b.Warmup, rs.Warmup, vs.Warmup); w > 0 {
		base.n.keys["warmup"] = "warmup = " + luaDuration(w) // inherits as keepalived's
	}

	// Connection options.
	if b.ConnectIP.Set {
		add("addr = %s", luaString(b.ConnectIP.Value.String()))
	}
	if b.ConnectPort.Set {
		add("port = %d", b.ConnectPort.Value)
	} else if vs.FWMark != 0 && rs.Addr.Port() != 0 {
		add("port = %d", rs.Addr.Port()) // see server: the port is dropped
	}
	if b.BindTo.Set {
		add("source = %s", luaString(b.BindTo.Value.String()))
	}
	if b.BindIf.Set {
		c.unsupported(b.BindIf.Pos, "bind_if", "")
	}
	if b.BindPort.Set {
		c.unsupported(b.BindPort.Pos, "bind_port", "")
	}
	if b.FWMark.Set {
		c.unsupported(b.FWMark.Pos, kind+" fwmark", "marking check packets")
	}
	if b.LogAllFailures.Set {
		c.dropped(b.LogAllFailures.Pos, "log_all_failures", "luvs logs every state change")
	}

	mk := func(ctor string, extra ...string) *checkOut {
		n := newNode()
		for k, v := range base.n.keys {
			n.keys[k] = v
		}
		return &checkOut{comments: base.comments, ctor: ctor, own: append(slices.Clone(own), extra...), n: n}
	}
	switch ch := ch.(type) {
	case *keepalived.TCPCheck:
		return []*checkOut{mk("tcp")}
	case *keepalived.PingCheck:
		return []*checkOut{mk("ping")}
	case *keepalived.HTTPCheck:
		return c.httpChecks(ch, host, mk)
	case *keepalived.DNSCheck:
		return []*checkOut{mk("dns",
			"name = "+luaString(pick(keepalived.DefaultDNSName, ch.Name)),
			"type = "+luaString(pick(keepalived.DefaultDNSType, ch.QueryType)))}
	case *keepalived.MiscCheck:
		if !ch.Path.Set {
			c.errorf(b.Pos, "MISC_CHECK has no misc_path")
			return nil
		}
		argv, err := SplitCommand(ch.Path.Value)
		if err != nil {
			c.errorf(ch.Path.Pos, "misc_path: %v", err)
			return nil
		}
		extra := []string{"argv = " + luaArgv(argv)}
		if ch.Dynamic.Set && ch.Dynamic.Value {
			extra = append(extra, "dynamic_weight = true")
		}
		// keepalived runs the script as its user, else as the global
		// script_user (enable_script_security only adds checks of the
		// script's path, which luvs does not do; see global).
		user := ch.User
		if user == nil {
			user = c.cfg.Global.ScriptUser
		}
		if user != nil {
			extra = append(extra, "user = "+luaString(user.User))
			if user.Group != "" {
				extra = append(extra, "group = "+luaString(user.Group))
			}
		}
		return []*checkOut{mk("exec", extra...)}
	case *keepalived.UDPCheck:
		var extra []string
		if ch.Payload.Set && len(ch.Payload.Value) > 0 {
			extra = append(extra, "payload = "+luaBytes(ch.Payload.Value))
		}
		if !ch.RequireReply.Set {
			c.unsupported(b.Pos, "UDP_CHECK without require_reply", "luvs's udp check waits for a reply; keepalived's only watches for an ICMP error")
		} else if len(ch.RequireReply.Value) > 0 {
			if slices.ContainsFunc(ch.XMask, func(x byte) bool { return x != 0 }) {
				c.unsupported(ch.RequireReply.Pos, "require_reply with X nibbles", "")
			}
			extra = append(extra, "expect = "+luaBytes(ch.RequireReply.Value))
			c.warnf(ch.RequireReply.Pos, "require_reply: luvs accepts a reply that contains the data anywhere (keepalived compares it with the start)")
		}
		if ch.MinReplyLength.Set || ch.MaxReplyLength.Set {
			p := ch.MinReplyLength.Pos
			if !ch.MinReplyLength.Set {
				p = ch.MaxReplyLength.Pos
			}
			c.unsupported(p, "min_reply_length/max_reply_length", "")
		}
		return []*checkOut{mk("udp", extra...)}
	case *keepalived.SMTPCheck:
		// keepalived's default HELO name is not luvs's: written out.
		return []*checkOut{mk("smtp", "helo = "+luaString(pick(keepalived.DefaultSMTPHelo, ch.HeloName)))}
	case *keepalived.FileCheck:
		return c.fileCheck(rs, ch, mk)
	case *keepalived.BFDCheck:
		c.unsupported(b.Pos, "BFD_CHECK", "")
	default:
		c.unsupported(b.Pos, kind, "")
	}
	return nil
}

// fileCheck maps FILE_CHECK, which reads the file of a top-level
// track_file block. keepalived (keepalived.conf(5), "Track files"): with
// weight 0 a zero in the file is up and anything else down, luvs's file
// check (reverse turns that round); otherwise the number times the weight
// is added to the server's weight, which luvs's dynamic_weight (the number
// is the weight) matches only for weight 1 (not reverse) on a server of
// weight 0. keepalived 2.2.7's manual documents a `dynamic` option, but
// keepalived does not know the keyword ("Unknown keyword 'dynamic'") and
// goes on without it: the weight alone decides (the e2e fixture
// 20-file-check shows it).
func (c *conv) fileCheck(rs *keepalived.RealServer, ch *keepalived.FileCheck, mk func(string, ...string) *checkOut) []*checkOut {
	var tf *keepalived.Node
	for _, sk := range c.cfg.Skipped {
		if (sk.Keyword == "track_file" || sk.Keyword == "vrrp_track_file") && sk.Name == ch.TrackFile.Value && sk.Node != nil {
			tf = sk.Node
		}
	}
	if tf == nil {
		c.errorf(ch.TrackFile.Pos, "FILE_CHECK: no track_file %s block", ch.TrackFile.Value)
		return nil
	}
	path, weight, reverse := "", 1, false
	var pathPos keepalived.Pos
	for _, k := range tf.Children {
		switch k.Key {
		case "file":
			if len(k.Args) == 1 {
				path, pathPos = k.Args[0], k.Pos
			}
		case "weight":
			if len(k.Args) >= 1 {
				w, err := strconv.Atoi(k.Args[0])
				if err != nil {
					c.errorf(k.Pos, "track_file weight %q is not a number", k.Args[0])
					return nil
				}
				weight = w
				reverse = len(k.Args) == 2 && k.Args[1] == "reverse"
			}
		case "init_file":
			c.unsupported(k.Pos, "track_file init_file", "luvs's file check does not write the file")
		}
	}
	if ch.Weight.Set {
		weight, reverse = ch.Weight.Value, ch.Reverse
	}
	if path == "" {
		c.errorf(tf.Pos, "track_file %s has no file", ch.TrackFile.Value)
		return nil
	}
	if !filepath.IsAbs(path) {
		c.errorf(pathPos, "track_file file %q is not an absolute path", path)
		return nil
	}
	extra := []string{"path = " + luaString(path)}
	if ch.Dynamic.Set {
		c.dropped(ch.Dynamic.Pos, "FILE_CHECK dynamic", "keepalived 2.2.7 does not know it (\"Unknown keyword 'dynamic'\", though its manual documents it): the weight alone decides")
	}
	switch {
	case weight == 0 && !reverse:
	case weight == 1 && !reverse && rs.Weight.Set && rs.Weight.Value == 0:
		extra = append(extra, "dynamic_weight = true")
	default:
		kw := "FILE_CHECK with weight " + strconv.Itoa(weight)
		if reverse {
			kw += " reverse"
		}
		c.unsupported(ch.Pos, kw,
			"keepalived adds the file's number times the weight to the server's weight; luvs's file check is 0 up, other numbers down (weight 0), or the number as the weight (weight 1, on a server of weight 0)")
		return nil
	}
	// keepalived reads a missing file, or one that does not start with a
	// number, as 0; luvs's file check says down. Once per track_file.
	msg := "warning: track_file " + ch.TrackFile.Value + ": keepalived counts a missing file, or one without a number, as 0; luvs's file check counts it as down"
	if !slices.ContainsFunc(c.warns, func(w *keepalived.Error) bool { return w.Pos == pathPos && w.Msg == msg }) {
		c.warns = append(c.warns, &keepalived.Error{Pos: pathPos, Msg: msg})
	}
	co := mk("file", extra...)
	// keepalived reads the file as it changes: no retries.
	co.n.keys["fall"] = "fall = 1"
	delete(co.n.keys, "retry_delay")
	return []*checkOut{co}
}

func (c *conv) httpChecks(ch *keepalived.HTTPCheck, host keepalived.Setting[string], mk func(string, ...string) *checkOut) []*checkOut {
	ctor := "http"
	if ch.SSL {
		ctor = "https"
		if ssl := c.cfg.SSL; ssl != nil && (ssl.Certificate.Set || ssl.Key.Set) {
			c.unsupported(ssl.Pos, "SSL certificate/key", "luvs's https check has no client certificate")
		}
	}
	if ch.Virtualhost.Set {
		host = ch.Virtualhost
	}
	if ch.HTTPProtocol.Set {
		c.dropped(ch.HTTPProtocol.Pos, "http_protocol", "luvs's check speaks HTTP/1.1")
	}
	if ch.FastRecovery.Set && ch.FastRecovery.Value {
		c.dropped(ch.FastRecovery.Pos, "fast_recovery", "luvs brings a server up after one passing check (rise = 1)")
	}
	urls := ch.URLs
	if len(urls) == 0 {
		urls = []*keepalived.URL{{Pos: ch.Pos}}
	}
	var out []*checkOut
	for _, u := range urls {
		var extra []string
		if u.Path.Set {
			extra = append(extra, "path = "+luaString(u.Path.Value))
		}
		h := host
		if u.Virtualhost.Set {
			h = u.Virtualhost
		}
		if h.Set {
			extra = append(extra, "host = "+luaString(h.Value))
			if ch.SSL && ch.EnableSNI.Set && ch.EnableSNI.Value {
				extra = append(extra, "sni = "+luaString(h.Value))
			}
		}
		if len(u.StatusCodes) > 0 {
			var parts []string
			for _, r := range u.StatusCodes {
				if r.Min == r.Max {
					parts = append(parts, fmt.Sprint(r.Min))
				} else {
					parts = append(parts, luaString(fmt.Sprintf("%d-%d", r.Min, r.Max)))
				}
			}
			if len(parts) == 1 {
				extra = append(extra, "status = "+parts[0])
			} else {
				extra = append(extra, "status = { "+strings.Join(parts, ", ")+" }")
			}
		}
		if u.Digest.Set {
			extra = append(extra, "digest = "+luaString(strings.ToLower(u.Digest.Value)))
		}
		if u.Regex.Set {
			re := u.Regex.Value
			flags := ""
			for _, o := range u.RegexOptions {
				switch o {
				case "caseless":
					flags += "i"
				case "multiline":
					flags += "m"
				case "dotall":
					flags += "s"
				default:
					c.unsupported(u.Regex.Pos, "regex_options "+o, "")
				}
			}
			if flags != "" {
				re = "(?" + flags + ")" + re
			}
			if _, err := regexp.Compile(re); err != nil {
				c.unsupported(u.Regex.Pos, "regex "+luaString(u.Regex.Value), "luvs's regular expressions are RE2: "+err.Error())
			}
			extra = append(extra, "body = "+luaString(re))
			if u.RegexNoMatch.Set && u.RegexNoMatch.Value {
				c.unsupported(u.RegexNoMatch.Pos, "regex_no_match", "")
			}
			if u.RegexMinOffset.Set || u.RegexMaxOffset.Set {
				p := u.RegexMinOffset.Pos
				if !u.RegexMinOffset.Set {
					p = u.RegexMaxOffset.Pos
				}
				c.unsupported(p, "regex_min_offset/regex_max_offset", "")
			}
			if u.RegexStack.Set {
				c.dropped(u.RegexStack.Pos, "regex_stack", "luvs's regular expressions (RE2) need no stack")
			}
		}
		co := mk(ctor, extra...)
		co.comments = append(slices.Clone(co.comments), c.comments(u.Comments)...)
		out = append(out, co)
	}
	return out
}

// ---- global_defs and skipped blocks ----

// hasScripts reports whether the LVS part has notify or quorum scripts
// (notify) and MISC_CHECKs (misc).
func (c *conv) hasScripts() (notify, misc bool) {
	for _, vs := range c.cfg.VirtualServers {
		if vs.QuorumUp != nil || vs.QuorumDown != nil {
			notify = true
		}
		for _, rs := range vs.RealServers {
			if rs.NotifyUp != nil || rs.NotifyDown != nil {
				notify = true
			}
			for _, ch := range rs.Checkers {
				if _, ok := ch.(*keepalived.MiscCheck); ok {
					misc = true
				}
			}
		}
	}
	return notify, misc
}

func (c *conv) global() {
	g := &c.cfg.Global
	notify, misc := c.hasScripts()
	if g.ScriptUser != nil && !notify && !misc {
		c.dropped(g.ScriptUser.Pos, "script_user", "no LVS scripts; keep it in keepalived.conf for the VRRP scripts")
	}
	// script_user is the user of the MISC_CHECKs without their own (see
	// checker). enable_script_security makes keepalived refuse scripts
	// writable by others than root and, without script_user, to run them
	// as root; luvs does not check the paths.
	if g.EnableScriptSecurity.Set && g.EnableScriptSecurity.Value {
		switch {
		case notify || misc:
			c.dropped(g.EnableScriptSecurity.Pos, "enable_script_security", "luvs does not check the programs' paths; keep them writable only by root")
		default:
			c.dropped(g.EnableScriptSecurity.Pos, "enable_script_security", "no LVS scripts; keep it in keepalived.conf for the VRRP scripts")
		}
	}
	if g.LVSFlush.Set && g.LVSFlush.Value {
		c.dropped(g.LVSFlush.Pos, "lvs_flush", "luvs leaves the services it does not manage; `luvs apply --prune` deletes them")
	}
	if g.LVSFlushOnStop.Set {
		c.dropped(g.LVSFlushOnStop.Pos, "lvs_flush_on_stop", "luvs leaves the table as it is when it stops")
	}
	if g.LVSNotifyFifo != nil {
		c.unsupported(g.LVSNotifyFifo.Pos, "lvs_notify_fifo", "use notify_up/notify_down")
	}
	if g.LVSNotifyFifoScript != nil {
		c.unsupported(g.LVSNotifyFifoScript.Pos, "lvs_notify_fifo_script", "use notify_up/notify_down")
	}
	if g.CheckerLogAllFailures.Set {
		c.dropped(g.CheckerLogAllFailures.Pos, "checker_log_all_failures", "luvs logs every state change")
	}
	if g.NetNamespaceIPVS.Set {
		c.unsupported(g.NetNamespaceIPVS.Pos, "net_namespace_ipvs", "run luvs in the namespace")
	}
	if ssl := c.cfg.SSL; ssl != nil {
		used := false
		for _, vs := range c.cfg.VirtualServers {
			for _, rs := range vs.RealServers {
				for _, ch := range rs.Checkers {
					if h, ok := ch.(*keepalived.HTTPCheck); ok && h.SSL {
						used = true
					}
				}
			}
		}
		if !used {
			c.dropped(ssl.Pos, "SSL", "no SSL_GET uses it")
		} else if ssl.CA.Set {
			c.dropped(ssl.CA.Pos, "SSL ca", "keepalived does not verify the certificate either (luvs: verify = false)")
		}
	}
}

func (c *conv) writeGlobal(w *strings.Builder) {
	g := &c.cfg.Global
	if su := g.ScriptUser; su != nil {
		if notify, misc := c.hasScripts(); notify || misc {
			w.WriteString("\n-- script_user: who runs the exec checks and the notify programs\n")
			parts := []string{"user = " + luaString(su.User)}
			if su.Group != "" {
				parts = append(parts, "group = "+luaString(su.Group))
			}
			w.WriteString("scripts { " + strings.Join(parts, ", ") + " }\n")
		}
	}
	if t := g.Timeouts; t != nil {
		var parts []string
		add := func(k string, s keepalived.Setting[uint32]) {
			if s.Set && s.Value > 0 {
				parts = append(parts, k+" = "+luaDuration(time.Duration(s.Value)*time.Second))
			}
		}
		add("tcp", t.TCP)
		add("tcp_fin", t.TCPFin)
		add("udp", t.UDP)
		if len(parts) > 0 {
			w.WriteString("\n-- lvs_timeouts\n")
			w.WriteString("timeouts { " + strings.Join(parts, ", ") + " }\n")
		}
	}
	if sd := g.SyncDaemon; sd != nil && !c.followsTranslated(sd) {
		w.WriteString("\n-- lvs_sync_daemon: keepalived runs the master sync daemon while its VRRP\n")
		if sd.Instance != "" {
			fmt.Fprintf(w, "-- instance %s is MASTER and the backup one otherwise; luvs does not follow\n", sd.Instance)
		} else {
			w.WriteString("-- instances are MASTER and the backup one otherwise; luvs does not follow\n")
		}
		w.WriteString("-- VRRP yet: write state = \"backup\" on the backup director.\n")
		parts := []string{`state = "master"`, "interface = " + luaString(sd.Interface)}
		id, idSet := int(sd.ID.Value), sd.ID.Set
		if !idSet && sd.Instance != "" {
			// keepalived's sync id defaults to the instance's virtual_router_id.
			if v, ok := c.vrid(sd.Instance); ok {
				id, idSet = v, true
			}
		}
		if idSet {
			parts = append(parts, fmt.Sprintf("id = %d", id))
		}
		if sd.MaxLen.Set {
			parts = append(parts, fmt.Sprintf("maxlen = %d", sd.MaxLen.Value))
		}
		if sd.Port.Set {
			parts = append(parts, fmt.Sprintf("port = %d", sd.Port.Value))
		}
		if sd.TTL.Set {
			parts = append(parts, fmt.Sprintf("ttl = %d", sd.TTL.Value))
		}
		if sd.Group.Set {
			parts = append(parts, "group = "+luaString(sd.Group.Value.String()))
		}
		w.WriteString("sync_daemon { " + strings.Join(parts, ", ") + " }\n")
	}
}

// followsTranslated reports whether sync daemon sd follows a vrrp_instance
// that became a vrrp declaration (which then holds it).
func (c *conv) followsTranslated(sd *keepalived.SyncDaemon) bool {
	for _, v := range c.vrrps {
		if sd.Instance != "" && v.block.Name == sd.Instance {
			return true
		}
	}
	return false
}

// vrid finds virtual_router_id of a vrrp_instance.
func (c *conv) vrid(name string) (int, bool) {
	for _, b := range c.cfg.Skipped {
		if b.Keyword != "vrrp_instance" || b.Name != name {
			continue
		}
		for _, n := range b.Node.Children {
			if n.Key == "virtual_router_id" && len(n.Args) == 1 {
				var v int
				if _, err := fmt.Sscan(n.Args[0], &v); err == nil && v >= 0 && v <= 255 {
					return v, true
				}
			}
		}
	}
	return 0, false
}

func (c *conv) skip(b *keepalived.RawBlock) {
	what := b.Keyword
	if b.Name != "" {
		what += " " + b.Name
	}
	why := "not part of the LVS configuration"
	switch {
	case b.Keyword == "vrrp_instance":
		why = "--vrrp translates it into luvs's VRRPv3"
	case strings.HasPrefix(b.Keyword, "vrrp_"):
		why = "luvs's vrrp does not do it yet"
	case b.Keyword == "global_defs":
		why = "its keys other than the LVS ones"
	case strings.HasPrefix(b.Keyword, "bfd_"):
		why = "luvs does not run BFD"
	}
	c.skipped = append(c.skipped, &keepalived.Error{Pos: b.Pos, Msg: what + " left to keepalived (" + why + ")"})
}

// KeepalivedPart is the keepalived.conf that stays with keepalived: the
// skipped blocks (keepalived.Render), with script_user and
// enable_script_security put back in global_defs (the parser takes them as
// LVS keys, but the VRRP scripts need them too).
// Blocks in except (Result.Translated) are left out.
func KeepalivedPart(cfg *keepalived.Config, except ...*keepalived.RawBlock) string {
	g := &cfg.Global
	var extra []*keepalived.Node
	if g.ScriptUser != nil {
		args := []string{g.ScriptUser.User}
		if g.ScriptUser.Group != "" {
			args = append(args, g.ScriptUser.Group)
		}
		extra = append(extra, &keepalived.Node{Pos: g.ScriptUser.Pos, Key: "script_user", Args: args})
	}
	if g.EnableScriptSecurity.Set && g.EnableScriptSecurity.Value {
		extra = append(extra, &keepalived.Node{Pos: g.EnableScriptSecurity.Pos, Key: "enable_script_security"})
	}
	blocks := slices.DeleteFunc(slices.Clone(cfg.Skipped), func(b *keepalived.RawBlock) bool { return slices.Contains(except, b) })
	if len(extra) > 0 {
		i := slices.IndexFunc(blocks, func(b *keepalived.RawBlock) bool { return b.Keyword == "global_defs" })
		if i < 0 {
			n := &keepalived.Node{Pos: g.Pos, Key: "global_defs", Block: true}
			blocks = slices.Insert(blocks, 0, &keepalived.RawBlock{Pos: g.Pos, End: g.Pos, Keyword: "global_defs", Node: n})
			i = 0
		}
		b := *blocks[i]
		n := *b.Node
		n.Children = slices.Clone(n.Children)
		for _, e := range extra {
			// In source order, among the kept keys.
			j := slices.IndexFunc(n.Children, func(c *keepalived.Node) bool {
				return c.Pos.File == e.Pos.File && c.Pos.Line > e.Pos.Line
			})
			if j < 0 {
				j = len(n.Children)
			}
			n.Children = slices.Insert(n.Children, j, e)
		}
		b.Node = &n
		blocks[i] = &b
	}
	return keepalived.Render(blocks)
}
