// Package luacheck runs the free-form health checks of a configuration
// (healthcheck = function(lvs, dests) ... end) and its hooks written as Lua
// functions (notify_down = function(ev) ... end).
//
// Design: all checks share the configuration's Lua state, so closures over
// configuration values (web1) keep working. One goroutine owns the state and
// runs each check as a coroutine. A network helper (http.get, tcp.connect,
// udp.exchange, sleep) starts its I/O in a goroutine and yields; when the
// I/O finishes, the owning goroutine resumes the coroutine with the result.
// Thousands of checks can wait on the network at once without blocking one
// another or the daemon. Each run has a deadline: a check still waiting
// then is abandoned, and one stuck in a Lua loop is interrupted through the
// coroutine's context. Errors are logged with file:line and never stop the
// daemon. A hook runs the same way, as a run of its own: the engine fires
// it into a HookQueue (never waiting), and the runner of the configuration
// in force takes it from there.
package luacheck

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luvs-lb/luvs/internal/check"
	"github.com/luvs-lb/luvs/internal/crash"
	"github.com/luvs-lb/luvs/internal/engine"
	"github.com/luvs-lb/luvs/internal/luasandbox"
	"github.com/luvs-lb/luvs/internal/model"
)

// Target is what checks act on (the engine).
type Target interface {
	ScriptView(svc model.ServiceKey) []engine.ScriptDest
	ScriptRemove(svc model.ServiceKey, dk model.DestKey)
	ScriptAdd(svc model.ServiceKey, d model.Dest)
	ScriptWeight(svc model.ServiceKey, dk model.DestKey, w int)
}

// Resolver turns a real_server value into a real server of a service
// (luaconf.Result.ServerFor).
type Resolver func(svc model.ServiceKey, v lua.LValue) (model.Dest, error)

// Runner runs the Lua health checks of one configuration.
type Runner struct {
	L       *lua.LState
	cfg     *model.Config
	target  Target
	resolve Resolver
	log     *slog.Logger

	done    chan ioResult
	stop    chan struct{} // closed when Run returns: pending I/O is dropped
	running map[*lua.LState]*run
	ready   []*run    // runs preempted at the end of their time slice
	slice   time.Time // when the run on the CPU must give it up
	nextID  int
	env     *lua.LTable // the globals health-check functions see

	hooks       *HookQueue                  // nil: no hooks served
	hookFunc    func(string) *lua.LFunction // resolves model.Hook.Func
	hookTimeout time.Duration
	hookRuns    int // hook runs in r.running
}

// Per-run bounds of a Lua health check, besides its timeout: what it may
// allocate, and how long it may hold the CPU before the other checks and the
// runner's events get their turn.
const (
	RunMemory = 64 << 20
	timeSlice = 5 * time.Millisecond
)

// readyNow is a channel that is always ready (for select).
var readyNow = func() chan time.Time { c := make(chan time.Time); close(c); return c }()

// checkGlobals are the names a health-check function can reach: the luvs
// helpers, real_server (for lvs:add_dest), and the safe parts of Lua.
var checkGlobals = []string{"http", "https", "tcp", "udp", "dns", "log", "time", "sleep", "real_server",
	"print", "pairs", "ipairs", "next", "type", "tostring", "tonumber", "select", "unpack", "error",
	"assert", "pcall", "xpcall", "rawget", "rawset", "rawequal", "getmetatable", "setmetatable",
	"string", "table", "math", "os"}

// run is one execution of a check or a hook.
type run struct {
	svc      *model.ServiceConfig // the check's service; nil for a hook
	hook     *engine.Event        // the hook's event; nil for a check
	where    string               // where the function is
	timeout  time.Duration
	co       *lua.LState
	ctx      context.Context // done at the run's deadline and when the runner stops
	cancel   context.CancelFunc
	deadline time.Time
	waiting  int // id of the I/O the coroutine waits for
	budget   *luasandbox.Budget
}

type ioResult struct {
	co     *lua.LState
	id     int
	values func(L *lua.LState) []lua.LValue // builds the Lua results on the owning goroutine
}

const mtLVS, mtDest = "luvs.lvs", "luvs.dest"

// helperTimeout bounds tcp.connect, udp.exchange and dns.query by default
// (within the run's own deadline).
const helperTimeout = 2 * time.Second

