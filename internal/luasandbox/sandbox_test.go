package luasandbox

import (
	"errors"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

func runLua(t *testing.T, lim Limits, src string) error {
	t.Helper()
	L := New(lim, io.Discard)
	defer L.Close()
	return Run(L, lim, func() error { return L.DoString(src) })
}

func memoryLimited(t *testing.T, err error, want string) {
	t.Helper()
	var le *LimitError
	if !errors.Is(err, ErrMemory) || !errors.As(err, &le) || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want a memory *LimitError containing %q", err, want)
	}
}

// A load that allocates over its limit is stopped; the Lua error says where.
func TestMemoryLimit(t *testing.T) {
	lim := Limits{Time: 20 * time.Second, Memory: 32 << 20, CallDepth: 200}
	err := runLua(t, lim, `local t = {}
for i = 1, 1e9 do t[i] = { i } end`)
	memoryLimited(t, err, "memory limit exceeded: more than 32 MiB allocated (table needs")
	var ae *lua.ApiError
	if !errors.As(err, &ae) || !strings.HasPrefix(ae.Object.String(), "<string>:2: memory limit exceeded") {
		t.Errorf("Lua error %v", ae)
	}
	// Caught by the script: the load is still stopped.
	err = runLua(t, lim, `local ok = pcall(string.rep, "x", 1e9) assert(not ok)`)
	memoryLimited(t, err, "more than 32 MiB allocated (string.rep needs 1000000016 bytes)")
	// Go code allocating for the script outside a Lua call.
	L := New(lim, io.Discard)
	defer L.Close()
	err = Run(L, lim, func() error {
		for {
			L.NewTable()
		}
	})
	memoryLimited(t, err, "more than 32 MiB allocated (table needs")
	if L.Budget() != nil {
		t.Error("Run left its budget on the state")
	}
}

var sink byte

// A load that allocates little passes while another goroutine of the same
// process allocates 1 GiB (the old limit sampled the process's heap).
func TestBusyProcess(t *testing.T) {
	lim := Limits{Time: 20 * time.Second, Memory: 16 << 20, CallDepth: 200}
	var allocated atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		keep := make([][]byte, 64) // the last 64 MiB stay live, the rest is garbage
		for i := 0; i < 1024; i++ {
			select {
			case <-stop:
				return
			default:
			}
			b := make([]byte, 1<<20)
			b[i] = byte(i)
			if k := keep[(i+1)%len(keep)]; k != nil {
				sink += k[0]
			}
			keep[i%len(keep)] = b
			allocated.Add(1 << 20)
		}
	}()
	for allocated.Load() < 64<<20 {
		time.Sleep(time.Millisecond)
	}
	before := allocated.Load()
	start := time.Now()
	err := runLua(t, lim, `local n = 0
for i = 1, 3e6 do n = n + i % 7 end
local t = {} for i = 1, 1000 do t[i] = { name = "s" .. i } end`)
	during := allocated.Load() - before
	close(stop)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if during < 256<<20 {
		t.Fatalf("only %d MiB allocated by the other goroutine during the run", during>>20)
	}
	t.Logf("the run took %s while another goroutine allocated %d MiB", time.Since(start).Round(time.Millisecond), during>>20)
}

// Single calls that would make gigabytes are refused before they allocate.
func TestHugeResultsRefused(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{`local s = ("a"):rep(1000):gsub(".", ("x"):rep(2^20))`, "string.gsub needs 1048576016 bytes"},
		{`local s = ("x"):rep(60 * 2^20) local t = {} for i = 1, 20 do t[i] = s end
local r = table.concat(t)`, "concatenation needs 1258291216 bytes"},
		{`local s = ("x"):rep(60 * 2^20) local r = s .. s .. s .. s .. s .. s .. s .. s`, "concatenation needs"},
		{`local t = {} t[6e7] = true`, "table needs 960000000 bytes"},
		{`local s = string.rep("ab", 2^40)`, "string.rep needs"},
	} {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := runLua(t, DefaultLimits, c.src)
		runtime.ReadMemStats(&after)
		memoryLimited(t, err, "more than 256 MiB allocated ("+c.want)
		if n := after.TotalAlloc - before.TotalAlloc; n > 512<<20 {
			t.Errorf("%s: allocated %d MiB", c.src, n>>20)
		} else {
			t.Logf("%s: stopped after allocating %d MiB, heap %d MiB", c.src, n>>20, after.HeapAlloc>>20)
		}
	}
}

