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
	// Unserved says which sinks assigned to the platform it cannot serve yet
	// (a transformer's output), so that nothing is dropped silently.
	Unserved []string
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
	stores := map[string]*Datastore{}
	var platforms []*Platform
	if m.Ecosystem != nil {
		for i := range m.Ecosystem.Platforms {
			platforms = append(platforms, &m.Ecosystem.Platforms[i])
		}
	}
	for _, z := range m.Zones {
		for _, t := range z.Defs {
			for _, ds := range t.Datastores {
				stores[ds.Name] = ds
			}
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
	outputs := map[string]*Datastore{}
	for _, z := range m.Zones {
		for _, t := range z.Defs {
			for _, w := range t.Workspaces {
				for i := range w.Transformers {
					if out := w.Transformers[i].Output; out != nil && out.Transformer != nil {
						outputs[out.Name] = out
					}
				}
			}
		}
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
						if d == nil || ds.Capture == nil {
							if out := outputs[s.Datastore]; out != nil {
								pg.Unserved = append(pg.Unserved, fmt.Sprintf("workspace %s, group %s: sink %s is the output of transformer %s, which platform %s does not run yet; it is neither ingested nor given a view", w.Name, grp.Name, s, out.Transformer.Name, p.Name))
							}
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
	// Streams in datastore order, datasets in their declared order.
	byName := map[string]*Stream{}
	var order []string
	for _, z := range m.Zones {
		for _, t := range z.Defs {
			for _, ds := range t.Datastores {
				multi := ds.Capture != nil && ds.Capture.Consistency == MultiDataset
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
		}
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
