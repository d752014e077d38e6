#!/usr/bin/env bash
# Generates the hotline's Vietnamese prompts from prompts.tsv (name<TAB>text)
# with espeak-ng's Vietnamese voice, as 8 kHz mono 16-bit WAV (what Asterisk
# plays on a GSM/SIP call without transcoding surprises) into vi/.
#
# These are serviceable machine voices. A company can record real ones: put
# WAV files of the same names in vi/ (or point the prompts.* configuration at
# other names) — nothing else changes.
#
#   deploy/asterisk/sounds/generate.sh [VOICE]    VOICE: vi (north, default),
#                                                 vi-vn-x-south, vi-vn-x-central
set -euo pipefail
cd "$(dirname "$0")"
voice=${1:-vi}
for tool in espeak-ng sox; do
	command -v "$tool" >/dev/null || { echo "generate.sh: $tool is missing (apt-get install espeak-ng sox)" >&2; exit 1; }
done
mkdir -p vi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
while IFS=$'\t' read -r name text; do
	[ "$name" = name ] && continue
	[ -n "$name" ] || continue
	espeak-ng -v "$voice" -s 150 -w "$tmp/raw.wav" "$text"
	# 8 kHz mono 16-bit, a little headroom, 150 ms of silence before and after.
	sox "$tmp/raw.wav" -r 8000 -c 1 -b 16 "vi/$name.wav" gain -n -3 pad 0.15 0.15
	n=$((n + 1))
done < prompts.tsv
echo "generated $n prompts in $(pwd)/vi" >&2
