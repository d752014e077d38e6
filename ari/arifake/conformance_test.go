package arifake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The conformance suite: one set of ARI scenarios that runs against the fake
// and, when HOTLINE_TEST_ARI_URL, HOTLINE_TEST_ARI_USER and
// HOTLINE_TEST_ARI_PASSWORD are set, against a real Asterisk configured with
// deploy/asterisk/test (see its README.md). The scenarios only use the wire
// protocol (tclient) and a small driver for what differs: how a caller is
// placed, how test phones are reached, and how the events socket is cut.

// confDriver is where the conformance scenarios run.
type confDriver interface {
	name() string
	client() *tclient
	// placeCall places an incoming call from number into extension 2.
	placeCall(t *testing.T, ctx context.Context, number string) confCaller
	// phone is the endpoint of a test phone: answers (after ~2 s, then presses
	// 1), busy, never (rings forever), congestion, rejects, voicemail,
	// transfers (answers, presses 1, then *0# 3 s later).
	phone(kind string) string
	// dialTimeout is the dial timeout (seconds) used for phones that never answer.
	dialTimeout() int
	// cutEvents makes the app lose its events socket st.
	cutEvents(t *testing.T, ctx context.Context, st *stream)
	// expectFallback places a call while the app has no socket and checks that
	// it did not enter Stasis.
	expectFallback(t *testing.T, ctx context.Context, number string)
	// checkClean fails the test if channels or bridges of the scenario remain.
	checkClean(t *testing.T, ctx context.Context)
	timeout() time.Duration
}

// confCaller is the caller's side of an incoming call.
type confCaller interface {
	press(ctx context.Context, digits string) error
	hangup(ctx context.Context) error
	// heardDTMF waits until the caller's far end received the digit.
	heardDTMF(ctx context.Context, digit string) error
}

// --- the fake ---

type fakeDriver struct {
	s *Server
	c *tclient
}

func newFakeDriver(t *testing.T) *fakeDriver {
	sec := 20 * time.Millisecond
	s := Start(t, Options{
		Second:      sec,
		LocalLinger: 2 * sec,
		Phones: map[string]Phone{
			"0900000017": Busy(),
			"0900000019": NeverAnswers(),
			"0900000034": Congested(),
			"0900000021": Rejects(sec),
			"0900000099": Voicemail(2 * sec),
			// test-phones 0913XXXXXX: presses 1, talks 3 s, presses *0#.
			"0913000101": {Outcome: OutcomeAnswer, RingFor: 2 * sec, Keys: "1", KeysAfter: sec,
				Later: []Press{{Digits: "*0#", After: 4 * sec}}},
		},
		// test-phones: 09XXXXXXXX rings 2 s, answers, presses 1 a second later.
		DefaultPhone: AnswersAndPresses(2*sec, "1", sec),
	})
	return &fakeDriver{s: s, c: newTClient(s.URL(), s.opts.User, s.opts.Password)}
}

func (d *fakeDriver) name() string     { return "fake" }
func (d *fakeDriver) client() *tclient { return d.c }
func (d *fakeDriver) dialTimeout() int { return 2 }
func (d *fakeDriver) timeout() time.Duration {
	return 10 * time.Second
}

type fakeCaller struct{ c *Call }

func (f fakeCaller) press(ctx context.Context, digits string) error { return f.c.Press(ctx, digits) }
func (f fakeCaller) hangup(context.Context) error                   { return f.c.Hangup() }
func (f fakeCaller) heardDTMF(ctx context.Context, digit string) error {
	_, err := f.c.WaitHeard(ctx, "dtmf", digit)
	return err
}

func (d *fakeDriver) placeCall(t *testing.T, _ context.Context, number string) confCaller {
	t.Helper()
	c, err := d.s.PlaceCall(CallSpec{Number: number, Tech: "Local"})
	if err != nil {
		t.Fatal(err)
	}
	return fakeCaller{c}
}

