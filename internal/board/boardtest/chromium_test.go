//go:build unix

package boardtest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pids records the process groups the browser runs in.
var pids struct {
	sync.Mutex
	list []int
}

func init() {
	startedHook = func(pid int) {
		pids.Lock()
		pids.list = append(pids.list, pid)
		pids.Unlock()
	}
}

func lastPID(t *testing.T) int {
	t.Helper()
	pids.Lock()
	defer pids.Unlock()
	require.NotEmpty(t, pids.list)
	return pids.list[len(pids.list)-1]
}

// requireGroupGone checks that no process of the browser's group still
// runs (orphaned zombies waiting for init to reap them run nothing).
func requireGroupGone(t *testing.T, pgid int) {
	t.Helper()
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		err := syscall.Kill(-pgid, 0)
		require.ErrorIs(t, err, syscall.ESRCH, "processes of chromium's group %d are still running", pgid)
		return
	}
	require.Zero(t, liveInGroup(pgid), "processes of chromium's group %d are still running", pgid)
	require.Positive(t, liveInGroup(os.Getpid())+liveInGroup(syscall.Getpgrp()), "liveInGroup sees this test's own group")
}

func TestDumpDOM(t *testing.T) {
	path := Chromium(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// The DOM is the parsed document: the missing </p> is closed and
		// the text survives in UTF-8.
		_, _ = w.Write([]byte(`<!doctype html><title>t</title><p id=x>Cuộc gọi đang diễn ra<p id=y>` + r.URL.Query().Get("q")))
	}))
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	dom, err := Browser{Path: path}.DumpDOM(ctx, srv.URL+"/?q=abc")
	require.NoError(t, err)
	assert.Contains(t, dom, `<p id="x">Cuộc gọi đang diễn ra</p><p id="y">abc</p>`)
	requireGroupGone(t, lastPID(t))
}

func TestDumpDOMBoundedByContext(t *testing.T) {
	path := Chromium(t)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // a page that never finishes loading
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	_, err := Browser{Path: path, WaitDelay: 500 * time.Millisecond}.DumpDOM(ctx, srv.URL)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	requireGroupGone(t, lastPID(t))
}

func TestScreenshot(t *testing.T) {
	path := Chromium(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`<!doctype html><body style="margin:0;background:#ff0000">`))
	}))
	t.Cleanup(srv.Close)
	file := filepath.Join(t.TempDir(), "shot.png")
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	require.NoError(t, Browser{Path: path, Width: 200, Height: 100}.Screenshot(ctx, srv.URL, file))
	img, err := DecodePNG(file)
	require.NoError(t, err)
	assert.Equal(t, 200, img.Bounds().Dx())
	assert.Equal(t, 100, img.Bounds().Dy())
	r, g, b, _ := img.At(100, 50).RGBA()
	assert.Equal(t, [3]uint32{0xffff, 0, 0}, [3]uint32{r, g, b}, "the page's red background")
}

func TestFindChromium(t *testing.T) {
	t.Setenv(ChromiumEnv, "/nonexistent/chromium")
	_, err := FindChromium()
	require.ErrorIs(t, err, ErrNoBrowser)
	assert.Contains(t, err.Error(), ChromiumEnv)

	dir := t.TempDir()
	fake := filepath.Join(dir, "fake-chromium")
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\nexit 3\n"), 0o755))
	t.Setenv(ChromiumEnv, fake)
	got, err := FindChromium()
	require.NoError(t, err)
	assert.Equal(t, fake, got)

	// A browser that fails is reported with its exit status.
	_, err = DumpDOM(t.Context(), "http://127.0.0.1:1/")
	var exit interface{ ExitCode() int }
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 3, exit.ExitCode())
	assert.True(t, strings.HasPrefix(err.Error(), "boardtest: chromium"), err.Error())
	assert.False(t, errors.Is(err, ErrNoBrowser))
}
