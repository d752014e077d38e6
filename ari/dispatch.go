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
// per subscription, whatever the number of matching keys).
func (d *dispatcher) dispatch(ev Event) {
	keys := append(ev.Keys(), TypeKey(ev.Base().Type), AllKey())
	var targets []*Subscription
	d.mu.RLock()
	for _, k := range keys {
		for s := range d.byKey[k] {
			if !containsSub(targets, s) {
				targets = append(targets, s)
			}
		}
	}
	d.mu.RUnlock()
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

func (d *dispatcher) add(s *Subscription, keys []Key) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, k := range keys {
		m := d.byKey[k]
		if m == nil {
			m = make(map[*Subscription]struct{})
			d.byKey[k] = m
		}
		m[s] = struct{}{}
	}
}

func (d *dispatcher) remove(s *Subscription, keys []Key) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, k := range keys {
		if m := d.byKey[k]; m != nil {
			delete(m, s)
			if len(m) == 0 {
				delete(d.byKey, k)
			}
		}
	}
}

// Subscription receives the events matching its keys, in the order the
// socket delivered them, through its own queue: a subscriber that reads
// slowly delays nobody else. Events are shared between subscribers: treat
// them as read-only. Subscriptions survive reconnects; Close one when done.
type Subscription struct {
	d      *dispatcher
	events chan Event
	wake   chan struct{} // capacity 1: "the queue is not empty"
	done   chan struct{}

	mu     sync.Mutex
	keys   map[Key]struct{}
	queue  []Event
	closed bool

	dropped atomic.Uint64
}

// Subscribe returns a subscription for events matching any of keys (more can
// be added later with Add). Subscribe to a caller-chosen channel or playback
// id before creating it: its first events can arrive before the REST answer.
func (c *Client) Subscribe(keys ...Key) *Subscription {
	s := &Subscription{
		d:      c.disp,
		events: make(chan Event),
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
		keys:   make(map[Key]struct{}),
	}
	s.Add(keys...)
	go s.pump()
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

// Add adds keys to the subscription.
func (s *Subscription) Add(keys ...Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	var fresh []Key
	for _, k := range keys {
		if _, ok := s.keys[k]; !ok {
			s.keys[k] = struct{}{}
			fresh = append(fresh, k)
		}
	}
	s.d.add(s, fresh)
}

// Remove removes keys from the subscription; events already queued stay.
func (s *Subscription) Remove(keys ...Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var gone []Key
	for _, k := range keys {
		if _, ok := s.keys[k]; ok {
			delete(s.keys, k)
			gone = append(gone, k)
		}
	}
	s.d.remove(s, gone)
}

// Close ends the subscription: no more events are queued, queued events are
// discarded and Events is closed. Close is idempotent.
func (s *Subscription) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	keys := make([]Key, 0, len(s.keys))
	for k := range s.keys {
		keys = append(keys, k)
	}
	s.queue = nil
	s.mu.Unlock()
	s.d.remove(s, keys)
	close(s.done)
}

// Pending returns the number of events queued and not yet received.
func (s *Subscription) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

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
	if len(s.queue) >= s.d.limit {
		s.mu.Unlock()
		n := s.dropped.Add(1)
		s.d.obs.QueueOverflow(s.d.node, ev.Base().Type)
		if n == 1 || n%1000 == 0 {
			s.d.log.Error("ari: subscriber queue full, event not delivered",
				"event", ev.Base().Type, "limit", s.d.limit, "dropped_total", n)
		}
		return
	}
	s.queue = append(s.queue, ev)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// pump moves events from the queue to the events channel, one at a time,
// until Close.
func (s *Subscription) pump() {
	defer close(s.events)
	for {
		s.mu.Lock()
		for len(s.queue) == 0 {
			s.mu.Unlock()
			select {
			case <-s.wake:
			case <-s.done:
				return
			}
			s.mu.Lock()
		}
		ev := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.mu.Unlock()
		select {
		case s.events <- ev:
		case <-s.done:
			return
		}
	}
}
