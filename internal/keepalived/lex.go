package keepalived

import (
	"errors"
	"strings"
)

// token is a word of a configuration line, or a brace.
type token struct {
	Text  string
	Col   int  // 1-based byte column in the line the token came from
	Brace byte // '{' or '}' for a brace, else 0
}

// splitComment cuts a source line at its comment: '#' or '!' outside quotes
// starts a comment that runs to the end of the line. comment keeps its
// marker; it is "" when the line has none. Quotes are tracked as tokenize
// does, so a '#' inside "..." is text.
func splitComment(line string) (code, comment string) {
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#' || c == '!':
			return line[:i], line[i:]
		}
	}
	return line, ""
}

var errUnterminated = errors.New("unterminated quoted string")

// tokenize splits the code part of a line (comments removed) into words and
// braces the way keepalived does: words are separated by white space; '{'
// and '}' outside quotes are tokens of their own even when attached to a
// word ("url{"); "..." and '...' quote text, white space included, and may
// join a word ("a"b c"" is `ab c`); inside quotes the shell escapes \a \b \E
// \f \n \r \t \v \nnn \xXX \cC are decoded and \C is C.
func tokenize(code string) ([]token, error) {
	var toks []token
	var word strings.Builder
	inWord, start := false, 0
	flush := func() {
		if inWord {
			toks = append(toks, token{Text: word.String(), Col: start + 1})
			word.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == '\n':
			flush()
		case c == '{' || c == '}':
			flush()
			toks = append(toks, token{Text: string(c), Col: i + 1, Brace: c})
		case c == '"' || c == '\'':
			if !inWord {
				inWord, start = true, i
			}
			j, err := unquote(code, i, &word)
			if err != nil {
				return nil, err
			}
			i = j
		default:
			if !inWord {
				inWord, start = true, i
			}
			word.WriteByte(c)
		}
	}
	flush()
	return toks, nil
}

// unquote decodes the quoted text that starts at s[i] (a quote) into w and
// returns the index of the closing quote.
func unquote(s string, i int, w *strings.Builder) (int, error) {
	q := s[i]
	for i++; i < len(s); i++ {
		c := s[i]
		if c == q {
			return i, nil
		}
		if c != '\\' {
			w.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			break
		}
		n := 0
		c, n = unescape(s[i:])
		w.WriteByte(c)
		i += n - 1
	}
	return 0, errUnterminated
}

// unescape decodes the escape after a backslash at the start of s, returning
// the byte and how many bytes of s it used.
func unescape(s string) (byte, int) {
	switch s[0] {
	case 'a':
		return '\a', 1
	case 'b':
		return '\b', 1
	case 'E':
		return 0x1b, 1
	case 'f':
		return '\f', 1
	case 'n':
		return '\n', 1
	case 'r':
		return '\r', 1
	case 't':
		return '\t', 1
	case 'v':
		return '\v', 1
	case 'c':
		if len(s) > 1 {
			return s[1] & 0x1f, 2
		}
	case 'x':
		v, n := 0, 1
		for n < len(s) && n < 3 && hexVal(s[n]) >= 0 {
			v = v*16 + hexVal(s[n])
			n++
		}
		if n > 1 {
			return byte(v), n
		}
	case '0', '1', '2', '3', '4', '5', '6', '7':
		v, n := 0, 0
		for n < len(s) && n < 3 && s[n] >= '0' && s[n] <= '7' {
			v = v*8 + int(s[n]-'0')
			n++
		}
		return byte(v), n
	}
	return s[0], 1
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// quoteWord renders a word so that tokenize reads it back as itself: bare
// when it has no white space, quote, brace, comment marker or backslash,
// else in double quotes with \" \\ and control characters escaped.
func quoteWord(w string) string {
	if w != "" && !strings.ContainsAny(w, " \t\r\n\v\f\"'{}#!\\") && !strings.ContainsFunc(w, isControl) {
		return w
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			b.WriteString("\\x")
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
