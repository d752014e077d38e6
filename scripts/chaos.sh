#!/usr/bin/env bash
# The chaos run: `hotline serve` takes a steady stream of generated calls
# from `hotline simulate` (the fake Asterisk, its own process) while things
# break, and the run reports what callers and staff would have noticed.
#
#   scripts/chaos.sh                  1,200 calls at 6/s, time scale 0.05, conversations of 8-16 s
#                                     (about 4 minutes of calls; 4 to 8 minutes in all)
#   scripts/chaos.sh --quick          smoke run: 100 calls at 10/s, faults close together (< 2 minutes)
#   scripts/chaos.sh --calls N --rate R --scale S --talk D --seed N --keep
#
# Everything is on loopback and thrown away at the end (--keep, or a missed
# goal, keeps the folder with the logs): a PostgreSQL of its own (free port),
# `hotline migrate`, the sample directory (deploy/sample), then
#   - simulate drops the app's events WebSocket every 20 s (--cut-ws) and
#     answers 1% of ARI REST requests with 500 (--rest-500);
#   - PostgreSQL is stopped for 30 s and started again;
#   - serve is killed with SIGKILL once and started again.
# At the end it prints a table (calls placed, records written and lost, legs
# left up, staff rung twice at once, callers bridged with nobody,
# conversations cut, calls ended interrupted) and exits 1 when a goal (0) is
# missed. Not part of scripts/test.sh: it is long. internal/app's
# TestChaosRun is a tiny one.
set -euo pipefail
# The whole script is one block, read before it runs: editing the file
# during a run does not change the run.
{
cd "$(dirname "$0")/.."
. scripts/lib.sh

calls=1200 rate=6 scale=0.05 talk=8s seed=1 keep=""
cut=20s rest500=0.01 pg_at=30 pg_down=30 kill_at=120 restart_after=2
settle=30s records=90s
if [[ " $* " == *" --quick "* ]]; then
	calls=100 rate=10 talk=6s cut=4s pg_at=3 pg_down=5 kill_at=7 restart_after=1 settle=20s records=60s
fi
while [ $# -gt 0 ]; do
	case $1 in
	--quick) ;;
	--calls) calls=$2; shift ;;
	--rate) rate=$2; shift ;;
	--scale) scale=$2; shift ;;
	--talk) talk=$2; shift ;;
	--seed) seed=$2; shift ;;
	--keep) keep=1 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument $1 (see scripts/chaos.sh --help)" ;;
	esac
	shift
done

need_go
need_postgres
need_pkgs jq curl

work=$(mktemp -d /tmp/hotline-chaos.XXXXXX)
chmod 755 "$work"
pgport=$(free_port) simport=$(free_port) httpport=$(free_port)
sim_pid="" serve_pid=""
ok=""
cleanup() {
	local p
	for p in $serve_pid $sim_pid; do kill -INT "$p" 2>/dev/null || true; done
	for _ in $(seq 1 20); do
		alive=""
		for p in $serve_pid $sim_pid; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ -n "$alive" ] || break
		sleep 0.5
	done
	for p in $serve_pid $sim_pid; do kill -KILL "$p" 2>/dev/null || true; done
	pg_stop "$work/pg"
	if [ -n "$ok" ] && [ -z "$keep" ]; then
		rm -rf "$work"
	else
		log "logs kept in $work (simulate.out, simulate.log, serve-*.log, pg/postgres.log)"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "PostgreSQL on 127.0.0.1:$pgport (in $work/pg)"
