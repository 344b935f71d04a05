package generator_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/generator"
	"github.com/datasurface/datasurface/model"
	"github.com/datasurface/datasurface/model/lint"
)

// runtimeNames is the run-time name of every credential m declares: the
// ecosystem's, the zones' and the teams'.
func runtimeNames(m *model.Model) map[string]bool {
	out := map[string]bool{}
	for i := range m.Ecosystem.Credentials {
		out[model.ScopedCredential{Credential: &m.Ecosystem.Credentials[i]}.RuntimeName()] = true
	}
	for _, z := range m.Zones {
		for i := range z.Credentials {
			out[model.ScopedCredential{Credential: &z.Credentials[i], Zone: z.Name}.RuntimeName()] = true
		}
		for _, tm := range z.Defs {
			for i := range tm.Credentials {
				out[model.ScopedCredential{Credential: &tm.Credentials[i], Zone: z.Name, Team: tm.Name}.RuntimeName()] = true
			}
		}
	}
	return out
}

// captureCredential is the run-time name of the credential a store's
// capture resolves to.
func captureCredential(t *testing.T, m *model.Model, ds *model.Datastore) string {
	t.Helper()
	c, ok, _ := m.TeamCredential(ds.Team, ds.Capture.Credential.Name)
	require.True(t, ok, "datastore %s: credential %s does not resolve", ds.Name, ds.Capture.Credential.Name)
	return c.RuntimeName()
}