func (d *fakeDriver) phone(kind string) string {
	n := map[string]string{"answers": "0964512424", "busy": "0900000017", "never": "0900000019",
		"congestion": "0900000034", "rejects": "0900000021", "voicemail": "0900000099", "transfers": "0913000101"}[kind]
	return "Local/" + n + "@test-phones"
}

func (d *fakeDriver) cutEvents(t *testing.T, ctx context.Context, st *stream) {
	t.Helper()
	if !d.s.CutWebSocket("hotline") {
		t.Fatal("no socket to cut")
	}
	if err := st.waitClosed(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.s.waitState(ctx, func() bool { return d.s.apps["hotline"].conn == nil }); err != nil {
		t.Fatal(err)
	}
}

func (d *fakeDriver) expectFallback(t *testing.T, _ context.Context, number string) {
	t.Helper()
	if _, err := d.s.PlaceCall(CallSpec{Number: number, Tech: "Local"}); !errors.Is(err, ErrAppInactive) {
		t.Fatalf("call without a socket: %v, want ErrAppInactive", err)
	}
}

func (d *fakeDriver) checkClean(t *testing.T, ctx context.Context) {
	t.Helper()
	if err := d.s.CheckClean(ctx); err != nil {
		t.Fatal(err)
	}
}

// --- a real Asterisk ---

type realDriver struct {
	c       *tclient
	harness *stream
}

const harnessApp = "aritest-harness"

func newRealDriver(t *testing.T, ctx context.Context) *realDriver {
	url, user, pass := os.Getenv("HOTLINE_TEST_ARI_URL"), os.Getenv("HOTLINE_TEST_ARI_USER"), os.Getenv("HOTLINE_TEST_ARI_PASSWORD")
	if url == "" || user == "" || pass == "" {
		if os.Getenv("HOTLINE_TEST_REQUIRE_ASTERISK") != "" {
			t.Fatal("HOTLINE_TEST_REQUIRE_ASTERISK is set but HOTLINE_TEST_ARI_URL/USER/PASSWORD are not")
		}
		t.Skip("HOTLINE_TEST_ARI_URL, HOTLINE_TEST_ARI_USER and HOTLINE_TEST_ARI_PASSWORD not set")
	}
	c := newTClient(url, user, pass)
	h, err := c.events(ctx, harnessApp)
	if err != nil {
		t.Fatalf("harness socket: %v", err)
	}
	t.Cleanup(h.close)
	return &realDriver{c: c, harness: h}
}

func (d *realDriver) name() string           { return "asterisk" }
func (d *realDriver) client() *tclient       { return d.c }
func (d *realDriver) dialTimeout() int       { return 3 }
func (d *realDriver) timeout() time.Duration { return 40 * time.Second }

// realCaller is the ;1 half of Local/2@hotline, owned by the harness app; it
// enters Stasis(harness) once the hotline side answers.
type realCaller struct {
	d  *realDriver
	id string
}

func (r realCaller) press(ctx context.Context, digits string) error {
	res, err := r.d.c.do(ctx, "POST", "/channels/"+r.id+"/dtmf", "dtmf", digits)
	if err != nil {
		return err
	}
	if res.status != 204 {
		return fmt.Errorf("dtmf: %d %s", res.status, res.body)
	}
	return nil
}

// heardDTMF: DTMF written to the hotline's half of Local/2@hotline comes
// out of the harness's half as received.
func (r realCaller) heardDTMF(ctx context.Context, digit string) error {
	_, err := r.d.harness.next(ctx, func(e ev) bool {
		return e.Type == "ChannelDtmfReceived" && e.chanID() == r.id && e.Digit == digit
	})
	return err
}

func (r realCaller) hangup(ctx context.Context) error {
	res, err := r.d.c.do(ctx, "DELETE", "/channels/"+r.id)
	if err != nil {
		return err
	}
	if res.status != 204 {
		return fmt.Errorf("hangup: %d %s", res.status, res.body)
	}
	return nil
}

func (d *realDriver) originateCaller(t *testing.T, ctx context.Context, number string) string {
	t.Helper()
	var ch Channel
	d.c.must(t, ctx, 200, "POST", "/channels", "endpoint", "Local/2@hotline", "app", harnessApp,
		"appArgs", "caller", "callerId", number, "timeout", "30").decode(t, &ch)
	return ch.ID
}

func (d *realDriver) placeCall(t *testing.T, ctx context.Context, number string) confCaller {
	t.Helper()
	return realCaller{d: d, id: d.originateCaller(t, ctx, number)}
}

func (d *realDriver) phone(kind string) string {
	n := map[string]string{"answers": "0964512424", "busy": "0900000017", "never": "0900000019",
		"congestion": "0900000034", "rejects": "0900000021", "voicemail": "0900000099", "transfers": "0913000101"}[kind]
	return "Local/" + n + "@test-phones"
}

func (d *realDriver) cutEvents(t *testing.T, ctx context.Context, st *stream) {
	t.Helper()
	// A client cannot cut the server's side; closing is what the app sees too.
	st.close()
	_ = st.waitClosed(ctx)
	time.Sleep(500 * time.Millisecond) // let Asterisk unregister the socket
}

func (d *realDriver) expectFallback(t *testing.T, ctx context.Context, number string) {
	t.Helper()
	id := d.originateCaller(t, ctx, number)
	// Stasis(hotline) fails at once, the dialplan hangs up, the harness's half dies.
	if _, err := d.harness.next(ctx, func(e ev) bool { return e.Type == "ChannelDestroyed" && e.chanID() == id }); err != nil {
		t.Fatalf("fallback call %s was not hung up: %v", id, err)
	}
}

func (d *realDriver) checkClean(t *testing.T, ctx context.Context) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var chs []Channel
		d.c.must(t, ctx, 200, "GET", "/channels").decode(t, &chs)
		var left []string
		for _, c := range chs {
			if isTestChannel(c) {
				left = append(left, c.ID+" "+c.Name)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("channels left behind: %v", left)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func isTestChannel(c Channel) bool {
	return strings.HasPrefix(c.Name, "Local/2@hotline") || strings.Contains(c.Name, "@test-phones")
}

// sweep hangs up every channel a scenario may have left on the shared
// Asterisk, so that one failure does not spill into the next scenario or
// into the next package's suite (which would take them for calls).
func (d *realDriver) sweep() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var chs []Channel
	res, err := d.c.do(ctx, "GET", "/channels")
	if err != nil || res.status != 200 || json.Unmarshal(res.body, &chs) != nil {
		return
	}
	for _, c := range chs {
		if isTestChannel(c) {
			_, _ = d.c.do(ctx, "DELETE", "/channels/"+c.ID)
		}
	}
}

// --- the scenarios ---

var confSeq atomic.Int64

func confID(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1e6, confSeq.Add(1))
}

type confEnv struct {
	d   confDriver
	c   *tclient
	st  *stream
	ctx context.Context
}

func newConfEnv(t *testing.T, d confDriver) *confEnv {
	ctx, cancel := context.WithTimeout(context.Background(), d.timeout())
	t.Cleanup(cancel)
	st, err := d.client().events(ctx, "hotline")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.close)
	if f, ok := d.(*fakeDriver); ok {
		if err := f.s.WaitConnected(ctx, "hotline"); err != nil {
			t.Fatal(err)
		}
	}
	return &confEnv{d: d, c: d.client(), st: st, ctx: ctx}
}

