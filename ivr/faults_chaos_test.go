package ivr_test

import (
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari/aritest"
	"github.com/csm-vn/hotline/ivr"
)

// Faults a chaos run found (scripts/chaos.sh, issue 10).

// A bridge Asterisk does not destroy (500, or no answer) is asked again
// with backoff until it is gone; after TeardownTries the hotline gives up
// loudly (ERROR log, hotline_bridges_given_up_total). Before: one DELETE,
// a WARN, and the bridge stayed up (chaos: bridges_left).
func TestFaultBridgeDestroyIsRetried(t *testing.T) {
	const bridges = "/ari/bridges/*"
	tests := []struct {
		name    string
		fault   aritest.Fault
		deletes int  // DELETE /bridges/{id} requests made
		gone    bool // the bridge is gone in the end
	}{
		{name: "refused twice", fault: aritest.Fault{Method: http.MethodDelete, Path: bridges,
			Status: http.StatusInternalServerError, Times: 2}, deletes: 3, gone: true},
		{name: "no answer once", fault: aritest.Fault{Method: http.MethodDelete, Path: bridges,
			Timeout: true, Times: 1}, deletes: 2, gone: true},
		{name: "always refused", fault: aritest.Fault{Method: http.MethodDelete, Path: bridges,
			Status: http.StatusServiceUnavailable}, deletes: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, logs := newFaultEnv(t, faultOptions{envOption: envOption{
				cfg: func(c *ivr.Config) {
					c.TeardownTries = 3
					c.RequestTimeout = 300 * time.Millisecond
				},
				fake: func(o *aritest.Options) {
					o.Phones = map[string]aritest.Phone{ktv1Vina: talkThenHangUp(20*time.Millisecond, 100*time.Millisecond)}
				}}})
			remove := e.fake.AddFault(tt.fault)
			c := e.call(cafe1Phone)
			e.waitEnded(c)
			r := e.record(c.ID())
			require.Equal(t, "answered", r.Outcome)
			bridgeID := r.ID + "-br"
			// The record is submitted before the call's retries are over.
			require.NoError(t, e.fake.WaitFor(e.ctx(), func() bool { return e.bridgeDeletes(bridgeID) >= tt.deletes }))
			if tt.gone {
				require.NoError(t, e.fake.WaitFor(e.ctx(), func() bool { return !e.bridgeUp(bridgeID) }),
					"the bridge is still up")
				require.Zero(t, e.metric("hotline_bridges_given_up_total"))
				require.Empty(t, logs.find(slog.LevelError, "gave up destroying a bridge"))
				require.Equal(t, tt.deletes, e.bridgeDeletes(bridgeID))
				return
			}
			require.Eventually(t, func() bool { return e.metric("hotline_bridges_given_up_total") == 1 },
				waitTimeout, 10*time.Millisecond)
			errs := logs.find(slog.LevelError, "gave up destroying a bridge")
			require.Len(t, errs, 1)
			require.Equal(t, bridgeID, errs[0].Attrs["bridge"])
			require.Equal(t, r.ID, errs[0].Attrs["call_id"])
			require.Equal(t, tt.deletes, e.bridgeDeletes(bridgeID), "TeardownTries, then no more")
			require.True(t, e.bridgeUp(bridgeID), "Asterisk refused every destroy")
			remove()
			require.NoError(t, e.client.DestroyBridge(e.ctx(), bridgeID)) // by hand, as an operator would
		})
	}
}

// bridgeDeletes counts the DELETE /ari/bridges/{id} requests of a bridge.
func (e *env) bridgeDeletes(id string) int {
	n := 0
	for _, r := range e.fake.Requests() {
		if r.Method == http.MethodDelete && r.Path == "/ari/bridges/"+id {
			n++
		}
	}
	return n
}

// bridgeUp reports whether the fake still has the bridge.
func (e *env) bridgeUp(id string) bool {
	for _, b := range e.fake.Bridges() {
		if b.ID == id {
			return true
		}
	}
	return false
}

