package ivr_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari/aritest"
	"github.com/csm-vn/hotline/ivr"
)

// A message's length is what Asterisk measured (RecordingFinished's
// duration): the board's inbox shows it. Here the caller says nothing and
// Asterisk ends the message at voicemail_max.
func TestVoicemailLengthRecorded(t *testing.T) {
	e := newEnv(t, envOption{cfg: expect{}.cfg(func(c *ivr.Config) { c.VoicemailMax = time.Second })})
	c := e.call(cafe1Phone)
	e.waitHeard(c, "recording", "")
	e.waitHeard(c, "playback", "vi/goodbye")
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(t, "voicemail", r.Outcome)

	var asterisk *int // the duration Asterisk (the fake) reported
	for _, se := range e.fake.Events() {
		if se.Type != "RecordingFinished" {
			continue
		}
		var ev struct {
			Recording struct {
				Duration *int `json:"duration"`
			} `json:"recording"`
		}
		require.NoError(t, json.Unmarshal(se.JSON, &ev))
		asterisk = ev.Recording.Duration
	}
	require.NotNil(t, asterisk, "RecordingFinished with a duration")
	require.Positive(t, *asterisk)
	var length *float64
	require.NoError(t, e.db.Get(&length, "SELECT length_seconds FROM voicemails WHERE call_id = $1", r.ID))
	require.NotNil(t, length, "the length is stored")
	require.InDelta(t, float64(*asterisk), *length, 1e-9)
}

// The state saying "voicemail" is in Asterisk before the message is
// recorded: a restart during the message must find it. A write of
// HOTLINE_CALL that reaches Asterisk after the recording was asked for
// waits on the channel's thread for the whole message (here the writes are
// held longer than the prompt, so they arrive late); the recording is asked
// for only once the write is done.
func TestVoicemailStateSavedBeforeTheRecording(t *testing.T) {
	e := newEnv(t, envOption{cfg: expect{}.cfg(func(c *ivr.Config) { c.VoicemailMax = 3 * time.Second })})
	e.fake.AddFault(aritest.Fault{Method: http.MethodPost, Path: "/ari/channels/*/variable", Delay: 700 * time.Millisecond})
	c := e.call(cafe1Phone)
	e.waitHeard(c, "recording", "")
	raw, err := e.client.GetChannelVar(e.ctx(), c.ID(), "HOTLINE_CALL")
	require.NoError(t, err)
	var st struct {
		Phase string `json:"st"`
	}
	require.NoError(t, json.Unmarshal([]byte(raw), &st), raw)
	require.Equal(t, "voicemail", st.Phase, "the state when the recording started: %s", raw)
	e.waitEnded(c)
	require.Equal(t, "voicemail", e.record(c.ID()).Outcome)
}
