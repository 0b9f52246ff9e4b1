package luasrc

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// at returns the position of the n-th (0-based) occurrence of sub on the
// given 1-based line of src.
func at(t *testing.T, src string, line int, sub string, n int) Pos {
	t.Helper()
	l := strings.Split(src, "\n")[line-1]
	off := 0
	for ; n >= 0; n-- {
		i := strings.Index(l[off:], sub)
		if i < 0 {
			t.Fatalf("%q not found on line %d: %q", sub, line, l)
		}
		off += i + len(sub)
	}
	return Pos{line, utf8.RuneCountInString(l[:off-len(sub)]) + 1}
}

func mustLex(t *testing.T, src string) []Token {
	t.Helper()
	toks, err := Lex("t.lua", []byte(src))
	if err != nil {
		t.Fatalf("Lex: %v", err)
	}
	return toks
}

func TestCallSitesConfigExample(t *testing.T) {
	src := configExample
	toks := mustLex(t, src)

	all := CallSites(toks)
	var got []string
	for _, cs := range all {
		got = append(got, cs.Func+"@"+cs.Pos.String())
	}
	want := []string{"defaults@1:1", "http@1:56", "real_server@3:14", "virtual_server@4:1",
		"real_server@7:3", "tcp@7:41", "real_server@13:36", "virtual_server@14:1"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("CallSites() = %v\nwant %v", got, want)
	}

	sites := CallSites(toks, "virtual_server", "real_server")
	if len(sites) != 5 {
		t.Fatalf("got %d virtual/real server sites, want 5", len(sites))
	}

	// virtual_server "198.18.0.10:80" { ... }
	vs := sites[1]
	if vs.Func != "virtual_server" || vs.Pos != (Pos{4, 1}) || vs.Arg != "198.18.0.10:80" ||
		vs.ArgPos != (Pos{4, 16}) || vs.Table != (Pos{4, 33}) {
		t.Errorf("virtual_server site = %+v", vs)
	}
	if toks[vs.Open].Text != "{" || toks[vs.Close].Text != "}" || toks[vs.Close].Pos != (Pos{12, 1}) {
		t.Errorf("Open/Close = %v %v", toks[vs.Open], toks[vs.Close])
	}
	wantFields := map[string]Field{
		"protocol":     {Pos{5, 3}, Pos{5, 14}},
		"persistence":  {Pos{5, 21}, Pos{5, 35}},
		"sorry_server": {at(t, src, 5, "sorry_server", 0), at(t, src, 5, `"198.18.9.1:80"`, 0)},
		"quorum":       {at(t, src, 5, "quorum", 0), at(t, src, 5, "1,", 0)},
		"healthcheck":  {Pos{8, 3}, Pos{8, 17}},
	}
	if !reflect.DeepEqual(vs.Fields, wantFields) {
		t.Errorf("Fields = %v\nwant %v", vs.Fields, wantFields)
	}
	if want := []Pos{{6, 3}, {7, 3}}; !reflect.DeepEqual(vs.Items, want) {
		t.Errorf("Items = %v, want %v (web1, real_server)", vs.Items, want)
	}

	// real_server "198.18.1.2:80" { check = tcp { timeout = "1s" } }
	rs := sites[2]
	if rs.Pos != (Pos{7, 3}) || rs.Arg != "198.18.1.2:80" || rs.ArgPos != (Pos{7, 15}) || rs.Table != (Pos{7, 31}) {
		t.Errorf("nested real_server site = %+v", rs)
	}
	if f := rs.Fields["check"]; f != (Field{Pos{7, 33}, Pos{7, 41}}) {
		t.Errorf("check field = %v", f)
	}
	tcp := all[5]
	if tcp.Table != (Pos{7, 45}) || tcp.Fields["timeout"] != (Field{Pos{7, 47}, Pos{7, 57}}) || len(tcp.Items) != 0 {
		t.Errorf("tcp site = %+v", tcp)
	}

	// Nested in defaults: check = http { ... }.
	def, http := all[0], all[1]
	if def.Fields["check"].Value != http.Pos || http.Fields["interval"].Key != at(t, src, 1, "interval", 0) {
		t.Errorf("defaults/http = %+v / %+v", def, http)
	}

	// real_server(("[2001:db8:2::%d]:8080"):format(i)) {}: computed argument.
	comp := sites[3]
	if comp.Arg != "" || comp.ArgPos != (Pos{13, 48}) || comp.Table != at(t, src, 13, "{}", 0) ||
		len(comp.Fields) != 0 || len(comp.Items) != 0 {
		t.Errorf("computed real_server site = %+v", comp)
	}

	// virtual_server("[2001:db8::10]:8080") { servers = pool }
	v6 := sites[4]
	if v6.Arg != "[2001:db8::10]:8080" || v6.ArgPos != (Pos{14, 16}) || v6.Table != (Pos{14, 39}) ||
		v6.Fields["servers"] != (Field{Pos{14, 41}, Pos{14, 51}}) {
		t.Errorf("v6 virtual_server site = %+v", v6)
	}
}