// New prepares a runner; Run starts it.
func New(L *lua.LState, cfg *model.Config, target Target, resolve Resolver, log *slog.Logger) *Runner {
	r := &Runner{L: L, cfg: cfg, target: target, resolve: resolve, log: log,
		done: make(chan ioResult, 64), stop: make(chan struct{}), running: map[*lua.LState]*run{}}
	r.install()
	r.env = L.NewTable()
	for _, name := range checkGlobals {
		r.env.RawSetString(name, L.GetGlobal(name))
	}
	return r
}

// ServeHooks makes Run also run the hooks q brings: each event's function
// (funcs resolves its model.Hook.Func in this runner's state) as a run of its
// own, with the checks' environment, time slices and memory budget, and
// timeout as its deadline (0: engine.HookTimeout, the notify programs'
// limit). The function gets the event as a table {event, service, server,
// name, reason}. Call it before Run.
func (r *Runner) ServeHooks(q *HookQueue, funcs func(name string) *lua.LFunction, timeout time.Duration) {
	if timeout <= 0 {
		timeout = engine.HookTimeout
	}
	r.hooks, r.hookFunc, r.hookTimeout = q, funcs, timeout
}

// Run executes every check at its interval, and the hooks of ServeHooks as
// they come, until ctx is done. When it returns, every helper's I/O has been
// told to stop. Run once.
func (r *Runner) Run(ctx context.Context) {
	defer close(r.stop)
	next := map[*model.ServiceConfig]time.Time{}
	for i := range r.cfg.Services {
		if s := &r.cfg.Services[i]; s.Script != nil {
			next[s] = time.Now()
		}
	}
	var hookC <-chan engine.Event
	if r.hooks != nil {
		hookC = r.hooks.ch
	}
	if len(next) == 0 && hookC == nil {
		<-ctx.Done()
		return
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		var resumeReady <-chan time.Time
		if len(r.ready) > 0 {
			resumeReady = readyNow
		}
		var tickC <-chan time.Time
		if len(next) > 0 || len(r.running) > 0 {
			tickC = tick.C
		}
		hooks := hookC
		if r.hookRuns >= maxHookRuns {
			hooks = nil // the others wait in the queue
		}
		select {
		case ev := <-hooks:
			if ctx.Err() != nil {
				r.hooks.putBack(ev) // for the next configuration's runner
				continue
			}
			r.startHook(ctx, ev)
		case <-resumeReady:
			ru := r.ready[0]
			r.ready = r.ready[1:]
			if r.running[ru.co] == ru {
				r.resume(ru)
			}
		case <-ctx.Done():
			for _, ru := range r.running {
				ru.cancel()
			}
			return
		case res := <-r.done:
			ru := r.running[res.co]
			if ru == nil || ru.waiting != res.id {
				continue // abandoned after its deadline
			}
			if ctx.Err() != nil {
				continue // stopping
			}
			if ru.ctx.Err() != nil { // the helper was interrupted at the deadline
				r.timedOut(ru)
				continue
			}
			r.resume(ru, res.values(r.L)...)
		case now := <-tickC:
			for _, ru := range r.running {
				if now.After(ru.deadline) {
					r.timedOut(ru)
				}
			}
			for s, at := range next {
				if now.Before(at) {
					continue
				}
				next[s] = now.Add(s.Script.Interval)
				if r.busy(s) {
					r.log.Warn("health check still running; skipping this round", "service", s.ServiceKey.String())
					continue
				}
				r.start(ctx, s)
			}
		}
	}
}

// timedOut abandons a run past its deadline.
func (r *Runner) timedOut(ru *run) {
	r.log.Error(ru.what()+" timed out", append(ru.attrs(), "at", ru.where, "timeout", ru.timeout)...)
	r.finish(ru)
}

// finish forgets a run that stopped or was abandoned.
func (r *Runner) finish(ru *run) {
	ru.cancel()
	delete(r.running, ru.co)
	if ru.hook != nil {
		r.hookRuns--
	}
}

// what names the run's kind in logs.
func (ru *run) what() string {
	if ru.hook != nil {
		return "Lua hook"
	}
	return "health check"
}

