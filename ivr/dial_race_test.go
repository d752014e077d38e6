package ivr_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/ari/aritest"
	"github.com/csm-vn/hotline/ivr"
)

// notInStasisYet answers the first dials of every channel with 409 "Channel
// not in Stasis application", as a real Asterisk does when the dial comes
// before a leg made by /channels/create has entered Stasis (it does so on a
// thread of its own, after answering the create; seen with PJSIP legs on
// Asterisk 22.10.1 by TestSIPAsterisk).
type notInStasisYet struct {
	ivr.ARI
	refuse int // dials refused per channel

	mu      sync.Mutex
	refused map[string]int
}

func (n *notInStasisYet) Dial(ctx context.Context, id, caller string, timeout time.Duration) error {
	n.mu.Lock()
	refuse := n.refused[id] < n.refuse
	if refuse {
		n.refused[id]++
	}
	n.mu.Unlock()
	if refuse {
		return fmt.Errorf("ari channels.dial: POST /ari/channels/%s/dial: 409: Channel not in Stasis application: %w",
			id, ari.ErrNotInStasis)
	}
	return n.ARI.Dial(ctx, id, caller, timeout)
}

func TestDialRetriedUntilTheNewLegIsInStasis(t *testing.T) {
	var w *notInStasisYet
	e := newEnv(t, envOption{
		fake: func(o *aritest.Options) {
			o.Phones = map[string]aritest.Phone{ktv1Vina: {Outcome: aritest.OutcomeAnswer, RingFor: 30 * time.Millisecond,
				Keys: "1", KeysAfter: 250 * time.Millisecond, HangupAfter: 500 * time.Millisecond}}
		},
		wrapARI: func(a ivr.ARI) ivr.ARI {
			w = &notInStasisYet{ARI: a, refuse: 2, refused: map[string]int{}}
			return w
		},
	})
	c := e.call(cafe1Phone)
	e.waitHeard(c, "bridged", "")
	e.waitEnded(c) // no rating: the prompt times out
	r := e.record(c.ID())
	// The same leg rang (no second leg through another trunk, no "failed").
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, []string{"KTV1/answered"}, r.results())
	require.Equal(t, "vinaphone", r.Legs[0].Trunk)
	require.Len(t, e.requests("POST /ari/channels/create"), 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	require.Equal(t, map[string]int{r.Legs[0].ChannelID: 2}, w.refused)
}
