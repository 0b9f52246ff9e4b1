package luaconf

import (
	"strings"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/luasandbox"
)

// Work done outside Lua instructions (tracebacks, pattern matching, Go
// functions' results, the compiler) stays within the load's limits, and every
// error has a line.
func TestLimitsOutsideInstructions(t *testing.T) {
	lim := luasandbox.DefaultLimits
	lim.Time = 500 * time.Millisecond
	for _, c := range []struct{ src, want string }{
		{"local function f(n) return f(n + 1) end\nf(1)", "t.lua:2:1: loading stopped: did not finish within 500ms"},
		{`string.find(("a"):rep(5000), ".-.-b")`, "t.lua:2:1: loading stopped: did not finish within 500ms"},
		{`unpack({}, 1, 4e5)`, "t.lua:2:1: too many results to unpack"},
		{strings.Repeat("do ", 100000) + strings.Repeat(" end", 100000), "t.lua:2:601: chunk has too many syntax levels near 'do'"},
		{"local t = " + strings.Repeat("{", 300) + strings.Repeat("}", 300), "t.lua:2:211: chunk has too many syntax levels near '{'"},
		{"local t = {\n" + strings.Repeat("{", 199) + strings.Repeat("}", 199) + "}", "t.lua:3:1: function or expression needs more than 200 registers"},
		{`error({})`, "t.lua:2:1: error raised with a table, not a message"},
		{`error("x", 0)`, "t.lua:2:1: x"},
		{"local function r(n) return 1 + r(n + 1) end\nr(1)", "t.lua:2:1: stack overflow"},
	} {
		start := time.Now()
		_, err := loadLimited(t, "local x = 1\n"+c.src, lim)
		took := time.Since(start)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%.40q: got %v, want %q", c.src, err, c.want)
		}
		if took > 2*time.Second {
			t.Errorf("%.40q: took %s", c.src, took)
		}
	}
}
