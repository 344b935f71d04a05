package lint

import (
	"strings"

	"github.com/datasurface/datasurface/model"
)

// transformers checks what running transformers needs. A transformer reads
// the sinks of its workspace's groups on its own platform (the model has no
// separate input list: to read a dataset, sink it there), and its output
// lives on that platform, where any workspace sinks it like any store. The
// platform runs a transformer only when some group on it sinks the output;
// one nobody sinks is a warning and renders nothing.
func (l *linter) transformers() {
	type node = trNode
	byOutput := map[string]node{}
	var order []node
	l.eachWorkspace(func(w *model.Workspace) {
		for i := range w.Transformers {
			tr := &w.Transformers[i]
			n := node{w, tr}
			order = append(order, n)
			if tr.Output != nil && l.ix.datastores[tr.Output.Name] == tr.Output {
				byOutput[tr.Output.Name] = n
			}
		}
	})
	// Who sinks each output, on which platform.
	consumed := map[string]bool{} // output datastore -> sunk on its transformer's platform
	runs := map[string]bool{}     // platforms that run a transformer
	l.eachWorkspace(func(w *model.Workspace) {
		for gi := range w.Groups {
			g := &w.Groups[gi]
			for _, s := range g.Sinks {
				n, ok := byOutput[s.Datastore]
				if !ok {
					continue
				}
				if g.Platform.Name != n.tr.Platform.Name {
					l.errorf("sink-transformer-platform", s.Pos, groupPath(w, g), "%s is the output of transformer %s.%s, which runs on platform %s, so platform %s has no copy to serve; assign the group to platform %s (a group of its own if the other sinks must stay)", s, n.w.Name, n.tr.Name, n.tr.Platform.Name, g.Platform.Name, n.tr.Platform.Name)
					continue
				}
				if !consumed[s.Datastore] {
					consumed[s.Datastore] = true
					runs[n.tr.Platform.Name] = true
				}
			}
		}
	})
	for _, n := range order {
		tp := workspacePath(n.w) + "/transformer:" + n.tr.Name
		p := l.ix.platforms[n.tr.Platform.Name]
		if p != nil && p.Kind != model.PlatformAirflowIceberg {
			l.errorf("transformer-platform", refPos(n.tr.Platform, n.tr.Pos), tp, "transformer %s runs on platform %s, which is %s and runs nothing; choose an airflow-iceberg platform", n.tr.Name, p.Name, p.Kind)
		}
		// A transformer reads its workspace's sinks on its platform. One the
		// platform runs cannot run without them (its job spec would have no
		// inputs), so then it is an error.
		if len(model.TransformerInputs(l.m, n.w, n.tr)) == 0 {
			msg := "transformer %q has no inputs: it reads the sinks of workspace %s's groups on platform %s, and there are none; sink what it reads in a group on that platform"
			if n.tr.Output != nil && consumed[n.tr.Output.Name] {
				l.errorf("transformer-no-inputs", n.tr.Pos, tp, msg+" (its output is sunk, so the platform would run it)", n.tr.Name, n.w.Name, n.tr.Platform.Name)
			} else {
				l.warnf("transformer-no-inputs", n.tr.Pos, tp, msg, n.tr.Name, n.w.Name, n.tr.Platform.Name)
			}
		}
		if n.tr.Output != nil && consumed[n.tr.Output.Name] && len(n.tr.Command) == 0 {
			l.errorf("transformer-command", n.tr.Pos, tp, "transformer %s has no command; the platform runs the image with it: give command: [program, args...]", n.tr.Name)
		}
		if n.tr.Output != nil && !consumed[n.tr.Output.Name] && byOutput[n.tr.Output.Name].tr == n.tr {
			l.warnf("transformer-unused", n.tr.Pos, tp, "no dataset group on platform %s sinks %s, the output of transformer %s, so the platform does not run it; sink its datasets where they are needed, or remove the transformer", n.tr.Platform.Name, n.tr.Output.Name, n.tr.Name)
		}
	}
	l.transformerCycles(order, byOutput)
	if l.m.Ecosystem == nil {
		return
	}
	for i := range l.m.Ecosystem.Platforms {
		p := &l.m.Ecosystem.Platforms[i]
		if runs[p.Name] && p.AirflowIceberg != nil {
			l.transformerCredentials(p)
		}
	}
}

