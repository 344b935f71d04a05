#!/usr/bin/env bash
# The whole path on one machine, no Kafka, Airflow or Docker: a PostgreSQL
# source, `merge-runner capture` landing its changes as Debezium would,
# `merge-runner run` merging them into Iceberg tables (embedded SQLite
# catalog, local warehouse), and `merge-runner show` printing the rows; then
# a second round of changes to show an incremental merge.
#
# Usage: scripts/demo.sh   (settings from the environment)
#
#   DEMO_DIR      where everything lives (default ./demo): bin/, deploy/ (the
#                 rendered deploy tree), landing/ (the landed events), state/
#                 (catalog and warehouse), pg/ (the throwaway cluster)
#   DEMO_SECONDS  how long each round's workload runs (10)
#   DEMO_RATE     changes a second in the workload (20)
#   DEMO_PG_DSN   use this PostgreSQL (postgres://user:pass@host:port) instead of a
#                 throwaway cluster; it needs wal_level=logical, and the demo
#                 creates (and replaces) the database "shop" there
#
# Progress goes to stderr, the tables to stdout; the commands' own logs to
# DEMO_DIR/logs.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/pg.sh
. scripts/lib/shop.sh

dir=$(mkdir -p "${DEMO_DIR:-demo}" && cd "${DEMO_DIR:-demo}" && pwd)
seconds=${DEMO_SECONDS:-10}
rate=${DEMO_RATE:-20}
say() { echo "demo: $*" >&2; }
command -v column >/dev/null || column() { tr , '\t'; } # util-linux's column aligns; without it, tabs
trap pg_stop EXIT

# A second run starts afresh: the landing, the tables and the slot's state go together.
rm -rf "$dir/bin" "$dir/deploy" "$dir/landing" "$dir/state" "$dir/logs" "$dir/pg"
mkdir -p "$dir/bin" "$dir/logs"

say "building datasurface, merge-runner and mask-customers into $dir/bin (the first build of merge-runner compiles iceberg-go and arrow: a few minutes; later builds are cached)"
go build -o "$dir/bin/" ./cmd/datasurface ./merge-runner ./merge-runner/cmd/mask-customers
ds=$dir/bin/datasurface
mr=$dir/bin/merge-runner

if [ -n "${DEMO_PG_DSN:-}" ]; then
	base=${DEMO_PG_DSN%/}
	say "using PostgreSQL at ${base#*@}"
else
	say "starting a throwaway PostgreSQL (wal_level=logical) under $dir/pg"
	pg_start "$dir/pg" wal_level=logical max_replication_slots=4 max_wal_senders=4
	base=$PG_DSN_BASE
fi
psql_bin=$(command -v psql || echo "${PG_BIN:-/usr/lib/postgresql/15/bin}/psql")
sql() { "$psql_bin" -X -q -v ON_ERROR_STOP=1 "$base/$1?sslmode=disable" "${@:2}"; }

say "creating the shop database: the tables of examples/quickstart's shop_db datastore"
shop_create sql

say "rendering the deploy tree of examples/quickstart into $dir/deploy"
"$ds" generate examples/quickstart --out "$dir/deploy" --quiet >&2
job=$dir/deploy/platforms/lakehouse/jobs/shop_db.json

export DATASURFACE_SOURCE_URI="$base/shop?sslmode=disable"
export DATASURFACE_SOURCE_USER=${DATASURFACE_SOURCE_USER:-postgres}
mrun() { "$mr" "$@" --log-format text 2>>"$dir/logs/merge-runner.log"; }

# workload SECONDS RATE: inserts, updates and deletes at RATE a second, each
# its own transaction, as an application would make them.
workload() {
	local n=$(($1 * $2))
	sql shop <<SQL
DO \$\$
DECLARE i int; r float; k bigint;
BEGIN
  FOR i IN 1..$n LOOP
    r := random();
    IF r < 0.35 THEN
      INSERT INTO orders (id, customer_id, status, total)
        SELECT coalesce(max(id), 0) + 1, 1 + floor(random() * 200)::bigint, 'placed',
               round((random() * 500)::numeric, 2) FROM orders;
    ELSIF r < 0.70 THEN
      SELECT id INTO k FROM orders WHERE status <> 'delivered' ORDER BY random() LIMIT 1;
      UPDATE orders SET status = CASE status WHEN 'placed' THEN 'shipped' ELSE 'delivered' END WHERE id = k;
    ELSIF r < 0.80 THEN
      SELECT id INTO k FROM orders ORDER BY random() LIMIT 1;
      DELETE FROM orders WHERE id = k;
    ELSIF r < 0.90 THEN
      SELECT id INTO k FROM customers ORDER BY random() LIMIT 1;
      UPDATE customers SET email = 'moved' || i || '@example.org' WHERE id = k;
    ELSE
      INSERT INTO customers (id, name, email, country)
        SELECT coalesce(max(id), 0) + 1, 'customer ' || (coalesce(max(id), 0) + 1), NULL, 'GB' FROM customers;
    END IF;
    COMMIT;
    PERFORM pg_sleep(1.0 / $2);
  END LOOP;
END
\$\$;
SQL
}

