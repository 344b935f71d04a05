package generator

import (
	"sort"
	"strconv"
	"strings"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/model"
	"github.com/datasurface/datasurface/templates"
)

// TrinoSchema is what trino.sql.tmpl renders: one workspace's schema and views.
type TrinoSchema struct {
	Header        string
	Catalog       string
	Schema        string // the workspace's name
	Documentation string
	Views         []TrinoView
}

// TrinoView is one view over an Iceberg table.
type TrinoView struct {
	Name    string
	Comment string
	Columns []string
	// Select is Columns as an SQL select list, each escaped with SQLIdent.
	Select    string
	Namespace string // the datastore's namespace in the catalog
	Table     string
	// Current keeps only current versions (a live view over a history table).
	Current bool
}

func (r *renderer) trino(pg *model.PlatformGraph) error {
	p := pg.Platform
	catalog := p.AirflowIceberg.Trino.Catalog
	if catalog == "" {
		catalog = p.AirflowIceberg.Iceberg.Catalog.Name
	}
	rendered := make([][]byte, len(pg.Workspaces))
	err := parallel(len(pg.Workspaces), func(i int) error {
		wv := pg.Workspaces[i]
		w := wv.Workspace
		ts := TrinoSchema{Header: r.header(), Catalog: catalog, Schema: w.Name, Documentation: w.Documentation}
		// A view is named after its dataset unless two sinks share that name.
		count := map[string]int{}
		for _, v := range wv.Views {
			count[v.Dataset.Name]++
		}
		seen := map[string]bool{}
		for _, v := range wv.Views {
			name := v.Dataset.Name
			if count[name] > 1 {
				name = v.Datastore.Name + "_" + v.Dataset.Name
			}
			cols := make([]string, len(v.Dataset.Columns))
			for i := range v.Dataset.Columns {
				cols[i] = v.Dataset.Columns[i].Name
			}
			comment := v.Dataset.Documentation
			if !v.History {
				if !seen[name] {
					ts.Views = append(ts.Views, TrinoView{Name: name, Comment: comment, Columns: cols, Namespace: v.Datastore.Name, Table: model.LiveTable(v.Dataset.Name)})
				}
				seen[name] = true
				continue
			}
			hist := append(append([]string(nil), cols...), jobspec.HistoryColumns...)
			if !seen[name] {
				ts.Views = append(ts.Views, TrinoView{Name: name, Comment: comment, Columns: cols, Namespace: v.Datastore.Name, Table: model.HistoryTable(v.Dataset.Name), Current: true})
				seen[name] = true
			}
			if !seen[name+"_history"] {
				ts.Views = append(ts.Views, TrinoView{Name: name + "_history", Comment: comment, Columns: hist, Namespace: v.Datastore.Name, Table: model.HistoryTable(v.Dataset.Name)})
				seen[name+"_history"] = true
			}
		}
		for vi := range ts.Views {
			v := &ts.Views[vi]
			quoted := make([]string, len(v.Columns))
			for ci, c := range v.Columns {
				quoted[ci] = templates.SQLIdent(c)
			}
			v.Select = strings.Join(quoted, ", ")
		}
		b, err := r.ts.Render("trino.sql.tmpl", ts)
		rendered[i] = b
		return err
	})
	if err != nil {
		return err
	}
	for i, wv := range pg.Workspaces {
		if err := r.tree.add(platformDir(p)+"/trino/"+wv.Workspace.Name+".sql", rendered[i]); err != nil {
			return err
		}
	}
	return nil
}

func itoa(i int) string { return strconv.Itoa(i) }

func boolString(b bool) string { return strconv.FormatBool(b) }

func sortEntries(es []ConfigEntry) {
	sort.Slice(es, func(i, j int) bool { return es[i].Key < es[j].Key })
}
