// Package release holds no code: its tests check the operator-facing
// scripts from the outside, as an administrator runs them —
// scripts/release.sh (the archive and the .deb, installed into a scratch
// root with dpkg) and scripts/run.sh (refusing a taken port).
package release
