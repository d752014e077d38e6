package store

import (
	"context"
	"fmt"
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
// never rung are absent). It is the data of dialplan.Rotation.
func (s *Store) RungTimes(ctx context.Context) (map[string]time.Time, error) {
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
