package arifake

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestPhoneHangsUpAfterTalking(t *testing.T) {
	s, c, st, ctx := setup(t, Options{})
	s.RequireCleanAtEnd(t, 2*time.Second)
	// Talks a second: time for the test to bridge the leg after the answer,
	// even on a loaded machine.
	s.SetPhone("0964512424", HangsUpAfter(0, time.Second))
	call, _ := s.PlaceCall(CallSpec{Number: "0945551519"})
	id := call.ID()
	st.want(t, ctx, "StasisStart", id)
	c.must(t, ctx, 204, "POST", "/channels/"+id+"/answer")
	c.must(t, ctx, 200, "POST", "/bridges/b", "type", "mixing")
	c.must(t, ctx, 204, "POST", "/bridges/b/addChannel", "channel", id)
	c.must(t, ctx, 200, "POST", "/channels/create", "endpoint", "PJSIP/0964512424@gw-vinaphone", "app", "hotline", "channelId", "ktv")
	st.want(t, ctx, "StasisStart", "ktv")
	c.must(t, ctx, 204, "POST", "/channels/ktv/dial", "caller", id)
	st.want(t, ctx, "Dial", "ktv")
	st.want(t, ctx, "Dial", "ktv") // ANSWER
	c.must(t, ctx, 204, "POST", "/bridges/b/addChannel", "channel", "ktv")
	// The KTV puts the phone down (a SIP BYE: no cause); the caller stays.
	hr := st.want(t, ctx, "ChannelHangupRequest", "ktv")
	if hr.Cause != nil || hr.Soft {
		t.Fatalf("BYE %s", hr.raw)
	}
	if e := st.want(t, ctx, "ChannelLeftBridge", "ktv"); len(e.Bridge.Channels) != 1 {
		t.Fatalf("left %s", e.raw)
	}
	st.want(t, ctx, "StasisEnd", "ktv")
	c.must(t, ctx, 200, "GET", "/channels/"+id)
	// The caller rates the call; the app removes it from the bridge and plays.
	c.must(t, ctx, 204, "POST", "/bridges/b/removeChannel", "channel", id)
	c.must(t, ctx, 422, "POST", "/bridges/b/removeChannel", "channel", id)
	st.want(t, ctx, "ChannelLeftBridge", id)
	c.must(t, ctx, 204, "DELETE", "/bridges/b")
	c.must(t, ctx, 204, "DELETE", "/channels/"+id)
	d := s.Dials()
	if len(d) != 1 || !d[0].Answered || d[0].Cause != 16 {
		t.Fatalf("dials %+v", d)
	}
	var kinds []string
	for _, h := range d[0].Heard {
		kinds = append(kinds, h.Kind)
	}
	if strings.Join(kinds, ",") != "bridged,unbridged" {
		t.Fatalf("the KTV heard %v", kinds)
	}
}

