package lint

import (
	"fmt"
	"strings"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/model"
)

// collisions checks the names the generator derives from the model (see
// generator/: streams, DAG ids, job spec, connector and view files, Iceberg
// tables, Kafka topics, Trino schemas and views). Two elements whose derived
// names are equal, or equal once folded as Trino and case-insensitive file
// systems fold them, would make generate fail on the default branch or
// overwrite each other's artifacts. Each rule but the views' judges the
// model's names alone, whoever sinks what: the merge request that takes a
// name is the one refused, not a later consumer's that happens to need both.
func (l *linter) collisions() {
	if l.m.Ecosystem == nil {
		return
	}
	l.streamNames()
	l.tableNames()
	l.topicNames()
	l.replicationNames()
	l.schemaNames()
	l.viewNames()
}

// claim is who took a derived name first.
type claim struct {
	what   string // "dataset product_catalog.products"
	pos    model.Pos
	origin string // the folded model name it derives from: same origin, same element
	extra  string
}

func fold(s string) string { return strings.ToLower(s) }

// captured visits every datastore a platform ingests from a source (not a
// transformer's output, which is not ingested yet).
func (l *linter) captured(fn func(*model.Datastore)) {
	for _, z := range l.m.Zones {
		for _, t := range z.Defs {
			for _, ds := range t.Datastores {
				if ds.Capture != nil {
					fn(ds)
				}
			}
		}
	}
}

// maintenanceStream is the stream name the maintenance DAG's id takes:
// <platform>__maintenance.
const maintenanceStream = "maintenance"

// streamNames: a multi_dataset store is the stream <store>, a single_dataset
// store's dataset the stream <store>_<dataset>; the stream names the job
// spec (jobs/<stream>.json), the DAG (<platform>__<stream>) and the
// maintenance task. Streams are unique ecosystem-wide, folded, and no
// stream takes the maintenance DAG's name.
func (l *linter) streamNames() {
	type stream struct {
		key string
		claim
	}
	var streams []stream
	seen := map[string]claim{}
	add := func(name string, c claim, path func() string) {
		key := fold(name)
		if key == maintenanceStream {
			l.errorf("name-collision", c.pos, path(), "%s would be ingested as stream %s, whose DAG id <platform>__%s is each platform's maintenance DAG; rename it", c.what, name, maintenanceStream)
			return
		}
		if prev, dup := seen[key]; dup {
			if prev.origin != c.origin { // the same names twice is a name-duplicate
				l.errorf("name-collision", c.pos, path(), "%s would be ingested as stream %s, the stream of %s at %s: both would write jobs/%s.json and the DAG <platform>__%s (names compare case-insensitively); rename a dataset or datastore", c.what, name, prev.what, prev.pos, key, key)
			}
			return
		}
		seen[key] = c
		streams = append(streams, stream{key, c})
	}
	l.captured(func(ds *model.Datastore) {
		if ds.Capture.Consistency == model.MultiDataset {
			if len(ds.Datasets) > 0 {
				add(ds.Name, claim{what: "datastore " + ds.Name, pos: ds.Pos, origin: fold(ds.Name)}, func() string { return storePath(ds) })
			}
			return
		}
		for i := range ds.Datasets {
			d := &ds.Datasets[i]
			add(ds.Name+"_"+d.Name, claim{what: "dataset " + ds.Name + "." + d.Name, pos: d.Pos, origin: fold(ds.Name) + "." + fold(d.Name)}, func() string { return datasetPath(ds, d) })
		}
	})

	// DAG ids are <platform>__<stream> (and <platform>__maintenance); with
	// streams unique, two can be equal only when a platform's name holds
	// "__". Airflow's DAG ids are global to an Airflow, which platforms may
	// share.
	var platforms []*model.Platform
	shared := false
	for i := range l.m.Ecosystem.Platforms {
		if p := &l.m.Ecosystem.Platforms[i]; p.Kind == model.PlatformAirflowIceberg {
			platforms = append(platforms, p)
			shared = shared || strings.Contains(p.Name, "__")
		}
	}
	if !shared || len(platforms) < 2 {
		return
	}
	ids := map[string]string{}
	for _, p := range platforms {
		id := fold(p.Name) + "__" + maintenanceStream
		if other, dup := ids[id]; dup {
			l.errorf("name-collision", p.Pos, "platform:"+p.Name, "platform %s's maintenance DAG would have the id %s, the id of %s; rename the platform", p.Name, id, other)
		} else {
			ids[id] = "platform " + p.Name + "'s maintenance DAG"
		}
	}
	for _, p := range platforms {
		for _, s := range streams {
			id := fold(p.Name) + "__" + s.key
			what := fmt.Sprintf("the DAG of %s on platform %s (at %s)", s.what, p.Name, s.pos)
			if other, dup := ids[id]; dup {
				l.errorf("name-collision", s.pos, "platform:"+p.Name, "on platform %s, %s would have the DAG id %s, the id of %s; Airflow's DAG ids are global, so rename the platform, the datastore or the dataset", p.Name, s.what, id, other)
				continue
			}
			ids[id] = what
		}
	}
}

