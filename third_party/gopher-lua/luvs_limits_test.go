package lua

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// luvs patch: work done outside Lua instructions stays within the state's
// context and budget.

// limitRun runs src with a context of d and a budget of limit bytes, and
// returns the error and how long the run took.
func limitRun(t *testing.T, d time.Duration, limit uint64, src string) (error, time.Duration) {
	t.Helper()
	L := NewState()
	t.Cleanup(L.Close)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	L.SetContext(ctx)
	L.SetBudget(NewBudget(limit))
	start := time.Now()
	err := L.DoString(src)
	return err, time.Since(start)
}

func TestTailCallLoopTraceback(t *testing.T) {
	err, took := limitRun(t, 300*time.Millisecond, 64<<20, `local function f(n) return f(n + 1) end f(1)`)
	var ae *ApiError
	if !errors.As(err, &ae) || !strings.Contains(ae.Object.String(), "<string>:1:") || !strings.Contains(ae.Object.String(), "context deadline exceeded") {
		t.Fatalf("got %v", err)
	}
	if took > 2*time.Second {
		t.Errorf("took %s", took)
	}
	if lines := strings.Count(ae.StackTrace, "\n"); lines > 20 || !strings.Contains(ae.StackTrace, "\t...") {
		t.Errorf("traceback of %d lines:\n%s", lines, ae.StackTrace)
	}
}

func TestPatternMatchingStops(t *testing.T) {
	for _, src := range []string{
		`string.find(("a"):rep(5000), ".-.-b")`,
		`string.match(("a"):rep(5000), ".-.-b")`,
		`string.gsub(("a"):rep(5000), ".-.-b", "")`,
		`for m in string.gmatch(("a"):rep(5000), ".-.-b") do end`,
	} {
		err, took := limitRun(t, 200*time.Millisecond, 64<<20, src)
		if err == nil || !strings.Contains(err.Error(), "<string>:1: context deadline exceeded") {
			t.Errorf("%s: got %v", src, err)
		}
		if took > time.Second {
			t.Errorf("%s: took %s", src, took)
		}
	}
	// The recursion is charged: ".*" recurses once per byte.
	err, _ := limitRun(t, 20*time.Second, 16<<20, `string.find(("a"):rep(1e6), ".*b")`)
	if !errors.Is(err, ErrMemoryLimit) || !strings.Contains(err.Error(), "pattern matching") {
		t.Errorf("got %v", err)
	}
	err, _ = limitRun(t, 20*time.Second, 16<<20, `assert(string.find(("a"):rep(1e4) .. "b", ".*b") == 1)`)
	if err != nil {
		t.Error(err)
	}
}

func TestTooManyResults(t *testing.T) {
	for src, want := range map[string]string{
		`unpack({}, 1, 4e5)`:                                     "<string>:1: too many results to unpack",
		`unpack({}, -2^31, 2^31)`:                                "<string>:1: too many results to unpack",
		`string.byte(("a"):rep(1e5), 1, -1)`:                     "<string>:1: string slice too long",
		`assert(select("#", unpack({}, 1, 4000)) == 4000)`:       "",
		`assert(#{string.byte(("a"):rep(4000), 1, -1)} == 4000)`: "",
	} {
		err, took := limitRun(t, 5*time.Second, 64<<20, src)
		if (want == "" && err != nil) || (want != "" && (err == nil || !strings.HasPrefix(err.Error(), want))) {
			t.Errorf("%s: got %v, want %q", src, err, want)
		}
		if took > time.Second {
			t.Errorf("%s: took %s", src, took)
		}
	}
}

func TestSyntaxLevels(t *testing.T) {
	deep := func(open, mid, close string, n int) string {
		return "local x = 1\nlocal y = " + strings.Repeat(open, n) + mid + strings.Repeat(close, n) + "\n"
	}
	for _, c := range []struct{ src, want string }{
		{strings.Repeat("do ", 100000) + strings.Repeat(" end", 100000), "line:1(column:602) near 'do':   chunk has too many syntax levels"},
		{deep("{", "", "}", 300), "line:2(column:211) near '{':   chunk has too many syntax levels"},
		{deep("(", "1", ")", 300), "line:2(column:211) near '('"},
		{deep("function() return ", "1", " end", 300), "line:2(column:"},
		{deep("{", "", "}", 200), "compile error near line(2) <string>: function or expression needs more than 200 registers"},
		{"local x = 1\nlocal y = 'a'" + strings.Repeat(" .. 'a'", 1e5), "compile error near line(2) <string>: function or expression needs more than 200 registers"},
		{"local x = 1\nlocal y = {\n" + strings.Repeat("{", 199) + strings.Repeat("}", 199) + "}", "compile error near line(3) <string>: function or expression needs more than 200 registers"},
	} {
		start := time.Now()
		L := NewState()
		err := L.DoString(c.src)
		L.Close()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%.30s: got %v, want %q", c.src, err, c.want)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("%.30s: took %s", c.src, took)
		}
	}
	// 100 levels of everything are fine.
	L := NewState()
	defer L.Close()
	if err := L.DoString(strings.Repeat("do ", 100) + strings.Repeat(" end", 100) + "\n" +
		"local t = " + strings.Repeat("{", 100) + strings.Repeat("}", 100) + "\n" +
		"local f = " + strings.Repeat("function() return ", 50) + "1" + strings.Repeat(" end", 50)); err != nil {
		t.Error(err)
	}
}

func TestErrorPositions(t *testing.T) {
	for _, minimize := range []bool{false, true} {
		for _, c := range []struct {
			src, want string
			line      int
		}{
			{"local x = 1\nerror({})", "table: ", 2},
			{"local x = 1\nerror('x', 0)", "x", 2},
			{"local x = 1\nlocal function r(n) return 1 + r(n + 1) end\nr(1)", "<string>:2: stack overflow", 2},
			{"local x = 1\nlocal ok, e = pcall(error, {})\nerror(e)", "table: ", 3},
		} {
			L := NewState(Options{CallStackSize: 200, MinimizeStackMemory: minimize})
			err := L.DoString(c.src)
			L.Close()
			var ae *ApiError
			if !errors.As(err, &ae) || ae.Source != "<string>" || ae.Line != c.line || !strings.HasPrefix(ae.Object.String(), c.want) {
				t.Errorf("%q (minimize %v): got %v at %s:%d, want %q at line %d", c.src, minimize, err, ae.Source, ae.Line, c.want, c.line)
			}
		}
	}
}
