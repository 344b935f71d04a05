package generator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/generator"
	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/model"
	"github.com/datasurface/datasurface/model/lint"
)

// dagcheckScript is the stdlib-only checker that describes a DAG file from its
// syntax tree (see its docstring), relative to this package.
const dagcheckScript = "dagcheck/dagcheck.py"

// lookPython finds python3. The DAG checks never skip in CI: without python3
// and with CI=true the test fails; elsewhere it reports false so the caller
// can skip.
func lookPython(t testing.TB) (string, bool) {
	t.Helper()
	pythonOnce.Do(func() {
		p, err := exec.LookPath("python3")
		if err != nil {
			pythonErr = err
			return
		}
		// Resolve shims (pyenv, asdf) once: they cost seconds per start.
		out, err := exec.Command(p, "-c", "import sys; print(sys.executable)").Output()
		if exe := strings.TrimSpace(string(out)); err == nil && exe != "" {
			p = exe
		}
		pythonPath = p
	})
	if pythonErr == nil {
		return pythonPath, true
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("python3 is required to check the generated DAGs (CI=true): %v", pythonErr)
	}
	return "", false
}

var (
	pythonOnce sync.Once
	pythonPath string
	pythonErr  error
)

// requirePython is lookPython for tests that need python3 for everything.
func requirePython(t testing.TB) string {
	t.Helper()
	p, ok := lookPython(t)
	if !ok {
		t.Skip("python3 not found; the DAG checks run in CI, where it is required")
	}
	return p
}

// dagDesc is dagcheck's description of one DAG file.
type dagDesc struct {
	File           string       `json:"file"`
	AirflowVersion int          `json:"airflow_version"`
	Operator       string       `json:"operator"`
	TemplateFields []string     `json:"template_fields"`
	BadInputExit   int          `json:"bad_input_exit"`
	DagID          string       `json:"dag_id"`
	Schedule       *string      `json:"schedule"`
	ScheduleAssets []outletDesc `json:"schedule_assets"`
	StartDate      string       `json:"start_date"`
	Catchup        *bool        `json:"catchup"`
	MaxActiveRuns  *int         `json:"max_active_runs"`
	Tags           []string     `json:"tags"`
	DocMD          *string      `json:"doc_md"`
	Owner          *string      `json:"owner"`
	Retries        *int         `json:"retries"`
	Tasks          []taskDesc   `json:"tasks"`
	Edges          [][2]string  `json:"edges"`
}

// taskDesc is one MergeRunner task of a DAG.
type taskDesc struct {
	TaskID                  string            `json:"task_id"`
	Image                   string            `json:"image"`
	Command                 []string          `json:"command"`
	Cmds                    []string          `json:"cmds"`
	Arguments               []string          `json:"arguments"`
	Namespace               string            `json:"namespace"`
	PodName                 string            `json:"pod_name"`
	Pool                    string            `json:"pool"`
	PriorityWeight          int               `json:"priority_weight"`
	ExecutionTimeoutMinutes float64           `json:"execution_timeout_minutes"`
	Env                     map[string]string `json:"env"`
	EnvKeys                 []string          `json:"env_keys"`
	JobSpec                 *string           `json:"job_spec"`
	Secrets                 []secretDesc      `json:"secrets"`
	Outlets                 []outletDesc      `json:"outlets"`
	NetworkMode             *string           `json:"network_mode"`
	RunArgs                 bool              `json:"run_args"`
	RunDir                  *string           `json:"run_dir"`
	FinalExit               *int              `json:"final_exit"`
}

// secretDesc is a secret by reference: an Airflow connection's field (docker)
// or a Kubernetes secret's key (kubernetes).
type secretDesc struct {
	Env        string `json:"env"`
	Connection string `json:"connection"`
	Field      string `json:"field"`
	Secret     string `json:"secret"`
	Key        string `json:"key"`
}

// outletDesc is an asset (Airflow 3, name and uri) or dataset (Airflow 2, uri).
type outletDesc struct {
	Name *string `json:"name"`
	URI  string  `json:"uri"`
}

// dagFiles are the .py files of a tree.
func dagFiles(tree *generator.Tree) map[string][]byte {
	out := map[string][]byte{}
	for p, b := range tree.Files {
		if strings.HasSuffix(p, ".py") {
			out[p] = b
		}
	}
	return out
}

// runDagcheck writes files (tree paths to contents) to a temporary folder and
// runs the checker once over all of them. It returns the descriptions by tree
// path, or the checker's stderr and error.
func runDagcheck(t testing.TB, py string, files map[string][]byte) (map[string]dagDesc, string, error) {
	t.Helper()
	dir := t.TempDir()
	args := []string{dagcheckScript}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		full := filepath.Join(dir, filepath.FromSlash(p))
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, files[p], 0o644))
		args = append(args, full)
	}
	cmd := exec.Command(py, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, stderr.String(), err
	}
	var descs []dagDesc
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &descs), "dagcheck output")
	require.Len(t, descs, len(paths))
	out := map[string]dagDesc{}
	for i, p := range paths {
		out[p] = descs[i]
	}
	return out, stderr.String(), nil
}

// loadExample loads and lints an example model.
func loadExample(t testing.TB, name string) *model.Model {
	t.Helper()
	m, errs, err := model.LoadDir(context.Background(), filepath.Join("../examples", name))
	require.NoError(t, err)
	require.Empty(t, errs)
	n, _, _ := lint.Count(lint.Lint(m))
	require.Zero(t, n, "example %s has lint errors", name)
	m.Source = "examples/" + name
	return m
}

