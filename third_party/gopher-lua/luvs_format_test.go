package lua

import (
	"fmt"
	"testing"
)

// TestFormatSimpleMatchesFmt: the fast path of string.format gives what the
// fmt path gives, and declines what it does not handle.
func TestFormatSimpleMatchesFmt(t *testing.T) {
	cases := []struct {
		format string
		args   []interface{}
		fast   bool
	}{
		{"198.19.%d.%d:8080", []interface{}{LNumber(3), LNumber(251)}, true},
		{"%s=%d%%", []interface{}{LString("w"), LNumber(-7)}, true},
		{"%i|%s", []interface{}{LNumber(2.9), LNumber(1.5)}, true},
		{"%s", []interface{}{LNumber(1e300)}, true},
		{"%d", []interface{}{LNumber(-0.5)}, true},
		{"no directives", nil, true},
		{"%5d", []interface{}{LNumber(3)}, false},
		{"%x", []interface{}{LNumber(255)}, false},
		{"%s", []interface{}{LTrue}, false},
		{"%d", []interface{}{LString("10")}, false},
		{"%d %d", []interface{}{LNumber(1)}, false},
		{"%", nil, false},
	}
	for _, c := range cases {
		got, ok := formatSimple(c.format, c.args)
		if ok != c.fast {
			t.Errorf("formatSimple(%q): fast path %v, want %v", c.format, ok, c.fast)
			continue
		}
		if ok {
			if want := fmt.Sprintf(c.format, c.args...); got != want {
				t.Errorf("formatSimple(%q) = %q, fmt gives %q", c.format, got, want)
			}
		}
	}
	L := NewState()
	defer L.Close()
	if err := L.DoString(`assert(string.format("%d.%d:%s", 198, 18.0, "x") == "198.18:x")
		assert(string.format("%5.1f|%-3d|%x", 1.25, 7, 255) == "  1.2|7  |ff")`); err != nil {
		t.Fatal(err)
	}
}
