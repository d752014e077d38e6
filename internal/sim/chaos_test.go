package sim

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/dialplan"
)

// appCall is one call as a deliberately faulty Stasis application handles
// it: the detectors' tests script what it does wrong.
type appCall struct {
	t      *testing.T
	ctx    context.Context
	cl     *ari.Client
	caller string
	sub    *ari.Subscription
}

// leg creates an outgoing leg to number and dials it once it is in Stasis.
func (c *appCall) leg(id, number string) {
	_, err := c.cl.CreateChannel(c.ctx, ari.CreateChannelParams{
		ChannelID: id, Endpoint: "PJSIP/" + number + "@gw-viettel", Originator: c.caller, AppArgs: "leg"})
	if err != nil {
		c.t.Errorf("create %s: %v", id, err)
		return
	}
	c.wait(id, func(ev ari.Event) bool { _, ok := ev.(*ari.StasisStart); return ok })
	if err := c.cl.Dial(c.ctx, id, c.caller, 30*time.Second); err != nil {
		c.t.Errorf("dial %s: %v", id, err)
	}
}

// wait reads the call's events until one about channel id matches.
func (c *appCall) wait(id string, match func(ari.Event) bool) {
	for {
		ev, err := c.sub.Next(c.ctx)
		if err != nil {
			c.t.Errorf("waiting for an event of %s: %v", id, err)
			return
		}
		var ch string
		switch e := ev.(type) {
		case *ari.StasisStart:
			ch = e.Channel.ID
		case *ari.ChannelStateChange:
			ch = e.Channel.ID
		case *ari.ChannelDestroyed:
			ch = e.Channel.ID
		}
		if ch == id && match(ev) {
			return
		}
	}
}

func (c *appCall) waitUp(id string) {
	c.wait(id, func(ev ari.Event) bool {
		e, ok := ev.(*ari.ChannelStateChange)
		return ok && e.Channel.State == "Up"
	})
}

func (c *appCall) waitGone(id string) {
	c.wait(id, func(ev ari.Event) bool { _, ok := ev.(*ari.ChannelDestroyed); return ok })
}

// talk bridges the caller with an answered leg in bridge br.
func (c *appCall) talk(br, leg string) {
	if _, err := c.cl.CreateBridge(c.ctx, ari.CreateBridgeParams{ID: br, Type: ari.BridgeMixing}); err != nil {
		c.t.Errorf("create bridge: %v", err)
	}
	if err := c.cl.AddChannels(c.ctx, br, c.caller, leg); err != nil {
		c.t.Errorf("bridge: %v", err)
	}
}

func (c *appCall) end(br string, legs ...string) {
	for _, id := range append([]string{c.caller}, legs...) {
		_ = c.cl.Hangup(c.ctx, id, ari.HangupNormal)
	}
	if br != "" {
		_ = c.cl.DestroyBridge(c.ctx, br)
	}
}

// runApp connects a Stasis application to url that handles every call with
// handle, until ctx ends.
func runApp(t *testing.T, ctx context.Context, url string, handle func(c *appCall, prefix string)) {
	cl, err := ari.New(ari.Config{URL: url, User: "hotline", Password: "secret", App: "hotline"})
	require.NoError(t, err)
	starts := cl.Subscribe(ari.TypeKey(ari.TypeStasisStart))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = cl.Run(ctx)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer starts.Close()
		n := 0
		for {
			ev, err := starts.Next(ctx)
			if err != nil {
				return
			}
			ss := ev.(*ari.StasisStart)
			if len(ss.Args) > 0 { // our legs
				continue
			}
			n++
			id := ss.Channel.ID
			p := fmt.Sprintf("c%d-", n)
			sub := cl.Subscribe(ari.ChannelKey(id), ari.ChannelKey(p+"leg"), ari.ChannelKey(p+"leg2"))
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer sub.Close()
				if err := cl.Answer(ctx, id); err != nil {
					t.Errorf("answer: %v", err)
					return
				}
				handle(&appCall{t: t, ctx: ctx, cl: cl, caller: id, sub: sub}, p)
			}()
		}
	}()
	t.Cleanup(wg.Wait)
}