// incoming places a call and returns the caller and the hotline's channel id.
func (e *confEnv) incoming(t *testing.T, number string) (confCaller, string) {
	t.Helper()
	caller := e.d.placeCall(t, e.ctx, number)
	start := e.st.want(t, e.ctx, "StasisStart", "")
	if start.Channel.Caller.Number != number || start.Channel.State != "Ring" {
		t.Fatalf("StasisStart channel %+v", start.Channel)
	}
	return caller, start.Channel.ID
}

func (e *confEnv) answer(t *testing.T, id string) {
	t.Helper()
	e.c.must(t, e.ctx, 204, "POST", "/channels/"+id+"/answer")
	if ev := e.st.want(t, e.ctx, "ChannelStateChange", id); ev.Channel.State != "Up" {
		t.Fatalf("state after answer %s", ev.Channel.State)
	}
}

// dialLeg creates a leg to a test phone and dials it with the caller.
func (e *confEnv) dialLeg(t *testing.T, kind, callerID string, timeout int) string {
	t.Helper()
	leg := confID("leg")
	e.c.must(t, e.ctx, 200, "POST", "/channels/create", "endpoint", e.d.phone(kind), "app", "hotline",
		"appArgs", "outbound", "channelId", leg, "originator", callerID)
	if ev := e.st.want(t, e.ctx, "StasisStart", leg); ev.Channel.State != "Down" {
		t.Fatalf("created leg state %s", ev.Channel.State)
	}
	e.c.must(t, e.ctx, 204, "POST", "/channels/"+leg+"/dial", "caller", callerID, "timeout", fmt.Sprint(timeout))
	// The dial's first event is the one without a status; a phone that rings
	// at once may have its RINGING published first by a loaded Asterisk (seen
	// on 22.10.1 at load 12 on 2 cores): both say the dial is under way.
	if ev := e.st.want(t, e.ctx, "Dial", leg); *ev.DialStatus != "" && *ev.DialStatus != "RINGING" {
		t.Fatalf("first Dial status %q", *ev.DialStatus)
	}
	return leg
}

