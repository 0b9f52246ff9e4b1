// Package luaipvs is the low-level Lua API of luvs: the `ipvs` module that
// mirrors the kernel's objects for imperative scripts (`luvs exec`), in the
// shape of mruby-ipvs:
//
//	local svc = ipvs.Service.new{addr = "198.18.0.10", port = 80, proto = "tcp", sched_name = "wrr"}
//	svc:add_service()
//	local web1 = ipvs.Dest.new{addr = "198.18.1.1", port = 80, weight = 1, conn = "nat"}
//	svc:add_dest(web1)
//	web1.weight = 3            -- applied to the kernel at once
//	for _, s in ipairs(ipvs.services()) do print(s.addr, s.port, #s.dests) end
//
// Objects made with .new exist only in the script until added; after
// svc:add_service() (or when read with ipvs.services()) field assignments
// (svc.sched_name, d.weight, d.conn, thresholds) are sent to the kernel.
//
// Every kernel refusal raises a Lua error carrying the script position and
// the kernel's reason.
package luaipvs

import (
	"net/netip"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/luvs-lb/luvs/internal/ipvs"
	"github.com/luvs-lb/luvs/internal/model"
)

// Kernel is what the module needs from the data plane (*ipvs.Client has it).
type Kernel interface {
	Table() ([]ipvs.Service, error)
	AddService(model.Service) error
	EditService(model.Service) error
	DelService(model.ServiceKey) error
	AddDest(model.ServiceKey, model.Dest) error
	EditDest(model.ServiceKey, model.Dest) error
	DelDest(model.ServiceKey, model.DestKey) error
	StartDaemon(model.SyncDaemon) error
	StopDaemon(model.SyncState) error
	Daemons() ([]model.SyncDaemon, error)
	Zero(*model.ServiceKey) error
}

const (
	mtService = "ipvs.Service"
	mtDest    = "ipvs.Dest"
	mtDaemon  = "ipvs.Daemon"
)

// service is the Go side of an ipvs.Service object.
type service struct {
	model.Service
	live    bool // added to (or read from) the kernel: changes apply at once
	stats   ipvs.Stats
	pending []*dest // added before add_service; sent with it
}

// dest is the Go side of an ipvs.Dest object.
type dest struct {
	model.Dest
	svc                 *service // the service it was added to, if any
	active, inact, pers uint32
	stats               ipvs.Stats
}

type module struct{ k Kernel }

// Register installs the global `ipvs` table in L.
func Register(L *lua.LState, k Kernel) {
	m := &module{k: k}
	t := L.NewTable()

	svcMT := L.NewTypeMetatable(mtService)
	svcMethods := map[string]lua.LGFunction{
		"add_service": m.addService, "del_service": m.delService, "add_dest": m.addDest,
		"del_dest": m.delDest, "zero": m.zero,
	}
	L.SetField(svcMT, "__index", L.NewFunction(func(L *lua.LState) int {
		s := checkService(L, 1)
		key := L.CheckString(2)
		if fn, ok := svcMethods[key]; ok {
			L.Push(L.NewFunction(fn))
			return 1
		}
		if key == "dests" {
			L.Push(m.destList(L, s))
			return 1
		}
		L.Push(serviceField(L, s, key))
		return 1
	}))
	L.SetField(svcMT, "__newindex", L.NewFunction(m.setServiceField))
	L.SetField(svcMT, "__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("ipvs.Service(" + checkService(L, 1).ServiceKey.String() + ")"))
		return 1
	}))
	svcClass := L.NewTable()
	svcClass.RawSetString("new", L.NewFunction(newService))
	t.RawSetString("Service", svcClass)

	destMT := L.NewTypeMetatable(mtDest)
	L.SetField(destMT, "__index", L.NewFunction(func(L *lua.LState) int {
		L.Push(destField(L, checkDest(L, 1), L.CheckString(2)))
		return 1
	}))
	L.SetField(destMT, "__newindex", L.NewFunction(m.setDestField))
	L.SetField(destMT, "__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("ipvs.Dest(" + checkDest(L, 1).DestKey.String() + ")"))
		return 1
	}))
	destClass := L.NewTable()
	destClass.RawSetString("new", L.NewFunction(newDest))
	t.RawSetString("Dest", destClass)

	dmMT := L.NewTypeMetatable(mtDaemon)
	dmMethods := L.NewTable()
	dmMethods.RawSetString("start", L.NewFunction(func(L *lua.LState) int {
		d := checkDaemon(L, 1)
		if err := m.k.StartDaemon(*d); err != nil {
			L.RaiseError("%v", err)
		}
		return 0
	}))
	dmMethods.RawSetString("stop", L.NewFunction(func(L *lua.LState) int {
		if err := m.k.StopDaemon(checkDaemon(L, 1).State); err != nil {
			L.RaiseError("%v", err)
		}
		return 0
	}))
	L.SetField(dmMT, "__index", L.NewFunction(func(L *lua.LState) int {
		d := checkDaemon(L, 1)
		switch key := L.CheckString(2); key {
		case "state":
			L.Push(lua.LString(d.State.String()))
		case "ifname":
			L.Push(lua.LString(d.Interface))
		case "syncid":
			L.Push(lua.LNumber(d.SyncID))
		default:
			L.Push(dmMethods.RawGetString(key))
		}
		return 1
	}))
	dmClass := L.NewTable()
	dmClass.RawSetString("new", L.NewFunction(newDaemon))
	t.RawSetString("Daemon", dmClass)

	t.RawSetString("services", L.NewFunction(m.services))
	t.RawSetString("daemons", L.NewFunction(m.daemons))
	L.SetGlobal("ipvs", t)
}

