package luasrc

// CallSite is a DSL-style call found in the token stream: NAME followed by
// an optional argument (`NAME "x"`, `NAME("x")` or `NAME(<any expression>)`),
// followed by a table constructor `{ ... }`; the forms are `NAME "x" { }`,
// `NAME("x") { }`, `NAME { }` and `NAME({ })`.
type CallSite struct {
	Func string // the name, e.g. "virtual_server"
	Pos  Pos    // position of the name token
	// Arg is the string literal argument if it is one literal, else "".
	Arg string
	// ArgPos is the position of that argument, or of the first token inside
	// the parentheses; zero when there is no argument (`NAME { }`,
	// `NAME() { }`, `NAME({ })`).
	ArgPos Pos
	Table  Pos // position of the table's '{'
	// Fields are the `key = value` and `["key"] = value` entries at the
	// table's top level. For a repeated key the last entry wins, as in Lua.
	Fields map[string]Field
	// Items are the positional entries at the table's top level, in order
	// (position of each entry's first token). Entries with computed keys
	// (`[expr] = value` other than a string literal) are in neither.
	Items []Pos
	// Open and Close are the indexes of the '{' and matching '}' tokens in
	// the token slice.
	Open, Close int
}

// Field is the position of a table entry's key (the name, or the string
// literal inside `["key"]`) and of its value's first token (zero if the
// value is missing).
type Field struct{ Key, Value Pos }

// CallSites returns every call site whose Func is in names (all names if
// names is empty), in source order, including nested ones (a real_server
// inside a virtual_server's table, an http{} inside a real_server's table).
// Tokens must come from Lex of balanced source; calls whose brackets do not
// match are skipped. The NAME may be a field or method name (`lvs.http {}`,
// `obj:f {}`).
func CallSites(tokens []Token, names ...string) []CallSite {
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	m := match(tokens)
	var sites []CallSite
	for i, t := range tokens {
		if t.Kind != Name || len(names) > 0 && !want[t.Text] {
			continue
		}
		if cs, ok := callAt(tokens, m, i); ok {
			sites = append(sites, cs)
		}
	}
	return sites
}

// callAt recognizes a call site whose name is tokens[i].
func callAt(tokens []Token, m []int, i int) (CallSite, bool) {
	cs := CallSite{Func: tokens[i].Text, Pos: tokens[i].Pos}
	j := i + 1
	if j >= len(tokens) {
		return cs, false
	}
	switch t := tokens[j]; {
	case t.Kind == String:
		cs.Arg, cs.ArgPos = t.Text, t.Pos
		j++
	case is(t, "("):
		k := m[j]
		if k < 0 {
			return cs, false
		}
		inner := tokens[j+1 : k]
		switch {
		case len(inner) == 1 && inner[0].Kind == String:
			cs.Arg, cs.ArgPos = inner[0].Text, inner[0].Pos
		case len(inner) > 0 && is(inner[0], "{") && m[j+1] == k-1:
			return withTable(cs, tokens, m, j+1), true // NAME({ })
		case len(inner) > 0:
			cs.ArgPos = inner[0].Pos
		}
		j = k + 1
	}
	if j >= len(tokens) || !is(tokens[j], "{") || m[j] < 0 {
		return cs, false
	}
	return withTable(cs, tokens, m, j), true
}

// withTable fills in the table fields of cs from the constructor at open.
func withTable(cs CallSite, tokens []Token, m []int, open int) CallSite {
	cs.Table, cs.Open, cs.Close = tokens[open].Pos, open, m[open]
	cs.Fields, cs.Items = entries(tokens, m, open)
	return cs
}

