package ari_test

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/csm-vn/hotline/ari"
)

// A Stasis application: keep the socket up, take new calls from a catch-all
// subscription, and ring a second leg with a caller-chosen id, subscribed to
// before it exists.
func Example() {
	ctx := context.Background()
	c, err := ari.New(ari.Config{
		URL: "http://127.0.0.1:8088", User: "hotline", Password: "secret", App: "hotline",
		Node: "ast1", Logger: slog.Default(),
	})
	if err != nil {
		panic(err)
	}
	go func() { _ = c.Run(ctx) }()

	starts := c.Subscribe(ari.TypeKey(ari.TypeStasisStart))
	defer starts.Close()
	for ev := range starts.Events() {
		start := ev.(*ari.StasisStart)
		if len(start.Args) > 0 { // our own outbound legs carry args
			continue
		}
		go handle(ctx, c, start.Channel)
	}
}

func handle(ctx context.Context, c *ari.Client, caller ari.Channel) {
	sub := c.Subscribe(ari.ChannelKey(caller.ID), ari.ChannelKey("leg-1"))
	defer sub.Close()
	if err := c.Answer(ctx, caller.ID); err != nil {
		return
	}
	if _, err := c.CreateChannel(ctx, ari.CreateChannelParams{
		ChannelID: "leg-1", Endpoint: "PJSIP/0912345678@gw-viettel", AppArgs: "outbound", Originator: caller.ID,
	}); err != nil {
		return
	}
	if err := c.Dial(ctx, "leg-1", caller.ID, 30*time.Second); err != nil {
		return
	}
	for {
		ev, err := sub.Next(ctx)
		if err != nil {
			return
		}
		switch e := ev.(type) {
		case *ari.ChannelHangupRequest:
			// cause 17 busy, 19 no answer, 34 congestion, …
			_ = e.Cause
		case *ari.StasisEnd:
			if e.Channel.ID == caller.ID {
				err := c.Hangup(context.WithoutCancel(ctx), "leg-1", ari.HangupNormal)
				if errors.Is(err, ari.ErrNotFound) {
					return // already gone
				}
				return
			}
		}
	}
}