func checkService(L *lua.LState, n int) *service {
	if s, ok := L.CheckUserData(n).Value.(*service); ok {
		return s
	}
	L.ArgError(n, "ipvs.Service expected")
	return nil
}

func checkDest(L *lua.LState, n int) *dest {
	if d, ok := L.CheckUserData(n).Value.(*dest); ok {
		return d
	}
	L.ArgError(n, "ipvs.Dest expected")
	return nil
}

func checkDaemon(L *lua.LState, n int) *model.SyncDaemon {
	if d, ok := L.CheckUserData(n).Value.(*model.SyncDaemon); ok {
		return d
	}
	L.ArgError(n, "ipvs.Daemon expected")
	return nil
}

func wrap(L *lua.LState, v any, mt string) *lua.LUserData {
	ud := L.NewUserData()
	ud.Value = v
	L.SetMetatable(ud, L.GetTypeMetatable(mt))
	return ud
}

// fields reads an options table strictly: unknown keys are errors.
type fields struct {
	L    *lua.LState
	t    *lua.LTable
	what string
	used map[string]bool
}

func newFields(L *lua.LState, n int, what string) *fields {
	return &fields{L: L, t: L.CheckTable(n), what: what, used: map[string]bool{}}
}

func (f *fields) get(key string) lua.LValue {
	f.used[key] = true
	return f.t.RawGetString(key)
}

func (f *fields) str(key, def string) string {
	switch v := f.get(key).(type) {
	case *lua.LNilType:
		return def
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return v.String()
	default:
		f.L.RaiseError("%s: %s must be a string, got %s", f.what, key, v.Type())
	}
	return ""
}

func (f *fields) num(key string, def, lo, hi int) int {
	switch v := f.get(key).(type) {
	case *lua.LNilType:
		return def
	case lua.LNumber:
		n := int(v)
		if float64(n) != float64(v) || n < lo || n > hi {
			f.L.RaiseError("%s: %s = %v out of range %d..%d", f.what, key, v, lo, hi)
		}
		return n
	default:
		f.L.RaiseError("%s: %s must be a number, got %s", f.what, key, v.Type())
	}
	return 0
}

func (f *fields) done(known ...string) {
	f.t.ForEach(func(k, _ lua.LValue) {
		if !f.used[k.String()] {
			f.L.RaiseError("%s: unknown field %q (known: %s)", f.what, k.String(), strings.Join(known, ", "))
		}
	})
}

// hostPort reads addr (with or without ":port") and port.
func hostPort(L *lua.LState, f *fields, what string) (netip.Addr, uint16) {
	s := f.str("addr", "")
	port := f.num("port", -1, 0, 65535)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if port >= 0 && int(ap.Port()) != port {
			L.RaiseError("%s: addr %q and port %d disagree", what, s, port)
		}
		return ap.Addr().Unmap(), ap.Port()
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		L.RaiseError("%s: invalid addr %q", what, s)
	}
	return a.Unmap(), uint16(max(port, 0))
}

