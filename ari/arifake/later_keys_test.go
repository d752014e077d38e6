package arifake

import (
	"slices"
	"testing"
	"time"
)

// A scripted person types keys later in the call (Phone.Later): after the
// answer, or once in a bridge, in order, and hangs up after them when told
// to (Press.HangupAfter, never before the last key). Each digit is the
// leg's own ChannelDtmfReceived; the caller bridged with it hears the tone
// and gets no event.
func TestPhoneLaterKeys(t *testing.T) {
	for _, tc := range []struct {
		name   string
		phone  Phone
		bridge bool
		want   string // the leg's digits, in order
		// hangsUp: the person hangs up after the last digit (the test
		// reads the leg's events in order: the hangup comes after it).
		hangsUp bool
	}{
		{"in a bridge: 1, then *0# once bridged", Transfers(0, 10*time.Millisecond, "*0#"), true, "1*0#", false},
		{"after the answer, bridged or not", Phone{Outcome: OutcomeAnswer, Keys: "1",
			Later: []Press{{Digits: "*5#", After: 30 * time.Millisecond}}}, false, "1*5#", false},
		{"never bridged: the in-bridge keys never come", Phone{Outcome: OutcomeAnswer, Keys: "1",
			Later: []Press{{Digits: "*0#", InBridge: true}, {Digits: "9", After: 40 * time.Millisecond}}}, false, "19", false},
		{"in a bridge: *0# then the hangup (a blind transfer)", Phone{Outcome: OutcomeAnswer, Keys: "1",
			Later: []Press{{Digits: "*0#", After: 10 * time.Millisecond, InBridge: true, HangupAfter: time.Millisecond}}},
			true, "1*0#", true},
		{"a long code, digit after digit", Phone{Outcome: OutcomeAnswer,
			Later: []Press{{Digits: "*02939#", HangupAfter: time.Millisecond}}}, false, "*02939#", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c, st, ctx := setup(t, Options{})
			s.RequireCleanAtEnd(t, 2*time.Second)
			s.SetPhone("0913000101", tc.phone)
			call, _ := s.PlaceCall(CallSpec{Number: "0945551519", Tech: "Local"})
			id := call.ID()
			st.want(t, ctx, "StasisStart", id)
			c.must(t, ctx, 204, "POST", "/channels/"+id+"/answer")
			c.must(t, ctx, 200, "POST", "/bridges", "bridgeId", "b1", "type", "mixing")
			c.must(t, ctx, 200, "POST", "/channels/create", "endpoint", "Local/0913000101@test-phones", "app", "hotline",
				"channelId", "leg")
			st.want(t, ctx, "StasisStart", "leg")
			c.must(t, ctx, 204, "POST", "/channels/leg/dial", "caller", id)
			for e := st.want(t, ctx, "Dial", "leg"); *e.DialStatus != "ANSWER"; e = st.want(t, ctx, "Dial", "leg") {
			}
			if tc.bridge {
				c.must(t, ctx, 204, "POST", "/bridges/b1/addChannel", "channel", id+",leg")
			}
			var got string
			for len(got) < len(tc.want) {
				e := st.want(t, ctx, "ChannelDtmfReceived", "")
				if e.chanID() != "leg" {
					t.Fatalf("DTMF event of %s: %s", e.chanID(), e.raw)
				}
				got += e.Digit
			}
			if got != tc.want {
				t.Fatalf("the leg's digits %q, want %q", got, tc.want)
			}
			if tc.bridge {
				// The bridge passed the keys typed while in it on to the caller.
				if _, err := call.WaitHeard(ctx, "dtmf", "#"); err != nil {
					t.Fatal(err)
				}
				var heard []string
				for _, h := range call.Heard() {
					if h.Kind == "dtmf" {
						heard = append(heard, h.Detail)
					}
				}
				if !slices.Equal(heard, []string{"*", "0", "#"}) && !slices.Equal(heard, []string{"1", "*", "0", "#"}) {
					t.Fatalf("the caller heard %v", heard)
				}
			}
			if tc.hangsUp {
				st.want(t, ctx, "ChannelDestroyed", "leg")
			} else {
				c.must(t, ctx, 204, "DELETE", "/channels/leg")
			}
			_ = call.Hangup()
			c.must(t, ctx, 204, "DELETE", "/bridges/b1")
		})
	}
}
