package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// Reservation is a person currently reserved for a call.
type Reservation struct {
	Staff      string    `db:"staff_code"`
	CallID     string    `db:"call_id"`
	Instance   string    `db:"instance_id"`
	ReservedAt time.Time `db:"reserved_at"`
	ExpiresAt  time.Time `db:"expires_at"`
}

// Reserve atomically reserves staffCode for callID on behalf of instanceID
// for lease, and reports whether it got the person. It succeeds when nobody
// holds the person, when the holder's lease has expired (the instance died),
// or when the same instance already holds the person for the same call (a
// repeat renews the lease). Instances share the database clock, so their own
// clocks do not matter. Two concurrent calls can never both win: the staff
// code is the table's primary key and INSERT … ON CONFLICT serialises them.
func (s *Store) Reserve(ctx context.Context, staffCode, callID, instanceID string, lease time.Duration) (bool, error) {
	if staffCode == "" || callID == "" || instanceID == "" {
		return false, errors.New("store: reserve: staff, call and instance must be set")
	}
	if lease <= 0 {
		return false, errors.New("store: reserve: lease must be positive")
	}
	var got string
	err := s.db.GetContext(ctx, &got, `
INSERT INTO reservations (staff_code, call_id, instance_id, reserved_at, expires_at)
VALUES ($1, $2, $3, clock_timestamp(), clock_timestamp() + $4 * interval '1 microsecond')
ON CONFLICT (staff_code) DO UPDATE
	SET call_id = EXCLUDED.call_id, instance_id = EXCLUDED.instance_id,
	    reserved_at = CASE WHEN reservations.call_id = EXCLUDED.call_id
	                        AND reservations.instance_id = EXCLUDED.instance_id
	                       THEN reservations.reserved_at ELSE EXCLUDED.reserved_at END,
	    expires_at = EXCLUDED.expires_at
	WHERE reservations.expires_at < clock_timestamp()
	   OR (reservations.call_id = EXCLUDED.call_id AND reservations.instance_id = EXCLUDED.instance_id)
RETURNING staff_code`, staffCode, callID, instanceID, lease.Microseconds())
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: reserve %s for call %s: %w", staffCode, callID, err)
	}
	return true, nil
}

// Release ends callID's reservation of staffCode. Releasing a reservation
// that is not held (expired and taken over, or never made) is not an error.
func (s *Store) Release(ctx context.Context, staffCode, callID string) error {
	if _, err := s.db.ExecContext(ctx,
		"DELETE FROM reservations WHERE staff_code = $1 AND call_id = $2", staffCode, callID); err != nil {
		return fmt.Errorf("store: release %s for call %s: %w", staffCode, callID, err)
	}
	return nil
}

// ReleaseCall ends every reservation held for callID (call teardown).
func (s *Store) ReleaseCall(ctx context.Context, callID string) error {
	if _, err := s.db.ExecContext(ctx, "DELETE FROM reservations WHERE call_id = $1", callID); err != nil {
		return fmt.Errorf("store: release call %s: %w", callID, err)
	}
	return nil
}

// ReleaseInstance ends every reservation held by instanceID (clean shutdown,
// or start-up after a crash of the same instance).
func (s *Store) ReleaseInstance(ctx context.Context, instanceID string) (int, error) {
	res, err := s.db.ExecContext(ctx, "DELETE FROM reservations WHERE instance_id = $1", instanceID)
	if err != nil {
		return 0, fmt.Errorf("store: release instance %s: %w", instanceID, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// ExtendLeases renews, to now+lease, the live (not expired) reservations
// instanceID holds for the calls in callIDs — the calls still in progress —
// and returns how many it renewed. A reservation of any other call of the
// instance (one whose release failed) is left to expire, and an expired one
// is never revived: another instance may already have taken the person.
func (s *Store) ExtendLeases(ctx context.Context, instanceID string, callIDs []string, lease time.Duration) (int, error) {
	if lease <= 0 {
		return 0, errors.New("store: extend leases: lease must be positive")
	}
	if len(callIDs) == 0 {
		return 0, nil
	}
	res, err := s.db.ExecContext(ctx, `
UPDATE reservations SET expires_at = clock_timestamp() + $3 * interval '1 microsecond'
WHERE instance_id = $1 AND call_id = ANY($2) AND expires_at >= clock_timestamp()`,
		instanceID, pq.Array(callIDs), lease.Microseconds())
	if err != nil {
		return 0, fmt.Errorf("store: extend leases of %s: %w", instanceID, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// Heartbeat calls ExtendLeases for the calls live returns every interval
// until ctx ends. Choose lease a few intervals long (e.g. lease 30 s,
// interval 10 s) so one missed beat does not drop a live call's
// reservations. Errors are logged and retried on the next beat.
func (s *Store) Heartbeat(ctx context.Context, instanceID string, live func() []string, lease, interval time.Duration) {
	if interval <= 0 {
		interval = lease / 3
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.ExtendLeases(ctx, instanceID, live(), lease); err != nil && ctx.Err() == nil {
				s.log.Warn("reservation heartbeat failed", "instance", instanceID, "err", err)
			}
		}
	}
}

// Reservations lists the live (unexpired) reservations, oldest first.
func (s *Store) Reservations(ctx context.Context) ([]Reservation, error) {
	var out []Reservation
	if err := s.db.SelectContext(ctx, &out, `
SELECT staff_code, call_id, instance_id, reserved_at, expires_at FROM reservations
WHERE expires_at >= clock_timestamp() ORDER BY reserved_at, staff_code`); err != nil {
		return nil, fmt.Errorf("store: list reservations: %w", err)
	}
	return out, nil
}
