package aritest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/ari/aritest"
)

// Cross-check with our ARI client (package ari): it drives a call on the fake
// and every event the fake sent decodes into a typed event.
func TestOurClientAgainstTheFake(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv := aritest.Start(t, aritest.Options{
		Phones: map[string]aritest.Phone{"0900000017": aritest.Busy()},
	})
	srv.RequireCleanAtEnd(t, 2*time.Second)
	cl, err := ari.New(ari.Config{URL: srv.URL(), User: "asterisk", Password: "asterisk", App: "hotline"})
	if err != nil {
		t.Fatal(err)
	}
	sub := cl.Subscribe(ari.AllKey())
	defer sub.Close()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- cl.Run(runCtx) }()
	defer func() { stop(); <-done }()
	if err := cl.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	call, err := srv.PlaceCall(aritest.CallSpec{Number: "0945551519"})
	if err != nil {
		t.Fatal(err)
	}
	next := func(want string) ari.Event {
		t.Helper()
		for {
			e, err := sub.Next(ctx)
			if err != nil {
				t.Fatalf("waiting for %s: %v", want, err)
			}
			if e.Base().Type == want {
				return e
			}
		}
	}
	if ss, ok := next("StasisStart").(*ari.StasisStart); !ok || ss.Channel.ID != call.ID() || ss.Channel.Caller.Number != "0945551519" {
		t.Fatalf("StasisStart %#v", ss)
	}
	if err := cl.Answer(ctx, call.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.GetChannel(ctx, "no-such-channel"); !errors.Is(err, ari.ErrNotFound) {
		t.Fatalf("GetChannel unknown: %v", err)
	}
	if _, err := cl.CreateChannel(ctx, ari.CreateChannelParams{ChannelID: "leg", Endpoint: "PJSIP/0900000017@gw-viettel", Originator: call.ID()}); err != nil {
		t.Fatal(err)
	}
	if ss, ok := next("StasisStart").(*ari.StasisStart); !ok || ss.Channel.ID != "leg" {
		t.Fatalf("the leg's StasisStart %#v", ss)
	}
	if err := cl.Dial(ctx, "leg", call.ID(), 20*time.Second); err != nil {
		t.Fatal(err)
	}
	hr, ok := next("ChannelHangupRequest").(*ari.ChannelHangupRequest)
	if !ok || hr.Channel.ID != "leg" || hr.Cause != 17 || hr.TechCause != 486 {
		t.Fatalf("busy leg hangup %#v", hr)
	}
	next("ChannelDestroyed")
	if err := call.Hangup(); err != nil {
		t.Fatal(err)
	}
	next("StasisEnd")
	for _, se := range srv.Events() {
		e, err := ari.DecodeEvent(se.JSON)
		if err != nil {
			t.Fatalf("decode %s: %v", se.JSON, err)
		}
		if _, raw := e.(*ari.RawEvent); raw {
			t.Errorf("event %s decoded as RawEvent", se.Type)
		}
	}
}

// A WebSocket cut scripted at a StasisStart, seen through our client: it
// reconnects, the lost StasisStart never arrives, the lost call is found by
// asking Asterisk (as the hotline's reconciliation does), and later events
// arrive on the new socket.
func TestOurClientThroughAScriptedCut(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv := aritest.Start(t, aritest.Options{})
	srv.RequireCleanAtEnd(t, 2*time.Second)
	srv.AddEventFault(aritest.EventFault{Type: "StasisStart", CallerNumber: "0945550202"})
	cl, err := ari.New(ari.Config{URL: srv.URL(), User: "asterisk", Password: "asterisk", App: "hotline",
		BackoffMin: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	sub := cl.Subscribe(ari.AllKey())
	defer sub.Close()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- cl.Run(runCtx) }()
	defer func() { stop(); <-done }()
	if err := cl.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	lost, err := srv.PlaceCall(aritest.CallSpec{Number: "0945550202"})
	if err != nil {
		t.Fatal(err)
	}
	for {
		st, changed := cl.State()
		if st.Connected && st.Connects == 2 {
			break
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("no reconnect after the cut: %+v", st)
		}
	}
	app, err := cl.GetApplication(ctx, "")
	if err != nil || len(app.ChannelIDs) != 1 || app.ChannelIDs[0] != lost.ID() {
		t.Fatalf("application after the cut: %+v, %v", app, err)
	}
	next, err := srv.PlaceCall(aritest.CallSpec{Number: "0945550303"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*aritest.Call{lost, next} {
		if err := c.Hangup(); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for len(got) < 3 {
		e, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("events %v: %v", got, err)
		}
		switch e := e.(type) {
		case *ari.StasisStart:
			got = append(got, "StasisStart "+e.Channel.ID)
		case *ari.StasisEnd:
			got = append(got, "StasisEnd "+e.Channel.ID)
		}
	}
	want := []string{"StasisStart " + next.ID(), "StasisEnd " + lost.ID(), "StasisEnd " + next.ID()}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Fatalf("events %v, want %v (the lost StasisStart never arrives)", got, want)
	}
}