// attrs are the run's log attributes.
func (ru *run) attrs() []any {
	if ev := ru.hook; ev != nil {
		a := []any{"event", ev.Kind, "service", ev.ServiceName()}
		if ev.Server.Addr.IsValid() {
			a = append(a, "server", ev.Server.String())
		}
		return a
	}
	return []any{"service", ru.svc.ServiceKey.String()}
}

func (r *Runner) busy(s *model.ServiceConfig) bool {
	for _, ru := range r.running {
		if ru.svc == s {
			return true
		}
	}
	return false
}

// start begins one run of a service's check.
func (r *Runner) start(ctx context.Context, s *model.ServiceConfig) {
	fn, ok := s.Script.Fn.(*lua.LFunction)
	if !ok {
		return
	}
	ru := r.newRun(ctx, fn, &run{svc: s, where: s.Script.Where, timeout: s.Script.Timeout})
	lvs := r.L.NewUserData()
	lvs.Value = s
	r.L.SetMetatable(lvs, r.L.GetTypeMetatable(mtLVS))
	r.resumeFn(ru, fn, lvs, r.destList(s))
}

// startHook begins the run of a hook's function with its event.
func (r *Runner) startHook(ctx context.Context, ev engine.Event) {
	fn := r.hookFunc(ev.Hook.Func)
	if fn == nil {
		// (an event queued before a reload whose configuration dropped it)
		r.log.Warn("Lua hook not run: the configuration in force has no such function",
			"event", ev.Kind, "service", ev.ServiceName(), "at", ev.Hook.Where)
		return
	}
	ru := r.newRun(ctx, fn, &run{hook: &ev, where: ev.Hook.Where, timeout: r.hookTimeout})
	r.hookRuns++
	server := ""
	if ev.Server.Addr.IsValid() {
		server = ev.Server.String()
	}
	t := r.L.NewTable()
	for _, f := range [][2]string{{"event", ev.Kind}, {"service", ev.ServiceName()}, {"server", server},
		{"name", ev.Name}, {"reason", ev.Reason}} {
		t.RawSetString(f[0], lua.LString(f[1]))
	}
	r.resumeFn(ru, fn, t)
}

// newRun prepares ru (its service or event, where and timeout set) to run
// fn: a coroutine with its deadline, time slices and memory budget.
func (r *Runner) newRun(ctx context.Context, fn *lua.LFunction, ru *run) *run {
	// The function keeps its upvalues (configuration locals such as web1)
	// but sees only the check helpers as globals.
	fn.Env = r.env
	cctx, cancel := context.WithTimeout(ctx, ru.timeout)
	co, ccancel := r.L.NewThread()
	co.SetContext(cctx)
	co.SetPreempt(func() bool { return time.Now().After(r.slice) })
	ru.co, ru.ctx, ru.deadline = co, cctx, time.Now().Add(ru.timeout)
	ru.cancel = func() {
		cancel()
		if ccancel != nil {
			ccancel()
		}
	}
	ru.budget = luasandbox.NewBudget(co, RunMemory)
	r.running[co] = ru
	return ru
}

func (r *Runner) resume(ru *run, args ...lua.LValue) { r.resumeFn(ru, nil, args...) }

// resumeFn starts (fn != nil) or continues a coroutine and handles how it stops.
func (r *Runner) resumeFn(ru *run, fn *lua.LFunction, args ...lua.LValue) {
	r.slice = time.Now().Add(timeSlice)
	st, err, vals := r.L.Resume(ru.co, fn, args...)
	if merr := ru.budget.Check(nil); merr != nil && st != lua.ResumeError {
		// The check caught the memory error (pcall) and went on: stop it.
		st, err = lua.ResumeError, merr
	}
	switch {
	case st == lua.ResumeYield && ru.co.Preempted():
		r.ready = append(r.ready, ru)
		return
	case st == lua.ResumeYield:
		if len(vals) == 1 {
			if id, ok := vals[0].(lua.LNumber); ok {
				ru.waiting = int(id)
				return
			}
		}
		r.log.Error(ru.what()+" yielded outside a luvs helper", append(ru.attrs(), "at", ru.where)...)
	case st == lua.ResumeError:
		err = ru.budget.Check(err)
		msg := err.Error()
		var ae *lua.ApiError
		var le *luasandbox.LimitError
		if errors.As(err, &le) {
			msg = le.Error()
		} else if errors.As(err, &ae) {
			msg = ae.Object.String()
		}
		if m, ok := strings.CutSuffix(msg, context.DeadlineExceeded.Error()); ok {
			msg = m + fmt.Sprintf("did not finish within %s (an endless loop?)", ru.timeout)
		}
		r.log.Error(ru.what()+" failed", append(ru.attrs(), "err", msg)...)
	}
	r.finish(ru)
}

