package model

import (
	"fmt"
	"sort"
	"strings"
)

// Graph is what each platform must run: the ingestion streams, the Iceberg
// tables each maintains and the views each workspace gets. Only what some
// workspace needs is ingested.
type Graph struct {
	Platforms []*PlatformGraph
}

// PlatformGraph is one platform's share of the graph.
type PlatformGraph struct {
	Platform   *Platform
	Streams    []*Stream
	Workspaces []*WorkspaceViews
	// Transformers are the transformers the platform runs: those of its
	// transformers whose output some group on the platform sinks, in model
	// order. Each one's output is one of Streams.
	Transformers []*TransformerRun
}

// TransformerRun is a transformer the platform runs: it reads its inputs,
// and its output datastore is ingested as the stream Output, like a
// multi_dataset snapshot store (one stream, named after the datastore).
type TransformerRun struct {
	Workspace   *Workspace
	Transformer *Transformer
	Output      *Stream
	// Inputs are the tables it reads: the sinks of its workspace's groups
	// on the transformer's platform (a transformer reads what its
	// workspace sinks there), in group and sink order.
	Inputs []TransformerInput
}

// Name is the transformer's ecosystem-wide name, <workspace>.<transformer>.
func (t *TransformerRun) Name() string { return t.Workspace.Name + "." + t.Transformer.Name }

// TransformerInput is one table a transformer reads: the live table of a
// live_only sink, the history table of a forensic one.
type TransformerInput struct {
	Sink      Sink
	Datastore *Datastore
	Dataset   *Dataset
	History   bool
}

// Table is the input's Iceberg table in its datastore's namespace.
func (in TransformerInput) Table() string {
	if in.History {
		return HistoryTable(in.Dataset.Name)
	}
	return LiveTable(in.Dataset.Name)
}

// TransformerInputs are the sinks a transformer reads: every sink of its
// workspace's groups on the transformer's platform, once per table
// (a dataset sunk live and forensic is read from both tables). Unresolved
// sinks are skipped (lint reports them).
func TransformerInputs(m *Model, w *Workspace, tr *Transformer) []TransformerInput {
	stores := datastoresByName(m)
	var out []TransformerInput
	seen := map[string]bool{}
	for gi := range w.Groups {
		g := &w.Groups[gi]
		if g.Platform.Name != tr.Platform.Name {
			continue
		}
		for _, s := range g.Sinks {
			ds := stores[s.Datastore]
			d := findDataset(ds, s.Dataset)
			if d == nil {
				continue
			}
			in := TransformerInput{Sink: s, Datastore: ds, Dataset: d, History: g.Requirements.History == HistoryForensic}
			key := ds.Name + "." + in.Table()
			if seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, in)
		}
	}
	return out
}

// datastoresByName indexes the teams' datastores and the transformers'
// outputs (the first of each name: lint refuses duplicates).
func datastoresByName(m *Model) map[string]*Datastore {
	stores := map[string]*Datastore{}
	add := func(ds *Datastore) {
		if _, dup := stores[ds.Name]; !dup {
			stores[ds.Name] = ds
		}
	}
	for _, z := range m.Zones {
		for _, t := range z.Defs {
			for _, ds := range t.Datastores {
				add(ds)
			}
		}
	}
	for _, z := range m.Zones {
		for _, t := range z.Defs {
			for _, w := range t.Workspaces {
				for i := range w.Transformers {
					if out := w.Transformers[i].Output; out != nil {
						add(out)
					}
				}
			}
		}
	}
	return stores
}

// Stream is one ingestion job: a multi-dataset datastore is one stream, a
// single-dataset store one stream per dataset.
type Stream struct {
	Name      string // unique on its platform
	Datastore *Datastore
	Tables    []*StreamTable
	// Priority is the highest priority weight among the workspaces it serves.
	Priority int
	// Latency is the tightest latency among the groups it serves.
	Latency Latency
	// Workspaces are the names of the workspaces it serves, sorted.
	Workspaces []string
}

