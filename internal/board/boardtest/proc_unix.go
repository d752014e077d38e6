//go:build unix

package boardtest

import (
	"os/exec"
	"syscall"
)

// setGroup starts the browser in its own process group, and makes context
// cancellation kill the whole group: the Debian launcher is a shell script
// whose chromium child starts more processes.
func setGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// killGroup kills whatever is left of the browser's process group.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
