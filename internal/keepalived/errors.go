package keepalived

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	suggestpkg "github.com/luvs-lb/luvs/internal/suggest"
)

// Pos is a line of a configuration file. Line 0 names the file as a whole.
type Pos struct {
	File string
	Line int
}

// String renders "file:line", or "file" for line 0.
func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return p.File + ":" + strconv.Itoa(p.Line)
}

// Error is one problem in a configuration, at a line.
type Error struct {
	Pos Pos
	Msg string
}

// Error renders "file:line: message".
func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Errors are all the problems found in a configuration, in file order, one
// a line. Parse returns them as its error; a configuration with any error
// must not be used.
type Errors []*Error

// Error renders one "file:line: message" line per problem.
func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// MaxErrors bounds the problems collected: past it one last error says how
// many more there were.
const MaxErrors = 1000

// errorList collects problems; it never stops the parse.
type errorList struct {
	errs    Errors
	dropped int
}

func (l *errorList) add(p Pos, format string, args ...any) {
	if len(l.errs) >= MaxErrors {
		l.dropped++
		return
	}
	l.errs = append(l.errs, &Error{Pos: p, Msg: fmt.Sprintf(format, args...)})
}

// full reports whether further problems would only be counted (so that
// costly messages, like suggestions, need not be made).
func (l *errorList) full() bool { return len(l.errs) >= MaxErrors }

// result returns the problems as an Errors sorted by file order (the order
// the files were read in, given by rank), then line, or nil.
func (l *errorList) result(rank map[string]int) error {
	if len(l.errs) == 0 {
		return nil
	}
	out := slices.Clone(l.errs)
	slices.SortStableFunc(out, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(rank[a.Pos.File], rank[b.Pos.File]), cmp.Compare(a.Pos.Line, b.Pos.Line))
	})
	out = slices.CompactFunc(out, func(a, b *Error) bool { return *a == *b })
	if l.dropped > 0 {
		last := out[len(out)-1]
		out = append(out, &Error{Pos: last.Pos, Msg: fmt.Sprintf("too many errors: %d more not shown", l.dropped)})
	}
	return out
}

// suggest returns ` (did you mean "x"?)` for the known word closest to w,
// or "" when none is close.
func suggest(w string, known []string) string { return suggestpkg.Hint(w, known) }