// trNode is a transformer and the workspace that defines it.
type trNode struct {
	w  *model.Workspace
	tr *model.Transformer
}

// transformerCycles reports a transformer that reads, directly or through
// other transformers, its own output: no order of runs could give it its
// input. Each cycle is reported once, at its first transformer in model
// order, with the path.
func (l *linter) transformerCycles(order []trNode, byOutput map[string]trNode) {
	type node = trNode
	// reads: transformer -> the transformers whose outputs it reads.
	reads := map[*model.Transformer][]node{}
	for _, n := range order {
		seen := map[*model.Transformer]bool{}
		for _, in := range model.TransformerInputs(l.m, n.w, n.tr) {
			if up, ok := byOutput[in.Datastore.Name]; ok && !seen[up.tr] {
				seen[up.tr] = true
				reads[n.tr] = append(reads[n.tr], up)
			}
		}
	}
	const (
		unvisited = iota
		active
		done
	)
	state := map[*model.Transformer]int{}
	var stack []node
	var visit func(n node)
	visit = func(n node) {
		state[n.tr] = active
		stack = append(stack, n)
		for _, up := range reads[n.tr] {
			switch state[up.tr] {
			case unvisited:
				visit(up)
			case active:
				start := 0
				for i := range stack {
					if stack[i].tr == up.tr {
						start = i
					}
				}
				cycle := append([]node(nil), stack[start:]...)
				var names []string
				// The path reads in the direction data flows: each
				// transformer's output feeds the next.
				for i := len(cycle) - 1; i >= 0; i-- {
					names = append(names, cycle[i].w.Name+"."+cycle[i].tr.Name)
				}
				names = append(names, names[0])
				first := cycle[0]
				l.errorf("transformer-cycle", first.tr.Pos, workspacePath(first.w)+"/transformer:"+first.tr.Name,
					"transformers read their own output through a cycle: %s (each one's output is sunk on its platform by the next one's workspace); break it by moving a sink of an output to a workspace without a transformer", strings.Join(names, " -> "))
			}
		}
		stack = stack[:len(stack)-1]
		state[n.tr] = done
	}
	for _, n := range order {
		if state[n.tr] == unvisited {
			visit(n)
		}
	}
}

// transformerCredentials requires the read-only logins a transformer gets on
// a platform that runs one: never the read-write ones the merge-runner uses.
func (l *linter) transformerCredentials(p *model.Platform) {
	pp := "ecosystem:" + l.m.Ecosystem.Name + "/platform:" + p.Name
	ice := p.AirflowIceberg.Iceberg
	for _, c := range []struct {
		field    string
		ro, rw   model.Ref
		kinds    []string
		readsHow string
	}{
		{"iceberg.catalog.read_only_credential", ice.Catalog.ReadOnlyCredential, ice.Catalog.Credential, []string{"user_password", "token", "certificate"}, "a catalog login that can only read"},
		{"iceberg.warehouse.read_only_credential", ice.Warehouse.ReadOnlyCredential, ice.Warehouse.Credential, []string{"s3_keys"}, "s3_keys that can only read the warehouse bucket"},
	} {
		switch {
		case !c.ro.IsSet():
			l.errorf("platform-transformer-credential", p.Pos, pp, "platform %s runs transformers, which get read-only access to their inputs; add airflow_iceberg.%s: %s (declared in ecosystem.yaml's credentials)", p.Name, c.field, c.readsHow)
		case c.ro.Name == c.rw.Name:
			l.errorf("platform-transformer-credential", refPos(c.ro, p.Pos), pp, "airflow_iceberg.%s is %q, the platform's read-write credential; transformers must never get it: give %s", c.field, c.ro.Name, c.readsHow)
		default:
			l.credentialRef(nil, c.ro, c.kinds, p.Pos, pp)
		}
	}
}