// entries parses the top level of the table constructor at tokens[open].
func entries(tokens []Token, m []int, open int) (map[string]Field, []Pos) {
	fields := map[string]Field{}
	var items []Pos
	end := m[open]
	valueAt := func(j, limit int) Pos {
		if j < limit {
			return tokens[j].Pos
		}
		return Pos{}
	}
	for i := open + 1; i < end; {
		t := tokens[i]
		if is(t, ",") || is(t, ";") {
			i++
			continue
		}
		// Find the end of this entry: the next top-level separator.
		e := i
		for e < end && !is(tokens[e], ",") && !is(tokens[e], ";") {
			if m[e] > e {
				e = m[e]
			}
			e++
		}
		switch {
		case t.Kind == Name && i+1 < e && is(tokens[i+1], "="):
			fields[t.Text] = Field{Key: t.Pos, Value: valueAt(i+2, e)}
		case is(t, "[") && m[i] > i && m[i]+1 < e && is(tokens[m[i]+1], "="):
			if m[i] == i+2 && tokens[i+1].Kind == String {
				fields[tokens[i+1].Text] = Field{Key: tokens[i+1].Pos, Value: valueAt(m[i]+2, e)}
			}
		default:
			items = append(items, t.Pos)
		}
		i = e
	}
	return fields, items
}

// KeyPos returns the position of key `key` in the innermost table
// constructor that contains pos (from its '{' to its '}' inclusive),
// searching only that table's top level; ok is false if there is no such
// table or key. This is useful for tables passed via variables, e.g.
// `local opts = { timeout = "1s" }`. Tokens must come from Lex.
func KeyPos(tokens []Token, pos Pos, key string) (Pos, bool) {
	m := match(tokens)
	best := -1
	for i, t := range tokens {
		if pos.before(t.Pos) {
			break
		}
		if is(t, "{") && m[i] > i && !tokens[m[i]].Pos.before(pos) {
			best = i // later openers that contain pos are nested deeper
		}
	}
	if best < 0 {
		return Pos{}, false
	}
	fields, _ := entries(tokens, m, best)
	f, ok := fields[key]
	return f.Key, ok
}

// TableAt returns the table constructor whose '{' is at pos as a CallSite
// without a name (Table, Fields, Items, Open, Close), for a table written
// inside another one (`peers = { { address = ... } }`); ok is false when no
// '{' is at pos, such as for a table built elsewhere.
func TableAt(tokens []Token, pos Pos) (*CallSite, bool) {
	for i, t := range tokens {
		if t.Pos == pos {
			if !is(t, "{") {
				return nil, false
			}
			m := match(tokens)
			if m[i] < 0 {
				return nil, false
			}
			cs := withTable(CallSite{Pos: pos}, tokens, m, i)
			return &cs, true
		}
		if pos.before(t.Pos) {
			break
		}
	}
	return nil, false
}

func is(t Token, sym string) bool { return t.Kind == Symbol && t.Text == sym }

// Index holds a file's call sites for lookup by function name and line, the
// information available when a DSL function runs.
type Index struct {
	sites map[siteKey][]CallSite
}

type siteKey struct {
	fn   string
	line int
}

// NewIndex indexes the call sites of tokens whose Func is in names (all
// names if names is empty); see CallSites.
func NewIndex(tokens []Token, names ...string) *Index {
	ix := &Index{sites: map[siteKey][]CallSite{}}
	for _, cs := range CallSites(tokens, names...) {
		k := siteKey{cs.Func, cs.Pos.Line}
		ix.sites[k] = append(ix.sites[k], cs)
	}
	return ix
}

// Find returns the call site of function fn on the given line whose literal
// Arg equals arg (when arg != "" and such a site exists), else the n-th
// (0-based, counting only sites of fn on that line) site, else the first
// site of fn on that line; ok=false if none. The site is the index's own:
// callers must not change it.
func (ix *Index) Find(fn string, line int, arg string, n int) (*CallSite, bool) {
	if ix == nil {
		return nil, false
	}
	sites := ix.sites[siteKey{fn, line}]
	if len(sites) == 0 {
		return nil, false
	}
	if arg != "" {
		for i := range sites {
			if sites[i].Arg == arg {
				return &sites[i], true
			}
		}
	}
	if n >= 0 && n < len(sites) {
		return &sites[n], true
	}
	return &sites[0], true
}
