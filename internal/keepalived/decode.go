package keepalived

import (
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/luvs-lb/luvs/internal/model"
)

// decoder turns the statement tree into a Config.
type decoder struct {
	errs *errorList
	r    *reader
	cfg  *Config
}

var topKeys = table[*decoder]{
	"virtual_server":       {1, 2, "ADDRESS [PORT] | fwmark N | group NAME { ... }", needBlock, func(a *args, d *decoder) { d.virtualServer(a) }},
	"virtual_server_group": {1, 1, "NAME { ... }", needBlock, func(a *args, d *decoder) { d.group(a) }},
	"SSL":                  {0, 0, "{ ... }", needBlock, func(a *args, d *decoder) { d.ssl(a) }},
	"global_defs":          {0, 0, "{ ... }", needBlock, func(a *args, d *decoder) { d.globalDefs(a) }},
}

func (d *decoder) decode(root *Node) {
	for _, n := range root.Children {
		if rawTopKeys[n.Key] {
			d.raw(n)
			continue
		}
		decodeStmt(d.errs, n, "the top level", bind(topKeys, d), rawNames{})
	}
	d.check()
}

// rawNames only offers the raw top-level keywords as suggestions.
type rawNames struct{}

func (rawNames) lookup(string) (entry[struct{}], bool) { return entry[struct{}]{}, false }
func (rawNames) names() []string {
	var out []string
	for k := range rawTopKeys {
		out = append(out, k)
	}
	return out
}

// raw keeps a statement as a RawBlock.
func (d *decoder) raw(n *Node) {
	b := &RawBlock{Pos: n.Pos, End: n.Pos, Keyword: n.Key, Node: n}
	if n.Block {
		b.End = n.End
	}
	if len(n.Args) > 0 {
		b.Name = n.Args[0]
	}
	if b.End.File == b.Pos.File {
		b.Text = d.r.sourceText(n.Pos.File, n.Pos.Line, b.End.Line)
	}
	d.cfg.Skipped = append(d.cfg.Skipped, b)
}

// globalDefs decodes the LVS keys of global_defs and keeps the block, minus
// those keys, raw.
func (d *decoder) globalDefs(a *args) {
	g := &d.cfg.Global
	if g.Pos.Line == 0 {
		g.Pos = a.n.Pos
	}
	kept := *a.n
	kept.Children = nil
	for _, c := range a.n.Children {
		if _, ok := globalKeys[c.Key]; ok {
			decodeStmt(d.errs, c, "global_defs", bind(globalKeys, g))
			continue
		}
		if !otherGlobalKeys[c.Key] {
			decodeStmt(d.errs, c, "global_defs", bind(globalKeys, g), globalNames{})
			continue
		}
		kept.Children = append(kept.Children, c)
	}
	d.raw(&kept)
}

type globalNames struct{}

func (globalNames) lookup(string) (entry[struct{}], bool) { return entry[struct{}]{}, false }
func (globalNames) names() []string {
	var out []string
	for k := range otherGlobalKeys {
		out = append(out, k)
	}
	return out
}

var sslKeys = table[*SSLOptions]{
	"password":    {1, 1, "STRING", noBlock, func(a *args, s *SSLOptions) { set(a, &s.Password, a.str(0), true) }},
	"ca":          {1, 1, "FILE", noBlock, func(a *args, s *SSLOptions) { set(a, &s.CA, a.str(0), true) }},
	"certificate": {1, 1, "FILE", noBlock, func(a *args, s *SSLOptions) { set(a, &s.Certificate, a.str(0), true) }},
	"key":         {1, 1, "FILE", noBlock, func(a *args, s *SSLOptions) { set(a, &s.Key, a.str(0), true) }},
}

func (d *decoder) ssl(a *args) {
	if !fresh(a, d.cfg.SSL != nil) {
		return
	}
	d.cfg.SSL = &SSLOptions{Pos: a.n.Pos}
	decodeBlock(d.errs, a.n, "SSL", bind(sslKeys, d.cfg.SSL))
}

func (d *decoder) virtualServer(a *args) {
	vs := &VirtualServer{Pos: a.n.Pos, End: a.n.End, Comments: a.n.Comments}
	switch a.str(0) {
	case "fwmark":
		if a.len() != 2 {
			a.errf("fwmark wants a mark")
			return
		}
		v, ok := a.integer(1, 1, math.MaxUint32)
		if !ok {
			return
		}
		vs.FWMark = uint32(v)
	case "group":
		if a.len() != 2 {
			a.errf("group wants a virtual_server_group name")
			return
		}
		vs.Group = a.str(1)
	default:
		ap, ok := a.addrPort(0)
		if !ok {
			return
		}
		vs.Addr = ap
	}
	decodeBlock(d.errs, a.n, "virtual_server", bind(virtualServerKeys, vs), bind(timingKeys, &vs.Timing))
	if vs.Addr.IsValid() && vs.Addr.Port() == 0 && !vs.Persistence.Set {
		a.errf("the port may only be omitted for a persistent service (persistence_timeout)")
	}
	d.cfg.VirtualServers = append(d.cfg.VirtualServers, vs)
}

