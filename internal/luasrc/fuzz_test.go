package luasrc

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// lineWidths returns the number of columns of each line of src, splitting
// lines the way the lexer does (\n, \r, \r\n and \n\r each end one line).
func lineWidths(src []byte) []int {
	widths := []int{0}
	for i := 0; i < len(src); {
		switch c := src[i]; c {
		case '\n', '\r':
			i++
			if i < len(src) && (src[i] == '\n' || src[i] == '\r') && src[i] != c {
				i++
			}
			widths = append(widths, 0)
		default:
			_, n := utf8.DecodeRune(src[i:])
			i += n
			widths[len(widths)-1]++
		}
	}
	return widths
}

func FuzzLexBalance(f *testing.F) {
	for _, s := range []string{
		configExample,
		"virtual_server \"a\" {\n  real_server \"b\" {\n    check = http { path = \"/\" },\n  real_server \"c\" { },\n}\n",
		"f = function()\n  if x then\n end",
		"repeat x = { until x",
		"s = [==[ ]] ]==] --[[ \n ]] \"\\065\\\n\" 0x1F 1e-3 ...",
		"#!/bin/lua\r\n\tt[ [[k]] ] = f(\"x\") { [\"y\"] = 1; 2 }",
		"\"é\\q\" \u00a0 ~ @",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		widths := lineWidths(src)
		check := func(what string, p Pos) {
			t.Helper()
			if p.Line < 1 || p.Line > len(widths) || p.Col < 1 || p.Col > widths[p.Line-1]+1 {
				t.Fatalf("%s position %v outside the input (%d lines, widths %v)", what, p, len(widths), widths)
			}
		}
		checkErr := func(what string, err error) {
			t.Helper()
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%s returned %T %v, want *Error", what, err, err)
			}
			check(what, e.Pos)
		}

		balanceErr := CheckBalance("f.lua", src)
		toks, err := Lex("f.lua", src)
		if err != nil {
			checkErr("Lex", err)
			if balanceErr == nil || balanceErr.Error() != err.Error() {
				t.Fatalf("CheckBalance = %v, want the lexical error %v", balanceErr, err)
			}
			return
		}
		if balanceErr != nil {
			checkErr("CheckBalance", balanceErr)
		}
		if len(toks) == 0 || toks[len(toks)-1].Kind != EOF {
			t.Fatalf("tokens do not end with EOF: %v", toks)
		}
		prev := Pos{1, 1}
		for _, tk := range toks {
			check("token", tk.Pos)
			check("token end", tk.End)
			if tk.Pos.before(prev) || tk.End.before(tk.Pos) {
				t.Fatalf("token %+v out of order (previous end %v)", tk, prev)
			}
			prev = tk.End
		}
		for _, cs := range CallSites(toks) {
			check("call", cs.Pos)
			check("table", cs.Table)
			if cs.ArgPos != (Pos{}) {
				check("arg", cs.ArgPos)
			}
			for _, f := range cs.Fields {
				check("key", f.Key)
				if f.Value != (Pos{}) {
					check("value", f.Value)
				}
			}
			for _, p := range cs.Items {
				check("item", p)
			}
			if !is(toks[cs.Open], "{") || !is(toks[cs.Close], "}") {
				t.Fatalf("call site %+v: Open/Close are %v/%v", cs, toks[cs.Open], toks[cs.Close])
			}
			if p, ok := KeyPos(toks, cs.Table, "x"); ok {
				check("KeyPos", p)
			}
		}
		if p, ok := KeyPos(toks, toks[len(toks)/2].Pos, "x"); ok {
			check("KeyPos", p)
		}
		NewIndex(toks).Find("f", 1, "x", 1)
	})
}