// setAirflow makes every airflow-iceberg platform of m run the given Airflow
// version and operator.
func setAirflow(m *model.Model, version int, operator string) {
	for i := range m.Ecosystem.Platforms {
		if ai := m.Ecosystem.Platforms[i].AirflowIceberg; ai != nil {
			ai.Airflow.Version = version
			ai.Airflow.Operator = model.AirflowOperator(operator)
			if operator == "kubernetes" && ai.Airflow.Namespace == "" {
				ai.Airflow.Namespace = "datasurface"
			}
		}
	}
}

// datastore finds a datastore of m by name.
func datastore(m *model.Model, name string) *model.Datastore {
	for _, z := range m.Zones {
		for _, t := range z.Defs {
			for _, ds := range t.Datastores {
				if ds.Name == name {
					return ds
				}
			}
		}
	}
	return nil
}

// hostileText is model documentation that tries to become code in every
// language the generator writes.
const hostileText = "Ends \" and ' and \"\"\" and ''' and \\\" here\n" +
	"\"\"\")\nimport os\nos.system(\"id\")  # '''\r\n" +
	"{{ cycler.__init__.__globals__.os.popen('id').read() }} {% for x in range(3) %}{{ x }}{% endfor %}\n" +
	"'); DROP TABLE customers; -- */ /* \u2028 \x00 NUL \xff bad UTF-8 \U0001F600 ${file:/etc/passwd:x}\n" +
	"x.md"

// pyText is what Python() makes of text: each byte of invalid UTF-8 becomes U+FFFD.
func pyText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// dagCase is a model whose DAGs are checked against it.
type dagCase struct {
	name string
	m    *model.Model
	// text, when set, is the free text of every documentation field.
	text string
}

func dagCases(t *testing.T) []dagCase {
	var cases []dagCase
	for _, ex := range examples(t) {
		cases = append(cases, dagCase{name: ex, m: loadExample(t, ex)})
	}
	// Every Airflow version and operator, whatever the examples use, and an
	// externally triggered store (no schedule).
	for _, v := range []struct {
		version  int
		operator string
	}{{2, "docker"}, {2, "kubernetes"}, {3, "docker"}, {3, "kubernetes"}} {
		m := loadExample(t, "customer-cdc")
		setAirflow(m, v.version, v.operator)
		datastore(m, "product_catalog").Capture.Trigger = model.Trigger{External: true}
		cases = append(cases, dagCase{name: "customer-cdc/airflow" + strconv.Itoa(v.version) + "-" + v.operator, m: m})
	}
	// Embedded CDC on Airflow 2 in pods: capture before merge there too.
	qs := loadExample(t, "quickstart")
	setAirflow(qs, 2, "kubernetes")
	for i := range qs.Ecosystem.Platforms {
		if ai := qs.Ecosystem.Platforms[i].AirflowIceberg; ai != nil {
			ai.Airflow.DockerNetwork = "" // the docker operator's setting
		}
	}
	cases = append(cases, dagCase{name: "quickstart/airflow2-kubernetes", m: qs})
	// A migration on Airflow 2 in pods, and one switched (no reconcile).
	for _, status := range []model.MigrationStatus{model.MigrationVerified, model.MigrationSwitched} {
		m := loadExample(t, "enterprise")
		setAirflow(m, 2, "kubernetes")
		n := 0
		for _, z := range m.Zones {
			for _, tm := range z.Defs {
				for _, w := range tm.Workspaces {
					for gi := range w.Groups {
						if mg := w.Groups[gi].Migration; mg != nil {
							mg.Status = status
							n++
						}
					}
				}
			}
		}
		require.Positive(t, n, "examples/enterprise has no migration")
		cases = append(cases, dagCase{name: "enterprise/migration-" + string(status), m: m})
	}
	for _, v := range []int{2, 3} {
		m := loadExample(t, "customer-cdc")
		setAirflow(m, v, map[int]string{2: "kubernetes", 3: "docker"}[v])
		setFreeText(m, hostileText)
		cases = append(cases, dagCase{name: "hostile/airflow" + strconv.Itoa(v), m: m, text: hostileText})
	}
	return cases
}

// TestDAGsDescribeTheModel renders every example (and variants covering
// Airflow 2 and 3, docker and kubernetes, and hostile documentation), has
// dagcheck describe every DAG file, and compares the description with the
// model and its platform graph.
func TestDAGsDescribeTheModel(t *testing.T) {
	py := requirePython(t)
	cases := dagCases(t)
	// One checker run for every DAG of every case: case i's files are under i/.
	trees := make([]*generator.Tree, len(cases))
	all := map[string][]byte{}
	for i, c := range cases {
		tree, err := generator.Generate(context.Background(), c.m, generator.Options{Version: "test"})
		require.NoError(t, err, c.name)
		trees[i] = tree
		for p, b := range dagFiles(tree) {
			all[strconv.Itoa(i)+"/"+p] = b
		}
	}
	descs, stderr, err := runDagcheck(t, py, all)
	require.NoError(t, err, "dagcheck refused a generated DAG:\n%s", stderr)
	covered := map[string]bool{}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mine := map[string]dagDesc{}
			for p, d := range descs {
				if rest, ok := strings.CutPrefix(p, strconv.Itoa(i)+"/"); ok {
					mine[rest] = d
				}
			}
			assertDAGs(t, c, trees[i], mine, covered)
		})
	}
	for _, want := range []string{"airflow2/docker", "airflow2/kubernetes", "airflow3/docker", "airflow3/kubernetes", "schedule:none", "schedule:cron", "source-secrets", "hostile", "network_mode", "capture->merge", "transformer", "schedule:assets", "merge->reconcile", "reconcile-tolerances", "migration:switched"} {
		assert.True(t, covered[want], "no DAG covered %s", want)
	}
}

