package generator

import (
	"fmt"
	"strings"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/model"
)

// transformerOf is the transformer whose output a stream ingests, or nil.
func transformerOf(pg *model.PlatformGraph, s *model.Stream) *model.TransformerRun {
	for _, t := range pg.Transformers {
		if t.Output == s {
			return t
		}
	}
	return nil
}

// transformerOutput is where a transformer's runs write: under the
// platform's landing bucket and prefix, in _transformers/<workspace>.<transformer>
// (an underscore name no Kafka topic folder can take).
func transformerOutput(ai *model.AirflowIceberg, t *model.TransformerRun) string {
	u := "s3://" + ai.Landing.Bucket
	if ai.Landing.Prefix != "" {
		u += "/" + ai.Landing.Prefix
	}
	return u + "/_transformers/" + t.Name()
}

// transformerJobSpec is the output stream's spec: source kind transformer,
// the inputs the run pins, and the output datasets' tables like a snapshot
// store's. A table's source_table is the folder of the run its Parquet
// files are in (<run dir>/<dataset>/).
func (r *renderer) transformerJobSpec(p *model.Platform, t *model.TransformerRun) ([]byte, error) {
	ai := p.AirflowIceberg
	s := t.Output
	if err := model.CheckBucket(ai.Landing.Bucket); err != nil {
		return nil, fmt.Errorf("transformer %s: landing bucket %q %v", t.Name(), ai.Landing.Bucket, err)
	}
	if ai.Landing.Prefix != "" {
		if err := model.CheckKeyPrefix(ai.Landing.Prefix); err != nil {
			return nil, fmt.Errorf("transformer %s: landing prefix %q %v", t.Name(), ai.Landing.Prefix, err)
		}
	}
	src := &jobspec.TransformerSource{Name: t.Name(), Output: transformerOutput(ai, t), Inputs: []jobspec.TransformerInput{}}
	for _, in := range t.Inputs {
		src.Inputs = append(src.Inputs, jobspec.TransformerInput{Dataset: in.Sink.String(), Namespace: in.Datastore.Name, Table: in.Table()})
	}
	spec := &jobspec.Spec{
		Version:   jobspec.Version,
		Platform:  p.Name,
		Stream:    s.Name,
		Datastore: s.Datastore.Name,
		Source:    jobspec.Source{Kind: jobspec.SourceTransformer, Transformer: src},
		Target: jobspec.Target{
			Catalog:     ai.Iceberg.Catalog.Name,
			CatalogKind: string(ai.Iceberg.Catalog.Kind),
			Warehouse:   warehouseURL(ai),
			Namespace:   s.Datastore.Name,
		},
		Batch: defaultBatch,
	}
	tables, err := streamTables(p, s)
	if err != nil {
		return nil, err
	}
	for i := range tables {
		tables[i].SourceTable = tables[i].Dataset
	}
	spec.Tables = tables
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	return jobspec.Marshal(spec)
}

// transformerDAG runs one transformer: `inputs` pins the snapshot of every
// table it reads, `transform` runs its image and command, `merge` ingests
// what it wrote into the output datastore's tables (their assets are the
// merge's outlets, so the output's consumers run next). It runs when a table
// it reads changes (their assets, as the DAGs writing them name them), or on
// its cron; external: only when triggered.
func (r *renderer) transformerDAG(p *model.Platform, t *model.TransformerRun, env runtimeEnv) (DAG, error) {
	s, tr, w := t.Output, t.Transformer, t.Workspace
	d := r.baseDAG(p)
	d.DagID = p.Name + "__" + s.Name
	d.RunScoped = true
	switch {
	case tr.Trigger.Cron != "":
		d.Schedule = tr.Trigger.Cron
	case tr.Trigger.External:
	default:
		for _, in := range t.Inputs {
			d.ScheduleAssets = append(d.ScheduleAssets, tableAsset(p, in.Datastore.Name, in.Table()))
		}
	}
	d.Owner = w.Team.Name
	d.Tags = []string{"datasurface", "platform:" + p.Name, "datastore:" + s.Datastore.Name, "team:" + w.Team.Name, "transformer:" + t.Name()}
	for _, ws := range s.Workspaces {
		d.Tags = append(d.Tags, "workspace:"+ws)
	}
	d.DocMD = transformerDoc(p, t)
	e := env.with(r, nil)
	if e.err != nil {
		return DAG{}, e.err
	}
	te, err := r.transformerEnv(p, t)
	if err != nil {
		return DAG{}, err
	}
	job := "jobs/" + s.Name + ".json"
	timeout := timeoutMinutes(s.Latency)
	output := transformerOutput(p.AirflowIceberg, t)
	inputs := Task{
		Var: "inputs", TaskID: "inputs",
		Command: []string{"merge-runner", "inputs", "--job", "env:DATASURFACE_JOB_SPEC"},
		RunArgs: true, JobFile: job, Env: e.vars, Secrets: e.secrets,
		PriorityWeight: s.Priority, TimeoutMinutes: timeout, PodName: podName(d.DagID, "inputs"),
	}
	transform := Task{
		Var: "transform", TaskID: "transform", Image: tr.Image,
		Command: tr.Command, RunDir: output, JobFile: job, Env: te.vars, Secrets: te.secrets,
		PriorityWeight: s.Priority, TimeoutMinutes: timeout, PodName: podName(d.DagID, "transform"),
	}
	merge := Task{
		Var: "merge", TaskID: "merge",
		Command: []string{"merge-runner", "run", "--job", "env:DATASURFACE_JOB_SPEC"},
		RunArgs: true, JobFile: job, Env: e.vars, Secrets: e.secrets,
		PriorityWeight: s.Priority, TimeoutMinutes: timeout, PodName: podName(d.DagID, "merge"),
	}
	for _, st := range s.Tables {
		if st.Live {
			merge.Outlets = append(merge.Outlets, tableAsset(p, s.Datastore.Name, model.LiveTable(st.Dataset.Name)))
		}
		if st.Forensic {
			merge.Outlets = append(merge.Outlets, tableAsset(p, s.Datastore.Name, model.HistoryTable(st.Dataset.Name)))
		}
	}
	d.Tasks = []Task{inputs, transform, merge}
	d.Edges = []Edge{{From: "inputs", To: "transform"}, {From: "transform", To: "merge"}}
	return d, nil
}

