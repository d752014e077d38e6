package ari

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
)

// ErrSubscriptionClosed is returned by Subscription.Next after Close.
var ErrSubscriptionClosed = errors.New("ari: subscription closed")

// dispatcher routes decoded events to subscriptions. dispatch is called by
// the one socket reader and never blocks: it only appends to queues.
type dispatcher struct {
	node  string
	limit int
	log   *slog.Logger
	obs   Observer

	mu    sync.RWMutex
	byKey map[Key]map[*Subscription]struct{}
}

func newDispatcher(node string, limit int, log *slog.Logger, obs Observer) *dispatcher {
	return &dispatcher{node: node, limit: limit, log: log, obs: obs, byKey: make(map[Key]map[*Subscription]struct{})}
}

// dispatch queues ev for every subscription holding one of its keys (once
// per subscription, whatever the number of matching keys). The read lock
// is held until ev is queued everywhere, so a Subscribe or Add (write lock)
// falls wholly before or after a dispatch: an event the new keys miss was
// already queued for the other subscriptions when Subscribe returned.
func (d *dispatcher) dispatch(ev Event) {
	keys := append(ev.Keys(), TypeKey(ev.Base().Type), AllKey())
	var targets []*Subscription
	d.mu.RLock()
	defer d.mu.RUnlock()
	for _, k := range keys {
		for s := range d.byKey[k] {
			if !containsSub(targets, s) {
				targets = append(targets, s)
			}
		}
	}
	for _, s := range targets {
		s.push(ev)
	}
}

func containsSub(subs []*Subscription, s *Subscription) bool {
	for _, x := range subs {
		if x == s {
			return true
		}
	}
	return false
}

// addKey and removeKey change the routing table; the caller holds d.mu.
// Lock order: the dispatcher's mu, then a subscription's (dispatch queues
// under its read lock).
func (d *dispatcher) addKey(s *Subscription, k Key) {
	m := d.byKey[k]
	if m == nil {
		m = make(map[*Subscription]struct{})
		d.byKey[k] = m
	}
	m[s] = struct{}{}
}

func (d *dispatcher) removeKey(s *Subscription, k Key) {
	if m := d.byKey[k]; m != nil {
		delete(m, s)
		if len(m) == 0 {
			delete(d.byKey, k)
		}
	}
}

// Subscription receives the events matching its keys, in the order the
// socket delivered them, through its own queue: a subscriber that reads
// slowly delays nobody else. Events are shared between subscribers: treat
// them as read-only. Subscriptions survive reconnects; Close one when done.
//
// The queue is the events channel's buffer (subscriptionBuffer events)
// and, behind it, a list that a goroutine of the subscription moves into the
// channel: that goroutine exists only while the list is not empty, so a
// subscriber that keeps up costs no goroutine (a call holds several
// subscriptions).
type Subscription struct {
	d      *dispatcher
	events chan Event
	done   chan struct{}

	mu      sync.Mutex
	keys    map[Key]struct{}
	queue   []Event       // behind the channel's buffer, oldest first
	pumping bool          // a pump goroutine runs; queue is empty when not
	pumped  chan struct{} // closed when the running pump has ended
	inHand  int           // 1 while the pump holds an event it is sending
	closed  bool

	dropped atomic.Uint64
	queued  atomic.Uint64
}

// subscriptionBuffer is the capacity of a subscription's events channel.
const subscriptionBuffer = 16

// Subscribe returns a subscription for events matching any of keys (more can
// be added later with Add). Subscribe to a caller-chosen channel or playback
// id before creating it: its first events can arrive before the REST answer.
func (c *Client) Subscribe(keys ...Key) *Subscription {
	s := &Subscription{
		d:      c.disp,
		events: make(chan Event, subscriptionBuffer),
		done:   make(chan struct{}),
		keys:   make(map[Key]struct{}),
	}
	s.Add(keys...)
	return s
}

// Events returns the channel the events arrive on; it is closed by Close.
func (s *Subscription) Events() <-chan Event { return s.events }

