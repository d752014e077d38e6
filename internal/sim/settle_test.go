package sim

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/ari/arifake"
	"github.com/csm-vn/hotline/dialplan"
)

// TestSettleAfterDuration: a run bounded by Duration whose last call
// outlasts it still waits (up to Settle) for the app to hang up its legs and
// destroy its bridges before counting leftovers, and Finish still gets a
// live context. The app's last DELETE is held by the fake, so it lands
// after the call's end: counting at once sees it left up.
func TestSettleAfterDuration(t *testing.T) {
	const ktv = "0945550101"
	tests := []struct {
		name   string
		mix    Mix
		talk   time.Duration // Options.Talk: how long the person stays
		held   arifake.Fault
		handle func(c *appCall, p string)
	}{
		{"the person hangs up, the app ends the call and destroys the bridge", Mix{Answered: 1}, 0,
			arifake.Fault{Method: "DELETE", Path: "/ari/bridges/*", Delay: 300 * time.Millisecond},
			func(c *appCall, p string) {
				c.leg(p+"leg", ktv)
				c.waitUp(p + "leg")
				c.talk(p+"br", p+"leg")
				c.waitGone(p + "leg")
				c.end(p + "br")
			}},
		{"the caller gives up, the app hangs up the leg it dialled", Mix{GivesUp: 1}, time.Minute, // the leg stays until the app hangs it up
			arifake.Fault{Method: "DELETE", Path: "/ari/channels/*-leg", Delay: 300 * time.Millisecond},
			func(c *appCall, p string) {
				c.leg(p+"leg", ktv) // never bridged: the caller gives up
				c.waitGone(c.caller)
				if err := c.cl.Hangup(c.ctx, p+"leg", ari.HangupNormal); err != nil {
					t.Errorf("hang up the leg: %v", err)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			urls := make(chan string, 1)
			type result struct {
				rep       Report
				err       error
				finishErr error
			}
			done := make(chan result, 1)
			go func() {
				var finishErr error = errFinishNotCalled
				rep, err := Run(ctx, Options{
					Listen: "127.0.0.1:0", User: "hotline", Password: "secret", App: "hotline",
					Cafes: []dialplan.Cafe{{Code: "KG001", Phones: []string{"+84945550201"}}},
					// Time is up as soon as the call is placed: the call, and
					// the app's clean-up, end after it.
					Rate: 20, Calls: 1, Duration: time.Millisecond, Mix: tc.mix, Talk: tc.talk, Scale: 0.01,
					WaitApp: 10 * time.Second, Seed: 1, Settle: 10 * time.Second,
					Faults: []arifake.Fault{tc.held},
					Ready:  func(u string) { urls <- u },
					Finish: func(ctx context.Context, _ Report) { finishErr = ctx.Err() },
				})
				done <- result{rep, err, finishErr}
			}()
			appCtx, stopApp := context.WithCancel(ctx)
			defer stopApp()
			handled := make(chan struct{})
			runApp(t, appCtx, <-urls, func(c *appCall, p string) {
				defer close(handled)
				tc.handle(c, p)
			})
			var res result
			select {
			case res = <-done:
			case <-ctx.Done():
				t.Fatal("simulation did not finish")
			}
			select { // the app's last request has its answer too
			case <-handled:
			case <-ctx.Done():
				t.Fatal("the app did not finish its call")
			}
			require.NoError(t, res.err)
			s := res.rep.Summary()
			require.Equal(t, 1, s.CallsTaken)
			require.Zero(t, s.CallersCutShort, "%+v", res.rep.Heard)
			require.Equal(t, [2]int{0, 0}, [2]int{s.LegsLeftUp, s.BridgesLeft}, "%v", res.rep.Chaos.Leftovers)
			require.Empty(t, s.GoalsMissed)
			require.NoError(t, res.finishErr, "Finish must run with a live context")
		})
	}
}

var errFinishNotCalled = errors.New("Finish was not called")
