package luaconf

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luvs-lb/luvs/internal/check"
	"github.com/luvs-lb/luvs/internal/luasrc"
	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/proc"
	"github.com/luvs-lb/luvs/internal/value"
)

// Option names by where they may appear.
var (
	checkCommonKeys = inheritedCheckKeys()
	serverKeys      = append([]string{"weight", "forward", "tunnel_type", "tunnel_port", "tunnel_csum",
		"upper_threshold", "lower_threshold", "check", "checks", "on_fail", "alpha", "notify_up", "notify_down",
		"drain_timeout", "slow_start"}, checkCommonKeys...)
	serviceOwnKeys = []string{"protocol", "scheduler", "sched_flags", "persistence", "netmask",
		"one_packet", "pe", "quorum", "hysteresis", "quorum_up", "quorum_down", "healthcheck_interval", "healthcheck_timeout",
		"announce", "ecmp"}
	realServerKeys    = append([]string{"name"}, serverKeys...)
	virtualServerKeys = slices.Concat([]string{"name", "family", "servers", "sorry_server", "healthcheck"},
		serviceOwnKeys, serverKeys)
	defaultsKeys = slices.Concat(serviceOwnKeys, serverKeys)
)

// inheritedCheckKeys are the check settings real servers, virtual servers
// and defaults may set for their checks.
func inheritedCheckKeys() []string {
	var keys []string
	for _, st := range check.Common {
		if st.Inherits {
			keys = append(keys, st.Key)
		}
	}
	return keys
}

// chain looks options up in a declaration, then in the ones it inherits
// from (virtual server, defaults).
type chain []*decl

// get returns the first non-nil value of key and the declaration holding it.
func (c chain) get(key string) (lua.LValue, *decl) {
	for _, d := range c {
		if d == nil {
			continue
		}
		if v := d.opts.RawGetString(key); v != lua.LNil {
			return v, d
		}
	}
	return lua.LNil, nil
}

func (l *loader) problem(p Pos, format string, args ...any) {
	l.problems = append(l.problems, Problem{Pos: p, Msg: fmt.Sprintf(format, args...)})
}

// noErrorsSince reports whether the problems after the first n0 are
// all warnings.
func (l *loader) noErrorsSince(n0 int) bool { return len(l.problems[n0:].Errors()) == 0 }

// warn records a warning: reported, but the configuration loads.
func (l *loader) warn(p Pos, format string, args ...any) {
	l.problems = append(l.problems, Problem{Pos: p, Msg: fmt.Sprintf(format, args...), Warning: true})
}

// checkKeys reports unknown keys and stray positional values in d's table.
func (l *loader) checkKeys(d *decl, known []string, positional bool) {
	// (in message order where positions tie: the table's order is a hash's)
	n0 := len(l.problems)
	defer func() {
		slices.SortStableFunc(l.problems[n0:], func(a, b Problem) int { return cmp.Compare(a.Msg, b.Msg) })
	}()
	d.opts.ForEach(func(k, v lua.LValue) {
		switch k := k.(type) {
		case lua.LString:
			if !slices.Contains(known, string(k)) {
				l.problem(d.keyPos(string(k)), "unknown key %q in %s%s", string(k), describe(d), suggest(string(k), known))
			}
		case lua.LNumber:
			i, isIndex := listIndex(k, d.opts.Len())
			if !positional && d.site != nil && i > len(d.site.Items) {
				isIndex = false // written [i] = v, not as a list entry
			}
			switch {
			case !isIndex && l.asDecl(v, mtRealServer) != nil:
				l.problem(d.tablePos(), "%s has a key [%s]; real servers are list entries, written without keys", describe(d), value.Number(float64(k)))
			case !isIndex:
				l.problem(d.tablePos(), "%s has a key [%s]; keys are names", describe(d), value.Number(float64(k)))
			case !positional:
				l.problem(d.itemPos(i-1), "%s takes only key = value options, not a list entry (%s)", describe(d), typeName(v))
			}
		default:
			l.problem(d.tablePos(), "%s has a key of type %s; keys are names", describe(d), k.Type())
		}
	})
}

