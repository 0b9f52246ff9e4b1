package luaconf

import (
	"path/filepath"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/luvs-lb/luvs/internal/check"
	"github.com/luvs-lb/luvs/internal/luasrc"
)

// decl is one DSL call: virtual_server, real_server, defaults or a check.
type decl struct {
	kind string // "virtual_server", "real_server", "defaults", or a check kind
	arg  string // the address argument (virtual and real servers)
	opts *lua.LTable
	pos  Pos
	site *luasrc.CallSite
	ud   *lua.LUserData
}

// keyPos is where key is written in the declaration's table (or the call).
func (d *decl) keyPos(key string) Pos {
	if d.site != nil {
		if f, ok := d.site.Fields[key]; ok {
			return Pos{File: d.pos.File, Line: f.Key.Line, Col: f.Key.Col}
		}
	}
	return d.pos
}

// valPos is where the value of key is written.
func (d *decl) valPos(key string) Pos {
	if d.site != nil {
		if f, ok := d.site.Fields[key]; ok {
			return Pos{File: d.pos.File, Line: f.Value.Line, Col: f.Value.Col}
		}
	}
	return d.pos
}

// itemPos is where the i-th (0-based) positional entry is written.
func (d *decl) itemPos(i int) Pos {
	if d.site != nil && i >= 0 && i < len(d.site.Items) {
		p := d.site.Items[i]
		return Pos{File: d.pos.File, Line: p.Line, Col: p.Col}
	}
	return d.pos
}

// tablePos is where the declaration's table of options opens.
func (d *decl) tablePos() Pos {
	if d.site != nil && d.site.Table.Line > 0 {
		return Pos{File: d.pos.File, Line: d.site.Table.Line, Col: d.site.Table.Col}
	}
	return d.pos
}

// argPos is where the address argument is written.
func (d *decl) argPos() Pos {
	if d.site != nil && d.site.ArgPos.Line > 0 {
		return Pos{File: d.pos.File, Line: d.site.ArgPos.Line, Col: d.site.ArgPos.Col}
	}
	return d.pos
}

const (
	mtRealServer    = "luvs.real_server"
	mtVirtualServer = "luvs.virtual_server"
	mtCheck         = "luvs.check"
)

// checkKinds are the built-in checkers, also the names of their constructors.
var checkKinds = func() []string {
	var kinds []string
	for _, s := range check.Specs() {
		kinds = append(kinds, string(s.Kind))
	}
	return kinds
}()

// install defines the DSL in the Lua state.
func (l *loader) install() {
	L := l.L
	rs := L.NewTypeMetatable(mtRealServer)
	L.SetField(rs, "__index", L.NewFunction(l.realServerIndex))
	L.SetField(rs, "__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("real servers are read-only here; set %s in real_server \"...\" { %s = ... }",
			L.CheckString(2), L.CheckString(2))
		return 0
	}))
	tostring := L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(describe(declOf(L.CheckUserData(1)))))
		return 1
	})
	L.SetField(rs, "__tostring", tostring)
	vs := L.NewTypeMetatable(mtVirtualServer)
	L.SetField(vs, "__index", L.NewFunction(func(L *lua.LState) int {
		d := declOf(L.CheckUserData(1))
		switch L.CheckString(2) {
		case "addr", "address":
			L.Push(lua.LString(d.arg))
		default:
			L.Push(d.opts.RawGetString(L.CheckString(2)))
		}
		return 1
	}))
	L.SetField(vs, "__tostring", tostring)
	L.SetField(L.NewTypeMetatable(mtCheck), "__tostring", tostring)

	L.SetGlobal("virtual_server", L.NewFunction(l.addressed("virtual_server", mtVirtualServer)))
	L.SetGlobal("real_server", L.NewFunction(l.addressed("real_server", mtRealServer)))
	L.SetGlobal("defaults", L.NewFunction(l.defaultsFn))
	L.SetGlobal("timeouts", L.NewFunction(l.globalFn("timeouts")))
	L.SetGlobal("sync_daemon", L.NewFunction(l.globalFn("sync_daemon")))
	L.SetGlobal("scripts", L.NewFunction(l.globalFn("scripts")))
	L.SetGlobal("bgp", L.NewFunction(l.globalFn("bgp")))
	L.SetGlobal("sysctl", L.NewFunction(l.globalFn("sysctl")))
	L.SetGlobal("vrrp", L.NewFunction(l.vrrpFn))
	L.SetGlobal("include", L.NewFunction(l.includeFn))
	for _, kind := range checkKinds {
		// A check constructor is a table so that health-check helpers
		// (http.get, tcp.connect, ...) can live beside it: http { ... } builds
		// a check, http.get(url) fetches a page (inside health checks only).
		t := L.NewTable()
		meta := L.NewTable()
		L.SetField(meta, "__call", L.NewFunction(l.checkFn(kind)))
		L.SetMetatable(t, meta)
		L.SetGlobal(kind, t)
	}
	l.strictGlobals()
	for kind, helpers := range map[string][]string{
		"http": {"get", "post"}, "https": {"get", "post"},
		"tcp": {"connect"}, "udp": {"exchange"}, "dns": {"query"},
	} {
		t := L.GetGlobal(kind).(*lua.LTable)
		for _, h := range helpers {
			name := kind + "." + h
			t.RawSetString(h, L.NewFunction(func(L *lua.LState) int {
				L.RaiseError("%s talks to the network, which is only allowed inside health checks (healthcheck = function(lvs, dests) ... end)", name)
				return 0
			}))
		}
	}
}

