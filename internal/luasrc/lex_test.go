package luasrc

import (
	"errors"
	"strings"
	"testing"
)

// tok is a token without positions, for compact expectations.
type tok struct {
	k Kind
	s string
}

func kinds(toks []Token) []tok {
	var out []tok
	for _, t := range toks {
		out = append(out, tok{t.Kind, t.Text})
	}
	return out
}

func TestLexTokens(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []tok
	}{
		{"empty", "", nil},
		{"names and keywords", "local x_1 = nil and true or false not _ goto",
			[]tok{{Keyword, "local"}, {Name, "x_1"}, {Symbol, "="}, {Keyword, "nil"}, {Keyword, "and"},
				{Keyword, "true"}, {Keyword, "or"}, {Keyword, "false"}, {Keyword, "not"}, {Name, "_"}, {Keyword, "goto"}}},
		{"all keywords", "break do else elseif end for function if in repeat return then until while",
			[]tok{{Keyword, "break"}, {Keyword, "do"}, {Keyword, "else"}, {Keyword, "elseif"}, {Keyword, "end"},
				{Keyword, "for"}, {Keyword, "function"}, {Keyword, "if"}, {Keyword, "in"}, {Keyword, "repeat"},
				{Keyword, "return"}, {Keyword, "then"}, {Keyword, "until"}, {Keyword, "while"}}},
		{"numbers", "3 3.0 3.1416 314.16e-2 0.31416E1 0xff 0x56 .5 5. 1e10 2E+3",
			[]tok{{Number, "3"}, {Number, "3.0"}, {Number, "3.1416"}, {Number, "314.16e-2"}, {Number, "0.31416E1"},
				{Number, "0xff"}, {Number, "0x56"}, {Number, ".5"}, {Number, "5."}, {Number, "1e10"}, {Number, "2E+3"}}},
		{"symbols", "+ - * / % ^ # == ~= <= >= < > = ( ) { } [ ] ; : , . .. ... ::",
			[]tok{{Symbol, "+"}, {Symbol, "-"}, {Symbol, "*"}, {Symbol, "/"}, {Symbol, "%"}, {Symbol, "^"},
				{Symbol, "#"}, {Symbol, "=="}, {Symbol, "~="}, {Symbol, "<="}, {Symbol, ">="}, {Symbol, "<"},
				{Symbol, ">"}, {Symbol, "="}, {Symbol, "("}, {Symbol, ")"}, {Symbol, "{"}, {Symbol, "}"},
				{Symbol, "["}, {Symbol, "]"}, {Symbol, ";"}, {Symbol, ":"}, {Symbol, ","}, {Symbol, "."},
				{Symbol, ".."}, {Symbol, "..."}, {Symbol, "::"}}},
		{"symbols without spaces", "a..b...c==d=e[f]",
			[]tok{{Name, "a"}, {Symbol, ".."}, {Name, "b"}, {Symbol, "..."}, {Name, "c"}, {Symbol, "=="},
				{Name, "d"}, {Symbol, "="}, {Name, "e"}, {Symbol, "["}, {Name, "f"}, {Symbol, "]"}}},
		{"numbers glued to names", "3or 0x1Fg 1.2.3",
			[]tok{{Number, "3"}, {Keyword, "or"}, {Number, "0x1F"}, {Name, "g"}, {Number, "1.2"}, {Number, ".3"}}},
		{"number then concat", "1 ..2", []tok{{Number, "1"}, {Symbol, ".."}, {Number, "2"}}},
		{"minus is not a comment", "a - -b", []tok{{Name, "a"}, {Symbol, "-"}, {Symbol, "-"}, {Name, "b"}}},
		{"short string escapes", `"a\nb\tc\\d\"e\'f" 'x\"y\'z' "\a\b\f\r\v"`,
			[]tok{{String, "a\nb\tc\\d\"e'f"}, {String, "x\"y'z"}, {String, "\a\b\f\r\v"}}},
		{"decimal escapes", `"\65\066\0671\0\255\9"`, []tok{{String, "AB" + "C1" + "\x00\xff\t"}}},
		{"escaped newline", "\"a\\\nb\" \"c\\\r\nd\"", []tok{{String, "a\nb"}, {String, "c\nd"}}},
		{"utf-8 in strings", `"héllo ☃"`, []tok{{String, "héllo ☃"}}},
		{"long strings", "[[a]] [[\nfirst newline skipped]] [==[ a ]] ]=] ]==] [=[\r\nx\r\ny]=]",
			[]tok{{String, "a"}, {String, "first newline skipped"}, {String, " a ]] ]=] "}, {String, "x\ny"}}},
		{"long string no escapes", `[[a\nb"c]]`, []tok{{String, `a\nb"c`}}},
		{"index with long string", "t[ [[k]] ]", []tok{{Name, "t"}, {Symbol, "["}, {String, "k"}, {Symbol, "]"}}},
		{"comments", "a -- line { ( [\nb --[[ long\n ]] c --[==[ ]] ]=] still ]==] d --[ short [[\ne --[=x short\nf",
			[]tok{{Name, "a"}, {Name, "b"}, {Name, "c"}, {Name, "d"}, {Name, "e"}, {Name, "f"}}},
		{"nested-looking comments", "--[[ --[[ inner ]] x ]] y --]] z\n--[==[ ]] --]] ]=] ]==] w",
			[]tok{{Name, "x"}, {Symbol, "]"}, {Symbol, "]"}, {Name, "y"}, {Name, "w"}}},
		{"comment to EOF", "x --", []tok{{Name, "x"}}},
		{"shebang", "#!/usr/bin/env lua\nx = #t", []tok{{Name, "x"}, {Symbol, "="}, {Symbol, "#"}, {Name, "t"}}},
		{"whitespace", "a\t\f\vb\r\nc\n\rd\re", []tok{{Name, "a"}, {Name, "b"}, {Name, "c"}, {Name, "d"}, {Name, "e"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			toks, err := Lex("t.lua", []byte(tt.src))
			if err != nil {
				t.Fatalf("Lex: %v", err)
			}
			if last := toks[len(toks)-1]; last.Kind != EOF {
				t.Fatalf("last token %v, want EOF", last)
			}
			got := kinds(toks[:len(toks)-1])
			if len(got) != len(tt.want) {
				t.Fatalf("got %d tokens %v, want %d %v", len(got), got, len(tt.want), tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("token %d = %v, want %v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestLexPositions(t *testing.T) {
	type span struct {
		text     string
		pos, end Pos
	}
	tests := []struct {
		name string
		src  string
		want []span // tokens in order, EOF included as ""
	}{
		{"simple", "ab = 1", []span{{"ab", Pos{1, 1}, Pos{1, 3}}, {"=", Pos{1, 4}, Pos{1, 5}}, {"1", Pos{1, 6}, Pos{1, 7}}, {"", Pos{1, 7}, Pos{1, 7}}}},
		{"tabs count as one", "\tx\t=\t1\n", []span{{"x", Pos{1, 2}, Pos{1, 3}}, {"=", Pos{1, 4}, Pos{1, 5}}, {"1", Pos{1, 6}, Pos{1, 7}}, {"", Pos{2, 1}, Pos{2, 1}}}},
		{"runes not bytes", `"héllo" x`, []span{{"héllo", Pos{1, 1}, Pos{1, 8}}, {"x", Pos{1, 9}, Pos{1, 10}}, {"", Pos{1, 10}, Pos{1, 10}}}},
		{"after multi-line long string", "s = [[a\nbc]] y", []span{{"s", Pos{1, 1}, Pos{1, 2}}, {"=", Pos{1, 3}, Pos{1, 4}}, {"a\nbc", Pos{1, 5}, Pos{2, 5}}, {"y", Pos{2, 6}, Pos{2, 7}}, {"", Pos{2, 7}, Pos{2, 7}}}},
		{"after escaped newline", "s = \"a\\\nb\" z", []span{{"s", Pos{1, 1}, Pos{1, 2}}, {"=", Pos{1, 3}, Pos{1, 4}}, {"a\nb", Pos{1, 5}, Pos{2, 3}}, {"z", Pos{2, 4}, Pos{2, 5}}, {"", Pos{2, 5}, Pos{2, 5}}}},
		{"after long comment", "--[==[\n\n]==] x", []span{{"x", Pos{3, 6}, Pos{3, 7}}, {"", Pos{3, 7}, Pos{3, 7}}}},
		{"crlf counts once", "a\r\n\r\nb\n\rc", []span{{"a", Pos{1, 1}, Pos{1, 2}}, {"b", Pos{3, 1}, Pos{3, 2}}, {"c", Pos{4, 1}, Pos{4, 2}}, {"", Pos{4, 2}, Pos{4, 2}}}},
		{"shebang line", "#!lua\n  x", []span{{"x", Pos{2, 3}, Pos{2, 4}}, {"", Pos{2, 4}, Pos{2, 4}}}},
		{"escapes keep source columns", `"\n\065" x`, []span{{"\nA", Pos{1, 1}, Pos{1, 9}}, {"x", Pos{1, 10}, Pos{1, 11}}, {"", Pos{1, 11}, Pos{1, 11}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			toks, err := Lex("t.lua", []byte(tt.src))
			if err != nil {
				t.Fatalf("Lex: %v", err)
			}
			if len(toks) != len(tt.want) {
				t.Fatalf("got %d tokens %+v, want %d", len(toks), toks, len(tt.want))
			}
			for i, w := range tt.want {
				if g := toks[i]; g.Text != w.text || g.Pos != w.pos || g.End != w.end {
					t.Errorf("token %d = %q %v-%v, want %q %v-%v", i, g.Text, g.Pos, g.End, w.text, w.pos, w.end)
				}
			}
		})
	}
}

func TestLexErrors(t *testing.T) {
	tests := []struct {
		src, want string
	}{
		{`x = "abc`, "t.lua:1:5: unterminated string"},
		{"x = 'ab\ncd'", "t.lua:1:5: unterminated string"},
		{`x = "ab\`, "t.lua:1:5: unterminated string"},
		{`x = "a\qb"`, `t.lua:1:7: invalid escape sequence '\q'`},
		{`x = "\x41"`, `t.lua:1:6: invalid escape sequence '\x'`},
		{`x = "\256"`, `t.lua:1:6: decimal escape '\256' is too large`},
		{"a\n  --[[ never closed\n", "t.lua:2:3: unterminated long comment (missing ']]')"},
		{"s = [==[ abc ]] ]=]", "t.lua:1:5: unterminated long string (missing ']==]')"},
		{"s = [=x", "t.lua:1:5: invalid long string delimiter"},
		{"x = @", "t.lua:1:5: unexpected character '@'"},
		{"x = ~ 1", "t.lua:1:5: unexpected character '~'"},
		{"x = 1 \u00a0", `t.lua:1:7: unexpected character '\u00a0'`},
		{"\"é\" $", "t.lua:1:5: unexpected character '$'"},
		{"x = 0x", `t.lua:1:5: malformed number "0x"`},
		{"x = 0xg", `t.lua:1:5: malformed number "0x"`},
		{"x = 1e", `t.lua:1:5: malformed number "1e"`},
		{"x = 2.5E+ 1", `t.lua:1:5: malformed number "2.5E+"`},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			toks, err := Lex("t.lua", []byte(tt.src))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Lex = %v, %v; want *Error", toks, err)
			}
			if err.Error() != tt.want {
				t.Errorf("error %q, want %q", err, tt.want)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{File: "web.lua", Pos: Pos{12, 3}, Msg: "boom"}
	if got := e.Error(); got != "web.lua:12:3: boom" {
		t.Errorf("got %q", got)
	}
	e.File = ""
	if got := e.Error(); got != "12:3: boom" {
		t.Errorf("got %q", got)
	}
	if got := Kind(99).String(); !strings.Contains(got, "99") {
		t.Errorf("Kind(99) = %q", got)
	}
	if got := Symbol.String(); got != "Symbol" {
		t.Errorf("Symbol = %q", got)
	}
}
