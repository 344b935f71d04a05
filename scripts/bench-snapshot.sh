#!/usr/bin/env bash
# Measures the snapshot capture (merge-runner's postgres_snapshot: binary COPY in key
# order, compared with the table's recorded key state, only what changed written) and
# prints one JSON line per step. Usage: scripts/bench-snapshot.sh (settings from the
# environment).
#
# The steps, each its own process (so its peak RSS is its own):
#   - a ROWS-row source table of the merge bench's ten columns (orders; orders_2 for
#     the two-table store), filled by generate_series and given its primary key;
#   - COPY (SELECT ... ORDER BY id) TO STDOUT (FORMAT binary) of it into nothing: the
#     rate PostgreSQL hands a client;
#   - the first snapshot into an empty live table (SQLite catalog, local warehouse);
#   - FRACTION (0.01%) of the rows updated, and the next snapshot, which writes only them;
#   - the same two runs into a history table (forensic);
#   - the two-table store: first snapshot and the rerun, both tables in one commit.
#
# Environment:
#   ROWS        rows per source table (10000000)
#   FRACTION    rows changed before each rerun (0.0001)
#   BENCH_DIR   parent of the scratch folder (default $TMPDIR or /tmp); removed at the
#               end unless KEEP=1
#   DATASURFACE_BENCH_PG_DSN  an existing PostgreSQL to use; otherwise a throwaway
#               cluster from /usr/lib/postgresql/*/bin (as the postgres user when run
#               as root) with shared_buffers=2GB
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${ROWS:-10000000}
FRACTION=${FRACTION:-0.0001}
parent=${BENCH_DIR:-${TMPDIR:-/tmp}}
mkdir -p "$parent"
scratch=$(mktemp -d "$parent/bench-snapshot.XXXXXX")
chmod 755 "$scratch"
. scripts/lib/pg.sh
cleanup() {
	pg_stop
	if [ "${KEEP:-0}" = 1 ]; then
		echo "bench-snapshot: kept $scratch" >&2
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
go build -o "$bin" ./merge-runner/cmd/merge-bench
step() { # step ARGS...: one merge-bench step, its JSON line on stdout
	echo "bench-snapshot: $*  (load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
	"$bin" "$@" --dsn "$dsn"
}
echo "bench-snapshot: $(nproc) cores; uptime: $(uptime)" >&2

step snap-prepare --dir "$scratch" --rows "$ROWS" --tables 2
for run in 1 2; do step snap-copy --dir "$scratch"; done
for mode in live forensic; do
	dir=$scratch/$mode
	mkdir -p "$dir"
	flag=""
	[ "$mode" = live ] || flag=--forensic
	step snap-merge --dir "$dir" --rows "$ROWS" $flag
	step snap-change --fraction "$FRACTION" --seed 1 --dir "$dir"
	step snap-merge --dir "$dir" --rows "$ROWS" $flag
	step snap-merge --dir "$dir" --rows "$ROWS" $flag # no change
done
dir=$scratch/store
mkdir -p "$dir"
step snap-merge --dir "$dir" --rows "$ROWS" --tables 2
step snap-change --fraction "$FRACTION" --seed 2 --tables 2 --dir "$dir"
step snap-merge --dir "$dir" --rows "$ROWS" --tables 2
