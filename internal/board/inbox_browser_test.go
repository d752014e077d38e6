package board

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/internal/board/boardtest"
)

// audioSeen records the browser's requests for recordings: the Range asked
// and whether the board's cookie came along.
type audioSeen struct {
	mu   sync.Mutex
	reqs []string
}

func (s *audioSeen) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/audio") {
			_, err := r.Cookie(CookieName)
			s.mu.Lock()
			s.reqs = append(s.reqs, r.Method+" "+r.URL.RequestURI()+" range="+r.Header.Get("Range")+
				map[bool]string{true: " cookie=yes", false: " cookie=no"}[err == nil])
			s.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

func (s *audioSeen) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reqs...)
}

// playJS plays the voicemail's <audio> element until a third of a second
// has played and reports what the element says about it.
const playJS = `(async () => {
	const a = document.getElementById("audio-42");
	if (a.readyState < 1) {
		await new Promise((ok, fail) => {
			a.addEventListener("loadedmetadata", ok, {once: true});
			a.addEventListener("error", () => fail(new Error("media error " + (a.error && a.error.code))), {once: true});
			a.load();
		});
	}
	await a.play();
	while (a.currentTime < 0.3 && !a.ended && !a.error) {
		await new Promise(ok => setTimeout(ok, 20));
	}
	return {duration: a.duration, readyState: a.readyState, currentTime: a.currentTime,
		error: a.error ? a.error.code : 0, src: a.currentSrc};
})()`

// TestBrowserInbox: in a real (headless) Chromium on a phone-sized screen,
// a supervisor opens the inbox with the board token, plays a voicemail —
// the recording streams from the board with the cookie, in ranges, and the
// audio element knows its length — then marks it handled with a note.
func TestBrowserInbox(t *testing.T) {
	chromium := boardtest.Chromium(t)
	in := newFakeInbox()
	seen := &audioSeen{}
	o := inboxOptions(in, &fakeCallbacks{})
	o.Token, o.RequireToken = testToken, true
	srv := httptest.NewServer(seen.wrap(Handler(static(fixture()), o)))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()

	p, err := boardtest.Browser{Path: chromium, Width: 390, Height: 844, Scale: 2}.Open(ctx)
	require.NoError(t, err)
	defer p.Close()
	require.NoError(t, p.Navigate(ctx, srv.URL+"/inbox?token="+testToken))
	require.NoError(t, p.WaitFor(ctx, `location.pathname === "/inbox" && location.search === "" && document.getElementById("vm-42")`),
		"signed in by the cookie, the token gone from the address bar")

	var got struct {
		Duration    float64 `json:"duration"`
		ReadyState  int     `json:"readyState"`
		CurrentTime float64 `json:"currentTime"`
		Error       int     `json:"error"`
		Src         string  `json:"src"`
	}
	require.NoError(t, p.Eval(ctx, playJS, &got))
	assert.Zero(t, got.Error, "media error")
	assert.InDelta(t, 3.5, got.Duration, 0.01, "the browser read the WAV's length")
	assert.GreaterOrEqual(t, got.ReadyState, 2, "HAVE_CURRENT_DATA or more")
	assert.GreaterOrEqual(t, got.CurrentTime, 0.3, "it played")
	assert.Equal(t, srv.URL+"/inbox/voicemails/42/audio", got.Src)
	reqs := seen.list()
	require.NotEmpty(t, reqs)
	for _, r := range reqs {
		assert.True(t, strings.HasPrefix(r, "GET /inbox/voicemails/42/audio range=bytes=") && strings.HasSuffix(r, " cookie=yes"),
			"a range request with the board's cookie: %s", r)
	}
	var token string
	require.NoError(t, p.Eval(ctx, `document.documentElement.outerHTML`, &token))
	assert.NotContains(t, token, testToken, "the token is not in the page")

	if *updateScreenshot {
		shoot(t, ctx, p, "inbox-phone.png", false)
		shoot(t, ctx, p, "inbox-phone-full.png", true)
	}

	// Mark it handled, with a note.
	require.NoError(t, p.Eval(ctx, `(() => {
		const f = document.querySelector("#vm-42 form");
		f.querySelector("[name=who]").value = "Chị Lan";
		f.querySelector("[name=note]").value = "Đã gọi lại, máy chạy rồi";
		f.querySelector("button.done").click();
	})()`, nil))
	require.NoError(t, p.WaitFor(ctx, `location.search.includes("done=handled") && document.readyState === "complete"`))
	var after struct {
		Notice, Waiting, Handled, Who string
		Still                         bool
	}
	require.NoError(t, p.Eval(ctx, `({
		Notice: document.getElementById("notice").textContent,
		Waiting: document.getElementById("vm-waiting").textContent,
		Handled: document.getElementById("handled-42").textContent.replace(/\s+/g, " ").trim(),
		Who: document.querySelector("#vm-43 [name=who]").value,
		Still: !!document.getElementById("vm-42"),
	})`, &after))
	assert.Equal(t, "Đã đánh dấu lời nhắn #42 là đã xử lý.", after.Notice)
	assert.Equal(t, "1", after.Waiting)
	assert.False(t, after.Still, "no longer waiting")
	assert.Equal(t, "Lời nhắn CF0789 — Phòng máy Sao Mai · Chị Lan lúc 14:32 · Đã gọi lại, máy chạy rồi", after.Handled)
	assert.Equal(t, "Chị Lan", after.Who, "the name is filled in for the next one")
	assert.Equal(t, []string{"handled 42 by Chị Lan: Đã gọi lại, máy chạy rồi"}, in.log())

	if *updateScreenshot {
		shoot(t, ctx, p, "inbox-phone-handled.png", false)
	}
}

func shoot(t *testing.T, ctx context.Context, p *boardtest.Page, name string, full bool) {
	t.Helper()
	out, err := filepath.Abs(filepath.Join("testdata", name))
	require.NoError(t, err)
	require.NoError(t, p.Screenshot(ctx, out, full))
	st, err := os.Stat(out)
	require.NoError(t, err)
	t.Logf("wrote %s (%d bytes)", out, st.Size())
}
