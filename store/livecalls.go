package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// LiveCall is a call in progress as the journal (live_calls) keeps it until
// its record is written (WriteCall deletes the row in the same transaction).
// A process that restarts finds there the calls of its previous run whose
// record was never written.
type LiveCall struct {
	ID        string    `db:"call_id"`
	Instance  string    `db:"instance_id"`
	Run       string    `db:"run_id"`
	ChannelID string    `db:"channel_id"`
	CallerRaw string    `db:"caller_raw"`
	StartedAt time.Time `db:"started_at"`
}

// BeginCall notes a call in progress. Noting it again changes nothing.
func (s *Store) BeginCall(ctx context.Context, c LiveCall) error {
	if c.ID == "" || c.Instance == "" || c.Run == "" || c.StartedAt.IsZero() {
		return errors.New("store: begin call: id, instance, run and start must be set")
	}
	if _, err := s.db.ExecContext(ctx, `
INSERT INTO live_calls (call_id, instance_id, run_id, channel_id, caller_raw, started_at)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (call_id) DO NOTHING`,
		c.ID, c.Instance, c.Run, c.ChannelID, c.CallerRaw, c.StartedAt); err != nil {
		return fmt.Errorf("store: begin call %s: %w", c.ID, err)
	}
	return nil
}

// LiveCalls lists the calls instance noted and whose record is not written,
// oldest first.
func (s *Store) LiveCalls(ctx context.Context, instance string) ([]LiveCall, error) {
	var out []LiveCall
	if err := s.db.SelectContext(ctx, &out, `
SELECT call_id, instance_id, run_id, channel_id, caller_raw, started_at FROM live_calls
WHERE instance_id = $1 ORDER BY started_at, call_id`, instance); err != nil {
		return nil, fmt.Errorf("store: list live calls of %s: %w", instance, err)
	}
	return out, nil
}