// legEnd waits for the leg's StasisEnd and returns the hangup cause seen on
// the way (ChannelHangupRequest without soft, else ChannelDestroyed), and
// every dialstatus seen.
func (e *confEnv) legEnd(t *testing.T, leg string) (cause int, statuses []string) {
	t.Helper()
	cause = -1
	for {
		got, err := e.st.next(e.ctx, func(x ev) bool { return x.chanID() == leg })
		if err != nil {
			t.Fatalf("waiting for the end of %s: %v", leg, err)
		}
		switch got.Type {
		case "Dial":
			statuses = append(statuses, *got.DialStatus)
		case "ChannelHangupRequest":
			if !got.Soft && got.Cause != nil {
				cause = *got.Cause
			}
		case "StasisEnd":
			// ChannelDestroyed may or may not follow; take it if it does.
			ctx, cancel := context.WithTimeout(e.ctx, 2*time.Second)
			d, err := e.st.next(ctx, func(x ev) bool { return x.chanID() == leg && x.Type == "ChannelDestroyed" })
			cancel()
			if err == nil && cause == -1 {
				cause = *d.Cause
			}
			return cause, statuses
		}
	}
}

func (e *confEnv) hangup(t *testing.T, id string) {
	t.Helper()
	e.c.must(t, e.ctx, 204, "DELETE", "/channels/"+id)
	e.st.want(t, e.ctx, "StasisEnd", id)
}

