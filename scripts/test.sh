#!/usr/bin/env bash
# The test command: installs what is missing, starts a throwaway PostgreSQL
# cluster of its own, runs the whole suite under the race detector (plus short
# fuzz runs and the Prometheus rule tests), and stops the cluster.
#
#   scripts/test.sh            everything
#   scripts/test.sh ./dialplan  only some packages (go test arguments)
#   scripts/test.sh --stress N [packages]  N runs under a CPU hog (scripts/stress.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" != --stress ] || { shift; exec scripts/stress.sh "$@"; }
. scripts/lib.sh

need_go
need_postgres
need_pkgs prometheus chromium espeak-ng sox

work=$(mktemp -d /tmp/hotline-test.XXXXXX)
chmod 755 "$work"
port=$(free_port)
cleanup() { pg_stop "$work/pg"; rm -rf "$work"; }
trap cleanup EXIT
log "starting a throwaway PostgreSQL on 127.0.0.1:$port"
PG_FSYNC=off pg_start "$work/pg" "$port"

export HOTLINE_TEST_DATABASE_URL HOTLINE_TEST_REQUIRE_DB=1 HOTLINE_TEST_REQUIRE_BROWSER=1
HOTLINE_TEST_DATABASE_URL=$(pg_url "$port")

pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=(./...)
log "go vet"
go vet "${pkgs[@]}"
log "go test -race ${pkgs[*]}"
go test -race -count=1 -timeout 12m "${pkgs[@]}"

if [ $# -eq 0 ]; then
	# Each fuzz target runs briefly on top of its committed corpus. The
	# budget is a number of executions (FUZZTIME=30s for a duration): a
	# duration can end in the middle of minimising a new input, which Go
	# reports as a spurious "context deadline exceeded" failure.
	while read -r pkg target; do
		budget=${FUZZTIME:-40000x}
		# FuzzLabels builds a whole metrics registry per input (~200/s).
		[ -n "${FUZZTIME:-}" ] || [ "$target" != FuzzLabels ] || budget=3000x
		log "fuzz $target ($pkg, $budget)"
		timeout 300 go test -run '^$' -fuzz "^${target}\$" -fuzztime "$budget" "$pkg"
	done < <(grep -rl --include='*_test.go' '^func Fuzz' . | while read -r f; do
		d=./$(dirname "${f#./}")
		grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //' | sed "s|^|$d |"
	done)
fi
log "all tests passed"
