package lua

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

// luvs patch: memory budgets (budget.go).

func budgetRun(t *testing.T, limit uint64, src string) (*LState, *Budget, error) {
	t.Helper()
	L := NewState()
	t.Cleanup(L.Close)
	b := NewBudget(limit)
	L.SetBudget(b)
	return L, b, L.DoString(src)
}

// totalAlloc runs f and returns how many bytes the process allocated meanwhile.
func totalAlloc(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

func TestBudgetRefusesBeforeAllocating(t *testing.T) {
	for _, c := range []struct{ src, what string }{
		{`local s = string.rep("x", 1e10)`, "string.rep"},
		{`local s = ("a"):rep(1000):gsub(".", ("x"):rep(2^20))`, "string.gsub"},
		{`local s = ("a"):rep(1000):gsub(".", "%0%0"):gsub(".", ("x"):rep(2^16))`, "string.gsub"},
		{`local s = ("x"):rep(60 * 2^20) local t = {} for i = 1, 20 do t[i] = s end local r = table.concat(t)`, "concatenation"},
		{`local s = ("x"):rep(60 * 2^20) local r = s .. s .. s .. s .. s .. s`, "concatenation"},
		{`local s = "x" for i = 1, 40 do s = s .. s end`, "concatenation"},
		{`local t = {} t[60000000] = 1`, "table"},
		{`local t = {} for i = 1, 1e9 do t[i] = {} end`, "table"},
		{`local t = {} for i = 1, 1e9 do t["k" .. i] = true end`, ""},
		{`local s = string.format("%999999s%999999s", "a", "b") for i = 1, 1e9 do s = string.format("%s%s", s, s) end`, "string.format"},
		{`local s = ("x"):rep(2^20) for i = 1, 1e9 do local u = s:upper() end`, "string.upper"},
		{`local t = {} for i = 1, 1e9 do t[i] = function() return i end end`, ""},
		{`local t = {} for i = 1, 1e9 do t[i] = coroutine.create(print) end`, "coroutine"},
		{`local s = ("a"):rep(2^22) for i = 1, 1e9 do local n = select(2, s:gsub("", "")) end`, "string.gsub"},
		{`local t = {} for i = 1, 1e9 do table.insert(t, tostring(i)) end`, ""},
	} {
		var err error
		var b *Budget
		alloc := totalAlloc(func() { _, b, err = budgetRun(t, 100<<20, c.src) })
		var me *MemoryLimitError
		if !errors.Is(err, ErrMemoryLimit) || !errors.As(err, &me) || !strings.Contains(err.Error(), "<string>:1: memory limit exceeded: "+c.what) {
			t.Errorf("%s: %v", c.src, err)
			continue
		}
		if b.Err() != me || b.Used() > b.Limit() {
			t.Errorf("%s: budget %d/%d, err %v", c.src, b.Used(), b.Limit(), b.Err())
		}
		if alloc > 200<<20 { // twice the limit: the sizes are estimates
			t.Errorf("%s: allocated %d MiB before stopping", c.src, alloc>>20)
		}
		t.Logf("%s: %s (%d MiB allocated)", c.src, me, alloc>>20)
	}
}

// Small scripts pass, and the count is the same every time.
func TestBudgetDeterministic(t *testing.T) {
	src := `local t = {} for i = 1, 1000 do t[#t + 1] = { name = "s" .. i, weight = i % 5, tostring(i) } end
local s = table.concat({ "a", "b", "c" }, ",") .. ("x"):rep(100) .. string.format("%d", 5)`
	_, b1, err := budgetRun(t, 16<<20, src)
	if err != nil {
		t.Fatal(err)
	}
	_, b2, _ := budgetRun(t, 16<<20, src)
	if b1.Used() != b2.Used() || b1.Used() < 1000*tableBytes {
		t.Errorf("used %d then %d", b1.Used(), b2.Used())
	}
	t.Logf("used %d bytes", b1.Used())
}

// Lua code may catch the error; the budget still remembers it and does not
// let the code allocate beyond the limit.
func TestBudgetCaught(t *testing.T) {
	L, b, err := budgetRun(t, 1<<20, `
local ok, msg = pcall(string.rep, "x", 2^21)
assert(not ok and msg:find("memory limit exceeded: string.rep needs 2097168 bytes"), msg)
caught = msg
local s = ("x"):rep(1000)`)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(b.Err(), ErrMemoryLimit) || b.Used() > 1<<20 {
		t.Errorf("budget %d, err %v", b.Used(), b.Err())
	}
	t.Log(L.GetGlobal("caught"))
}

// Threads share their creator's budget unless given their own; Resume
// returns the cause.
func TestBudgetThreads(t *testing.T) {
	L := NewState()
	defer L.Close()
	shared := NewBudget(64 << 20)
	L.SetBudget(shared)
	co, _ := L.NewThread()
	if co.Budget() != shared {
		t.Fatal("thread does not share the budget")
	}
	if err := L.DoString(`function grow(n) return ("x"):rep(n) end`); err != nil {
		t.Fatal(err)
	}
	fn := L.GetGlobal("grow").(*LFunction)
	before := shared.Used()
	if st, err, _ := L.Resume(co, fn, LNumber(1<<20)); st != ResumeOK || err != nil {
		t.Fatal(st, err)
	}
	if shared.Used()-before < 1<<20 {
		t.Errorf("thread's allocation not charged to the shared budget")
	}

	own := NewBudget(1 << 20)
	co2, _ := L.NewThread()
	co2.SetOwnBudget(own)
	if L.Budget() != shared {
		t.Fatal("SetOwnBudget changed the creator's budget")
	}
	st, err, _ := L.Resume(co2, fn, LNumber(2<<20))
	if st != ResumeError || !errors.Is(err, ErrMemoryLimit) || !errors.Is(own.Err(), ErrMemoryLimit) || shared.Err() != nil {
		t.Fatalf("%v %v own=%v shared=%v", st, err, own.Err(), shared.Err())
	}
	// Removing the creator's budget unbounds the threads sharing it.
	L.SetBudget(nil)
	co3, _ := L.NewThread()
	if co.Budget() != nil || co3.Budget() != nil || co2.Budget() != own {
		t.Error("SetBudget(nil) did not reach the sharing threads")
	}
}

// Without a budget nothing changes.
func TestNoBudget(t *testing.T) {
	L := NewState()
	defer L.Close()
	if err := L.DoString(`local s = ("x"):rep(2^20):gsub("x", "yy") assert(#s == 2^21)
assert(("abc"):gsub("", "-") == "-a-b-c-")
assert(("hello world"):gsub("(o)", "[%1%1]") == "hell[oo] w[oo]rld")
assert(("abc"):gsub("%w", { a = 1, b = false }) == "1bc")
assert(("abc"):gsub("%w", function(c) if c == "b" then return false end return c:upper() end) == "AbC")
assert(("abc"):gsub("b", "%%") == "a%c")
assert(("x = 1"):gsub("(%w+) = (%w+)", "%2 = %1") == "1 = x")
assert(string.format("%5.2f|%-3s|%q", 1.5, "a", "b\n") == " 1.50|a  |\"b\\n\"")`); err != nil {
		t.Fatal(err)
	}
}