func TestBridgePlaybackReachesEveryone(t *testing.T) {
	s, c, st, ctx := setup(t, Options{})
	s.SetDefaultPhone(Answers(0))
	call, _ := s.PlaceCall(CallSpec{Number: "0945551519"})
	id := call.ID()
	st.want(t, ctx, "StasisStart", id)
	c.must(t, ctx, 200, "POST", "/bridges", "bridgeId", "b").decode(t, &Bridge{})
	c.must(t, ctx, 200, "POST", "/channels/create", "endpoint", "Local/0912000111@phones", "app", "hotline", "channelId", "leg")
	st.want(t, ctx, "StasisStart", "leg")
	c.must(t, ctx, 204, "POST", "/channels/leg/dial")
	st.want(t, ctx, "Dial", "leg")
	st.want(t, ctx, "Dial", "leg")
	c.must(t, ctx, 204, "POST", "/bridges/b/addChannel", "channel", id+",leg")
	c.must(t, ctx, 201, "POST", "/bridges/b/play/announce", "media", "sound:hotline-intro")
	if e := st.want(t, ctx, "PlaybackStarted", ""); e.Playback.ID != "announce" {
		t.Fatalf("started %s", e.raw)
	}
	st.want(t, ctx, "PlaybackFinished", "")
	c.must(t, ctx, 204, "POST", "/bridges/b/moh")
	if _, err := call.WaitHeard(ctx, "playback", "sound:hotline-intro"); err != nil {
		t.Fatal(err)
	}
	if _, err := call.WaitHeard(ctx, "moh", "default"); err != nil {
		t.Fatal(err)
	}
	if h := s.Dials()[0].Heard; len(h) < 2 || h[1].Kind != "playback" {
		t.Fatalf("leg heard %+v", h)
	}
	// Destroying the bridge takes both out, then BridgeDestroyed.
	c.must(t, ctx, 204, "DELETE", "/bridges/b")
	st.want(t, ctx, "ChannelLeftBridge", id)
	st.want(t, ctx, "ChannelLeftBridge", "leg")
	st.want(t, ctx, "BridgeDestroyed", "")
	c.must(t, ctx, 204, "DELETE", "/channels/leg")
	_ = call.Hangup()
	if err := s.CheckClean(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestSnoopEndsWithItsTarget(t *testing.T) {
	s, c, st, ctx := setup(t, Options{})
	call, _ := s.PlaceCall(CallSpec{Number: "0945551519"})
	id := call.ID()
	st.want(t, ctx, "StasisStart", id)
	c.must(t, ctx, 400, "POST", "/channels/"+id+"/snoop")
	var sn Channel
	c.must(t, ctx, 200, "POST", "/channels/"+id+"/snoop/spy1", "app", "hotline", "spy", "in").decode(t, &sn)
	if sn.ID != "spy1" || !strings.HasPrefix(sn.Name, "Snoop/"+id) {
		t.Fatalf("snoop %+v", sn)
	}
	st.want(t, ctx, "StasisStart", "spy1")
	_ = call.Hangup()
	st.want(t, ctx, "StasisEnd", "spy1")
	if err := s.CheckClean(ctx); err != nil {
		t.Fatal(err)
	}
}

// A reader that never reads must not stall the fake: REST keeps answering
// while events pile up, and the fake drops the socket once its queue is full.
func TestSlowReaderDoesNotBlock(t *testing.T) {
	ctx := testCtx(t)
	s := Start(t, Options{MaxQueue: 20, WriteTimeout: 30 * time.Second})
	c := newTClient(s.URL(), s.opts.User, s.opts.Password)
	u := "ws" + strings.TrimPrefix(s.URL(), "http") + "/ari/events?" + url.Values{"app": {"hotline"}, "api_key": {"asterisk:asterisk"}}.Encode()
	conn, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow() // never read from it
	if err := s.WaitConnected(ctx, "hotline"); err != nil {
		t.Fatal(err)
	}
	call, err := s.PlaceCall(CallSpec{Number: "0945551519"})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 64<<10)
	for i := 0; i < 400 && s.Connected("hotline"); i++ {
		c.must(t, ctx, 204, "POST", "/channels/"+call.ID()+"/variable", "variable", "BIG", "value", big)
	}
	if err := s.waitState(ctx, func() bool { return s.apps["hotline"].conn == nil }); err != nil {
		t.Fatalf("slow reader was never dropped: %v", err)
	}
	// The state machine still works.
	c.must(t, ctx, 204, "DELETE", "/channels/"+call.ID())
	<-call.Done()
	_ = context.Background()
}

func TestTrimHistory(t *testing.T) {
	log := []int{}
	for i := 0; i < 25; i++ {
		log = trimHistory(append(log, i), 10)
	}
	if len(log) > 10 || log[len(log)-1] != 24 {
		t.Fatalf("log %v", log)
	}
}

// WaitFor's condition may call Server methods (it runs without the lock).
func TestWaitForMayCallServerMethods(t *testing.T) {
	s, _, _, ctx := setup(t, Options{})
	go func() { _, _ = s.PlaceCall(CallSpec{Number: "0945551519"}) }()
	if err := s.WaitFor(ctx, func() bool { return len(s.Channels()) == 1 }); err != nil {
		t.Fatal(err)
	}
}
