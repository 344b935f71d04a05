package connect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/deploy/connect"
	"github.com/datasurface/datasurface/deploy/connect/connecttest"
)

const golden = "../../golden/customer-cdc"

var goldenNames = []string{"lakehouse.customer_db.s3-sink", "lakehouse.customer_db.source"}

func client(t *testing.T, s *connecttest.Server) *connect.Client {
	t.Helper()
	c, err := connect.NewClient(s.URL)
	require.NoError(t, err)
	c.Backoff = []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}
	return c
}

func apply(t *testing.T, s *connecttest.Server, rendered []connect.Connector, dry bool) (rep *connect.Report, out, errOut string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	rep, err = connect.Apply(context.Background(), client(t, s), rendered, connect.Options{DryRun: dry, Out: &o, Err: &e})
	return rep, o.String(), e.String(), err
}

func loadGolden(t *testing.T) []connect.Connector {
	t.Helper()
	cs, err := connect.Load(golden)
	require.NoError(t, err)
	return cs
}

// withName is a rendered config as Kafka Connect stores it: with its name.
func withName(c connect.Connector) map[string]string {
	m := maps.Clone(c.Config)
	m["name"] = c.Name
	return m
}

func TestConnectLoadGolden(t *testing.T) {
	t.Parallel()
	cs := loadGolden(t)
	require.Len(t, cs, 2)
	for i, c := range cs {
		assert.Equal(t, goldenNames[i], c.Name)
		assert.True(t, connect.Managed(c.Config))
	}
	assert.Equal(t, "platforms/lakehouse/connect/customer_db.s3-sink.json", cs[0].File)
	assert.Equal(t, "io.debezium.connector.postgresql.PostgresConnector", cs[1].Config["connector.class"])

	// A platform's folder and the connect folder itself load the same.
	for _, dir := range []string{golden + "/platforms/lakehouse", golden + "/platforms/lakehouse/connect"} {
		got, err := connect.Load(dir)
		require.NoError(t, err, dir)
		require.Len(t, got, 2)
		assert.Equal(t, cs[1].Config, got[1].Config)
	}
}

func TestConnectApplyGolden(t *testing.T) {
	t.Parallel()
	s := connecttest.New(t)
	cs := loadGolden(t)

	// First apply: everything is created.
	rep, out, errOut, err := apply(t, s, cs, false)
	require.NoError(t, err, errOut)
	assert.Equal(t, "create    lakehouse.customer_db.s3-sink\ncreate    lakehouse.customer_db.source\n2 created, 0 updated, 0 unchanged, 0 deleted, 0 failed\n", out)
	assert.Equal(t, 2, rep.Count(connect.Create))
	live := s.Connectors()
	require.Len(t, live, 2)
	for _, c := range cs {
		assert.Equal(t, withName(c), live[c.Name])
	}
	assert.Equal(t, []string{
		"PUT /connectors/lakehouse.customer_db.s3-sink/config",
		"PUT /connectors/lakehouse.customer_db.source/config",
	}, s.Mutations())

	// Second apply: all unchanged, nothing sent but the listing.
	before := len(s.Requests())
	_, out, _, err = apply(t, s, cs, false)
	require.NoError(t, err)
	assert.Equal(t, "unchanged lakehouse.customer_db.s3-sink\nunchanged lakehouse.customer_db.source\n0 created, 0 updated, 2 unchanged, 0 deleted, 0 failed\n", out)
	assert.Equal(t, []string{"GET /connectors?expand=info"}, s.Requests()[before:])
}

func TestConnectUpdate(t *testing.T) {
	t.Parallel()
	s := connecttest.New(t)
	cs := loadGolden(t)
	_, _, _, err := apply(t, s, cs, false)
	require.NoError(t, err)

	// Someone changed a value and added a key by hand; the model changed another value.
	src := s.Connectors()["lakehouse.customer_db.source"]
	src["snapshot.mode"] = "never"
	src["errors.tolerance"] = "all"
	s.Set("lakehouse.customer_db.source", src)
	cs[1].Config = maps.Clone(cs[1].Config)
	cs[1].Config["tasks.max"] = "2"

	before := len(s.Mutations())
	rep, out, _, err := apply(t, s, cs, false)
	require.NoError(t, err)
	assert.Equal(t, "unchanged lakehouse.customer_db.s3-sink\n"+
		"update    lakehouse.customer_db.source (changed snapshot.mode, tasks.max; removed errors.tolerance)\n"+
		"0 created, 1 updated, 1 unchanged, 0 deleted, 0 failed\n", out)
	assert.Equal(t, 1, rep.Count(connect.Update))
	assert.Equal(t, []string{"PUT /connectors/lakehouse.customer_db.source/config"}, s.Mutations()[before:])
	assert.Equal(t, withName(cs[1]), s.Connectors()["lakehouse.customer_db.source"])
}