// transformerEnv is what the transformer's container gets: the catalog and
// warehouse with the platform's READ-ONLY logins (never the read-write ones
// the merge-runner uses), the landing store it writes its run folder to
// (DATASURFACE_LANDING_S3_*, with the landing credential), and its own
// credentials by reference as DATASURFACE_CREDENTIAL_<NAME>_USER and
// _PASSWORD (<NAME> the reference upper-cased; a token is the password).
func (r *renderer) transformerEnv(p *model.Platform, t *model.TransformerRun) (runtimeEnv, error) {
	ai := p.AirflowIceberg
	var e runtimeEnv
	if c := r.container(nil, ai.Iceberg.Warehouse.Container.Name); c != nil && c.ObjectStorage != nil {
		e.s3("DATASURFACE_S3", c)
	}
	cat := ai.Iceberg.Catalog
	switch cat.Kind {
	case "sql":
		if c := r.container(nil, cat.Container.Name); c != nil && c.Postgres != nil {
			e.postgres("DATASURFACE_CATALOG_URI", c)
		}
	case "rest":
		e.add("DATASURFACE_CATALOG_URI", cat.URL)
	}
	e.add("DATASURFACE_WAREHOUSE", warehouseURL(ai))
	for _, ro := range []struct{ prefix, field, ro, rw string }{
		{"DATASURFACE_CATALOG", "iceberg.catalog", cat.ReadOnlyCredential.Name, cat.Credential.Name},
		{"DATASURFACE_S3", "iceberg.warehouse", ai.Iceberg.Warehouse.ReadOnlyCredential.Name, ai.Iceberg.Warehouse.Credential.Name},
	} {
		if ro.ro == "" || ro.ro == ro.rw {
			return e, fmt.Errorf("transformer %s: platform %s has no airflow_iceberg.%s.read_only_credential apart from its read-write credential; transformers get read-only access only (lint: platform-transformer-credential)", t.Name(), p.Name, ro.field)
		}
		e.ecosystemSecret(r, ro.prefix, ro.ro)
	}
	if c := r.container(nil, ai.Landing.Container.Name); c != nil && c.ObjectStorage != nil {
		e.s3("DATASURFACE_LANDING_S3", c)
	}
	e.ecosystemSecret(r, "DATASURFACE_LANDING_S3", ai.Landing.Credential.Name)
	for _, ref := range t.Transformer.Credentials {
		c, err := r.teamCredential(t.Workspace.Team, ref.Name)
		if err != nil {
			return e, fmt.Errorf("transformer %s: %w", t.Name(), err)
		}
		e.secret("DATASURFACE_CREDENTIAL_"+strings.ToUpper(ref.Name), c)
	}
	out := e.sourced(r, nil, false)
	return out, out.err
}

// transformerDoc is the transformer DAG's doc_md.
func transformerDoc(p *model.Platform, t *model.TransformerRun) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Transformer %s on %s\n\n", t.Name(), p.Name)
	if doc := strings.TrimSpace(t.Transformer.Documentation); doc != "" {
		b.WriteString(doc + "\n\n")
	}
	fmt.Fprintf(&b, "Runs image `%s` of workspace **%s** (team **%s**) and merges its output into datastore **%s**.\n\nReads:\n", t.Transformer.Image, t.Workspace.Name, t.Workspace.Team.Name, t.Output.Datastore.Name)
	for _, in := range t.Inputs {
		fmt.Fprintf(&b, "- %s (%s.%s)\n", in.Sink, in.Datastore.Name, in.Table())
	}
	b.WriteString("\nWrites:\n")
	for _, st := range t.Output.Tables {
		kinds := []string{}
		if st.Live {
			kinds = append(kinds, "live")
		}
		if st.Forensic {
			kinds = append(kinds, "history")
		}
		fmt.Fprintf(&b, "- **%s** (%s)\n", st.Dataset.Name, strings.Join(kinds, " and "))
	}
	fmt.Fprintf(&b, "\nServes: %s.\n", strings.Join(t.Output.Workspaces, ", "))
	return b.String()
}
