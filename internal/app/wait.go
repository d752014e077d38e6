package app

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"
)

// retry calls try until it succeeds or ctx ends, backing off exponentially
// (with jitter) from 200 ms up to max, and logging exactly what it is waiting
// for: the first failure at warn, later ones at info with the attempt number.
func retry(ctx context.Context, log *slog.Logger, what string, max time.Duration, try func(context.Context) error) error {
	delay := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := try(ctx)
		if err == nil {
			if attempt > 1 {
				log.Info("ready: "+what, "attempts", attempt)
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		level := slog.LevelInfo
		if attempt == 1 {
			level = slog.LevelWarn
		}
		log.Log(ctx, level, "waiting for "+what, "attempt", attempt, "retry_in", delay.Round(time.Millisecond), "err", err)
		t := time.NewTimer(delay/2 + rand.N(delay/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(delay*2, max)
	}
}
