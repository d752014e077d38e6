package app

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari/aritest"
	"github.com/csm-vn/hotline/store"
)

// TestServeInbox: nobody answers a café, the caller says nothing and the
// hotline keeps a one-second message. The voicemail gauges show it waiting
// (with its age), the board's inbox lists it and plays it — the recording
// comes from Asterisk through the hotline — and marking it handled clears
// the gauges at once, so the "voicemails not handled" alert clears.
func TestServeInbox(t *testing.T) {
	h := startHarness(t, nil) // every phone rings forever
	call, err := h.ast.PlaceCall(aritest.CallSpec{Number: "0945550201"})
	require.NoError(t, err)
	ctx := ctxFor(t, 90*time.Second)
	select {
	case <-call.Done():
	case <-ctx.Done():
		t.Fatal("the call did not end")
	}
	db, err := store.Open(ctx, h.dbURL)
	require.NoError(t, err)
	defer db.Close()
	var id int64
	require.Eventually(t, func() bool {
		return db.GetContext(ctx, &id, "SELECT id FROM voicemails WHERE recording <> ''") == nil
	}, 20*time.Second, 50*time.Millisecond, "no voicemail stored")

	gauge := func(name string) float64 {
		_, body := h.get("/metrics")
		m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindStringSubmatch(body)
		require.NotNil(t, m, "%s in /metrics", name)
		v, err := strconv.ParseFloat(m[1], 64)
		require.NoError(t, err)
		return v
	}
	// The poll (every 15 s) reports the voicemail and when it was left.
	require.Eventually(t, func() bool { return gauge("hotline_voicemails_waiting") == 1 }, 40*time.Second, 200*time.Millisecond)
	require.Positive(t, gauge("hotline_voicemail_oldest_waiting_timestamp_seconds"), "the oldest voicemail's time is reported")

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(h.base + "/inbox")
	require.NoError(t, err)
	page, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, string(page))
	vm := "vm-" + strconv.FormatInt(id, 10)
	require.Contains(t, string(page), `id="`+vm+`"`)
	require.Contains(t, string(page), "KG001 — Net Cỏ Mây")
	audioURL := "inbox/voicemails/" + strconv.FormatInt(id, 10) + "/audio"
	require.Contains(t, string(page), `src="`+audioURL+`"`)

	res, err = client.Get(h.base + "/" + audioURL)
	require.NoError(t, err)
	wav, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "audio/wav", res.Header.Get("Content-Type"))
	require.True(t, strings.HasPrefix(string(wav), "RIFF") && len(wav) > 44, "a WAV file from Asterisk: %d bytes", len(wav))
	require.Equal(t, strconv.Itoa(len(wav)), res.Header.Get("Content-Length"))

	token := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(string(page))
	require.NotNil(t, token)
	res, err = client.PostForm(h.base+"/inbox/voicemails/"+strconv.FormatInt(id, 10)+"/handled",
		url.Values{"csrf": {token[1]}, "who": {"QL Miền Nam"}, "note": {"đã gọi lại"}})
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusSeeOther, res.StatusCode)

	var by, note string
	require.NoError(t, db.QueryRowContext(ctx, "SELECT handled_by, note FROM voicemails WHERE id = $1", id).Scan(&by, &note))
	require.Equal(t, "QL Miền Nam", by)
	require.Equal(t, "đã gọi lại", note)
	require.Zero(t, gauge("hotline_voicemails_waiting"), "cleared at once, not at the next poll")
	require.Zero(t, gauge("hotline_voicemail_oldest_waiting_timestamp_seconds"))
}
