package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari/aritest"
	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/internal/board"
	"github.com/csm-vn/hotline/internal/config"
	"github.com/csm-vn/hotline/ivr"
	"github.com/csm-vn/hotline/store"
)

// callback.* reaches the call flow: on/off, timings, and the hours as a
// daily window in Asia/Ho_Chi_Minh.
func TestCallbackConfigForTheCallFlow(t *testing.T) {
	c := config.Default().Callback
	c.Enabled = true
	got := callbackConfig(c)
	require.True(t, got.Enabled)
	require.Equal(t, 20*time.Second, got.MinWait)
	require.Equal(t, 3, got.Tries)
	require.Equal(t, 10*time.Minute, got.Retry)
	at := func(day, h, m int) time.Time { return time.Date(2026, 3, day, h, m, 0, 0, dialplan.Location()) }
	for _, tc := range []struct {
		t    time.Time
		open bool
	}{
		{at(11, 6, 59), false}, {at(11, 7, 0), true}, {at(11, 21, 59), true}, {at(11, 22, 0), false},
		{at(15, 7, 0), true}, // a Sunday
		{at(14, 23, 30), false},
	} {
		require.Equal(t, tc.open, got.Hours.OpenAt(tc.t), "%s", tc.t)
	}
	c.Hours = "08:30-24:00"
	got = callbackConfig(c)
	require.False(t, got.Hours.OpenAt(at(11, 8, 29)))
	require.True(t, got.Hours.OpenAt(at(11, 23, 59)))
}

type stubCallbacks struct{ err error }

func (s stubCallbacks) CallbackNow(context.Context, int64, string, string) error { return s.err }

// The inbox's "call back now" answers 404 for an unknown voicemail or
// person, 409 for a café being called back already, and passes the rest on.
func TestBoardCallbacksErrors(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want error
	}{
		{nil, nil},
		{fmt.Errorf("x: %w", store.ErrNotFound), board.ErrNotFound},
		{fmt.Errorf("x: %w", ivr.ErrUnknownStaff), board.ErrNotFound},
		{fmt.Errorf("x: %w", store.ErrCallbackBusy), board.ErrAlreadyDone},
		{fmt.Errorf("x: %w", ivr.ErrStaffBusy), ivr.ErrStaffBusy},
	} {
		err := boardCallbacks{calls: stubCallbacks{tc.err}}.CallbackNow(context.Background(), 1, "KTV01", "sup")
		if tc.want == nil {
			require.NoError(t, err)
			continue
		}
		require.ErrorIs(t, err, tc.want)
		require.ErrorIs(t, err, tc.err, "the cause is kept")
	}
}

// TestServeInboxCallBackNow: nobody answers a café, which leaves a message;
// from the board's inbox a supervisor asks to call it back through the area
// manager (automatic callbacks are off: this works anyway). AM01 is rung,
// presses 1, the café's number that called is dialled and both talk; the
// try is recorded as a callback with the supervisor's name.
func TestServeInboxCallBackNow(t *testing.T) {
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
		return db.GetContext(ctx, &id, "SELECT id FROM voicemails") == nil
	}, 20*time.Second, 50*time.Millisecond, "no voicemail stored")
	h.ast.SetPhone("0935550107", aritest.AnswersAndPresses(50*time.Millisecond, "1", 20*time.Millisecond)) // AM01
	h.ast.SetPhone("0945550201", aritest.Answers(50*time.Millisecond))                                     // the café

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
	require.Contains(t, string(page), `name="staff"`, "the call-back-now form is offered")
	token := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(string(page))
	require.NotNil(t, token)
	res, err = client.PostForm(h.base+"/inbox/voicemails/"+strconv.FormatInt(id, 10)+"/callback",
		url.Values{"csrf": {token[1]}, "who": {"QL Miền Nam"}, "staff": {"AM01"}})
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusSeeOther, res.StatusCode, string(body))

	// AM01 accepted; the café is bridged with them; the café hangs up.
	var cafeLeg string
	require.Eventually(t, func() bool {
		for _, d := range h.ast.Dials() {
			if d.Number == "0945550201" && !d.Ended && slices.ContainsFunc(d.Heard, func(x aritest.Heard) bool { return x.Kind == "bridged" }) {
				cafeLeg = d.ChannelID
				return true
			}
		}
		return false
	}, 30*time.Second, 20*time.Millisecond, "the café bridged")
	require.NoError(t, h.ast.HangupLeg(cafeLeg))

	var rec struct {
		Outcome    string `db:"outcome"`
		AcceptedBy string `db:"accepted_by"`
		Detail     string `db:"detail"`
		Caller     string `db:"caller"`
	}
	require.Eventually(t, func() bool {
		return db.GetContext(ctx, &rec, `SELECT outcome, accepted_by, detail, caller FROM calls
			WHERE direction = 'callback'`) == nil
	}, 20*time.Second, 50*time.Millisecond, "no callback record")
	require.Equal(t, "answered", rec.Outcome)
	require.Equal(t, "AM01", rec.AcceptedBy)
	require.Equal(t, "+84945550201", rec.Caller)
	require.Equal(t, "call back now by QL Miền Nam (voicemail "+strconv.FormatInt(id, 10)+")", rec.Detail)
	_, metricsPage := h.get("/metrics")
	require.True(t, strings.Contains(metricsPage, "hotline_callbacks_attempted_total 1") &&
		strings.Contains(metricsPage, "hotline_callbacks_connected_total 1"), "callback metrics")
}