var userinfoURL = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^/\s"@]*@`)

func assertDAGs(t *testing.T, c dagCase, tree *generator.Tree, descs map[string]dagDesc, covered map[string]bool) {
	m := c.m
	covered["migration:switched"] = covered["migration:switched"] || switchedMigrations(m)
	g, err := model.BuildGraph(m)
	require.NoError(t, err)
	creds := runtimeNames(m)
	weights := map[string]int{}
	for _, z := range m.Zones {
		for _, tm := range z.Defs {
			for _, w := range tm.Workspaces {
				weights[w.Name] = w.Priority.Weight()
			}
		}
	}
	checked := map[string]bool{}
	for _, pg := range g.Platforms {
		p := pg.Platform
		ai := p.AirflowIceberg
		version, operator := ai.Airflow.Version, string(ai.Airflow.Operator)
		if version == 0 {
			version = 3
		}
		if operator == "" {
			operator = "docker"
		}
		dir := "platforms/" + p.Name + "/"
		pool := "iceberg_" + ai.Iceberg.Catalog.Name
		common := func(t *testing.T, path string, d dagDesc) {
			checked[path] = true
			covered["airflow"+strconv.Itoa(d.AirflowVersion)+"/"+d.Operator] = true
			assert.Equal(t, version, d.AirflowVersion, "airflow version")
			assert.Equal(t, operator, d.Operator, "operator")
			assert.Empty(t, d.TemplateFields, "MergeRunner.template_fields must be empty: no model value goes through Jinja")
			assert.Equal(t, jobspec.BadInputExitCode, d.BadInputExit)
			if assert.NotNil(t, d.Catchup, "catchup") {
				assert.False(t, *d.Catchup, "catchup")
			}
			if assert.NotNil(t, d.MaxActiveRuns, "max_active_runs") {
				assert.Equal(t, 1, *d.MaxActiveRuns, "max_active_runs")
			}
			if assert.NotNil(t, d.Retries, "retries") {
				assert.Positive(t, *d.Retries, "retries")
			}
			assert.NotNil(t, d.DocMD, "doc_md")
			assert.Contains(t, d.Tags, "datasurface")
			assert.Contains(t, d.Tags, "platform:"+p.Name)
			for _, task := range d.Tasks {
				// The docker operator joins the platform's network when it names
				// one (DockerOperator network_mode); Docker's default otherwise.
				if n := ai.Airflow.DockerNetwork; n != "" && operator == "docker" {
					if assert.NotNil(t, task.NetworkMode, "%s network_mode", task.TaskID) {
						assert.Equal(t, n, *task.NetworkMode, "%s network_mode", task.TaskID)
						covered["network_mode"] = true
					}
				} else {
					assert.Nil(t, task.NetworkMode, "%s network_mode", task.TaskID)
				}
				if task.TaskID != "transform" { // a transformer's own image: assertTransformerDAG
					assert.Equal(t, ai.Images.MergeRunner, task.Image, "%s image", task.TaskID)
				}
				assert.Equal(t, pool, task.Pool, "%s pool", task.TaskID)
				assert.Positive(t, task.ExecutionTimeoutMinutes, "%s execution_timeout", task.TaskID)
				assert.LessOrEqual(t, task.ExecutionTimeoutMinutes, 24*60.0, "%s execution_timeout", task.TaskID)
				if operator == "kubernetes" {
					assert.Equal(t, ai.Airflow.Namespace, task.Namespace)
					assert.Regexp(t, `^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`, task.PodName, "pod name is a DNS-1123 label")
					assert.Equal(t, task.Command, append(append([]string(nil), task.Cmds...), task.Arguments...))
				}
				if assert.NotNil(t, task.JobSpec, "%s job spec", task.TaskID) {
					b, ok := tree.Files[dir+*task.JobSpec]
					if assert.True(t, ok, "%s: job spec %s is not in the tree", task.TaskID, *task.JobSpec) {
						_, err := jobspec.Parse(b)
						assert.NoError(t, err, "%s: job spec %s", task.TaskID, *task.JobSpec)
					}
				}
				assertNoSecretValues(t, task, operator, creds)
			}
			assert.NotRegexp(t, userinfoURL, string(tree.Files[path]), "a URL with credentials in %s", path)
		}

		for _, s := range pg.Streams {
			ds := s.Datastore
			path := dir + "dags/" + p.Name + "__" + s.Name + ".py"
			d, ok := descs[path]
			if !assert.True(t, ok, "no DAG file %s for stream %s", path, s.Name) {
				continue
			}
			t.Run(p.Name+"/"+s.Name, func(t *testing.T) {
				common(t, path, d)
				assert.Equal(t, p.Name+"__"+s.Name, d.DagID)
				for _, run := range pg.Transformers {
					if run.Output == s {
						assertTransformerDAG(t, m, p, run, tree, d, covered)
						return
					}
				}
				if ds.Capture.Trigger.External || ds.Capture.Trigger.Cron == "" {
					assert.Nil(t, d.Schedule, "an externally triggered store has no schedule")
					covered["schedule:none"] = true
				} else if assert.NotNil(t, d.Schedule) {
					assert.Equal(t, ds.Capture.Trigger.Cron, *d.Schedule)
					covered["schedule:cron"] = true
				}
				if assert.NotNil(t, d.Owner) {
					assert.Equal(t, ds.Team.Name, *d.Owner)
				}
				assert.Contains(t, d.Tags, "datastore:"+ds.Name)
				for _, w := range s.Workspaces {
					assert.Contains(t, d.Tags, "workspace:"+w)
				}
				d, recs, recEdges := splitReconcile(d)
				assertReconciles(t, m, p, s, operator, d.DocMD, recs, recEdges, covered)
				for _, task := range d.Tasks {
					assert.Nil(t, task.FinalExit, "task %s: only a reconcile fails without retries on its own exit code", task.TaskID)
				}
				embedded := ds.Capture.Kind == model.CaptureDebezium && ai.EmbeddedCDC()
				if embedded {
					// merge-runner capture lands the slot's changes, then the
					// merge applies them: two tasks, capture before merge.
					require.Len(t, d.Tasks, 2)
					c := d.Tasks[0]
					assert.Equal(t, "capture", c.TaskID)
					assert.Equal(t, []string{"merge-runner", "capture", "--job", "env:DATASURFACE_JOB_SPEC"}, c.Command)
					assert.Equal(t, [][2]string{{"capture", "merge"}}, d.Edges, "capture runs before merge")
					if assert.NotNil(t, c.JobSpec) {
						assert.Equal(t, "jobs/"+s.Name+".json", *c.JobSpec)
						if spec, err := jobspec.Parse(tree.Files[dir+*c.JobSpec]); assert.NoError(t, err) && assert.NotNil(t, spec.Source.Debezium.Capture) {
							assert.Equal(t, ds.Capture.Container.Name, spec.Source.Debezium.Capture.Container)
							assert.Equal(t, ds.Capture.Credential.Name, spec.Source.Debezium.Capture.Credential)
						}
					}
					assert.Empty(t, c.Outlets, "the capture writes no table: the merge's outlets say what changes")
					assert.Contains(t, c.EnvKeys, "DATASURFACE_SOURCE_URI", "the capture reads the source database")
					var sourceSecrets []string
					for _, sec := range c.Secrets {
						if strings.HasPrefix(sec.Env, "DATASURFACE_SOURCE_") {
							sourceSecrets = append(sourceSecrets, sec.Env)
							if operator == "docker" {
								assert.Equal(t, captureCredential(t, m, ds), sec.Connection)
							} else {
								assert.Equal(t, strings.ReplaceAll(captureCredential(t, m, ds), "_", "-"), sec.Secret)
							}
						}
					}
					assert.Equal(t, []string{"DATASURFACE_SOURCE_PASSWORD", "DATASURFACE_SOURCE_USER"}, sourceSecrets, "the capture logs in with the store's credential")
					covered["capture->merge"] = true
				} else {
					require.Len(t, d.Tasks, 1)
					assert.Empty(t, d.Edges, "a single task has no dependencies")
				}
				task := d.Tasks[len(d.Tasks)-1]
				assert.Equal(t, "merge", task.TaskID)
				assert.Equal(t, []string{"merge-runner", "run", "--job", "env:DATASURFACE_JOB_SPEC"}, task.Command)
				want := 0
				for _, w := range s.Workspaces {
					want = max(want, weights[w])
				}
				assert.Equal(t, want, task.PriorityWeight, "priority is the highest of the workspaces served")

				// Outlets: exactly the stream's tables, as the job spec names them.
				cat := ai.Iceberg.Catalog.Name
				var outlets []outletDesc
				for _, st := range s.Tables {
					var tables []string
					if st.Live {
						tables = append(tables, model.LiveTable(st.Dataset.Name))
					}
					if st.Forensic {
						tables = append(tables, model.HistoryTable(st.Dataset.Name))
					}
					for _, tb := range tables {
						o := outletDesc{URI: "iceberg://" + cat + "/" + ds.Name + "/" + tb}
						if version == 3 {
							name := cat + "." + ds.Name + "." + tb
							o.Name = &name
						}
						outlets = append(outlets, o)
					}
				}
				assert.Equal(t, outlets, task.Outlets, "outlets")
				if assert.NotNil(t, task.JobSpec) {
					assert.Equal(t, "jobs/"+s.Name+".json", *task.JobSpec)
					if spec, err := jobspec.Parse(tree.Files[dir+*task.JobSpec]); assert.NoError(t, err) {
						assert.Equal(t, p.Name, spec.Platform)
						assert.Equal(t, s.Name, spec.Stream)
						assert.Equal(t, ds.Name, spec.Datastore)
						var specTables []string
						for _, tb := range spec.Tables {
							specTables = append(specTables, "iceberg://"+cat+"/"+spec.Target.Namespace+"/"+tb.Name)
						}
						var uris []string
						for _, o := range task.Outlets {
							uris = append(uris, o.URI)
						}
						assert.Equal(t, specTables, uris, "outlets and job spec tables")
					}
				}
				// A SQL source reads its database with the store's credential; CDC does not.
				sourceSecret := false
				for _, sec := range task.Secrets {
					if strings.HasPrefix(sec.Env, "DATASURFACE_SOURCE_") {
						sourceSecret = true
						if operator == "docker" {
							assert.Equal(t, captureCredential(t, m, ds), sec.Connection)
						} else {
							assert.Equal(t, strings.ReplaceAll(captureCredential(t, m, ds), "_", "-"), sec.Secret)
						}
					}
				}
				assert.Equal(t, ds.Capture.Kind != model.CaptureDebezium, sourceSecret, "source credentials for a %s store", ds.Capture.Kind)
				covered["source-secrets"] = covered["source-secrets"] || sourceSecret

				// The documentation, exactly (invalid UTF-8 shows as U+FFFD).
				if assert.NotNil(t, d.DocMD) {
					if doc := strings.TrimSpace(ds.Documentation); doc != "" {
						assert.Contains(t, *d.DocMD, pyText(doc), "doc_md carries the datastore's documentation")
					}
					for _, st := range s.Tables {
						if doc := strings.TrimSpace(st.Dataset.Documentation); doc != "" {
							assert.Contains(t, *d.DocMD, pyText(doc), "doc_md carries %s's documentation", st.Dataset.Name)
						}
					}
					if c.text != "" {
						assert.Contains(t, *d.DocMD, pyText(strings.TrimSpace(c.text)))
						covered["hostile"] = true
					}
				}
			})
		}

		if len(pg.Streams) == 0 {
			continue
		}
		path := dir + "dags/" + p.Name + "__maintenance.py"
		d, ok := descs[path]
		if !assert.True(t, ok, "no maintenance DAG %s", path) {
			continue
		}
		t.Run(p.Name+"/maintenance", func(t *testing.T) {
			common(t, path, d)
			assert.Equal(t, p.Name+"__maintenance", d.DagID)
			owner := ai.Airflow.Owner
			if owner == "" {
				owner = "datasurface"
			}
			if assert.NotNil(t, d.Owner) {
				assert.Equal(t, owner, *d.Owner, "no team owns maintenance: the platform's default owner does")
			}
			if assert.NotNil(t, d.Schedule) {
				assert.Equal(t, "@daily", *d.Schedule)
			}
			require.Len(t, d.Tasks, len(pg.Streams), "one maintenance task per stream")
			assert.Empty(t, d.Edges, "maintenance tasks are independent")
			for i, s := range pg.Streams {
				task := d.Tasks[i]
				assert.Equal(t, "maintain_"+s.Name, task.TaskID)
				assert.Equal(t, []string{"merge-runner", "maintain", "--job", "env:DATASURFACE_JOB_SPEC"}, task.Command)
				if assert.NotNil(t, task.JobSpec) {
					assert.Equal(t, "jobs/"+s.Name+".json", *task.JobSpec)
				}
				assert.Empty(t, task.Outlets, "maintenance changes no table's data")
				for _, sec := range task.Secrets {
					assert.False(t, strings.HasPrefix(sec.Env, "DATASURFACE_SOURCE_"), "maintenance does not read the source")
				}
			}
		})
	}
	for path := range descs {
		assert.True(t, checked[path], "%s is not the DAG of any stream or platform", path)
	}
}

