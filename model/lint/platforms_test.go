package lint_test

import (
	"testing"

	"github.com/datasurface/datasurface/model/lint"
)

func TestPlatforms(t *testing.T) {
	runFamily(t, []familyCase{
		{name: "clean"},
		{
			name: "a legacy platform serves live_only from hours",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, reportsWS, "    platform: lakehouse\n    requirements: {history: live_only}", "    platform: old_dw\n    requirements: {history: live_only, latency: hours}")
			},
		},
		{
			name: "a forensic group on a platform that supports only live_only",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, auditTrailWS, "platform: lakehouse", "platform: old_dw")
			},
			want: []want{{auditTrailWS, "platform: old_dw", "platform-unsupported", lint.Error}},
		},
		{
			name: "an airflow-iceberg platform restricted by its supports block",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ecoFile, "    kind: airflow-iceberg\n    production: true\n    airflow_iceberg:\n      images",
					"    kind: airflow-iceberg\n    production: true\n    supports: {history: [live_only], min_latency: hours}\n    airflow_iceberg:\n      images")
			},
			want: []want{
				// reports needs minutes (the default); audit_trail needs forensic.
				{reportsWS, "platform: lakehouse", "platform-unsupported", lint.Error},
				{auditTrailWS, "platform: lakehouse", "platform-unsupported", lint.Error},
			},
		},
		{
			name: "latency seconds on airflow-iceberg",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, reportsWS, "requirements: {history: live_only}", "requirements: {history: live_only, latency: seconds}")
			},
			want: []want{{reportsWS, "platform: lakehouse", "platform-unsupported", lint.Error}},
		},
		{
			name: "a debezium store on a platform without kafka_connect",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ordersStore, "kind: sql_snapshot", "kind: debezium_cdc")
				m.replace(t, auditTrailWS, "platform: lakehouse", "platform: cloud")
			},
			// lakehouse (reports) has kafka_connect; cloud (audit_trail) has not.
			want: []want{{auditTrailWS, "sinks: [orders.orders]", "platform-cdc", lint.Error}},
		},
		{
			name: "a debezium store on a legacy platform: the legacy pipeline has its own capture",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ordersStore, "kind: sql_snapshot", "kind: debezium_cdc")
				m.replace(t, reportsWS, "    platform: lakehouse\n    requirements: {history: live_only}", "    platform: old_dw\n    requirements: {history: live_only, latency: days}")
			},
		},
		{
			name: "settings: kubernetes needs a namespace, Airflow is 2 or 3",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ecoFile, "airflow: {version: 2, operator: kubernetes, namespace: datasurface}", "airflow: {version: 4, operator: kubernetes}")
			},
			want: []want{
				{ecoFile, "- name: cloud", "platform-settings", lint.Error},
				{ecoFile, "- name: cloud", "platform-settings", lint.Error},
			},
		},
		{
			name: "settings: the kind's block and only that one",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ecoFile, "    legacy: {description: The nightly load into the old warehouse.}\n", "")
				m.replace(t, ecoFile, "zones:\n", "  - {name: half, kind: airflow-iceberg, legacy: {description: x}}\nzones:\n")
			},
			want: []want{
				{ecoFile, "- name: old_dw", "platform-settings", lint.Error},
				// No airflow_iceberg block, and a legacy block: two problems.
				{ecoFile, "name: half", "platform-settings", lint.Error},
				{ecoFile, "name: half", "platform-settings", lint.Error},
			},
		},
		{
			name: "settings: a legacy platform with airflow settings, an empty image",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ecoFile, "    legacy: {description: The nightly load into the old warehouse.}\n",
					"    legacy: {description: The nightly load into the old warehouse.}\n    airflow_iceberg:\n      images: {merge_runner: \"\"}\n      landing: {container: lake, bucket: l}\n      iceberg: {catalog: {kind: rest, name: c, url: \"http://c\"}, warehouse: {container: lake, bucket: w}}\n")
			},
			want: []want{
				{ecoFile, "- name: old_dw", "platform-settings", lint.Error},
				{ecoFile, "- name: old_dw", "platform-settings", lint.Error},
			},
		},
		{
			name: "write modes on airflow-iceberg: the platform's and the groups', either value",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ecoFile, "        warehouse: {container: lake, bucket: warehouse, credential: lake_keys}\n",
					"        warehouse: {container: lake, bucket: warehouse, credential: lake_keys}\n        write_mode: copy_on_write\n")
				m.replace(t, reportsWS, "requirements: {history: live_only}", "requirements: {history: live_only, write_mode: merge_on_read}")
				m.replace(t, auditTrailWS, "requirements: {history: forensic, latency: hours}", "requirements: {history: forensic, latency: hours, write_mode: copy_on_write}")
			},
		},
		{
			name: "write_mode asked of a legacy platform",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, reportsWS, "    platform: lakehouse\n    requirements: {history: live_only}",
					"    platform: old_dw\n    requirements: {history: live_only, latency: hours, write_mode: copy_on_write}")
			},
			want: []want{{reportsWS, "platform: old_dw", "platform-unsupported", lint.Error}},
		},
		{
			name: "write_mode asked of a legacy platform, even merge_on_read",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, reportsWS, "    platform: lakehouse\n    requirements: {history: live_only}",
					"    platform: old_dw\n    requirements: {history: live_only, latency: hours, write_mode: merge_on_read}")
			},
			want: []want{{reportsWS, "platform: old_dw", "platform-unsupported", lint.Error}},
		},
		{
			name: "write_mode in a legacy platform's settings",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ecoFile, "    legacy: {description: The nightly load into the old warehouse.}\n",
					"    legacy: {description: The nightly load into the old warehouse.}\n    airflow_iceberg:\n      images: {merge_runner: \"r/m:1\"}\n      landing: {container: lake, bucket: l}\n      iceberg: {catalog: {kind: rest, name: c, url: \"http://c\"}, warehouse: {container: lake, bucket: w}, write_mode: copy_on_write}\n")
			},
			// The airflow_iceberg block, and so its write_mode, is for kind airflow-iceberg.
			want: []want{{ecoFile, "- name: old_dw", "platform-settings", lint.Error}},
		},
		{
			name: "settings: catalogs and credentials",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ecoFile, `catalog: {kind: rest, name: cloud, url: "https://catalog.example.com"}`, "catalog: {kind: rest, name: cloud, credential: cloud_keys}")
				m.replace(t, ecoFile, "catalog: {kind: sql, name: lakehouse, container: catalog_db}", "catalog: {kind: sql, name: lakehouse}")
			},
			want: []want{
				{ecoFile, "- name: lakehouse", "platform-settings", lint.Error},
				{ecoFile, "- name: cloud", "platform-settings", lint.Error},
				// A catalog credential must be a login, a token or a certificate.
				{ecoFile, "name: cloud, credential: cloud_keys", "ref-credential", lint.Error},
			},
		},
	})
}
