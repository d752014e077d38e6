#!/usr/bin/env bash
# Asterisk's own CPU per call: the same call done by the hotline (ARI) and by
# pure dialplan (Dial), on one real Asterisk, with sipp on both sides; all on
# loopback, in a throwaway folder.
#
#   HOTLINE_TEST_ASTERISK=/path/to/sbin/asterisk scripts/astcost.sh [--calls N] [--rate R] [--runs K]
#
# The call: a known café calls (sipp, deploy/asterisk/test/sipp/cost_cafe.xml);
# its KTV's mobile (the Vinaphone gateway, a sipp playing
# deploy/kamailio/sipp/gw.xml) rings 0.5 s, answers, presses 1 1.5 s later
# (RFC 4733), talks 5 s and hangs up; the café stays on the line until
# Asterisk hangs up, or 12 s after its answer.
#   hotline      extension 2: Stasis(hotline), `hotline serve` attached over
#                ARI (greeting, the KTV's leg, announcement, bridge, rating
#                prompt, record); serve sets the application's event filter
#   every event  the same calls with that filter cleared for the batch (PUT
#                /applications/hotline/eventFilter without a body): what
#                the hotline cost Asterisk before it set one
#   dialplan     extension 3<number>: Dial(PJSIP/<number>@gw-vinaphone) of
#                the same number ([astcost-dialplan] in
#                deploy/asterisk/test/extensions.conf)
# Each café of the generated directory has its own KTV and calls once per
# batch, so no call waits for a busy person.
#
# Each run measures four windows of the same length W (N/R + 25 s) on the
# Asterisk process (utime+stime from /proc/<pid>/stat): idle (serve attached,
# no call), N hotline calls, N hotline calls with every event, N dialplan
# calls. CPU per call = (batch − idle) / N. The run prints each run's
# figures, the median and spread of K runs, the ratios to dialplan, serve's
# own CPU per call, and what the hotline made Asterisk send per call (ARI
# events by type with and without the filter, REST requests by operation,
# from serve's /metrics). It exits non-zero when a call did not go as planned
# (sipp failures, a hotline call not recorded `answered`, channels left
# over).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. scripts/asterisk.sh

calls=60
rate=3
runs=3
while [ $# -gt 0 ]; do
	case $1 in
	--calls) calls=$2; shift 2 ;;
	--rate) rate=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	*) die "usage: scripts/astcost.sh [--calls N] [--rate R] [--runs K]" ;;
	esac
done
[ "$calls" -ge 1 ] && [ "$calls" -le 500 ] || die "--calls must be within 1..500"
[ "$runs" -ge 1 ] && [ "$runs" -le 10 ] || die "--runs must be within 1..10"
awk -v r="$rate" 'BEGIN { exit !(r > 0 && r <= 20) }' || die "--rate must be within (0, 20]"

need_go
need_postgres
need_pkgs sip-tester sox curl iproute2
bin=$(ast_find) || die "no Asterisk: set HOTLINE_TEST_ASTERISK to an installed asterisk binary (the fake speaks no SIP)"