// assertNoSecretValues checks that credentials reach a task only by
// reference: Airflow connection ids (docker) or Kubernetes secret names, each
// the run-time name of a declared credential, and that no plain variable or
// URL carries one.
func assertNoSecretValues(t *testing.T, task taskDesc, operator string, creds map[string]bool) {
	t.Helper()
	k8sNames := map[string]bool{}
	for c := range creds {
		k8sNames[strings.ReplaceAll(c, "_", "-")] = true
	}
	secretEnv := map[string]bool{}
	for _, s := range task.Secrets {
		secretEnv[s.Env] = true
		assert.Regexp(t, `^DATASURFACE_[A-Z0-9_]+_(USER|PASSWORD)$`, s.Env)
		if operator == "docker" {
			assert.True(t, creds[s.Connection], "%s: connection %q is not a declared credential", s.Env, s.Connection)
			assert.Contains(t, []string{"login", "password"}, s.Field)
		} else {
			assert.True(t, k8sNames[s.Secret], "%s: secret %q is not a declared credential", s.Env, s.Secret)
			assert.Regexp(t, `^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`, s.Secret, "a Kubernetes secret name")
			assert.LessOrEqual(t, len(s.Secret), 253, "a Kubernetes secret name is a DNS subdomain")
			assert.Contains(t, []string{"username", "password"}, s.Key)
		}
	}
	for k, v := range task.Env {
		assert.False(t, secretEnv[k], "%s is both a secret and a plain variable", k)
		assert.NotRegexp(t, `(?i)(password|secret|token|_user$|_key$|credential)`, k, "plain variable %s looks like a secret", k)
		if u, err := url.Parse(v); err == nil && u.Scheme != "" {
			assert.Nil(t, u.User, "%s carries credentials in its URL", k)
		}
		assert.False(t, creds[v], "%s is set to a credential name as a value", k)
	}
}

