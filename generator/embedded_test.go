package generator_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/model"
)

// TestEmbeddedCDCRendersNoConnectors: customer-cdc's platform switched to
// cdc: embedded renders no Kafka Connect config (so connect apply has
// nothing of it), and its CDC job spec says what merge-runner capture needs
// with the names the Debezium connector had: the same slot and publication,
// database and topic.prefix, and the same topics, so the merge reads the
// landing alike.
func TestEmbeddedCDCRendersNoConnectors(t *testing.T) {
	kafka := generateClean(t, loadExample(t, "customer-cdc"))
	source := connectorConfig(t, kafka, "platforms/lakehouse/connect/customer_db.source.json")

	m := loadExample(t, "customer-cdc")
	ai := m.Ecosystem.Platforms[0].AirflowIceberg
	ai.CDC = model.CDCEmbedded
	ai.KafkaConnect.Container = model.Ref{} // topic_prefix stays: it names the topics
	tree := generateClean(t, m)

	for _, p := range tree.Paths() {
		assert.NotContains(t, p, "/connect/", "an embedded platform renders no connector")
	}
	var connectFiles int
	for _, p := range kafka.Paths() {
		if strings.Contains(p, "/connect/") {
			connectFiles++
		}
	}
	require.Equal(t, 2, connectFiles, "the kafka_connect path renders a source and a sink")

	spec, err := jobspec.Parse(tree.Files["platforms/lakehouse/jobs/customer_db.json"])
	require.NoError(t, err)
	c := spec.Source.Debezium.Capture
	require.NotNil(t, c, "the CDC spec names its capture")
	assert.Equal(t, jobspec.Capture{
		Container: "crm_postgres", Credential: "crm_reader",
		Database: source["database.dbname"], Server: source["topic.prefix"],
		Slot: source["slot.name"], Publication: source["publication.name"],
	}, *c)
	before, err := jobspec.Parse(kafka.Files["platforms/lakehouse/jobs/customer_db.json"])
	require.NoError(t, err)
	assert.Nil(t, before.Source.Debezium.Capture, "a kafka_connect platform's spec has no capture block")
	before.Source.Debezium.Capture = c
	assert.Equal(t, before, spec, "only the capture block differs: topics, landing and tables are the same")

	snap, err := jobspec.Parse(tree.Files["platforms/lakehouse/jobs/product_catalog_products.json"])
	require.NoError(t, err)
	assert.Nil(t, snap.Source.Debezium, "a snapshot store is read as before")
	assert.Equal(t, string(kafka.Files["platforms/lakehouse/dags/lakehouse__product_catalog_products.py"]),
		string(tree.Files["platforms/lakehouse/dags/lakehouse__product_catalog_products.py"]), "a snapshot DAG does not change")
	dag := string(tree.Files["platforms/lakehouse/dags/lakehouse__customer_db.py"])
	assert.Regexp(t, regexp.MustCompile(`(?m)^    capture >> merge$`), dag)
}

// TestEmbeddedNamesAreValidSlots: the slot and publication of every pair
// are names jobspec accepts (PostgreSQL's slot name rules), also for the
// longest and mixed-case names lint allows, and differ per pair.
func TestEmbeddedNamesAreValidSlots(t *testing.T) {
	long := strings.Repeat("Ab", 31) + "c" // 63 characters
	seen := map[string]string{}
	for _, pair := range [][2]string{{"lakehouse", "shop_db"}, {"lake", "house_shop"}, {"lake_house", "shop"}, {long, long}, {long, long[:62] + "d"}, {"LakeHouse", "Shop"}} {
		n := model.ReplicationName(pair[0], pair[1])
		s := &jobspec.Spec{Version: 1, Source: jobspec.Source{Kind: jobspec.SourceDebezium, Debezium: &jobspec.DebeziumSource{
			Encoding: jobspec.Encoding{DecimalHandling: "precise", TimePrecision: "adaptive_time_microseconds", BinaryHandling: "bytes"},
			Capture:  &jobspec.Capture{Container: "c", Credential: "c", Database: "d", Server: "s", Slot: n, Publication: n},
		}}, Tables: []jobspec.Table{{Name: "t", Topic: "t", Mode: jobspec.ModeLive, WriteMode: jobspec.WriteMergeOnRead, Columns: []jobspec.Column{{Name: "id", Type: "int64"}}}}}
		assert.NoError(t, s.Validate(), "%v -> %s", pair, n)
		key := pair[0] + "\x00" + pair[1]
		for other, name := range seen {
			assert.NotEqual(t, name, n, "%q and %q share a slot", key, other)
		}
		seen[key] = n
	}
}

// TestCIImportsEveryGoldenDAGFolder: the project's pipeline imports every
// golden DAG folder with Airflow's DagBag (.gitlab-ci.yml, DAG_FOLDERS), so
// a new example's DAGs are imported too.
func TestCIImportsEveryGoldenDAGFolder(t *testing.T) {
	ci, err := os.ReadFile("../.gitlab-ci.yml")
	require.NoError(t, err)
	var folders []string
	for _, l := range strings.Split(string(ci), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "DAG_FOLDERS:"); ok {
			folders = append(folders, strings.Fields(v)...)
		}
	}
	for _, ex := range examples(t) {
		platforms, err := os.ReadDir("../golden/" + ex + "/platforms")
		require.NoError(t, err)
		for _, p := range platforms {
			dir := "golden/" + ex + "/platforms/" + p.Name() + "/dags"
			if _, err := os.Stat("../" + dir); err != nil {
				continue
			}
			assert.Contains(t, folders, dir, ".gitlab-ci.yml's dagbag jobs do not import %s; add it to DAG_FOLDERS of the job for its Airflow version", dir)
		}
	}
}
