package luasrc

import "fmt"

// CheckBalance matches ( ) [ ] { } and the Lua block keywords: `function`,
// `if`, `do` and `repeat` open; `end` closes function/if/do and `until`
// closes repeat (`for`/`while` use `do`; `then`, `else`, `elseif` neither
// open nor close). Brackets inside strings and comments are ignored; a
// lexical error is returned as is. It returns nil when everything is matched;
// otherwise an *Error at the best culprit:
//
//   - a closer that matches nothing: "'}' has no matching '{'" at the closer;
//   - a closer of the wrong kind: "')' does not match '{' opened at 3:5" at
//     the closer;
//   - an opener that is never closed: "'{' opened here is never closed" (for
//     keywords "'function' opened here is never closed (missing 'end')", or
//     "(missing 'until')" for repeat) at the opener.
//
// The culprit is chosen with indentation (the column of the first token of a
// line). A pair matched by the stack whose closer's line is indented less
// than its opener's line is suspicious: the closer probably belongs to an
// outer construct and the opener lacks its own closer. When the openers left
// unclosed at EOF enclose a suspicious pair, the opener of the first such pair
// (the first one closed) is reported as never closed; otherwise the innermost
// unclosed opener is. A wrong-kind closer is handled alike: a suspicious pair
// inside the construct it meets, or else that construct itself when the
// closer's line is indented less, is reported as never closed; only
// otherwise is the mismatch reported at the closer.
func CheckBalance(file string, src []byte) error {
	toks, err := Lex(file, src)
	if err != nil {
		return err
	}
	indent := lineIndents(toks)
	lessIndented := func(closer, opener Token) bool {
		return indent[closer.Pos.Line] < indent[opener.Pos.Line]
	}
	neverClosed := func(t Token) error {
		msg := fmt.Sprintf("'%s' opened here is never closed", t.Text)
		if t.Kind == Keyword {
			msg += fmt.Sprintf(" (missing '%s')", closerOf(t))
		}
		return &Error{File: file, Pos: t.Pos, Msg: msg}
	}
	var stack []int
	var outer [][2]int // the outermost pairs: opener and closer
	var suspects []int // openers of suspicious pairs, in the order they were closed
	firstSuspect := func(after int) int {
		for _, s := range suspects {
			if s > after {
				return s
			}
		}
		return -1
	}
	for i, t := range toks {
		if closerOf(t) != "" {
			stack = append(stack, i)
			continue
		}
		if !isCloser(t) {
			continue
		}
		if len(stack) == 0 {
			extra := t
			if p, ok := misplacedCloser(toks, indent, outer, t); ok {
				extra = toks[p]
			}
			return &Error{File: file, Pos: extra.Pos, Msg: fmt.Sprintf("'%s' has no matching %s", t.Text, openersOf[t.Text])}
		}
		top := stack[len(stack)-1]
		if closerOf(toks[top]) != t.Text {
			if s := firstSuspect(top); s >= 0 {
				return neverClosed(toks[s])
			}
			if lessIndented(t, toks[top]) {
				return neverClosed(toks[top])
			}
			return &Error{File: file, Pos: t.Pos, Msg: fmt.Sprintf("'%s' does not match '%s' opened at %s", t.Text, toks[top].Text, toks[top].Pos)}
		}
		stack = stack[:len(stack)-1]
		if len(stack) == 0 {
			outer = append(outer, [2]int{top, i})
		}
		if lessIndented(t, toks[top]) {
			suspects = append(suspects, top)
		}
	}
	if len(stack) == 0 {
		return nil
	}
	if s := firstSuspect(stack[0]); s >= 0 {
		return neverClosed(toks[s])
	}
	return neverClosed(toks[stack[len(stack)-1]])
}

// misplacedCloser returns the closer of an outermost pair that is more
// likely the extra one than the unmatched closer t after it: t starts its
// line at the indentation of the line that opened the pair, as the pair's
// own closer would, while the pair's closer ends a longer line
// (`real_server "..." {} },`). Pairs opened on lines indented more than t
// (entries cut off by the early closer) are passed over.
func misplacedCloser(toks []Token, indent []int, outer [][2]int, t Token) (int, bool) {
	if indent[t.Pos.Line] != t.Pos.Col {
		return 0, false
	}
	for i := len(outer) - 1; i >= 0; i-- {
		open, cl := toks[outer[i][0]], toks[outer[i][1]]
		if indent[open.Pos.Line] > t.Pos.Col {
			continue
		}
		ok := closerOf(open) == t.Text && indent[open.Pos.Line] == t.Pos.Col &&
			cl.Pos.Line > open.Pos.Line && indent[cl.Pos.Line] != cl.Pos.Col
		return outer[i][1], ok
	}
	return 0, false
}

var openersOf = map[string]string{
	")": "'('", "]": "'['", "}": "'{'", "end": "'function', 'if' or 'do'", "until": "'repeat'",
}

// closerOf returns the text of the token that closes t if t opens a bracket
// or block, else "".
func closerOf(t Token) string {
	switch t.Kind {
	case Symbol:
		switch t.Text {
		case "(":
			return ")"
		case "[":
			return "]"
		case "{":
			return "}"
		}
	case Keyword:
		switch t.Text {
		case "function", "if", "do":
			return "end"
		case "repeat":
			return "until"
		}
	}
	return ""
}

func isCloser(t Token) bool {
	switch t.Kind {
	case Symbol:
		return t.Text == ")" || t.Text == "]" || t.Text == "}"
	case Keyword:
		return t.Text == "end" || t.Text == "until"
	}
	return false
}

// lineIndents returns, indexed by line, the column of the first token that
// starts on that line (0 for lines where none starts).
func lineIndents(toks []Token) []int {
	maxLine := 0
	for _, t := range toks {
		maxLine = max(maxLine, t.Pos.Line)
	}
	indent := make([]int, maxLine+1)
	for _, t := range toks {
		if indent[t.Pos.Line] == 0 {
			indent[t.Pos.Line] = t.Pos.Col
		}
	}
	return indent
}

// match pairs openers with closers using a stack: m[i] is the index of the
// token paired with token i, or -1. Closers of the wrong kind are ignored.
func match(toks []Token) []int {
	m := make([]int, len(toks))
	var stack []int
	for i, t := range toks {
		m[i] = -1
		if closerOf(t) != "" {
			stack = append(stack, i)
		} else if n := len(stack); n > 0 && isCloser(t) && closerOf(toks[stack[n-1]]) == t.Text {
			m[i], m[stack[n-1]] = stack[n-1], i
			stack = stack[:n-1]
		}
	}
	return m
}
