package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrAlreadyHandled is returned (wrapped) by MarkVoicemailHandled when
// someone else handled the voicemail first.
var ErrAlreadyHandled = errors.New("store: voicemail already handled")

// VoicemailEntry is a message or callback request as supervisors see it.
type VoicemailEntry struct {
	ID             int64      `db:"id"`
	CallID         string     `db:"call_id"`
	Cafe           string     `db:"cafe_code"`
	CafeName       string     `db:"cafe_name"`
	CallbackNumber string     `db:"callback_number"`
	Recording      string     `db:"recording"`
	CreatedAt      time.Time  `db:"created_at"`
	HandledBy      string     `db:"handled_by"`
	HandledAt      *time.Time `db:"handled_at"`
	Note           string     `db:"note"`
	LengthSeconds  *float64   `db:"length_seconds"` // nil: not known
}

// VoicemailFilter selects voicemails for ListVoicemails.
type VoicemailFilter struct {
	WaitingOnly bool // only those nobody handled yet
	Limit       int  // default 100
}

// VoicemailsWaiting counts voicemails and callback requests nobody has
// handled yet.
func (s *Store) VoicemailsWaiting(ctx context.Context) (int, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, "SELECT count(*) FROM voicemails WHERE handled_at IS NULL"); err != nil {
		return 0, fmt.Errorf("store: count waiting voicemails: %w", err)
	}
	return n, nil
}

// ListVoicemails returns voicemails, waiting ones first (oldest first), then
// handled ones (most recent first).
func (s *Store) ListVoicemails(ctx context.Context, f VoicemailFilter) ([]VoicemailEntry, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	out := []VoicemailEntry{}
	if err := s.db.SelectContext(ctx, &out, `
SELECT v.id, v.call_id, coalesce(v.cafe_code, '') AS cafe_code, coalesce(c.name, '') AS cafe_name,
	v.callback_number, v.recording, v.created_at, coalesce(v.handled_by, '') AS handled_by, v.handled_at, v.note,
	v.length_seconds
FROM voicemails v LEFT JOIN cafes c ON c.code = v.cafe_code
WHERE NOT $1 OR v.handled_at IS NULL
ORDER BY v.handled_at IS NOT NULL, CASE WHEN v.handled_at IS NULL THEN v.created_at END,
	v.handled_at DESC, v.id
LIMIT $2`, f.WaitingOnly, f.Limit); err != nil {
		return nil, fmt.Errorf("store: list voicemails: %w", err)
	}
	return out, nil
}

// MarkVoicemailHandled records that staff member by handled voicemail id
// (called back, listened to), with an optional note. It returns an error
// wrapping ErrNotFound for an unknown id and ErrAlreadyHandled when it was
// handled already.
func (s *Store) MarkVoicemailHandled(ctx context.Context, id int64, by, note string) error {
	if by == "" {
		return errors.New("store: mark voicemail handled: who handled it is required")
	}
	res, err := s.db.ExecContext(ctx, `
UPDATE voicemails SET handled_by = $2, handled_at = now(), note = $3
WHERE id = $1 AND handled_at IS NULL`, id, by, note)
	if err != nil {
		return fmt.Errorf("store: mark voicemail %d handled: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	var handledBy string
	err = s.db.GetContext(ctx, &handledBy, "SELECT coalesce(handled_by, '') FROM voicemails WHERE id = $1", id)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: voicemail %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: mark voicemail %d handled: %w", id, err)
	}
	return fmt.Errorf("store: voicemail %d (by %s): %w", id, handledBy, ErrAlreadyHandled)
}