PG_FSYNC=${PG_FSYNC:-off} pg_start "$work/pg" "$pgport"
psql -q "$(pg_url "$pgport")" -c "create database hotline" >/dev/null
log "building"
go build -o "$work/hotline" ./cmd/hotline
hotline=$work/hotline
export HOTLINE_DATABASE_URL HOTLINE_ARI_URL=http://127.0.0.1:$simport HOTLINE_ARI_USER=hotline HOTLINE_ARI_PASSWORD=chaos-run
HOTLINE_DATABASE_URL=$(pg_url "$pgport" hotline)
export HOTLINE_HTTP_ADDR=127.0.0.1:$httpport HOTLINE_SPOOL_DIR=$work/spool HOTLINE_INSTANCE=chaos/hotline
"$hotline" migrate >/dev/null
"$hotline" import deploy/sample/*.csv >/dev/null

log "simulate: $calls calls at $rate/s, scale $scale, conversations of $talk to twice that, WebSocket cut every $cut, $rest500 of REST requests answered 500"
"$hotline" simulate --listen "127.0.0.1:$simport" --calls "$calls" --rate "$rate" --scale "$scale" --talk "$talk" --seed "$seed" \
	--cut-ws "$cut" --rest-500 "$rest500" --settle "$settle" --check-records "$records" \
	>"$work/simulate.out" 2>"$work/simulate.log" &
sim_pid=$!
serves=0
start_serve() {
	serves=$((serves + 1))
	"$hotline" serve >"$work/serve-$serves.log" 2>&1 &
	serve_pid=$!
}
start_serve
for _ in $(seq 1 120); do
	curl -fs "http://$HOTLINE_HTTP_ADDR/readyz" >/dev/null 2>&1 && break
	kill -0 "$serve_pid" 2>/dev/null || die "hotline serve exited at start: $(tail -n 3 "$work/serve-1.log")"
	sleep 0.5
done
curl -fs "http://$HOTLINE_HTTP_ADDR/readyz" >/dev/null || die "hotline serve not ready within 60 s"
t0=$SECONDS
log "serve ready: calls are flowing"

# sleep_until T: sleeps until T seconds after t0; false when simulate has
# already ended (nothing left to break).
sleep_until() {
	while [ $((SECONDS - t0)) -lt "$1" ]; do
		kill -0 "$sim_pid" 2>/dev/null || return 1
		sleep 0.2
	done
	kill -0 "$sim_pid" 2>/dev/null
}
serve_alive() {
	kill -0 "$serve_pid" 2>/dev/null || die "hotline serve exited on its own: $(tail -n 3 "$work/serve-$serves.log")"
}
faults=()
if sleep_until "$pg_at"; then
	serve_alive
	log "t=$((SECONDS - t0))s: stopping PostgreSQL for ${pg_down}s"
	pg_stop "$work/pg"
	sleep "$pg_down"
	PG_FSYNC=${PG_FSYNC:-off} pg_start "$work/pg" "$pgport"
	log "t=$((SECONDS - t0))s: PostgreSQL is back"
	faults+=("PostgreSQL stopped ${pg_down}s")
fi
if sleep_until "$kill_at"; then
	serve_alive
	log "t=$((SECONDS - t0))s: kill -KILL hotline serve (pid $serve_pid); restarting it in ${restart_after}s"
	kill -KILL "$serve_pid"
	wait "$serve_pid" 2>/dev/null || true
	sleep "$restart_after"
	start_serve
	faults+=("serve SIGKILLed once")
fi

# simulate ends by itself: calls placed, the last ones ended, the fake
# settled, the records checked. Bounded all the same.
limit=$((SECONDS + $(awk -v c="$calls" -v r="$rate" 'BEGIN { printf "%d", c / r }') + 600))
while kill -0 "$sim_pid" 2>/dev/null; do
	serve_alive
	[ "$SECONDS" -lt "$limit" ] || die "simulate did not finish in time"
	sleep 1
done
set +e
wait "$sim_pid"
sim_status=$?
set -e
sim_pid=""
serve_alive
[ "$sim_status" -eq 0 ] || die "simulate failed (exit $sim_status): $(tail -n 3 "$work/simulate.log")"
summary=$(grep '^{' "$work/simulate.out" | tail -n 1)
[ -n "$summary" ] || die "simulate printed no summary"
printf '%s\n' "$summary" >"$work/summary.json"

f() { jq -r ".$1" <<<"$summary"; }
grep -v '^{' "$work/simulate.out" >&2
echo
echo "chaos run: $(f calls_placed) calls at $rate/s (scale $scale, conversations of $talk to twice that, seed $seed) in $(printf '%.0f' "$(f seconds)") s;" \
	"WebSocket dropped $(f ws_cuts) times; $(f rest_500s) of $(f rest_requests) REST requests answered 500;" \
	"${faults[*]:-no PostgreSQL stop or kill (the run ended first)}"
echo
echo "| figure | value | goal |"
echo "|---|---|---|"
echo "| calls placed | $(f calls_placed) | |"
echo "| calls taken by serve | $(f calls_taken) | |"
echo "| calls sent to the dialplan fallback (no app connected: restart, WebSocket cut) | $(f calls_fallback) | |"
echo "| records written (rows in \`calls\`) | $(f records_written) | |"
echo "| records lost | $(f records_lost) | 0 |"
echo "| records duplicated | $(f records_duplicate) | 0 |"
echo "| legs left up after the run | $(f legs_left_up) | 0 |"
echo "| bridges left after the run | $(f bridges_left) | 0 |"
echo "| staff rung twice at once | $(f staff_rung_twice) | 0 |"
echo "| callers bridged with nobody (> $(f alone_limit_seconds) s) | $(f callers_bridged_with_nobody) | 0 |"
echo "| conversations cut by serve (both sides still there) | $(f conversations_cut) | 0 |"
echo "| staff bridged with nobody (> $(f alone_limit_seconds) s) | $(f staff_bridged_with_nobody) | |"
echo "| callers left waiting until the run ended (hung up by simulate) | $(f callers_cut_short) | |"
echo "| calls ended \`interrupted\` | $(f records_interrupted) | |"
echo "| … of them by the restart | $(f interrupted_by_restart) | |"
echo "| outcomes | $(jq -r '.outcomes | to_entries | map("\(.key) \(.value)") | join(", ")' <<<"$summary") | |"
echo
missed=$(jq -r '.goals_missed | join(", ")' <<<"$summary")
if [ -n "$missed" ]; then
	echo "goals missed: $missed"
	exit 1
fi
echo "every goal met"
ok=1
exit 0
}
