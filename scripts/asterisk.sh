# shellcheck shell=bash
# A throwaway Asterisk for the real-Asterisk test suites, sourced by
# scripts/test.sh (after lib.sh). It uses an Asterisk that is already
# installed — HOTLINE_TEST_ASTERISK=/path/to/sbin/asterisk, or `asterisk` on
# PATH — and never builds or downloads one.
#
#   ast_find            prints the binary, or fails with the reason on stderr
#   ast_start DIR BIN   configures and starts an Asterisk whose every file lives
#                       in DIR (config from deploy/asterisk/test/, loopback-only
#                       ports picked free, the prompts of deploy/asterisk/sounds),
#                       waits until ARI answers and exports HOTLINE_TEST_ARI_* and
#                       HOTLINE_TEST_SIP_*
#   ast_stop DIR        stops it (safe to call twice, or when it never started)
#
# Every deploy/asterisk/test/*.conf is copied with these placeholders replaced:
# @ARI_PORT@ @ARI_USER@ @ARI_PASSWORD@ @SIP_PORT@ @CAFE_PORT@
# @GW_VINAPHONE_PORT@ @GW_VIETTEL_PORT@ @DIR@.

# ast_find prints the Asterisk binary to test against.
ast_find() {
	local bin=${HOTLINE_TEST_ASTERISK:-}
	if [ -n "$bin" ]; then
		[ -x "$bin" ] || { echo "HOTLINE_TEST_ASTERISK=$bin is not an executable" >&2; return 1; }
		echo "$bin"
		return 0
	fi
	bin=$(command -v asterisk 2>/dev/null) || {
		echo "no Asterisk: HOTLINE_TEST_ASTERISK is not set and there is no asterisk on PATH" >&2
		return 1
	}
	echo "$bin"
}

# ast_moddir BIN prints the modules folder that belongs to BIN
# (HOTLINE_TEST_ASTERISK_MODULES wins).
ast_moddir() {
	local bin=$1 prefix d
	if [ -n "${HOTLINE_TEST_ASTERISK_MODULES:-}" ]; then echo "$HOTLINE_TEST_ASTERISK_MODULES"; return; fi
	prefix=$(dirname "$(dirname "$(readlink -f "$bin")")")
	for d in "$prefix/lib/asterisk/modules" "$prefix/lib64/asterisk/modules" \
		"$prefix/lib/x86_64-linux-gnu/asterisk/modules" /usr/lib/asterisk/modules; do
		[ -f "$d/res_ari.so" ] && { echo "$d"; return; }
	done
	return 1
}

# ast_docdir BIN prints the XML documentation folder installed with BIN
# (Asterisk refuses to register configuration options it has no documentation
# for, and then exits: "Stasis initialization failed").
ast_docdir() {
	local bin=$1 prefix d
	prefix=$(dirname "$(dirname "$(readlink -f "$bin")")")
	for d in "$prefix/var/lib/asterisk/documentation" "$prefix/share/asterisk/documentation" \
		/var/lib/asterisk/documentation /usr/share/asterisk/documentation; do
		[ -d "$d" ] && { echo "$d"; return; }
	done
	return 1
}

# free_udp_port prints a port that is free for both TCP and UDP on 127.0.0.1.
free_udp_port() {
	local p
	for _ in $(seq 1 50); do
		p=$(free_port)
		if ! ss -Hlnu "sport = :$p" 2>/dev/null | grep -q .; then echo "$p"; return; fi
	done
	die "no free UDP port found"
}