// TestDagcheckRejects feeds the checker generated DAGs with one change each
// that a hostile model text (or a template regression) could make, and
// expects a refusal that says why.
func TestDagcheckRejects(t *testing.T) {
	py := requirePython(t)
	m := loadExample(t, "customer-cdc")
	tree, err := generator.Generate(context.Background(), m, generator.Options{Version: "test"})
	require.NoError(t, err)
	const path = "platforms/lakehouse/dags/lakehouse__customer_db.py"
	good := string(tree.Files[path])
	_, stderr, err := runDagcheck(t, py, map[string][]byte{path: []byte(good)})
	require.NoError(t, err, stderr)

	setAirflow(m, 2, "kubernetes")
	k8sTree, err := generator.Generate(context.Background(), m, generator.Options{Version: "test"})
	require.NoError(t, err)
	k8s := string(k8sTree.Files[path])

	endOfTask := "\n    )\n"
	require.True(t, strings.HasSuffix(good, endOfTask))
	inBlock := func(stmt string) func(string) string {
		return func(s string) string { return s + "    " + stmt + "\n" }
	}
	beforeDAG := func(stmt string) func(string) string {
		return func(s string) string { return strings.Replace(s, "\nwith DAG(", "\n"+stmt+"\nwith DAG(", 1) }
	}
	replace := func(old, new string) func(string) string {
		return func(s string) string {
			require.Contains(t, s, old)
			return strings.Replace(s, old, new, 1)
		}
	}
	type rejection struct {
		name   string
		base   string
		change func(string) string
		want   string
	}
	bad, wants := map[string][]byte{}, map[string]rejection{}
	for _, c := range []rejection{
		{"a call where a string is expected", good, replace(`dag_id="lakehouse__customer_db"`, `dag_id=str("lakehouse__customer_db")`), "dag_id must be a str literal"},
		{"a name where a string is expected", good, replace(`image="registry`, `image=IMAGE + "registry`), "image must be a str literal"},
		{"an f-string", good, replace(`dag.doc_md = "`, `dag.doc_md = f"{dag}`), "f-string"},
		{"a call in the environment", good, replace(`"DATASURFACE_S3_REGION": "us-east-1"`, `"DATASURFACE_S3_REGION": BaseHook.get_connection("x").password`), "environment DATASURFACE_S3_REGION must be a str literal"},
		{"a call in the tags", good, replace(`tags=["datasurface", `, `tags=[print("x"), `), "tags[0] must be a str literal"},
		{"a bool where an int is expected", good, replace(`max_active_runs=1,`, `max_active_runs=True,`), "max_active_runs must be an int literal"},
		{"exec", good, inBlock(`exec("import os")`), "use of exec"},
		{"eval", good, inBlock(`eval("1")`), "use of eval"},
		{"__import__", good, inBlock(`__import__("pendulum")`), "use of __import__"},
		{"os", good, inBlock(`os.getcwd()`), "use of os is not allowed"},
		{"os.system", good, inBlock(`os.system("id")`), "use of .system is not allowed"},
		{"os through pathlib", good, inBlock(`pathlib.os.getcwd()`), "use of .os is not allowed"},
		{"popen", good, inBlock(`pathlib.Path("x").popen("id")`), "use of .popen is not allowed"},
		{"subprocess", good, inBlock(`subprocess.run(["id"])`), "use of subprocess"},
		{"dunder attributes", good, inBlock(`"".__class__.__mro__`), "use of __mro__"},
		{"an import of os", good, beforeDAG("import os"), "import of os is not allowed"},
		{"an aliased import", good, beforeDAG("import pendulum as os2"), "import of pendulum is not allowed"},
		{"an unknown import", good, beforeDAG("from airflow.operators.bash import BashOperator"), "import from airflow.operators.bash is not allowed"},
		{"a module-level call", good, beforeDAG(`print("hello")`), "unexpected module-level statement"},
		{"a module-level assignment", good, beforeDAG(`X = 1`), "unexpected module-level assignment to X"},
		{"a second function", good, beforeDAG("def job_spec(name):\n    return name\n"), "job_spec is defined twice"},
		{"a changed job_spec", good, replace(`return (PLATFORM_DIR / name).read_text(encoding="utf-8")`, `return name`), "job_spec must be"},
		{"a statement after the DAG", good, func(s string) string { return s + "print(1)\n" }, "the last statement must be the `with DAG(...) as dag:` block"},
		{"another statement in the DAG block", good, inBlock(`x = 1`), "unexpected statement in the DAG block"},
		{"doc_md given to DAG()", good, replace("    max_active_runs=1,\n", "    max_active_runs=1,\n    doc_md=\"x\",\n"), "doc_md must not be passed to DAG()"},
		{"templated fields", good, replace(`template_fields = ()`, `template_fields = ("environment",)`), "template_fields must be ()"},
		{"no template_fields", good, replace("    template_fields = ()\n", ""), "template_fields = () is missing"},
		{"an unknown task argument", good, replace(`        mount_tmp_dir=False,`, "        mount_tmp_dir=False,\n        privileged=True,"), "unknown argument privileged"},
		{"a final exit that is not a constant", good, replace(`        mount_tmp_dir=False,`, "        mount_tmp_dir=False,\n        final_exit=print(1),"), "final_exit must name one of the exit-code constants"},
		{"a final exit naming an undefined constant", good, replace(`        mount_tmp_dir=False,`, "        mount_tmp_dir=False,\n        final_exit=RECONCILE_DIFFERS_EXIT,"), "final_exit must name one of the exit-code constants"},
		{"**kwargs", good, replace(`        mount_tmp_dir=False,`, "        mount_tmp_dir=False,\n        **{\"privileged\": True},"), "**kwargs are not allowed"},
		{"a job spec from elsewhere", good, replace(`job_spec("jobs/customer_db.json")`, `job_spec("jobs/" + "customer_db.json")`), "job spec file must be a str literal"},
		{"a duplicate task id", good, inBlock(`MergeRunner(task_id="merge", image="i", command=[], environment={}, pool="p", priority_weight=1, execution_timeout=timedelta(minutes=1))`), "task id merge is used twice"},
		{"a dependency on something else", good, inBlock(`dag >> print`), "not a task of this DAG"},
		{"a syntax error", good, func(s string) string { return s[:len(s)-len(endOfTask)] }, "does not parse"},
		{"a NUL byte", good, func(s string) string { return s + "# \x00\n" }, "does not parse"},
		{"a kubernetes secret that is not a Secret()", k8s, replace(`Secret("env", "DATASURFACE_CATALOG_PASSWORD"`, `dict("env", "DATASURFACE_CATALOG_PASSWORD"`), "must be a call to Secret"},
		{"a Dataset with a computed uri", k8s, replace(`Dataset("iceberg://`, `Dataset(PLATFORM_DIR + "iceberg://`), "outlet uri must be a str literal"},
		{"an asset in Airflow 2", k8s, replace(`Dataset("iceberg://`, `Asset(uri="iceberg://`), "must be a call to Dataset"},
		{"a docker argument on kubernetes", k8s, replace(`get_logs=True,`, `get_logs=True, command=["x"],`), "unknown argument command"},
	} {
		src := c.change(c.base)
		require.NotEqual(t, c.base, src, c.name)
		name := fmt.Sprintf("case%02d/%s", len(bad), path)
		bad[name] = []byte(src)
		wants[name] = c
	}
	// One checker run: it refuses every file, one line each.
	_, stderr, err = runDagcheck(t, py, bad)
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 1, exit.ExitCode())
	lines := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		for name := range bad {
			if strings.Contains(l, filepath.FromSlash(name)+":") {
				lines[name] = l
			}
		}
	}
	for name, c := range wants {
		t.Run(c.name, func(t *testing.T) {
			l, ok := lines[name]
			require.True(t, ok, "dagcheck accepted:\n%s", bad[name])
			assert.True(t, strings.HasPrefix(l, "dagcheck: "), l)
			assert.Contains(t, l, c.want)
		})
	}
}

