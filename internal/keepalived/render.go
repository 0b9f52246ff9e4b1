package keepalived

import (
	"strings"
)

// Render writes raw blocks (Config.Skipped: the VRRP and global parts) back
// as keepalived.conf text: one statement a line, blocks indented by four
// spaces, words quoted where needed, the comments before each statement and
// on its line kept. Parameters appear substituted and includes inlined, so
// the text stands alone.
func Render(blocks []*RawBlock) string {
	var b strings.Builder
	for i, rb := range blocks {
		if i > 0 && rb.Node.Block {
			b.WriteByte('\n')
		}
		renderNode(&b, rb.Node, 0)
	}
	return b.String()
}

func renderNode(b *strings.Builder, n *Node, depth int) {
	pad := strings.Repeat("    ", depth)
	var same string // the comment on the statement's own line
	for _, c := range n.Comments {
		if c.Pos == n.Pos {
			same = c.Text
			continue
		}
		b.WriteString(pad + c.Text + "\n")
	}
	b.WriteString(pad + quoteWord(n.Key))
	for _, a := range n.Args {
		b.WriteString(" " + quoteWord(a))
	}
	if n.Block {
		b.WriteString(" {")
	}
	if same != "" {
		b.WriteString(" " + same)
	}
	b.WriteByte('\n')
	if !n.Block {
		return
	}
	for _, c := range n.Children {
		renderNode(b, c, depth+1)
	}
	b.WriteString(pad + "}\n")
}
