#!/usr/bin/env bash
# The end-to-end run of deploy/kamailio: Kamailio in front of two real
# Asterisk nodes, one `hotline serve` per node (or, with --one-serve, one
# serve for both: ari.nodes), one PostgreSQL, cafés and GSM gateways played
# by sipp; everything on loopback, in a throwaway folder.
#
#   HOTLINE_TEST_ASTERISK=/path/to/sbin/asterisk scripts/cluster.sh [--calls N] [--rate R] [--one-serve]
#
# Cafés of the sample directory call at R calls/s (default 1) for N calls
# (default 90) through Kamailio; every person's mobile (the gateway) answers,
# presses 1, talks 5 s and hangs up; each caller hangs up 12 s after its
# answer. When a third of the calls are placed, node 2's Asterisk is killed
# (SIGKILL) and started again 10 s later. The run prints, and exits non-zero
# when a goal is missed:
#   - calls placed by sipp, calls answered by a node, calls refused;
#   - calls per node (from the call records' node);
#   - how long after the kill Kamailio still sent a new call to node 2, and
#     when it marked it down (goal: no new call to it after 5 s);
#   - calls recorded (rows in `calls`) against calls that reached a node
#     (goal: every one).
# The fake Asterisk speaks no SIP, so this run needs a real Asterisk.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. scripts/asterisk.sh

calls=90
rate=1
one_serve=""
while [ $# -gt 0 ]; do
	case $1 in
	--calls) calls=$2; shift 2 ;;
	--rate) rate=$2; shift 2 ;;
	--one-serve) one_serve=1; shift ;;
	*) die "usage: scripts/cluster.sh [--calls N] [--rate R] [--one-serve]" ;;
	esac
done

need_go
need_postgres
need_pkgs kamailio sip-tester sox curl iproute2
bin=$(ast_find) || die "no Asterisk: set HOTLINE_TEST_ASTERISK to an installed asterisk binary (the fake speaks no SIP)"

work=$(mktemp -d /tmp/hotline-cluster.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -f "$work/kamailio.pid" ] && kill -KILL -- "-$(cat "$work/kamailio.pid")" 2>/dev/null || true
	ast_stop "$work/node1"
	ast_stop "$work/node2"
	pg_stop "$work/pg"
	if [ -n "${KEEP:-}" ]; then log "files kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "building hotline"
go build -o "$work/hotline" ./cmd/hotline
hotline=$work/hotline