var serviceFieldNames = []string{"addr", "port", "proto", "protocol", "fwmark", "af", "sched_name",
	"scheduler", "timeout", "netmask", "flags", "ops", "pe_name"}

// newService is ipvs.Service.new{addr=, port=, proto=, sched_name=, ...}.
func newService(L *lua.LState) int {
	f := newFields(L, 1, "ipvs.Service.new")
	s := &service{}
	if m := f.num("fwmark", 0, 0, 1<<31-1); m > 0 {
		s.FWMark, s.Family = uint32(m), model.IPv4
		if af := f.str("af", "inet"); af == "inet6" || af == "ipv6" || af == "6" {
			s.Family = model.IPv6
		}
	} else {
		s.Addr, s.Port = hostPort(L, f, "ipvs.Service.new")
		s.Family = model.FamilyOf(s.Addr)
		p, err := model.ParseProtocol(f.str("proto", f.str("protocol", "tcp")))
		if err != nil {
			L.RaiseError("ipvs.Service.new: %v", err)
		}
		s.Protocol = p
		f.get("af")
	}
	s.Scheduler = f.str("sched_name", f.str("scheduler", "wlc"))
	if t := f.num("timeout", 0, 0, model.MaxPersistTimeout); t > 0 {
		s.Persistent, s.Timeout = true, uint32(t)
	}
	s.NetmaskBits = f.num("netmask", 0, 0, 128)
	if fl := f.str("flags", ""); fl != "" {
		for _, n := range strings.Split(fl, ",") {
			bit, err := model.ParseSchedFlag(s.Scheduler, n)
			if err != nil {
				L.RaiseError("ipvs.Service.new: %v", err)
			}
			s.SchedFlags |= bit
		}
	}
	s.OnePacket = lua.LVAsBool(f.get("ops"))
	s.PEName = f.str("pe_name", "")
	f.done(serviceFieldNames...)
	if ps := model.ValidateService(&s.Service); len(ps) > 0 {
		L.RaiseError("ipvs.Service.new: %v", ps)
	}
	L.Push(wrap(L, s, mtService))
	return 1
}

func serviceField(L *lua.LState, s *service, key string) lua.LValue {
	switch key {
	case "addr":
		if s.IsFWMark() {
			return lua.LNil
		}
		return lua.LString(s.Addr.String())
	case "port":
		return lua.LNumber(s.Port)
	case "proto", "protocol":
		if s.IsFWMark() {
			return lua.LNil
		}
		return lua.LString(strings.ToLower(s.Protocol.String()))
	case "fwmark":
		return lua.LNumber(s.FWMark)
	case "af":
		if s.Family == model.IPv6 {
			return lua.LString("inet6")
		}
		return lua.LString("inet")
	case "sched_name", "scheduler":
		return lua.LString(s.Scheduler)
	case "timeout":
		return lua.LNumber(s.Timeout)
	case "netmask":
		if !s.Persistent {
			return lua.LNumber(0)
		}
		return lua.LNumber(s.Netmask())
	case "flags":
		return lua.LString(model.SchedFlagNames(s.Scheduler, s.SchedFlags))
	case "ops":
		return lua.LBool(s.OnePacket)
	case "pe_name":
		return lua.LString(s.PEName)
	case "stats":
		return statsTable(L, s.stats)
	}
	L.RaiseError("ipvs.Service has no field %q", key)
	return lua.LNil
}

// setServiceField handles svc.sched_name = "rr" (and timeout, netmask, flags,
// ops): applied to the kernel at once when the service is live.
func (m *module) setServiceField(L *lua.LState) int {
	s := checkService(L, 1)
	key := L.CheckString(2)
	next := s.Service
	v := L.Get(3)
	switch key {
	case "sched_name", "scheduler":
		next.Scheduler = L.CheckString(3)
	case "timeout":
		t := L.CheckInt(3)
		next.Persistent, next.Timeout = t > 0, uint32(max(t, 0))
	case "netmask":
		next.NetmaskBits = L.CheckInt(3)
	case "ops":
		next.OnePacket = lua.LVAsBool(v)
	case "pe_name":
		next.PEName = L.CheckString(3)
	default:
		L.RaiseError("ipvs.Service field %q cannot be changed (the address, port, protocol and fwmark identify the service)", key)
	}
	if ps := model.ValidateService(&next); len(ps) > 0 {
		L.RaiseError("%v", ps)
	}
	if s.live {
		if err := m.k.EditService(next); err != nil {
			L.RaiseError("%v", err)
		}
	}
	s.Service = next
	return 0
}

