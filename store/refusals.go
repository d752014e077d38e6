package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/lib/pq"
)

// AddRefusal records that technician staff no longer serves café cafe
// (routing then skips them for that café). Adding it again updates the
// note. Unknown codes give an error wrapping ErrNotFound.
func (s *Store) AddRefusal(ctx context.Context, staff, cafe, note string) error {
	_, err := s.db.ExecContext(ctx, `
INSERT INTO refusals (staff_code, cafe_code, note) VALUES ($1, $2, $3)
ON CONFLICT (staff_code, cafe_code) DO UPDATE SET note = EXCLUDED.note`, staff, cafe, note)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23503" { // foreign_key_violation
		return fmt.Errorf("store: add refusal %s/%s: unknown staff or café: %w", staff, cafe, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: add refusal %s/%s: %w", staff, cafe, err)
	}
	return nil
}

// RemoveRefusal deletes a refusal; ErrNotFound (wrapped) if there was none.
func (s *Store) RemoveRefusal(ctx context.Context, staff, cafe string) error {
	res, err := s.db.ExecContext(ctx, "DELETE FROM refusals WHERE staff_code = $1 AND cafe_code = $2", staff, cafe)
	if err != nil {
		return fmt.Errorf("store: remove refusal %s/%s: %w", staff, cafe, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: refusal %s/%s: %w", staff, cafe, ErrNotFound)
	}
	return nil
}
