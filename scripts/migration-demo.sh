#!/usr/bin/env bash
# A consumer's move off a legacy pipeline, on one machine: examples/quickstart's
# finance workspace reads the shop's orders from a nightly copy (the legacy
# platform nightly_copy: reporting.orders in a second database, timestamps cut
# to milliseconds). Step by step, each a commit to a model repository that
# `datasurface check` judges as a merge request would be:
#
#   1. shadow: the group moves to the lakehouse and names its legacy table; the
#      DAG gains a reconcile task after the merge, run here exactly as the DAG
#      has it. The legacy copy keeps milliseconds only, so reconcile reports
#      the ordered_at column (exit 1)...
#   2. ...and the migration says so (tolerances: timestamp_precision: ms):
#      reconcile agrees (exit 0). A workload changes orders: until the nightly
#      copy runs again the legacy table is behind and reconcile says where;
#      after it, they agree.
#   3. verified: the tables agreed; reconciling continues while the readers move.
#   4. switched: the readers are on the lakehouse; the DAG has no reconcile
#      task, and the nightly copy can be retired.
#
# Usage: scripts/migration-demo.sh   (settings from the environment)
#
#   MIGRATION_DIR     where everything lives (default ./demo-migration): bin/,
#                     model/ (the model repository), deploy/ (its rendered tree),
#                     landing/, state/ (catalog and warehouse), pg/, logs/
#   MIGRATION_PG_DSN  use this PostgreSQL (postgres://user:pass@host:port) instead
#                     of a throwaway cluster; it needs wal_level=logical, and the
#                     script replaces the databases "shop" and "reports" there
#
# What each step shows goes to stdout, progress to stderr, the commands' own
# logs to MIGRATION_DIR/logs. Exits non-zero if any step does not turn out as
# described.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/pg.sh
. scripts/lib/shop.sh

dir=$(mkdir -p "${MIGRATION_DIR:-demo-migration}" && cd "${MIGRATION_DIR:-demo-migration}" && pwd)
say() { echo "migration-demo: $*" >&2; }
step() { printf '\n== %s\n' "$*"; }
fail() { echo "migration-demo: $*" >&2; exit 1; }
trap pg_stop EXIT

rm -rf "$dir/bin" "$dir/model" "$dir/deploy" "$dir/landing" "$dir/state" "$dir/logs" "$dir/pg"
mkdir -p "$dir/bin" "$dir/logs"

say "building datasurface and merge-runner into $dir/bin (the first build of merge-runner compiles iceberg-go and arrow: a few minutes)"
go build -o "$dir/bin/" ./cmd/datasurface ./merge-runner
ds=$dir/bin/datasurface
mr=$dir/bin/merge-runner

if [ -n "${MIGRATION_PG_DSN:-}" ]; then
	base=${MIGRATION_PG_DSN%/}
	say "using PostgreSQL at ${base#*@}"
else
	say "starting a throwaway PostgreSQL (wal_level=logical) under $dir/pg"
	pg_start "$dir/pg" wal_level=logical max_replication_slots=4 max_wal_senders=4
	base=$PG_DSN_BASE
fi
psql_bin=$(command -v psql || echo "${PG_BIN:-/usr/lib/postgresql/15/bin}/psql")
sql() { "$psql_bin" -X -q -v ON_ERROR_STOP=1 "$base/$1?sslmode=disable" "${@:2}"; }

say "creating the shop database and the reporting database the legacy pipeline fills"
shop_create sql
sql postgres -c "DROP DATABASE IF EXISTS reports WITH (FORCE)" -c "CREATE DATABASE reports"
sql reports -c "CREATE SCHEMA reporting" -c "CREATE TABLE reporting.orders (
  id bigint PRIMARY KEY, customer_id bigint NOT NULL, status varchar(20) NOT NULL,
  total numeric(12,2) NOT NULL, ordered_at timestamptz NOT NULL)"

# nightly_copy: the legacy pipeline, as the model's nightly_copy platform
# describes it: the whole table again, timestamps cut to milliseconds.
nightly_copy() {
	sql shop -c "\\copy (SELECT id, customer_id, status, total, date_trunc('milliseconds', ordered_at) FROM orders) TO STDOUT" |
		sql reports -c "TRUNCATE reporting.orders" -c "\\copy reporting.orders FROM STDIN"
}
say "the nightly copy's first run"
nightly_copy

say "the model repository: examples/quickstart as it is on main, in $dir/model"
model=$dir/model
mkdir -p "$model"
cp -R examples/quickstart/. "$model"
git -C "$model" init -q -b main
git -C "$model" -c user.name=demo -c user.email=demo@example.com add -A
git -C "$model" -c user.name=demo -c user.email=demo@example.com commit -q -m "the shop today: finance reads the nightly copy"
ws=$model/zones/shop/teams/sales/workspaces/finance.yaml

# change NAME: commit the workspace file on a branch, judge it as a merge
# request of the team's owner, merge it, and render the deploy tree.
change() {
	git -C "$model" checkout -q -b "$1"
	git -C "$model" -c user.name=demo -c user.email=demo@example.com commit -q -am "finance: $1"
	step "datasurface check of merge request '$1' (base main)"
	"$ds" check --repo "$model" --base main --source acme/model@main --format human >"$dir/logs/check-$1.txt" 2>&1 ||
		{ cat "$dir/logs/check-$1.txt"; fail "check refused merge request $1"; }
	grep -v '^$' "$dir/logs/check-$1.txt" | head -25
	git -C "$model" checkout -q main
	git -C "$model" merge -q --ff-only "$1"
	"$ds" generate "$model" --out "$dir/deploy" --quiet
}