// TestDetectors runs simulate against applications that get one thing
// wrong each, and checks that its summary says so (and says nothing for a
// correct one).
func TestDetectors(t *testing.T) {
	const ktv, ktv2 = "0945550101", "0965550102"
	type want struct{ twice, callersAlone, staffAlone, legs, bridges, cut int }
	tests := []struct {
		name   string
		handle func(c *appCall, p string)
		want   want
	}{
		{"a correct application", func(c *appCall, p string) {
			c.leg(p+"leg", ktv)
			c.waitUp(p + "leg")
			c.talk(p+"br", p+"leg")
			c.waitGone(p + "leg")
			c.end(p + "br")
		}, want{}},
		{"rings one number on two legs at once", func(c *appCall, p string) {
			c.leg(p+"leg", ktv)
			c.leg(p+"leg2", ktv)
			c.waitUp(p + "leg")
			c.talk(p+"br", p+"leg")
			c.waitGone(p + "leg")
			c.end(p+"br", p+"leg2")
		}, want{twice: 1}},
		{"rings a person's two numbers one after the other", func(c *appCall, p string) {
			c.leg(p+"leg", ktv)
			c.waitUp(p + "leg")
			c.leg(p+"leg2", ktv2) // another number: fine
			c.waitUp(p + "leg2")
			c.talk(p+"br", p+"leg2")
			c.waitGone(p + "leg2")
			c.end(p+"br", p+"leg")
		}, want{}},
		{"leaves the caller alone in the bridge", func(c *appCall, p string) {
			c.leg(p+"leg", ktv)
			c.waitUp(p + "leg")
			c.talk(p+"br", p+"leg")
			c.waitGone(p + "leg")
			time.Sleep(2500 * time.Millisecond) // the scripted fault: well over AloneLimit
			c.end(p + "br")
		}, want{callersAlone: 1}},
		{"leaves a leg and a bridge behind", func(c *appCall, p string) {
			c.leg(p+"leg", ktv)
			c.waitUp(p + "leg")
			c.talk(p+"br", p+"leg")
			c.waitGone(p + "leg")
			_, err := c.cl.CreateChannel(c.ctx, ari.CreateChannelParams{ // never dialled, never hung up
				ChannelID: p + "leg2", Endpoint: "PJSIP/" + ktv2 + "@gw-viettel", Originator: c.caller, AppArgs: "leg"})
			require.NoError(t, err)
			c.end("")
		}, want{legs: 1, bridges: 1}},
		{"hangs up the person mid-conversation", func(c *appCall, p string) {
			c.leg(p+"leg", ktv)
			c.waitUp(p + "leg")
			c.talk(p+"br", p+"leg")
			c.end(p+"br", p+"leg") // the caller first, while the person is still talking
		}, want{cut: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			urls := make(chan string, 1)
			type result struct {
				rep Report
				err error
			}
			done := make(chan result, 1)
			go func() {
				rep, err := Run(ctx, Options{
					Listen: "127.0.0.1:0", User: "hotline", Password: "secret", App: "hotline",
					Cafes: []dialplan.Cafe{{Code: "KG001", Phones: []string{"+84945550201"}}},
					Rate:  20, Calls: 1, Mix: Mix{Answered: 1}, Scale: 0.01, WaitApp: 10 * time.Second, Seed: 1,
					Settle: 500 * time.Millisecond, AloneLimit: time.Second,
					Ready: func(u string) { urls <- u },
				})
				done <- result{rep, err}
			}()
			appCtx, stopApp := context.WithCancel(ctx)
			defer stopApp()
			runApp(t, appCtx, <-urls, tc.handle)
			var res result
			select {
			case res = <-done:
			case <-ctx.Done():
				t.Fatal("simulation did not finish")
			}
			require.NoError(t, res.err)
			s := res.rep.Summary()
			require.Equal(t, 1, s.CallsPlaced)
			require.Equal(t, 1, s.CallsTaken)
			require.Equal(t, tc.want, want{s.StaffRungTwice, s.CallersBridgedWithNobody, s.StaffBridgedWithNobody,
				s.LegsLeftUp, s.BridgesLeft, s.ConversationsCut}, "%+v", res.rep.Chaos)
			var b strings.Builder
			_, err := res.rep.WriteTo(&b)
			require.NoError(t, err)
			require.Contains(t, b.String(), "after the run: ")
			if tc.want == (want{}) {
				require.Empty(t, s.GoalsMissed)
			} else {
				require.NotEmpty(t, s.GoalsMissed)
			}
		})
	}
}
