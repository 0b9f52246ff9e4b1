package keepalived

import "fmt"

// Node is one statement of a configuration: a keyword, its arguments and,
// for a block, the statements between its braces. Parameters are
// substituted and quotes removed.
type Node struct {
	Pos      Pos
	Key      string
	Args     []string
	Block    bool // has { }, on its line or alone on the next one
	Children []*Node
	End      Pos       // the line of the closing '}' (zero when not a block)
	Comments []Comment // the comment lines just before the statement, and the one on its line
	bad      bool      // already reported; not decoded
}

// Comment is a comment of the source, with its '#' or '!' marker.
type Comment struct {
	Pos  Pos
	Text string
}

// brace is an opening or closing brace, for the balance check.
type brace struct {
	pos    Pos
	open   bool
	indent int    // the indentation of the brace's line, or of the statement it opens
	name   string // the keyword of the statement a '{' opens
}

// checkBalance matches the braces of one file and returns at most one error:
// a '}' with no '{', or the '{' most likely never closed. The culprit is
// chosen with indentation as internal/luasrc does for Lua: a pair whose '}'
// line is indented less than its '{' line is suspicious (the '}' probably
// belongs to an outer block); when blocks are left open at the end, the
// first suspicious pair inside the outermost open block names the block
// whose '}' is missing.
func checkBalance(braces []brace) *Error {
	type pair struct{ open, close int }
	var stack []int
	var suspects []pair
	for i, b := range braces {
		if b.open {
			stack = append(stack, i)
			continue
		}
		if len(stack) == 0 {
			return &Error{Pos: b.pos, Msg: "'}' has no matching '{'"}
		}
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if b.indent < braces[top].indent {
			suspects = append(suspects, pair{top, i})
		}
	}
	if len(stack) == 0 {
		return nil
	}
	for _, s := range suspects {
		if s.open > stack[0] {
			o, c := braces[s.open], braces[s.close]
			return &Error{Pos: o.pos, Msg: fmt.Sprintf("%s opened here is never closed: the '}' on line %d is indented less, like an outer block's", blockName(o), c.pos.Line)}
		}
	}
	o := braces[stack[len(stack)-1]]
	return &Error{Pos: o.pos, Msg: blockName(o) + " opened here is never closed"}
}

func blockName(b brace) string {
	if b.name == "" {
		return "'{'"
	}
	return fmt.Sprintf("'%s' block", b.name)
}

// parseTree builds the statement tree from the logical lines, checking first
// that the braces of every file balance (a file that does not is reported
// once, at its likely culprit, and no tree is built). It keeps all comments
// in order in comments.
func parseTree(lines []line, lim Limits, errs *errorList) (root *Node, comments []Comment) {
	perFile := map[string][]brace{}
	var order []string
	for i, l := range lines {
		if l.Comment != "" {
			comments = append(comments, Comment{Pos: l.Pos, Text: l.Comment})
		}
		stmt := "" // the keyword starting the current statement on this line
		for j, t := range l.Toks {
			switch t.Brace {
			case '{':
				name, indent := stmt, l.Indent
				if j == 0 && i > 0 && len(lines[i-1].Toks) > 0 && lines[i-1].Pos.File == l.Pos.File {
					name, indent = lines[i-1].Toks[0].Text, lines[i-1].Indent
				}
				if _, ok := perFile[l.Pos.File]; !ok {
					order = append(order, l.Pos.File)
				}
				perFile[l.Pos.File] = append(perFile[l.Pos.File], brace{pos: l.Pos, open: true, indent: indent, name: name})
				stmt = ""
			case '}':
				if _, ok := perFile[l.Pos.File]; !ok {
					order = append(order, l.Pos.File)
				}
				ind := l.Indent
				if j > 0 {
					ind = l.Indent + 1000 // a '}' ending a line of text is not indented less
				}
				perFile[l.Pos.File] = append(perFile[l.Pos.File], brace{pos: l.Pos, indent: ind})
				stmt = ""
			default:
				if stmt == "" {
					stmt = t.Text
				}
			}
		}
	}
	balanced := true
	for _, f := range order {
		if e := checkBalance(perFile[f]); e != nil {
			errs.add(e.Pos, "%s", e.Msg)
			balanced = false
		}
	}
	if !balanced {
		return nil, comments
	}
	return buildTree(lines, lim, errs), comments
}

// buildTree builds the tree of balanced lines.
func buildTree(lines []line, lim Limits, errs *errorList) *Node {
	root := &Node{Block: true}
	stack := []*Node{root}
	var pending []Comment
	var cur *Node      // the statement being read on the current line
	var last *Node     // the last statement finished, for a '{' on the next line
	lastLine := line{} // the line last ended on
	for _, l := range lines {
		if len(l.Toks) == 0 {
			if l.Comment != "" {
				pending = append(pending, Comment{Pos: l.Pos, Text: l.Comment})
			}
			continue
		}
		for j, t := range l.Toks {
			parent := stack[len(stack)-1]
			switch t.Brace {
			case '{':
				target := cur
				if target == nil && j == 0 && last != nil && !last.Block && last.Pos == lastLine.Pos {
					target = last
				}
				if target == nil {
					errs.add(l.Pos, "'{' without a keyword before it")
					target = &Node{Pos: l.Pos, bad: true}
					parent.Children = append(parent.Children, target)
				}
				if len(stack) > lim.Depth {
					errs.add(l.Pos, "blocks nested deeper than %d", lim.Depth)
					return nil
				}
				target.Block = true
				stack = append(stack, target)
				cur, last = nil, nil
			case '}':
				if len(stack) == 1 {
					errs.add(l.Pos, "'}' has no matching '{'")
					return nil
				}
				stack[len(stack)-1].End = l.Pos
				stack = stack[:len(stack)-1]
				cur, last = nil, nil
			default:
				if cur == nil {
					cur = &Node{Pos: l.Pos, Key: t.Text, Comments: pending, bad: l.Bad}
					pending = nil
					parent.Children = append(parent.Children, cur)
				} else {
					cur.Args = append(cur.Args, t.Text)
				}
			}
		}
		if cur != nil {
			if l.Comment != "" {
				cur.Comments = append(cur.Comments, Comment{Pos: l.Pos, Text: l.Comment})
			}
			last, cur = cur, nil
		} else if l.Comment != "" {
			pending = append(pending, Comment{Pos: l.Pos, Text: l.Comment})
		}
		lastLine = l
	}
	if len(stack) > 1 {
		errs.add(stack[len(stack)-1].Pos, "block is never closed")
		return nil
	}
	return root
}