// checkList reports the entries of list t (read as t[1..#t]) that have
// another key, which would be ignored.
func (l *loader) checkList(t *lua.LTable, p Pos, what string) {
	n0 := len(l.problems)
	t.ForEach(func(k, _ lua.LValue) {
		var key string
		switch k := k.(type) {
		case lua.LNumber:
			if _, ok := listIndex(k, t.Len()); ok {
				return
			}
			key = "[" + value.Number(float64(k)) + "]"
		case lua.LString:
			key = strconv.Quote(string(k))
		default:
			key = "of type " + k.Type().String()
		}
		l.problem(p, "%s is a list, but has a key %s; write its entries without keys", what, key)
	})
	slices.SortStableFunc(l.problems[n0:], func(a, b Problem) int { return cmp.Compare(a.Msg, b.Msg) })
}

// listIndex returns k as a list position 1..n, reporting whether it is one
// (the entries a loop over 1..#t sees).
func listIndex(k lua.LNumber, n int) (int, bool) {
	f := float64(k)
	if f != math.Trunc(f) || f < 1 || f > float64(n) {
		return 0, false
	}
	return int(f), true
}

func describe(d *decl) string {
	switch d.kind {
	case "virtual_server", "real_server", "vrrp":
		return fmt.Sprintf("%s %q", d.kind, d.arg)
	case "defaults", "timeouts", "sync_daemon", "scripts", "bgp", "sysctl", "bgp peer", "bfd", "announce", "track":
		return d.kind
	}
	return d.kind + " check"
}

// decode reads key along c with read (a package value function), reporting
// a problem at the value.
func decode[T any](l *loader, c chain, key string, read func(v any) (T, error)) (T, *decl, bool) {
	var zero T
	v, d := c.get(key)
	if d == nil {
		return zero, nil, false
	}
	x, err := read(goValue(v))
	if err != nil {
		l.problem(d.valPos(key), "%v", err)
		return zero, d, false
	}
	return x, d, true
}

func (l *loader) str(c chain, key string) (string, *decl, bool) {
	return decode(l, c, key, func(v any) (string, error) { return value.String(key, v) })
}

// line reads a string of one line (a name shown in logs and status).
func (l *loader) line(c chain, key string) (string, *decl, bool) {
	return decode(l, c, key, func(v any) (string, error) { return value.Line(key, v) })
}

func (l *loader) integer(c chain, key string, lo, hi int) (int, *decl, bool) {
	return decode(l, c, key, func(v any) (int, error) { return value.Int(key, v, lo, hi) })
}

// argv reads a program to run: a list of strings, run without a shell.
func (l *loader) argv(c chain, key string) ([]string, bool) {
	argv, d, ok := decode(l, c, key, func(v any) ([]string, error) { return value.Argv(key, v) })
	if !ok {
		return nil, false
	}
	for _, msg := range proc.CheckArgv(key, argv) {
		l.problem(d.valPos(key), "%s", msg)
		ok = false
	}
	return argv, ok
}

// hook reads a notify or quorum hook: a program (an argv list, as argv
// reads it) or a Lua function, which is registered under its name
// (model.Hook.Func) for Result.HookFunc. Every hook key is read here.
func (l *loader) hook(c chain, key string) model.Hook {
	v, d := c.get(key)
	switch v := v.(type) {
	case *lua.LNilType:
		return model.Hook{}
	case *lua.LFunction:
		if v.IsG {
			l.problem(d.valPos(key), "%s must be a function written in the configuration, not a built-in one", key)
			return model.Hook{}
		}
		return l.luaHook(v)
	case *lua.LTable:
		argv, _ := l.argv(c, key)
		return model.Hook{Argv: argv}
	}
	l.problem(d.valPos(key), "%s must be a program (a list of strings, no shell) or a function(ev), got %s", key, typeName(v))
	return model.Hook{}
}

// luaHook names fn by where it is defined; a further closure of the same
// definition (one made in a loop) gets "#2", "#3"... in the order the
// configuration resolves them, the same at every load of the file.
func (l *loader) luaHook(fn *lua.LFunction) model.Hook {
	where := fmt.Sprintf("%s:%d", fn.Proto.SourceName, fn.Proto.LineDefined)
	if id, ok := l.hookNames[fn]; ok {
		return model.Hook{Func: id, Where: where}
	}
	if l.loaded {
		// A real server a health check resolves at run time (lvs:add_dest)
		// keeps only its address and weight: register nothing.
		return model.Hook{Func: where, Where: where}
	}
	if l.hookFuncs == nil {
		l.hookFuncs, l.hookNames = map[string]*lua.LFunction{}, map[*lua.LFunction]string{}
	}
	id := where
	for n := 2; l.hookFuncs[id] != nil; n++ {
		id = fmt.Sprintf("%s#%d", where, n)
	}
	l.hookFuncs[id], l.hookNames[fn] = fn, id
	return model.Hook{Func: id, Where: where}
}

