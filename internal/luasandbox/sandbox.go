// Package luasandbox makes Lua states that cannot reach the file system,
// processes or the network, and runs code in them within time and memory
// limits.
//
// Memory is bounded per state, not per process: the patched gopher-lua in
// third_party counts what a state (with its coroutines) allocates and refuses
// an allocation that would pass its budget before making it. The count is
// cumulative (garbage is not credited back), so a run is judged the same
// however busy the rest of the process is.
package luasandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Limits bound what loading a configuration may cost.
type Limits struct {
	// Time is the longest a configuration may run while loading.
	Time time.Duration
	// Memory is how many bytes the state may allocate while loading, counted
	// cumulatively by its budget (see the package comment).
	Memory uint64
	// CallDepth bounds Lua recursion.
	CallDepth int
}

// DefaultLimits are generous for any real configuration and stop runaway
// loops and allocations within seconds.
var DefaultLimits = Limits{Time: 5 * time.Second, Memory: 256 << 20, CallDepth: 200}

// ErrMemory is the cause of a run stopped for allocating too much. It is
// gopher-lua's lua.ErrMemoryLimit, so the Lua errors of refused allocations
// match it too.
var ErrMemory = lua.ErrMemoryLimit

// New creates a Lua state with only the safe parts of the standard
// library: no io, os (but time and clock), debug, package/require, load,
// loadstring, dofile, loadfile, or getfenv/setfenv. print writes to out.
func New(lim Limits, out io.Writer) *lua.LState {
	L := lua.NewState(lua.Options{
		SkipOpenLibs:        true,
		CallStackSize:       lim.CallDepth,
		RegistrySize:        1024 * 20,
		RegistryMaxSize:     1024 * 1024,
		MinimizeStackMemory: true,
	})
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
		{lua.CoroutineLibName, lua.OpenCoroutine},
	} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	// Removed functions and libraries stay defined, as stubs that say why
	// they fail, rather than as nil ("attempt to call a nil value").
	for _, name := range []string{"dofile", "loadfile", "load", "loadstring", "require", "module",
		"getfenv", "setfenv", "collectgarbage", "newproxy"} {
		L.SetGlobal(name, L.NewFunction(func(L *lua.LState) int {
			L.RaiseError("%s is not available in the luvs sandbox", name)
			return 0
		}))
	}
	L.SetGlobal("_printregs", lua.LNil)
	for _, lib := range []string{"io", "debug", "package"} {
		L.SetGlobal(lib, blocked(L, lib, nil))
	}
	strtab := L.GetGlobal("string").(*lua.LTable)
	strtab.RawSetString("dump", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("string.dump is not available in the luvs sandbox")
		return 0
	}))
	// Outside a budget (code run without Run or a Budget), string.rep still
	// must not ask for gigabytes in one call. Within one, the budget charges it.
	rep := strtab.RawGetString("rep").(*lua.LFunction).GFunction
	strtab.RawSetString("rep", L.NewFunction(func(L *lua.LState) int {
		if s, n := L.CheckString(1), L.CheckInt(2); L.Budget() == nil && n > 0 && uint64(len(s))*uint64(n) > lim.Memory/4 {
			L.RaiseError("string.rep: result of %d bytes is over the limit", uint64(len(s))*uint64(n))
		}
		return rep(L)
	}))
	os := L.NewTable()
	os.RawSetString("time", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNumber(time.Now().Unix()))
		return 1
	}))
	start := time.Now()
	os.RawSetString("clock", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNumber(time.Since(start).Seconds()))
		return 1
	}))
	L.SetGlobal("os", blocked(L, "os", os))
	L.SetGlobal("print", L.NewFunction(func(L *lua.LState) int {
		parts := make([]string, L.GetTop())
		for i := range parts {
			parts[i] = L.ToStringMeta(L.Get(i + 1)).String()
		}
		fmt.Fprintln(out, strings.Join(parts, "\t"))
		return 0
	}))
	return L
}

// blocked returns a library table whose missing members raise an error
// naming them ("os.execute is not available in the luvs sandbox").
func blocked(L *lua.LState, lib string, t *lua.LTable) *lua.LTable {
	if t == nil {
		t = L.NewTable()
	}
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("%s.%s is not available in the luvs sandbox", lib, L.CheckString(2))
		return 0
	}))
	L.SetMetatable(t, mt)
	return t
}

// Run runs fn with the state bounded in time and in what it allocates: the
// state and its coroutines (those without a budget of their own) share one
// budget of lim.Memory bytes for the run. It returns a *LimitError when a
// limit was hit.
func Run(L *lua.LState, lim Limits, fn func() error) (err error) {
	ctx, cancel := context.WithTimeoutCause(context.Background(), lim.Time,
		fmt.Errorf("did not finish within %s (an endless loop?)", lim.Time))
	defer cancel()
	L.SetContext(ctx)
	defer L.RemoveContext()
	prev := L.Budget()
	b := &Budget{b: lua.NewBudget(lim.Memory)}
	L.SetBudget(b.b)
	defer L.SetBudget(prev)
	defer func() {
		// Go code in fn calling the allocation API outside a Lua call
		// panics (like RaiseError) when the budget is spent.
		if r := recover(); r != nil {
			ae, ok := r.(*lua.ApiError)
			if !ok || b.b.Err() == nil {
				panic(r)
			}
			err = b.Check(ae)
		}
	}()
	err = b.Check(fn())
	if cause := context.Cause(ctx); cause != nil && !errors.As(err, new(*LimitError)) {
		return &LimitError{Cause: cause, Err: err}
	}
	return err
}

// Budget bounds what one run of Lua code allocates. For a health check run
// as a coroutine: NewBudget(co, limit) when starting it, and b.Check(err)
// with the error of each Resume.
type Budget struct{ b *lua.Budget }

// NewBudget gives the thread co its own budget of limit bytes, no longer
// shared with the state it was created from (nor with other threads).
// Coroutines it creates share it.
func NewBudget(co *lua.LState, limit uint64) *Budget {
	b := &Budget{b: lua.NewBudget(limit)}
	co.SetOwnBudget(b.b)
	return b
}

// Used returns the bytes charged so far.
func (b *Budget) Used() uint64 { return b.b.Used() }

// Check returns err, or a *LimitError wrapping it when the budget refused an
// allocation (even if the Lua code caught that error and went on).
func (b *Budget) Check(err error) error {
	var me *lua.MemoryLimitError
	if !errors.As(b.b.Err(), &me) {
		return err
	}
	return &LimitError{Cause: fmt.Errorf("%w: more than %s allocated (%s needs %d bytes)",
		ErrMemory, sizeText(me.Limit), me.What, me.Request), Err: err}
}

// sizeText writes n bytes in MiB when it is a whole number of them.
func sizeText(n uint64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// LimitError is a run stopped by a limit. It unwraps to the Lua error, which
// tells where the code was when it was stopped.
type LimitError struct{ Cause, Err error }

func (e *LimitError) Error() string { return e.Cause.Error() }
func (e *LimitError) Unwrap() error { return e.Err }

// Is reports whether the limit hit was target (ErrMemory), even when the Lua
// error no longer says so.
func (e *LimitError) Is(target error) bool { return errors.Is(e.Cause, target) }
