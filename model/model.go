// Package model is the ecosystem model: the Go types of the YAML DSL, the
// loader that reads them from a folder or a git revision, and the helpers the
// lint rules, the platform graph and the merge-request checks share.
//
// Every object remembers the file, line and column it was defined at (Pos),
// so every problem found later can point at it.
package model

import "github.com/datasurface/datasurface/model/internal/decode"

// Pos is a position in a model file.
type Pos = decode.Pos

// Model is one loaded ecosystem model.
type Model struct {
	// Source says where the model was read from: a folder or repo@rev.
	Source string
	// Commit is the git commit the model was read from, empty for a folder.
	Commit string
	// Ecosystem is ecosystem.yaml.
	Ecosystem *Ecosystem
	// Zones are the zones defined by zones/<zone>/zone.yaml, in folder order.
	Zones []*Zone
}

// Ref is a reference to another model element by name, with the position of
// the reference itself so that an unresolved one can be pointed at.
type Ref struct {
	Name string
	Pos  Pos
}

// Owner is a repository reference `<GitLab project path>@<branch>`.
type Owner = Ref

// Deprecation marks a datastore or dataset as deprecated.
type Deprecation struct {
	Pos         Pos
	Reason      string `yaml:"reason,required" doc:"Why the data is deprecated and what consumers should do."`
	Replacement string `yaml:"replacement" doc:"The datastore.dataset consumers should move to, if any."`
}