func (l *loader) boolean(c chain, key string) (bool, *decl, bool) {
	return decode(l, c, key, func(v any) (bool, error) { return value.Bool(key, v) })
}

// duration reads "2s", "1m30s", "500ms" or a number of seconds.
func (l *loader) duration(c chain, key string, min time.Duration) (time.Duration, *decl, bool) {
	return decode(l, c, key, func(v any) (time.Duration, error) { return value.Duration(key, v, min) })
}

// goValue converts a Lua value for package value: a table with only the
// keys 1..n (or none) is a list, another table a map by key text.
func goValue(v lua.LValue) any {
	switch v := v.(type) {
	case *lua.LNilType:
		return nil
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return float64(v)
	case lua.LBool:
		return bool(v)
	case *lua.LTable:
		n := v.Len()
		count := 0
		v.ForEach(func(lua.LValue, lua.LValue) { count++ })
		if count == n {
			list := make([]any, n)
			for i := range list {
				list[i] = goValue(v.RawGetInt(i + 1))
			}
			return list
		}
		m := make(map[string]any, count)
		v.ForEach(func(k, val lua.LValue) { m[k.String()] = goValue(val) })
		return m
	}
	return value.Other(typeName(v))
}

// enum reads a string that must be one of choices (after normalising).
func (l *loader) enum(c chain, key string, parse func(string) (any, error)) (any, *decl, bool) {
	s, d, ok := l.str(c, key)
	if !ok {
		return nil, d, false
	}
	v, err := parse(s)
	if err != nil {
		l.problem(d.valPos(key), "%s: %v", key, err)
		return nil, d, false
	}
	return v, d, true
}

// parseServerAddr reads "198.18.1.1:80", "[2001:db8::1]:80" or a bare
// address (whose port is defPort).
func parseServerAddr(s string, defPort uint16) (netip.AddrPort, error) {
	return model.ParseAddrPort(s, int(defPort))
}

// resolve turns the recorded declarations into a configuration, reporting
// every problem with its position.
func (l *loader) resolve() *model.Config {
	if l.defaults != nil {
		l.checkKeys(l.defaults, defaultsKeys, false)
	}
	cfg := &model.Config{}
	defer l.validateUnusedChecks()
	l.resolveGlobals(cfg)
	seen := map[model.ServiceKey]*decl{}
	l.declared = seen
	checked := map[*decl]bool{}
	for _, vd := range l.services {
		sc, ok := l.resolveService(vd, checked)
		if sc.Family == 0 {
			continue // no usable address: reported
		}
		if first := seen[sc.ServiceKey]; first != nil {
			l.problem(vd.pos, "duplicate virtual server %s (first declared at %s)", sc.ServiceKey, first.pos)
			continue
		}
		seen[sc.ServiceKey] = vd
		if ok {
			cfg.Services = append(cfg.Services, sc)
		}
	}
	applyScriptUser(cfg)
	l.resolveSysctls(cfg)
	l.checkAnnounces(cfg)
	l.resolveVRRP(cfg)
	return cfg
}

