package aritest_test

import (
	"context"
	"errors"
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