func TestCallSitesForms(t *testing.T) {
	tests := []struct {
		name, src string
		want      []CallSite // Fields/Items/Open/Close not compared when nil/zero
	}{
		{"string arg", `f "x" { }`, []CallSite{{Func: "f", Pos: Pos{1, 1}, Arg: "x", ArgPos: Pos{1, 3}, Table: Pos{1, 7}}}},
		{"long string arg", "f [[x]] {}", []CallSite{{Func: "f", Pos: Pos{1, 1}, Arg: "x", ArgPos: Pos{1, 3}, Table: Pos{1, 9}}}},
		{"parenthesized string arg", `f("x") {}`, []CallSite{{Func: "f", Pos: Pos{1, 1}, Arg: "x", ArgPos: Pos{1, 3}, Table: Pos{1, 8}}}},
		{"computed arg", `f("x" .. y) {}`, []CallSite{{Func: "f", Pos: Pos{1, 1}, ArgPos: Pos{1, 3}, Table: Pos{1, 13}}}},
		{"variable arg", `f(addr) {}`, []CallSite{{Func: "f", Pos: Pos{1, 1}, ArgPos: Pos{1, 3}, Table: Pos{1, 9}}}},
		{"empty parens", `f() {}`, []CallSite{{Func: "f", Pos: Pos{1, 1}, Table: Pos{1, 5}}}},
		{"table only", `f {}`, []CallSite{{Func: "f", Pos: Pos{1, 1}, Table: Pos{1, 3}}}},
		{"table in parens", `f({ a = 1 })`, []CallSite{{Func: "f", Pos: Pos{1, 1}, Table: Pos{1, 3}}}},
		{"table expression in parens is not a call site", `f({} or {})`, nil},
		{"args on next lines", "f\n  \"x\"\n  {\n}", []CallSite{{Func: "f", Pos: Pos{1, 1}, Arg: "x", ArgPos: Pos{2, 3}, Table: Pos{3, 3}}}},
		{"field and method names", `lvs.http { } o:tcp "a" { }`, []CallSite{
			{Func: "http", Pos: Pos{1, 5}, Table: Pos{1, 10}},
			{Func: "tcp", Pos: Pos{1, 16}, Arg: "a", ArgPos: Pos{1, 20}, Table: Pos{1, 24}}}},
		{"no table", `f "x" f("y") f(z) g = {}`, nil},
		{"keys are not calls", `t = { f = { }, ["g"] = {} }`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CallSites(mustLex(t, tt.src))
			if len(got) != len(tt.want) {
				t.Fatalf("got %d sites %+v, want %d", len(got), got, len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				g.Fields, g.Items, g.Open, g.Close = nil, nil, 0, 0
				if !reflect.DeepEqual(g, w) {
					t.Errorf("site %d = %+v\nwant %+v", i, g, w)
				}
			}
		})
	}
}

func TestCallSitesEntries(t *testing.T) {
	src := `f {
  a = 1, ["b c"] = "x"; [1] = 2, [k] = 3,
  g(1, 2), h { x = 1, y = 2 }, function(a, b) local c, d = a, b end,
  e = { 1, 2 }, i = function() return 1, 2 end
  ;
}`
	toks := mustLex(t, src)
	sites := CallSites(toks, "f")
	if len(sites) != 1 {
		t.Fatalf("got %d sites", len(sites))
	}
	cs := sites[0]
	wantFields := map[string]Field{
		"a":   {Pos{2, 3}, Pos{2, 7}},
		"b c": {Pos{2, 11}, Pos{2, 20}},
		"e":   {Pos{4, 3}, Pos{4, 7}},
		"i":   {Pos{4, 17}, Pos{4, 21}},
	}
	if !reflect.DeepEqual(cs.Fields, wantFields) {
		t.Errorf("Fields = %v\nwant %v", cs.Fields, wantFields)
	}
	wantItems := []Pos{{3, 3}, {3, 12}, {3, 32}}
	if !reflect.DeepEqual(cs.Items, wantItems) {
		t.Errorf("Items = %v, want %v", cs.Items, wantItems)
	}
	if toks[cs.Close].Pos != (Pos{6, 1}) {
		t.Errorf("Close at %v", toks[cs.Close].Pos)
	}
}