# The modules the suites need, nothing that binds other ports.
ast_modules=(
	res_pjproject res_sorcery_astdb res_sorcery_config res_sorcery_memory res_sorcery_memory_cache
	res_pjsip res_pjsip_pubsub res_pjsip_session res_pjsip_authenticator_digest res_pjsip_endpoint_identifier_ip
	res_pjsip_endpoint_identifier_user res_pjsip_caller_id res_pjsip_dtmf_info res_pjsip_outbound_registration
	res_pjsip_rfc3326 res_pjsip_sdp_rtp res_pjsip_diversion res_pjsip_logger res_pjsip_nat
	res_pjsip_dialog_info_body_generator res_pjsip_header_funcs res_pjsip_outbound_authenticator_digest
	res_pjsip_registrar res_pjsip_path res_pjsip_empty_info res_pjsip_one_touch_record_info
	chan_pjsip res_rtp_asterisk res_timing_timerfd
	codec_ulaw codec_alaw codec_gsm codec_a_mu codec_resample format_wav format_gsm format_pcm format_sln format_wav_gsm
	res_format_attr_opus
	bridge_simple bridge_native_rtp bridge_softmix bridge_holding chan_bridge_media res_musiconhold
	res_http_websocket res_websocket_client res_stasis res_stasis_answer res_stasis_playback res_stasis_recording
	res_stasis_snoop res_stasis_device_state res_ari res_ari_model res_ari_applications res_ari_asterisk
	res_ari_bridges res_ari_channels res_ari_device_states res_ari_endpoints res_ari_events
	res_ari_playbacks res_ari_recordings res_ari_sounds
	app_stasis app_dial app_playback app_senddtmf app_echo app_record app_verbose app_exec app_stack
	func_callerid func_timeout func_channel func_strings func_logic func_global func_cut
	pbx_config res_clioriginate
)

