package ari

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func newTestDispatchClient(t *testing.T, limit int, obs Observer) *Client {
	t.Helper()
	c, err := New(Config{URL: "http://127.0.0.1:1", User: "u", App: "a", Node: "ast1", QueueLimit: limit, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func varset(channel, value string) *ChannelVarset {
	ev := &ChannelVarset{Variable: "SEQ", Value: value}
	ev.Type = TypeChannelVarset
	if channel != "" {
		ev.Channel = &Channel{ID: channel}
	}
	return ev
}

func next(t *testing.T, s *Subscription) Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ev, err := s.Next(ctx)
	if err != nil {
		t.Fatalf("next: %v", err)
	}
	return ev
}

func TestSubscriptionRouting(t *testing.T) {
	c := newTestDispatchClient(t, 0, nil)
	chA := c.Subscribe(ChannelKey("A"))
	defer chA.Close()
	starts := c.Subscribe(TypeKey(TypeStasisStart))
	defer starts.Close()
	all := c.Subscribe(AllKey())
	defer all.Close()
	// Two keys matching one event: delivered once.
	both := c.Subscribe(ChannelKey("A"), PlaybackKey("pb-1"))
	defer both.Close()

	start := &StasisStart{Channel: Channel{ID: "B"}}
	start.Type = TypeStasisStart
	pb := &PlaybackStarted{Playback: Playback{ID: "pb-1", TargetURI: "channel:A"}}
	pb.Type = TypePlaybackStarted
	c.disp.dispatch(varset("A", "1"))
	c.disp.dispatch(start)
	c.disp.dispatch(pb)
	c.disp.dispatch(varset("", "global"))

	if got, ok := next(t, chA).(*ChannelVarset); !ok || got.Value != "1" {
		t.Errorf("chA first = %+v", got)
	}
	if got := next(t, chA); got != pb {
		t.Errorf("chA second = %+v, want the playback targeting A", got)
	}
	if got := next(t, starts); got != start {
		t.Errorf("starts = %+v", got)
	}
	for i, want := range []string{TypeChannelVarset, TypeStasisStart, TypePlaybackStarted, TypeChannelVarset} {
		if got := next(t, all); got.Base().Type != want {
			t.Errorf("all[%d] = %s, want %s", i, got.Base().Type, want)
		}
	}
	if got := next(t, both); got.Base().Type != TypeChannelVarset {
		t.Errorf("both[0] = %s", got.Base().Type)
	}
	if got := next(t, both); got != pb {
		t.Errorf("both[1] = %+v", got)
	}
	// Nothing more is pending for the keyed subscriptions.
	for name, s := range map[string]*Subscription{"chA": chA, "starts": starts, "both": both} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		if ev, err := s.Next(ctx); err == nil {
			t.Errorf("%s got an extra event %+v", name, ev)
		}
		cancel()
	}
}

func TestSubscriptionAddRemoveClose(t *testing.T) {
	c := newTestDispatchClient(t, 0, nil)
	s := c.Subscribe()
	s.Add(ChannelKey("leg-1")) // before the channel exists
	c.disp.dispatch(varset("leg-1", "a"))
	if got := next(t, s).(*ChannelVarset); got.Value != "a" {
		t.Errorf("got %q", got.Value)
	}
	s.Remove(ChannelKey("leg-1"))
	c.disp.dispatch(varset("leg-1", "b"))
	if n := s.Pending(); n != 0 {
		t.Errorf("pending after Remove = %d", n)
	}
	s.Add(ChannelKey("leg-1"))
	c.disp.dispatch(varset("leg-1", "c"))
	if got := next(t, s).(*ChannelVarset); got.Value != "c" {
		t.Errorf("got %q, want c", got.Value)
	}
	s.Close()
	s.Close() // idempotent
	c.disp.dispatch(varset("leg-1", "d"))
	if _, err := s.Next(context.Background()); !errors.Is(err, ErrSubscriptionClosed) {
		t.Errorf("Next after Close = %v", err)
	}
	c.disp.mu.RLock()
	n := len(c.disp.byKey)
	c.disp.mu.RUnlock()
	if n != 0 {
		t.Errorf("dispatcher still holds %d keys after Close", n)
	}
}

// A subscription made while events flow falls between two dispatches:
// every event it misses was already queued for another subscription when
// Subscribe returned (counted by Queued), so a reader of that other
// subscription knows when it has seen every one of them.
func TestSubscribeFallsBetweenDispatches(t *testing.T) {
	for round := range 20 {
		c := newTestDispatchClient(t, 0, nil)
		types := c.Subscribe(TypeKey(TypeChannelVarset))
		const n = 2000
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := 1; i <= n; i++ {
				c.disp.dispatch(varset("X", fmt.Sprint(i)))
			}
		}()
		for types.Queued() < uint64(round*n/40) { // somewhere in the flow
			time.Sleep(time.Microsecond)
		}
		late := c.Subscribe(ChannelKey("X"))
		mark := types.Queued()
		<-done
		if mark == n {
			late.Close()
			types.Close()
			continue // all dispatched before: nothing to compare
		}
		// Missed: only events the other had queued by then. Received: every
		// one after, in order.
		var first int
		_, _ = fmt.Sscan(next(t, late).(*ChannelVarset).Value, &first)
		if uint64(first) > mark+1 {
			t.Fatalf("round %d: the late subscription missed #%d..#%d; the other had queued only %d when it was made",
				round, mark+1, first-1, mark)
		}
		for i := first + 1; i <= n; i++ {
			if got := next(t, late).(*ChannelVarset).Value; got != fmt.Sprint(i) {
				t.Fatalf("round %d: got #%s, want #%d", round, got, i)
			}
		}
		if got := types.Queued(); got != n {
			t.Fatalf("Queued = %d, want %d", got, n)
		}
		late.Close()
		types.Close()
	}
}

