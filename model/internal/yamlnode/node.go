// Package yamlnode parses the YAML subset the model files use into a small
// tree of nodes that remember where they came from (line and column).
//
// The model loader decodes these nodes strictly into the model's Go types;
// keeping our own node type lets the parser be swapped or tuned without
// touching the decoder.
//
// The parser is hand-written for speed but follows the scanner and parser of
// go.yaml.in/yaml/v3 decision for decision, so that for every input in the
// subset it builds exactly the tree yaml.v3 builds (kinds, styles, values,
// lines, columns) and it fails wherever yaml.v3 fails. The subset is YAML 1.1
// as yaml.v3 reads it without anchors, aliases, tags, directives, complex
// keys ("? key", or a collection used as a key), single-pair mappings with
// an empty value inside flow sequences ("[key: ]"), the Unicode line
// separators NEL, LS and PS, byte order marks after the start, UTF-16 and
// more than one document; those are refused with an error that says so.
// The tests compare the parser with yaml.v3 on many documents and by fuzzing.
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
	// Limit is LimitDepth or LimitText when the document passes one of the
	// Parser's limits, "" for a syntax error.
	Limit string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}
