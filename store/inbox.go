package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The supervisors' inbox: voicemails to listen to and handle, complaints to
// review. Voicemails are in voicemails.go; this file adds what the board's
// inbox needs on top.

// ErrAlreadyReviewed is returned (wrapped) by MarkComplaintReviewed when
// someone else reviewed the complaint first.
var ErrAlreadyReviewed = errors.New("store: complaint already reviewed")

// GetVoicemail returns one voicemail by id; an unknown id gives an error
// wrapping ErrNotFound.
func (s *Store) GetVoicemail(ctx context.Context, id int64) (VoicemailEntry, error) {
	var v VoicemailEntry
	err := s.db.GetContext(ctx, &v, `
SELECT v.id, v.call_id, coalesce(v.cafe_code, '') AS cafe_code, coalesce(c.name, '') AS cafe_name,
	v.callback_number, v.recording, v.created_at, coalesce(v.handled_by, '') AS handled_by, v.handled_at, v.note,
	v.length_seconds
FROM voicemails v LEFT JOIN cafes c ON c.code = v.cafe_code
WHERE v.id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return VoicemailEntry{}, fmt.Errorf("store: voicemail %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return VoicemailEntry{}, fmt.Errorf("store: get voicemail %d: %w", id, err)
	}
	return v, nil
}

// VoicemailBacklog counts the voicemails and callback requests nobody has
// handled yet and returns when the oldest of them was left (zero when none
// waits): what hotline_voicemails_waiting and
// hotline_voicemail_oldest_waiting_timestamp_seconds report.
func (s *Store) VoicemailBacklog(ctx context.Context) (n int, oldest time.Time, err error) {
	var row struct {
		N      int        `db:"n"`
		Oldest *time.Time `db:"oldest"`
	}
	if err := s.db.GetContext(ctx, &row,
		"SELECT count(*) AS n, min(created_at) AS oldest FROM voicemails WHERE handled_at IS NULL"); err != nil {
		return 0, time.Time{}, fmt.Errorf("store: voicemail backlog: %w", err)
	}
	if row.Oldest != nil {
		oldest = *row.Oldest
	}
	return row.N, oldest, nil
}

// ComplaintEntry is a complaint (key 9 after a call) as supervisors review
// it: the call, the café, the person complained about (who accepted the
// call) and the review.
type ComplaintEntry struct {
	CallID      string     `db:"call_id"`
	Cafe        string     `db:"cafe_code"`
	CafeName    string     `db:"cafe_name"`
	Caller      string     `db:"caller"` // E.164, or the caller ID as received when not a valid number
	Staff       string     `db:"staff_code"`
	StaffName   string     `db:"staff_name"`
	Score       *int       `db:"score"` // the score given with the complaint, if any
	CallStarted time.Time  `db:"started_at"`
	TalkSeconds float64    `db:"talk_seconds"`
	CreatedAt   time.Time  `db:"created_at"`
	ReviewedBy  string     `db:"reviewed_by"`
	ReviewedAt  *time.Time `db:"reviewed_at"`
	Note        string     `db:"review_note"`
}

// ComplaintFilter selects complaints for ListComplaints.
type ComplaintFilter struct {
	WaitingOnly bool // only those nobody reviewed yet
	Limit       int  // default 100
}

// ListComplaints returns complaints, waiting ones first (oldest first), then
// reviewed ones (most recently reviewed first).
func (s *Store) ListComplaints(ctx context.Context, f ComplaintFilter) ([]ComplaintEntry, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	out := []ComplaintEntry{}
	if err := s.db.SelectContext(ctx, &out, `
SELECT r.call_id, coalesce(c.cafe_code, '') AS cafe_code, coalesce(cf.name, '') AS cafe_name,
	CASE WHEN c.caller <> '' THEN c.caller ELSE c.caller_raw END AS caller,
	coalesce(nullif(c.accepted_by, ''), r.staff_code) AS staff_code, coalesce(st.name, '') AS staff_name,
	r.score, c.started_at, c.talk_seconds, r.created_at,
	coalesce(r.reviewed_by, '') AS reviewed_by, r.reviewed_at, r.review_note
FROM ratings r
JOIN calls c ON c.id = r.call_id
LEFT JOIN cafes cf ON cf.code = c.cafe_code
LEFT JOIN staff st ON st.code = coalesce(nullif(c.accepted_by, ''), r.staff_code)
WHERE r.complaint AND (NOT $1 OR r.reviewed_at IS NULL)
ORDER BY r.reviewed_at IS NOT NULL, CASE WHEN r.reviewed_at IS NULL THEN r.created_at END,
	r.reviewed_at DESC, r.call_id
LIMIT $2`, f.WaitingOnly, f.Limit); err != nil {
		return nil, fmt.Errorf("store: list complaints: %w", err)
	}
	return out, nil
}

// ComplaintsWaiting counts complaints nobody has reviewed yet.
func (s *Store) ComplaintsWaiting(ctx context.Context) (int, error) {
	var n int
	if err := s.db.GetContext(ctx, &n,
		"SELECT count(*) FROM ratings WHERE complaint AND reviewed_at IS NULL"); err != nil {
		return 0, fmt.Errorf("store: count waiting complaints: %w", err)
	}
	return n, nil
}

// MarkComplaintReviewed records that staff member by reviewed the complaint
// about call callID, with an optional note. It returns an error wrapping
// ErrNotFound when the call has no complaint and ErrAlreadyReviewed when it
// was reviewed already.
func (s *Store) MarkComplaintReviewed(ctx context.Context, callID, by, note string) error {
	if by == "" {
		return errors.New("store: mark complaint reviewed: who reviewed it is required")
	}
	res, err := s.db.ExecContext(ctx, `
UPDATE ratings SET reviewed_by = $2, reviewed_at = now(), review_note = $3
WHERE call_id = $1 AND complaint AND reviewed_at IS NULL`, callID, by, note)
	if err != nil {
		return fmt.Errorf("store: mark complaint %s reviewed: %w", callID, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	var reviewedBy string
	err = s.db.GetContext(ctx, &reviewedBy,
		"SELECT coalesce(reviewed_by, '') FROM ratings WHERE call_id = $1 AND complaint", callID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: complaint about call %s: %w", callID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: mark complaint %s reviewed: %w", callID, err)
	}
	return fmt.Errorf("store: complaint about call %s (by %s): %w", callID, reviewedBy, ErrAlreadyReviewed)
}