func (m *module) addService(L *lua.LState) int {
	s := checkService(L, 1)
	if err := m.k.AddService(s.Service); err != nil {
		L.RaiseError("%v", err)
	}
	s.live = true
	for _, d := range s.pending {
		if err := m.k.AddDest(s.ServiceKey, d.Dest); err != nil {
			L.RaiseError("%v", err)
		}
	}
	s.pending = nil
	return 0
}

func (m *module) delService(L *lua.LState) int {
	s := checkService(L, 1)
	if err := m.k.DelService(s.ServiceKey); err != nil {
		L.RaiseError("%v", err)
	}
	s.live = false
	return 0
}

func (m *module) zero(L *lua.LState) int {
	s := checkService(L, 1)
	if err := m.k.Zero(&s.ServiceKey); err != nil {
		L.RaiseError("%v", err)
	}
	return 0
}

var destFieldNames = []string{"addr", "port", "weight", "conn", "u_threshold", "l_threshold", "tun_type", "tun_port"}

// newDest is ipvs.Dest.new{addr=, port=, weight=, conn="nat"|"dr"|"tun", ...}.
func newDest(L *lua.LState) int {
	f := newFields(L, 1, "ipvs.Dest.new")
	d := &dest{}
	d.Addr, d.Port = hostPort(L, f, "ipvs.Dest.new")
	d.Weight = f.num("weight", 1, 0, model.MaxWeight)
	fwd, err := model.ParseForwardMethod(f.str("conn", "nat"))
	if err != nil {
		L.RaiseError("ipvs.Dest.new: conn: %v", err)
	}
	d.Forward = fwd
	d.UpperThreshold = uint32(f.num("u_threshold", 0, 0, 1<<31-1))
	d.LowerThreshold = uint32(f.num("l_threshold", 0, 0, 1<<31-1))
	if tt := f.str("tun_type", ""); tt != "" {
		if d.TunnelType, err = model.ParseTunnelType(tt); err != nil {
			L.RaiseError("ipvs.Dest.new: %v", err)
		}
	}
	d.TunnelPort = uint16(f.num("tun_port", 0, 0, 65535))
	f.done(destFieldNames...)
	L.Push(wrap(L, d, mtDest))
	return 1
}

func destField(L *lua.LState, d *dest, key string) lua.LValue {
	switch key {
	case "addr":
		return lua.LString(d.Addr.String())
	case "port":
		return lua.LNumber(d.Port)
	case "weight":
		return lua.LNumber(d.Weight)
	case "conn":
		return lua.LString(map[model.ForwardMethod]string{model.Masquerade: "nat", model.DirectRoute: "dr",
			model.Tunnel: "tun", model.LocalNode: "local", model.Bypass: "bypass"}[d.Forward])
	case "u_threshold":
		return lua.LNumber(d.UpperThreshold)
	case "l_threshold":
		return lua.LNumber(d.LowerThreshold)
	case "tun_type":
		return lua.LString(d.TunnelType.String())
	case "tun_port":
		return lua.LNumber(d.TunnelPort)
	case "active_conns":
		return lua.LNumber(d.active)
	case "inact_conns":
		return lua.LNumber(d.inact)
	case "persist_conns":
		return lua.LNumber(d.pers)
	case "stats":
		return statsTable(L, d.stats)
	}
	L.RaiseError("ipvs.Dest has no field %q", key)
	return lua.LNil
}

// setDestField handles d.weight = 3 (and conn, thresholds): applied to the
// kernel at once when the dest belongs to a live service.
func (m *module) setDestField(L *lua.LState) int {
	d := checkDest(L, 1)
	key := L.CheckString(2)
	next := d.Dest
	switch key {
	case "weight":
		w := L.CheckInt(3)
		if w < 0 || w > model.MaxWeight {
			L.RaiseError("weight %d out of range 0..%d", w, model.MaxWeight)
		}
		next.Weight = w
	case "conn":
		fwd, err := model.ParseForwardMethod(L.CheckString(3))
		if err != nil {
			L.RaiseError("%v", err)
		}
		next.Forward = fwd
	case "u_threshold":
		next.UpperThreshold = uint32(L.CheckInt(3))
	case "l_threshold":
		next.LowerThreshold = uint32(L.CheckInt(3))
	default:
		L.RaiseError("ipvs.Dest field %q cannot be changed (the address and port identify the dest)", key)
	}
	if d.svc != nil {
		if ps := model.ValidateDest(&d.svc.Service, &next); len(ps) > 0 {
			L.RaiseError("%v", ps)
		}
		if d.svc.live {
			if err := m.k.EditDest(d.svc.ServiceKey, next); err != nil {
				L.RaiseError("%v", err)
			}
		}
	}
	d.Dest = next
	return 0
}