# ast_start DIR BIN
ast_start() {
	local dir=$1 bin=$2 moddir docdir ari_port sip_port cafe_port vina_port viettel_port user password f
	moddir=$(ast_moddir "$bin") || die "no modules folder (res_ari.so) found for $bin; set HOTLINE_TEST_ASTERISK_MODULES"
	docdir=$(ast_docdir "$bin") || die "no documentation folder (…/var/lib/asterisk/documentation) found for $bin"
	mkdir -p "$dir"/{etc,lib/sounds/en,lib/moh,lib/keys,spool/recording,spool/tmp,run,log}
	ari_port=$(free_port)
	sip_port=$(free_udp_port)
	# The café trunk's and the gateways' ports may be given (scripts/cluster.sh:
	# the café trunk is Kamailio, the gateways are shared by every node).
	cafe_port=${AST_CAFE_PORT:-$(free_udp_port)}
	vina_port=${AST_GW_VINAPHONE_PORT:-$(free_udp_port)}
	viettel_port=${AST_GW_VIETTEL_PORT:-$(free_udp_port)}
	user=hotline-test
	password=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')

	for f in deploy/asterisk/test/*.conf; do
		sed -e "s|@ARI_PORT@|$ari_port|g" -e "s|@ARI_USER@|$user|g" -e "s|@ARI_PASSWORD@|$password|g" \
			-e "s|@SIP_PORT@|$sip_port|g" -e "s|@CAFE_PORT@|$cafe_port|g" \
			-e "s|@GW_VINAPHONE_PORT@|$vina_port|g" -e "s|@GW_VIETTEL_PORT@|$viettel_port|g" \
			-e "s|@DIR@|$dir|g" -e "s|@BEHIND_LB@|${AST_BEHIND_LB:-no}|g" "$f" >"$dir/etc/$(basename "$f")"
	done
	[ -f "$dir/etc/pjsip.conf" ] || : >"$dir/etc/pjsip.conf"
	cat >"$dir/etc/asterisk.conf" <<-EOF
		[directories]
		astetcdir => $dir/etc
		astmoddir => $moddir
		astvarlibdir => $dir/lib
		astdbdir => $dir/lib
		astkeydir => $dir/lib/keys
		astdatadir => $dir/lib
		astagidir => $dir/lib/agi-bin
		astspooldir => $dir/spool
		astrundir => $dir/run
		astlogdir => $dir/log
		astsbindir => $(dirname "$bin")

		[options]
		; Each node's own entity id (the default is the host's MAC, the same
		; for every node on one machine): hotline serve tells nodes apart by it.
		entityid = $(printf '02:%s' "$(head -c 5 /dev/urandom | od -An -tx1 | tr -s ' ' ':' | sed 's/^://; s/:$//')")
		verbose = 3
		debug = 0
		maxcalls = 500
		transmit_silence = yes
		documentation_language = en_US
		hideconnect = yes
	EOF
	{
		echo "[modules]"
		echo "autoload = no"
		for m in "${ast_modules[@]}"; do
			[ -f "$moddir/$m.so" ] && echo "load = $m.so"
		done
	} >"$dir/etc/modules.conf"
	cat >"$dir/etc/logger.conf" <<-EOF
		[general]
		[logfiles]
		messages.log => notice,warning,error,verbose(3)
	EOF
	cat >"$dir/etc/musiconhold.conf" <<-EOF
		[default]
		mode = files
		directory = $dir/lib/moh
	EOF
	# Tones for ringing/busy/congestion indications (Asterisk's sample file is
	# not installed); Vietnam's 425 Hz tones.
	cat >"$dir/etc/indications.conf" <<-EOF
		[general]
		country = vn
		[vn]
		description = Viet Nam
		ringcadence = 1000,4000
		dial = 425
		busy = 425/350,0/350
		ring = 425/1000,0/4000
		congestion = 425/250,0/250
		callwaiting = 425/400,0/10000
		dialrecall = 425
		record = 1400/500,0/15000
		info = 950/330,1400/330,1800/330,0/1000
	EOF
	[ -f "$dir/etc/rtp.conf" ] || printf '[general]\nrtpstart = 10000\nrtpend = 19998\n' >"$dir/etc/rtp.conf"
	# The Vietnamese prompts, Asterisk's "beep" (recordings start with it) and
	# a hold music file of our own (no sound package is installed).
	ln -sfn "$PWD/deploy/asterisk/sounds/vi" "$dir/lib/sounds/vi" # -n: a second start in DIR must not link inside the checkout
	ln -sfn "$docdir" "$dir/lib/documentation"
	sox -n -r 8000 -c 1 -b 16 "$dir/lib/sounds/en/beep.wav" synth 0.25 sine 1000 vol 0.5 2>/dev/null \
		|| die "sox could not make the beep sound"
	sox -n -r 8000 -c 1 -b 16 "$dir/lib/moh/hold.wav" synth 4 sine 440 sine 554 vol 0.2 2>/dev/null \
		|| die "sox could not make the hold music"

	log "starting $("$bin" -V) from $bin (ARI 127.0.0.1:$ari_port, SIP 127.0.0.1:$sip_port, files in $dir)"
	"$bin" -C "$dir/etc/asterisk.conf" -f -n -q </dev/null >"$dir/log/console.log" 2>&1 &
	echo $! >"$dir/asterisk.pid"

	local i ok=""
	for i in $(seq 1 120); do
		if ! kill -0 "$(cat "$dir/asterisk.pid")" 2>/dev/null; then
			grep -v 'XML documentation' "$dir/log/console.log" | tail -30 >&2 || true
			die "Asterisk exited during start-up (logs above)"
		fi
		if curl -fsS -o /dev/null -u "$user:$password" "http://127.0.0.1:$ari_port/ari/asterisk/ping" 2>/dev/null; then
			ok=1
			break
		fi
		sleep 0.5
	done
	[ -n "$ok" ] || { tail -30 "$dir/log/messages.log" >&2 || true; die "Asterisk's ARI did not answer within 60 s"; }
	"$bin" -C "$dir/etc/asterisk.conf" -rx "core waitfullybooted" >/dev/null 2>&1 || true

	export HOTLINE_TEST_ARI_URL="http://127.0.0.1:$ari_port" HOTLINE_TEST_ARI_USER=$user HOTLINE_TEST_ARI_PASSWORD=$password
	export HOTLINE_TEST_SIP_ASTERISK="127.0.0.1:$sip_port" HOTLINE_TEST_SIP_CAFE="127.0.0.1:$cafe_port"
	export HOTLINE_TEST_SIP_GW_VINAPHONE="127.0.0.1:$vina_port" HOTLINE_TEST_SIP_GW_VIETTEL="127.0.0.1:$viettel_port"
	export HOTLINE_TEST_ASTERISK_LOG="$dir/log/messages.log"
}

# ast_stop DIR stops the Asterisk started in DIR, at once.
ast_stop() {
	local dir=$1 pid i
	[ -f "$dir/asterisk.pid" ] || return 0
	pid=$(cat "$dir/asterisk.pid")
	rm -f "$dir/asterisk.pid"
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 20); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.25
	done
	kill -KILL "$pid" 2>/dev/null || true
}
