// Package yamlnode parses the YAML subset the model files use into a small
// tree of nodes that remember where they came from (line and column).
//
// The model loader decodes these nodes strictly into the model's Go types;
// keeping our own node type lets the parser be swapped or tuned without
// touching the decoder.
package yamlnode

import "fmt"

// Kind is the shape of a node.
type Kind uint8

const (
	ScalarNode Kind = iota + 1
	MappingNode
	SequenceNode
)

func (k Kind) String() string {
	switch k {
	case ScalarNode:
		return "scalar"
	case MappingNode:
		return "mapping"
	case SequenceNode:
		return "sequence"
	}
	return "unknown"
}

// Style tells how a scalar was written; only plain scalars can be null,
// booleans or numbers, a quoted "true" is a string.
type Style uint8

const (
	Plain Style = iota
	SingleQuoted
	DoubleQuoted
	Literal // |
	Folded  // >
	Flow    // a mapping or sequence written in {} or []
)

// Node is one YAML node. For mappings Content holds keys and values
// alternately; for sequences the items.
type Node struct {
	Kind    Kind
	Style   Style
	Line    int32 // 1-based
	Column  int32 // 1-based
	Value   string
	Content []*Node
}

// IsNull reports whether the node is an explicit or implicit null.
func (n *Node) IsNull() bool {
	if n == nil {
		return true
	}
	if n.Kind != ScalarNode || n.Style != Plain {
		return false
	}
	switch n.Value {
	case "", "~", "null", "Null", "NULL":
		return true
	}
	return false
}

// Error is a parse error with its position.
type Error struct {
	File   string
	Line   int
	Column int
	Msg    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}
