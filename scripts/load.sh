#!/usr/bin/env bash
# scripts/load.sh [SIMULATE FLAGS…] runs one `hotline serve` against `hotline
# simulate` (the fake Asterisk with generated calls) on this machine, with a
# throwaway PostgreSQL of its own (pg_stat_statements on), and prints the
# figures of README's Performance section: calls placed per second, set-up
# p50/p99, serve's CPU per call (utime+stime from /proc), its heap and
# goroutines at the most concurrent calls, and PostgreSQL statements per call.
#
#   scripts/load.sh --directory synthetic:20000,1000 --seed 1 --rate 200 --duration 60s --scale 0.05
#
# SERVE_CONFIG=FILE gives serve a configuration file (e.g. the long calls of
# scripts/load/long-calls.yaml). SAMPLE=N reads serve's /metrics every N
# seconds for the most concurrent calls and the heap and goroutines then;
# HEAP_EVERY=K (with SAMPLE) also takes every K-th sample a heap profile
# after a GC (/debug/pprof/heap?gc=1): the live heap. Both cost serve CPU
# (a /metrics page of a 1,000-person directory is big), so leave them unset
# when measuring CPU per call. SERVE_BIN=PATH runs another build's serve
# (e.g. an older one, to compare) under this build's simulator. PROFILE=N takes an N-second CPU
# profile of serve (at most 25) once the calls flow; LOAD_KEEP=1 keeps the
# work folder (logs, profiles) and says where it is.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
need_go
need_postgres

work=$(mktemp -d /tmp/hotline-load.XXXXXX)
chmod 755 "$work"
pgport=$(free_port)
simport=$(free_port)
httpport=$(free_port)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	pg_stop "$work/pg"
	if [ -n "${LOAD_KEEP:-}" ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap "exit 130" INT TERM

log "PostgreSQL on 127.0.0.1:$pgport (pg_stat_statements)"
pg_start "$work/pg" "$pgport"
psql -qAt "$(pg_url "$pgport")" -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" >/dev/null
pg_stop "$work/pg"
pg_start "$work/pg" "$pgport"
psql -q "$(pg_url "$pgport")" -c "CREATE DATABASE hotline" >/dev/null
db=$(pg_url "$pgport" hotline)
psql -q "$db" -c "CREATE EXTENSION pg_stat_statements" >/dev/null

log "building"
go build -o "$work/hotline" ./cmd/hotline
hotline=$work/hotline
export HOTLINE_DATABASE_URL=$db HOTLINE_SPOOL_DIR=$work/spool
export HOTLINE_ARI_URL=http://127.0.0.1:$simport HOTLINE_ARI_USER=hotline HOTLINE_ARI_PASSWORD=hotline
export HOTLINE_HTTP_ADDR=127.0.0.1:$httpport
"$hotline" migrate >/dev/null

q() { psql -qAt "$db" -c "$1"; }
metric() { # metric NAME: the sum of a metric's series in serve's /metrics
	curl -sf "http://$HOTLINE_HTTP_ADDR/metrics" | awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $2 } END { printf "%d", s }'
}

log "simulate $*"
"$hotline" simulate --listen "127.0.0.1:$simport" --wait-app 5m "$@" >"$work/simulate.out" 2>"$work/simulate.log" &
sim=$!
pids+=("$sim")
for _ in $(seq 1 1200); do
	grep -q "fake Asterisk listening" "$work/simulate.log" && break
	kill -0 "$sim" 2>/dev/null || die "simulate stopped: $(tail -n 3 "$work/simulate.log")"
	sleep 0.1
done
serve_args=()
[ -n "${SERVE_CONFIG:-}" ] && serve_args=(--config "$SERVE_CONFIG")
"${SERVE_BIN:-$hotline}" serve "${serve_args[@]}" >"$work/serve.log" 2>&1 &
srv=$!
pids+=("$srv")
for _ in $(seq 1 1200); do
	curl -sf "http://$HOTLINE_HTTP_ADDR/readyz" >/dev/null && break
	kill -0 "$srv" 2>/dev/null || die "serve stopped: $(tail -n 3 "$work/serve.log")"
	sleep 0.05
done
heap_idle=$(metric go_memstats_heap_alloc_bytes)
live_idle=0
if [ -n "${HEAP_EVERY:-}" ]; then
	live_idle=$(curl -sf "http://$HOTLINE_HTTP_ADDR/debug/pprof/heap?gc=1&debug=1" | awk '/^# HeapAlloc = / { print $4 }')
