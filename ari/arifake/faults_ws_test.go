package arifake

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// A WebSocket cut at a chosen event: the events before it arrive, the socket
// closes, the chosen event is never delivered (not even after reconnecting),
// the application is inactive meanwhile, and events flow again on the next
// socket.
func TestEventFaultCutsTheSocketAtTheChosenEvent(t *testing.T) {
	s, c, st, ctx := setup(t, Options{})
	s.RequireCleanAtEnd(t, 2*time.Second)
	s.AddEventFault(EventFault{App: "hotline", Type: "StasisStart", CallerNumber: "0945550202"})

	// Two calls at once: the first one's StasisStart is queued, not
	// necessarily written, when the second one's cuts the socket.
	first, err := s.PlaceCall(CallSpec{Number: "0945550101"})
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.PlaceCall(CallSpec{Number: "0945550202"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.waitClosed(ctx); err != nil {
		t.Fatalf("the socket was not cut: %v; got %v", err, st.all())
	}
	if got := typesOf(st.all(), ""); got != "StasisStart "+first.ID() {
		t.Fatalf("before the cut the application got %q, want the first call's StasisStart", got)
	}
	dropped := s.DroppedEvents()
	if len(dropped) != 1 || dropped[0].Type != "StasisStart" || dropped[0].Conn != 1 ||
		!strings.Contains(string(dropped[0].JSON), second.ID()) {
		t.Fatalf("dropped %+v, want the second call's StasisStart on connection 1", dropped)
	}
	for _, e := range s.Events() {
		if strings.Contains(string(e.JSON), second.ID()) {
			t.Fatalf("the lost event is in the sent log: %s", e.JSON)
		}
	}
	if s.Connected("hotline") {
		t.Fatal("the application is still connected after the cut")
	}
	if _, err := s.PlaceCall(CallSpec{Number: "0945550303"}); !errors.Is(err, ErrAppInactive) {
		t.Fatalf("a call during the cut: %v, want ErrAppInactive", err)
	}

	st2, err := c.events(ctx, "hotline")
	if err != nil {
		t.Fatal(err)
	}
	defer st2.close()
	if err := s.WaitConnected(ctx, "hotline"); err != nil {
		t.Fatal(err)
	}
	// Nothing is replayed; the lost call is still in the application and its
	// later events arrive, and the fault has ended: the same caller's next
	// StasisStart is delivered.
	if err := second.Hangup(); err != nil {
		t.Fatal(err)
	}
	st2.want(t, ctx, "StasisEnd", second.ID())
	third, err := s.PlaceCall(CallSpec{Number: "0945550202"})
	if err != nil {
		t.Fatal(err)
	}
	st2.want(t, ctx, "StasisStart", third.ID())
	for _, e := range st2.all() {
		if e.Type == "StasisStart" && e.chanID() == second.ID() {
			t.Fatalf("the lost StasisStart was replayed: %s", e.raw)
		}
	}
	for _, call := range []*Call{first, third} {
		if err := call.Hangup(); err != nil {
			t.Fatal(err)
		}
		st2.want(t, ctx, "StasisEnd", call.ID())
	}
	if n := len(s.DroppedEvents()); n != 1 {
		t.Fatalf("%d events dropped, want 1", n)
	}
}

// Which event a fault chooses: by application, type, channel id pattern,
// caller number and count. The call: StasisStart, keys 1 and 2, hang-up.
func TestEventFaultMatching(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fault    EventFault
		wantDrop string // "type" or "type digit" of the event lost; "" none
		wantGot  int    // how many events the application got before the cut (-1: not checked)
	}{
		{"every event", EventFault{}, "StasisStart", 0},
		{"any event of the channel", EventFault{Channel: "*"}, "StasisStart", 0},
		{"by caller number", EventFault{Type: "StasisStart", CallerNumber: "0945550101"}, "StasisStart", 0},
		{"by caller number, a later event", EventFault{Type: "ChannelDtmfReceived", CallerNumber: "0945550101"}, "ChannelDtmfReceived 1", 1},
		{"second of a type", EventFault{App: "hotline", Type: "ChannelDtmfReceived", Nth: 2}, "ChannelDtmfReceived 2", 2},
		{"first of a type", EventFault{Type: "ChannelDtmfReceived", Nth: 1}, "ChannelDtmfReceived 1", 1},
		{"end of the call", EventFault{Type: "StasisEnd"}, "StasisEnd", -1},
		{"another caller", EventFault{Type: "StasisStart", CallerNumber: "0999999999"}, "", 0},
		{"another channel", EventFault{Type: "ChannelDtmfReceived", Channel: "*-leg1"}, "", 0},
		{"another application", EventFault{App: "other", Type: "StasisStart"}, "", 0},
		{"more than there are", EventFault{Type: "ChannelDtmfReceived", Nth: 3}, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, st, ctx := setup(t, Options{})
			s.AddEventFault(tc.fault)
			call, err := s.PlaceCall(CallSpec{Number: "0945550101"})
			if err != nil {
				t.Fatal(err)
			}
			if err := call.Press(ctx, "12"); err != nil {
				t.Fatal(err)
			}
			if err := call.Hangup(); err != nil {
				t.Fatal(err)
			}
			if tc.wantDrop == "" {
				st.want(t, ctx, "StasisEnd", call.ID())
				if d := s.DroppedEvents(); len(d) != 0 || !s.Connected("hotline") {
					t.Fatalf("dropped %+v, connected %v: the fault should not have fired", d, s.Connected("hotline"))
				}
				return
			}
			if err := st.waitClosed(ctx); err != nil {
				t.Fatalf("the socket was not cut: %v; got %v", err, st.all())
			}
			d := s.DroppedEvents()
			if len(d) != 1 {
				t.Fatalf("dropped %d events, want 1", len(d))
			}
			var lost ev
			if err := json.Unmarshal(d[0].JSON, &lost); err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(lost.Type + " " + lost.Digit); got != tc.wantDrop {
				t.Fatalf("lost %q, want %q", got, tc.wantDrop)
			}
			// The application got exactly what was queued before the cut.
			var sent []string
			for _, e := range s.Events() {
				sent = append(sent, e.Type)
			}
			var got []string
			for _, e := range st.all() {
				got = append(got, e.Type)
			}
			if strings.Join(got, " ") != strings.Join(sent, " ") {
				t.Fatalf("got %v, sent before the cut %v", got, sent)
			}
			if tc.wantGot >= 0 && len(got) != tc.wantGot {
				t.Fatalf("got %v before the cut, want %d events", got, tc.wantGot)
			}
		})
	}
}
