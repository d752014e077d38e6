//go:build !unix

package boardtest

import (
	"os/exec"
	"time"
)

// setGroup is a no-op where process groups do not exist; context
// cancellation kills the browser process itself.
func setGroup(*exec.Cmd) {}

// killGroup is a no-op where process groups do not exist.
func killGroup(*exec.Cmd, time.Duration) {}
