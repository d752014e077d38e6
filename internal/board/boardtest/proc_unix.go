//go:build unix

package boardtest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
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

// killGroup kills whatever is left of the browser's process group (helpers
// such as the zygote and renderers) and waits up to limit until none of it
// runs any more. Killed helpers are orphans, so they remain zombies until
// the system's init reaps them; a zombie runs nothing and is not waited for.
func killGroup(cmd *exec.Cmd, limit time.Duration) {
	if cmd.Process == nil {
		return
	}
	pgid := cmd.Process.Pid
	deadline := time.Now().Add(limit)
	for {
		err := syscall.Kill(-pgid, syscall.SIGKILL)
		if errors.Is(err, syscall.ESRCH) || liveInGroup(pgid) == 0 || time.Now().After(deadline) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// liveInGroup counts the processes of group pgid that are not zombies, from
// /proc; where there is no /proc it answers 0 and killGroup relies on the
// signal alone.
func liveInGroup(pgid int) int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	live := 0
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // exited meanwhile
		}
		// "pid (comm) state ppid pgrp …"; comm may hold spaces and parens.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(s[i+1:])
		if len(fields) < 3 {
			continue
		}
		if g, err := strconv.Atoi(fields[2]); err == nil && g == pgid && fields[0] != "Z" && fields[0] != "X" {
			live++
		}
	}
	return live
}
