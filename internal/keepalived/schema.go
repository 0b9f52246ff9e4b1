package keepalived

import (
	"slices"
	"strings"
)

// blockKind says whether a keyword takes a { } block.
type blockKind uint8

const (
	noBlock   blockKind = iota
	needBlock           // a block is required
	optBlock            // a block may follow
)

// entry is one keyword of a context: how many arguments it takes (max < 0:
// any), its usage for messages, whether it takes a block, and what it sets
// in the context's value T.
type entry[T any] struct {
	min, max int
	usage    string
	block    blockKind
	set      func(a *args, t T)
}

// table is the keywords of one context. Adding a keyword is one line.
type table[T any] map[string]entry[T]

// keys is a table bound to the value its keywords set.
type keys interface {
	lookup(key string) (e entry[struct{}], ok bool)
	names() []string
}

type bound[T any] struct {
	tab table[T]
	t   T
}

func bind[T any](tab table[T], t T) keys { return bound[T]{tab, t} }

func (b bound[T]) lookup(key string) (entry[struct{}], bool) {
	e, ok := b.tab[key]
	if !ok {
		return entry[struct{}]{}, false
	}
	t := b.t
	return entry[struct{}]{min: e.min, max: e.max, usage: e.usage, block: e.block,
		set: func(a *args, _ struct{}) { e.set(a, t) }}, true
}

func (b bound[T]) names() []string {
	out := make([]string, 0, len(b.tab))
	for k := range b.tab {
		out = append(out, k)
	}
	return out
}

// decodeBlock applies each statement of a block to the first of ks that
// knows its keyword, checking argument count and block, and reports
// unknown keywords naming the context.
func decodeBlock(errs *errorList, n *Node, context string, ks ...keys) {
	for _, c := range n.Children {
		decodeStmt(errs, c, context, ks...)
	}
}

func decodeStmt(errs *errorList, c *Node, context string, ks ...keys) {
	if c.bad {
		return
	}
	for _, k := range ks {
		e, ok := k.lookup(c.Key)
		if !ok {
			continue
		}
		a := &args{errs: errs, n: c}
		switch {
		case len(c.Args) < e.min:
			a.errf("missing argument (usage: %s %s)", c.Key, e.usage)
		case e.max >= 0 && len(c.Args) > e.max:
			a.errf("too many arguments (usage: %s %s)", c.Key, e.usage)
		case e.block == needBlock && !c.Block:
			a.errf("needs a { } block")
		case e.block == noBlock && c.Block:
			a.errf("takes no { } block")
		default:
			e.set(a, struct{}{})
		}
		return
	}
	if errs.full() {
		errs.add(c.Pos, "unknown keyword")
		return
	}
	var names []string
	for _, k := range ks {
		names = append(names, k.names()...)
	}
	slices.Sort(names)
	msg := "unknown keyword %q in %s%s"
	if c.Key == "{" || strings.HasPrefix(c.Key, "$") {
		msg = "unexpected %q in %s%s"
	}
	errs.add(c.Pos, msg, c.Key, context, suggest(c.Key, names))
}