// StreamTable is one dataset of a stream and the tables kept for it.
type StreamTable struct {
	Dataset  *Dataset
	Live     bool // a live table: the current row per key
	Forensic bool // a history table: every version with validity columns
	// LiveWriteMode and HistoryWriteMode are how the live and the history
	// table take changes: copy_on_write when the platform says so or any
	// group reading that table on the platform asks for it (readers decide:
	// many readers favour rewriting on write), merge_on_read otherwise.
	LiveWriteMode, HistoryWriteMode WriteMode
}

// LiveTable and HistoryTable name a dataset's Iceberg tables in the
// datastore's namespace.
func LiveTable(dataset string) string    { return dataset }
func HistoryTable(dataset string) string { return dataset + "_history" }

// WorkspaceViews are the views one workspace gets on one platform.
type WorkspaceViews struct {
	Workspace *Workspace
	Views     []View
}

// View is one sink as a consumer sees it.
type View struct {
	Group     *DatasetGroup
	Sink      Sink
	Datastore *Datastore
	Dataset   *Dataset
	History   bool // a forensic view over the history table
}

// BuildGraph computes the graph. It assumes a model that lints without
// errors; unresolved sinks are skipped. Name collisions between streams or
// tables, which lint cannot see, are errors.
func BuildGraph(m *Model) (*Graph, error) {
	stores := datastoresByName(m)
	var platforms []*Platform
	if m.Ecosystem != nil {
		for i := range m.Ecosystem.Platforms {
			platforms = append(platforms, &m.Ecosystem.Platforms[i])
		}
	}
	g := &Graph{}
	var errs []string
	for _, p := range platforms {
		if p.Kind != PlatformAirflowIceberg {
			continue
		}
		pg, perrs := buildPlatform(m, p, stores)
		errs = append(errs, perrs...)
		g.Platforms = append(g.Platforms, pg)
	}
	if len(errs) > 0 {
		return g, fmt.Errorf("platform graph: %s", strings.Join(errs, "; "))
	}
	return g, nil
}

type need struct {
	live, forensic bool
	// liveCoW and forensicCoW: some group reading the live or the history
	// table asks for copy_on_write.
	liveCoW, forensicCoW bool
	priority             int
	latency              Latency
	workspaces           map[string]bool
}