// await starts work in a goroutine and yields the coroutine until it is
// done. work gets the run's context and must return when it is done; its
// result is dropped if the runner has stopped meanwhile.
func (r *Runner) await(L *lua.LState, work func(ctx context.Context) func(L *lua.LState) []lua.LValue) int {
	ru := r.running[L]
	if ru == nil {
		L.RaiseError("network helpers can only be called by a health check or hook run by luvs")
	}
	r.nextID++
	id := r.nextID
	go func() {
		defer crash.Guard()
		res := ioResult{co: L, id: id, values: work(ru.ctx)}
		select {
		case r.done <- res:
		case <-r.stop:
		}
	}()
	return L.Yield(lua.LNumber(id))
}

// install defines lvs and dest objects and the helpers, replacing the
// load-time stubs of luaconf.
func (r *Runner) install() {
	L := r.L
	lvs := L.NewTypeMetatable(mtLVS)
	methods := map[string]lua.LGFunction{
		"del_dest": func(L *lua.LState) int {
			s := r.lvsOf(L)
			dk := r.destKey(L, s, L.Get(2))
			r.target.ScriptRemove(s.ServiceKey, dk)
			return 0
		},
		"add_dest": func(L *lua.LState) int {
			s := r.lvsOf(L)
			d, err := r.resolve(s.ServiceKey, L.Get(2))
			if err != nil {
				L.RaiseError("lvs:add_dest: %v", err)
			}
			r.target.ScriptAdd(s.ServiceKey, d)
			return 0
		},
	}
	L.SetField(lvs, "__index", L.NewFunction(func(L *lua.LState) int {
		s := r.lvsOf(L)
		key := L.CheckString(2)
		if m, ok := methods[key]; ok {
			L.Push(L.NewFunction(m))
			return 1
		}
		switch key {
		case "name":
			L.Push(lua.LString(s.Name))
		case "service":
			L.Push(lua.LString(s.ServiceKey.String()))
		case "dests":
			L.Push(r.destList(s))
		default:
			L.RaiseError("lvs has del_dest, add_dest, name, service and dests, not %q", key)
		}
		return 1
	}))
	dmt := L.NewTypeMetatable(mtDest)
	L.SetField(dmt, "__index", L.NewFunction(func(L *lua.LState) int {
		d := r.destOf(L)
		switch key := L.CheckString(2); key {
		case "addr", "address":
			L.Push(lua.LString(d.dest.Addr.String()))
		case "port":
			L.Push(lua.LNumber(d.dest.Port))
		case "hostport":
			L.Push(lua.LString(d.dest.DestKey.String()))
		case "weight":
			L.Push(lua.LNumber(d.dest.Weight))
		case "up":
			L.Push(lua.LBool(d.dest.Up))
		default:
			L.RaiseError("a dest has addr, port, hostport, weight and up, not %q", key)
		}
		return 1
	}))
	L.SetField(dmt, "__newindex", L.NewFunction(func(L *lua.LState) int {
		d := r.destOf(L)
		if L.CheckString(2) != "weight" {
			L.RaiseError("only a dest's weight can be set")
		}
		f := float64(L.CheckNumber(3))
		if f != math.Trunc(f) || f < 0 || f > model.MaxWeight {
			L.RaiseError("weight must be an integer 0..%d, got %s", model.MaxWeight, lua.LNumber(f).String())
		}
		w := int(f)
		d.dest.Weight = w
		r.target.ScriptWeight(d.svc, d.dest.DestKey, w)
		return 0
	}))
	L.SetField(dmt, "__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("dest " + r.destOf(L).dest.DestKey.String()))
		return 1
	}))

	setHelper := func(lib, name string, fn lua.LGFunction) {
		t, ok := L.GetGlobal(lib).(*lua.LTable)
		if !ok {
			t = L.NewTable()
			L.SetGlobal(lib, t)
		}
		t.RawSetString(name, L.NewFunction(fn))
	}
	for _, lib := range []string{"http", "https"} {
		setHelper(lib, "get", func(L *lua.LState) int { return r.httpDo(L, "GET", L.CheckString(1), "") })
		setHelper(lib, "post", func(L *lua.LState) int { return r.httpDo(L, "POST", L.CheckString(1), L.OptString(2, "")) })
	}
	setHelper("tcp", "connect", func(L *lua.LState) int {
		addr, timeout := L.CheckString(1), optDuration(L, 2, helperTimeout)
		return r.await(L, func(ctx context.Context) func(*lua.LState) []lua.LValue {
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			lat, err := check.Connect(ctx, addr)
			ms := float64(lat.Microseconds()) / 1000
			return func(L *lua.LState) []lua.LValue {
				return []lua.LValue{resultTable(L, err == nil, err, map[string]lua.LValue{"ms": lua.LNumber(ms)})}
			}
		})
	})
	setHelper("udp", "exchange", func(L *lua.LState) int {
		addr, payload := L.CheckString(1), L.OptString(2, "")
		timeout := optDuration(L, 3, helperTimeout)
		return r.await(L, func(ctx context.Context) func(*lua.LState) []lua.LValue {
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			data, err := check.Exchange(ctx, addr, []byte(payload))
			return func(L *lua.LState) []lua.LValue {
				return []lua.LValue{resultTable(L, err == nil, err, map[string]lua.LValue{"data": lua.LString(data)})}
			}
		})
	})
	setHelper("dns", "query", func(L *lua.LState) int {
		server, name, qtype := L.CheckString(1), L.CheckString(2), L.OptString(3, "A")
		timeout := optDuration(L, 4, helperTimeout)
		t, ok := check.DNSType(qtype)
		if !ok {
			L.ArgError(3, "unknown DNS type "+qtype)
		}
		return r.await(L, func(ctx context.Context) func(*lua.LState) []lua.LValue {
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			reply, err := check.Query(ctx, server, name, t)
			return func(L *lua.LState) []lua.LValue {
				extra := map[string]lua.LValue{}
				if err == nil {
					extra["rcode"] = lua.LString(reply.Rcode)
					ans := L.NewTable()
					for _, rr := range reply.Answers {
						ans.Append(lua.LString(rr))
					}
					extra["answers"] = ans
				}
				return []lua.LValue{resultTable(L, err == nil && reply.Rcode == "NOERROR", err, extra)}
			}
		})
	})
	L.SetGlobal("sleep", L.NewFunction(func(L *lua.LState) int {
		d := optDuration(L, 1, 0)
		return r.await(L, func(ctx context.Context) func(*lua.LState) []lua.LValue {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
			}
			return func(*lua.LState) []lua.LValue { return nil }
		})
	}))
	logt := L.NewTable()
	for _, lv := range []struct {
		name  string
		level slog.Level
	}{{"debug", slog.LevelDebug}, {"info", slog.LevelInfo}, {"warn", slog.LevelWarn}, {"error", slog.LevelError}} {
		logt.RawSetString(lv.name, L.NewFunction(func(L *lua.LState) int {
			parts := make([]string, L.GetTop())
			for i := range parts {
				parts[i] = L.ToStringMeta(L.Get(i + 1)).String()
			}
			from := "healthcheck"
			if ru := r.running[L]; ru != nil && ru.hook != nil {
				from = "hook"
			}
			r.log.Log(context.Background(), lv.level, strings.Join(parts, " "), "from", from, "at", L.Where(1))
			return 0
		}))
	}
	L.SetGlobal("log", logt)
	timet := L.NewTable()
	timet.RawSetString("now", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNumber(float64(time.Now().UnixNano()) / 1e9))
		return 1
	}))
	L.SetGlobal("time", timet)
}

