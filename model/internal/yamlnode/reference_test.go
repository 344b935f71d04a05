package yamlnode

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// parseReference is the former yaml.v3-based implementation of Parse. It is
// kept as the oracle the hand-written parser is compared against.
//
// One difference from the old Parse: content after the first document that
// yaml.v3 cannot parse (for example "[a]\nb") used to be ignored silently;
// it is an error here, as it is for Parse.
func parseReference(file string, data []byte) (*Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, v3Error(file, err)
	}
	var extra yaml.Node
	err := dec.Decode(&extra)
	if err == nil {
		return nil, &Error{File: file, Line: extra.Line, Column: extra.Column, Msg: "a model file holds exactly one YAML document; remove the extra '---' document"}
	}
	if !errors.Is(err, io.EOF) {
		return nil, v3Error(file, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return convertReference(file, doc.Content[0])
}

var v3LineRE = regexp.MustCompile(`line (\d+): (.*)`)

func v3Error(file string, err error) error {
	msg := err.Error()
	m := v3LineRE.FindStringSubmatch(msg)
	if m == nil {
		return &Error{File: file, Line: 1, Column: 1, Msg: msg}
	}
	line, _ := strconv.Atoi(m[1])
	return &Error{File: file, Line: line, Column: 1, Msg: m[2]}
}

func convertReference(file string, n *yaml.Node) (*Node, error) {
	if n.Anchor != "" || n.Kind == yaml.AliasNode {
		return nil, &Error{File: file, Line: n.Line, Column: n.Column, Msg: "anchors and aliases are not supported in model files; write the value out"}
	}
	if n.Tag != "" && n.Style&yaml.TaggedStyle != 0 {
		return nil, &Error{File: file, Line: n.Line, Column: n.Column, Msg: "YAML tags are not supported in model files; remove " + n.Tag}
	}
	out := &Node{Line: int32(n.Line), Column: int32(n.Column), Value: n.Value}
	switch n.Kind {
	case yaml.ScalarNode:
		out.Kind = ScalarNode
		switch {
		case n.Style&yaml.SingleQuotedStyle != 0:
			out.Style = SingleQuoted
		case n.Style&yaml.DoubleQuotedStyle != 0:
			out.Style = DoubleQuoted
		case n.Style&yaml.LiteralStyle != 0:
			out.Style = Literal
		case n.Style&yaml.FoldedStyle != 0:
			out.Style = Folded
		}
	case yaml.MappingNode, yaml.SequenceNode:
		out.Kind = MappingNode
		if n.Kind == yaml.SequenceNode {
			out.Kind = SequenceNode
		}
		out.Value = ""
		if n.Style&yaml.FlowStyle != 0 {
			out.Style = Flow
		}
		out.Content = make([]*Node, len(n.Content))
		for i, c := range n.Content {
			cc, err := convertReference(file, c)
			if err != nil {
				return nil, err
			}
			out.Content[i] = cc
		}
	default:
		return nil, &Error{File: file, Line: n.Line, Column: n.Column, Msg: "unsupported YAML construct"}
	}
	return out, nil
}