// strictGlobals makes reading an undefined global an error that names it
// (and the closest defined name), instead of a silent nil: a typo such as
// virtual_sever "..." is caught where it is written.
func (l *loader) strictGlobals() {
	L := l.L
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		name := L.CheckString(2)
		var known []string
		L.G.Global.ForEach(func(k, _ lua.LValue) { known = append(known, k.String()) })
		L.RaiseError("unknown name %q%s", name, suggest(name, known))
		return 0
	}))
	L.SetMetatable(L.G.Global, mt)
}

func declOf(ud *lua.LUserData) *decl {
	d, _ := ud.Value.(*decl)
	if d == nil {
		return &decl{}
	}
	return d
}

// newDecl records a DSL call at the caller's position, finding its call
// site (for column positions of keys and values) in the source index.
func (l *loader) newDecl(kind, fn, arg string, opts *lua.LTable) *decl {
	pos, f := l.callerPos()
	d := &decl{kind: kind, arg: arg, opts: opts, pos: pos}
	if opts.Metatable != lua.LNil {
		// Options are read as written (raw): an __index would be ignored.
		l.L.RaiseError("%s: options must be a plain table, not one with a metatable", describe(d))
	}
	if f != nil && f.index != nil && pos.Line > 0 {
		if site, ok := f.index.Find(fn, pos.Line, arg, 0); ok {
			d.site = site
			d.pos = Pos{File: f.name, Line: site.Pos.Line, Col: site.Pos.Col}
		}
	}
	return d
}

// addressed returns the Lua function for `NAME "address" { options }`.
func (l *loader) addressed(kind, mt string) lua.LGFunction {
	return func(L *lua.LState) int {
		if L.Get(1).Type() == lua.LTTable {
			L.RaiseError(`%s needs an address before its options: %s "198.18.0.10:80" { ... }`, kind, kind)
		}
		if L.Get(1).Type() != lua.LTString {
			L.RaiseError(`%s needs an address string, got %s: %s "198.18.0.10:80" { ... }`, kind, L.Get(1).Type(), kind)
		}
		arg := L.CheckString(1)
		L.Push(L.NewFunction(func(L *lua.LState) int {
			opts, ok := L.Get(1).(*lua.LTable)
			if !ok {
				L.RaiseError(`%s %q needs a table of options: %s %q { ... } (got %s)`, kind, arg, kind, arg, L.Get(1).Type())
			}
			if kind == "virtual_server" && l.loaded {
				L.RaiseError("virtual_server can only be declared while the configuration loads, not in a health check")
			}
			d := l.newDecl(kind, kind, arg, opts)
			ud := L.NewUserData()
			ud.Value = d
			d.ud = ud
			L.SetMetatable(ud, L.GetTypeMetatable(mt))
			if kind == "virtual_server" {
				l.services = append(l.services, d)
			}
			L.Push(ud)
			return 1
		}))
		return 1
	}
}