work=$(mktemp -d /tmp/hotline-astcost.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	ast_stop "$work/ast"
	pg_stop "$work/pg"
	if [ -n "${KEEP:-}" ]; then log "files kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "building hotline"
go build -o "$work/hotline" ./cmd/hotline
hotline=$work/hotline

# The directory: one region, one area, N cafés in Kiên Giang, each with its
# own KTV (café override), every KTV reachable 24/7 on one Vinaphone number.
mkdir -p "$work/dir"
{
	echo "code,name,manager"
	echo "MN,Miền Nam,RM01"
} >"$work/dir/regions.csv"
{
	echo "code,name,region,manager,provinces"
	echo "TNB,Tây Nam Bộ,MN,AM01,Kiên Giang"
} >"$work/dir/areas.csv"
{
	echo "code,name,role,phones,provinces,status,hours"
	echo "AM01,Area manager,area_manager,0912999001,,active,24/7"
	echo "RM01,Regional manager,regional_manager,0912999002,,active,24/7"
	echo "OP01,Operator,operator,0912999003,,active,24/7"
	for i in $(seq 1 "$calls"); do
		printf 'KTV%03d,KTV %d,technician,09100%05d:vinaphone,Kiên Giang,active,24/7\n' "$i" "$i" "$i"
	done
} >"$work/dir/staff.csv"
{
	echo "code,name,phones,province,technician,status"
	for i in $(seq 1 "$calls"); do
		printf 'KG%03d,Net %d,09455%05d,Kiên Giang,KTV%03d,active\n' "$i" "$i" "$i" "$i"
	done
} >"$work/dir/cafes.csv"
{
	echo SEQUENTIAL
	for i in $(seq 1 "$calls"); do printf '09455%05d;2;\n' "$i"; done
} >"$work/hotline.csv"
{
	echo SEQUENTIAL
	for i in $(seq 1 "$calls"); do printf '09455%05d;309100%05d;\n' "$i" "$i"; done
} >"$work/dialplan.csv"

pg_port=$(free_port)
PG_FSYNC=off pg_start "$work/pg" "$pg_port"
export HOTLINE_DATABASE_URL
HOTLINE_DATABASE_URL=$(pg_url "$pg_port")
"$hotline" migrate >/dev/null
"$hotline" import "$work"/dir/{regions,areas,staff,cafes}.csv >"$work/import.log"

ast_start "$work/ast" "$bin"
ast_pid=$(cat "$work/ast/asterisk.pid")
astcli() { "$bin" -C "$work/ast/etc/asterisk.conf" -rx "$1" 2>/dev/null; }

http=127.0.0.1:$(free_port)
mkdir -p "$work/spool"
HOTLINE_ARI_URL=$HOTLINE_TEST_ARI_URL HOTLINE_ARI_USER=$HOTLINE_TEST_ARI_USER \
	HOTLINE_ARI_PASSWORD=$HOTLINE_TEST_ARI_PASSWORD HOTLINE_INSTANCE=astcost \
	HOTLINE_HTTP_ADDR=$http HOTLINE_SPOOL_DIR=$work/spool \
	HOTLINE_TRUNK_VINAPHONE='PJSIP/{number}@gw-vinaphone' HOTLINE_TRUNK_VIETTEL='PJSIP/{number}@gw-viettel' \
	HOTLINE_TRUNK_DEFAULT='PJSIP/{number}@gw-viettel' HOTLINE_CALLER_ID=19001234 \
	"$hotline" serve >"$work/serve.log" 2>&1 &
serve_pid=$!
pids+=("$serve_pid")
for _ in $(seq 1 120); do
	curl -fsS -o /dev/null "http://$http/readyz" 2>/dev/null && break
	sleep 0.5
done
curl -fsS -o /dev/null "http://$http/readyz" || { tail -20 "$work/serve.log" >&2; die "serve is not ready"; }

# The gateways (only the Vinaphone one is dialled).
for gw in vinaphone viettel; do
	addr_var=HOTLINE_TEST_SIP_GW_${gw^^}
	mkdir -p "$work/gw-$gw"
	(cd "$work/gw-$gw" && exec sipp -sf "$OLDPWD/deploy/kamailio/sipp/gw.xml" -i 127.0.0.1 -p "${!addr_var##*:}" \
		-mi 127.0.0.1 -mp "$(free_udp_port)" -nostdin -trace_err >/dev/null 2>&1) &
	pids+=($!)
done
sleep 2

# cpu PID prints the process's utime+stime in clock ticks.
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
tck=$(getconf CLK_TCK)
window=$(awk -v c="$calls" -v r="$rate" 'BEGIN { printf "%d", c / r + 25.999 }')

# metric NAME prints serve's NAME series as "labels value" lines.
metric() { curl -fsS "http://$http/metrics" | awk -v n="$1" 'index($0, n "{") == 1 { print $1, $2 }'; }
q() { psql -At "$HOTLINE_DATABASE_URL" -c "$1"; }

# batch MODE RUN places the calls of MODE; sets ast_ticks and serve_ticks to
# what Asterisk and serve used over the window.
batch() {
	local mode=$1 run=$2 a0 s0 t0 a1 s1 left succ failed sipp_pid
	mkdir -p "$work/cafe-$mode-$run"
	a0=$(cpu "$ast_pid")
	s0=$(cpu "$serve_pid")
	t0=$EPOCHREALTIME
	(cd "$work/cafe-$mode-$run" && exec sipp -sf "$OLDPWD/deploy/asterisk/test/sipp/cost_cafe.xml" \
		-inf "$work/$mode.csv" -i 127.0.0.1 -p "${HOTLINE_TEST_SIP_CAFE##*:}" -mi 127.0.0.1 -mp "$(free_udp_port)" \
		-r "$rate" -m "$calls" -l "$calls" -nostdin -trace_err -trace_stat -fd 5 -timeout "${window}s" \
		"$HOTLINE_TEST_SIP_ASTERISK" >sipp.out 2>&1) &
	sipp_pid=$!
	sleep "$(awk -v t0="$t0" -v w="$window" -v now="$EPOCHREALTIME" 'BEGIN { printf "%.3f", t0 + w - now }')"
	a1=$(cpu "$ast_pid")
	s1=$(cpu "$serve_pid")
	wait "$sipp_pid" || true
	succ=$(grep -o 'Successful call *| *[0-9]* *| *[0-9]*' "$work/cafe-$mode-$run/sipp.out" | awk -F'|' '{ gsub(/ /, "", $3); print $3 }' | tail -1)
	failed=$(grep -o 'Failed call *| *[0-9]* *| *[0-9]*' "$work/cafe-$mode-$run/sipp.out" | awk -F'|' '{ gsub(/ /, "", $3); print $3 }' | tail -1)
	left=$(astcli "core show channels count" | awk '/active channel/ { print $1 }')
	if [ "${succ:-0}" != "$calls" ] || [ "${left:-0}" != 0 ]; then
		KEEP=1
		die "$mode run $run: sipp ${succ:-?} successful / ${failed:-?} failed of $calls, ${left:-?} channels left (files in $work/cafe-$mode-$run)"
	fi
	ast_ticks=$((a1 - a0)) serve_ticks=$((s1 - s0))
}

# idle: the same, without calls.
idle() {
	local a0 s0
	a0=$(cpu "$ast_pid")
	s0=$(cpu "$serve_pid")
	sleep "$window"
	ast_ticks=$(($(cpu "$ast_pid") - a0)) serve_ticks=$(($(cpu "$serve_pid") - s0))
}

# per_call TICKS IDLE prints milliseconds of CPU per call.
per_call() { awk -v b="$1" -v i="$2" -v n="$calls" -v t="$tck" 'BEGIN { printf "%.1f", (b - i) * 1000 / t / n }'; }

# ari METHOD PATH [BODY] is a REST call to Asterisk, outside the windows.
ari() {
	local args=(-fsS -X "$1" -u "$HOTLINE_TEST_ARI_USER:$HOTLINE_TEST_ARI_PASSWORD")
	[ $# -lt 3 ] || args+=(-H "Content-Type: application/json" -d "$3")
	curl "${args[@]}" "$HOTLINE_TEST_ARI_URL/ari$2"
}
# The event filter serve set at connect, to put back after the every-event
# batches.
filter=$(ari GET /applications/hotline | sed -n 's/.*"events_allowed":\(\[[^]]*\]\).*"events_disallowed":\(\[[^]]*\]\).*/{"allowed":\1,"disallowed":\2}/p')
[ -n "$filter" ] || die "could not read the hotline application's event filter"

# hotline_batch MODE RUN: batch, then the calls' records must all be answered.
answered0=0
hotline_batch() {
	local answered
	[ "$1" = hotline ] || cp "$work/hotline.csv" "$work/$1.csv"
	metric hotline_ari_events_total >"$work/$1-$2.events0"
	metric hotline_ari_requests_total >"$work/$1-$2.requests0"
	batch "$1" "$2"
	sleep 3 # the last records
	metric hotline_ari_events_total >"$work/$1-$2.events1"
	metric hotline_ari_requests_total >"$work/$1-$2.requests1"
	answered=$(q "select count(*) from calls where outcome = 'answered'")
	[ "$answered" -eq $((answered0 + calls)) ] || {
		KEEP=1
		die "$1 run $2: $((answered - answered0)) of $calls calls recorded answered: $(q "select outcome || '=' || count(*) from calls group by 1" | tr '\n' ' ')"
	}
	answered0=$answered
}

log "load: $(uptime)"
log "$runs runs of $calls calls each way at $rate calls/s; windows of $window s (Asterisk pid $ast_pid, $tck ticks/s)"
log "the hotline's event filter: $filter"
hot=() all=() dial=() serve=() serve_all=()
for r in $(seq 1 "$runs"); do
	idle
	ia=$ast_ticks is=$serve_ticks
	hotline_batch hotline "$r"
	ha=$ast_ticks hs=$serve_ticks
	# The same calls with the filter cleared: Asterisk writes every event.
	ari PUT /applications/hotline/eventFilter >/dev/null
	hotline_batch every-event "$r"
	ea=$ast_ticks es=$serve_ticks
	ari PUT /applications/hotline/eventFilter "$filter" >/dev/null
	batch dialplan "$r"
	da=$ast_ticks
	hot+=("$(per_call "$ha" "$ia")")
	all+=("$(per_call "$ea" "$ia")")
	dial+=("$(per_call "$da" "$ia")")
	serve+=("$(per_call "$hs" "$is")")
	serve_all+=("$(per_call "$es" "$is")")
	log "run $r: idle $ia ticks per $window s; Asterisk ms/call: hotline ${hot[-1]}, every event ${all[-1]}, dialplan ${dial[-1]}; serve ms/call ${serve[-1]}, ${serve_all[-1]}"
done

# stats V... prints "median min max".
stats() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f %.1f %.1f\n", m, v[1], v[NR] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
read -r hm _ _ < <(stats "${hot[@]}")
read -r am _ _ < <(stats "${all[@]}")
read -r dm _ _ < <(stats "${dial[@]}")
read -r sm _ _ < <(stats "${serve[@]}")
read -r sam _ _ < <(stats "${serve_all[@]}")
total=$((calls * runs))

# per_type MODE KIND prints "count/call name" for each series of KIND
# (events, requests) that grew during MODE's batches, and the sum.
per_type() {
	local r
	for r in $(seq 1 "$runs"); do
		awk 'NR == FNR { b[$1] = $2; next } { d = $2 - b[$1]; if (d > 0) print $1, d }' "$work/$1-$r.${2}0" "$work/$1-$r.${2}1"
	done | awk -v n="$total" '{ d[$1] += $2 } END { for (k in d) { s = k; sub(/^[^{]*\{/, "", s); sub(/\}$/, "", s); printf "%6.2f  %s\n", d[k] / n, s } }' |
		sort -rn | awk '{ print; t += $1 } END { printf "%6.2f  in all\n", t }'
}

printf '\nAsterisk %s, %d runs of %d calls each way at %s calls/s, windows of %d s\n' "$("$bin" -V | sed 's/Asterisk //')" "$runs" "$calls" "$rate" "$window"
printf '%-52s %s\n' "Asterisk CPU per call, hotline (ms)" "$hm (runs: ${hot[*]})"
printf '%-52s %s\n' "Asterisk CPU per call, hotline, every event (ms)" "$am (runs: ${all[*]})"
printf '%-52s %s\n' "Asterisk CPU per call, dialplan (ms)" "$dm (runs: ${dial[*]})"
printf '%-52s %s\n' "ratio hotline / dialplan (medians)" "$(ratio "$hm" "$dm")"
printf '%-52s %s\n' "ratio hotline, every event / dialplan (medians)" "$(ratio "$am" "$dm")"
printf '%-52s %s\n' "serve CPU per call, hotline (ms)" "$sm (runs: ${serve[*]})"
printf '%-52s %s\n' "serve CPU per call, hotline, every event (ms)" "$sam (runs: ${serve_all[*]})"
printf '%-52s %s\n' "load (uptime)" "$(uptime | sed 's/.*load average: //')"
for mode in hotline every-event; do
	printf '\nARI events per call, %s (hotline_ari_events_total):\n' "$mode"
	per_type "$mode" events
done
printf '\nARI requests per call, hotline (hotline_ari_requests_total):\n'
per_type hotline requests
