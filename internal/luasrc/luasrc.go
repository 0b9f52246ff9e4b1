// Package luasrc is source-level tooling for luvs' Lua 5.1 configuration
// files: a lexer that keeps exact positions, a bracket/block balance checker
// that names the unmatched opener (gopher-lua only says "at EOF"), and a
// locator for DSL-style calls such as `virtual_server "addr" { ... }` that
// gives line:column positions of their keys and values.
package luasrc

import "strconv"

// Pos is a 1-based line and column (column counts runes, a tab counts as 1).
// The zero Pos means "no position".
type Pos struct{ Line, Col int }

// String returns the position as "line:col", e.g. "12:3".
func (p Pos) String() string { return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col) }

// before reports whether p comes strictly before q.
func (p Pos) before(q Pos) bool { return p.Line < q.Line || p.Line == q.Line && p.Col < q.Col }

// Error is a problem at a position in a named file.
type Error struct {
	File string
	Pos  Pos
	Msg  string
}

// Error returns "file:line:col: msg" (or "line:col: msg" when File is empty).
func (e *Error) Error() string {
	if e.File == "" {
		return e.Pos.String() + ": " + e.Msg
	}
	return e.File + ":" + e.Pos.String() + ": " + e.Msg
}
