#!/usr/bin/env bash
# Runs the Go tests N times while a CPU hog keeps every core busy, and
# reports failures per test: the proof that the suite does not flake on a
# busy machine. Same throwaway PostgreSQL and environment as scripts/test.sh.
#
#   scripts/stress.sh 10                 the whole suite, 10 times
#   scripts/stress.sh 10 ./ivr           some packages (go test arguments)
#   scripts/stress.sh 5 -run TestSecond ./ivr
#   scripts/test.sh --stress 10 ./ivr    the same
#
# Environment: STRESS_HOG (hog workers, default one per core; 0: no hog),
# STRESS_RUN_TIMEOUT (go test -timeout of one run, default 12m),
# STRESS_LOGS (where the go test -json output of failed runs is kept,
# default /tmp/hotline-stress-logs.XXXXXX).
#
# The last line is "stress: N runs, F failures"; the exit status is 0 only
# when F is 0.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

[ $# -ge 1 ] && [[ $1 =~ ^[1-9][0-9]*$ ]] || die "usage: scripts/stress.sh N [go test packages and flags]"
runs=$1
shift
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(./...)
run_timeout=${STRESS_RUN_TIMEOUT:-12m}
workers=${STRESS_HOG:-$(nproc)}

need_go
need_postgres
need_pkgs prometheus chromium espeak-ng sox
command -v python3 >/dev/null 2>&1 || need_pkgs python3
# stress-ng is the hog; without it (no root, no network) busy shell loops do.
command -v stress-ng >/dev/null 2>&1 || (need_pkgs stress-ng) || log "no stress-ng: busy loops as the hog"

work=$(mktemp -d /tmp/hotline-stress.XXXXXX)
chmod 755 "$work"
logs=${STRESS_LOGS:-$(mktemp -d /tmp/hotline-stress-logs.XXXXXX)}
mkdir -p "$logs"
port=$(free_port)
gopid=""
hog_pids=()
stop_hog() {
	local p
	for p in "${hog_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${hog_pids[@]}"; do wait "$p" 2>/dev/null || true; done
	hog_pids=()
}
cleanup() {
	# The running go test and its test binaries (their own process group).
	[ -z "$gopid" ] || kill -- "-$gopid" 2>/dev/null || true
	stop_hog
	pg_stop "$work/pg"
	rm -rf "$work"
	rmdir "$logs" 2>/dev/null || true # kept only when a run failed
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "starting a throwaway PostgreSQL on 127.0.0.1:$port"
PG_FSYNC=off pg_start "$work/pg" "$port"
export HOTLINE_TEST_DATABASE_URL HOTLINE_TEST_REQUIRE_DB=1 HOTLINE_TEST_REQUIRE_BROWSER=1
HOTLINE_TEST_DATABASE_URL=$(pg_url "$port")

# Build the test binaries before the hog starts (runs no test).
log "building: go test -race -run '^\$' ${args[*]}"
go test -race -count=1 -run '^$' "${args[@]}" >/dev/null

if [ "$workers" -gt 0 ]; then
	if command -v stress-ng >/dev/null 2>&1; then
		log "CPU hog: stress-ng --cpu $workers"
		stress-ng --cpu "$workers" --cpu-load 100 --timeout "$((runs * 20))m" --quiet &
		hog_pids+=($!)
	else
		log "CPU hog: $workers busy loops"
		for _ in $(seq 1 "$workers"); do
			(while :; do :; done) &
			hog_pids+=($!)
		done
	fi
	# Should this script be killed hard (no trap), the hog stops too.
	(
		while kill -0 $$ 2>/dev/null; do sleep 5; done
		kill "${hog_pids[@]}" 2>/dev/null
	) &
	hog_pids+=($!)
fi

failed_runs=0
for i in $(seq 1 "$runs"); do
	out="$work/run-$i.json"
	start=$SECONDS
	rc=0
	# Bounded by -timeout: go test kills a test binary that outlives it. In
	# its own process group, so that an interrupt stops all of it at once.
	setsid go test -race -count=1 -json -timeout "$run_timeout" "${args[@]}" >"$out" 2>&1 &
	gopid=$!
	wait "$gopid" || rc=$?
	gopid=""
	if [ "$rc" -ne 0 ]; then
		failed_runs=$((failed_runs + 1))
		cp "$out" "$logs/run-$i.json"
		log "run $i/$runs: FAILED (exit $rc) in $((SECONDS - start))s; output in $logs/run-$i.json"
	else
		log "run $i/$runs: ok in $((SECONDS - start))s"
	fi
done
stop_hog

# Per-test failure counts from the go test -json streams. A failing test
# whose subtest failed in the same run counts once, as the subtest; a package
# that failed with no failing test (build error, panic, timeout) counts as
# the package.
status=0
python3 - "$runs" "$failed_runs" "$work" <<'EOF' || status=$?
import collections, glob, json, os, sys

runs, failed_runs, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
counts = collections.Counter()
first_output = {}
for path in sorted(glob.glob(os.path.join(work, "run-*.json"))):
    failed = set()   # (package, test)
    pkg_failed = set()
    output = collections.defaultdict(list)
    for line in open(path, encoding="utf-8", errors="replace"):
        try:
            ev = json.loads(line)
        except ValueError:
            continue  # build errors and the like are printed as plain text
        pkg, test, action = ev.get("Package", ""), ev.get("Test", ""), ev.get("Action")
        if action == "output":
            output[(pkg, test)].append(ev.get("Output", ""))
        elif action == "fail":
            (failed.add((pkg, test)) if test else pkg_failed.add(pkg))
    leaves = {(p, t) for (p, t) in failed if not any(p == q and u.startswith(t + "/") for (q, u) in failed)}
    for k in leaves:
        counts[k] += 1
        first_output.setdefault(k, "".join(output[k])[-3000:])
    for p in pkg_failed:
        if not any(q == p for (q, _) in failed):
            counts[(p, "(package)")] += 1
            first_output.setdefault((p, "(package)"), "".join(output[(p, "")])[-3000:])

if counts:
    print("failures per test (of %d runs):" % runs)
    for (pkg, test), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print("  %3d  %s %s" % (n, pkg, test))
    print()
    for (pkg, test), text in sorted(first_output.items()):
        print("--- first failure of %s %s:" % (pkg, test))
        print(text.rstrip())
        print()
total = sum(counts.values())
if failed_runs and not total:
    total = failed_runs  # the run failed outside any test (e.g. a build error)
print("stress: %d runs, %d failures" % (runs, total))
sys.exit(1 if total or failed_runs else 0)
EOF
[ "$failed_runs" -eq 0 ] || log "go test -json output of the failed runs: $logs"
exit "$status"
