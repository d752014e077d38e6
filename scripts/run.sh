#!/usr/bin/env bash
# The run command: installs what is missing, starts a local PostgreSQL of the
# project's own (in .run/pg, port ${HOTLINE_DEV_PG_PORT:-55480}), builds the
# binary, migrates, imports the sample directory (deploy/sample) and runs
# `hotline serve`.
#
# Without HOTLINE_ARI_URL it also starts `hotline simulate` — a fake Asterisk
# on 127.0.0.1:8088 placing calls from the sample cafés — so you see calls
# flow, their records and /metrics within a minute. With HOTLINE_ARI_URL (and
# HOTLINE_ARI_USER / HOTLINE_ARI_PASSWORD) set it talks to that Asterisk.
#
# Ctrl-C stops everything; the database keeps its data in .run/pg for the
# next run.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

need_go
need_postgres

run=$PWD/.run
mkdir -p "$run"
chmod 755 "$run"
port=${HOTLINE_DEV_PG_PORT:-55480}
started_pg=""
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -z "$started_pg" ] || pg_stop "$run/pg"
}
trap cleanup EXIT
trap "exit 130" INT TERM
if ! as_pg "$(pg_bindir)/pg_ctl" -D "$run/pg/data" status >/dev/null 2>&1; then
	log "starting PostgreSQL on 127.0.0.1:$port (data in .run/pg)"
	pg_start "$run/pg" "$port"
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


if [ -z "${HOTLINE_ARI_URL:-}" ]; then
	export HOTLINE_ARI_URL=http://127.0.0.1:8088
	export HOTLINE_ARI_USER=${HOTLINE_ARI_USER:-hotline} HOTLINE_ARI_PASSWORD=${HOTLINE_ARI_PASSWORD:-hotline-dev}
	log "no HOTLINE_ARI_URL: starting the simulator (fake Asterisk on 127.0.0.1:8088, log in .run/simulate.log)"
	"$hotline" simulate --listen 127.0.0.1:8088 --rate "${SIM_RATE:-0.5}" --scale "${SIM_SCALE:-0.5}" \
		>"$run/simulate.log" 2>&1 &
	pids+=($!)
fi

addr=${HOTLINE_HTTP_ADDR:-127.0.0.1:9480}
log "hotline serve: board http://$addr/  metrics http://$addr/metrics  ready http://$addr/readyz"
"$hotline" serve &
pids+=($!)
wait "${pids[-1]}"
