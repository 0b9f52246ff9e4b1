package kimport

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// luaString quotes s as a Lua 5.1 string literal (control bytes as \ddd).
func luaString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c == 0x7f:
			// Three digits, so that a following digit is not taken in.
			fmt.Fprintf(&b, `\%03d`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// luaBytes quotes binary data as a Lua string.
func luaBytes(p []byte) string { return luaString(string(p)) }

// luaDuration writes a duration as luvs reads it: "60s", "5m", "1.5s".
func luaDuration(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return luaString(strconv.FormatInt(int64(d/time.Hour), 10) + "h")
	case d >= time.Minute && d%time.Minute == 0 && d < time.Hour:
		return luaString(strconv.FormatInt(int64(d/time.Minute), 10) + "m")
	case d%time.Second == 0:
		return luaString(strconv.FormatInt(int64(d/time.Second), 10) + "s")
	}
	return luaString(d.String())
}

// luaArgv writes an argv list.
func luaArgv(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		parts[i] = luaString(a)
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

// hostPort writes an address with an optional port as luvs reads it.
func hostPort(a netip.Addr, port uint16, withPort bool) string {
	if !withPort {
		if a.Is6() {
			return "[" + a.String() + "]"
		}
		return a.String()
	}
	return netip.AddrPortFrom(a, port).String()
}

// ident makes a Lua identifier out of a keepalived name.
func ident(prefix, name string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, r := range name {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// commentLine turns a keepalived comment ("# text", "! text") into Lua.
func commentLine(text string) string {
	t := strings.TrimLeft(text, "#!")
	t = strings.TrimRight(t, " \t\r")
	if t == "" {
		return "--"
	}
	if t[0] != ' ' && t[0] != '\t' {
		t = " " + t
	}
	return "--" + t
}