// tableNames: a dataset's Iceberg tables are <dataset> and, for forensic
// consumers, <dataset>_history, in its datastore's namespace; the history
// tables add the validity columns to the dataset's own.
func (l *linter) tableNames() {
	const suffix = "_history"
	l.captured(func(ds *model.Datastore) {
		for i := range ds.Datasets {
			d := &ds.Datasets[i]
			for ci := range d.Columns {
				c := &d.Columns[ci]
				if hc := historyColumn(c.Name); hc != "" {
					l.errorf("name-collision", c.Pos, datasetPath(ds, d)+"/column:"+c.Name, "column %s would collide with %s, a column history tables add themselves (%s; names compare case-insensitively); rename it", c.Name, hc, strings.Join(jobspec.HistoryColumns, ", "))
				}
			}
			// Only a name ending in _history can be another's history table.
			n := len(d.Name) - len(suffix)
			if n <= 0 || !strings.EqualFold(d.Name[n:], suffix) {
				continue
			}
			var owner *model.Dataset
			for j := range ds.Datasets {
				if strings.EqualFold(ds.Datasets[j].Name, d.Name[:n]) {
					owner = &ds.Datasets[j]
					break
				}
			}
			if owner == nil {
				continue
			}
			// Point at whichever of the two comes second: the one added later, usually.
			if posBefore(owner.Pos, d.Pos) {
				l.errorf("name-collision", d.Pos, datasetPath(ds, d), "dataset %s would be table %s of namespace %s, the name of the history table that dataset %s (at %s) keeps for forensic consumers (names compare case-insensitively); rename it", d.Name, fold(d.Name), ds.Name, owner.Name, owner.Pos)
			} else {
				l.errorf("name-collision", owner.Pos, datasetPath(ds, owner), "the history table of dataset %s, kept for forensic consumers, would be table %s of namespace %s, the table of dataset %s at %s (names compare case-insensitively); rename one", owner.Name, fold(model.HistoryTable(owner.Name)), ds.Name, d.Name, d.Pos)
			}
		}
	})
}

// historyColumn is the validity column of history tables that name folds
// onto, or "".
func historyColumn(name string) string {
	// Cheap refusals first: this runs on every column.
	if len(name) < 12 || len(name) > 14 || name[0]|0x20 != 'd' || !strings.EqualFold(name[:4], "dsf_") {
		return ""
	}
	for _, c := range jobspec.HistoryColumns {
		if strings.EqualFold(name, c) {
			return c
		}
	}
	return ""
}

func posBefore(a, b model.Pos) bool {
	if a.File != b.File {
		return a.File < b.File
	}
	if a.Line != b.Line {
		return a.Line < b.Line
	}
	return a.Col < b.Col
}

// topicKey is how Kafka compares topic names for collisions: '.' and '_'
// are the same in its metric names, so it refuses a topic that differs
// from an existing one only there; case is folded too.
func topicKey(t string) string { return fold(strings.ReplaceAll(t, ".", "_")) }

// topicNames: Debezium writes a table's changes to the topic
// <prefix>.<datastore>.<schema>.<table> (prefix: the platform's
// kafka_connect.topic_prefix, else its name). Platforms whose Kafka Connect
// writes to one Kafka share its topics.
func (l *linter) topicNames() {
	type kafkaPlatform struct {
		p      *model.Platform
		prefix string
	}
	clusters := map[string][]kafkaPlatform{}
	var order []string
	prefixes := map[string]*model.Platform{}
	for i := range l.m.Ecosystem.Platforms {
		p := &l.m.Ecosystem.Platforms[i]
		if p.Kind != model.PlatformAirflowIceberg || p.AirflowIceberg == nil {
			continue
		}
		kc := p.AirflowIceberg.KafkaConnect
		var cluster string
		switch {
		case p.AirflowIceberg.EmbeddedCDC():
			// merge-runner capture lands each topic under the platform's
			// landing as the S3 sink does: the landing is the namespace.
			cluster = embeddedTopicSpace(p.AirflowIceberg)
		case kc.Container.IsSet():
			cluster = "connect:" + kc.Container.Name
			if c := l.ix.containers[kc.Container.Name]; c != nil && c.KafkaConnect != nil && c.KafkaConnect.Kafka.Name != "" {
				cluster = "kafka:" + c.KafkaConnect.Kafka.Name
			}
		default:
			continue
		}
		prefix := p.Name
		if kc.TopicPrefix != "" {
			prefix = kc.TopicPrefix
		}
		pk := cluster + "\x00" + topicKey(prefix)
		if other := prefixes[pk]; other != nil {
			l.errorf("name-collision", refPos(kc.Container, p.Pos), "platform:"+p.Name, "platform %s would write its topics under the prefix %s, as platform %s (at %s) does on the same %s: a datastore both capture would have its changes written twice to the same topics; give one its own kafka_connect.topic_prefix", p.Name, prefix, other.Name, other.Pos, topicSpaceWord(cluster))
			continue
		}
		prefixes[pk] = p
		if _, ok := clusters[cluster]; !ok {
			order = append(order, cluster)
		}
		clusters[cluster] = append(clusters[cluster], kafkaPlatform{p, prefix})
	}
	for _, cluster := range order {
		topics := map[string]claim{}
		reported := map[*model.Dataset]bool{}
		for _, kp := range clusters[cluster] {
			l.captured(func(ds *model.Datastore) {
				if ds.Capture.Kind != model.CaptureDebezium {
					return
				}
				schema := ds.Capture.SourceSchema
				if schema == "" {
					schema = "public"
				}
				for i := range ds.Datasets {
					d := &ds.Datasets[i]
					table := d.Name
					if d.SourceTable != "" {
						table = d.SourceTable
					}
					topic := kp.prefix + "." + ds.Name + "." + schema + "." + table
					key := topicKey(topic)
					c := claim{what: "dataset " + ds.Name + "." + d.Name, pos: d.Pos, origin: fold(ds.Name) + "." + fold(d.Name), extra: topic}
					prev, dup := topics[key]
					if !dup {
						topics[key] = c
						continue
					}
					if prev.origin == c.origin || reported[d] {
						continue
					}
					reported[d] = true
					l.errorf("name-collision", d.Pos, datasetPath(ds, d), "on platform %s, %s would be captured to the Kafka topic %s, which Kafka cannot tell from the topic %s of %s at %s (topic names differing only in '.' and '_', or in case, collide); capture another source_table or rename the dataset or datastore", kp.p.Name, c.what, topic, prev.extra, prev.what, prev.pos)
				}
			})
		}
	}
}