func (l *loader) resolveService(vd *decl, checked map[*decl]bool) (model.ServiceConfig, bool) {
	l.checkKeys(vd, virtualServerKeys, true)
	c := chain{vd, l.defaults}
	sc := model.ServiceConfig{Where: vd.pos.String()}
	n0 := len(l.problems)
	if name, _, ok := l.line(chain{vd}, "name"); ok {
		sc.Name = name
	}

	// The address: "ADDR:PORT", "udp:ADDR:PORT", "fwmark:N", "fwmark6:N".
	key, err := model.ParseServiceKey(vd.arg)
	if err != nil {
		l.problem(vd.argPos(), "virtual_server %q: %v", vd.arg, err)
		// (an address that does not parse is reported once, here)
		return sc, false
	}
	explicitProto := strings.Contains(vd.arg, ":") && !strings.HasPrefix(vd.arg, "[") && slices.Contains([]string{"tcp", "udp", "sctp"}, strings.ToLower(strings.SplitN(vd.arg, ":", 2)[0]))
	if v, d, ok := l.enum(c, "protocol", func(s string) (any, error) { return model.ParseProtocol(s) }); ok {
		switch {
		case key.IsFWMark():
			if d == vd {
				l.problem(d.keyPos("protocol"), "a fwmark service has no protocol (the mark selects the packets)")
			}
		case explicitProto && v.(model.Protocol) != key.Protocol && d == vd:
			l.problem(d.valPos("protocol"), "protocol %s contradicts the address %q", v.(model.Protocol), vd.arg)
		case !explicitProto:
			key.Protocol = v.(model.Protocol)
		}
	}
	if v, d, ok := l.str(chain{vd}, "family"); ok {
		switch strings.ToLower(v) {
		case "ipv4", "inet", "4":
			key.Family = model.IPv4
		case "ipv6", "inet6", "6":
			key.Family = model.IPv6
		default:
			l.problem(d.valPos("family"), "family must be \"ipv4\" or \"ipv6\", got %q", v)
		}
		if !key.IsFWMark() {
			l.problem(d.keyPos("family"), "family applies to fwmark services only (the address has one)")
		}
	}
	sc.ServiceKey = key

	sc.Scheduler = "wlc"
	if v, _, ok := l.str(c, "scheduler"); ok {
		sc.Scheduler = v
	}
	if v, d := c.get("sched_flags"); d != nil {
		var names []string
		switch v := v.(type) {
		case lua.LString:
			names = strings.Split(string(v), ",")
		case *lua.LTable:
			l.checkList(v, d.valPos("sched_flags"), "sched_flags")
			for i := 1; i <= v.Len(); i++ {
				names = append(names, v.RawGetInt(i).String())
			}
		default:
			l.problem(d.valPos("sched_flags"), "sched_flags must be a string or a list of strings, got %s", v.Type())
		}
		for _, n := range names {
			bit, err := model.ParseSchedFlag(sc.Scheduler, strings.TrimSpace(n))
			if err != nil {
				l.problem(d.valPos("sched_flags"), "sched_flags: %v", err)
				continue
			}
			sc.SchedFlags |= bit
		}
	}
	l.ecmp(c, &sc)
	sc.Announce = l.announce(c, &sc)
	if v, d := c.get("persistence"); d != nil {
		switch v := v.(type) {
		case lua.LBool:
			if v {
				sc.Persistent, sc.Timeout = true, 300
			}
		default:
			if secs, _, ok := decode(l, chain{d}, "persistence", func(v any) (int, error) {
				return value.Seconds("persistence", v, 1, model.MaxPersistTimeout)
			}); ok {
				sc.Persistent, sc.Timeout = true, uint32(secs)
			}
		}
	}
	if v, d := c.get("netmask"); d != nil {
		switch v := v.(type) {
		case lua.LNumber:
			if n, _, ok := l.integer(chain{d}, "netmask", 1, 128); ok {
				sc.NetmaskBits = n
			}
		case lua.LString:
			if a, err := netip.ParseAddr(string(v)); err == nil && a.Is4() {
				if ones := prefixOnes(a); ones > 0 {
					sc.NetmaskBits = ones
				} else {
					l.problem(d.valPos("netmask"), "netmask %q is not a contiguous mask", string(v))
				}
			} else {
				l.problem(d.valPos("netmask"), "netmask must be a prefix length or a mask like \"255.255.255.0\", got %q", string(v))
			}
		default:
			l.problem(d.valPos("netmask"), "netmask must be a prefix length or a mask string, got %s", v.Type())
		}
	}
	if v, _, ok := l.boolean(c, "one_packet"); ok {
		sc.OnePacket = v
	}
	if v, _, ok := l.str(c, "pe"); ok {
		sc.PEName = v
	}
	if v, _, ok := l.integer(c, "quorum", 0, math.MaxInt32); ok {
		sc.Quorum = v
	}
	if v, _, ok := l.integer(c, "hysteresis", 0, math.MaxInt32); ok {
		sc.Hysteresis = v
	}
	sc.QuorumUp = l.hook(c, "quorum_up")
	sc.QuorumDown = l.hook(c, "quorum_down")
	interval, timeout := model.DefaultInterval, time.Duration(0)
	if dur, _, ok := l.duration(c, "healthcheck_interval", 100*time.Millisecond); ok {
		interval = dur
	}
	timeout = min(model.DefaultTimeout, interval)
	if dur, hd, ok := l.duration(c, "healthcheck_timeout", 10*time.Millisecond); ok {
		timeout = dur
		if dur > interval {
			l.problem(hd.valPos("healthcheck_timeout"), "healthcheck_timeout %s is longer than healthcheck_interval %s", dur, interval)
		}
	}
	if v, d := c.get("healthcheck"); d != nil {
		fn, ok := v.(*lua.LFunction)
		if !ok {
			l.problem(d.valPos("healthcheck"), "healthcheck must be a function(lvs, dests), got %s", v.Type())
		} else {
			sc.Script = &model.ScriptCheck{Interval: interval, Timeout: timeout, Fn: fn, Where: d.valPos("healthcheck").String()}
		}
	}

	// Real servers: positional entries, then servers = { ... }.
	type entry struct {
		d   *decl
		pos Pos
	}
	entries := make([]entry, 0, vd.opts.Len())
	for i := 1; i <= vd.opts.Len(); i++ {
		v := vd.opts.RawGetInt(i)
		if rd := l.asDecl(v, mtRealServer); rd != nil {
			entries = append(entries, entry{rd, vd.itemPos(i - 1)})
		} else {
			l.problem(vd.itemPos(i-1), "entry %d of virtual_server %q is a %s; list entries must be real_server \"...\" { ... }", i, vd.arg, typeName(v))
		}
	}
	if v, d := (chain{vd}).get("servers"); d != nil {
		t, ok := v.(*lua.LTable)
		if !ok {
			l.problem(d.valPos("servers"), "servers must be a list of real servers, got %s", typeName(v))
		} else {
			l.checkList(t, d.valPos("servers"), "servers")
			items := l.tableItems(d.valPos("servers"))
			entries = slices.Grow(entries, t.Len())
			for i := 1; i <= t.Len(); i++ {
				pos := d.valPos("servers")
				if i-1 < len(items) {
					pos = items[i-1]
				}
				if rd := l.asDecl(t.RawGetInt(i), mtRealServer); rd != nil {
					if len(items) == 0 {
						pos = rd.pos // a list built elsewhere: point at each server's declaration
					}
					entries = append(entries, entry{rd, pos})
				} else {
					l.problem(pos, "servers[%d] is a %s, not a real_server", i, typeName(t.RawGetInt(i)))
				}
			}
		}
	}
	seenDest := make(map[model.DestKey]Pos, len(entries))
	sc.Servers = make([]model.ServerConfig, 0, len(entries))
	for _, e := range entries {
		if !checked[e.d] {
			checked[e.d] = true
			l.checkKeys(e.d, realServerKeys, false)
		}
		rs, ok := l.resolveServer(e.d, vd, &sc.Service)
		if !rs.Addr.IsValid() {
			continue // no usable address: reported
		}
		if first, dup := seenDest[rs.DestKey]; dup {
			l.problem(e.pos, "duplicate real server %s in virtual_server %q (first at %s)", rs.DestKey, vd.arg, first)
			continue
		}
		seenDest[rs.DestKey] = e.pos
		if ok {
			sc.Servers = append(sc.Servers, rs)
		}
	}
	if v, d := (chain{vd}).get("sorry_server"); d != nil {
		var dest model.Dest
		ok := true
		if rd := l.asDecl(v, mtRealServer); rd != nil {
			rs, rok := l.resolveServer(rd, vd, &sc.Service)
			dest, ok = rs.Dest, rok
		} else if s, isStr := v.(lua.LString); isStr {
			ap, err := parseServerAddr(string(s), key.Port)
			if err != nil {
				l.problem(d.valPos("sorry_server"), "sorry_server: %v", err)
				ok = false
			} else {
				l.warnPortSuffix(d.valPos("sorry_server"), "sorry_server", string(s), ap)
			}
			fwd := model.Masquerade
			if f, _, fok := l.enum(c, "forward", func(s string) (any, error) { return model.ParseForwardMethod(s) }); fok {
				fwd = f.(model.ForwardMethod)
			}
			dest = model.Dest{DestKey: model.DestKey{Addr: ap.Addr(), Port: ap.Port()}, Weight: 1, Forward: fwd}
		} else {
			l.problem(d.valPos("sorry_server"), "sorry_server must be an address string or a real_server, got %s", v.Type())
			ok = false
		}
		if ok {
			if _, clash := seenDest[dest.DestKey]; clash {
				l.problem(d.valPos("sorry_server"), "sorry_server %s is also a real server of this service", dest.DestKey)
			}
			for _, p := range model.ValidateDest(&sc.Service, &dest) {
				l.problem(d.valPos("sorry_server"), "sorry_server: %s: %s", p.Field, p.Msg)
			}
			sc.Sorry = &dest
		}
	}
	l.checkECMP(vd, c, &sc)
	for _, p := range model.ValidateService(&sc.Service) {
		l.problem(l.fieldPos(vd, c, p.Field), "virtual_server %q: %s", vd.arg, problemText(p))
	}
	l.warnService(vd, c, &sc, len(entries))
	return sc, l.noErrorsSince(n0)
}

