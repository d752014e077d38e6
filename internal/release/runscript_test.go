package release

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// freePort is a loopback port nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

// scripts/run.sh refuses a taken port before starting anything, with one
// line naming the port, what needs it and what holds it (this test).
func TestRunScriptRefusesATakenPort(t *testing.T) {
	if _, err := exec.LookPath("ss"); err != nil {
		t.Skip("ss (iproute2) not installed")
	}
	if _, err := os.Stat(filepath.Join(repo, ".run/pg/data/postmaster.pid")); err == nil {
		t.Skip("a scripts/run.sh PostgreSQL is running in this checkout")
	}
	for _, tt := range []struct {
		name, variable, what string
	}{
		{"HTTP address", "HOTLINE_HTTP_ADDR", "hotline serve's HTTP address"},
		{"simulator", "HOTLINE_DEV_SIM_ADDR", "the simulator, a fake Asterisk"},
		{"PostgreSQL", "HOTLINE_DEV_PG_PORT", "PostgreSQL of scripts/run.sh"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			defer ln.Close()
			taken := ln.Addr().(*net.TCPAddr).Port
			env := map[string]string{
				"HOTLINE_HTTP_ADDR":    fmt.Sprintf("127.0.0.1:%d", freePort(t)),
				"HOTLINE_DEV_SIM_ADDR": fmt.Sprintf("127.0.0.1:%d", freePort(t)),
				"HOTLINE_DEV_PG_PORT":  fmt.Sprint(freePort(t)),
			}
			if tt.variable == "HOTLINE_DEV_PG_PORT" {
				env[tt.variable] = fmt.Sprint(taken)
			} else {
				env[tt.variable] = fmt.Sprintf("127.0.0.1:%d", taken)
			}
			cmd := exec.Command("bash", filepath.Join(repo, "scripts/run.sh"))
			cmd.Env = os.Environ()
			for k, v := range env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			cmd.Env = append(cmd.Env, "HOTLINE_ARI_URL=") // the simulator is wanted
			done := make(chan struct{})
			var out []byte
			go func() { out, err = cmd.CombinedOutput(); close(done) }()
			select {
			case <-done:
			case <-time.After(60 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatal("run.sh did not stop within 60 s")
			}
			require.Error(t, err, "run.sh must fail:\n%s", out)
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			require.Len(t, lines, 1, "one line:\n%s", out)
			require.Contains(t, lines[0], fmt.Sprintf("error: port %d (%s) is taken by ", taken, tt.what))
			require.Contains(t, lines[0], fmt.Sprintf("(pid %d)", os.Getpid()))
		})
	}
}