# round N: capture what changed, merge it, and print what the tables hold.
round() {
	say "round $1: capturing the changes from the replication slot into $dir/landing"
	mrun capture --job "$job" --events "$dir/landing" >"$dir/logs/capture-$1.json"
	say "round $1: merging the landed events into the Iceberg tables"
	mrun run --job "$job" --events "$dir/landing" --state "$dir/state" >"$dir/logs/run-$1.json"
	local t src pg ice
	for t in customers orders; do
		pg=$(sql shop -At -c "SELECT count(*) FROM $t")
		ice=$(mrun show --job "$job" --state "$dir/state" --table "$t" --limit 0 --format csv | tail -n +2 | wc -l)
		echo
		echo "== $t: $ice rows in Iceberg, $pg in PostgreSQL$([ "$ice" = "$pg" ] && echo ' (equal)' || echo ' (DIFFERENT)')"
		mrun show --job "$job" --state "$dir/state" --table "$t" --limit 5
	done
	echo
	echo "== orders_history: every version with its validity columns; the 6 latest opened or closed"
	mrun show --job "$job" --state "$dir/state" --table orders_history --limit 0 --format csv | latest 6
}

# latest N: the header and the N rows of a history table's CSV whose
# dsf_valid_to, or dsf_valid_from while open, is latest (timestamps in one
# format sort as text), as aligned columns.
latest() {
	awk -F, -v n="$1" '
		NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; print; next }
		{ t = $(col["dsf_valid_to"]); if (t == "") t = $(col["dsf_valid_from"]); print t "\t" $0 | "sort -r | head -" n " | cut -f2-" }
	' | column -s, -t
}

# transform RUN: the masking transformer's DAG, task by task, as Airflow
# would run it: pin the snapshots it reads, run it (the image's command, as
# the golden DAG lakehouse__masked_customers.py has it), merge its output.
transform() {
	local tjob=$dir/deploy/platforms/lakehouse/jobs/masked_customers.json
	say "transformer masking.mask_customers, run $1: pinning its inputs, masking, merging the output (runs in $dir/runs)"
	mrun inputs --job "$tjob" --run "$1" --runs "$dir/runs" --state "$dir/state" >"$dir/logs/inputs-$1.json"
	DATASURFACE_RUN_ID=$1 DATASURFACE_RUN_DIR=$dir/runs/$1 DATASURFACE_JOB_SPEC=$(cat "$tjob") \
		DATASURFACE_CATALOG_URI=sqlite:$dir/state/catalog.db DATASURFACE_WAREHOUSE=$dir/state/warehouse \
		DATASURFACE_CREDENTIAL_MASK_SALT_PASSWORD=demo-salt \
		"$dir/bin/mask-customers" --rename name=initials 2>>"$dir/logs/mask-customers.log"
	mrun run --job "$tjob" --run "$1" --runs "$dir/runs" --state "$dir/state" >"$dir/logs/run-$1.json"
	echo
	local changed
	changed=$(python3 -c 'import json,sys; s=json.loads(open(sys.argv[1]).read().splitlines()[-1]); print("%d inserted, %d updated, %d deleted" % (s["rows_inserted"], s["rows_updated"], s["rows_deleted"]))' "$dir/logs/run-$1.json")
	echo "== masked_customers.customers (the transformer's output, merged like any store): $(mrun show --job "$tjob" --state "$dir/state" --table customers --limit 0 --format csv | tail -n +2 | wc -l) rows; this run: $changed"
	mrun show --job "$tjob" --state "$dir/state" --table customers --limit 5
}

round 1
transform demo-1
say "round 2: a workload of $rate changes a second for $seconds s (inserts, status updates, deletes, new customers)"
workload "$seconds" "$rate"
round 2
transform demo-2

cat >&2 <<EOF

demo: done. The tables live in $dir/state (catalog.db: the SQLite catalog; warehouse/: data and metadata),
      the landed events in $dir/landing, the rendered deploy tree in $dir/deploy.
      Look again:   $mr show --job $job --state $dir/state --table orders_history
      Status:       $mr status --job $job --state $dir/state
      Masked:       $mr show --job $dir/deploy/platforms/lakehouse/jobs/masked_customers.json --state $dir/state --table customers
      Another round needs the PostgreSQL this script stopped; run it again to start afresh.
EOF