// warnService warns of a service that loads but cannot work as written.
// (with its number of real servers as declared, valid or not).
func (l *loader) warnService(vd *decl, c chain, sc *model.ServiceConfig, declared int) {
	list, listed := (chain{vd}).get("servers")
	if t, isTable := list.(*lua.LTable); declared == 0 && (listed == nil || isTable && t.Len() == 0) && sc.Sorry == nil && sc.Script == nil {
		l.warn(vd.pos, "virtual_server %q has no real servers (nor a sorry_server or healthcheck to add them): its traffic is taken and dropped", vd.arg)
	}
	if sc.OnePacket && (sc.Protocol == model.UDP || sc.IsFWMark()) {
		for _, rs := range sc.Servers {
			if rs.Forward == model.Masquerade {
				_, d := c.get("one_packet")
				l.warn(d.valPos("one_packet"), "one_packet with NAT real servers (%s): the kernel keeps no connection to translate the replies, so clients get no answer; use forward = \"dr\" or \"tunnel\", or drop one_packet", rs.DestKey)
				break
			}
		}
	}
}

// warnPortSuffix warns of a bare IPv6 address whose last group reads as
// a port: "2001:db8::2:8080" is the address 2001:db8::2:8080 (with the
// default port), not [2001:db8::2]:8080.
func (l *loader) warnPortSuffix(p Pos, what, s string, ap netip.AddrPort) {
	if guess, ok := model.PortSuffix(s); ok {
		l.warn(p, "%s %q is the address %s with port %d; did you mean %q? (write \"[%s]\" for the address)",
			what, s, ap.Addr(), ap.Port(), guess.String(), ap.Addr())
	}
}

