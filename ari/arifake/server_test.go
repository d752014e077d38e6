package arifake

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// setup starts a fake, a client and the hotline app's event stream.
func setup(t *testing.T, opts Options) (*Server, *tclient, *stream, context.Context) {
	t.Helper()
	ctx := testCtx(t)
	s := Start(t, opts)
	c := newTClient(s.URL(), s.Options().User, s.Options().Password)
	st, err := c.events(ctx, "hotline")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.close)
	if err := s.WaitConnected(ctx, "hotline"); err != nil {
		t.Fatal(err)
	}
	return s, c, st, ctx
}

func TestAuth(t *testing.T) {
	ctx := testCtx(t)
	s := Start(t, Options{User: "u", Password: "p"})
	bad := newTClient(s.URL(), "u", "wrong")
	r, err := bad.do(ctx, "GET", "/asterisk/ping")
	if err != nil {
		t.Fatal(err)
	}
	if r.status != http.StatusUnauthorized || r.message() != "Authentication required" {
		t.Fatalf("bad credentials: %d %s", r.status, r.body)
	}
	if _, err := bad.events(ctx, "hotline"); err == nil {
		t.Fatal("websocket with bad credentials was accepted")
	}
	good := newTClient(s.URL(), "u", "p")
	good.must(t, ctx, 200, "GET", "/asterisk/ping")
	// api_key in the query works too.
	res, err := http.Get(s.URL() + "/ari/asterisk/ping?api_key=u:p")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("api_key: %d", res.StatusCode)
	}
}

func TestErrorBodies(t *testing.T) {
	s, c, st, ctx := setup(t, Options{})
	call, err := s.PlaceCall(CallSpec{Number: "0945551519", Tech: "Local"})
	if err != nil {
		t.Fatal(err)
	}
	st.want(t, ctx, "StasisStart", call.ID())
	c.must(t, ctx, 200, "POST", "/bridges/br-x", "type", "mixing")
	tests := []struct {
		method, path string
		kv           []string
		status       int
		msg          string
	}{
		{"GET", "/channels/no-such-channel", nil, 404, "Channel not found"},
		{"POST", "/channels/no-such-channel/answer", nil, 404, "Channel not found"},
		{"DELETE", "/channels/x", []string{"reason", "bogus"}, 404, "Channel not found"},
		{"DELETE", "/channels/" + call.ID(), []string{"reason", "bogus"}, 400, "Invalid reason for hangup reason provided"},
		{"POST", "/channels/" + call.ID() + "/dtmf", nil, 400, "DTMF is required"},
		{"POST", "/channels/" + call.ID() + "/dial", nil, 409, "Channel is not in the 'Down' state"},
		{"POST", "/bridges/no-such-bridge/addChannel", []string{"channel", "x"}, 404, "Bridge not found"},
		{"DELETE", "/bridges/no-such-bridge", nil, 404, "Bridge not found"},
		{"GET", "/playbacks/no-such-playback", nil, 404, "Playback not found"},
		{"GET", "/recordings/stored/nope", nil, 404, "Recording not found"},
		{"POST", "/channels/create", []string{"app", "hotline", "endpoint", "Bogus/xyz"}, 500, "Allocation failed"},
		{"POST", "/channels", []string{"app", "hotline", "endpoint", "Bogus/123"}, 500, "Allocation failed"},
		{"POST", "/channels", []string{"endpoint", "Local/2@hotline"}, 400, "Application or extension must be specified"},
		{"GET", "/applications/nope", nil, 404, "Application not found"},
	}
	for _, tc := range tests {
		t.Run(tc.method+tc.path, func(t *testing.T) {
			r, err := c.do(ctx, tc.method, tc.path, tc.kv...)
			if err != nil {
				t.Fatal(err)
			}
			if r.status != tc.status || r.message() != tc.msg {
				t.Fatalf("got %d %s, want %d %q", r.status, r.body, tc.status, tc.msg)
			}
		})
	}
	// The 500 uses the key "error", not "message", as Asterisk does.
	r, _ := c.do(ctx, "POST", "/channels/create", "app", "hotline", "endpoint", "Bogus/xyz")
	if !strings.Contains(string(r.body), `"error"`) {
		t.Fatalf("allocation failure body %s", r.body)
	}
	// Deleting a bridge twice: 204 then 404.
	c.must(t, ctx, 204, "DELETE", "/bridges/br-x")
	c.must(t, ctx, 404, "DELETE", "/bridges/br-x")
	_ = call.Hangup()
}

var tsRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$`)
var idRE = regexp.MustCompile(`^\d{9,}\.\d+$`)

func TestIncomingCallAnswerPlayDTMFHangup(t *testing.T) {
	s, c, st, ctx := setup(t, Options{})
	s.RequireCleanAtEnd(t, 2*time.Second)
	call, err := s.PlaceCall(CallSpec{Number: "02973812345", Name: "Cafe"})
	if err != nil {
		t.Fatal(err)
	}
	start := st.want(t, ctx, "StasisStart", "")
	if start.Channel.ID != call.ID() || !idRE.MatchString(call.ID()) {
		t.Fatalf("channel id %q / %q", start.Channel.ID, call.ID())
	}
	if start.Channel.State != "Ring" || start.Channel.Caller.Number != "02973812345" || start.Channel.Caller.Name != "Cafe" {
		t.Fatalf("StasisStart channel %+v", start.Channel)
	}
	if !strings.HasPrefix(start.Channel.Name, "PJSIP/gw-viettel-") || start.App != "hotline" || start.AsteriskID == "" {
		t.Fatalf("StasisStart %s", start.raw)
	}
	if !tsRE.MatchString(start.Timestamp) {
		t.Fatalf("timestamp %q", start.Timestamp)
	}
	id := call.ID()
	c.must(t, ctx, 204, "POST", "/channels/"+id+"/answer")
	if e := st.want(t, ctx, "ChannelStateChange", id); e.Channel.State != "Up" {
		t.Fatalf("state %s", e.Channel.State)
	}
	r := c.must(t, ctx, 201, "POST", "/channels/"+id+"/play/pb-1", "media", "sound:hello,digits:12")
	var pb Playback
	r.decode(t, &pb)
	if pb.ID != "pb-1" || pb.State != "queued" || pb.TargetURI != "channel:"+id {
		t.Fatalf("playback %+v", pb)
	}
	// One playback, item by item (as recorded, i_playback_lists): each item
	// starts, PlaybackContinuing closes every item but the last.
	if e := st.want(t, ctx, "PlaybackStarted", ""); e.Playback.State != "playing" || e.Playback.MediaURI != "sound:hello" ||
		e.Playback.NextMediaURI != "digits:12" {
		t.Fatalf("started %s", e.raw)
	}
	if e := st.want(t, ctx, "PlaybackContinuing", ""); e.Playback.State != "continuing" || e.Playback.MediaURI != "sound:hello" ||
		e.Playback.NextMediaURI != "digits:12" {
		t.Fatalf("continuing %s", e.raw)
	}
	if e := st.want(t, ctx, "PlaybackStarted", ""); e.Playback.MediaURI != "digits:12" || e.Playback.NextMediaURI != "" {
		t.Fatalf("second started %s", e.raw)
	}
	if e := st.want(t, ctx, "PlaybackFinished", ""); e.Playback.State != "done" || e.Playback.MediaURI != "digits:12" {
		t.Fatalf("finished %s", e.raw)
	}
	c.must(t, ctx, 404, "GET", "/playbacks/pb-1")
	if err := call.Press(ctx, "2#"); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"2", "#"} {
		if e := st.want(t, ctx, "ChannelDtmfReceived", id); e.Digit != d || e.DurationMS != 100 {
			t.Fatalf("dtmf %s", e.raw)
		}
	}
	if err := call.Hangup(); err != nil {
		t.Fatal(err)
	}
	// A SIP BYE: ChannelHangupRequest without a cause, StasisEnd, the dialplan's
	// soft hangup, ChannelDestroyed 16.
	hr := st.want(t, ctx, "ChannelHangupRequest", id)
	if hr.Cause != nil || hr.Soft {
		t.Fatalf("hangup request %s", hr.raw)
	}
	st.want(t, ctx, "StasisEnd", id)
	if e := st.want(t, ctx, "ChannelHangupRequest", id); !e.Soft || e.Cause == nil || *e.Cause != 16 {
		t.Fatalf("dialplan soft hangup %s", e.raw)
	}
	if e := st.want(t, ctx, "ChannelDestroyed", id); *e.Cause != 16 {
		t.Fatalf("destroyed %s", e.raw)
	}
	c.must(t, ctx, 404, "GET", "/channels/"+id)
	kinds := []string{}
	for _, h := range call.Heard() {
		kinds = append(kinds, h.Kind+":"+h.Detail)
	}
	want := "answered: playback:sound:hello playback:digits:12 playback-end:digits:12"
	if strings.Join(kinds, " ") != want {
		t.Fatalf("heard %v, want %s", kinds, want)
	}
	if err := call.Hangup(); !errors.Is(err, ErrCallEnded) {
		t.Fatalf("second hangup: %v", err)
	}
}

// waitTypes waits until the noise-free events about id read exactly want.
func waitTypes(t *testing.T, ctx context.Context, st *stream, id, want string) {
	t.Helper()
	for {
		got := typesOf(st.all(), id)
		if got == want {
			return
		}
		if !strings.HasPrefix(want, got) {
			t.Fatalf("events:\n got %s\nwant %s", got, want)
		}
		if _, err := st.next(ctx, nil); err != nil {
			t.Fatalf("events: %v\n got %s\nwant %s", err, got, want)
		}
	}
}

// typesOf lists event types about channel id (all when id is ""), without noise.
func typesOf(evs []ev, id string) string {
	var out []string
	for _, e := range evs {
		if e.Type == "ChannelVarset" || e.Type == "ChannelDialplan" || e.Type == "ChannelConnectedLine" || e.Type == "ChannelCallerId" {
			continue
		}
		if id == "" || e.chanID() == id {
			out = append(out, e.String())
		}
	}
	return strings.Join(out, ", ")
}

func TestCreateDialOutcomes(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name     string
		endpoint string
		phone    Phone
		trunk    TrunkState
		timeout  string
		want     string
	}{
		{"answer PJSIP", "PJSIP/0964512424@gw-viettel", AnswersAndPresses(30*ms, "1", 10*ms), TrunkUp, "20",
			`StasisStart L, Dial L dialstatus="", ChannelStateChange L, Dial L dialstatus="RINGING", ChannelStateChange L, Dial L dialstatus="ANSWER", ChannelDtmfReceived L`},
		{"answer at once Local", "Local/0964000101@phones", Answers(0), TrunkUp, "20",
			`StasisStart L, Dial L dialstatus="", ChannelStateChange L, Dial L dialstatus="ANSWER"`},
		{"busy Local", "Local/0900000017@phones", Busy(), TrunkUp, "20",
			`StasisStart L, Dial L dialstatus="", Dial L dialstatus="BUSY", ChannelHangupRequest L cause=17, StasisEnd L, ChannelDestroyed L cause=17`},
		{"busy SIP 486 has no Dial BUSY", "PJSIP/0900000017@gw-viettel", Phone{Outcome: OutcomeBusy, RingFor: 20 * ms}, TrunkUp, "20",
			`StasisStart L, Dial L dialstatus="", ChannelStateChange L, Dial L dialstatus="RINGING", ChannelHangupRequest L cause=17, StasisEnd L, ChannelDestroyed L cause=17`},
		{"no answer timeout", "Local/0900000019@phones", NeverAnswers(), TrunkUp, "3",
			`StasisStart L, Dial L dialstatus="", ChannelStateChange L, Dial L dialstatus="RINGING", ChannelHangupRequest L cause=32 soft, StasisEnd L, ChannelDestroyed L cause=19`},
		{"congestion Local", "Local/0900000034@phones", Congested(), TrunkUp, "20",
			`StasisStart L, Dial L dialstatus="", Dial L dialstatus="CONGESTION", ChannelHangupRequest L cause=34, StasisEnd L, ChannelDestroyed L cause=34`},
		{"rejected", "Local/0900000021@phones", Rejects(20 * ms), TrunkUp, "20",
			`StasisStart L, Dial L dialstatus="", ChannelStateChange L, Dial L dialstatus="RINGING", ChannelHangupRequest L cause=21, StasisEnd L, ChannelDestroyed L cause=21`},
		{"unreachable", "PJSIP/0912345678@gw-viettel", Unreachable(), TrunkUp, "20",
			`StasisStart L, Dial L dialstatus="", ChannelHangupRequest L cause=3, StasisEnd L, ChannelDestroyed L cause=3`},
		{"trunk congested", "PJSIP/0964512424@gw-viettel", Answers(0), TrunkCongested, "20",
			`StasisStart L, Dial L dialstatus="", ChannelHangupRequest L cause=34, StasisEnd L, ChannelDestroyed L cause=34`},
		{"trunk unavailable", "PJSIP/0964512424@gw-viettel", Answers(0), TrunkUnavailable, "20",
			`StasisStart L, Dial L dialstatus="", ChannelHangupRequest L cause=3, StasisEnd L, ChannelDestroyed L cause=3`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, c, st, ctx := setup(t, Options{Trunks: map[string]TrunkState{"gw-viettel": tc.trunk}})
			tgt, err := ParseEndpoint(tc.endpoint)
			if err != nil {
				t.Fatal(err)
			}
			s.SetPhone(tgt.Number, tc.phone)
			call, err := s.PlaceCall(CallSpec{Number: "0945551519"})
			if err != nil {
				t.Fatal(err)
			}
			st.want(t, ctx, "StasisStart", call.ID())
			c.must(t, ctx, 204, "POST", "/channels/"+call.ID()+"/answer")
			r := c.must(t, ctx, 200, "POST", "/channels/create", "endpoint", tc.endpoint, "app", "hotline",
				"appArgs", "outbound", "channelId", "L", "originator", call.ID())
			var leg Channel
			r.decode(t, &leg)
			if leg.ID != "L" || leg.State != "Down" {
				t.Fatalf("create: %+v", leg)
			}
			st.want(t, ctx, "StasisStart", "L")
			c.must(t, ctx, 204, "POST", "/channels/L/dial", "caller", call.ID(), "timeout", tc.timeout)
			waitTypes(t, ctx, st, "L", tc.want)
			if r, _ := c.do(ctx, "GET", "/channels/L"); r.status == 200 {
				c.must(t, ctx, 204, "DELETE", "/channels/L")
			}
			_ = call.Hangup()
			if err := s.CheckClean(ctx); err != nil {
				t.Fatal(err)
			}
			d := s.Dials()
			if len(d) != 1 || d[0].Number != tgt.Number || d[0].Trunk != tgt.Trunk || !d[0].Ended {
				t.Fatalf("dials %+v", d)
			}
		})
	}
}

func TestBridgeAndHangups(t *testing.T) {
	s, c, st, ctx := setup(t, Options{})
	s.RequireCleanAtEnd(t, 2*time.Second)
	s.SetPhone("0964512424", Answers(0))
	call, _ := s.PlaceCall(CallSpec{Number: "0945551519", Tech: "Local"})
	id := call.ID()
	st.want(t, ctx, "StasisStart", id)
	c.must(t, ctx, 204, "POST", "/channels/"+id+"/answer")
	c.must(t, ctx, 200, "POST", "/bridges", "bridgeId", "b1", "type", "mixing")
	c.must(t, ctx, 200, "POST", "/channels/create", "endpoint", "PJSIP/0964512424@gw-mobifone", "app", "hotline", "channelId", "leg")
	st.want(t, ctx, "StasisStart", "leg")
	c.must(t, ctx, 204, "POST", "/channels/leg/dial", "caller", id)
	st.want(t, ctx, "Dial", "leg")
	if e := st.want(t, ctx, "Dial", "leg"); *e.DialStatus != "ANSWER" {
		t.Fatalf("dial %s", e.raw)
	}
	c.must(t, ctx, 204, "POST", "/bridges/b1/addChannel", "channel", id+",leg")
	st.want(t, ctx, "ChannelEnteredBridge", id)
	if e := st.want(t, ctx, "ChannelEnteredBridge", "leg"); len(e.Bridge.Channels) != 2 {
		t.Fatalf("entered %s", e.raw)
	}
	// DTMF sent to the caller goes to the caller's far end only: the other
	// party of the bridge gets no event. The callee's own keys reach the
	// application as the callee's ChannelDtmfReceived, and the caller's far
	// end hears them through the bridge.
	c.must(t, ctx, 204, "POST", "/channels/"+id+"/dtmf", "dtmf", "5")
	if _, err := call.WaitHeard(ctx, "dtmf", "5"); err != nil {
		t.Fatal(err)
	}
	if err := s.PressOnLeg("leg", "7"); err != nil {
		t.Fatal(err)
	}
	if e := st.want(t, ctx, "ChannelDtmfReceived", ""); e.Digit != "7" || e.chanID() != "leg" {
		t.Fatalf("the first DTMF event is %s; want the callee's 7 (none for the 5 sent to the caller)", e.raw)
	}
	if _, err := call.WaitHeard(ctx, "dtmf", "7"); err != nil {
		t.Fatal(err)
	}
	var app Application
	c.must(t, ctx, 200, "GET", "/applications/hotline").decode(t, &app)
	if len(app.ChannelIDs) != 2 || len(app.BridgeIDs) != 1 {
		t.Fatalf("application %+v", app)
	}
	// Caller hangs up (Local: cause 16); the callee stays in the bridge.
	_ = call.Hangup()
	if e := st.want(t, ctx, "ChannelHangupRequest", id); *e.Cause != 16 || e.Soft {
		t.Fatalf("hangup %s", e.raw)
	}
	if e := st.want(t, ctx, "ChannelLeftBridge", id); len(e.Bridge.Channels) != 1 {
		t.Fatalf("left %s", e.raw)
	}
	st.want(t, ctx, "StasisEnd", id)
	var leg Channel
	c.must(t, ctx, 200, "GET", "/channels/leg").decode(t, &leg)
	if leg.State != "Up" {
		t.Fatalf("leg %+v", leg)
	}
	c.must(t, ctx, 204, "DELETE", "/channels/leg", "reason", "normal")
	if e := st.want(t, ctx, "ChannelHangupRequest", "leg"); *e.Cause != 32 || !e.Soft {
		t.Fatalf("hangup %s", e.raw)
	}
	st.want(t, ctx, "ChannelLeftBridge", "leg")
	st.want(t, ctx, "StasisEnd", "leg")
	if e := st.want(t, ctx, "ChannelDestroyed", "leg"); *e.Cause != 16 {
		t.Fatalf("destroyed %s", e.raw)
	}
	c.must(t, ctx, 204, "DELETE", "/bridges/b1")
	st.want(t, ctx, "BridgeDestroyed", "")
}

func TestAddChannelNotInStasisIs422(t *testing.T) {
	s, c, st, ctx := setup(t, Options{})
	call, _ := s.PlaceCall(CallSpec{Number: "1"})
	st.want(t, ctx, "StasisStart", call.ID())
	c.must(t, ctx, 200, "POST", "/bridges/b", "type", "mixing")
	// An originated channel is not in Stasis until it answers.
	s.SetPhone("0900000019", NeverAnswers())
	var o Channel
	c.must(t, ctx, 200, "POST", "/channels", "endpoint", "PJSIP/0900000019@gw-viettel", "app", "hotline", "timeout", "25").decode(t, &o)
	r := c.must(t, ctx, 422, "POST", "/bridges/b/addChannel", "channel", o.ID)
	if r.message() != "Channel not in Stasis application" {
		t.Fatalf("422 body %s", r.body)
	}
	c.must(t, ctx, 400, "POST", "/bridges/b/addChannel", "channel", "unknown")
	c.must(t, ctx, 409, "POST", "/channels/"+o.ID+"/answer")
	// Originate timeout: no StasisStart ever, ChannelDestroyed cause 19.
	if e := st.want(t, ctx, "ChannelDestroyed", o.ID); *e.Cause != 19 {
		t.Fatalf("destroyed %s", e.raw)
	}
	for _, e := range st.all() {
		if e.Type == "StasisStart" && e.chanID() == o.ID {
			t.Fatal("originated channel that never answered entered Stasis")
		}
	}
	c.must(t, ctx, 204, "DELETE", "/bridges/b")
	_ = call.Hangup()
}

func TestOriginateAnsweredEntersStasisOnAnswer(t *testing.T) {
	s, c, st, ctx := setup(t, Options{})
	s.SetPhone("0964512424", Answers(20*time.Millisecond))
	var o Channel
	c.must(t, ctx, 200, "POST", "/channels", "endpoint", "Local/0964512424@phones", "app", "hotline", "appArgs", "outbound", "callerId", "Cafe <0945551519>").decode(t, &o)
	if o.Caller.Number != "0945551519" || o.Caller.Name != "Cafe" || o.State != "Down" {
		t.Fatalf("originate %+v", o)
	}
	e := st.want(t, ctx, "StasisStart", o.ID)
	if len(e.Args) != 1 || e.Args[0] != "outbound" || e.Channel.State != "Up" {
		t.Fatalf("StasisStart %s", e.raw)
	}
	want := `Dial ` + o.ID + ` dialstatus="", ChannelStateChange ` + o.ID + `, Dial ` + o.ID + ` dialstatus="RINGING", ChannelStateChange ` + o.ID + `, Dial ` + o.ID + ` dialstatus="ANSWER", StasisStart ` + o.ID
	if got := typesOf(st.all(), o.ID); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	c.must(t, ctx, 204, "DELETE", "/channels/"+o.ID)
	if err := s.CheckClean(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestOriginateBusyNeverEntersStasis(t *testing.T) {
	s, c, st, ctx := setup(t, Options{})
	s.SetPhone("0900000017", Busy())
	var o Channel
	c.must(t, ctx, 200, "POST", "/channels", "endpoint", "Local/0900000017@phones", "app", "hotline").decode(t, &o)
	st.want(t, ctx, "ChannelDestroyed", o.ID)
	want := `Dial ` + o.ID + ` dialstatus="", Dial ` + o.ID + ` dialstatus="BUSY", ChannelDestroyed ` + o.ID + ` cause=0`
	if got := typesOf(st.all(), o.ID); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if err := s.CheckClean(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestAppInactiveReconnectReplaced(t *testing.T) {
	s, c, st, ctx := setup(t, Options{})
	call, err := s.PlaceCall(CallSpec{Number: "0945551519"})
	if err != nil {
		t.Fatal(err)
	}
	st.want(t, ctx, "StasisStart", call.ID())
	if !s.CutWebSocket("hotline") {
		t.Fatal("no socket to cut")
	}
	if err := st.waitClosed(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.waitState(ctx, func() bool { return s.apps["hotline"].conn == nil }); err != nil {
		t.Fatal(err)
	}
	// A new call cannot enter Stasis now.
	if _, err := s.PlaceCall(CallSpec{Number: "0911222333"}); !errors.Is(err, ErrAppInactive) {
		t.Fatalf("PlaceCall while inactive: %v", err)
	}
	if s.Fallbacks() != 1 {
		t.Fatalf("fallbacks %d", s.Fallbacks())
	}
	// The channel in the app stays and is still listed and controllable.
	var app Application
	c.must(t, ctx, 200, "GET", "/applications/hotline").decode(t, &app)
	if len(app.ChannelIDs) != 1 || app.ChannelIDs[0] != call.ID() {
		t.Fatalf("app %+v", app)
	}
	st2, err := c.events(ctx, "hotline")
	if err != nil {
		t.Fatal(err)
	}
	defer st2.close()
	if err := s.WaitConnected(ctx, "hotline"); err != nil {
		t.Fatal(err)
	}
	c.must(t, ctx, 201, "POST", "/channels/"+call.ID()+"/play", "media", "sound:beep")
	// Nothing is replayed: the first event on the new socket is the playback.
	if e, _ := st2.next(ctx, nil); e.Type != "PlaybackStarted" {
		t.Fatalf("first event after reconnect: %s", e.raw)
	}
	st3, err := c.events(ctx, "hotline")
	if err != nil {
		t.Fatal(err)
	}
	defer st3.close()
	st2.want(t, ctx, "ApplicationReplaced", "")
	_ = call.Hangup()
	st3.want(t, ctx, "StasisEnd", call.ID())
	for _, e := range st2.all() {
		if e.Type == "StasisEnd" {
			t.Fatal("replaced socket still gets events")
		}
	}
}

func TestRecordingTerminateOnHash(t *testing.T) {
	s, c, st, ctx := setup(t, Options{})
	call, _ := s.PlaceCall(CallSpec{Number: "0945551519"})
	id := call.ID()
	st.want(t, ctx, "StasisStart", id)
	c.must(t, ctx, 204, "POST", "/channels/"+id+"/answer")
	r := c.must(t, ctx, 201, "POST", "/channels/"+id+"/record", "name", "vm-1", "format", "wav", "maxDurationSeconds", "1000", "terminateOn", "#", "beep", "true")
	var lr LiveRecording
	r.decode(t, &lr)
	if lr.State != "queued" || lr.TargetURI != "channel:"+id {
		t.Fatalf("record %+v", lr)
	}
	st.want(t, ctx, "RecordingStarted", "")
	c.must(t, ctx, 409, "POST", "/channels/"+id+"/record", "name", "vm-1", "format", "wav")
	_ = call.Press(ctx, "#")
	if e := st.want(t, ctx, "RecordingFinished", ""); e.Recording.State != "done" || e.Recording.Duration == nil {
		t.Fatalf("finished %s", e.raw)
	}
	c.must(t, ctx, 200, "GET", "/recordings/stored/vm-1")
	f := c.must(t, ctx, 200, "GET", "/recordings/stored/vm-1/file")
	if !strings.HasPrefix(string(f.body), "RIFF") {
		t.Fatal("stored file is not a WAV")
	}
	c.must(t, ctx, 204, "DELETE", "/recordings/stored/vm-1")
	c.must(t, ctx, 404, "DELETE", "/recordings/stored/vm-1")
	// maxDurationSeconds ends a recording by itself.
	c.must(t, ctx, 201, "POST", "/channels/"+id+"/record", "name", "vm-2", "format", "wav", "maxDurationSeconds", "2")
	if e := st.want(t, ctx, "RecordingFinished", ""); e.Recording.Name != "vm-2" {
		t.Fatalf("finished %s", e.raw)
	}
	_ = call.Hangup()
}

func TestPlaybackQueueAndStop(t *testing.T) {
	s, c, st, ctx := setup(t, Options{})
	call, _ := s.PlaceCall(CallSpec{Number: "0945551519"})
	id := call.ID()
	st.want(t, ctx, "StasisStart", id)
	c.must(t, ctx, 201, "POST", "/channels/"+id+"/play/ring", "media", "tone:ring")
	c.must(t, ctx, 201, "POST", "/channels/"+id+"/play/next", "media", "sound:x")
	st.want(t, ctx, "PlaybackStarted", "")
	var p Playback
	c.must(t, ctx, 200, "GET", "/playbacks/next").decode(t, &p)
	if p.State != "queued" {
		t.Fatalf("queued playback %+v", p)
	}
	// The tone plays until stopped; stopping it starts the queued one.
	c.must(t, ctx, 204, "DELETE", "/playbacks/ring")
	if e := st.want(t, ctx, "PlaybackFinished", ""); e.Playback.ID != "ring" || e.Playback.State != "done" {
		t.Fatalf("stopped %s", e.raw)
	}
	if e := st.want(t, ctx, "PlaybackStarted", ""); e.Playback.ID != "next" {
		t.Fatalf("next %s", e.raw)
	}
	// Hanging up ends the playing one.
	_ = call.Hangup()
	st.want(t, ctx, "PlaybackFinished", "")
}

func TestContinueAndVariables(t *testing.T) {
	s, c, st, ctx := setup(t, Options{})
	call, _ := s.PlaceCall(CallSpec{Number: "0945551519"})
	id := call.ID()
	st.want(t, ctx, "StasisStart", id)
	c.must(t, ctx, 404, "GET", "/channels/"+id+"/variable", "variable", "NOPE")
	c.must(t, ctx, 204, "POST", "/channels/"+id+"/variable", "variable", "CAFE", "value", "C042")
	var v map[string]string
	c.must(t, ctx, 200, "GET", "/channels/"+id+"/variable", "variable", "CAFE").decode(t, &v)
	if v["value"] != "C042" {
		t.Fatalf("variable %v", v)
	}
	c.must(t, ctx, 200, "GET", "/channels/"+id+"/variable", "variable", "CALLERID(num)").decode(t, &v)
	if v["value"] != "0945551519" {
		t.Fatalf("CALLERID(num) %v", v)
	}
	c.must(t, ctx, 204, "POST", "/channels/"+id+"/continue")
	st.want(t, ctx, "StasisEnd", id)
	<-call.Done()
	if !call.Continued() {
		t.Fatal("call not marked continued")
	}
	c.must(t, ctx, 404, "POST", "/channels/"+id+"/continue")
}

func TestCallerHearsRingingAndMOH(t *testing.T) {
	s, c, st, ctx := setup(t, Options{})
	call, _ := s.PlaceCall(CallSpec{Number: ""}) // anonymous
	id := call.ID()
	if e := st.want(t, ctx, "StasisStart", id); e.Channel.Caller.Number != "" {
		t.Fatalf("anonymous caller %+v", e.Channel.Caller)
	}
	c.must(t, ctx, 204, "POST", "/channels/"+id+"/ring")
	c.must(t, ctx, 204, "POST", "/channels/"+id+"/answer")
	c.must(t, ctx, 204, "POST", "/channels/"+id+"/moh", "mohClass", "vi")
	c.must(t, ctx, 204, "DELETE", "/channels/"+id+"/moh")
	if _, err := call.WaitHeard(ctx, "moh", "vi"); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, h := range call.Heard() {
		kinds = append(kinds, h.Kind)
	}
	if got := strings.Join(kinds, ","); got != "ringing,answered,moh,moh-stop" {
		t.Fatalf("heard %s", got)
	}
	c.must(t, ctx, 204, "DELETE", "/channels/"+id)
	<-call.Done()
	if cause, ended := call.Cause(); !ended || cause != 16 {
		t.Fatalf("cause %d %v", cause, ended)
	}
}

func TestCheckCleanReportsLeftovers(t *testing.T) {
	s, c, _, ctx := setup(t, Options{})
	c.must(t, ctx, 200, "POST", "/bridges/left", "type", "mixing")
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	err := s.CheckClean(short)
	if !errors.Is(err, ErrNotClean) || !strings.Contains(err.Error(), "bridge left") {
		t.Fatalf("CheckClean: %v", err)
	}
	c.must(t, ctx, 204, "DELETE", "/bridges/left")
	if err := s.CheckClean(ctx); err != nil {
		t.Fatal(err)
	}
	reqs := s.Requests()
	last := reqs[len(reqs)-1]
	if last.Method != "DELETE" || last.Path != "/ari/bridges/left" || last.Status != 204 {
		t.Fatalf("request log %+v", last)
	}
}

// A created channel is not in Stasis until its StasisStart: a dial sent
// straight after the create's answer is refused as on Asterisk 22.10.1 (409),
// and succeeds once StasisStart has come.
func TestDialBeforeStasisStartIsRefused(t *testing.T) {
	s, c, st, ctx := setup(t, Options{StasisEntryDelay: 200 * time.Millisecond})
	s.RequireCleanAtEnd(t, 2*time.Second)
	s.SetPhone("0964512424", Answers(0))
	call, _ := s.PlaceCall(CallSpec{Number: "0945551519"})
	st.want(t, ctx, "StasisStart", call.ID())
	c.must(t, ctx, 200, "POST", "/channels/create", "endpoint", "PJSIP/0964512424@gw-viettel", "app", "hotline", "channelId", "leg")
	r := c.must(t, ctx, 409, "POST", "/channels/leg/dial", "caller", call.ID())
	if !strings.Contains(string(r.body), "Channel not in Stasis application") {
		t.Fatalf("409 body %s", r.body)
	}
	st.want(t, ctx, "StasisStart", "leg")
	c.must(t, ctx, 204, "POST", "/channels/leg/dial", "caller", call.ID())
	c.must(t, ctx, 204, "DELETE", "/channels/leg")
	_ = call.Hangup()
}
