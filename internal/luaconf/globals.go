package luaconf

import (
	"net/netip"

	lua "github.com/yuin/gopher-lua"

	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/proc"
	"github.com/luvs-lb/luvs/internal/value"
)

// Keys of the global declarations.
var (
	timeoutsKeys   = []string{"tcp", "tcp_fin", "udp"}
	scriptsKeys    = []string{"user", "group"}
	syncDaemonKeys = []string{"state", "interface", "id", "maxlen", "group", "port", "ttl"}
)

// globalFn is `timeouts { ... }`, `sync_daemon { ... }`, `scripts { ... }`,
// `bgp { ... }` or `sysctl { ... }`: settings of the whole director.
func (l *loader) globalFn(kind string) lua.LGFunction {
	return func(L *lua.LState) int {
		opts, ok := L.Get(1).(*lua.LTable)
		if !ok {
			L.RaiseError("%s needs a table of options: %s { ... } (got %s)", kind, kind, L.Get(1).Type())
		}
		if l.loaded {
			L.RaiseError("%s can only be declared while the configuration loads, not in a health check", kind)
		}
		d := l.newDecl(kind, kind, "", opts)
		if kind == "scripts" {
			if l.scripts != nil {
				l.problem(d.pos, "scripts already set at %s; set it in one place", l.scripts.pos)
				return 0
			}
			l.scripts = d
			return 0
		}
		if kind == "bgp" {
			if l.bgp != nil {
				l.problem(d.pos, "bgp already declared at %s; a director has one BGP speaker", l.bgp.pos)
				return 0
			}
			l.bgp = d
			return 0
		}
		if kind == "sysctl" {
			l.sysctls = append(l.sysctls, d)
			return 0
		}
		if kind == "timeouts" {
			if l.timeouts != nil {
				l.problem(d.pos, "timeouts already set at %s; set all timeouts in one place", l.timeouts.pos)
				return 0
			}
			l.timeouts = d
			return 0
		}
		l.syncDaemons = append(l.syncDaemons, d)
		return 0
	}
}

// resolveGlobals reads the timeouts, sync daemons, scripts user and BGP
// speaker into cfg.
func (l *loader) resolveGlobals(cfg *model.Config) {
	l.resolveBGP(cfg)
	if d := l.timeouts; d != nil {
		l.checkKeys(d, timeoutsKeys, false)
		t := &model.Timeouts{}
		for _, f := range []struct {
			key string
			to  *uint32
		}{{"tcp", &t.TCP}, {"tcp_fin", &t.TCPFin}, {"udp", &t.UDP}} {
			if secs, _, ok := decode(l, chain{d}, f.key, func(v any) (int, error) {
				return value.Seconds(f.key, v, 1, model.MaxTimeout)
			}); ok {
				*f.to = uint32(secs)
			}
		}
		set := false
		for _, k := range timeoutsKeys {
			set = set || d.opts.RawGetString(k) != lua.LNil
		}
		switch {
		case !set:
			l.problem(d.tablePos(), "timeouts sets nothing: give tcp, tcp_fin or udp")
		case *t != (model.Timeouts{}):
			cfg.Timeouts = t
		}
	}
	if d := l.scripts; d != nil {
		l.checkKeys(d, scriptsKeys, false)
		u, ud, uok := l.line(chain{d}, "user")
		g, _, _ := l.line(chain{d}, "group")
		switch {
		case ud == nil:
			l.problem(d.tablePos(), `scripts needs user = "nobody" (who runs exec checks and notify programs)`)
		case uok:
			if _, err := proc.Credential(u, g); err != nil {
				l.problem(d.valPos("user"), "scripts: %v", err)
			} else {
				cfg.Scripts = &model.ScriptUser{User: u, Group: g}
			}
		}
	}
	first := map[model.SyncState]*decl{}
	for _, d := range l.syncDaemons {
		l.checkKeys(d, syncDaemonKeys, false)
		sd, ok := l.resolveSyncDaemon(d)
		if !ok {
			continue
		}
		if f := first[sd.State]; f != nil {
			l.problem(d.pos, "a %s sync daemon is already declared at %s; the kernel runs one of each role", sd.State, f.pos)
			continue
		}
		first[sd.State] = d
		cfg.SyncDaemons = append(cfg.SyncDaemons, sd)
	}
}

func (l *loader) resolveSyncDaemon(d *decl) (model.SyncDaemon, bool) {
	n0 := len(l.problems)
	c := chain{d}
	var sd model.SyncDaemon
	if v, _, ok := l.enum(c, "state", func(s string) (any, error) { return model.ParseSyncState(s) }); ok {
		sd.State = v.(model.SyncState)
	} else if d.opts.RawGetString("state") == lua.LNil {
		l.problem(d.tablePos(), `sync_daemon needs state = "master" or "backup"`)
	}
	if v, ok := l.interfaceName(c, "interface", "interface"); ok {
		sd.Interface = v
	} else if d.opts.RawGetString("interface") == lua.LNil {
		l.problem(d.tablePos(), `sync_daemon needs interface = "eth0" (where the sync messages go)`)
	}
	if v, _, ok := l.integer(c, "id", 0, 255); ok {
		sd.SyncID = uint8(v)
	}
	if v, _, ok := l.integer(c, "maxlen", 1, 65507); ok {
		sd.MaxLen = uint16(v)
	}
	if v, vd, ok := l.str(c, "group"); ok {
		if a, err := netip.ParseAddr(v); err != nil || !a.IsMulticast() {
			l.problem(vd.valPos("group"), "group must be a multicast address such as \"224.0.0.81\", got %q", v)
		} else {
			sd.Group = a
		}
	}
	if v, _, ok := l.integer(c, "port", 1, 65535); ok {
		sd.Port = uint16(v)
	}
	if v, _, ok := l.integer(c, "ttl", 1, 255); ok {
		sd.TTL = uint8(v)
	}
	return sd, l.noErrorsSince(n0)
}

// applyScriptUser gives the exec checks without a user of their own the
// configuration's script user.
func applyScriptUser(cfg *model.Config) {
	if cfg.Scripts == nil {
		return
	}
	for i := range cfg.Services {
		for j := range cfg.Services[i].Servers {
			checks := cfg.Services[i].Servers[j].Checks
			for k := range checks {
				if e := checks[k].Exec; e != nil && e.User == "" {
					e2 := *e
					e2.User, e2.Group = cfg.Scripts.User, cfg.Scripts.Group
					checks[k].Exec = &e2
				}
			}
		}
	}
}
