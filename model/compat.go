package model

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Dataset-level evolution rules.
const (
	RuleAddDataset      = "add-dataset"
	RuleDropDataset     = "drop-dataset"
	RuleKeyChange       = "key-change"
	RulePartitionChange = "partition-change"
	RuleDeprecate       = "deprecate"
)

// DatasetEvolution is an evolution of one dataset, named datastore.dataset.
type DatasetEvolution struct {
	Dataset string
	Evolution
	// Warning marks an allowed change consumers should act on (a
	// deprecation); Consumers are the workspaces that sink the dataset in
	// the head.
	Warning   bool
	Consumers []string
	// Pos is where the change is: the head's dataset, or the base's for a removal.
	Pos Pos
}

// Compatibility judges every dataset change from base to head for its
// consumers (DESIGN §3): columns by name with CompareColumn, then key and
// partitioning; an added dataset is allowed; a removed one is refused while
// a workspace of the head sinks it, allowed otherwise; a new deprecation is
// allowed and warns the workspaces that sink the dataset. Datasets are in
// name order, columns in base order followed by head's added ones.
func Compatibility(base, head *Model) []DatasetEvolution {
	// A zone a model pair shares is unchanged: its datasets cannot differ.
	shared := map[*Zone]bool{}
	for _, z := range base.Zones {
		shared[z] = true
	}
	inHead := map[*Zone]bool{}
	for _, z := range head.Zones {
		inHead[z] = true
	}
	for z := range shared {
		if !inHead[z] {
			delete(shared, z)
		}
	}
	olds, news := datasetIndex(base, shared), datasetIndex(head, shared)
	var sinks map[string][]string
	consumers := func(ds string) []string {
		if sinks == nil {
			sinks = sinkIndex(head)
		}
		return sinks[ds]
	}
	names := make([]string, 0, len(news))
	for k := range olds {
		names = append(names, k)
	}
	for k := range news {
		if _, ok := olds[k]; !ok {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var out []DatasetEvolution
	for _, name := range names {
		o, inBase := olds[name]
		n, inHead := news[name]
		add := func(e Evolution, pos Pos) {
			if !e.Pos.IsZero() {
				pos = e.Pos // the column's own line
			}
			out = append(out, DatasetEvolution{Dataset: name, Evolution: e, Consumers: consumers(name), Pos: pos})
		}
		switch {
		case !inBase:
			cols := fmt.Sprintf("%d columns", len(n.set.Columns))
			if len(n.set.Columns) == 1 {
				cols = "1 column"
			}
			add(Evolution{Allowed: true, Rule: RuleAddDataset, Message: fmt.Sprintf("adds dataset %s with %s", name, cols)}, n.set.Pos)
		case !inHead:
			if ws := consumers(name); len(ws) > 0 {
				add(Evolution{Rule: RuleDropDataset, Message: fmt.Sprintf("removes dataset %s, which workspace(s) %s still sink; deprecate it, wait for them to move, then remove it", name, strings.Join(ws, ", "))}, o.set.Pos)
			} else {
				add(Evolution{Allowed: true, Rule: RuleDropDataset, Message: fmt.Sprintf("removes dataset %s, which no workspace sinks", name)}, o.set.Pos)
			}
		case o.set == n.set:
			// Shared by a model pair: unchanged.
		default:
			for _, e := range compareDataset(o.set, n.set) {
				add(e, n.set.Pos)
			}
			wasDeprecated := o.set.Deprecated != nil || o.store.Deprecated != nil
			if !wasDeprecated && (n.set.Deprecated != nil || n.store.Deprecated != nil) {
				msg := fmt.Sprintf("deprecates %s", name)
				if ws := consumers(name); len(ws) > 0 {
					msg += "; its consumers " + strings.Join(ws, ", ") + " should move off it (a sink acknowledges with deprecations_allowed)"
				}
				out = append(out, DatasetEvolution{Dataset: name, Evolution: Evolution{Allowed: true, Rule: RuleDeprecate, Message: msg}, Warning: true, Consumers: consumers(name), Pos: n.set.Pos})
			}
		}
	}
	return out
}

// compareDataset lists the evolutions of one dataset present on both sides,
// in time linear in its columns (a dataset may have tens of thousands).
func compareDataset(o, n *Dataset) []Evolution {
	var out []Evolution
	byName := make(map[string]*Column, len(n.Columns))
	for i := range n.Columns {
		if _, dup := byName[n.Columns[i].Name]; !dup {
			byName[n.Columns[i].Name] = &n.Columns[i]
		}
	}
	oldKey, newKey := keySet(o), keySet(n)
	seen := make(map[string]bool, len(o.Columns))
	for i := range o.Columns {
		oc := &o.Columns[i]
		seen[oc.Name] = true
		nc := byName[oc.Name]
		if nc == nil {
			out = append(out, DroppedColumn(oc))
			continue
		}
		out = append(out, CompareColumn(oc, nc, oldKey[oc.Name], newKey[nc.Name])...)
	}
	for i := range n.Columns {
		nc := &n.Columns[i]
		if !seen[nc.Name] {
			out = append(out, AddedColumn(nc, newKey[nc.Name]))
		}
	}
	if ok, nk := refNames(o.PrimaryKey), refNames(n.PrimaryKey); !slices.Equal(ok, nk) {
		out = append(out, Evolution{Rule: RuleKeyChange, Message: fmt.Sprintf("primary key changes from %s to %s; rows are merged by key, so the table's rows would no longer match; publish a new dataset instead", listOf(ok), listOf(nk)), Pos: firstRefPos(n.PrimaryKey)})
	}
	if op, np := refNames(o.PartitionBy), refNames(n.PartitionBy); !slices.Equal(op, np) {
		out = append(out, Evolution{Rule: RulePartitionChange, Message: fmt.Sprintf("partitioning changes from %s to %s; the table's partitioning is not evolved; publish a new dataset instead", listOf(op), listOf(np)), Pos: firstRefPos(n.PartitionBy)})
	}
	return out
}

// firstRefPos is where a list of references starts in the head; zero (the
// dataset, then) when the list is empty.
func firstRefPos(rs []Ref) Pos {
	if len(rs) > 0 {
		return rs[0].Pos
	}
	return Pos{}
}

func keySet(d *Dataset) map[string]bool {
	out := make(map[string]bool, len(d.PrimaryKey))
	for _, k := range d.PrimaryKey {
		out[k.Name] = true
	}
	return out
}

type datasetAt struct {
	store *Datastore
	set   *Dataset
}

// datasetIndex indexes a model's datasets by datastore.dataset, except
// those of the skipped zones.
func datasetIndex(m *Model, skip map[*Zone]bool) map[string]datasetAt {
	out := map[string]datasetAt{}
	for _, z := range m.Zones {
		if skip[z] {
			continue
		}
		for _, t := range z.Defs {
			for _, ds := range t.Datastores {
				for i := range ds.Datasets {
					out[ds.Name+"."+ds.Datasets[i].Name] = datasetAt{store: ds, set: &ds.Datasets[i]}
				}
			}
		}
	}
	return out
}

// sinkIndex lists, per datastore.dataset, the workspaces that sink it, sorted.
func sinkIndex(m *Model) map[string][]string {
	out := map[string][]string{}
	for _, z := range m.Zones {
		for _, t := range z.Defs {
			for _, w := range t.Workspaces {
				for _, g := range w.Groups {
					for _, s := range g.Sinks {
						k := s.String()
						if !slices.Contains(out[k], w.Name) {
							out[k] = append(out[k], w.Name)
						}
					}
				}
			}
		}
	}
	for _, ws := range out {
		sort.Strings(ws)
	}
	return out
}

func refNames(rs []Ref) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return out
}

func listOf(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return "(" + strings.Join(s, ", ") + ")"
}