# reconcile_task: the stream DAG's reconcile task for orders, read from the DAG
# file by the DAG checker (never imported), run here as Airflow would run it:
# the same command line, the local catalog (--state) and the local reports
# database in place of the DAG's hosts. Prints its report; returns its exit code.
dag=$dir/deploy/platforms/lakehouse/dags/lakehouse__shop_db.py
job=$dir/deploy/platforms/lakehouse/jobs/shop_db.json
reconcile_command() {
	python3 generator/dagcheck/dagcheck.py "$dag" | python3 -c '
import json, sys
for t in json.load(sys.stdin)[0]["tasks"]:
    if t["task_id"].startswith("reconcile"):
        sys.stdout.write("\0".join(t["command"]) + "\0")'
}
reconcile_task() {
	local cmd=()
	mapfile -d '' cmd < <(reconcile_command)
	[ ${#cmd[@]} -gt 0 ] || fail "the DAG $dag has no reconcile task"
	echo "DAG task: ${cmd[*]}"
	local code=0
	DATASURFACE_JOB_SPEC=$(cat "$job") DATASURFACE_LEGACY_URI="$base/reports?sslmode=disable" \
		DATASURFACE_LEGACY_USER=${DATASURFACE_SOURCE_USER:-postgres} \
		"$mr" "${cmd[@]:1}" --state "$dir/state" --quiet --max-diffs 5 2>>"$dir/logs/reconcile.log" || code=$?
	echo "exit $code"
	return $code
}
expect() { # expect CODE: the last reconcile's exit code was CODE
	[ "$1" = "$2" ] || fail "reconcile exited $2, expected $1 (its log: $dir/logs/reconcile.log)"
}

export DATASURFACE_SOURCE_URI="$base/shop?sslmode=disable"
export DATASURFACE_SOURCE_USER=${DATASURFACE_SOURCE_USER:-postgres}
capture_and_merge() {
	"$mr" capture --job "$job" --events "$dir/landing" --log-format text >>"$dir/logs/capture.json" 2>>"$dir/logs/merge-runner.log"
	"$mr" run --job "$job" --events "$dir/landing" --state "$dir/state" --log-format text >>"$dir/logs/run.json" 2>>"$dir/logs/merge-runner.log"
}

step "1. shadow: finance's daily group moves to the lakehouse beside the nightly copy"
cat >"$ws" <<'YAML'
workspace: finance
documentation: The daily order reports, served today by the nightly copy; moving to the lakehouse.
priority: medium
groups:
  - name: daily
    platform: lakehouse
    requirements: {history: live_only, latency: hours}
    sinks:
      - shop_db.orders
    migration:
      legacy_platform: nightly_copy
      status: shadow
      legacy_container: reports_postgres
      legacy_credential: reports_reader
      tables:
        shop_db.orders: reporting.orders
YAML
change shadow
say "capturing the shop and merging it into the lakehouse"
capture_and_merge
step "the DAG's reconcile after that merge"
code=0
reconcile_task || code=$?
expect 1 "$code"
echo "(the nightly copy keeps milliseconds: ordered_at differs by design, not by loss)"

step "2. the migration names the tolerance: timestamps compare to the millisecond"
cat >>"$ws" <<'YAML'
      tolerances: {timestamp_precision: ms}
YAML
change tolerances
code=0
reconcile_task || code=$?
expect 0 "$code"

say "a workload: 50 orders change, 20 are placed, 10 cancelled"
sql shop -c "UPDATE orders SET status = 'shipped' WHERE id % 20 = 0" \
	-c "INSERT INTO orders (id, customer_id, status, total) SELECT 1000 + i, i, 'placed', 9.99 FROM generate_series(1, 20) i" \
	-c "DELETE FROM orders WHERE id BETWEEN 11 AND 20"
capture_and_merge
step "reconcile before the nightly copy has run: the legacy table is behind"
code=0
reconcile_task || code=$?
expect 1 "$code"
say "the nightly copy runs"
nightly_copy
step "reconcile after the nightly copy"
code=0
reconcile_task || code=$?
expect 0 "$code"

step "3. verified: the tables agree; the readers move to the lakehouse's views"
sed -i 's/status: shadow/status: verified/' "$ws"
change verified
code=0
reconcile_task || code=$?
expect 0 "$code"

step "4. switched: finance reads the lakehouse; no reconcile, the nightly copy can go"
sed -i -e 's/status: verified/status: switched/' -e '/legacy_container:/d' -e '/legacy_credential:/d' "$ws"
change switched
if [ -n "$(reconcile_command)" ]; then fail "the DAG still reconciles after the switch"; fi
echo "the DAG $dag has no reconcile task: retire the nightly copy, then remove the migration block"

cat >&2 <<EOF

migration-demo: done. The model repository with the four merge requests is $model (git log),
      the deploy tree $dir/deploy, the tables $dir/state, the checks' reports $dir/logs/check-*.txt.
EOF
