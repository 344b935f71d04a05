package yamlnode

import (
	"fmt"
	"strings"
)

// diffNodes returns "" when the trees are identical, otherwise a description
// of the first difference and its path.
func diffNodes(path string, want, got *Node) string {
	if want == nil || got == nil {
		if want == nil && got == nil {
			return ""
		}
		return fmt.Sprintf("%s: want %s, got %s", path, nodeSummary(want), nodeSummary(got))
	}
	if want.Kind != got.Kind || want.Style != got.Style || want.Value != got.Value ||
		want.Line != got.Line || want.Column != got.Column || len(want.Content) != len(got.Content) {
		return fmt.Sprintf("%s: want %s, got %s", path, nodeSummary(want), nodeSummary(got))
	}
	for i := range want.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		if want.Kind == MappingNode && i%2 == 1 {
			p = fmt.Sprintf("%s[%q]", path, want.Content[i-1].Value)
		} else if want.Kind == MappingNode {
			p = fmt.Sprintf("%s.key%d", path, i/2)
		}
		if d := diffNodes(p, want.Content[i], got.Content[i]); d != "" {
			return d
		}
	}
	return ""
}

func nodeSummary(n *Node) string {
	if n == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%s/%s %d:%d %q (%d children)", n.Kind, styleName(n.Style), n.Line, n.Column, n.Value, len(n.Content))
}

func styleName(s Style) string {
	switch s {
	case Plain:
		return "plain"
	case SingleQuoted:
		return "single"
	case DoubleQuoted:
		return "double"
	case Literal:
		return "literal"
	case Folded:
		return "folded"
	case Flow:
		return "flow"
	}
	return fmt.Sprintf("style%d", s)
}

// dumpNode renders a tree compactly, one node a line.
func dumpNode(n *Node) string {
	var b strings.Builder
	var walk func(n *Node, depth int)
	walk = func(n *Node, depth int) {
		b.WriteString(strings.Repeat("  ", depth))
		b.WriteString(nodeSummary(n))
		b.WriteByte('\n')
		if n == nil {
			return
		}
		for _, c := range n.Content {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return b.String()
}
