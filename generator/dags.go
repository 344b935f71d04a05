package generator

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/model"
)

// EnvVar is a plain (non-secret) environment variable of the merge-runner.
type EnvVar struct{ Name, Value string }

// SecretRef makes a secret reach the merge-runner by reference: from the
// Airflow connection named after the credential and its region (docker), or
// from the Kubernetes secret of that name (kubernetes). Never its value.
type SecretRef struct {
	Env        string // the variable the merge-runner reads
	Connection string // Airflow connection id: the credential's run-time name
	Field      string // login or password
	Secret     string // Kubernetes secret name: the run-time name with '-' for '_'
	Key        string // key in the Kubernetes secret: username or password
}

// runtimeEnv is what every merge-runner task of a platform gets.
type runtimeEnv struct {
	vars    []EnvVar
	secrets []SecretRef
	// err is the first setting that could not be rendered (an unresolved
	// credential, a value lint would refuse); the DAGs are not rendered.
	err error
}

func (e *runtimeEnv) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

// environment derives the merge-runner's endpoints (plain) and credentials
// (by reference) from the platform's containers.
func (r *renderer) environment(p *model.Platform) runtimeEnv {
	ai := p.AirflowIceberg
	var e runtimeEnv
	if c := r.container(nil, ai.Iceberg.Warehouse.Container.Name); c != nil && c.ObjectStorage != nil {
		e.s3("DATASURFACE_S3", c)
	}
	e.ecosystemSecret(r, "DATASURFACE_S3", ai.Iceberg.Warehouse.Credential.Name)
	if lc := ai.Landing.Container.Name; lc != ai.Iceberg.Warehouse.Container.Name {
		if c := r.container(nil, lc); c != nil && c.ObjectStorage != nil {
			e.s3("DATASURFACE_LANDING_S3", c)
		}
	}
	if ai.Landing.Credential.Name != ai.Iceberg.Warehouse.Credential.Name {
		e.ecosystemSecret(r, "DATASURFACE_LANDING_S3", ai.Landing.Credential.Name)
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
	e.ecosystemSecret(r, "DATASURFACE_CATALOG", cat.Credential.Name)
	w := ai.Iceberg.Warehouse
	if err := model.CheckBucket(w.Bucket); err != nil {
		e.fail(fmt.Errorf("warehouse bucket %q %v", w.Bucket, err))
	}
	if w.Prefix != "" {
		if err := model.CheckKeyPrefix(w.Prefix); err != nil {
			e.fail(fmt.Errorf("warehouse prefix %q %v", w.Prefix, err))
		}
	}
	e.add("DATASURFACE_WAREHOUSE", warehouseURL(ai))
	return e
}

func (e *runtimeEnv) add(name, value string) {
	if value != "" {
		e.vars = append(e.vars, EnvVar{name, value})
	}
}

func (e *runtimeEnv) s3(prefix string, c *model.Container) {
	o := c.ObjectStorage
	if err := checkObjectStorage(o); err != nil {
		e.fail(fmt.Errorf("container %s: %w", c.Name, err))
		return
	}
	e.add(prefix+"_ENDPOINT", o.Endpoint.Value)
	e.add(prefix+"_REGION", o.Region.Value)
	if o.PathStyle {
		e.add(prefix+"_PATH_STYLE", "true")
	}
}

func (e *runtimeEnv) postgres(name string, c *model.Container) {
	if err := checkPostgres(c.Postgres); err != nil {
		e.fail(fmt.Errorf("container %s: %w", c.Name, err))
		return
	}
	e.add(name, postgresURL(c.Postgres))
}

// ecosystemSecret adds <prefix>_USER and <prefix>_PASSWORD from one of the
// ecosystem's credentials (a platform setting names it).
func (e *runtimeEnv) ecosystemSecret(r *renderer, prefix, name string) {
	if name == "" {
		return
	}
	c, err := r.ecosystemCredential(name)
	if err != nil {
		e.fail(err)
		return
	}
	e.secret(prefix, c)
}

// secret adds <prefix>_USER and <prefix>_PASSWORD from a credential, by its
// run-time names.
func (e *runtimeEnv) secret(prefix string, c model.ScopedCredential) {
	conn, k8s := c.RuntimeName(), c.KubernetesSecretName()
	e.secrets = append(e.secrets,
		SecretRef{Env: prefix + "_USER", Connection: conn, Field: "login", Secret: k8s, Key: "username"},
		SecretRef{Env: prefix + "_PASSWORD", Connection: conn, Field: "password", Secret: k8s, Key: "password"})
}

// ecosystemCredential resolves a platform setting's credential.
func (r *renderer) ecosystemCredential(name string) (model.ScopedCredential, error) {
	c, ok := r.m.EcosystemCredential(name)
	if !ok {
		return c, fmt.Errorf("credential %q is not one of the ecosystem's", name)
	}
	if err := c.CheckRuntimeName(); err != nil {
		return c, fmt.Errorf("credential %q of %s: %w", name, c.Region(), err)
	}
	return c, nil
}

// teamCredential resolves the credential a team's capture names: the team's
// own, or one its zone or the ecosystem grants it (as lint resolves it).
func (r *renderer) teamCredential(t *model.Team, name string) (model.ScopedCredential, error) {
	c, ok, _ := r.m.TeamCredential(t, name)
	if !ok {
		return c, fmt.Errorf("credential %q is neither team %s's nor granted to it", name, t.Name)
	}
	if err := c.CheckRuntimeName(); err != nil {
		return c, fmt.Errorf("credential %q of %s: %w", name, c.Region(), err)
	}
	return c, nil
}

// postgresURL is the merge-runner's URI of a database (an IPv6 host in brackets).
func postgresURL(pg *model.PostgresContainer) string {
	return "postgresql://" + net.JoinHostPort(pg.Host.Value, strconv.Itoa(pg.EffectivePort())) + "/" + pg.Database.Value
}

// with returns a copy of the environment with a stream's source added when
// its task reads the source (snapshots and watermarks; a Debezium stream's
// merge reads only the landing).
func (e runtimeEnv) with(r *renderer, ds *model.Datastore) runtimeEnv {
	return e.sourced(r, ds, ds != nil && ds.Capture != nil && ds.Capture.Kind != model.CaptureDebezium)
}

// withSource returns a copy of the environment with the stream's source
// added whatever its capture: an embedded capture task reads it.
func (e runtimeEnv) withSource(r *renderer, ds *model.Datastore) runtimeEnv {
	return e.sourced(r, ds, ds != nil && ds.Capture != nil)
}

func (e runtimeEnv) sourced(r *renderer, ds *model.Datastore, source bool) runtimeEnv {
	out := runtimeEnv{vars: append([]EnvVar(nil), e.vars...), secrets: append([]SecretRef(nil), e.secrets...), err: e.err}
	if source {
		c := r.container(ds.Team, ds.Capture.Container.Name)
		if c != nil && c.Postgres != nil {
			out.postgres("DATASURFACE_SOURCE_URI", c)
		}
		if cred, err := r.teamCredential(ds.Team, ds.Capture.Credential.Name); err != nil {
			out.fail(fmt.Errorf("datastore %s: %w", ds.Name, err))
		} else {
			out.secret("DATASURFACE_SOURCE", cred)
		}
	}
	sort.Slice(out.vars, func(i, j int) bool { return out.vars[i].Name < out.vars[j].Name })
	sort.Slice(out.secrets, func(i, j int) bool { return out.secrets[i].Env < out.secrets[j].Env })
	return out
}

// Task is one merge-runner task of a DAG.
type Task struct {
	// Var, when set, is the Python variable the task is assigned to, for
	// the DAG's Edges; a generator constant, never model text.
	Var    string
	TaskID string
	// Image overrides the DAG's (the merge-runner's): a transformer's own.
	Image   string
	Command []string // program and arguments
	// RunArgs appends "--run <run id>" to the command when the task runs.
	RunArgs bool
	// RunDir, when set, is the transformer's output location: the task gets
	// DATASURFACE_RUN_ID and DATASURFACE_RUN_DIR=<RunDir>/<run id>.
	RunDir         string
	PodName        string // kubernetes: a valid pod name
	JobFile        string // the job spec, relative to the platform folder
	Env            []EnvVar
	Secrets        []SecretRef
	Outlets        []Asset
	PriorityWeight int
	TimeoutMinutes int
	// FinalExit, when set, is the exit code the task fails on without
	// retries, instead of BAD_INPUT_EXIT: a template constant's name.
	FinalExit string
}

// Asset is an Iceberg table as an Airflow asset (dataset in Airflow 2).
type Asset struct{ Name, URI string }

// Edge orders two tasks of a DAG by their Var: From runs before To.
type Edge struct{ From, To string }

// DAG is what dag.py.tmpl renders. For Airflow 3 it imports DAG, Asset and
// BaseHook from the Task SDK, airflow.sdk, as Airflow 3.1's Task SDK (1.1)
// documents them (https://airflow.apache.org/docs/task-sdk/1.1.1/genindex.html:
// "BaseHook (class in airflow.sdk)", absent from 1.0, Airflow 3.0; the
// common.compat provider's airflow.providers.common.compat.lazy_compat
// tries airflow.sdk first for all three),
// the operators from their providers' documented modules
// (airflow.providers.docker.operators.docker.DockerOperator,
// airflow.providers.cncf.kubernetes.operators.pod.KubernetesPodOperator),
// and AirflowFailException and AirflowSkipException from
// airflow.exceptions, where Airflow 3.1 documents them
// (https://airflow.apache.org/docs/apache-airflow/3.1.0/_api/airflow/exceptions/index.html;
// airflow.sdk.exceptions has them only from 3.1, apache/airflow#54505).
// Airflow 2 keeps its own paths (airflow.DAG, airflow.datasets.Dataset,
// airflow.hooks.base.BaseHook).
type DAG struct {
	Header         string
	AirflowVersion int
	Operator       string // docker or kubernetes
	Namespace      string
	Image          string
	DagID          string
	Schedule       string // a cron expression, or "" for no schedule (external trigger)
	// ScheduleAssets, when set, schedule the DAG on these assets (a
	// transformer's input tables): it runs when any of them is updated.
	ScheduleAssets []Asset
	// RunScoped DAGs have tasks that take the Airflow run id at run time
	// (RunArgs, RunDir): from the task's context, never through Jinja.
	RunScoped    bool
	Tags         []string
	DocMD        string
	Owner        string
	Pool         string
	Retries      int
	BadInputExit int
	// ReconcileExit is set when a task reconciles: reconcile's exit code
	// for tables that differ, rendered as RECONCILE_DIFFERS_EXIT.
	ReconcileExit int
	// DockerNetwork is the docker operator's network_mode ("" leaves
	// Docker's default): DockerOperator(network_mode=...) of
	// airflow.providers.docker.operators.docker, "bridge", "host", "none",
	// "container:<name|id>" or a network's name.
	DockerNetwork string
	Tasks         []Task
	Edges         []Edge
}

// retries of a merge task; the delay grows exponentially up to 30 minutes.
const mergeRetries = 3

// timeoutMinutes bounds a run by the latency it serves.
func timeoutMinutes(l model.Latency) int {
	switch l {
	case model.LatencySeconds, model.LatencyMinutes:
		return 30
	case model.LatencyHours:
		return 120
	}
	return 360
}

func (r *renderer) baseDAG(p *model.Platform) DAG {
	ai := p.AirflowIceberg
	version := ai.Airflow.Version
	if version == 0 {
		version = 3
	}
	op := string(ai.Airflow.Operator)
	if op == "" {
		op = "docker"
	}
	return DAG{
		Header: r.header(), AirflowVersion: version, Operator: op, Namespace: ai.Airflow.Namespace,
		Image: ai.Images.MergeRunner, Pool: "iceberg_" + ai.Iceberg.Catalog.Name,
		Retries: mergeRetries, BadInputExit: jobspec.BadInputExitCode,
		DockerNetwork: ai.Airflow.DockerNetwork,
	}
}

func (r *renderer) streamDAG(p *model.Platform, s *model.Stream, env runtimeEnv) (DAG, error) {
	ds := s.Datastore
	d := r.baseDAG(p)
	d.DagID = p.Name + "__" + s.Name
	if ds.Capture.Trigger.Cron != "" {
		d.Schedule = ds.Capture.Trigger.Cron
	}
	d.Owner = ds.Team.Name
	d.Tags = []string{"datasurface", "platform:" + p.Name, "datastore:" + ds.Name, "team:" + ds.Team.Name, "capture:" + string(ds.Capture.Kind)}
	for _, w := range s.Workspaces {
		d.Tags = append(d.Tags, "workspace:"+w)
	}
	d.DocMD = streamDoc(p, s)
	e := env.with(r, ds)
	if e.err != nil {
		return DAG{}, e.err
	}
	t := Task{
		TaskID:         "merge",
		Command:        []string{"merge-runner", "run", "--job", "env:DATASURFACE_JOB_SPEC"},
		JobFile:        "jobs/" + s.Name + ".json",
		Env:            e.vars,
		Secrets:        e.secrets,
		PriorityWeight: s.Priority,
		TimeoutMinutes: timeoutMinutes(s.Latency),
	}
	ns := ds.Name
	for _, st := range s.Tables {
		if st.Live {
			t.Outlets = append(t.Outlets, tableAsset(p, ns, model.LiveTable(st.Dataset.Name)))
		}
		if st.Forensic {
			t.Outlets = append(t.Outlets, tableAsset(p, ns, model.HistoryTable(st.Dataset.Name)))
		}
	}
	t.PodName = podName(d.DagID, t.TaskID)
	d.Tasks = []Task{t}
	if ds.Capture.Kind == model.CaptureDebezium && p.AirflowIceberg.EmbeddedCDC() {
		// The capture lands the slot's changes up to now, then the merge
		// applies what has landed: the same operator, the source's
		// endpoint and credential as a snapshot task gets them.
		ce := env.withSource(r, ds)
		if ce.err != nil {
			return DAG{}, ce.err
		}
		c := Task{
			Var:            "capture",
			TaskID:         "capture",
			Command:        []string{"merge-runner", "capture", "--job", "env:DATASURFACE_JOB_SPEC"},
			JobFile:        t.JobFile,
			Env:            ce.vars,
			Secrets:        ce.secrets,
			PriorityWeight: s.Priority,
			TimeoutMinutes: t.TimeoutMinutes,
			PodName:        podName(d.DagID, "capture"),
		}
		t.Var = "merge"
		d.Tasks = []Task{c, t}
		d.Edges = []Edge{{From: c.Var, To: t.Var}}
	}
	// Groups migrating off a legacy platform compare each merge's result
	// with the legacy table: merge >> reconcile_<dataset>.
	rs, err := r.reconcileTasks(p, s, env, t)
	if err != nil {
		return DAG{}, err
	}
	if len(rs) > 0 {
		d.ReconcileExit = jobspec.ReconcileDiffersExitCode
		t.Var = "merge"
		d.Tasks[len(d.Tasks)-1] = t
		for i := range rs {
			rs[i].PodName = podName(d.DagID, rs[i].TaskID)
			d.Tasks = append(d.Tasks, rs[i])
			d.Edges = append(d.Edges, Edge{From: t.Var, To: rs[i].Var})
		}
		d.DocMD += migrationDoc(r.reconcileTargets(p, s), rs)
	}
	return d, nil
}

func tableAsset(p *model.Platform, namespace, table string) Asset {
	cat := p.AirflowIceberg.Iceberg.Catalog.Name
	return Asset{Name: cat + "." + namespace + "." + table, URI: "iceberg://" + cat + "/" + namespace + "/" + table}
}

// streamDoc is the DAG's doc_md: what it ingests and for whom, from the model.
func streamDoc(p *model.Platform, s *model.Stream) string {
	ds := s.Datastore
	var b strings.Builder
	fmt.Fprintf(&b, "# %s on %s\n\n", s.Name, p.Name)
	if ds.Documentation != "" {
		b.WriteString(strings.TrimSpace(ds.Documentation) + "\n\n")
	}
	fmt.Fprintf(&b, "Datastore **%s** of team **%s**, captured by %s.\n\n", ds.Name, ds.Team.Name, ds.Capture.Kind)
	for _, st := range s.Tables {
		kinds := []string{}
		if st.Live {
			kinds = append(kinds, "live")
		}
		if st.Forensic {
			kinds = append(kinds, "history")
		}
		fmt.Fprintf(&b, "- **%s** (%s)", st.Dataset.Name, strings.Join(kinds, " and "))
		if doc := strings.TrimSpace(st.Dataset.Documentation); doc != "" {
			b.WriteString(": " + doc)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\nServes: %s.\n", strings.Join(s.Workspaces, ", "))
	return b.String()
}

// maintenanceDAG compacts and expires snapshots of every table of a platform, daily.
func (r *renderer) maintenanceDAG(pg *model.PlatformGraph, env runtimeEnv) DAG {
	p := pg.Platform
	d := r.baseDAG(p)
	d.DagID = p.Name + "__maintenance"
	d.Schedule = "@daily"
	// No team owns the maintenance DAG: the platform's default owner does.
	d.Owner = p.AirflowIceberg.Airflow.Owner
	if d.Owner == "" {
		d.Owner = "datasurface"
	}
	d.Tags = []string{"datasurface", "platform:" + p.Name, "maintenance"}
	d.DocMD = fmt.Sprintf("# Maintenance of %s\n\nCompacts data files, folds equality deletes and expires old snapshots of every Iceberg table the platform maintains, one task per stream.\n", p.Name)
	for _, s := range pg.Streams {
		e := env.with(r, nil) // maintenance touches the tables only, not the source
		d.Tasks = append(d.Tasks, Task{
			TaskID:         "maintain_" + s.Name,
			Command:        []string{"merge-runner", "maintain", "--job", "env:DATASURFACE_JOB_SPEC"},
			JobFile:        "jobs/" + s.Name + ".json",
			Env:            e.vars,
			Secrets:        e.secrets,
			PriorityWeight: 1,
			TimeoutMinutes: 120,
			PodName:        podName(d.DagID, "maintain_"+s.Name),
		})
	}
	return d
}

// podName makes a Kubernetes pod name (DNS-1123: lower case, digits and '-',
// at most 63 characters) from a DAG and task; a long one keeps a hash.
func podName(dagID, taskID string) string {
	n := strings.ReplaceAll(sanitize(dagID+"-"+taskID), "_", "-")
	if len(n) <= 63 {
		return n
	}
	sum := sha256.Sum256([]byte(n))
	return strings.TrimRight(n[:54], "-") + "-" + hex.EncodeToString(sum[:4])
}
