# Sourced by the scripts here: starts a throwaway PostgreSQL cluster from the
# machine's server binaries, as the tests do (merge-runner/internal/testenv).
#
#   pg_start DIR [SETTING=VALUE...]   initdb + start under DIR; sets PG_DSN_BASE
#                                     (postgres://postgres@127.0.0.1:PORT) and PG_PORT
#   pg_stop                           stops it (safe to call twice, or when none started)
#
# initdb refuses root, so as root the cluster runs as the postgres user.

PG_BIN=""
PG_DATA=""

as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
	local dir=$1
	shift
	PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
	if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/pg_ctl" ]; then
		echo "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin: install them (apt-get install postgresql) or give a DSN" >&2
		return 1
	fi
	PG_PORT=""
	local p
	for p in $(seq 54339 54439); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then PG_PORT=$p; break; fi
	done
	if [ -z "$PG_PORT" ]; then
		echo "no free port in 54339-54439 for PostgreSQL" >&2
		return 1
	fi
	mkdir -p "$dir"
	chmod 755 "$dir"
	[ "$(id -u)" != 0 ] || chown postgres: "$dir"
	PG_DATA=$dir/data
	as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		return 1
	}
	local opts="-c port=$PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir"
	local s
	for s in "$@"; do opts="$opts -c $s"; done
	as_pg "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$dir/server.log" -w -t 120 -o "$opts" >"$dir/start.log" 2>&1 || {
		cat "$dir/start.log" "$dir/server.log" >&2 || true
		return 1
	}
	PG_DSN_BASE="postgres://postgres@127.0.0.1:$PG_PORT"
}

pg_stop() {
	if [ -n "$PG_DATA" ]; then
		as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w >/dev/null 2>&1 || true
		PG_DATA=""
	fi
}