fi
cpu() { awk '{ print $14 + $15 }' "/proc/$srv/stat"; }
ticks=$(getconf CLK_TCK)
cpu0=$(cpu)
q "SELECT pg_stat_statements_reset()" >/dev/null
xact0=$(q "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()")
load0=$(cut -d' ' -f1-3 /proc/loadavg)
log "serve ready (idle heap $((heap_idle / 1024)) KiB); calls flowing"
prof=""
if [ -n "${PROFILE:-}" ]; then
	curl -sf -o "$work/serve.cpu" "http://$HOTLINE_HTTP_ADDR/debug/pprof/profile?seconds=$PROFILE" &
	prof=$!
fi

# With SAMPLE, read serve's /metrics every SAMPLE seconds while the
# simulator runs: the most concurrent calls, and the heap and goroutines then.
peak=0 peak_heap=0 peak_gor=0 peak_stack=0 peak_live=0 n=0
while [ -n "${SAMPLE:-}" ] && kill -0 "$sim" 2>/dev/null; do
	page=$(curl -sf "http://$HOTLINE_HTTP_ADDR/metrics" || true)
	get() { printf '%s\n' "$page" | awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $2 } END { printf "%d", s }'; }
	active=$(get hotline_calls_active)
	if [ -n "${HEAP_EVERY:-}" ] && [ $((n % HEAP_EVERY)) -eq 0 ] && [ "$active" -ge "$peak" ]; then
		live=$(curl -sf "http://$HOTLINE_HTTP_ADDR/debug/pprof/heap?gc=1&debug=1" | awk '/^# HeapAlloc = / { print $4 }')
		[ -n "$live" ] && peak_live=$live
	fi
	if [ "$active" -gt "$peak" ]; then
		peak=$active
		peak_heap=$(get go_memstats_heap_alloc_bytes)
		peak_stack=$(get go_memstats_stack_inuse_bytes)
		peak_gor=$(get go_goroutines)
		echo "active $peak heap $peak_heap stacks $peak_stack goroutines $peak_gor live $peak_live" >"$work/peak.txt"
	fi
	n=$((n + 1))
	sleep "$SAMPLE"
done
wait "$sim" || log "simulate failed: $(tail -n 3 "$work/simulate.log")"
cpu1=$(cpu)
load1=$(cut -d' ' -f1-3 /proc/loadavg)
xact1=$(q "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()")
stmts=$(q "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
	WHERE d.datname = current_database() AND s.query NOT LIKE '%pg_stat%'")
q "SELECT calls, left(regexp_replace(query, '\s+', ' ', 'g'), 100) FROM pg_stat_statements s
	JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = current_database() AND s.query NOT LIKE '%pg_stat%'
	ORDER BY calls DESC" >"$work/statements.txt"
rss=$(awk '/VmHWM/ { print $2 }' "/proc/$srv/status")
[ -z "$prof" ] || wait "$prof" || log "no CPU profile (serve answered nothing)"

cat "$work/simulate.out"
placed=$(sed -n 's/^calls placed \([0-9]*\).*/\1/p' "$work/simulate.out" | head -1)
records=$(q "SELECT count(*) FROM calls")
if [ -z "$placed" ]; then
	placed=$records # the simulator was stopped: count the calls recorded
	log "the simulator printed no report: per-call figures are per call recorded"
fi
[ "${placed:-0}" -gt 0 ] || die "no call placed"
awk -v c0="$cpu0" -v c1="$cpu1" -v t="$ticks" -v n="$placed" -v s="$stmts" -v x0="$xact0" -v x1="$xact1" \
	-v peak="$peak" -v hi="$heap_idle" -v hp="$peak_heap" -v live="$peak_live" -v li="$live_idle" -v st="$peak_stack" \
	-v gor="$peak_gor" -v rss="$rss" -v rec="$records" -v l0="$load0" -v l1="$load1" 'BEGIN {
	cpu = (c1 - c0) / t
	printf "serve CPU: %.2f s for %d calls = %.3f ms per call (utime+stime, /proc)\n", cpu, n, 1000 * cpu / n
	printf "PostgreSQL: %d statements = %.2f per call (pg_stat_statements); %d transactions = %.2f per call (pg_stat_database); %d call records\n", s, s / n, x1 - x0, (x1 - x0) / n, rec
	if (peak > 0) {
		printf "most concurrent calls %d: heap %.1f MiB (%.1f KiB per call above idle), goroutine stacks %.1f MiB, %d goroutines (%.1f per call)\n", peak, hp / 1048576, (hp - hi) / 1024 / peak, st / 1048576, gor, gor / peak
		if (live > 0) printf "live heap after a GC near the peak: %.1f MiB (%.1f KiB per call above idle)\n", live / 1048576, (live - li) / 1024 / peak
	}
	printf "serve peak RSS %.1f MiB; load average before %s, after %s (2 cores)\n", rss / 1024, l0, l1
}'