// tableItems returns the positions of the positional entries of the table
// constructor whose '{' is at p, or nil when p is not a '{' (a table built
// elsewhere).
func (l *loader) tableItems(p Pos) []Pos {
	f := l.files[p.File]
	if f == nil {
		return nil
	}
	toks := f.tokens
	i := 0
	for i < len(toks) && (toks[i].Pos.Line != p.Line || toks[i].Pos.Col != p.Col) {
		i++
	}
	if i == len(toks) || toks[i].Text != "{" || toks[i].Kind != luasrc.Symbol {
		return nil
	}
	var items []Pos
	depth, start := 0, true
	for j := i; j < len(toks); j++ {
		t := toks[j]
		if t.Kind == luasrc.Symbol {
			switch t.Text {
			case "{", "(", "[":
				if depth == 1 && start {
					if t.Text == "[" { // [key] = value
						start = false
					} else {
						items = append(items, Pos{File: p.File, Line: t.Pos.Line, Col: t.Pos.Col})
						start = false
					}
				}
				depth++
				continue
			case "}", ")", "]":
				depth--
				if depth == 0 {
					return items
				}
				continue
			case ",", ";":
				if depth == 1 {
					start = true
				}
				continue
			}
		}
		if depth == 1 && start {
			start = false
			isKey := t.Kind == luasrc.Name && j+1 < len(toks) && toks[j+1].Kind == luasrc.Symbol && toks[j+1].Text == "="
			if !isKey {
				items = append(items, Pos{File: p.File, Line: t.Pos.Line, Col: t.Pos.Col})
			}
		}
	}
	return items
}

// prefixOnes returns the prefix length of a contiguous IPv4 mask, or -1.
func prefixOnes(a netip.Addr) int {
	b := a.As4()
	m := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	ones := 0
	for ones < 32 && m&(1<<(31-ones)) != 0 {
		ones++
	}
	if ones < 32 && m<<ones != 0 {
		return -1
	}
	return ones
}

func problemText(p model.Problem) string {
	if p.Field != "" {
		return p.Field + ": " + p.Msg
	}
	return p.Msg
}