func buildPlatform(m *Model, p *Platform, stores map[string]*Datastore) (*PlatformGraph, []string) {
	pg := &PlatformGraph{Platform: p}
	// A transformer's output is served where the transformer runs: a group
	// on another platform sinking it is a lint error and skipped here.
	served := func(ds *Datastore) bool {
		if ds.Transformer != nil {
			return ds.Transformer.Platform.Name == p.Name
		}
		return ds.Capture != nil
	}
	needs := map[*Dataset]*need{}
	storeOf := map[*Dataset]*Datastore{}
	for _, z := range m.Zones {
		for _, t := range z.Defs {
			for _, w := range t.Workspaces {
				wv := &WorkspaceViews{Workspace: w}
				for gi := range w.Groups {
					grp := &w.Groups[gi]
					if grp.Platform.Name != p.Name {
						continue
					}
					for _, s := range grp.Sinks {
						ds := stores[s.Datastore]
						d := findDataset(ds, s.Dataset)
						if d == nil || !served(ds) {
							continue
						}
						n := needs[d]
						if n == nil {
							n = &need{latency: LatencyDays, workspaces: map[string]bool{}}
							needs[d] = n
							storeOf[d] = ds
						}
						forensic := grp.Requirements.History == HistoryForensic
						n.live = n.live || !forensic
						n.forensic = n.forensic || forensic
						if grp.Requirements.WriteMode == WriteCopyOnWrite {
							if forensic {
								n.forensicCoW = true
							} else {
								n.liveCoW = true
							}
						}
						n.priority = max(n.priority, w.Priority.Weight())
						if grp.Requirements.Latency.Rank() < n.latency.Rank() {
							n.latency = latencyOrMinutes(grp.Requirements.Latency)
						}
						n.workspaces[w.Name] = true
						wv.Views = append(wv.Views, View{Group: grp, Sink: s, Datastore: ds, Dataset: d, History: forensic})
					}
				}
				if len(wv.Views) > 0 {
					pg.Workspaces = append(pg.Workspaces, wv)
				}
			}
		}
	}
	platformMode := WriteMode(WriteMergeOnRead)
	if p.AirflowIceberg != nil {
		platformMode = p.AirflowIceberg.Iceberg.EffectiveWriteMode()
	}
	// Streams in datastore order (the teams' stores, then the transformers'
	// outputs), datasets in their declared order.
	byName := map[string]*Stream{}
	var order []string
	var all []*Datastore
	for _, z := range m.Zones {
		for _, t := range z.Defs {
			all = append(all, t.Datastores...)
		}
	}
	type owned struct {
		w  *Workspace
		tr *Transformer
	}
	var runs []owned
	for _, z := range m.Zones {
		for _, t := range z.Defs {
			for _, w := range t.Workspaces {
				for i := range w.Transformers {
					tr := &w.Transformers[i]
					if tr.Output != nil && tr.Platform.Name == p.Name && stores[tr.Output.Name] == tr.Output {
						all = append(all, tr.Output)
						runs = append(runs, owned{w, tr})
					}
				}
			}
		}
	}
	for _, ds := range all {
		// A transformer's output is one stream, like a
		// multi_dataset store: a run's datasets commit together.
		multi := ds.Transformer != nil || ds.Capture != nil && ds.Capture.Consistency == MultiDataset
		for i := range ds.Datasets {
			d := &ds.Datasets[i]
			n := needs[d]
			if n == nil {
				continue
			}
			name := ds.Name
			if !multi {
				name = ds.Name + "_" + d.Name
			}
			s := byName[name]
			if s == nil {
				s = &Stream{Name: name, Datastore: ds, Latency: LatencyDays}
				byName[name] = s
				order = append(order, name)
			} else if s.Datastore != ds {
				return pg, []string{fmt.Sprintf("platform %s: stream name %s is used by datastores %s and %s; rename a dataset or datastore", p.Name, name, s.Datastore.Name, ds.Name)}
			}
			st := &StreamTable{Dataset: d, Live: n.live, Forensic: n.forensic, LiveWriteMode: platformMode, HistoryWriteMode: platformMode}
			if n.liveCoW {
				st.LiveWriteMode = WriteCopyOnWrite
			}
			if n.forensicCoW {
				st.HistoryWriteMode = WriteCopyOnWrite
			}
			s.Tables = append(s.Tables, st)
			s.Priority = max(s.Priority, n.priority)
			if n.latency.Rank() < s.Latency.Rank() {
				s.Latency = n.latency
			}
			for w := range n.workspaces {
				s.Workspaces = append(s.Workspaces, w)
			}
		}
	}
	for _, o := range runs {
		s := byName[o.tr.Output.Name]
		if s == nil || s.Datastore != o.tr.Output {
			continue // no consumer on the platform: not run (lint warns)
		}
		pg.Transformers = append(pg.Transformers, &TransformerRun{Workspace: o.w, Transformer: o.tr, Output: s, Inputs: TransformerInputs(m, o.w, o.tr)})
	}
	var errs []string
	for _, name := range order {
		s := byName[name]
		s.Workspaces = uniqueSorted(s.Workspaces)
		pg.Streams = append(pg.Streams, s)
		tables := map[string]string{}
		for _, st := range s.Datastore.Datasets {
			tables[LiveTable(st.Name)] = st.Name
		}
		for _, st := range s.Tables {
			if st.Forensic {
				if other, ok := tables[HistoryTable(st.Dataset.Name)]; ok {
					errs = append(errs, fmt.Sprintf("datastore %s: the history table of %s would be named %s, like dataset %s; rename one", s.Datastore.Name, st.Dataset.Name, HistoryTable(st.Dataset.Name), other))
				}
			}
		}
	}
	return pg, errs
}

func findDataset(ds *Datastore, name string) *Dataset {
	if ds == nil {
		return nil
	}
	for i := range ds.Datasets {
		if ds.Datasets[i].Name == name {
			return &ds.Datasets[i]
		}
	}
	return nil
}

func latencyOrMinutes(l Latency) Latency {
	if l == "" {
		return LatencyMinutes
	}
	return l
}

func uniqueSorted(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
