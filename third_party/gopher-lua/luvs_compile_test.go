package lua

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/yuin/gopher-lua/parse"
)

// luvs patch: in a table constructor only a positional last field may expand
// to all the values of a call or vararg; a keyed last field holds one value
// and must not add list entries. List entries are stored once, at the right
// index, however many batches of FieldsPerFlush they take.
func TestTableConstructorListEntries(t *testing.T) {
	L := NewState()
	defer L.Close()
	fifty := strings.Repeat("1, ", 49) + "50"
	src := `
local function two() return "x", "y" end
local function n(t) local c = 0 for _ in pairs(t) do c = c + 1 end return c end
local function check(name, t, len, count)
  assert(#t == len, name .. ": #t = " .. #t .. ", want " .. len)
  assert(n(t) == count, name .. ": " .. n(t) .. " entries, want " .. count)
end
check("call", { "a", k = tostring(1) }, 1, 2)
check("multi", { "a", k = two() }, 1, 2)
check("bracket key", { "a", ["k"] = two() }, 1, 2)
check("method", { "a", "b", k = ("x"):rep(2) }, 2, 3)
check("vararg", (function(...) return { "a", k = ... } end)("v", "w"), 1, 2)
check("keyed only", { k = two() }, 0, 1)
check("positional last", { "a", two() }, 3, 3)
check("positional vararg", (function(...) return { k = 1, ... } end)("v", "w"), 2, 3)
check("keyed then positional call", { k = two(), two() }, 2, 3)
check("parenthesized", { "a", (two()) }, 2, 2)
local t = { "a", k = two() }
assert(t[1] == "a" and t[2] == nil and t.k == "x")
-- after a full batch of 50 list entries
check("51 and keyed", { ` + fifty + `, 51, k = two() }, 51, 52)
t = { ` + fifty + `, k = "kk", j = tostring(3), two() }
check("50, keyed, call", t, 52, 54)
assert(t[1] == 1 and t[50] == 50 and t[51] == "x" and t[52] == "y" and t.j == "3")
t = { ` + fifty + `, two() }
assert(#t == 52 and t[1] == 1 and t[51] == "x" and t[52] == "y")
-- more than 511 batches: the batch number goes in an extra code word
t = { ` + strings.Repeat("7, ", 30000) + ` two() }
local a, b = t, t
assert(#a == 30002 and b[1] == 7 and b[30000] == 7 and b[30001] == "x" and a[0] == nil and a[-49] == nil)
`
	if err := L.DoString(src); err != nil {
		t.Fatal(err)
	}
}

// luvs patch: constants are looked up in a map, not a list.
func TestManyConstantsCompileFast(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 60000; i++ {
		fmt.Fprintf(&b, "x = %q; y = %d\n", fmt.Sprint("s", i), i)
	}
	b.WriteString("assert(x == 's59999' and y == 59999)\n")
	start := time.Now()
	L := NewState()
	defer L.Close()
	if err := L.DoString(b.String()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %s", took)
	}
	// Equal constants share one entry, of the same type only.
	chunk, err := parse.Parse(strings.NewReader(`local a, b, c, d = 1, "1", 1, "1"`), "k")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(chunk, "k")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Constants) != 2 {
		t.Errorf("constants %v", p.Constants)
	}
}