// fieldPos maps a model field name to the position of the option that set it.
func (l *loader) fieldPos(d *decl, c chain, field string) Pos {
	keys := map[string][]string{
		"scheduler": {"scheduler"}, "persistence": {"persistence", "netmask", "pe"}, "netmask": {"netmask"},
		"one_packet": {"one_packet"}, "pe": {"pe"}, "sched_flags": {"sched_flags"}, "weight": {"weight"},
		"forward": {"forward"}, "tunnel": {"tunnel_type", "tunnel_port", "tunnel_csum"},
		"tunnel_type": {"tunnel_type"}, "tunnel_port": {"tunnel_port"}, "tunnel_csum": {"tunnel_csum"},
		"thresholds": {"lower_threshold", "upper_threshold"},
	}[field]
	for _, key := range keys {
		if _, holder := c.get(key); holder != nil {
			return holder.valPos(key)
		}
	}
	if field == "address" || field == "port" || field == "family" || field == "fwmark" {
		return d.argPos()
	}
	return d.pos
}

// asDecl returns the declaration behind a DSL userdata of the given type.
func (l *loader) asDecl(v lua.LValue, mt string) *decl {
	ud, ok := v.(*lua.LUserData)
	if !ok || ud.Metatable != l.L.GetTypeMetatable(mt) {
		return nil
	}
	return declOf(ud)
}

func typeName(v lua.LValue) string {
	if ud, ok := v.(*lua.LUserData); ok {
		if d, ok := ud.Value.(*decl); ok {
			return describe(d)
		}
	}
	return v.Type().String()
}

// resolveServer builds a real server of service svc (declared by vd).
func (l *loader) resolveServer(rd, vd *decl, svc *model.Service) (model.ServerConfig, bool) {
	n0 := len(l.problems)
	c := chain{rd, vd, l.defaults}
	rs := model.ServerConfig{Where: rd.pos.String(), OnFail: model.Drain}
	if name, _, ok := l.line(chain{rd}, "name"); ok {
		rs.Name = name
	}
	ap, err := parseServerAddr(rd.arg, svc.Port)
	if err != nil {
		l.problem(rd.argPos(), "real_server %q: %v", rd.arg, err)
		return rs, false
	}
	rs.Addr, rs.Port = ap.Addr(), ap.Port()
	l.warnPortSuffix(rd.argPos(), "real_server", rd.arg, ap)
	rs.Weight = 1
	if w, _, ok := l.integer(c, "weight", 0, model.MaxWeight); ok {
		rs.Weight = w
	}
	rs.Forward = model.Masquerade
	if v, _, ok := l.enum(c, "forward", func(s string) (any, error) { return model.ParseForwardMethod(s) }); ok {
		rs.Forward = v.(model.ForwardMethod)
	}
	if rs.Forward == model.Tunnel {
		if v, _, ok := l.enum(c, "tunnel_type", func(s string) (any, error) { return model.ParseTunnelType(s) }); ok {
			rs.TunnelType = v.(model.TunnelType)
		}
		if v, _, ok := l.integer(c, "tunnel_port", 1, 65535); ok {
			rs.TunnelPort = uint16(v)
		}
		if v, d, ok := l.str(c, "tunnel_csum"); ok {
			switch v {
			case "nocsum", "none":
			case "csum":
				rs.TunnelFlags = model.TunnelCsum
			case "remcsum":
				rs.TunnelFlags = model.TunnelRemCsum
			default:
				l.problem(d.valPos("tunnel_csum"), "tunnel_csum must be \"csum\", \"remcsum\" or \"nocsum\", got %q", v)
			}
		}
	} else {
		for _, k := range []string{"tunnel_type", "tunnel_port", "tunnel_csum"} {
			if _, d := (chain{rd}).get(k); d != nil {
				l.problem(d.keyPos(k), "%s needs forward = \"tunnel\"", k)
			}
		}
	}
	if v, _, ok := l.integer(c, "upper_threshold", 0, math.MaxInt32); ok {
		rs.UpperThreshold = uint32(v)
	}
	if v, _, ok := l.integer(c, "lower_threshold", 0, math.MaxInt32); ok {
		rs.LowerThreshold = uint32(v)
	}
	if v, _, ok := l.enum(c, "on_fail", func(s string) (any, error) {
		switch model.OnFail(s) {
		case model.Drain, model.Remove:
			return model.OnFail(s), nil
		}
		return nil, fmt.Errorf("must be \"drain\" or \"remove\", got %q", s)
	}); ok {
		rs.OnFail = v.(model.OnFail)
	}
	rs.DrainTimeout = model.DefaultDrainTimeout
	if v, _, ok := l.duration(c, "drain_timeout", 0); ok {
		rs.DrainTimeout = v
	}
	if v, _, ok := l.duration(c, "slow_start", 0); ok {
		rs.SlowStart = v
	}
	rs.NotifyUp = l.hook(c, "notify_up")
	rs.NotifyDown = l.hook(c, "notify_down")
	rs.Checks = l.resolveChecks(c)
	if v, d, ok := l.boolean(c, "alpha"); ok {
		rs.Alpha = v
		if v && len(rs.Checks) == 0 {
			l.problem(d.keyPos("alpha"), "real_server %q: alpha keeps a server down until a check passes, and it has no check", rd.arg)
		}
	}
	for _, p := range model.ValidateDest(svc, &rs.Dest) {
		l.problem(l.fieldPos(rd, c, p.Field), "real_server %q: %s", rd.arg, problemText(p))
	}
	return rs, l.noErrorsSince(n0)
}