// group decodes virtual_server_group NAME { ADDR|RANGE [PORT] ... fwmark N [inet|inet6] ... }.
func (d *decoder) group(a *args) {
	g := &VirtualServerGroup{Pos: a.n.Pos, End: a.n.End, Comments: a.n.Comments, Name: a.str(0)}
	if o := d.cfg.Group(g.Name); o != nil {
		a.errf("group %q is defined twice (first on line %d)", g.Name, o.Pos.Line)
		return
	}
	for _, c := range a.n.Children {
		ca := &args{errs: d.errs, n: c}
		if c.bad {
			continue
		}
		if c.Block {
			ca.errf("takes no { } block")
			continue
		}
		if c.Key == "fwmark" {
			if len(c.Args) < 1 || len(c.Args) > 2 {
				ca.errf("usage: fwmark N [inet|inet6]")
				continue
			}
			v, ok := ca.integer(0, 1, math.MaxUint32)
			if !ok {
				continue
			}
			e := GroupEntry{Pos: c.Pos, FWMark: uint32(v)}
			switch ca.str(1) {
			case "":
			case "inet":
				e.Family = model.IPv4
			case "inet6":
				e.Family = model.IPv6
			default:
				ca.errf("%q is not inet or inet6", ca.str(1))
				continue
			}
			g.Entries = append(g.Entries, e)
			continue
		}
		first, last, ok := parseRange(c.Key)
		if !ok {
			d.errs.add(c.Pos, "virtual_server_group %s: %q is not an address, an address range (a.b.c.d-e, a-b, a/n) or fwmark", g.Name, c.Key)
			continue
		}
		e := GroupEntry{Pos: c.Pos, First: first, Last: last}
		if len(c.Args) > 1 {
			d.errs.add(c.Pos, "virtual_server_group %s: too many arguments after %s (want [PORT])", g.Name, c.Key)
			continue
		}
		if len(c.Args) == 1 {
			v, err := strconv.ParseUint(c.Args[0], 10, 16)
			if err != nil {
				d.errs.add(c.Pos, "virtual_server_group %s: %q is not a port", g.Name, c.Args[0])
				continue
			}
			e.Port = uint16(v)
		}
		g.Entries = append(g.Entries, e)
	}
	d.cfg.Groups = append(d.cfg.Groups, g)
}

// parseRange reads ADDR, ADDR-LASTGROUP (192.168.200.1-10, 2001:db8::1-ff),
// ADDR-ADDR or ADDR/PREFIX as the range first..last.
func parseRange(s string) (first, last netip.Addr, ok bool) {
	if p, err := netip.ParsePrefix(s); err == nil && p.Addr().Zone() == "" {
		p = p.Masked()
		return p.Addr().Unmap(), lastOf(p), true
	}
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := netip.ParseAddr(lo)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, netip.Addr{}, false
	}
	a = a.Unmap()
	if !isRange {
		return a, a, true
	}
	if b, err := netip.ParseAddr(hi); err == nil && b.Zone() == "" {
		b = b.Unmap()
		return a, b, b.Is4() == a.Is4() && a.Compare(b) <= 0
	}
	// The last group (decimal for IPv4, hex for IPv6) replaces a's.
	bytes := a.AsSlice()
	if a.Is4() {
		v, err := strconv.ParseUint(hi, 10, 8)
		if err != nil || byte(v) < bytes[3] {
			return netip.Addr{}, netip.Addr{}, false
		}
		bytes[3] = byte(v)
	} else {
		v, err := strconv.ParseUint(hi, 16, 16)
		if err != nil || uint16(v) < uint16(bytes[14])<<8|uint16(bytes[15]) {
			return netip.Addr{}, netip.Addr{}, false
		}
		bytes[14], bytes[15] = byte(v>>8), byte(v)
	}
	b, _ := netip.AddrFromSlice(bytes)
	return a, b, true
}

func lastOf(p netip.Prefix) netip.Addr {
	b := p.Addr().Unmap().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// check reports what spans statements: groups used but not defined,
// virtual servers given twice.
func (d *decoder) check() {
	seen := map[string]*VirtualServer{}
	for _, vs := range d.cfg.VirtualServers {
		if vs.Group != "" && d.cfg.Group(vs.Group) == nil {
			names := make([]string, 0, len(d.cfg.Groups))
			for _, g := range d.cfg.Groups {
				names = append(names, g.Name)
			}
			slices.Sort(names)
			d.errs.add(vs.Pos, "virtual_server group %s: no virtual_server_group %q%s", vs.Group, vs.Group, suggest(vs.Group, names))
		}
		key := vs.key()
		if o := seen[key]; o != nil {
			d.errs.add(vs.Pos, "virtual_server %s is given twice (first at %s)", key, o.Pos)
			continue
		}
		seen[key] = vs
	}
}

// key identifies a virtual server for the duplicate check.
func (vs *VirtualServer) key() string {
	p := "?"
	if vs.Protocol.Set {
		p = vs.Protocol.Value.String()
	}
	switch {
	case vs.FWMark != 0:
		return "fwmark " + strconv.FormatUint(uint64(vs.FWMark), 10) + " " + vs.IPFamily.Value.String()
	case vs.Group != "":
		return "group " + vs.Group + " " + p
	}
	return vs.Addr.String() + " " + p
}