// schemaNames: a workspace's views are in the Trino schema <workspace> of
// its platform's catalog, the catalog whose namespace <datastore> holds a
// datastore's tables.
func (l *linter) schemaNames() {
	stores := map[string]*model.Datastore{}
	l.eachDatastore(func(ds *model.Datastore) {
		if _, dup := stores[fold(ds.Name)]; !dup {
			stores[fold(ds.Name)] = ds
		}
	})
	l.eachWorkspace(func(w *model.Workspace) {
		if ds := stores[fold(w.Name)]; ds != nil {
			l.errorf("name-collision", w.Pos, workspacePath(w), "workspace %s's views would be in the Trino schema %s, the namespace that holds the tables of datastore %s at %s (names compare case-insensitively); rename the workspace", w.Name, fold(w.Name), ds.Name, ds.Pos)
		}
	})
}

// viewNames: in its schema on a platform, a workspace gets a view per
// sunk dataset named after the dataset (<datastore>_<dataset> when two of
// its sinks there share the dataset's name) and, for a forensic sink, also
// <name>_history, as generator/trino.go names them. A second view of the
// same name would be dropped, or replace the first once Trino folds it.
func (l *linter) viewNames() {
	type view struct {
		g       *model.DatasetGroup
		s       model.Sink
		ds      *model.Datastore
		d       *model.Dataset
		history bool
	}
	// A view's target: the dataset's current rows, or its history.
	type target struct {
		d       *model.Dataset
		history bool
	}
	type taken struct {
		target
		s model.Sink
	}
	// Scratch reused from workspace to workspace.
	var views []view
	count := map[string]int{}
	names := map[string]taken{}
	for i := range l.m.Ecosystem.Platforms {
		p := &l.m.Ecosystem.Platforms[i]
		if p.Kind != model.PlatformAirflowIceberg {
			continue
		}
		l.eachWorkspace(func(w *model.Workspace) {
			sinks := 0
			for gi := range w.Groups {
				if w.Groups[gi].Platform.Name == p.Name {
					sinks += len(w.Groups[gi].Sinks)
				}
			}
			if sinks < 2 { // one sink's views (x, x_history) never collide
				return
			}
			views = views[:0]
			clear(count)
			clear(names)
			for gi := range w.Groups {
				g := &w.Groups[gi]
				if g.Platform.Name != p.Name {
					continue
				}
				for _, s := range g.Sinks {
					ds, d := l.ix.dataset(s.Datastore, s.Dataset)
					if d == nil || ds.Capture == nil {
						continue
					}
					views = append(views, view{g, s, ds, d, g.Requirements.History == model.HistoryForensic})
					count[d.Name]++
				}
			}
			take := func(v view, name string, t target) {
				key := fold(name)
				prev, dup := names[key]
				if !dup {
					names[key] = taken{t, v.s}
					return
				}
				if prev.target != t {
					l.errorf("name-collision", v.s.Pos, groupPath(w, v.g), "on platform %s, sink %s would get the Trino view %s.%s, which sink %s at %s already gets (Trino folds view names to lower case), so one of them would be lost; sink them from separate workspaces", p.Name, v.s, fold(w.Name), key, prev.s, prev.s.Pos)
				}
			}
			for _, v := range views {
				name := v.d.Name
				if count[name] > 1 {
					name = v.ds.Name + "_" + v.d.Name
				}
				take(v, name, target{v.d, false})
				if v.history {
					take(v, name+"_history", target{v.d, true})
				}
			}
		})
	}
}