func (r *Runner) lvsOf(L *lua.LState) *model.ServiceConfig {
	if s, ok := L.CheckUserData(1).Value.(*model.ServiceConfig); ok {
		return s
	}
	L.ArgError(1, "lvs expected (call it as lvs:method(...))")
	return nil
}

type destRef struct {
	svc  model.ServiceKey
	dest engine.ScriptDest
}

func (r *Runner) destOf(L *lua.LState) *destRef {
	if d, ok := L.CheckUserData(1).Value.(*destRef); ok {
		return d
	}
	L.ArgError(1, "dest expected")
	return nil
}

// destList is the `dests` argument: the service's real servers now.
func (r *Runner) destList(s *model.ServiceConfig) *lua.LTable {
	t := r.L.NewTable()
	for _, d := range r.target.ScriptView(s.ServiceKey) {
		ud := r.L.NewUserData()
		ud.Value = &destRef{svc: s.ServiceKey, dest: d}
		r.L.SetMetatable(ud, r.L.GetTypeMetatable(mtDest))
		t.Append(ud)
	}
	return t
}

// destKey accepts a dest from `dests` or a real_server value.
func (r *Runner) destKey(L *lua.LState, s *model.ServiceConfig, v lua.LValue) model.DestKey {
	if ud, ok := v.(*lua.LUserData); ok {
		if d, ok := ud.Value.(*destRef); ok {
			return d.dest.DestKey
		}
	}
	d, err := r.resolve(s.ServiceKey, v)
	if err != nil {
		L.RaiseError("lvs:del_dest: %v", err)
	}
	return d.DestKey
}

