#!/usr/bin/env bash
# Measures the merge-runner's merge (merge.Run, merge-on-read) of Debezium change
# events into an Iceberg table, and prints a markdown table. Usage:
# scripts/bench-merge.sh (no arguments; settings below come from the environment).
#
# The matrix, each step its own process (so its peak RSS is its own):
#   - a 10M-row table (ROWS_BIG) and a 1M-row table (ROWS_SMALL), each prepared once
#     (written straight from Arrow, one append) and copied back to the same work path
#     before every case, so each merge starts from the identical table;
#   - EVENTS (1M) change events, 70% updates, 20% inserts, 10% deletes, landed without
#     and with the JsonConverter schema envelope (flush.size 10,000, one partition),
#     merged with the generator's batch of 100,000 events (ten batches);
#   - the ceiling: decoding the same events and writing their after images as Parquet
#     into an empty table, no merge (10M case only: it does not read the table);
#   - PostgreSQL: the same changes COPYed into a staging table and one MERGE of the
#     latest change per key into a 10M-row table (the Python reference's approach).
#
# Environment:
#   ROWS_BIG, ROWS_SMALL, EVENTS, SEED      sizes (10000000, 1000000, 1000000, 1)
#   BENCH_DIR       parent of the scratch folder (default $TMPDIR or /tmp); removed at
#                   the end unless KEEP=1
#   DATASURFACE_BENCH_PG_DSN  an existing PostgreSQL (15+, MERGE) to use; otherwise a
#                   throwaway cluster is started from /usr/lib/postgresql/$PG_VERSION/bin
#                   (default 15, else the newest installed; as the postgres user when run
#                   as root) on a free port from 54329; SKIP_PG=1 skips PostgreSQL
#   VERIFY=1        after each merge, scan the table and check its row count and sums
#   EXTRA_BATCH     also merges the 10M-row, no-envelope case with batches of this many
#                   events (default 500000, the batch size's effect; empty: no extra run)
#
# The throwaway PostgreSQL keeps the default durability (fsync, synchronous_commit and
# full_page_writes on) and gets memory for the job: shared_buffers=4GB (the 10M-row table
# and its index fit), work_mem=256MB, maintenance_work_mem=1GB, max_wal_size=16GB and
# checkpoint_timeout=30min (no checkpoint in the middle of the MERGE; one is forced before
# it, after the loads). The Iceberg side writes its files through the page cache (iceberg-go's
# local file IO does not fsync; on S3 the store makes a written object durable), while
# PostgreSQL fsyncs its WAL at the MERGE's commit; each side runs with its defaults.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS_BIG=${ROWS_BIG:-10000000}
ROWS_SMALL=${ROWS_SMALL:-1000000}
EVENTS=${EVENTS:-1000000}
SEED=${SEED:-1}

parent=${BENCH_DIR:-${TMPDIR:-/tmp}}
mkdir -p "$parent"
# Rough disk need: enveloped events ~4 KB each, table copies and PostgreSQL's table and
# WAL ~700 bytes per row, plus 2 GB of slack.
need_kb=$(( EVENTS * 4 + ROWS_BIG * 7 / 10 + 2 * 1024 * 1024 ))
avail_kb=$(df -Pk "$parent" | awk 'NR == 2 { print $4 }')
df -h "$parent" >&2
if [ "$avail_kb" -lt "$need_kb" ]; then
	echo "bench-merge: $parent has $((avail_kb / 1024)) MiB free, the run needs about $((need_kb / 1024)) MiB; set BENCH_DIR" >&2
	exit 1
fi

scratch=$(mktemp -d "$parent/bench-merge.XXXXXX")
chmod 755 "$scratch" # the postgres user must reach $scratch/pg
pgbin=""
pgdata=""
cleanup() {
	if [ -n "$pgdata" ]; then
		as_pg "$pgbin/pg_ctl" stop -D "$pgdata" -m fast -w >/dev/null 2>&1 || true
	fi
	if [ "${KEEP:-0}" = 1 ]; then
		echo "bench-merge: kept $scratch" >&2
	else
		rm -rf "$scratch"
	fi
}
trap cleanup EXIT

as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