var confScenarios = []struct {
	name string
	run  func(t *testing.T, e *confEnv)
}{
	{"answer, play, DTMF", func(t *testing.T, e *confEnv) {
		caller, id := e.incoming(t, "0945551519")
		e.answer(t, id)
		pb := confID("pb")
		e.c.must(t, e.ctx, 201, "POST", "/channels/"+id+"/play/"+pb, "media", "sound:beep")
		if ev := e.st.want(t, e.ctx, "PlaybackStarted", ""); ev.Playback.ID != pb || ev.Playback.State != "playing" {
			t.Fatalf("PlaybackStarted %s", ev.raw)
		}
		if ev := e.st.want(t, e.ctx, "PlaybackFinished", ""); ev.Playback.ID != pb || ev.Playback.State != "done" {
			t.Fatalf("PlaybackFinished %s", ev.raw)
		}
		if err := caller.press(e.ctx, "2"); err != nil {
			t.Fatal(err)
		}
		if ev := e.st.want(t, e.ctx, "ChannelDtmfReceived", id); ev.Digit != "2" || ev.DurationMS <= 0 {
			t.Fatalf("DTMF %s", ev.raw)
		}
		e.c.must(t, e.ctx, 204, "DELETE", "/channels/"+id)
		if ev := e.st.want(t, e.ctx, "ChannelHangupRequest", id); !ev.Soft || *ev.Cause != 32 {
			t.Fatalf("hangup request %s", ev.raw)
		}
		e.st.want(t, e.ctx, "StasisEnd", id)
		e.c.must(t, e.ctx, 404, "GET", "/channels/"+id)
	}},
	{"create+dial answered", func(t *testing.T, e *confEnv) {
		caller, id := e.incoming(t, "0945551519")
		e.answer(t, id)
		leg := e.dialLeg(t, "answers", id, 20)
		for {
			ev := e.st.want(t, e.ctx, "Dial", leg)
			if *ev.DialStatus == "ANSWER" {
				break
			}
			if *ev.DialStatus != "RINGING" {
				t.Fatalf("dialstatus %q", *ev.DialStatus)
			}
		}
		if ev := e.st.want(t, e.ctx, "ChannelDtmfReceived", leg); ev.Digit != "1" {
			t.Fatalf("callee pressed %q", ev.Digit)
		}
		e.hangup(t, leg)
		_ = caller.hangup(e.ctx)
		e.st.want(t, e.ctx, "StasisEnd", id)
	}},
	{"create+dial busy", func(t *testing.T, e *confEnv) {
		caller, id := e.incoming(t, "0945551519")
		e.answer(t, id)
		leg := e.dialLeg(t, "busy", id, 20)
		if cause, _ := e.legEnd(t, leg); cause != CauseBusy {
			t.Fatalf("busy leg ended with cause %d", cause)
		}
		e.c.must(t, e.ctx, 404, "GET", "/channels/"+leg)
		_ = caller.hangup(e.ctx)
		e.st.want(t, e.ctx, "StasisEnd", id)
	}},
	{"create+dial no answer", func(t *testing.T, e *confEnv) {
		caller, id := e.incoming(t, "0945551519")
		e.answer(t, id)
		e.c.must(t, e.ctx, 204, "POST", "/channels/"+id+"/moh")
		leg := e.dialLeg(t, "never", id, e.d.dialTimeout())
		cause, statuses := e.legEnd(t, leg)
		if cause != CauseNoAnswer {
			t.Fatalf("no-answer leg ended with cause %d", cause)
		}
		for _, s := range statuses {
			if s == "NOANSWER" {
				t.Fatalf("got a NOANSWER dialstatus: %v", statuses)
			}
		}
		_ = caller.hangup(e.ctx)
		e.st.want(t, e.ctx, "StasisEnd", id)
	}},
	{"bridge two channels", func(t *testing.T, e *confEnv) {
		caller, id := e.incoming(t, "0945551519")
		e.answer(t, id)
		br := confID("br")
		e.c.must(t, e.ctx, 200, "POST", "/bridges/"+br, "type", "mixing")
		leg := e.dialLeg(t, "answers", id, 20)
		for ev := e.st.want(t, e.ctx, "Dial", leg); *ev.DialStatus != "ANSWER"; ev = e.st.want(t, e.ctx, "Dial", leg) {
		}
		e.c.must(t, e.ctx, 204, "POST", "/bridges/"+br+"/addChannel", "channel", id+","+leg)
		e.st.want(t, e.ctx, "ChannelEnteredBridge", id)
		if ev := e.st.want(t, e.ctx, "ChannelEnteredBridge", leg); len(ev.Bridge.Channels) != 2 {
			t.Fatalf("bridge after both entered %v", ev.Bridge.Channels)
		}
		if err := caller.hangup(e.ctx); err != nil {
			t.Fatal(err)
		}
		if ev := e.st.want(t, e.ctx, "ChannelLeftBridge", id); len(ev.Bridge.Channels) != 1 {
			t.Fatalf("bridge after caller left %v", ev.Bridge.Channels)
		}
		e.st.want(t, e.ctx, "StasisEnd", id)
		// The callee stays until the app hangs it up.
		var legCh Channel
		e.c.must(t, e.ctx, 200, "GET", "/channels/"+leg).decode(t, &legCh)
		if legCh.State != "Up" {
			t.Fatalf("callee after caller left: %+v", legCh)
		}
		e.c.must(t, e.ctx, 204, "DELETE", "/channels/"+leg)
		e.st.want(t, e.ctx, "ChannelLeftBridge", leg)
		e.st.want(t, e.ctx, "StasisEnd", leg)
		e.c.must(t, e.ctx, 204, "DELETE", "/bridges/"+br)
		e.st.want(t, e.ctx, "BridgeDestroyed", "")
		e.c.must(t, e.ctx, 404, "DELETE", "/bridges/"+br)
	}},
	{"DTMF while bridged: each side's own keys only", func(t *testing.T, e *confEnv) {
		// A person bridged with the caller types *0# (to pass the call on):
		// only their channel reports it. DTMF the application sends to the
		// caller, and the caller's own keys, never show up as the person's.
		caller, id := e.incoming(t, "0945551519")
		e.answer(t, id)
		br := confID("br")
		e.c.must(t, e.ctx, 200, "POST", "/bridges/"+br, "type", "mixing")
		leg := e.dialLeg(t, "transfers", id, 20)
		for ev := e.st.want(t, e.ctx, "Dial", leg); *ev.DialStatus != "ANSWER"; ev = e.st.want(t, e.ctx, "Dial", leg) {
		}
		e.c.must(t, e.ctx, 204, "POST", "/bridges/"+br+"/addChannel", "channel", id+","+leg)
		var got string
		for !strings.HasSuffix(got, "#") {
			ev := e.st.want(t, e.ctx, "ChannelDtmfReceived", "")
			if ev.chanID() != leg {
				t.Fatalf("DTMF of %s while only the person typed: %s", ev.chanID(), ev.raw)
			}
			got += ev.Digit
		}
		if got != "1*0#" {
			t.Fatalf("the person's keys: %q, want 1*0#", got)
		}
		e.c.must(t, e.ctx, 204, "POST", "/channels/"+id+"/dtmf", "dtmf", "7")
		if err := caller.heardDTMF(e.ctx, "7"); err != nil {
			t.Fatalf("the caller did not get the 7: %v", err)
		}
		if err := caller.press(e.ctx, "9"); err != nil {
			t.Fatal(err)
		}
		if ev := e.st.want(t, e.ctx, "ChannelDtmfReceived", ""); ev.chanID() != id || ev.Digit != "9" {
			t.Fatalf("first DTMF after the 7 sent to the caller: %s; want the caller's own 9", ev.raw)
		}
		e.hangup(t, leg)
		if err := caller.hangup(e.ctx); err != nil {
			t.Fatal(err)
		}
		e.st.want(t, e.ctx, "StasisEnd", id)
		e.c.must(t, e.ctx, 204, "DELETE", "/bridges/"+br)
	}},
	{"caller hangs up while the callee rings", func(t *testing.T, e *confEnv) {
		caller, id := e.incoming(t, "0945551519")
		e.answer(t, id)
		leg := e.dialLeg(t, "never", id, 60)
		// The dial's second event: RINGING, or its start ("") when a loaded
		// Asterisk published RINGING first (dialLeg took that one): either
		// way the leg rings now.
		if ev := e.st.want(t, e.ctx, "Dial", leg); *ev.DialStatus != "RINGING" && *ev.DialStatus != "" {
			t.Fatalf("dialstatus %q", *ev.DialStatus)
		}
		if err := caller.hangup(e.ctx); err != nil {
			t.Fatal(err)
		}
		e.st.want(t, e.ctx, "StasisEnd", id)
		var legCh Channel
		e.c.must(t, e.ctx, 200, "GET", "/channels/"+leg).decode(t, &legCh)
		if legCh.State != "Ringing" {
			t.Fatalf("leg after the caller left: %+v", legCh)
		}
		e.c.must(t, e.ctx, 204, "DELETE", "/channels/"+leg, "reason", "normal")
		e.st.want(t, e.ctx, "StasisEnd", leg)
	}},
	{"socket cut and reconnect", func(t *testing.T, e *confEnv) {
		caller, id := e.incoming(t, "0945551519")
		e.answer(t, id)
		e.d.cutEvents(t, e.ctx, e.st)
		var app Application
		e.c.must(t, e.ctx, 200, "GET", "/applications/hotline").decode(t, &app)
		if len(app.ChannelIDs) != 1 || app.ChannelIDs[0] != id {
			t.Fatalf("application while disconnected: %+v", app)
		}
		e.d.expectFallback(t, e.ctx, "0911222333")
		st2, err := e.c.events(e.ctx, "hotline")
		if err != nil {
			t.Fatal(err)
		}
		defer st2.close()
		if f, ok := e.d.(*fakeDriver); ok {
			_ = f.s.WaitConnected(e.ctx, "hotline")
		}
		e.c.must(t, e.ctx, 201, "POST", "/channels/"+id+"/play", "media", "sound:beep")
		if ev, err := st2.next(e.ctx, nil); err != nil || ev.Type != "PlaybackStarted" {
			t.Fatalf("first event after reconnect: %s %v (nothing is replayed)", ev.raw, err)
		}
		st3, err := e.c.events(e.ctx, "hotline")
		if err != nil {
			t.Fatal(err)
		}
		defer st3.close()
		st2.want(t, e.ctx, "ApplicationReplaced", "")
		if err := caller.hangup(e.ctx); err != nil {
			t.Fatal(err)
		}
		st3.want(t, e.ctx, "StasisEnd", id)
	}},
	{"event filter", func(t *testing.T, e *confEnv) {
		const path = "/applications/hotline/eventFilter"
		put := func(body string) resp {
			ctype := "application/json"
			if body == "" {
				ctype = ""
			}
			r, err := e.c.doRaw(e.ctx, "PUT", path, "", ctype, body)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		// The application keeps its filter while Asterisk keeps it: clear it
		// for the scenarios and suites that follow.
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, _ = e.c.doRaw(ctx, "PUT", path, "", "", "")
		})
		filter := func() (allowed, disallowed string) {
			var app struct {
				Allowed    json.RawMessage `json:"events_allowed"`
				Disallowed json.RawMessage `json:"events_disallowed"`
			}
			e.c.must(t, e.ctx, 200, "GET", "/applications/hotline").decode(t, &app)
			return string(app.Allowed), string(app.Disallowed)
		}
		for _, tc := range []struct {
			name, body          string
			status              int
			msg                 string
			allowed, disallowed string // the filter afterwards
		}{
			{"allowed only", `{"allowed":[{"type":"StasisStart"}]}`, 200, "", `[{"type":"StasisStart"}]`, `[]`},
			{"disallowed only keeps allowed", `{"disallowed":[{"type":"ChannelVarset"}]}`, 200, "",
				`[{"type":"StasisStart"}]`, `[{"type":"ChannelVarset"}]`},
			{"not an array", `{"allowed":"StasisStart"}`, 400, "Invalid format definition",
				`[{"type":"StasisStart"}]`, `[{"type":"ChannelVarset"}]`},
			{"empty type", `{"allowed":[{"type":""}]}`, 400, "Invalid format definition",
				`[{"type":"StasisStart"}]`, `[{"type":"ChannelVarset"}]`},
			{"no type", `{"allowed":[{"name":"StasisEnd"}]}`, 400, "Invalid format definition",
				`[{"type":"StasisStart"}]`, `[{"type":"ChannelVarset"}]`},
			{"null", `{"allowed":null}`, 400, "Invalid format definition",
				`[{"type":"StasisStart"}]`, `[{"type":"ChannelVarset"}]`},
			{"disallowed set before allowed fails", `{"disallowed":[],"allowed":[{"type":1}]}`, 400, "Invalid format definition",
				`[{"type":"StasisStart"}]`, `[]`},
			{"other keys change nothing", `{"other":[]}`, 200, "", `[{"type":"StasisStart"}]`, `[]`},
			{"an array sets both", `[{"type":"StasisEnd"}]`, 200, "", `[{"type":"StasisEnd"}]`, `[{"type":"StasisEnd"}]`},
			{"a scalar is no JSON body", `"StasisEnd"`, 400, "Error parsing request body",
				`[{"type":"StasisEnd"}]`, `[{"type":"StasisEnd"}]`},
			{"empty object clears", `{}`, 200, "", `[]`, `[]`},
			{"set again", `{"allowed":[{"type":"StasisStart"}],"disallowed":[{"type":"Dial"}]}`, 200, "",
				`[{"type":"StasisStart"}]`, `[{"type":"Dial"}]`},
			{"no body clears", ``, 200, "", `[]`, `[]`},
		} {
			r := put(tc.body)
			if r.status != tc.status || (tc.msg != "" && r.message() != tc.msg) {
				t.Fatalf("%s: %d %s, want %d %q", tc.name, r.status, r.body, tc.status, tc.msg)
			}
			if a, d := filter(); a != tc.allowed || d != tc.disallowed {
				t.Fatalf("%s: filter allowed %s disallowed %s, want %s %s", tc.name, a, d, tc.allowed, tc.disallowed)
			}
		}
		if r, _ := e.c.doRaw(e.ctx, "PUT", "/applications/nosuchapp/eventFilter", "", "", ""); r.status != 404 ||
			r.message() != "Application not found" {
			t.Fatalf("unknown application: %d %s", r.status, r.body)
		}

		// Only the allowed types reach the socket; the disallowed list wins.
		put(`{"allowed":[{"type":"StasisStart"},{"type":"StasisEnd"},{"type":"PlaybackStarted"},{"type":"PlaybackFinished"}],` +
			`"disallowed":[{"type":"PlaybackStarted"}]}`)
		caller, id := e.incoming(t, "0945551519")
		e.c.must(t, e.ctx, 204, "POST", "/channels/"+id+"/answer")
		pb := confID("pb")
		e.c.must(t, e.ctx, 201, "POST", "/channels/"+id+"/play/"+pb, "media", "sound:beep")
		e.st.want(t, e.ctx, "PlaybackFinished", "")
		if err := caller.hangup(e.ctx); err != nil {
			t.Fatal(err)
		}
		e.st.want(t, e.ctx, "StasisEnd", id)
		var got []string
		for _, ev := range e.st.all() {
			got = append(got, ev.Type)
		}
		if want := "StasisStart PlaybackFinished StasisEnd"; strings.Join(got, " ") != want {
			t.Fatalf("events %v, want %s", got, want)
		}

		// The application's last socket goes while it holds no channel:
		// Asterisk drops the application, and its filter with it.
		e.d.checkClean(t, e.ctx)
		e.d.cutEvents(t, e.ctx, e.st)
		st2, err := e.c.events(e.ctx, "hotline")
		if err != nil {
			t.Fatal(err)
		}
		defer st2.close()
		if f, ok := e.d.(*fakeDriver); ok {
			_ = f.s.WaitConnected(e.ctx, "hotline")
		}
		if a, d := filter(); a != `[]` || d != `[]` {
			t.Fatalf("filter after the application was dropped: allowed %s disallowed %s", a, d)
		}
	}},
}

func runConformance(t *testing.T, mk func(t *testing.T) confDriver) {
	for _, sc := range confScenarios {
		t.Run(sc.name, func(t *testing.T) {
			d := mk(t)
			e := newConfEnv(t, d)
			sc.run(t, e)
			d.checkClean(t, e.ctx)
		})
	}
}

func TestConformanceFake(t *testing.T) {
	runConformance(t, func(t *testing.T) confDriver { return newFakeDriver(t) })
}

func TestConformanceAsterisk(t *testing.T) {
	runConformance(t, func(t *testing.T) confDriver {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		d := newRealDriver(t, ctx)
		t.Cleanup(func() {
			if t.Failed() {
				d.sweep()
			}
		})
		return d
	})
}
