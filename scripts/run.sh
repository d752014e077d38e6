#!/usr/bin/env bash
# The run command: installs what is missing, starts a local PostgreSQL of the
# project's own (in .run/pg, port ${HOTLINE_DEV_PG_PORT:-55480}), builds the
# binary, migrates, imports the sample directory (deploy/sample) and runs
# `hotline serve`.
#
# Without HOTLINE_ARI_URL it also starts `hotline simulate` — a fake Asterisk
# on ${HOTLINE_DEV_SIM_ADDR:-127.0.0.1:8088} placing calls from the sample
# cafés — so you see calls flow, their records and /metrics within a minute.
# With HOTLINE_ARI_URL (and HOTLINE_ARI_USER / HOTLINE_ARI_PASSWORD) set it
# talks to that Asterisk.
#
# Before starting anything it checks that the ports it needs are free
# (PostgreSQL's, the simulator's, HOTLINE_HTTP_ADDR's) and stops with one line
# naming the port and what holds it. If the simulator or `hotline serve`
# exits, it stops the rest and says which one and why.
#
# Ctrl-C stops everything; the database keeps its data in .run/pg for the
# next run.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

need_go
need_postgres

run=$PWD/.run
# PostgreSQL's files live in .run/pg, unless the postgres user cannot reach
# this folder (a clone under /root, or in a private temporary folder): then in
# /var/tmp, one folder per checkout.
pgdir=$run/pg
if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$PWD" 2>/dev/null; then
	pgdir=/var/tmp/hotline-run-$(printf '%s' "$PWD" | md5sum | cut -c1-12)/pg
	mkdir -p "$(dirname "$pgdir")"
	chmod 755 "$(dirname "$pgdir")"
fi
port=${HOTLINE_DEV_PG_PORT:-55480}
addr=${HOTLINE_HTTP_ADDR:-127.0.0.1:9480}
sim=${HOTLINE_DEV_SIM_ADDR:-127.0.0.1:8088}

# The ports, before anything starts. Our own PostgreSQL may already run.
if ! as_pg "$(pg_bindir)/pg_ctl" -D "$pgdir/data" status >/dev/null 2>&1; then
	need_free_port "$port" "PostgreSQL of scripts/run.sh" "stop it, or choose another port with HOTLINE_DEV_PG_PORT"
fi
if [ -z "${HOTLINE_ARI_URL:-}" ]; then
	need_free_port "${sim##*:}" "the simulator, a fake Asterisk" \
		"stop it, or set HOTLINE_ARI_URL, HOTLINE_ARI_USER and HOTLINE_ARI_PASSWORD to use that Asterisk, or HOTLINE_DEV_SIM_ADDR for another port"
fi
need_free_port "${addr##*:}" "hotline serve's HTTP address" "stop it (another hotline serve?), or set HOTLINE_HTTP_ADDR"

mkdir -p "$run"
chmod 755 "$run"
started_pg=""
pids=()
cleanup() {
	# SIGINT: stop now (SIGTERM would let serve wait up to call.drain for calls
	# that may never end once the simulator is gone). What is still running
	# 10 s later (the simulator waits for its calls, which never end once
	# serve is gone) is killed.
	local p left
	for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
	for _ in $(seq 1 20); do
		left=""
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left=1; done
		[ -n "$left" ] || break
		sleep 0.5
	done
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -z "$started_pg" ] || pg_stop "$pgdir"
}
trap cleanup EXIT
trap "exit 130" INT TERM
if ! as_pg "$(pg_bindir)/pg_ctl" -D "$pgdir/data" status >/dev/null 2>&1; then
	log "starting PostgreSQL on 127.0.0.1:$port (data in ${pgdir#"$PWD"/})"
	pg_start "$pgdir" "$port"
	started_pg=1
fi
psql -qtA "$(pg_url "$port")" -c "select 1 from pg_database where datname='hotline'" | grep -q 1 \
	|| psql -q "$(pg_url "$port")" -c "create database hotline" >/dev/null
export HOTLINE_DATABASE_URL=${HOTLINE_DATABASE_URL:-$(pg_url "$port" hotline)}
export HOTLINE_SPOOL_DIR=${HOTLINE_SPOOL_DIR:-$run/spool}

log "building"
go build -o "$run/hotline" -ldflags "-X main.version=$(git describe --always --dirty 2>/dev/null || echo dev)" ./cmd/hotline
hotline=$run/hotline

"$hotline" migrate
log "importing the sample directory (deploy/sample)"
"$hotline" import deploy/sample/*.csv


names=()
if [ -z "${HOTLINE_ARI_URL:-}" ]; then
	export HOTLINE_ARI_URL=http://$sim
	export HOTLINE_ARI_USER=${HOTLINE_ARI_USER:-hotline} HOTLINE_ARI_PASSWORD=${HOTLINE_ARI_PASSWORD:-hotline-dev}
	log "no HOTLINE_ARI_URL: starting the simulator (fake Asterisk on $sim, log in .run/simulate.log)"
	"$hotline" simulate --listen "$sim" --rate "${SIM_RATE:-0.5}" --scale "${SIM_SCALE:-0.5}" \
		>"$run/simulate.log" 2>&1 &
	pids+=($!)
	names+=("the simulator")
fi

log "hotline serve: board http://$addr/  metrics http://$addr/metrics  ready http://$addr/readyz"
HOTLINE_HTTP_ADDR=$addr "$hotline" serve &
pids+=($!)
names+=("hotline serve")

# Whichever ends first ends the run: the rest is stopped (cleanup) and the
# line says which one and why.
set +e
wait -n -p ended "${pids[@]}"
status=$?
set -e
for i in "${!pids[@]}"; do
	[ "${pids[$i]}" = "${ended:-}" ] || continue
	why="exit status $status"
	[ "$status" -gt 128 ] && why="killed by signal $((status - 128))"
	if [ "${names[$i]}" = "the simulator" ]; then
		die "the simulator exited ($why): $(tail -n 1 "$run/simulate.log" 2>/dev/null); stopping hotline serve"
	fi
	[ "$status" -eq 0 ] && exit 0
	die "hotline serve exited ($why, its messages are above); stopping the rest"
done
