#!/usr/bin/env bash
# The release command: builds hotline with its version and makes, in OUTDIR
# (default dist/):
#   hotline-VERSION-linux-ARCH.tar.gz  the binary, deploy/ (Asterisk files and
#                                      prompts, systemd, Prometheus, Grafana,
#                                      sample directory) and a README
#   hotline_DEBVERSION_ARCH.deb        the binary in /usr/bin, the systemd unit,
#                                      /etc/hotline/{hotline.yaml,hotline.env},
#                                      /var/lib/hotline, deploy/ files in
#                                      /usr/share/hotline; a hotline system user
#                                      (postinst)
#
#   scripts/release.sh [OUTDIR]        VERSION=1.2.0 scripts/release.sh
#
# VERSION defaults to `git describe --tags --always --dirty`. The .deb is
# built with dpkg-deb from a staged tree (no debhelper) and owned by root;
# gzip, not xz: xz takes 15 times longer for a few MB less.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

need_go
command -v dpkg-deb >/dev/null 2>&1 || die "dpkg-deb is required (Debian's dpkg package)"

out=${1:-dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
arch=$(dpkg --print-architecture)
# Debian versions start with a digit: v1.2.0 → 1.2.0, a bare commit → 0~git<commit>.
case "$version" in
v[0-9]*) debversion=${version#v} ;;
[0-9]*) debversion=$version ;;
*) debversion=0~git$version ;;
esac
debversion=${debversion//-/.}
debversion=${debversion//[^A-Za-z0-9.+~]/.}

work=$(mktemp -d /tmp/hotline-release.XXXXXX)
trap 'rm -rf "$work"' EXIT

log "building hotline $version"
go build -o "$work/hotline" -ldflags "-s -w -X main.version=$version" ./cmd/hotline
[ "$("$work/hotline" version)" = "hotline $version" ] || die "the built binary does not report version $version"

# The archive.
name=hotline-$version-linux-$arch
mkdir -p "$work/$name"
install -m 0755 "$work/hotline" "$work/$name/hotline"
mkdir -p "$work/$name/deploy"
for d in asterisk grafana kamailio prometheus sample systemd; do cp -r "deploy/$d" "$work/$name/deploy/"; done
find "$work/$name/deploy" -name '*.go' -delete # the configurations' tests stay in the repository
cp deploy/hotline.example.yaml "$work/$name/deploy/"
sed "s/@VERSION@/$version/g" deploy/release/README.md >"$work/$name/README.md"
tar -C "$work" --owner=0 --group=0 --sort=name -czf "$out/$name.tar.gz" "$name"
log "wrote $out/$name.tar.gz"

# The .deb, from a staged tree.
root=$work/deb
install -D -m 0755 "$work/hotline" "$root/usr/bin/hotline"
install -D -m 0644 deploy/systemd/hotline.service "$root/lib/systemd/system/hotline.service"
install -D -m 0644 deploy/systemd/hotline@.service "$root/lib/systemd/system/hotline@.service"
install -D -m 0640 deploy/hotline.example.yaml "$root/etc/hotline/hotline.yaml"
install -D -m 0640 deploy/release/hotline.env "$root/etc/hotline/hotline.env"
install -d -m 0750 "$root/var/lib/hotline/spool"
mkdir -p "$root/usr/share/hotline"
for d in asterisk grafana kamailio prometheus sample; do cp -r "deploy/$d" "$root/usr/share/hotline/"; done
find "$root/usr/share/hotline" -name '*.go' -delete
cp deploy/hotline.example.yaml "$root/usr/share/hotline/"
install -D -m 0644 "$work/$name/README.md" "$root/usr/share/doc/hotline/README.md"
printf 'CSM support hotline %s\nCopyright: the CSM hotline team. All rights reserved.\n' "$version" \
	>"$root/usr/share/doc/hotline/copyright"
find "$root" -type d -exec chmod 0755 {} +
chmod 0750 "$root/var/lib/hotline" "$root/var/lib/hotline/spool"
mkdir -p "$root/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$debversion/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" deploy/release/debian/control \
	>"$root/DEBIAN/control"
install -m 0644 deploy/release/debian/conffiles "$root/DEBIAN/conffiles"
for s in postinst prerm postrm; do install -m 0755 "deploy/release/debian/$s" "$root/DEBIAN/$s"; done
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
deb=$out/hotline_${debversion}_$arch.deb
dpkg-deb --root-owner-group -Zgzip --build "$root" "$deb" >/dev/null
log "wrote $deb"
