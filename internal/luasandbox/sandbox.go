// Package luasandbox makes Lua states that cannot reach the file system,
// processes or the network, and runs code in them within time and memory
// limits.
package luasandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/metrics"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Limits bound what loading a configuration may cost.
type Limits struct {
	// Time is the longest a configuration may run while loading.
	Time time.Duration
	// Memory is how much the Go heap may grow while loading.
	Memory uint64
	// CallDepth bounds Lua recursion.
	CallDepth int
}

// DefaultLimits are generous for any real configuration and stop runaway
// loops and allocations within seconds.
var DefaultLimits = Limits{Time: 5 * time.Second, Memory: 256 << 20, CallDepth: 200}

// ErrMemory is the cause of a run stopped for allocating too much.
var ErrMemory = errors.New("memory limit exceeded")

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
	// string.rep can ask for gigabytes in one call: bound it.
	strtab := L.GetGlobal("string").(*lua.LTable)
	strtab.RawSetString("dump", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("string.dump is not available in the luvs sandbox")
		return 0
	}))
	strtab.RawSetString("rep", L.NewFunction(func(L *lua.LState) int {
		s, n := L.CheckString(1), L.CheckInt(2)
		if n > 0 && uint64(len(s))*uint64(n) > lim.Memory/4 {
			L.RaiseError("string.rep: result of %d bytes is over the limit", uint64(len(s))*uint64(n))
		}
		if n <= 0 {
			L.Push(lua.LString(""))
			return 1
		}
		L.Push(lua.LString(strings.Repeat(s, n)))
		return 1
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

// Run runs fn with the state bounded in time and heap growth. It returns a
// *LimitError when a limit was hit.
func Run(L *lua.LState, lim Limits, fn func() error) error {
	ctx, cancel := context.WithTimeoutCause(context.Background(), lim.Time,
		fmt.Errorf("did not finish within %s (an endless loop?)", lim.Time))
	defer cancel()
	memCtx, memCancel := context.WithCancelCause(ctx)
	defer memCancel(nil)
	L.SetContext(memCtx)
	defer L.RemoveContext()

	done := make(chan struct{})
	defer close(done)
	go func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		metrics.Read(sample)
		base := sample[0].Value.Uint64()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				metrics.Read(sample)
				if sample[0].Value.Uint64() > base+lim.Memory {
					memCancel(fmt.Errorf("%w: more than %d MiB allocated", ErrMemory, lim.Memory>>20))
					return
				}
			}
		}
	}()
	err := fn()
	if cause := context.Cause(memCtx); cause != nil {
		return &LimitError{Cause: cause, Err: err}
	}
	return err
}

// LimitError is a run stopped by a limit. It unwraps to the Lua error, which
// tells where the code was when it was stopped.
type LimitError struct{ Cause, Err error }

func (e *LimitError) Error() string { return e.Cause.Error() }
func (e *LimitError) Unwrap() error { return e.Err }