// A health check (a coroutine on the configuration's state) can get a
// budget of its own for each run.
func TestBudget(t *testing.T) {
	L := New(DefaultLimits, io.Discard)
	defer L.Close()
	if err := L.DoString(`function check(n) local s = ("x"):rep(n) coroutine.yield(#s) return ("y"):rep(n) end`); err != nil {
		t.Fatal(err)
	}
	fn := L.GetGlobal("check").(*lua.LFunction)
	co, _ := L.NewThread()
	b := NewBudget(co, 3<<20)
	st, err, _ := L.Resume(co, fn, lua.LNumber(1<<20))
	if st != lua.ResumeYield || b.Check(err) != nil || b.Used() < 1<<20 {
		t.Fatalf("%v %v, used %d", st, err, b.Used())
	}
	st, err, _ = L.Resume(co, fn)
	if st != lua.ResumeOK || b.Check(err) != nil {
		t.Fatalf("%v %v", st, err)
	}

	co, _ = L.NewThread()
	b = NewBudget(co, 3<<20)
	L.Resume(co, fn, lua.LNumber(2<<20))
	st, err, _ = L.Resume(co, fn)
	if st != lua.ResumeError || !errors.Is(err, ErrMemory) {
		t.Fatalf("%v %v", st, err)
	}
	memoryLimited(t, b.Check(err), "memory limit exceeded: more than 3 MiB allocated (string.rep needs 2097168 bytes)")
	if L.Budget() != nil {
		t.Error("the thread's budget reached the state")
	}
}

// Work done outside Lua instructions is bounded too: building a traceback,
// pattern matching, a Go function's results, compiling. Each stops within
// the time limit (or at once) with an error naming the line.
func TestLimitsOutsideInstructions(t *testing.T) {
	lim := Limits{Time: 300 * time.Millisecond, Memory: 32 << 20, CallDepth: 200}
	for _, c := range []struct {
		src, want string
		limit     bool // stopped by a limit: a *LimitError
	}{
		{"local function f(n) return f(n + 1) end\nf(1)", "<string>:1: context deadline exceeded", true},
		{`string.find(("a"):rep(5000), ".-.-b")`, "<string>:1: context deadline exceeded", true},
		{`string.gsub(("a"):rep(5000), ".-.-b", "")`, "<string>:1: context deadline exceeded", true},
		{`for m in ("a"):rep(5000):gmatch(".-.-b") do end`, "<string>:1: context deadline exceeded", true},
		{`string.match(("a"):rep(5000), ".-.-b")`, "<string>:1: context deadline exceeded", true},
		{`string.find(("a"):rep(1e6), ".*b")`, "<string>:1: memory limit exceeded: pattern matching needs", true},
		{`unpack({}, 1, 4e5)`, "<string>:1: too many results to unpack", false},
		{strings.Repeat("do ", 100000) + strings.Repeat(" end", 100000), "line:1(column:602) near 'do':   chunk has too many syntax levels", false},
		{"local x = 1\nlocal t = {\n" + strings.Repeat("{", 199) + strings.Repeat("}", 199) + "}", "line(3) <string>: function or expression needs more than 200 registers", false},
		{"local function r(n) return 1 + r(n + 1) end\nr(1)", "<string>:1: stack overflow", false},
	} {
		start := time.Now()
		err := runLua(t, lim, c.src)
		took := time.Since(start)
		var ae *lua.ApiError
		if !errors.As(err, &ae) || !strings.Contains(ae.Error(), c.want) {
			t.Errorf("%.40q: got %v, want %q", c.src, ae, c.want)
		}
		if le := new(LimitError); c.limit != errors.As(err, &le) {
			t.Errorf("%.40q: got %v, want a limit %v", c.src, err, c.limit)
		} else if c.limit && strings.Contains(c.want, "deadline") && le.Error() != "did not finish within 300ms (an endless loop?)" {
			t.Errorf("%.40q: got %v", c.src, le)
		}
		if took > time.Second {
			t.Errorf("%.40q: took %s", c.src, took)
		}
	}
	// error({}) and error("x", 0) have no position in their value; the Lua
	// error says where they were raised.
	for src, line := range map[string]int{"error({})": 1, "local x = 1\nerror('x', 0)": 2} {
		var ae *lua.ApiError
		if err := runLua(t, lim, src); !errors.As(err, &ae) || ae.Source != "<string>" || ae.Line != line {
			t.Errorf("%q: got %v at %+v", src, err, ae)
		}
	}
}
