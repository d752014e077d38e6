package store

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// MarkRung records that the hotline has just rung staffCode (database
// clock), for the least-recently-rung order every instance shares. A time
// never goes backwards.
func (s *Store) MarkRung(ctx context.Context, staffCode string) error {
	if _, err := s.db.ExecContext(ctx, `
INSERT INTO staff_last_rung (staff_code, last_rung) VALUES ($1, clock_timestamp())
ON CONFLICT (staff_code) DO UPDATE
	SET last_rung = greatest(staff_last_rung.last_rung, EXCLUDED.last_rung)`, staffCode); err != nil {
		return fmt.Errorf("store: mark %s rung: %w", staffCode, err)
	}
	return nil
}

// RungTimes returns when each person was last rung by any instance (people
// never rung are absent). It is the data of dialplan.Rotation. With
// WithRotationCache the map is shared between callers: do not modify it.
func (s *Store) RungTimes(ctx context.Context) (map[string]time.Time, error) {
	if s.rotationMaxAge <= 0 {
		return s.readRungTimes(ctx)
	}
	return s.rung.get(ctx, s.rotationMaxAge, s.readRungTimes)
}

// rungCache holds the last read of staff_last_rung, and the read in
// progress that concurrent callers share.
type rungCache struct {
	mu    sync.Mutex
	at    time.Time // when the cached read started
	times map[string]time.Time
	read  *rungRead
}

type rungRead struct {
	done  chan struct{}
	times map[string]time.Time
	err   error
}

// rungReadTimeout bounds a shared read: it runs on its own context, so a
// caller that stops waiting does not fail the others.
const rungReadTimeout = 10 * time.Second

func (c *rungCache) get(ctx context.Context, maxAge time.Duration,
	read func(context.Context) (map[string]time.Time, error)) (map[string]time.Time, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: rung times: %w", err)
	}
	c.mu.Lock()
	if c.times != nil && time.Since(c.at) < maxAge {
		times := c.times
		c.mu.Unlock()
		return times, nil
	}
	r := c.read
	if r == nil {
		r = &rungRead{done: make(chan struct{})}
		c.read = r
		started := time.Now()
		go func() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rungReadTimeout)
			defer cancel()
			r.times, r.err = read(rctx)
			c.mu.Lock()
			if r.err == nil {
				c.times, c.at = r.times, started
			}
			c.read = nil
			c.mu.Unlock()
			close(r.done)
		}()
	}
	c.mu.Unlock()
	select {
	case <-r.done:
		return r.times, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("store: rung times: %w", ctx.Err())
	}
}

func (s *Store) readRungTimes(ctx context.Context) (map[string]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT staff_code, last_rung FROM staff_last_rung")
	if err != nil {
		return nil, fmt.Errorf("store: rung times: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var code string
		var at time.Time
		if err := rows.Scan(&code, &at); err != nil {
			return nil, fmt.Errorf("store: rung times: %w", err)
		}
		out[code] = at
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: rung times: %w", err)
	}
	return out, nil
}
