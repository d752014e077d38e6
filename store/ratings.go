package store

import (
	"context"
	"fmt"
	"time"
)

// StaffScore sums up how one staff member did over a period, from the call
// records: calls they accepted, the callers' ratings and complaints, and how
// often they were rung without accepting.
type StaffScore struct {
	Staff      string   `db:"staff_code"`
	Name       string   `db:"name"`
	Rung       int      `db:"rung"`     // legs that rang them
	Accepted   int      `db:"accepted"` // calls they accepted
	Missed     int      `db:"missed"`   // legs ending busy, no_answer, answered_unconfirmed
	Ratings    int      `db:"ratings"`
	AvgScore   *float64 `db:"avg_score"` // nil without ratings
	Complaints int      `db:"complaints"`
}

// StaffScores returns a StaffScore for every staff member rung or rated in
// [from, to), ordered by staff code.
func (s *Store) StaffScores(ctx context.Context, from, to time.Time) ([]StaffScore, error) {
	out := []StaffScore{}
	if err := s.db.SelectContext(ctx, &out, `
WITH legs AS (
	SELECT l.staff_code,
		count(*) AS rung,
		count(*) FILTER (WHERE l.result = 'answered') AS accepted,
		count(*) FILTER (WHERE l.result IN ('busy', 'no_answer', 'answered_unconfirmed')) AS missed
	FROM call_legs l JOIN calls c ON c.id = l.call_id
	WHERE c.started_at >= $1 AND c.started_at < $2 AND l.staff_code <> ''
	GROUP BY l.staff_code
), rates AS (
	SELECT r.staff_code,
		count(r.score) AS ratings,
		avg(r.score)::float8 AS avg_score,
		count(*) FILTER (WHERE r.complaint) AS complaints
	FROM ratings r JOIN calls c ON c.id = r.call_id
	WHERE c.started_at >= $1 AND c.started_at < $2
	GROUP BY r.staff_code
)
SELECT k.staff_code, coalesce(st.name, '') AS name,
	coalesce(legs.rung, 0) AS rung, coalesce(legs.accepted, 0) AS accepted, coalesce(legs.missed, 0) AS missed,
	coalesce(rates.ratings, 0) AS ratings, rates.avg_score, coalesce(rates.complaints, 0) AS complaints
FROM (SELECT staff_code FROM legs UNION SELECT staff_code FROM rates) k
LEFT JOIN legs ON legs.staff_code = k.staff_code
LEFT JOIN rates ON rates.staff_code = k.staff_code
LEFT JOIN staff st ON st.code = k.staff_code
ORDER BY k.staff_code`, from, to); err != nil {
		return nil, fmt.Errorf("store: staff scores: %w", err)
	}
	return out, nil
}

// Complaint is one complaint (key 9 after a call).
type Complaint struct {
	CallID    string    `db:"call_id"`
	Staff     string    `db:"staff_code"`
	Cafe      string    `db:"cafe_code"`
	Score     *int      `db:"score"`
	CreatedAt time.Time `db:"created_at"`
}

// Complaints lists complaints made in [from, to), newest first.
func (s *Store) Complaints(ctx context.Context, from, to time.Time) ([]Complaint, error) {
	out := []Complaint{}
	if err := s.db.SelectContext(ctx, &out, `
SELECT r.call_id, r.staff_code, coalesce(c.cafe_code, '') AS cafe_code, r.score, r.created_at
FROM ratings r JOIN calls c ON c.id = r.call_id
WHERE r.complaint AND r.created_at >= $1 AND r.created_at < $2
ORDER BY r.created_at DESC, r.call_id`, from, to); err != nil {
		return nil, fmt.Errorf("store: complaints: %w", err)
	}
	return out, nil
}

// CallCounts returns how many calls (cafés calling the hotline: callbacks
// are not counted) ended with each outcome in [from, to).
func (s *Store) CallCounts(ctx context.Context, from, to time.Time) (map[Outcome]int, error) {
	rows, err := s.db.QueryContext(ctx, `
SELECT outcome, count(*) FROM calls WHERE started_at >= $1 AND started_at < $2 AND direction = 'inbound'
GROUP BY outcome`, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: call counts: %w", err)
	}
	defer rows.Close()
	out := map[Outcome]int{}
	for rows.Next() {
		var o string
		var n int
		if err := rows.Scan(&o, &n); err != nil {
			return nil, fmt.Errorf("store: call counts: %w", err)
		}
		out[Outcome(o)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: call counts: %w", err)
	}
	return out, nil
}

// RegionOutcome is how many calls of one region ended with one outcome.
type RegionOutcome struct {
	Region  string  `db:"region"` // "" for calls not placed in a region
	Outcome Outcome `db:"outcome"`
	Calls   int     `db:"calls"`
}

// OutcomesByRegion counts the calls cafés made that started in [from, to)
// by region and outcome (the supervisors' board shows today's); the
// hotline's callbacks are not counted.
func (s *Store) OutcomesByRegion(ctx context.Context, from, to time.Time) ([]RegionOutcome, error) {
	out := []RegionOutcome{}
	if err := s.db.SelectContext(ctx, &out, `
SELECT coalesce(region_code, '') AS region, outcome, count(*) AS calls
FROM calls WHERE started_at >= $1 AND started_at < $2 AND direction = 'inbound'
GROUP BY 1, 2 ORDER BY 1, 2`, from, to); err != nil {
		return nil, fmt.Errorf("store: outcomes by region: %w", err)
	}
	return out, nil
}
