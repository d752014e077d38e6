# shellcheck shell=bash
# Shared helpers for scripts/run.sh and scripts/test.sh: install what a fresh
# Debian machine lacks, and run a private PostgreSQL cluster (own data dir and
# port, never the system service).

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

apt_updated=""
# need_pkgs PKG... installs the Debian packages that are not installed yet.
need_pkgs() {
	local missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing packages ${missing[*]}: run as root or install them"
	log "installing ${missing[*]}"
	if [ -z "$apt_updated" ]; then
		apt-get update -qq >&2 || die "apt-get update failed"
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
		|| die "apt-get install ${missing[*]} failed"
}

need_go() {
	command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ] || die "Go 1.26 is required (https://go.dev/dl)"
	command -v go >/dev/null 2>&1 || export PATH=/usr/local/go/bin:$PATH
}

pg_bindir() {
	local d
	d=$(pg_config --bindir 2>/dev/null)
	if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && { echo "$d"; return; }
	done
}

need_postgres() {
	if [ -z "$(pg_bindir)" ]; then
		need_pkgs postgresql
	fi
	[ -n "$(pg_bindir)" ] || die "no PostgreSQL server binaries found after installing postgresql"
	command -v psql >/dev/null 2>&1 || need_pkgs postgresql-client
}

# free_port prints a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
	done
	die "no free port found"
}

# as_pg CMD... runs a command as the cluster owner (postgres when we are root:
# initdb and postgres refuse to run as root).
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_start DIR PORT creates (if needed) and starts a cluster in DIR on PORT,
# trust auth on loopback only. Prints nothing; the URL is pg_url PORT.
pg_start() {
	local dir=$1 port=$2 bin
	bin=$(pg_bindir)
	mkdir -p "$dir"
	[ "$(id -u)" -eq 0 ] && chown postgres "$dir"
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		as_pg "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
			|| { cat "$dir/initdb.log" >&2; die "initdb failed"; }
	fi
	as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
		-o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=${PG_FSYNC:-on}" \
		start >/dev/null || { tail -20 "$dir/postgres.log" >&2; die "postgres did not start"; }
}

pg_stop() {
	local dir=$1
	[ -f "$dir/data/postmaster.pid" ] || return 0
	as_pg "$(pg_bindir)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

pg_url() { echo "postgres://postgres@127.0.0.1:$1/${2:-postgres}?sslmode=disable"; }

# port_holder PORT prints what listens on TCP PORT ("asterisk (pid 23379)",
# "a process of another user" when ss cannot tell), or nothing when the port
# is free.
port_holder() {
	local port=$1 line proc pid
	if command -v ss >/dev/null 2>&1; then
		line=$(ss -Hltnp "sport = :$port" 2>/dev/null | head -1)
		[ -n "$line" ] || return 0
		proc=$(printf '%s' "$line" | sed -n 's/.*users:(("\([^"]*\)",pid=\([0-9]*\).*/\1 (pid \2)/p')
		echo "${proc:-a process of another user}"
	elif (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		echo "another program"
	fi
}

# need_free_port PORT WHAT HINT stops the script with one line when PORT is
# taken: what needs it, what holds it, and what to do.
need_free_port() {
	local holder
	holder=$(port_holder "$1")
	[ -z "$holder" ] || die "port $1 ($2) is taken by $holder: $3"
}
