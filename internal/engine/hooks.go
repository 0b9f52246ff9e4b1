package engine

import (
	"context"
	"log/slog"
	"syscall"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
	"github.com/luvs-lb/luvs/internal/proc"
)

// Event is a change of health that runs a configured hook:
// notify_up/notify_down of a real server, quorum_up/quorum_down of a
// service, or a VRRP virtual router's change of state (Service zero).
type Event struct {
	Kind    string // "up", "down", "quorum_up", "quorum_down"; "master", "backup", "fault"
	Service model.ServiceKey
	Server  model.DestKey // zero for quorum events
	Name    string        // the server's (or service's) name label
	Reason  string        // why a server went down
	// Hook is what runs: a program (RunHook) or a Lua function
	// (Options.LuaHooks).
	Hook model.Hook
	// User and Group run the program (empty: luvs's user); from the
	// configuration's scripts { }.
	User, Group string
}

// ServiceName is the service's name as hooks see it ("" for a VRRP
// event).
func (ev Event) ServiceName() string {
	if ev.Service == (model.ServiceKey{}) {
		return ""
	}
	return ev.Service.String()
}

// Fire runs the hook of ev (a VRRP change of state) as the engine runs its
// own: programs in their own goroutine, Lua functions in the
// configuration's runtime. It does not wait for the hook.
func (e *Engine) Fire(ev Event) {
	if !e.call(func() { e.hook(ev) }) {
		e.log.Warn("hook not run: the engine is stopped", "event", ev.Kind, "name", ev.Name)
	}
}

// HookTimeout bounds one run of a notify program.
const HookTimeout = 30 * time.Second

// hook hands ev to the hook runner; it never blocks the loop.
func (e *Engine) hook(ev Event) {
	if su := e.cfg.Scripts; su != nil {
		ev.User, ev.Group = su.User, su.Group
	}
	switch {
	case e.opts.Hooks != nil:
		e.opts.Hooks(ev)
	case ev.Hook.Func != "" && e.opts.LuaHooks != nil:
		e.opts.LuaHooks(ev)
	case ev.Hook.Func != "":
		e.log.Warn("Lua hook not run: no Lua runtime", "event", ev.Kind, "service", ev.Service.String(), "at", ev.Hook.Where)
	default:
		go RunHook(ev, e.log)
	}
}

// RunHook runs ev's program (ev.Hook.Argv, no shell, at most HookTimeout)
// with the event in its environment: LUVS_EVENT, LUVS_SERVICE, LUVS_SERVER
// (empty for quorum events), LUVS_NAME and LUVS_REASON. It logs the
// outcome.
func RunHook(ev Event, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), HookTimeout)
	defer cancel()
	server := ""
	if ev.Server.Addr.IsValid() {
		server = ev.Server.String()
	}
	attrs := []any{"event", ev.Kind, "service", ev.ServiceName(), "program", ev.Hook.Argv[0]}
	var cred *syscall.Credential
	if ev.User != "" {
		var err error
		if cred, err = proc.Credential(ev.User, ev.Group); err != nil {
			log.Warn("notify program not run", append(attrs, "error", err)...)
			return
		}
	}
	start := time.Now()
	r := proc.RunAs(ctx, cred, ev.Hook.Argv, "LUVS_EVENT="+ev.Kind, "LUVS_SERVICE="+ev.ServiceName(),
		"LUVS_SERVER="+server, "LUVS_NAME="+ev.Name, "LUVS_REASON="+ev.Reason)
	attrs = append(attrs, "took", time.Since(start).Round(time.Millisecond))
	if server != "" {
		attrs = append(attrs, "server", server)
	}
	switch {
	case r.Err == nil:
		log.Info("notify program ran", attrs...)
	case ctx.Err() != nil:
		log.Warn("notify program killed after its time limit", append(attrs, "limit", HookTimeout)...)
	default:
		if r.Stderr != "" {
			attrs = append(attrs, "stderr", r.Stderr)
		}
		log.Warn("notify program failed", append(attrs, "error", r.Err)...)
	}
}