func TestConnectDeleteOnlyManaged(t *testing.T) {
	t.Parallel()
	s := connecttest.New(t)
	cs := loadGolden(t)
	// A connector datasurface rendered before, and one someone else made.
	s.Set("lakehouse.old_db.source", map[string]string{"name": "lakehouse.old_db.source", "connector.class": "x.Source", connect.ManagedKey: "true"})
	s.Set("ops.audit.sink", map[string]string{"name": "ops.audit.sink", "connector.class": "x.Sink"})
	s.Set("ops.other.sink", map[string]string{"name": "ops.other.sink", "connector.class": "x.Sink", connect.ManagedKey: "false"})

	_, out, _, err := apply(t, s, cs, false)
	require.NoError(t, err)
	assert.Equal(t, "delete    lakehouse.old_db.source\n"+
		"create    lakehouse.customer_db.s3-sink\n"+
		"create    lakehouse.customer_db.source\n"+
		"2 created, 0 updated, 0 unchanged, 1 deleted, 0 failed\n", out)
	live := s.Connectors()
	assert.NotContains(t, live, "lakehouse.old_db.source")
	assert.Contains(t, live, "ops.audit.sink")
	assert.Contains(t, live, "ops.other.sink")
	for _, m := range s.Mutations() {
		assert.NotContains(t, m, "ops.")
	}

	// Rendering nothing from a deploy tree deletes every managed connector,
	// and only those.
	_, out, _, err = apply(t, s, nil, false)
	require.NoError(t, err)
	assert.Equal(t, "delete    lakehouse.customer_db.s3-sink\ndelete    lakehouse.customer_db.source\n0 created, 0 updated, 0 unchanged, 2 deleted, 0 failed\n", out)
	assert.Equal(t, []string{"ops.audit.sink", "ops.other.sink"}, sortedKeys(s.Connectors()))
}

func TestConnectUnmanagedNameConflict(t *testing.T) {
	t.Parallel()
	s := connecttest.New(t)
	cs := loadGolden(t)
	theirs := map[string]string{"name": cs[1].Name, "connector.class": "their.Connector", "tasks.max": "3"}
	s.Set(cs[1].Name, theirs)

	rep, out, errOut, err := apply(t, s, cs, false)
	require.ErrorIs(t, err, connect.ErrFailed)
	assert.Equal(t, "1 of 2 connectors failed", err.Error())
	assert.Contains(t, out, "create    lakehouse.customer_db.s3-sink\n")
	assert.Contains(t, out, "failed    lakehouse.customer_db.source\n")
	assert.Contains(t, errOut, "lakehouse.customer_db.source (platforms/lakehouse/connect/customer_db.source.json): a connector of this name exists in Kafka Connect without datasurface.managed=true")
	require.Len(t, rep.Failures, 1)
	assert.Equal(t, connect.Conflict, rep.Failures[0].Action.Kind)
	assert.Equal(t, theirs, s.Connectors()[cs[1].Name], "left alone")
	assert.NotContains(t, strings.Join(s.Mutations(), "\n"), cs[1].Name)
}

func TestConnectDryRun(t *testing.T) {
	t.Parallel()
	s := connecttest.New(t)
	cs := loadGolden(t)
	s.Set("lakehouse.old_db.source", map[string]string{"name": "lakehouse.old_db.source", "connector.class": "x.Source", connect.ManagedKey: "true"})
	s.Set(cs[0].Name, map[string]string{"name": cs[0].Name, "connector.class": "y", connect.ManagedKey: "true"})
	before := s.Connectors()

	rep, out, _, err := apply(t, s, cs, true)
	require.NoError(t, err)
	assert.True(t, rep.DryRun)
	assert.Contains(t, out, "delete    lakehouse.old_db.source\n")
	assert.Contains(t, out, "update    lakehouse.customer_db.s3-sink (changed connector.class; added ")
	assert.Contains(t, out, "create    lakehouse.customer_db.source\n")
	assert.Contains(t, out, "dry run, nothing changed: 1 to create, 1 to update, 0 unchanged, 1 to delete, 0 conflicts\n")
	assert.Empty(t, s.Mutations())
	assert.Equal(t, before, s.Connectors())
}

func TestConnectErrorNamesConnector(t *testing.T) {
	t.Parallel()
	s := connecttest.New(t)
	cs := loadGolden(t)
	bad := connect.Connector{Name: "lakehouse.broken.source", Config: map[string]string{connect.ManagedKey: "true", "tasks.max": "1"}, File: "connect/broken.json"}
	cs = append(cs, bad)

	rep, out, errOut, err := apply(t, s, cs, false)
	require.ErrorIs(t, err, connect.ErrFailed)
	assert.Equal(t, "1 of 3 connectors failed", err.Error())
	// The others were still applied.
	assert.Len(t, s.Connectors(), 2)
	assert.Contains(t, out, "failed    lakehouse.broken.source\n")
	assert.Contains(t, out, "2 created, 0 updated, 0 unchanged, 0 deleted, 1 failed\n")
	assert.Contains(t, errOut, "error: lakehouse.broken.source: create failed: PUT /connectors/lakehouse.broken.source/config: HTTP 400: Connector config ")
	assert.Contains(t, errOut, "contains no connector type")
	require.Len(t, rep.Failures, 1)
	var ae *connect.APIError
	require.ErrorAs(t, rep.Failures[0].Err, &ae)
	assert.Equal(t, 400, ae.Status)
}

