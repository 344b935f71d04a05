package model

import (
	"fmt"

	"github.com/datasurface/datasurface/model/internal/decode"
	"github.com/datasurface/datasurface/model/internal/yamlnode"
)

// UnmarshalNode reads a reference from a scalar.
func (r *Ref) UnmarshalNode(d *decode.Decoder, n *yamlnode.Node) error {
	r.Pos = d.PosOf(n)
	if n.IsNull() {
		return nil
	}
	if n.Kind != yamlnode.ScalarNode {
		return fmt.Errorf("expected a name, found a %s", n.Kind)
	}
	r.Name = n.Value
	return nil
}

// IsSet reports whether the reference names something.
func (r Ref) IsSet() bool { return r.Name != "" }

// OptBool is a boolean that remembers whether it was given.
type OptBool struct {
	Set   bool
	Value bool
}

// UnmarshalNode reads true or false.
func (b *OptBool) UnmarshalNode(_ *decode.Decoder, n *yamlnode.Node) error {
	if n.IsNull() {
		return nil
	}
	if n.Kind != yamlnode.ScalarNode {
		return fmt.Errorf("expected true or false, found a %s", n.Kind)
	}
	switch {
	case n.Style == yamlnode.Plain && n.Value == "true":
		*b = OptBool{Set: true, Value: true}
	case n.Style == yamlnode.Plain && n.Value == "false":
		*b = OptBool{Set: true, Value: false}
	default:
		return fmt.Errorf("expected true or false, found %q", n.Value)
	}
	return nil
}