// A transient error on the caller's answer (500, no answer) is retried
// while the caller is there, then the call goes on as usual; only after
// every try does the caller go to the dialplan's fallback, never hung up
// silently. Before: the first 500 made the call failed (chaos: 5 calls).
func TestFaultCallerAnswerIsRetried(t *testing.T) {
	const answer = "/ari/channels/*/answer"
	tests := []struct {
		name     string
		faults   []aritest.Fault
		answers  int    // answer requests made
		outcome  string // the record's
		handBack bool   // the caller went to the dialplan's fallback
	}{
		{name: "refused twice", faults: []aritest.Fault{{Method: http.MethodPost, Path: answer,
			Status: http.StatusInternalServerError, Times: 2}}, answers: 3, outcome: "answered"},
		{name: "no answer once", faults: []aritest.Fault{{Method: http.MethodPost, Path: answer,
			Timeout: true, Times: 1}}, answers: 2, outcome: "answered"},
		{name: "always refused: the dialplan's fallback", faults: []aritest.Fault{{Method: http.MethodPost,
			Path: answer, Status: http.StatusServiceUnavailable}}, answers: 3, outcome: "failed", handBack: true},
		{name: "always refused, the fallback refused twice", faults: []aritest.Fault{
			{Method: http.MethodPost, Path: answer, Status: http.StatusServiceUnavailable},
			{Method: http.MethodPost, Path: "/ari/channels/*/continue", Status: http.StatusInternalServerError, Times: 2},
		}, answers: 3, outcome: "failed", handBack: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, logs := newFaultEnv(t, faultOptions{envOption: envOption{cfg: expect{tech: true, confirm: true}.cfg(),
				fake: func(o *aritest.Options) {
					o.Phones = map[string]aritest.Phone{ktv1Vina: talkThenHangUp(20*time.Millisecond, 100*time.Millisecond)}
				}}})
			for _, f := range tt.faults {
				e.fake.AddFault(f)
			}
			c := e.call(cafe1Phone)
			e.waitEnded(c)
			r := e.record(c.ID())
			require.Equal(t, tt.outcome, r.Outcome, "detail %q, legs %v", r.Detail, r.results())
			require.Len(t, e.requests("POST /ari/channels/"+c.ID()+"/answer"), tt.answers)
			require.Equal(t, tt.handBack, c.Continued())
			if !tt.handBack {
				require.Equal(t, []string{"KTV1/answered"}, r.results())
				require.Empty(t, logs.find(slog.LevelError, "could not answer"))
				return
			}
			require.Contains(t, r.Detail, "handed to the dialplan's fallback")
			require.Empty(t, e.fake.Dials(), "somebody was rung for a caller Asterisk would not answer")
			require.Zero(t, e.hangups(c.ID()), "the caller was hung up")
			require.Len(t, logs.find(slog.LevelError, "could not answer the call"), 1)
		})
	}
}

// A prompt Asterisk refuses to play (500) to the caller is asked again: an
// unknown caller hears the greeting and "enter the café code", types it
// and is connected. Before: each refused prompt was skipped (silence).
func TestFaultCallerPromptIsRetried(t *testing.T) {
	e, _ := newFaultEnv(t, faultOptions{envOption: envOption{cfg: expect{code: true, tech: true, confirm: true}.cfg(),
		fake: func(o *aritest.Options) {
			o.Phones = map[string]aritest.Phone{ktv1Vina: talkThenHangUp(20*time.Millisecond, 100*time.Millisecond)}
		}}})
	e.fake.FailNext(http.MethodPost, "/ari/channels/*/play/*", http.StatusInternalServerError, 2)
	c := e.call("0909999999")
	e.waitHeard(c, "playback", "vi/greeting")
	e.waitHeard(c, "playback", "vi/enter-code")
	require.NoError(t, c.Press(e.ctx(), "001#"))
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(t, "answered", r.Outcome)
	require.Equal(t, "KG001", r.Cafe.String)
	require.Equal(t, 2, e.fake.FaultHits())
	tries := map[string]int{}
	for _, r := range e.requests("POST /ari/channels/" + c.ID() + "/play/") {
		tries[r.Query["media"][0]]++
	}
	require.Equal(t, 3, tries["sound:vi/greeting"], "refused twice, played the third time")
	require.Equal(t, 1, tries["sound:vi/enter-code"])
}

// The end of "enter the café code" lost with the events WebSocket: after
// the reconnect the call asks Asterisk (GET /playbacks/{id}: 404) and the
// time to type starts, so the caller is asked again at once rather than
// after MaxPrompt. Before: the code entry waited for MaxPrompt (2 min in
// production) in silence (chaos: 47–86 s).
func TestFaultCodePromptEndLostWithWebSocket(t *testing.T) {
	e, _ := newFaultEnv(t, faultOptions{envOption: envOption{
		cfg: expect{tech: true, confirm: true}.cfg(func(c *ivr.Config) { c.MaxPrompt = 10 * time.Minute }),
		fake: func(o *aritest.Options) {
			o.Phones = map[string]aritest.Phone{ktv1Vina: talkThenHangUp(20*time.Millisecond, 100*time.Millisecond)}
		}}})
	// The greeting's end is the first PlaybackFinished, "enter code"'s the second.
	e.fake.AddEventFault(aritest.EventFault{Type: "PlaybackFinished", Nth: 2})
	c := e.call("0909999999")
	e.waitHeard(c, "playback", "vi/enter-code")
	// Nobody types: the first try's time runs out once its prompt is known
	// to be over, and the code is asked for again.
	require.NoError(t, e.fake.WaitFor(e.ctx(), func() bool {
		return len(playedTo(c, "sound:vi/enter-code")) == 2
	}), "the code was not asked for again; heard %v", c.Heard())
	require.NoError(t, c.Press(e.ctx(), "001#"))
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(t, "answered", r.Outcome)
	require.Equal(t, "KG001", r.Cafe.String)
	var lost []string
	for _, ev := range e.fake.DroppedEvents() {
		lost = append(lost, ev.Type)
	}
	require.Contains(t, lost, "PlaybackFinished")
	require.NotEmpty(t, e.requests("GET /ari/playbacks/"), "nobody asked Asterisk")
}

// playedTo lists the times the caller was given media.
func playedTo(c *aritest.Call, media string) []aritest.Heard {
	var out []aritest.Heard
	for _, h := range c.Heard() {
		if h.Kind == "playback" && h.Detail == media {
			out = append(out, h)
		}
	}
	return out
}