func TestConnectRebalanceRetried(t *testing.T) {
	t.Parallel()
	s := connecttest.New(t)
	cs := loadGolden(t)
	s.Rebalance(2)
	_, out, errOut, err := apply(t, s, cs, false)
	require.NoError(t, err, errOut)
	assert.Contains(t, out, "2 created")
	assert.Len(t, s.Connectors(), 2)
	assert.Equal(t, []string{
		"PUT /connectors/lakehouse.customer_db.s3-sink/config",
		"PUT /connectors/lakehouse.customer_db.s3-sink/config",
		"PUT /connectors/lakehouse.customer_db.s3-sink/config",
		"PUT /connectors/lakehouse.customer_db.source/config",
	}, s.Mutations())

	// A rebalance that outlasts the retries fails the connector.
	s2 := connecttest.New(t)
	s2.Rebalance(1000)
	_, _, errOut, err = apply(t, s2, cs[:1], false)
	require.ErrorIs(t, err, connect.ErrFailed)
	assert.Contains(t, errOut, "HTTP 409: Cannot complete request because of a conflicting operation (e.g. worker rebalance) (still refused after 3 retries)")
	assert.Len(t, s2.Mutations(), 4)
}

func TestConnectOldWorkerWithoutExpand(t *testing.T) {
	t.Parallel()
	s := connecttest.New(t)
	s.NoExpand = true
	cs := loadGolden(t)
	_, _, _, err := apply(t, s, cs, false)
	require.NoError(t, err)
	_, out, _, err := apply(t, s, cs, false)
	require.NoError(t, err)
	assert.Contains(t, out, "0 created, 0 updated, 2 unchanged")
	assert.Contains(t, s.Requests(), "GET /connectors/lakehouse.customer_db.source/config")
}

func TestConnectBasicAuth(t *testing.T) {
	t.Parallel()
	s := connecttest.New(t)
	s.User, s.Password = "deployer", "s3cret"
	cs := loadGolden(t)

	_, _, _, err := apply(t, s, cs, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "listing Kafka Connect's connectors: GET /connectors?expand=info: HTTP 401")
	assert.Empty(t, s.Connectors())

	c := client(t, s)
	c.User, c.Password = "deployer", "s3cret"
	_, err = connect.Apply(context.Background(), c, cs, connect.Options{})
	require.NoError(t, err)
	assert.Len(t, s.Connectors(), 2)
}

func TestConnectUnreachable(t *testing.T) {
	t.Parallel()
	s := connecttest.New(t)
	c := client(t, s)
	s.Close()
	_, err := connect.Apply(context.Background(), c, loadGolden(t), connect.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "listing Kafka Connect's connectors: GET /connectors?expand=info: ")
	assert.False(t, errors.Is(err, connect.ErrFailed))
}

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

func body(name string, cfg map[string]any) string {
	b, _ := json.Marshal(map[string]any{"name": name, "config": cfg})
	return string(b)
}

func TestConnectLoadRefuses(t *testing.T) {
	t.Parallel()
	ok := map[string]any{"connector.class": "c", connect.ManagedKey: "true"}
	for _, c := range []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"no marker", map[string]string{"p/connect/a.json": body("a", map[string]any{"connector.class": "c"})}, []string{`p/connect/a.json: connector "a" has no "datasurface.managed": "true"`}},
		{"duplicate", map[string]string{"p/connect/a.json": body("a", ok), "q/connect/b.json": body("a", ok)}, []string{`q/connect/b.json: connector "a" is also rendered by p/connect/a.json`}},
		{"not a string", map[string]string{"connect/a.json": body("a", map[string]any{"tasks.max": 1, connect.ManagedKey: "true"})}, []string{"connect/a.json: not a Kafka Connect body"}},
		{"unknown field", map[string]string{"connect/a.json": `{"name":"a","config":{"datasurface.managed":"true"},"tasks":[]}`}, []string{`unknown field "tasks"`}},
		{"name mismatch", map[string]string{"connect/a.json": body("a", map[string]any{"name": "b", connect.ManagedKey: "true"})}, []string{`config name "b" differs from the connector name "a"`}},
		{"no name", map[string]string{"connect/a.json": body("", ok)}, []string{`no "name"`}},
		{"two errors", map[string]string{"connect/a.json": "{", "connect/b.json": "[]"}, []string{"connect/a.json: ", "connect/b.json: "}},
		{"not a deploy tree", map[string]string{"README.md": "hi"}, []string{"is this a deploy tree?"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := connect.Load(writeTree(t, c.files))
			require.Error(t, err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}

	// An empty deploy tree or connect folder is fine: it renders no connector.
	cs, err := connect.Load(writeTree(t, map[string]string{"MANIFEST.json": "{}"}))
	require.NoError(t, err)
	assert.Empty(t, cs)
	dir := writeTree(t, map[string]string{"connect/.keep": "", ".git/connect/x.json": "junk"})
	cs, err = connect.Load(filepath.Join(dir, "connect"))
	require.NoError(t, err)
	assert.Empty(t, cs)
}

func sortedKeys(m map[string]map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}
