package luasrc

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind classifies a Token.
type Kind int

// Token kinds.
const (
	Name    Kind = iota + 1 // identifier
	Keyword                 // reserved word, e.g. "function", "end"
	String                  // string literal; Text is the decoded value
	Number                  // numeric literal; Text is the source text
	Symbol                  // operator or punctuation, e.g. "{", "..", "~="
	EOF                     // end of input; Text is ""
)

// String returns the kind's name, e.g. "Name".
func (k Kind) String() string {
	switch k {
	case Name:
		return "Name"
	case Keyword:
		return "Keyword"
	case String:
		return "String"
	case Number:
		return "Number"
	case Symbol:
		return "Symbol"
	case EOF:
		return "EOF"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Token is one lexical token.
type Token struct {
	Kind Kind
	Text string // for String: the decoded value (escapes processed, long brackets stripped); otherwise the source text
	Pos  Pos    // first character
	End  Pos    // position just after the last character
}

// keywords are Lua 5.1's reserved words plus "goto", which gopher-lua reserves.
var keywords = map[string]bool{
	"and": true, "break": true, "do": true, "else": true, "elseif": true, "end": true,
	"false": true, "for": true, "function": true, "goto": true, "if": true, "in": true,
	"local": true, "nil": true, "not": true, "or": true, "repeat": true, "return": true,
	"then": true, "true": true, "until": true, "while": true,
}

// symbols, longest first ("::" is gopher-lua's label syntax).
var symbols = []string{
	"...", "..", "==", "~=", "<=", ">=", "::",
	"+", "-", "*", "/", "%", "^", "#", "<", ">", "=",
	"(", ")", "{", "}", "[", "]", ";", ":", ",", ".",
}

// Lex tokenizes Lua 5.1 source: names, keywords, numbers (incl. hex,
// exponents), short strings with all escapes (\a \b \f \n \r \t \v \\ \" \'
// \ddd, \<newline>), long strings [[...]] / [==[...]==], comments -- and
// --[[ ]] / --[==[ ]==], and a first line starting with "#" (as gopher-lua's
// DoFile skips "#!" lines). The result always ends with an EOF token.
//
// A lexical error (unterminated string or long comment, invalid escape,
// malformed number, stray character) returns an *Error at the offending
// position: the opening quote or bracket for unterminated strings and
// comments, the backslash for escapes. Note that Lua 5.1 and gopher-lua
// silently accept an unknown escape such as "\d" as "d"; Lex rejects it.
func Lex(file string, src []byte) ([]Token, error) {
	lx := &lexer{file: file, src: src, line: 1, col: 1}
	if lx.at(0) == '#' {
		lx.skipLine()
	}
	var toks []Token
	for {
		lx.skipSpace()
		start := lx.pos()
		if lx.off >= len(src) {
			return append(toks, Token{Kind: EOF, Pos: start, End: start}), nil
		}
		kind, text, err := lx.scan(start)
		if err != nil {
			return nil, err
		}
		if kind != 0 { // 0: a comment
			toks = append(toks, Token{Kind: kind, Text: text, Pos: start, End: lx.pos()})
		}
	}
}

type lexer struct {
	file      string
	src       []byte
	off       int // byte offset of the current character
	line, col int // its position
}

func (lx *lexer) pos() Pos { return Pos{lx.line, lx.col} }

// at returns the byte k bytes ahead of the current one, or -1 past the end.
func (lx *lexer) at(k int) int {
	if lx.off+k < len(lx.src) {
		return int(lx.src[lx.off+k])
	}
	return -1
}

// adv skips n ASCII characters that are not newlines.
func (lx *lexer) adv(n int) { lx.off += n; lx.col += n }

// next consumes one character: a rune, or a newline (\n, \r, \r\n or \n\r).
func (lx *lexer) next() {
	c := lx.src[lx.off]
	if c == '\n' || c == '\r' {
		lx.off++
		if d := lx.at(0); isNewline(d) && d != int(c) {
			lx.off++
		}
		lx.line++
		lx.col = 1
		return
	}
	_, n := utf8.DecodeRune(lx.src[lx.off:])
	lx.off += n
	lx.col++
}

func (lx *lexer) errorf(p Pos, format string, args ...any) error {
	return &Error{File: lx.file, Pos: p, Msg: fmt.Sprintf(format, args...)}
}

func (lx *lexer) skipSpace() {
	for c := lx.at(0); c == ' ' || c == '\t' || c == '\f' || c == '\v' || isNewline(c); c = lx.at(0) {
		lx.next()
	}
}

func (lx *lexer) skipLine() {
	for c := lx.at(0); c >= 0 && !isNewline(c); c = lx.at(0) {
		lx.next()
	}
}

// scan reads the token at start; kind 0 means a comment was skipped.
func (lx *lexer) scan(start Pos) (Kind, string, error) {
	c := lx.at(0)
	switch {
	case c == '-' && lx.at(1) == '-':
		lx.adv(2)
		if level := lx.longLevel(); level >= 0 {
			_, err := lx.long(level, start, "comment")
			return 0, "", err
		}
		lx.skipLine()
		return 0, "", nil
	case isLetter(c):
		b := lx.off
		for isLetter(lx.at(0)) || isDigit(lx.at(0)) {
			lx.adv(1)
		}
		text := string(lx.src[b:lx.off])
		if keywords[text] {
			return Keyword, text, nil
		}
		return Name, text, nil
	case isDigit(c) || c == '.' && isDigit(lx.at(1)):
		return lx.number(start)
	case c == '"' || c == '\'':
		return lx.shortString(start)
	case c == '[' && (lx.at(1) == '[' || lx.at(1) == '='):
		level := lx.longLevel()
		if level < 0 {
			return 0, "", lx.errorf(start, "invalid long string delimiter")
		}
		s, err := lx.long(level, start, "string")
		return String, s, err
	}
	rest := lx.src[lx.off:]
	for _, s := range symbols {
		if len(rest) >= len(s) && string(rest[:len(s)]) == s {
			lx.adv(len(s))
			return Symbol, s, nil
		}
	}
	r, _ := utf8.DecodeRune(rest)
	return 0, "", lx.errorf(start, "unexpected character %q", r)
}

// number reads a numeral as gopher-lua does: hex digits after "0x", or
// digits, an optional fraction and an optional exponent. A letter right after
// a numeral starts the next token, as in gopher-lua (Lua 5.1 would reject it).
func (lx *lexer) number(start Pos) (Kind, string, error) {
	b := lx.off
	digits := func(ok func(int) bool) int {
		n := 0
		for ; ok(lx.at(0)); n++ {
			lx.adv(1)
		}
		return n
	}
	malformed := func() (Kind, string, error) {
		return 0, "", lx.errorf(start, "malformed number %q", lx.src[b:lx.off])
	}
	if lx.at(0) == '0' && (lx.at(1) == 'x' || lx.at(1) == 'X') {
		lx.adv(2)
		if digits(isHex) == 0 {
			return malformed()
		}
		return Number, string(lx.src[b:lx.off]), nil
	}
	digits(isDigit)
	if lx.at(0) == '.' {
		lx.adv(1)
		digits(isDigit)
	}
	if c := lx.at(0); c == 'e' || c == 'E' {
		lx.adv(1)
		if c := lx.at(0); c == '+' || c == '-' {
			lx.adv(1)
		}
		if digits(isDigit) == 0 {
			return malformed()
		}
	}
	return Number, string(lx.src[b:lx.off]), nil
}

func (lx *lexer) shortString(start Pos) (Kind, string, error) {
	quote := lx.at(0)
	lx.adv(1)
	var buf []byte
	for {
		c := lx.at(0)
		switch {
		case c < 0 || isNewline(c):
			return 0, "", lx.errorf(start, "unterminated string")
		case c == quote:
			lx.adv(1)
			return String, string(buf), nil
		case c == '\\':
			esc := lx.pos()
			lx.adv(1)
			switch c = lx.at(0); {
			case c < 0:
				return 0, "", lx.errorf(start, "unterminated string")
			case isNewline(c):
				buf = append(buf, '\n')
				lx.next()
			case isDigit(c):
				v := 0
				for i := 0; i < 3 && isDigit(lx.at(0)); i++ {
					v = v*10 + lx.at(0) - '0'
					lx.adv(1)
				}
				if v > 255 {
					return 0, "", lx.errorf(esc, "decimal escape '\\%d' is too large", v)
				}
				buf = append(buf, byte(v))
			default:
				i := strings.IndexByte(`abfnrtv\"'`, byte(c))
				if i < 0 {
					r, _ := utf8.DecodeRune(lx.src[lx.off:])
					return 0, "", lx.errorf(esc, "invalid escape sequence '\\%c'", r)
				}
				buf = append(buf, "\a\b\f\n\r\t\v\\\"'"[i])
				lx.adv(1)
			}
		default:
			b := lx.off
			lx.next()
			buf = append(buf, lx.src[b:lx.off]...)
		}
	}
}

// longLevel returns the level of the long bracket [==[ at the current '['
// (the number of '='), or -1 if there is none.
func (lx *lexer) longLevel() int {
	if lx.at(0) != '[' {
		return -1
	}
	n := 0
	for lx.at(1+n) == '=' {
		n++
	}
	if lx.at(1+n) != '[' {
		return -1
	}
	return n
}

// long reads a long string or comment of the given level; start is where it
// begins (for errors). A newline right after the opening bracket is skipped
// and every newline sequence reads as "\n", as in Lua.
func (lx *lexer) long(level int, start Pos, what string) (string, error) {
	lx.adv(level + 2)
	if isNewline(lx.at(0)) {
		lx.next()
	}
	var buf []byte
	for {
		c := lx.at(0)
		switch {
		case c < 0:
			return "", lx.errorf(start, "unterminated long %s (missing ']%s]')", what, strings.Repeat("=", level))
		case c == ']' && lx.closesLong(level):
			lx.adv(level + 2)
			return string(buf), nil
		case isNewline(c):
			buf = append(buf, '\n')
			lx.next()
		default:
			b := lx.off
			lx.next()
			buf = append(buf, lx.src[b:lx.off]...)
		}
	}
}

func (lx *lexer) closesLong(level int) bool {
	for i := 1; i <= level; i++ {
		if lx.at(i) != '=' {
			return false
		}
	}
	return lx.at(level+1) == ']'
}

func isNewline(c int) bool { return c == '\n' || c == '\r' }
func isDigit(c int) bool   { return '0' <= c && c <= '9' }
func isHex(c int) bool     { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
func isLetter(c int) bool  { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' }