// resolveChecks reads check = X or checks = {X, Y} (false or {} for none),
// the nearest declaration winning.
func (l *loader) resolveChecks(c chain) []model.Check {
	var list []lua.LValue
	var holder *decl
	for _, d := range c {
		if d == nil {
			continue
		}
		cv, cs := d.opts.RawGetString("check"), d.opts.RawGetString("checks")
		if cv == lua.LNil && cs == lua.LNil {
			continue
		}
		holder = d
		if cv != lua.LNil && cs != lua.LNil {
			l.problem(d.keyPos("checks"), "use check or checks, not both")
		}
		switch {
		case cv == lua.LFalse:
		case cv != lua.LNil:
			list = append(list, cv)
		case cs == lua.LFalse:
		default:
			t, ok := cs.(*lua.LTable)
			if !ok {
				l.problem(d.valPos("checks"), "checks must be a list of checks, got %s", typeName(cs))
				break
			}
			l.checkList(t, d.valPos("checks"), "checks")
			for i := 1; i <= t.Len(); i++ {
				list = append(list, t.RawGetInt(i))
			}
		}
		break
	}
	var out []model.Check
	for _, v := range list {
		cd := l.asDecl(v, mtCheck)
		if cd == nil {
			key := "check"
			if holder.opts.RawGetString("check") == lua.LNil {
				key = "checks"
			}
			l.problem(holder.valPos(key), "%s must be a check such as http { path = \"/\" } or tcp {}, got %s", key, typeName(v))
			continue
		}
		if ck, ok := l.resolveCheck(cd, c); ok {
			out = append(out, ck)
		}
	}
	return out
}

// validateUnusedChecks resolves the checks no real server used (say, a
// defaults check every server overrides), so that their mistakes are
// reported too.
func (l *loader) validateUnusedChecks() {
	for _, cd := range l.checks {
		if !l.resolved[cd] {
			l.resolveCheck(cd, chain{l.defaults})
		}
	}
}

// resolveCheck builds one check with its kind's spec; the inherited
// settings are looked up along c.
func (l *loader) resolveCheck(cd *decl, c chain) (model.Check, bool) {
	if l.resolved == nil {
		l.resolved = map[*decl]bool{}
	}
	l.resolved[cd] = true // (a problem found again for another server is reported once)
	spec, err := check.SpecFor(model.CheckKind(cd.kind))
	if err != nil {
		l.problem(cd.pos, "%v", err)
		return model.Check{}, false
	}
	l.checkKeys(cd, spec.Keys(), false)
	src := checkSource{own: cd, all: append(chain{cd}, c...)}
	ck, err := check.Decode(spec.Kind, src)
	ck.Where = cd.pos.String()
	if err == nil {
		return ck, true
	}
	var ps check.Problems
	if !errors.As(err, &ps) {
		l.problem(cd.pos, "%v", err)
		return ck, false
	}
	for _, p := range ps {
		l.problem(src.pos(p.Key), "%s", p.Msg)
	}
	return ck, false
}

// checkSource is a check declaration as a check.Source.
type checkSource struct {
	own *decl
	all chain // own, then the declarations it inherits from
}

func (s checkSource) chain(inherit bool) chain {
	if inherit {
		return s.all
	}
	return chain{s.own}
}

// Lookup implements check.Source.
func (s checkSource) Lookup(key string, inherit bool) any {
	v, _ := s.chain(inherit).get(key)
	return goValue(v)
}

// pos is where a problem with key is written: its value in the declaration
// that sets it, else the check.
func (s checkSource) pos(key string) Pos {
	if key != "" {
		if _, d := s.chain(slices.Contains(checkCommonKeys, key)).get(key); d != nil {
			return d.valPos(key)
		}
	}
	return s.own.pos
}