func (m *module) addDest(L *lua.LState) int {
	s, d := checkService(L, 1), checkDest(L, 2)
	if ps := model.ValidateDest(&s.Service, &d.Dest); len(ps) > 0 {
		L.RaiseError("%v", ps)
	}
	if s.live {
		if err := m.k.AddDest(s.ServiceKey, d.Dest); err != nil {
			L.RaiseError("%v", err)
		}
	} else {
		s.pending = append(s.pending, d)
	}
	d.svc = s
	return 0
}

func (m *module) delDest(L *lua.LState) int {
	s, d := checkService(L, 1), checkDest(L, 2)
	if s.live {
		if err := m.k.DelDest(s.ServiceKey, d.DestKey); err != nil {
			L.RaiseError("%v", err)
		}
	}
	d.svc = nil
	return 0
}

// destList returns a service's real servers: for a live service as the
// kernel has them now, otherwise those added in the script.
func (m *module) destList(L *lua.LState, s *service) *lua.LTable {
	out := L.NewTable()
	if !s.live {
		for _, d := range s.pending {
			out.Append(wrap(L, d, mtDest))
		}
		return out
	}
	table, err := m.k.Table()
	if err != nil {
		L.RaiseError("%v", err)
	}
	for _, ks := range table {
		if ks.ServiceKey == s.ServiceKey {
			for _, kd := range ks.Dests {
				out.Append(wrap(L, liveDest(s, kd), mtDest))
			}
		}
	}
	return out
}

func liveDest(s *service, kd ipvs.Dest) *dest {
	return &dest{Dest: kd.Dest, svc: s, active: kd.ActiveConns, inact: kd.InactConns, pers: kd.PersistConns, stats: kd.Stats}
}

// services is ipvs.services(): the live table, each service with .dests.
func (m *module) services(L *lua.LState) int {
	table, err := m.k.Table()
	if err != nil {
		L.RaiseError("%v", err)
	}
	out := L.NewTable()
	for _, ks := range table {
		s := &service{Service: ks.Service, live: true, stats: ks.Stats}
		ud := wrap(L, s, mtService)
		out.Append(ud)
	}
	L.Push(out)
	return 1
}

func (m *module) daemons(L *lua.LState) int {
	ds, err := m.k.Daemons()
	if err != nil {
		L.RaiseError("%v", err)
	}
	out := L.NewTable()
	for i := range ds {
		out.Append(wrap(L, &ds[i], mtDaemon))
	}
	L.Push(out)
	return 1
}

// newDaemon is ipvs.Daemon.new{state="master", ifname="eth0", syncid=1}.
func newDaemon(L *lua.LState) int {
	f := newFields(L, 1, "ipvs.Daemon.new")
	st, err := model.ParseSyncState(f.str("state", "master"))
	if err != nil {
		L.RaiseError("ipvs.Daemon.new: %v", err)
	}
	d := &model.SyncDaemon{State: st, Interface: f.str("ifname", ""), SyncID: uint8(f.num("syncid", 0, 0, 255))}
	if d.Interface == "" {
		L.RaiseError("ipvs.Daemon.new: ifname is required")
	}
	f.done("state", "ifname", "syncid")
	L.Push(wrap(L, d, mtDaemon))
	return 1
}

func statsTable(L *lua.LState, s ipvs.Stats) *lua.LTable {
	t := L.NewTable()
	for k, v := range map[string]uint64{"conns": s.Conns, "inpkts": s.InPkts, "outpkts": s.OutPkts,
		"inbytes": s.InBytes, "outbytes": s.OutBytes, "cps": s.CPS, "inpps": s.InPPS, "outpps": s.OutPPS,
		"inbps": s.InBPS, "outbps": s.OutBPS} {
		t.RawSetString(k, lua.LNumber(v))
	}
	return t
}