func TestSlowSubscriberDoesNotDelayOthers(t *testing.T) {
	c := newTestDispatchClient(t, 0, nil)
	slow := c.Subscribe(AllKey()) // not read until the end
	defer slow.Close()
	fastA := c.Subscribe(ChannelKey("A"))
	defer fastA.Close()
	fastB := c.Subscribe(ChannelKey("B"))
	defer fastB.Close()

	const n = 5000
	done := make(chan struct{})
	go func() { // the "socket reader": must finish without anyone reading slow
		defer close(done)
		for i := range n {
			ch := "A"
			if i%3 == 0 {
				ch = "B"
			}
			c.disp.dispatch(varset(ch, fmt.Sprint(i)))
		}
	}()
	read := func(s *Subscription, ch string) {
		last := -1
		for i := range n {
			want := "A"
			if i%3 == 0 {
				want = "B"
			}
			if want != ch {
				continue
			}
			ev := next(t, s).(*ChannelVarset)
			var seq int
			fmt.Sscan(ev.Value, &seq)
			if ev.Channel.ID != ch || seq != i || seq <= last {
				t.Fatalf("%s: got %s#%d after %d, want #%d", ch, ev.Channel.ID, seq, last, i)
			}
			last = seq
		}
	}
	read(fastA, "A")
	read(fastB, "B")
	<-done
	if p := slow.Pending(); p < n-1 {
		t.Errorf("slow subscriber holds %d events, want ≥ %d", p, n-1)
	}
	for i := range n {
		ev := next(t, slow).(*ChannelVarset)
		if ev.Value != fmt.Sprint(i) {
			t.Fatalf("slow[%d] = %s", i, ev.Value)
		}
	}
	if slow.Dropped() != 0 {
		t.Errorf("dropped %d", slow.Dropped())
	}
}

func TestQueueLimitCountsOverflow(t *testing.T) {
	obs := &recObserver{}
	c := newTestDispatchClient(t, 5, obs)
	s := c.Subscribe(ChannelKey("A"))
	defer s.Close()
	// Nobody reads: 5 events wait (the limit, whether in the channel's
	// buffer or behind it), the other 5 are refused and counted.
	for i := range 10 {
		c.disp.dispatch(varset("A", fmt.Sprint(i)))
	}
	if got := s.Pending(); got != 5 {
		t.Errorf("pending = %d, want 5", got)
	}
	if got := s.Dropped(); got != 5 {
		t.Errorf("dropped = %d, want 5", got)
	}
	obs.mu.Lock()
	if obs.overflow != 5 {
		t.Errorf("observer overflow = %d", obs.overflow)
	}
	obs.mu.Unlock()
	for _, want := range []string{"0", "1", "2", "3", "4"} {
		if got := next(t, s).(*ChannelVarset).Value; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
	// Room again once read.
	c.disp.dispatch(varset("A", "10"))
	if got := next(t, s).(*ChannelVarset).Value; got != "10" {
		t.Errorf("got %s, want 10", got)
	}
}

// More events than the channel holds wait behind it, in order, and a
// subscription that keeps up needs no goroutine of its own.
func TestSubscriptionOrderBeyondBuffer(t *testing.T) {
	c := newTestDispatchClient(t, 1000, &recObserver{})
	s := c.Subscribe(ChannelKey("A"))
	const n = 5 * subscriptionBuffer
	for i := range n {
		c.disp.dispatch(varset("A", fmt.Sprint(i)))
	}
	if got := s.Pending(); got != n {
		t.Fatalf("pending = %d, want %d", got, n)
	}
	for i := range n {
		if got := next(t, s).(*ChannelVarset).Value; got != fmt.Sprint(i) {
			t.Fatalf("event %d: got %s", i, got)
		}
		if i == n/2 { // more while the queue drains
			for j := n; j < n+10; j++ {
				c.disp.dispatch(varset("A", fmt.Sprint(j)))
			}
		}
	}
	for i := n; i < n+10; i++ {
		if got := next(t, s).(*ChannelVarset).Value; got != fmt.Sprint(i) {
			t.Fatalf("event %d: got %s", i, got)
		}
	}
	s.mu.Lock()
	pumping := s.pumping
	s.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for pumping && time.Now().Before(deadline) { // the pump ends once the queue is empty
		time.Sleep(time.Millisecond)
		s.mu.Lock()
		pumping = s.pumping
		s.mu.Unlock()
	}
	if pumping {
		t.Fatal("a pump still runs with nothing queued")
	}
	// Close discards what waits and closes the channel, also with a pump
	// blocked on a full channel.
	for i := range 3 * subscriptionBuffer {
		c.disp.dispatch(varset("A", fmt.Sprint(i)))
	}
	s.Close()
	if _, ok := <-s.Events(); ok {
		t.Fatal("an event after Close")
	}
	if _, err := s.Next(context.Background()); !errors.Is(err, ErrSubscriptionClosed) {
		t.Fatalf("Next after Close: %v", err)
	}
}

func TestBackoffBounds(t *testing.T) {
	c, err := New(Config{URL: "http://x:1", User: "u", App: "a", BackoffMin: 100 * time.Millisecond, BackoffMax: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for n := range 40 {
		ceil := min(100*time.Millisecond<<min(n, 20), time.Second)
		for range 50 {
			d := c.backoff(n)
			if d < ceil/2 || d > ceil {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", n, d, ceil/2, ceil)
			}
		}
	}
}
