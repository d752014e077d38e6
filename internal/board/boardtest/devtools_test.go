//go:build unix

package boardtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A page driven over DevTools: navigate, run the test's script even where
// the page's CSP forbids scripts, follow a form post, take a screenshot, and
// leave no process behind.
func TestPage(t *testing.T) {
	path := Chromium(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; form-action 'self'")
		if r.Method == http.MethodPost {
			_ = r.ParseForm()
			_, _ = w.Write([]byte(`<!doctype html><meta name=viewport content="width=device-width"><title>done</title><p id=got>` + r.PostFormValue("who")))
			return
		}
		_, _ = w.Write([]byte(`<!doctype html><meta name=viewport content="width=device-width"><title>form</title><form method=post action=/x><input name=who><button id=b>OK</button></form>`))
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	p, err := Browser{Path: path}.Open(ctx)
	require.NoError(t, err)
	pgid := lastPID(t)
	require.NoError(t, p.Navigate(ctx, srv.URL+"/"))
	var title string
	require.NoError(t, p.Eval(ctx, "document.title", &title))
	assert.Equal(t, "form", title)
	require.NoError(t, p.Eval(ctx, `document.querySelector("input").value = "Chị Lan"; document.getElementById("b").click()`, nil))
	require.NoError(t, p.WaitFor(ctx, `document.title === "done"`))
	var got string
	require.NoError(t, p.Eval(ctx, `document.getElementById("got").textContent`, &got))
	assert.Equal(t, "Chị Lan", got)
	err = p.Eval(ctx, `(async () => { throw new Error("boom") })()`, nil)
	assert.ErrorContains(t, err, "boom")

	file := filepath.Join(t.TempDir(), "p.png")
	require.NoError(t, p.Screenshot(ctx, file, true))
	img, err := DecodePNG(file)
	require.NoError(t, err)
	assert.Equal(t, 390, img.Bounds().Dx())

	p.Close()
	requireGroupGone(t, pgid)
}