pg_port=$(free_port)
PG_FSYNC=off pg_start "$work/pg" "$pg_port"
export HOTLINE_DATABASE_URL
HOTLINE_DATABASE_URL=$(pg_url "$pg_port")
"$hotline" migrate >/dev/null
"$hotline" import deploy/sample/*.csv >"$work/import.log"

# Ports: Kamailio (the nodes' café trunk) and the two gateways, shared.
kam_port=$(free_udp_port)
export AST_CAFE_PORT=$kam_port AST_GW_VINAPHONE_PORT AST_GW_VIETTEL_PORT AST_BEHIND_LB=yes
AST_GW_VINAPHONE_PORT=$(free_udp_port)
AST_GW_VIETTEL_PORT=$(free_udp_port)

# serve_start NAME LOGDIR [VAR=value…]: a hotline serve with the trunks of
# deploy/asterisk/test, waited for until /readyz says ready.
serve_start() {
	local name=$1 dir=$2 http
	shift 2
	http=127.0.0.1:$(free_port)
	log "hotline serve for $name (HTTP $http)"
	mkdir -p "$dir/spool-hotline"
	env "$@" HOTLINE_HTTP_ADDR="$http" HOTLINE_SPOOL_DIR="$dir/spool-hotline" \
		HOTLINE_TRUNK_VINAPHONE='PJSIP/{number}@gw-vinaphone' HOTLINE_TRUNK_VIETTEL='PJSIP/{number}@gw-viettel' \
		HOTLINE_TRUNK_DEFAULT='PJSIP/{number}@gw-viettel' HOTLINE_CALLER_ID=19001234 \
		"$hotline" serve >"$dir/serve.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 1 120); do
		curl -fsS -o /dev/null "http://$http/readyz" 2>/dev/null && break
		sleep 0.5
	done
	curl -fsS -o /dev/null "http://$http/readyz" || { tail -20 "$dir/serve.log" >&2; die "serve for $name is not ready"; }
	serve_http=$http
}

declare -A sip_addr
yaml=$work/hotline.yaml
printf 'ari:\n  nodes:\n' >"$yaml"
for n in node1 node2; do
	ast_start "$work/$n" "$bin"
	sip_addr[$n]=$HOTLINE_TEST_SIP_ASTERISK
	if [ -n "$one_serve" ]; then
		printf '    - {name: %s, url: "%s", user: "%s", password: "%s"}\n' "$n" "$HOTLINE_TEST_ARI_URL" \
			"$HOTLINE_TEST_ARI_USER" "$HOTLINE_TEST_ARI_PASSWORD" >>"$yaml"
		continue
	fi
	serve_start "$n" "$work/$n" HOTLINE_ARI_URL="$HOTLINE_TEST_ARI_URL" HOTLINE_ARI_USER="$HOTLINE_TEST_ARI_USER" \
		HOTLINE_ARI_PASSWORD="$HOTLINE_TEST_ARI_PASSWORD" HOTLINE_ARI_NODE=$n HOTLINE_INSTANCE=$n
done
if [ -n "$one_serve" ]; then
	# One serve for both nodes: ready once both are served.
	serve_start "node1+node2" "$work" HOTLINE_CONFIG="$yaml" HOTLINE_INSTANCE=hotline
	for _ in $(seq 1 60); do
		curl -fsS "http://$serve_http/readyz" | grep -q '"ari node1":"ok".*"ari node2":"ok"' && break
		sleep 0.5
	done
	curl -fsS "http://$serve_http/readyz" | grep -q '"ari node1":"ok".*"ari node2":"ok"' ||
		{ tail -20 "$work/serve.log" >&2; die "the serve does not serve both nodes"; }
fi

# The gateways: one sipp each, shared by both nodes.
for gw in vinaphone viettel; do
	port_var=AST_GW_${gw^^}_PORT
	mkdir -p "$work/gw-$gw"
	(cd "$work/gw-$gw" && exec sipp -sf "$OLDPWD/deploy/kamailio/sipp/gw.xml" -i 127.0.0.1 -p "${!port_var}" \
		-mi 127.0.0.1 -mp "$(free_udp_port)" -nostdin -trace_err -trace_stat -fd 5 >/dev/null 2>&1) &
	pids+=($!)
done

# Kamailio, its log lines stamped with the time they arrive.
cat >"$work/dispatcher.list" <<-EOF
	1 sip:${sip_addr[node1]} 0
	1 sip:${sip_addr[node2]} 0
EOF
echo "1 127.0.0.1 32 0" >"$work/trunks.list"
log "Kamailio on 127.0.0.1:$kam_port in front of ${sip_addr[node1]} and ${sip_addr[node2]}"
setsid kamailio -f deploy/kamailio/kamailio.cfg -DD -E -Y "$work" -P "$work/kamailio.mainpid" -w "$work" \
	-A "LISTEN=udp:127.0.0.1:$kam_port" -A "DISPATCHER_LIST=\"$work/dispatcher.list\"" \
	-A "TRUNKS_LIST=\"$work/trunks.list\"" -A "CTL_SOCKET=\"unix:$work/kamailio_ctl\"" 2>&1 \
	| while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done >"$work/kamailio.log" &
disown
for _ in $(seq 1 40); do
	[ -s "$work/kamailio.mainpid" ] && break
	sleep 0.25
done
[ -s "$work/kamailio.mainpid" ] || { cat "$work/kamailio.log" >&2; die "Kamailio did not start"; }
# setsid made Kamailio a group leader: its workers go with it.
cp "$work/kamailio.mainpid" "$work/kamailio.pid"
sleep 3 # probe rounds

# The cafés: active cafés of the sample directory, in turn.
{
	echo SEQUENTIAL
	awk -F, 'NR > 1 && $6 == "active" { split($3, p, ";"); gsub(/ /, "", p[1]); print p[1] ";" }' deploy/sample/cafes.csv
} >"$work/cafes.csv"
log "placing $calls calls at $rate/s through Kamailio"
mkdir -p "$work/cafe"
start=$EPOCHREALTIME
(cd "$work/cafe" && exec sipp -sf "$OLDPWD/deploy/kamailio/sipp/cafe.xml" -inf "$work/cafes.csv" -i 127.0.0.1 \
	-p "$(free_udp_port)" -r "$rate" -m "$calls" -l 200 -nostdin -trace_err -trace_stat -fd 5 -timeout 600s \
	"127.0.0.1:$kam_port" >"$work/cafe/sipp.out" 2>&1) &
cafe_pid=$!

# A third of the way in: node 2's Asterisk dies, and comes back 10 s later.
kill_after=$(awk -v c="$calls" -v r="$rate" 'BEGIN { printf "%.1f", c / r / 3 }')
sleep "$kill_after"
node2_pid=$(cat "$work/node2/asterisk.pid")
kill -KILL "$node2_pid"
killed=$EPOCHREALTIME
log "killed node 2's Asterisk (pid $node2_pid) at +$(awk -v a="$killed" -v b="$start" 'BEGIN { printf "%.1f", a - b }') s"
sleep 10
"$bin" -C "$work/node2/etc/asterisk.conf" -f -n -q </dev/null >>"$work/node2/log/console.log" 2>&1 &
echo $! >"$work/node2/asterisk.pid"
disown
log "started node 2's Asterisk again"

wait "$cafe_pid" || true
log "sipp done; letting the last calls end"
sleep 15

# --- figures ---
q() { psql -At "$HOTLINE_DATABASE_URL" -c "$1"; }
sent1=$(grep -c "sent to node sip:${sip_addr[node1]}" "$work/kamailio.log" || true)
sent2=$(grep -c "sent to node sip:${sip_addr[node2]}" "$work/kamailio.log" || true)
failover=$(grep -c "failed (.*); trying the next one" "$work/kamailio.log" || true)
last_to_dead=$(awk -v k="$killed" -v a="sent to node sip:${sip_addr[node2]}" 'index($0, a) && $1 > k && $1 < k + 10 { l = $1 } END { if (l) printf "%.2f", l - k; else print "none" }' "$work/kamailio.log")
down_at=$(awk -v k="$killed" '/hotline node down/ && $1 > k { printf "%.2f", $1 - k; exit }' "$work/kamailio.log")
refused=$(grep -c "no hotline node is up" "$work/kamailio.log" || true)
succ=$(grep -o 'Successful call *| *[0-9]* *| *[0-9]*' "$work/cafe/sipp.out" | awk -F'|' '{ gsub(/ /, "", $3); print $3 }' | tail -1)
failed=$(grep -o 'Failed call *| *[0-9]* *| *[0-9]*' "$work/cafe/sipp.out" | awk -F'|' '{ gsub(/ /, "", $3); print $3 }' | tail -1)
recorded=$(q "select count(*) from calls")
by_node=$(q "select node || '=' || count(*) from calls group by node order by node" | tr '\n' ' ')
outcomes=$(q "select outcome || '=' || count(*) from calls group by outcome order by 1" | tr '\n' ' ')
reached=$((sent1 + sent2 - failover))

printf '\n%-48s %s\n' "calls placed (sipp)" "$calls"
printf '%-48s %s\n' "sipp: successful / failed" "${succ:-?} / ${failed:-?}"
printf '%-48s %s\n' "sent by Kamailio to node 1 / node 2" "$sent1 / $sent2"
printf '%-48s %s\n' "failed over to the other node" "$failover"
printf '%-48s %s\n' "refused (no node up)" "$refused"
printf '%-48s %s\n' "node 2 marked down after the kill (s)" "${down_at:-never}"
printf '%-48s %s\n' "last new call sent to node 2 after the kill (s)" "$last_to_dead"
printf '%-48s %s\n' "calls recorded (rows in calls)" "$recorded"
printf '%-48s %s\n' "records per node" "$by_node"
printf '%-48s %s\n' "outcomes" "$outcomes"
bad=""
if [ "$last_to_dead" != none ] && awk -v l="$last_to_dead" 'BEGIN { exit !(l > 5) }'; then
	bad="$bad node-2-still-used-after-5s"
fi
[ "$recorded" -ge "$reached" ] || bad="$bad calls-not-recorded($reached reached a node, $recorded recorded)"
[ "$sent1" -gt 0 ] && [ "$sent2" -gt 0 ] || bad="$bad not-spread"
if [ -n "$bad" ]; then
	KEEP=1
	die "goals missed:$bad"
fi
log "all goals met"
