#!/usr/bin/env bash
# The test command: installs what is missing, starts a throwaway PostgreSQL
# cluster of its own, runs the whole suite under the race detector (plus short
# fuzz runs and the Prometheus rule tests), and stops the cluster.
#
#   scripts/test.sh            everything (and the real-Asterisk suites when an
#                              Asterisk is installed: HOTLINE_TEST_ASTERISK=… or
#                              asterisk on PATH)
#   scripts/test.sh ./dialplan  only some packages (go test arguments)
#   scripts/test.sh --real     only the real-Asterisk suites
#   scripts/test.sh --stress N [packages]  N runs under a CPU hog (scripts/stress.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" != --stress ] || { shift; exec scripts/stress.sh "$@"; }
. scripts/lib.sh
. scripts/asterisk.sh

real_only=""
if [ "${1:-}" = "--real" ]; then
	real_only=1
	shift
fi

need_go
need_postgres
need_pkgs prometheus chromium espeak-ng sox kamailio

work=$(mktemp -d /tmp/hotline-test.XXXXXX)
chmod 755 "$work"
port=$(free_port)
cleanup() { ast_stop "$work/ast"; pg_stop "$work/pg"; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
log "starting a throwaway PostgreSQL on 127.0.0.1:$port"
PG_FSYNC=off pg_start "$work/pg" "$port"

export HOTLINE_TEST_DATABASE_URL HOTLINE_TEST_REQUIRE_DB=1 HOTLINE_TEST_REQUIRE_BROWSER=1 HOTLINE_TEST_REQUIRE_KAMAILIO=1
HOTLINE_TEST_DATABASE_URL=$(pg_url "$port")

pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=(./...)
if [ -z "$real_only" ]; then
log "go vet"
go vet "${pkgs[@]}"
log "go test -race ${pkgs[*]}"
go test -race -count=1 -timeout 12m "${pkgs[@]}"
fi

if [ $# -eq 0 ] && [ -z "$real_only" ]; then
	# Each fuzz target runs briefly on top of its committed corpus. The
	# budget is a number of executions (FUZZTIME=30s for a duration): a
	# duration can end in the middle of minimising a new input, which Go
	# reports as a spurious "context deadline exceeded" failure. Minimising a
	# new input is bounded too (200 executions, not Go's default of 60 s per
	# input, which let FuzzLabels run into the 300 s limit on a loaded box).
	while read -r pkg target; do
		budget=${FUZZTIME:-40000x}
		# FuzzLabels builds a whole metrics registry per input (~200/s).
		[ -n "${FUZZTIME:-}" ] || [ "$target" != FuzzLabels ] || budget=3000x
		log "fuzz $target ($pkg, $budget)"
		timeout 300 go test -run '^$' -fuzz "^${target}\$" -fuzztime "$budget" -fuzzminimizetime 200x "$pkg"
	done < <(grep -rl --include='*_test.go' '^func Fuzz' . | while read -r f; do
		d=./$(dirname "${f#./}")
		grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //' | sed "s|^|$d |"
	done)
fi
# The real-Asterisk suites: the same scenarios as on the fake, plus SIP on
# both sides, against a throwaway Asterisk of our own (run one after another:
# they share the app name).
real_tests='^(TestConformanceAsterisk|TestRecordingFileAsterisk|TestPhoneScenariosAsterisk|TestSIPAsterisk|TestDoctorAsterisk)'
real_pkgs=(./ari/arifake ./ivr ./internal/app)
if [ $# -gt 0 ] && [ -z "$real_only" ]; then
	: # a package run: no real-Asterisk stage
elif ! ast_bin=$(ast_find 2>"$work/ast-why"); then
	[ -z "$real_only" ] || die "$(cat "$work/ast-why")"
	log "real-Asterisk suites skipped: $(cat "$work/ast-why")"
else
	need_pkgs sip-tester tshark sox curl iproute2
	ast_start "$work/ast" "$ast_bin"
	log "go test (real Asterisk) -run '$real_tests' ${real_pkgs[*]}"
	start=$SECONDS
	set +e
	HOTLINE_TEST_REQUIRE_ASTERISK=1 go test -race -count=1 -p 1 -timeout 20m -v -run "$real_tests" "${real_pkgs[@]}" \
		>"$work/real.log" 2>&1
	rc=$?
	set -e
	passed=$(grep -cE '^ *--- PASS' "$work/real.log" || true)
	failed=$(grep -cE '^ *--- FAIL' "$work/real.log" || true)
	skipped=$(grep -cE '^ *--- SKIP' "$work/real.log" || true)
	if [ "$rc" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$skipped" -ne 0 ]; then
		grep -vE '^=== (RUN|PAUSE|CONT)' "$work/real.log" | tail -150 >&2
		log "Asterisk's log (last lines):"
		tail -40 "$work/ast/log/messages.log" >&2 || true
		die "real Asterisk ($("$ast_bin" -V)): $passed passed, $failed failed, $skipped skipped"
	fi
	grep -E '^(ok|FAIL|---) ' "$work/real.log" >&2 || true
	log "real Asterisk ($("$ast_bin" -V)): $passed tests passed (incl. subtests), 0 failed, 0 skipped, in $((SECONDS - start)) s"
	ast_stop "$work/ast"
fi
log "all tests passed"
