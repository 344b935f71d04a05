#!/usr/bin/env bash
# Measures datasurface validate on large synthetic models: builds the CLI,
# synthesizes models of 30,000 and 100,000 datasets (or the sizes given as
# arguments) into a temporary folder, runs validate --stats on each and prints
# a table. Usage: scripts/bench-model.sh [DATASETS...]
#
# The times are wall times of the fastest of $REPEAT (default 3) validate runs
# (load, lint, and all of it); CPU s is the process's user and system time on all cores, steadier than
# wall time on a shared machine. The models are written first and read back
# from the page cache, as on a CI runner that has just cloned the repository.
set -euo pipefail
cd "$(dirname "$0")/.."

sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(30000 100000)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-model.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

go build -o "$tmp/datasurface" ./cmd/datasurface

rows=()
for n in "${sizes[@]}"; do
	"$tmp/datasurface" synth --quiet --datasets "$n" --out "$tmp/model-$n" >&2
	# validate runs $REPEAT times (3 by default); the fastest run is shown.
	best=""
	for _ in $(seq "${REPEAT:-3}"); do
		set +e
		"$tmp/datasurface" validate --stats "$tmp/model-$n" >"$tmp/report-$n.txt" 2>"$tmp/stats-$n.txt"
		code=$?
		set -e
		if [ "$code" -ne 0 ]; then
			echo "validate exited $code on $n datasets:" >&2
			head -20 "$tmp/report-$n.txt" "$tmp/stats-$n.txt" >&2
			exit 1
		fi
		line=$(grep '^stats:' "$tmp/stats-$n.txt")
		total=$(sed -n 's/.* total=\([0-9.]*\)s.*/\1/p' <<<"$line")
		if [ -z "$best" ] || awk -v a="$total" -v b="$best" 'BEGIN { exit !(a < b) }'; then
			best=$total
			bestline=$line
		fi
	done
	line=$bestline
	field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
	rows+=("$(printf '%9s %10s %7s %7s %7s %8s %7s %14s' \
		"$(field datasets)" "$(field columns)" "$(field files)" \
		"$(field load | tr -d s)" "$(field lint | tr -d s)" "$(field total | tr -d s)" \
		"$(field cpu | tr -d s)" "$(field peak_rss | sed 's/MiB$//')")")
	rm -rf "$tmp/model-$n"
done

printf '%9s %10s %7s %7s %7s %8s %7s %14s\n' datasets columns files "load s" "lint s" "total s" "CPU s" "peak RSS MiB"
printf '%s\n' "${rows[@]}"