// realServerIndex serves web1.addr, web1.port, web1.hostport, web1.weight, web1.name.
func (l *loader) realServerIndex(L *lua.LState) int {
	d := declOf(L.CheckUserData(1))
	key := L.CheckString(2)
	ap, err := parseServerAddr(d.arg, 0)
	switch key {
	case "addr", "address":
		if err != nil {
			L.Push(lua.LString(d.arg))
		} else {
			L.Push(lua.LString(ap.Addr().String()))
		}
	case "port":
		L.Push(lua.LNumber(ap.Port()))
	case "hostport":
		L.Push(lua.LString(d.arg))
	case "weight", "name", "forward":
		L.Push(d.opts.RawGetString(key))
	default:
		L.RaiseError("real servers have addr, port, hostport, weight, name and forward, not %q", key)
	}
	return 1
}

// defaultsFn is `defaults { ... }`, allowed once.
func (l *loader) defaultsFn(L *lua.LState) int {
	opts, ok := L.Get(1).(*lua.LTable)
	if !ok {
		L.RaiseError("defaults needs a table of options: defaults { scheduler = \"wrr\" }")
	}
	if l.loaded {
		L.RaiseError("defaults can only be set while the configuration loads, not in a health check")
	}
	d := l.newDecl("defaults", "defaults", "", opts)
	if l.defaults != nil {
		l.problem(d.pos, "defaults already set at %s; set all defaults in one place", l.defaults.pos)
		return 0
	}
	l.defaults = d
	return 0
}

// checkFn is the constructor of one check kind: http { path = "/" }.
func (l *loader) checkFn(kind string) lua.LGFunction {
	return func(L *lua.LState) int {
		// Called through __call: argument 1 is the constructor table itself.
		opts, ok := L.Get(2).(*lua.LTable)
		if !ok {
			if L.Get(2) == lua.LNil {
				opts = L.NewTable()
			} else {
				L.RaiseError("%s check needs a table of options: %s { ... } (got %s)", kind, kind, L.Get(2).Type())
			}
		}
		d := l.newDecl(kind, kind, "", opts)
		ud := L.NewUserData()
		ud.Value = d
		d.ud = ud
		L.SetMetatable(ud, L.GetTypeMetatable(mtCheck))
		if !l.loaded {
			l.checks = append(l.checks, d) // validated even if unused
		}
		L.Push(ud)
		return 1
	}
}

// includeFn is `include "file.lua"`: a file relative to the including one,
// inside the main configuration's directory.
func (l *loader) includeFn(L *lua.LState) int {
	if l.loaded {
		L.RaiseError("include can only be used while the configuration loads, not in a health check")
	}
	name := L.CheckString(1)
	pos, f := l.callerPos()
	dir := l.root
	if f != nil {
		dir = filepath.Dir(f.path)
	}
	abs := filepath.Clean(filepath.Join(dir, name))
	if filepath.IsAbs(name) {
		abs = filepath.Clean(name)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err == nil {
		abs = real
	}
	rootReal, rerr := filepath.EvalSymlinks(l.root)
	if rerr != nil {
		rootReal = l.root
	}
	if rel, err := filepath.Rel(rootReal, abs); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		L.RaiseError("include %q: outside the configuration's directory %s", name, l.root)
	}
	shown := name
	if f != nil && !filepath.IsAbs(name) {
		shown = filepath.Join(filepath.Dir(f.name), name)
	}
	if err := l.runFile(shown, abs, pos); err != nil {
		// Record the included file's error where it happened, then stop the
		// including file without a second message. A load stopped by a limit
		// is reported once, by Load.
		_, recorded := err.(Problems)
		recorded = recorded || strings.Contains(err.Error(), errIncluded)
		if !recorded && L.Context().Err() == nil {
			l.problems = append(l.problems, Problem{Pos: l.errorPos(err), Msg: l.errorText(err)})
		}
		L.RaiseError("%s", errIncluded)
	}
	return 0
}

// errIncluded marks an error already reported inside an included file.
const errIncluded = "(error in included file)"