// Next waits for the next event, ctx's end or Close.
func (s *Subscription) Next(ctx context.Context) (Event, error) {
	select {
	case ev, ok := <-s.events:
		if !ok {
			return nil, ErrSubscriptionClosed
		}
		return ev, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Add adds keys to the subscription. It falls wholly between two
// dispatches: an event dispatched after Add returns is queued if it matches.
func (s *Subscription) Add(keys ...Key) {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	for _, k := range keys {
		if _, ok := s.keys[k]; !ok {
			s.keys[k] = struct{}{}
			s.d.addKey(s, k)
		}
	}
}

// Remove removes keys from the subscription; events already queued stay.
func (s *Subscription) Remove(keys ...Key) {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		if _, ok := s.keys[k]; ok {
			delete(s.keys, k)
			s.d.removeKey(s, k)
		}
	}
}

// Close ends the subscription: no more events are queued, queued events are
// discarded and Events is closed. Close is idempotent.
func (s *Subscription) Close() {
	s.d.mu.Lock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.d.mu.Unlock()
		return
	}
	s.closed = true
	for k := range s.keys {
		s.d.removeKey(s, k)
	}
	s.queue = nil
	pumping, pumped := s.pumping, s.pumped
	s.mu.Unlock()
	s.d.mu.Unlock()
	close(s.done)
	if pumping {
		<-pumped // the pump closes the channel once it stops sending
		return
	}
	s.closeEvents()
}

// closeEvents discards what the channel still holds and closes it. Only the
// one goroutine that may send last calls it: Close when no pump runs (push
// does not send once closed is set), else the pump.
func (s *Subscription) closeEvents() {
	for {
		select {
		case <-s.events:
			continue
		default:
		}
		break
	}
	close(s.events)
}

// Pending returns the number of events queued and not yet received.
func (s *Subscription) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiting()
}

// Queued returns how many events were queued for the subscription since
// it was made; Events delivers them in that order (unless Close discards
// them). Subscribe and Add fall wholly between two dispatches, so a reader
// that notes Queued right after subscribing elsewhere knows when it has
// received every event dispatched before that subscription existed.
func (s *Subscription) Queued() uint64 { return s.queued.Load() }

// waiting counts the events queued and not received. Callers hold s.mu.
func (s *Subscription) waiting() int { return len(s.queue) + len(s.events) + s.inHand }

// Dropped returns how many events were refused because the queue reached
// Config.QueueLimit (each one was logged as an error).
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// push queues ev; it never blocks.
func (s *Subscription) push(ev Event) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	if s.waiting() >= s.d.limit {
		s.mu.Unlock()
		n := s.dropped.Add(1)
		s.d.obs.QueueOverflow(s.d.node, ev.Base().Type)
		if n == 1 || n%1000 == 0 {
			s.d.log.Error("ari: subscriber queue full, event not delivered",
				"event", ev.Base().Type, "limit", s.d.limit, "dropped_total", n)
		}
		return
	}
	s.queued.Add(1)
	defer s.mu.Unlock()
	if !s.pumping {
		// Nothing waits behind the channel: straight into its buffer
		// when there is room.
		select {
		case s.events <- ev:
			return
		default:
		}
		s.pumping = true
		s.pumped = make(chan struct{})
		go s.pump(s.pumped)
	}
	s.queue = append(s.queue, ev)
}

// pump moves the queue into the events channel, one event at a time, and
// ends when the queue is empty, or at Close (then it closes the channel).
func (s *Subscription) pump(pumped chan struct{}) {
	defer close(pumped)
	for {
		s.mu.Lock()
		s.inHand = 0
		if s.closed {
			s.mu.Unlock()
			s.closeEvents()
			return
		}
		if len(s.queue) == 0 {
			s.pumping = false
			s.queue = nil // let a burst's backing array go
			s.mu.Unlock()
			return
		}
		ev := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.inHand = 1
		s.mu.Unlock()
		select {
		case s.events <- ev:
		case <-s.done:
			s.closeEvents()
			return
		}
	}
}