// debeziumIncludes reads table.include.list as Debezium does: split at
// commas not escaped with '\' (io.debezium.util.Strings.RegExSplitter),
// each item trimmed and compiled as a case-insensitive regular expression
// matched against the whole schema.table (Predicates.includes).
func debeziumIncludes(t *testing.T, list string) []*regexp.Regexp {
	t.Helper()
	var items []string
	var cur strings.Builder
	for i := 0; i < len(list); i++ {
		switch c := list[i]; {
		case c == '\\':
			require.Less(t, i+1, len(list), "unterminated escape in %q", list)
			cur.WriteByte(c)
			cur.WriteByte(list[i+1])
			i++
		case c == ',':
			items = append(items, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	items = append(items, cur.String())
	var out []*regexp.Regexp
	for _, it := range items {
		it = strings.ReplaceAll(strings.TrimSpace(it), `\,`, ",")
		if it == "" {
			continue
		}
		out = append(out, regexp.MustCompile(`(?i)^(?:`+it+`)$`))
	}
	return out
}

// includedExactly checks that the include list selects exactly the given
// schema.table names: each pattern matches one of them and no variant of it
// with the '.' replaced, so it would capture no other table.
func includedExactly(t *testing.T, file, list string, tables []string) {
	t.Helper()
	pats := debeziumIncludes(t, list)
	assert.Len(t, pats, len(tables), "%s: table.include.list %q for %v", file, list, tables)
	for _, tb := range tables {
		n := 0
		for _, p := range pats {
			if p.MatchString(tb) {
				n++
			}
			assert.False(t, p.MatchString(strings.Replace(tb, ".", "x", 1)), "%s: pattern %s matches more than table %s", file, p, tb)
		}
		assert.Equal(t, 1, n, "%s: table %s is matched by %d patterns of %q", file, tb, n, list)
	}
}

func teamOf(m *model.Model, name string) *model.Team {
	for _, z := range m.Zones {
		for _, tm := range z.Defs {
			if tm.Name == name {
				return tm
			}
		}
	}
	return nil
}

// connectorConfig reads a rendered connector's config.
func connectorConfig(t *testing.T, tree *generator.Tree, path string) map[string]string {
	t.Helper()
	b, ok := tree.Files[path]
	require.True(t, ok, "no %s in the tree", path)
	var body struct {
		Config map[string]string `json:"config"`
	}
	require.NoError(t, json.Unmarshal(b, &body), path)
	return body.Config
}

func generateClean(t *testing.T, m *model.Model) *generator.Tree {
	t.Helper()
	ps := lint.Lint(m)
	n, _, _ := lint.Count(ps)
	require.Zero(t, n, "the model must lint clean: %v", ps)
	tree, err := generator.Generate(context.Background(), m, generator.Options{Version: "test"})
	require.NoError(t, err)
	return tree
}

// TestSameCredentialNameInTwoRegionsIsTwoSecrets: two teams' credentials of
// one name are two Airflow connections, two Kubernetes secrets and two Kafka
// Connect secret files, each named after its team and zone.
func TestSameCredentialNameInTwoRegionsIsTwoSecrets(t *testing.T) {
	py := requirePython(t)
	for _, operator := range []string{"docker", "kubernetes"} {
		t.Run(operator, func(t *testing.T) {
			m := loadExample(t, "enterprise")
			setAirflow(m, 3, operator)
			// SQL captures in two zones, CDC captures in two zones.
			teamOf(m, "treasury").Credentials[0].Name = "postgres"
			datastore(m, "treasury_db").Capture.Credential.Name = "postgres"
			orders := teamOf(m, "orders")
			orders.Credentials = append(orders.Credentials, model.Credential{Name: "postgres", Kind: "user_password"})
			datastore(m, "order_db").Capture.Credential.Name = "postgres"
			teamOf(m, "crm").Credentials[0].Name = "cdc"
			datastore(m, "customer_db").Capture.Credential.Name = "cdc"
			teamOf(m, "ledger").Credentials[0].Name = "cdc"
			datastore(m, "ledger_db").Capture.Credential.Name = "cdc"
			tree := generateClean(t, m)

			descs, stderr, err := runDagcheck(t, py, dagFiles(tree))
			require.NoError(t, err, stderr)
			source := func(dag string) string {
				d, ok := descs["platforms/lakehouse/dags/"+dag+".py"]
				require.True(t, ok, dag)
				require.Len(t, d.Tasks, 1)
				for _, s := range d.Tasks[0].Secrets {
					if s.Env == "DATASURFACE_SOURCE_USER" {
						if operator == "docker" {
							return s.Connection
						}
						return s.Secret
					}
				}
				t.Fatalf("%s has no source secret", dag)
				return ""
			}
			treasury, oms := source("lakehouse__treasury_db_fx_rates"), source("lakehouse__order_db_orders")
			if operator == "docker" {
				assert.Equal(t, "ds__finance__treasury__postgres", treasury)
				assert.Equal(t, "ds__retail__orders__postgres", oms)
			} else {
				assert.Equal(t, "ds--finance--treasury--postgres", treasury)
				assert.Equal(t, "ds--retail--orders--postgres", oms)
			}

			crm := connectorConfig(t, tree, "platforms/lakehouse/connect/customer_db.source.json")
			ledger := connectorConfig(t, tree, "platforms/lakehouse/connect/ledger_db.source.json")
			for _, k := range []string{"database.user", "database.password"} {
				assert.NotEqual(t, crm[k], ledger[k], k)
			}
			assert.Equal(t, "${file:/opt/kafka/secrets/ds__retail__crm__cdc.properties:password}", crm["database.password"])
			assert.Equal(t, "${file:/opt/kafka/secrets/ds__finance__ledger__cdc.properties:password}", ledger["database.password"])
		})
	}
}

// TestATeamCannotReadAnotherTeamsSecretFile: a team that declares another
// team's credential name (ledger_cdc) gets a secret file of its own, not the
// other team's.
func TestATeamCannotReadAnotherTeamsSecretFile(t *testing.T) {
	m := loadExample(t, "enterprise")
	crm := teamOf(m, "crm")
	crm.Credentials = append(crm.Credentials, model.Credential{Name: "ledger_cdc", Kind: "user_password"})
	datastore(m, "customer_db").Capture.Credential.Name = "ledger_cdc"
	tree := generateClean(t, m)
	mine := connectorConfig(t, tree, "platforms/lakehouse/connect/customer_db.source.json")
	theirs := connectorConfig(t, tree, "platforms/lakehouse/connect/ledger_db.source.json")
	for _, k := range []string{"database.user", "database.password"} {
		assert.NotEqual(t, theirs[k], mine[k], "team crm's ledger_cdc reads team ledger's secret file")
	}
	assert.Equal(t, "${file:/opt/kafka/secrets/ds__retail__crm__ledger_cdc.properties:username}", mine["database.user"])
	assert.Equal(t, "${file:/opt/kafka/secrets/ds__finance__ledger__ledger_cdc.properties:username}", theirs["database.user"])
}

// TestEcosystemCredentialsReachTeamsByGrantOnly: a team's capture that names
// the ecosystem's catalog login is refused by lint and by the generator,
// and renders the ecosystem's one secret once the ecosystem grants it.
func TestEcosystemCredentialsReachTeamsByGrantOnly(t *testing.T) {
	m := loadExample(t, "enterprise")
	datastore(m, "customer_db").Capture.Credential.Name = "lakehouse_catalog_rw"
	codes := map[string]bool{}
	for _, p := range lint.Lint(m) {
		codes[p.Code] = true
	}
	assert.True(t, codes["credential-not-granted"], "lint lets team crm's capture use the ecosystem's catalog login")
	_, err := generator.Generate(context.Background(), m, generator.Options{Version: "test"})
	assert.ErrorContains(t, err, "lakehouse_catalog_rw", "the generator renders an ungranted credential")

	for i := range m.Ecosystem.Credentials {
		if c := &m.Ecosystem.Credentials[i]; c.Name == "lakehouse_catalog_rw" {
			c.GrantedTo = []model.Ref{{Name: "retail/crm"}}
		}
	}
	tree := generateClean(t, m)
	cfg := connectorConfig(t, tree, "platforms/lakehouse/connect/customer_db.source.json")
	assert.Equal(t, "${file:/opt/kafka/secrets/ds__lakehouse_catalog_rw.properties:username}", cfg["database.user"])
}