func TestKeyPos(t *testing.T) {
	src := configExample + `local opts = { timeout = "1s", inner = { timeout = "2s" } }
`
	toks := mustLex(t, src)
	tests := []struct {
		name string
		pos  Pos
		key  string
		want Pos
		ok   bool
	}{
		{"real_server table from its brace", Pos{3, 42}, "weight", Pos{3, 44}, true},
		{"from inside the value", Pos{3, 53}, "weight", Pos{3, 44}, true},
		{"from the closing brace", Pos{3, 55}, "weight", Pos{3, 44}, true},
		{"virtual_server key from a later line", Pos{6, 3}, "persistence", Pos{5, 21}, true},
		{"innermost table only", Pos{7, 50}, "check", Pos{}, false},
		{"nested tcp table", Pos{7, 50}, "timeout", Pos{7, 47}, true},
		{"outer table from between entries", Pos{7, 63}, "check", Pos{7, 33}, true},
		{"keys inside nested tables are not top level", Pos{4, 33}, "timeout", Pos{}, false},
		{"variable table", Pos{15, 14}, "timeout", Pos{15, 16}, true},
		{"variable nested table", Pos{15, 41}, "timeout", Pos{15, 42}, true},
		{"absent key", Pos{15, 14}, "nope", Pos{}, false},
		{"outside any table", Pos{2, 1}, "weight", Pos{}, false},
		{"before the table on its line", Pos{3, 1}, "weight", Pos{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := KeyPos(toks, tt.pos, tt.key)
			if got != tt.want || ok != tt.ok {
				t.Errorf("KeyPos(%v, %q) = %v, %v; want %v, %v", tt.pos, tt.key, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestIndexFind(t *testing.T) {
	src := configExample + `real_server "a" {} real_server "b" {} real_server(x) {}
`
	ix := NewIndex(mustLex(t, src), "virtual_server", "real_server")
	tests := []struct {
		name     string
		fn       string
		line     int
		arg      string
		n        int
		wantPos  Pos
		wantArgs string
		ok       bool
	}{
		{"by line", "virtual_server", 4, "", 0, Pos{4, 1}, "198.18.0.10:80", true},
		{"by line with matching arg", "virtual_server", 14, "[2001:db8::10]:8080", 0, Pos{14, 1}, "[2001:db8::10]:8080", true},
		{"nested site by line", "real_server", 7, "198.18.1.2:80", 0, Pos{7, 3}, "198.18.1.2:80", true},
		{"computed arg falls back to n", "real_server", 13, "[2001:db8:2::1]:8080", 0, Pos{13, 36}, "", true},
		{"arg wins over n", "real_server", 15, "b", 0, Pos{15, 20}, "b", true},
		{"n-th on line", "real_server", 15, "", 2, Pos{15, 39}, "", true},
		{"unknown arg uses n", "real_server", 15, "zzz", 1, Pos{15, 20}, "b", true},
		{"n out of range uses first", "real_server", 15, "", 7, Pos{15, 1}, "a", true},
		{"negative n uses first", "real_server", 15, "", -1, Pos{15, 1}, "a", true},
		{"wrong line", "virtual_server", 5, "", 0, Pos{}, "", false},
		{"not indexed", "defaults", 1, "", 0, Pos{}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			found, ok := ix.Find(tt.fn, tt.line, tt.arg, tt.n)
			if ok != (found != nil) {
				t.Fatalf("Find: ok %v but site %v", ok, found)
			}
			var cs CallSite
			if found != nil {
				cs = *found
			}
			if ok != tt.ok || cs.Pos != tt.wantPos || cs.Arg != tt.wantArgs {
				t.Errorf("Find = %v@%v %q, %v; want %v %q, %v", cs.Func, cs.Pos, cs.Arg, ok, tt.wantPos, tt.wantArgs, tt.ok)
			}
			if ok && cs.Func != tt.fn {
				t.Errorf("Func = %q", cs.Func)
			}
		})
	}
	var nilIndex *Index
	if _, ok := nilIndex.Find("x", 1, "", 0); ok {
		t.Error("nil Index found something")
	}
}
