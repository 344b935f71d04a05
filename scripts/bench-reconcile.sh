#!/usr/bin/env bash
# Measures `merge-runner reconcile` of a ROWS-row live Iceberg table against a legacy
# PostgreSQL copy in which FRACTION of the rows differ, beside reading both tables once
# in full, and prints one JSON line per step, then a summary line. Usage:
# scripts/bench-reconcile.sh (settings from the environment).
#
# The steps, each its own process (so its peak RSS is its own):
#   - snap-prepare: the ROWS-row source table orders of the merge bench's ten columns;
#   - recon-legacy: legacy.orders, a copy of orders (LIKE orders INCLUDING ALL, its
#     primary key), then FRACTION of the keys, one every 1/FRACTION over the key space:
#     of every five, three changed in the legacy copy (two columns each, of four
#     pairs of types in turn), one deleted from it (only in the new table) and one
#     deleted from orders before the next step (only in the legacy copy); it counts
#     what it made by a full join of the two tables and writes the job spec;
#   - snap-merge: the live Iceberg table from orders (SQLite catalog, local warehouse);
#   - the baseline, reading both tables once in full: recon-copy, a binary COPY of
#     legacy.orders in key order into nothing, and iceberg-scan, a scan of every row
#     of the Iceberg table through iceberg-go (what reconcile reads it with);
#   - recon-run: merge-runner reconcile --format json (built here) as a child process,
#     wall time and the child's peak RSS; exit 1 (the tables differ) is expected, and
#     the report's counts must be what recon-legacy made, else the script fails;
#   - recon-summary: reconcile's seconds and peak RSS, the baseline (COPY + scan) and
#     their ratio, from the second of two rounds of baseline and reconcile.
#
# Environment:
#   ROWS        rows of the source table (10000000)
#   FRACTION    fraction of the rows that differ (0.0001)
#   BENCH_DIR   parent of the scratch folder (default $TMPDIR or /tmp); removed at the
#               end unless KEEP=1
#   DATASURFACE_BENCH_PG_DSN  an existing PostgreSQL to use (its orders and
#               legacy.orders are replaced); otherwise a throwaway cluster from
#               /usr/lib/postgresql/*/bin (as the postgres user when run as root) with
#               shared_buffers=2GB
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${ROWS:-10000000}
FRACTION=${FRACTION:-0.0001}
parent=${BENCH_DIR:-${TMPDIR:-/tmp}}
mkdir -p "$parent"
scratch=$(mktemp -d "$parent/bench-reconcile.XXXXXX")
chmod 755 "$scratch"
. scripts/lib/pg.sh
cleanup() {
	pg_stop
	if [ "${KEEP:-0}" = 1 ]; then
		echo "bench-reconcile: kept $scratch" >&2
	else
		rm -rf "$scratch"
	fi
}
trap cleanup EXIT

dsn=${DATASURFACE_BENCH_PG_DSN:-}
if [ -z "$dsn" ]; then
	pg_start "$scratch/pg" shared_buffers=2GB work_mem=64MB maintenance_work_mem=1GB max_wal_size=16GB
	dsn="$PG_DSN_BASE/postgres?sslmode=disable"
fi

bin=$scratch/merge-bench
runner=$scratch/merge-runner
go build -o "$bin" ./merge-runner/cmd/merge-bench
go build -o "$runner" ./merge-runner
dir=$scratch/recon
mkdir -p "$dir"
lines=$scratch/lines.jsonl
step() { # step ARGS...: one merge-bench step, its JSON line on stdout and in $lines
	echo "bench-reconcile: $*  (load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
	"$bin" "$@" --dsn "$dsn" | tee -a "$lines"
}
echo "bench-reconcile: $(nproc) cores; uptime: $(uptime)" >&2

step snap-prepare --dir "$scratch" --rows "$ROWS"
step recon-legacy --dir "$dir" --fraction "$FRACTION"
step snap-merge --dir "$dir" --rows "$ROWS"
# Two rounds of the baseline and the reconcile; the summary takes the second
# (warm caches on both sides: the first read of a fresh table varies by 2x).
for round in 1 2; do
	step recon-copy --dir "$dir"
	echo "bench-reconcile: iceberg-scan --dir $dir  (load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
	"$bin" iceberg-scan --dir "$dir" | tee -a "$lines"
	step recon-run --dir "$dir" --merge-runner "$runner"
done
"$bin" recon-summary "$lines"
