package release

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/internal/config"
)

const repo = "../.."

// releaseGoFlags are the GOFLAGS scripts/release.sh builds with in this
// test (see race_test.go).
var releaseGoFlags = ""

// sh runs a command and returns its combined output, failing the test when
// it fails.
func sh(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", name, strings.Join(args, " "), out)
	return string(out)
}

func needDpkg(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("Debian packages are built and installed on Linux")
	}
	for _, tool := range []string{"dpkg", "dpkg-deb"} {
		_, err := exec.LookPath(tool)
		require.NoError(t, err, "%s is needed (Debian's dpkg package)", tool)
	}
}

// TestReleaseArchiveAndDeb builds a release with scripts/release.sh, checks
// the archive, installs the .deb into a scratch root with dpkg (maintainer
// scripts included, honouring DPKG_ROOT), runs the installed binary, then
// removes and purges the package.
func TestReleaseArchiveAndDeb(t *testing.T) {
	needDpkg(t)
	out := t.TempDir()
	sh(t, []string{"VERSION=1.2.3-rc1", "GOFLAGS=" + releaseGoFlags}, filepath.Join(repo, "scripts/release.sh"), out)
	arch := strings.TrimSpace(sh(t, nil, "dpkg", "--print-architecture"))

	// The archive: binary, README, deploy/ with the prompts and the unit.
	name := "hotline-1.2.3-rc1-linux-" + arch
	list := sh(t, nil, "tar", "-tzf", filepath.Join(out, name+".tar.gz"))
	for _, f := range []string{"/hotline", "/README.md", "/deploy/asterisk/sounds/vi/greeting.wav",
		"/deploy/asterisk/extensions.conf", "/deploy/systemd/hotline.service", "/deploy/hotline.example.yaml",
		"/deploy/prometheus/rules/hotline-alerts.yml", "/deploy/sample/cafes.csv",
		"/deploy/kamailio/kamailio.cfg", "/deploy/systemd/hotline@.service"} {
		require.Contains(t, list, name+f+"\n")
	}
	require.NotContains(t, list, ".go\n", "the configurations' tests are not shipped")

	// The .deb, into a scratch root.
	deb := filepath.Join(out, "hotline_1.2.3.rc1_"+arch+".deb")
	require.FileExists(t, deb)
	root := t.TempDir()
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "var/log"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	require.NoError(t, os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), nil, 0o644))
	dpkg := func(args ...string) string {
		t.Helper()
		// Scripts run on the host with DPKG_ROOT set (no shell in the
		// scratch root); the dependencies are not in its database.
		return sh(t, nil, "dpkg", append([]string{"--root=" + root, "--log=" + filepath.Join(root, "var/log/dpkg.log"),
			"--force-script-chrootless", "--force-depends", "--force-not-root"}, args...)...)
	}
	msg := dpkg("-i", deb)
	require.Contains(t, msg, "hotline is installed, not started")
	require.Contains(t, dpkg("-s", "hotline"), "Status: install ok installed")

	bin := filepath.Join(root, "usr/bin/hotline")
	require.Equal(t, "hotline 1.2.3-rc1\n", sh(t, nil, bin, "version"))
	cmd := exec.Command(bin, "doctor", "--help")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Run(), "hotline doctor --help: %s", stderr.String())
	require.Contains(t, stderr.String(), "usage: hotline doctor [--config FILE] [--json]")

	unit, err := os.ReadFile(filepath.Join(root, "lib/systemd/system/hotline.service"))
	require.NoError(t, err)
	require.Contains(t, string(unit), "ExecStart=/usr/bin/hotline serve --config /etc/hotline/hotline.yaml")
	require.Contains(t, string(unit), "User=hotline")
	require.Contains(t, string(unit), "EnvironmentFile=-/etc/hotline/hotline.env")
	st, err := os.Stat(filepath.Join(root, "etc/hotline/hotline.env"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o640), st.Mode().Perm(), "secrets are not world-readable")
	require.DirExists(t, filepath.Join(root, "var/lib/hotline/spool"))
	require.FileExists(t, filepath.Join(root, "usr/share/hotline/asterisk/sounds/vi/greeting.wav"))
	require.FileExists(t, filepath.Join(root, "usr/share/doc/hotline/README.md"))
	// The installed configuration is one the program accepts, with the
	// spool where the package made it.
	cfg, err := config.LoadFile(filepath.Join(root, "etc/hotline/hotline.yaml"), []string{})
	require.NoError(t, err)
	require.Equal(t, "/var/lib/hotline/spool", cfg.Database.SpoolDir)

	// Remove keeps the configuration (conffiles); purge removes it and the spool.
	dpkg("-r", "hotline")
	require.NoFileExists(t, bin)
	require.FileExists(t, filepath.Join(root, "etc/hotline/hotline.yaml"))
	dpkg("--purge", "hotline")
	require.NoDirExists(t, filepath.Join(root, "etc/hotline"))
	require.NoDirExists(t, filepath.Join(root, "var/lib/hotline"))
}