// TestDagcheckDependencies checks that edges between tasks are reported,
// however they are written, and that an empty list means none.
func TestDagcheckDependencies(t *testing.T) {
	py := requirePython(t)
	tree, err := generator.Generate(context.Background(), loadExample(t, "customer-cdc"), generator.Options{Version: "test"})
	require.NoError(t, err)
	const path = "platforms/lakehouse/dags/lakehouse__maintenance.py"
	src := string(tree.Files[path])
	const a, b = "maintain_customer_db", "maintain_product_catalog_products"
	named := strings.Replace(src, "    MergeRunner(\n        task_id=\""+a+"\"", "    a = MergeRunner(\n        task_id=\""+a+"\"", 1)
	named = strings.Replace(named, "    MergeRunner(\n        task_id=\""+b+"\"", "    b = MergeRunner(\n        task_id=\""+b+"\"", 1)
	require.NotEqual(t, src, named)

	type depCase struct {
		name  string
		src   string
		edges [][2]string
	}
	cases := []depCase{
		{"none", src, [][2]string{}},
		{"named tasks, no edges", named, [][2]string{}},
		{"a >> b", named + "    a >> b\n", [][2]string{{a, b}}},
		{"b << a", named + "    b << a\n", [][2]string{{a, b}}},
		{"set_downstream", named + "    a.set_downstream(b)\n", [][2]string{{a, b}}},
		{"set_upstream", named + "    a.set_upstream(b)\n", [][2]string{{b, a}}},
		{"lists and duplicates", named + "    [a] >> b\n    a >> [b]\n", [][2]string{{a, b}}},
	}
	files := map[string][]byte{}
	for i, c := range cases {
		files[fmt.Sprintf("case%d/%s", i, path)] = []byte(c.src)
	}
	descs, stderr, err := runDagcheck(t, py, files)
	require.NoError(t, err, stderr)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := descs[fmt.Sprintf("case%d/%s", i, path)]
			require.NotNil(t, d.Edges, "edges must be a list, empty when there are none")
			assert.Equal(t, c.edges, d.Edges)
			assert.Len(t, d.Tasks, 2)
		})
	}
	_, stderr, err = runDagcheck(t, py, map[string][]byte{path: []byte(named + "    a >> b >> a\n")})
	require.Error(t, err)
	assert.Contains(t, stderr, "cycle")
}