// httpDo is http.get / http.post: a result table {ok, status, body, err}.
func (r *Runner) httpDo(L *lua.LState, method, url, body string) int {
	return r.await(L, func(ctx context.Context) func(*lua.LState) []lua.LValue {
		status, data, err := check.Fetch(ctx, method, url, []byte(body))
		return func(L *lua.LState) []lua.LValue {
			ok := err == nil && status >= 200 && status < 300
			if err == nil && !ok {
				err = fmt.Errorf("HTTP %d", status)
			}
			return []lua.LValue{resultTable(L, ok, err, map[string]lua.LValue{
				"status": lua.LNumber(status), "body": lua.LString(data)})}
		}
	})
}

func resultTable(L *lua.LState, ok bool, err error, extra map[string]lua.LValue) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("ok", lua.LBool(ok))
	if err != nil {
		t.RawSetString("err", lua.LString(err.Error()))
	}
	for k, v := range extra {
		t.RawSetString(k, v)
	}
	return t
}

func optDuration(L *lua.LState, n int, def time.Duration) time.Duration {
	switch v := L.Get(n).(type) {
	case lua.LNumber:
		return time.Duration(float64(v) * float64(time.Second))
	case lua.LString:
		d, err := time.ParseDuration(string(v))
		if err != nil {
			L.ArgError(n, "duration like \"500ms\" expected")
		}
		return d
	}
	return def
}

// HookQueue carries the hooks written as Lua functions from the engine
// (engine.Options.LuaHooks) to the runner of the configuration in force. It
// outlives runners: a reload stops one and starts the next on the same
// queue, which resolves the hooks still waiting by their names.
type HookQueue struct {
	ch  chan engine.Event
	log *slog.Logger
}

// HookQueueSize is how many hooks may wait for the Lua runtime; more are
// dropped.
const HookQueueSize = 256

// maxHookRuns bounds the hooks running at once; more wait in the queue.
const maxHookRuns = 64

// NewHookQueue makes a queue of size events (HookQueueSize in the daemon).
func NewHookQueue(size int, log *slog.Logger) *HookQueue {
	return &HookQueue{ch: make(chan engine.Event, size), log: log}
}

// Fire queues ev for the runner. It never blocks: when the queue is full,
// ev is dropped and a warning logged.
func (q *HookQueue) Fire(ev engine.Event) {
	select {
	case q.ch <- ev:
	default:
		q.log.Warn("Lua hook dropped: too many hooks waiting for the Lua runtime", "event", ev.Kind,
			"service", ev.ServiceName(), "at", ev.Hook.Where, "queue", cap(q.ch))
	}
}

// putBack queues ev again (for the next runner), dropping it when full.
func (q *HookQueue) putBack(ev engine.Event) {
	select {
	case q.ch <- ev:
	default:
	}
}

// Discard drops the hooks waiting, with a warning each: the configuration
// now in force has no Lua runtime to run them.
func (q *HookQueue) Discard() {
	for {
		select {
		case ev := <-q.ch:
			q.log.Warn("Lua hook not run: the configuration in force has no Lua functions", "event", ev.Kind,
				"service", ev.ServiceName(), "at", ev.Hook.Where)
		default:
			return
		}
	}
}
