// Package boardtest drives a real headless Chromium for tests: it loads a URL
// and returns the DOM after the page has loaded (--dump-dom), or saves a
// screenshot. The board's own tests use it, and so can app-level tests that
// check the board of a running hotline.
//
// Each run starts a fresh browser with a throw-away profile, bounded by the
// caller's context, in its own process group that is killed when the run
// ends, so no renderer or helper outlives it.
package boardtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Environment variables read by this package.
const (
	// RequireBrowserEnv, when set to anything, makes Chromium fail the test
	// instead of skipping it when no browser is found (the README test
	// command sets HOTLINE_TEST_REQUIRE_BROWSER=1 after installing it).
	RequireBrowserEnv = "HOTLINE_TEST_REQUIRE_BROWSER"
	// ChromiumEnv names the browser binary to use instead of searching.
	ChromiumEnv = "HOTLINE_CHROMIUM"
)

// ErrNoBrowser: no Chromium binary was found.
var ErrNoBrowser = errors.New("boardtest: chromium not found")

// startedHook, when set (by tests), learns the browser's process (group) ID.
var startedHook func(pid int)

// candidates are tried in order by FindChromium.
var candidates = []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome-stable", "google-chrome"}

// FindChromium returns the browser to run: $HOTLINE_CHROMIUM when set, else
// Debian's /usr/bin/chromium, else the first of chromium, chromium-browser,
// google-chrome-stable, google-chrome on $PATH.
func FindChromium() (string, error) {
	if p := os.Getenv(ChromiumEnv); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("%s=%s: %w: %w", ChromiumEnv, p, ErrNoBrowser, err)
		}
		return path, nil
	}
	for _, c := range candidates {
		if path, err := exec.LookPath(c); err == nil {
			return path, nil
		}
	}
	return "", ErrNoBrowser
}

// Chromium returns the browser for a test. When none is found it skips the
// test, or fails it when HOTLINE_TEST_REQUIRE_BROWSER is set.
func Chromium(t testing.TB) string {
	t.Helper()
	path, err := FindChromium()
	if err != nil {
		if os.Getenv(RequireBrowserEnv) != "" {
			t.Fatalf("%v (and %s is set; install Debian's chromium package)", err, RequireBrowserEnv)
		}
		t.Skipf("%v; install chromium or set %s=1 to require it", err, RequireBrowserEnv)
	}
	return path
}

// Browser runs one headless Chromium per call. The zero value finds the
// browser with FindChromium and uses a phone-sized window.
type Browser struct {
	// Path is the browser binary (FindChromium when empty).
	Path string
	// Width and Height are the window size in CSS pixels (390×844, a phone,
	// when zero).
	Width, Height int
	// Scale is the device scale factor (1 when zero); 2 or 3 gives a crisp
	// phone screenshot.
	Scale float64
	// WaitDelay bounds how long a run waits for the browser's output after
	// killing it (2 s when zero).
	WaitDelay time.Duration
}

// DumpDOM loads url in a fresh headless Chromium and returns the DOM as
// serialised after the page's load event. The run ends when ctx does.
func (b Browser) DumpDOM(ctx context.Context, url string) (string, error) {
	out, err := b.run(ctx, "--dump-dom", url)
	if err != nil {
		return "", err
	}
	return out, nil
}

// Screenshot loads url in a fresh headless Chromium and saves a PNG of the
// window to file.
func (b Browser) Screenshot(ctx context.Context, url, file string) error {
	if _, err := b.run(ctx, "--screenshot="+file, "--hide-scrollbars", url); err != nil {
		return err
	}
	if st, err := os.Stat(file); err != nil || st.Size() == 0 {
		return fmt.Errorf("boardtest: chromium wrote no screenshot to %s: %v", file, err)
	}
	return nil
}

// DumpDOM is Browser{}.DumpDOM: a phone-sized window, the browser found by
// FindChromium.
func DumpDOM(ctx context.Context, url string) (string, error) {
	return Browser{}.DumpDOM(ctx, url)
}

func (b Browser) run(ctx context.Context, args ...string) (string, error) {
	path := b.Path
	if path == "" {
		var err error
		if path, err = FindChromium(); err != nil {
			return "", err
		}
	}
	w, h := cmpOr(b.Width, 390), cmpOr(b.Height, 844)
	scale := b.Scale
	if scale <= 0 {
		scale = 1
	}
	profile, err := os.MkdirTemp("", "boardtest-chromium-")
	if err != nil {
		return "", fmt.Errorf("boardtest: profile dir: %w", err)
	}
	defer os.RemoveAll(profile)

	flags := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-default-apps", "--disable-extensions", "--disable-crash-reporter",
		"--disable-dev-shm-usage", "--mute-audio", "--no-default-browser-check",
		"--user-data-dir=" + profile,
		"--window-size=" + strconv.Itoa(w) + "," + strconv.Itoa(h),
		"--force-device-scale-factor=" + strconv.FormatFloat(scale, 'f', -1, 64),
		"--lang=vi-VN",
	}
	cmd := exec.CommandContext(ctx, path, append(flags, args...)...)
	// HOME in the profile keeps the browser's caches and fontconfig writes
	// out of the real home directory.
	cmd.Env = append(os.Environ(), "HOME="+profile, "XDG_CONFIG_HOME="+profile, "XDG_CACHE_HOME="+profile)
	cmd.Dir = profile
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	setGroup(cmd)
	cmd.WaitDelay = b.WaitDelay
	if cmd.WaitDelay <= 0 {
		cmd.WaitDelay = 2 * time.Second
	}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("boardtest: start %s: %w", path, err)
	}
	if startedHook != nil {
		startedHook(cmd.Process.Pid)
	}
	err = cmd.Wait()
	killGroup(cmd, cmd.WaitDelay) // helpers (zygote, renderers) that outlived the browser
	if ctx.Err() != nil {
		return "", fmt.Errorf("boardtest: chromium %s: %w (stderr: %s)", args[len(args)-1], ctx.Err(), tail(stderr.String()))
	}
	if err != nil {
		return "", fmt.Errorf("boardtest: chromium %s: %w (stderr: %s)", args[len(args)-1], err, tail(stderr.String()))
	}
	return stdout.String(), nil
}

func cmpOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// tail keeps the end of the browser's log for an error message.
func tail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return s
}

// DecodePNG reads a screenshot file.
func DecodePNG(file string) (image.Image, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("boardtest: %w", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("boardtest: decode %s: %w", file, err)
	}
	return img, nil
}