// assertTransformerDAG checks a transformer's DAG: scheduled on its input
// tables' assets (or its cron), inputs >> transform >> merge, the transformer's
// image and command with its run folder and READ-ONLY catalog and warehouse
// logins, and the output tables as the merge's outlets.
func assertTransformerDAG(t *testing.T, m *model.Model, p *model.Platform, run *model.TransformerRun, tree *generator.Tree, d dagDesc, covered map[string]bool) {
	ai := p.AirflowIceberg
	tr := run.Transformer
	covered["transformer"] = true
	cat := ai.Iceberg.Catalog.Name
	if tr.Trigger.Cron != "" {
		if assert.NotNil(t, d.Schedule) {
			assert.Equal(t, tr.Trigger.Cron, *d.Schedule)
		}
	} else {
		assert.Nil(t, d.Schedule)
		var want []outletDesc
		for _, in := range run.Inputs {
			name := cat + "." + in.Datastore.Name + "." + in.Table()
			o := outletDesc{URI: "iceberg://" + cat + "/" + in.Datastore.Name + "/" + in.Table()}
			if d.AirflowVersion == 3 {
				o.Name = &name
			}
			want = append(want, o)
		}
		require.NotEmpty(t, want)
		assert.Equal(t, want, d.ScheduleAssets, "scheduled on the assets of the tables it reads, as their DAGs name them")
		covered["schedule:assets"] = true
	}
	require.Len(t, d.Tasks, 3)
	in, tf, mg := d.Tasks[0], d.Tasks[1], d.Tasks[2]
	assert.Equal(t, [][2]string{{"inputs", "transform"}, {"transform", "merge"}}, d.Edges)
	assert.Equal(t, "inputs", in.TaskID)
	assert.Equal(t, []string{"merge-runner", "inputs", "--job", "env:DATASURFACE_JOB_SPEC"}, in.Command)
	assert.True(t, in.RunArgs, "inputs gets --run <run id>")
	assert.Equal(t, "merge", mg.TaskID)
	assert.Equal(t, []string{"merge-runner", "run", "--job", "env:DATASURFACE_JOB_SPEC"}, mg.Command)
	assert.True(t, mg.RunArgs, "merge gets --run <run id>")
	assert.Empty(t, in.Outlets)
	assert.Empty(t, tf.Outlets)

	assert.Equal(t, "transform", tf.TaskID)
	assert.Equal(t, tr.Image, tf.Image)
	assert.Equal(t, tr.Command, tf.Command)
	assert.False(t, tf.RunArgs, "the transformer's command is its own")
	spec, err := jobspec.Parse(tree.Files["platforms/"+p.Name+"/jobs/"+run.Output.Name+".json"])
	require.NoError(t, err)
	require.NotNil(t, spec.Source.Transformer)
	assert.Equal(t, jobspec.SourceTransformer, spec.Source.Kind)
	assert.Equal(t, run.Name(), spec.Source.Transformer.Name)
	require.Len(t, spec.Source.Transformer.Inputs, len(run.Inputs))
	for i, want := range run.Inputs {
		assert.Equal(t, jobspec.TransformerInput{Dataset: want.Sink.String(), Namespace: want.Datastore.Name, Table: want.Table()}, spec.Source.Transformer.Inputs[i])
	}
	if assert.NotNil(t, tf.RunDir) {
		assert.Equal(t, spec.Source.Transformer.Output, *tf.RunDir, "the run folder is <output>/<run id>")
	}
	for _, k := range []string{"DATASURFACE_CATALOG_URI", "DATASURFACE_WAREHOUSE"} {
		assert.Contains(t, tf.EnvKeys, k)
	}
	runtime := func(name string) string {
		c, ok := m.EcosystemCredential(name)
		require.True(t, ok, name)
		if d.Operator == "kubernetes" {
			return c.KubernetesSecretName()
		}
		return c.RuntimeName()
	}
	ref := func(s secretDesc) string {
		if d.Operator == "kubernetes" {
			return s.Secret
		}
		return s.Connection
	}
	ro := map[string]string{
		"DATASURFACE_CATALOG_USER": runtime(ai.Iceberg.Catalog.ReadOnlyCredential.Name), "DATASURFACE_CATALOG_PASSWORD": runtime(ai.Iceberg.Catalog.ReadOnlyCredential.Name),
		"DATASURFACE_S3_USER": runtime(ai.Iceberg.Warehouse.ReadOnlyCredential.Name), "DATASURFACE_S3_PASSWORD": runtime(ai.Iceberg.Warehouse.ReadOnlyCredential.Name),
	}
	rwCatalog, rwWarehouse := runtime(ai.Iceberg.Catalog.Credential.Name), runtime(ai.Iceberg.Warehouse.Credential.Name)
	got := map[string]string{}
	for _, s := range tf.Secrets {
		got[s.Env] = ref(s)
		if strings.HasPrefix(s.Env, "DATASURFACE_CATALOG_") {
			assert.NotEqual(t, rwCatalog, ref(s), "the transformer must never get the catalog's read-write login")
		}
		if strings.HasPrefix(s.Env, "DATASURFACE_S3_") {
			assert.NotEqual(t, rwWarehouse, ref(s), "the transformer must never get the warehouse's read-write keys")
		}
	}
	for env, want := range ro {
		assert.Equal(t, want, got[env], "%s is the read-only login", env)
	}
	for _, c := range tr.Credentials {
		sc, ok, _ := m.TeamCredential(run.Workspace.Team, c.Name)
		require.True(t, ok, c.Name)
		want := sc.RuntimeName()
		if d.Operator == "kubernetes" {
			want = sc.KubernetesSecretName()
		}
		for _, f := range []string{"_USER", "_PASSWORD"} {
			assert.Equal(t, want, got["DATASURFACE_CREDENTIAL_"+strings.ToUpper(c.Name)+f], "the transformer's own credential %s, by reference", c.Name)
		}
	}
	// The merge's outlets are the output's tables, so its consumers run next.
	var outlets []string
	for _, o := range mg.Outlets {
		outlets = append(outlets, o.URI)
	}
	var want []string
	for _, tb := range spec.Tables {
		want = append(want, "iceberg://"+cat+"/"+spec.Target.Namespace+"/"+tb.Name)
	}
	assert.Equal(t, want, outlets)
}