bin=$scratch/merge-bench
go build -o "$bin" ./merge-runner/cmd/merge-bench
results=$scratch/results.jsonl
work=$scratch/work # every case runs here: the catalog records absolute paths
: >"$results"

reset_table() { # reset_table ROWS: the prepared table back at $work, the landed events kept
	mkdir -p "$scratch/keep"
	mv "$work/events" "$work/job.json" "$work/expected.json" "$scratch/keep/"
	rm -rf "$work"
	cp -r "$scratch/base-$1" "$work"
	mv "$scratch/keep/"* "$work/"
}

step() { # step NAME ARGS...: runs a merge-bench step, its JSON line into $results
	local name=$1
	shift
	echo "bench-merge: $name $*  (load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
	"$bin" "$@" 2>>"$scratch/$name.log" | tee -a "$results" >&2
}

# PostgreSQL.
dsn=${DATASURFACE_BENCH_PG_DSN:-}
if [ -z "$dsn" ] && [ "${SKIP_PG:-0}" != 1 ]; then
	# PostgreSQL 15 (the Python reference's), else the newest installed (MERGE needs 15+).
	pgbin=/usr/lib/postgresql/${PG_VERSION:-15}/bin
	[ -x "$pgbin/pg_ctl" ] || pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
	if [ -z "$pgbin" ] || [ ! -x "$pgbin/pg_ctl" ]; then
		echo "bench-merge: no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql); skipping the PostgreSQL MERGE" >&2
		pgbin=""
	else
		port=""
		for p in $(seq 54329 54429); do
			if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
				port=$p
				break
			fi
		done
		mkdir -p "$scratch/pg"
		[ "$(id -u)" != 0 ] || chown postgres: "$scratch/pg"
		pgdata=$scratch/pg/data
		as_pg "$pgbin/initdb" -D "$pgdata" -U postgres -A trust -E UTF8 --no-locale >"$scratch/pg-initdb.log" 2>&1
		as_pg "$pgbin/pg_ctl" start -D "$pgdata" -l "$scratch/pg/server.log" -w -t 120 -o "-c port=$port \
-c listen_addresses=127.0.0.1 -c unix_socket_directories=$scratch/pg \
-c shared_buffers=4GB -c work_mem=256MB -c maintenance_work_mem=1GB \
-c max_wal_size=16GB -c checkpoint_timeout=30min" >"$scratch/pg-start.log" 2>&1 || {
			cat "$scratch/pg-start.log" "$scratch/pg/server.log" >&2 || true
			exit 1
		}
		dsn="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
	fi
fi

echo "bench-merge: $(nproc) cores; uptime: $(uptime)" >&2

# The tables, each prepared once at the work path and moved aside.
for rows in "$ROWS_BIG" "$ROWS_SMALL"; do
	rm -rf "$work"
	step prepare prepare --dir "$work" --rows "$rows" --seed "$SEED"
	mv "$work" "$scratch/base-$rows"
done

for rows in "$ROWS_BIG" "$ROWS_SMALL"; do
	for env in off on; do
		flag=""
		[ "$env" = off ] || flag=--envelope
		rm -rf "$work"
		cp -r "$scratch/base-$rows" "$work"
		step events events --dir "$work" --events "$EVENTS" --seed "$SEED" $flag
		sync
		step merge merge --dir "$work" --log
		[ "${VERIFY:-0}" != 1 ] || step verify verify --dir "$work"
		if [ "$rows" = "$ROWS_BIG" ]; then
			step ceiling ceiling --dir "$work"
			if [ "$env" = off ] && [ -n "$dsn" ]; then
				step pgmerge pgmerge --dsn "$dsn" --dir "$work"
			fi
			if [ "$env" = off ] && [ -n "${EXTRA_BATCH-500000}" ]; then
				reset_table "$rows"
				step merge merge --dir "$work" --log --max-events "${EXTRA_BATCH-500000}"
				[ "${VERIFY:-0}" != 1 ] || step verify verify --dir "$work"
			fi
		fi
	done
done
rm -rf "$work"

echo "bench-merge: done; uptime: $(uptime)" >&2
echo
"$bin" report "$results"
echo
echo "Raw results (one JSON line per step):"
echo
sed 's/^/    /' "$results"
