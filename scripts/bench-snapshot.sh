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
pgbin=""
pgdata=""
cleanup() {
	if [ -n "$pgdata" ]; then
		as_pg "$pgbin/pg_ctl" stop -D "$pgdata" -m fast -w >/dev/null 2>&1 || true
	fi
	if [ "${KEEP:-0}" = 1 ]; then
		echo "bench-snapshot: kept $scratch" >&2
	else
		rm -rf "$scratch"
	fi
}
trap cleanup EXIT
as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

dsn=${DATASURFACE_BENCH_PG_DSN:-}
if [ -z "$dsn" ]; then
	pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
	if [ -z "$pgbin" ] || [ ! -x "$pgbin/pg_ctl" ]; then
		echo "bench-snapshot: no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql), and no DATASURFACE_BENCH_PG_DSN" >&2
		exit 1
	fi
	port=""
	for p in $(seq 54339 54439); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
	done
	mkdir -p "$scratch/pg"
	[ "$(id -u)" != 0 ] || chown postgres: "$scratch/pg"
	pgdata=$scratch/pg/data
	as_pg "$pgbin/initdb" -D "$pgdata" -U postgres -A trust -E UTF8 --no-locale >"$scratch/pg-initdb.log" 2>&1
	as_pg "$pgbin/pg_ctl" start -D "$pgdata" -l "$scratch/pg/server.log" -w -t 120 -o "-c port=$port \
-c listen_addresses=127.0.0.1 -c unix_socket_directories=$scratch/pg -c shared_buffers=2GB \
-c work_mem=64MB -c maintenance_work_mem=1GB -c max_wal_size=16GB" >"$scratch/pg-start.log" 2>&1 || {
		cat "$scratch/pg-start.log" "$scratch/pg/server.log" >&2 || true
		exit 1
	}
	dsn="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
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
