package ivr_test

import (
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari/aritest"
	"github.com/csm-vn/hotline/ivr"
)

// Faults a chaos run found (scripts/chaos.sh, issue 10).

// A bridge Asterisk does not destroy (500, or no answer) is asked again
// with backoff until it is gone; after TeardownTries the hotline gives up
// loudly (ERROR log, hotline_bridges_given_up_total). Before: one DELETE,
// a WARN, and the bridge stayed up (chaos: bridges_left).
func TestFaultBridgeDestroyIsRetried(t *testing.T) {
	const bridges = "/ari/bridges/*"
	tests := []struct {
		name    string
		fault   aritest.Fault
		deletes int  // DELETE /bridges/{id} requests made
		gone    bool // the bridge is gone in the end
	}{
		{name: "refused twice", fault: aritest.Fault{Method: http.MethodDelete, Path: bridges,
			Status: http.StatusInternalServerError, Times: 2}, deletes: 3, gone: true},
		{name: "no answer once", fault: aritest.Fault{Method: http.MethodDelete, Path: bridges,
			Timeout: true, Times: 1}, deletes: 2, gone: true},
		{name: "always refused", fault: aritest.Fault{Method: http.MethodDelete, Path: bridges,
			Status: http.StatusServiceUnavailable}, deletes: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, logs := newFaultEnv(t, faultOptions{envOption: envOption{
				cfg: func(c *ivr.Config) {
					c.TeardownTries = 3
					c.RequestTimeout = 300 * time.Millisecond
				},
				fake: func(o *aritest.Options) {
					o.Phones = map[string]aritest.Phone{ktv1Vina: talkThenHangUp(20*time.Millisecond, 100*time.Millisecond)}
				}}})
			remove := e.fake.AddFault(tt.fault)
			c := e.call(cafe1Phone)
			e.waitEnded(c)
			r := e.record(c.ID())
			require.Equal(t, "answered", r.Outcome)
			bridgeID := r.ID + "-br"
			// The record is submitted before the call's retries are over.
			require.NoError(t, e.fake.WaitFor(e.ctx(), func() bool { return e.bridgeDeletes(bridgeID) >= tt.deletes }))
			if tt.gone {
				require.NoError(t, e.fake.WaitFor(e.ctx(), func() bool { return !e.bridgeUp(bridgeID) }),
					"the bridge is still up")
				require.Zero(t, e.metric("hotline_bridges_given_up_total"))
				require.Empty(t, logs.find(slog.LevelError, "gave up destroying a bridge"))
				require.Equal(t, tt.deletes, e.bridgeDeletes(bridgeID))
				return
			}
			require.Eventually(t, func() bool { return e.metric("hotline_bridges_given_up_total") == 1 },
				waitTimeout, 10*time.Millisecond)
			errs := logs.find(slog.LevelError, "gave up destroying a bridge")
			require.Len(t, errs, 1)
			require.Equal(t, bridgeID, errs[0].Attrs["bridge"])
			require.Equal(t, r.ID, errs[0].Attrs["call_id"])
			require.Equal(t, tt.deletes, e.bridgeDeletes(bridgeID), "TeardownTries, then no more")
			require.True(t, e.bridgeUp(bridgeID), "Asterisk refused every destroy")
			remove()
			require.NoError(t, e.client.DestroyBridge(e.ctx(), bridgeID)) // by hand, as an operator would
		})
	}
}

// bridgeDeletes counts the DELETE /ari/bridges/{id} requests of a bridge.
func (e *env) bridgeDeletes(id string) int {
	n := 0
	for _, r := range e.fake.Requests() {
		if r.Method == http.MethodDelete && r.Path == "/ari/bridges/"+id {
			n++
		}
	}
	return n
}

// bridgeUp reports whether the fake still has the bridge.
func (e *env) bridgeUp(id string) bool {
	for _, b := range e.fake.Bridges() {
		if b.ID == id {
			return true
		}
	}
	return false
}
