// Package generator turns a validated model into the deploy tree: Airflow
// DAGs, Debezium and S3 sink connector configs, merge-runner job specs, Trino
// view SQL and a MANIFEST.json. The same model gives byte-identical output.
package generator

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/datasurface/datasurface/model"
	"github.com/datasurface/datasurface/templates"
)

// Options tune a generation.
type Options struct {
	// Version is the generator's version, recorded in the manifest.
	Version string
	// TemplatesDir overrides embedded templates by file name ("" for none).
	TemplatesDir string
	// Scope, when set, renders only the artifacts of some datastores and
	// workspaces (and each platform's maintenance DAG, which lists every
	// stream): a plan of a small change compares just what it can affect.
	Scope *Scope
}

// Scope names the datastores and workspaces whose artifacts to render: the
// datastores' streams and connectors, the workspaces' views.
type Scope struct {
	Datastores map[string]bool
	Workspaces map[string]bool
	// sameStreams names the platforms whose stream lists the plan found
	// equal on both sides: their maintenance DAG cannot differ.
	sameStreams map[string]bool
}

func (s *Scope) stream(st *model.Stream) bool {
	return s == nil || s.Datastores[st.Datastore.Name]
}

func (s *Scope) workspace(w *model.Workspace) bool {
	return s == nil || s.Workspaces[w.Name]
}

// Generate renders the deploy tree of a model that lints without errors.
func Generate(ctx context.Context, m *model.Model, opts Options) (*Tree, error) {
	g, err := model.BuildGraph(m)
	if err != nil {
		return nil, err
	}
	return render(ctx, m, g, opts)
}

// render renders a model whose graph is built.
func render(ctx context.Context, m *model.Model, g *model.Graph, opts Options) (*Tree, error) {
	ts, err := templates.Load(opts.TemplatesDir)
	if err != nil {
		return nil, err
	}
	r := &renderer{m: m, ts: ts, tree: &Tree{Files: map[string][]byte{}}, version: opts.Version, scope: opts.Scope, containers: map[string]*model.Container{}}
	for i := range m.Ecosystem.Containers {
		r.containers[m.Ecosystem.Containers[i].Name] = &m.Ecosystem.Containers[i]
	}
	for _, pg := range g.Platforms {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := r.platform(pg); err != nil {
			return nil, fmt.Errorf("platform %s: %w", pg.Platform.Name, err)
		}
	}
	if err := AddManifest(r.tree, opts.Version, m.Commit); err != nil {
		return nil, err
	}
	return r.tree, nil
}

type renderer struct {
	m       *model.Model
	ts      *templates.Set
	tree    *Tree
	version string
	scope   *Scope
	// containers are the ecosystem's containers by name.
	containers map[string]*model.Container
}

// platformDir is where a platform's artifacts go.
func platformDir(p *model.Platform) string { return "platforms/" + p.Name }

func (r *renderer) platform(all *model.PlatformGraph) error {
	pg := all
	if r.scope != nil {
		scoped := *all
		scoped.Streams, scoped.Workspaces = nil, nil
		for _, s := range all.Streams {
			if r.scope.stream(s) {
				scoped.Streams = append(scoped.Streams, s)
			}
		}
		for _, w := range all.Workspaces {
			if r.scope.workspace(w.Workspace) {
				scoped.Workspaces = append(scoped.Workspaces, w)
			}
		}
		pg = &scoped
	}
	env := r.environment(pg.Platform)
	dir := platformDir(pg.Platform)
	// Streams render independently: spread them over the cores, then add
	// the files in stream order so the tree does not depend on timing.
	type streamFiles struct {
		spec, dag []byte
		dagID     string
	}
	out := make([]streamFiles, len(pg.Streams))
	err := parallel(len(pg.Streams), func(i int) error {
		s := pg.Streams[i]
		var (
			spec []byte
			dag  DAG
			err  error
		)
		if run := transformerOf(all, s); run != nil {
			spec, err = r.transformerJobSpec(pg.Platform, run)
			if err == nil {
				dag, err = r.transformerDAG(pg.Platform, run, env)
			}
		} else {
			spec, err = r.jobSpec(pg.Platform, s)
			if err == nil {
				dag, err = r.streamDAG(pg.Platform, s, env)
			}
		}
		if err != nil {
			return err
		}
		b, err := r.ts.Render("dag.py.tmpl", dag)
		if err != nil {
			return err
		}
		out[i] = streamFiles{spec: spec, dag: b, dagID: dag.DagID}
		return nil
	})
	if err != nil {
		return err
	}
	for i, s := range pg.Streams {
		if err := r.tree.add(dir+"/jobs/"+s.Name+".json", out[i].spec); err != nil {
			return err
		}
		if err := r.tree.add(dir+"/dags/"+out[i].dagID+".py", out[i].dag); err != nil {
			return err
		}
	}
	if len(all.Streams) > 0 && (r.scope == nil || !r.scope.sameStreams[all.Platform.Name]) {
		mdag := r.maintenanceDAG(all, env)
		b, err := r.ts.Render("dag.py.tmpl", mdag)
		if err != nil {
			return err
		}
		if err := r.tree.add(dir+"/dags/"+mdag.DagID+".py", b); err != nil {
			return err
		}
	}
	if err := r.connectors(pg); err != nil {
		return err
	}
	return r.trino(pg)
}

// header is the comment that opens every generated file. It does not name
// the model commit (MANIFEST.json does), so a commit that changes nothing a
// file depends on leaves the file byte-identical.
func (r *renderer) header() string {
	return "Generated by datasurface " + r.version + " from the model. Do not edit: change the model instead."
}

// container resolves a container name as lint does: the team's own first,
// then the ecosystem's (t may be nil for platform settings).
func (r *renderer) container(t *model.Team, name string) *model.Container {
	if t != nil {
		for i := range t.Containers {
			if t.Containers[i].Name == name {
				return &t.Containers[i]
			}
		}
	}
	return r.containers[name]
}

// parallel runs fn(0..n-1) on every core and returns the first error.
func parallel(n int, fn func(i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// sanitize lowercases a name for systems with stricter rules (PostgreSQL
// slot names, Kubernetes names).
func sanitize(s string) string { return strings.ToLower(s) }
