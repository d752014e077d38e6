package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The monthly report per person (`hotline report`, the board's /report):
// one query over calls, call_legs and ratings, shared by every caller so the
// command line and the board always show the same numbers. Every figure is
// defined in README.md ("Monthly report"); the definitions are repeated on
// PersonFigures' fields.

// Vietnam is Asia/Ho_Chi_Minh, the zone a report month is read in. Vietnam
// has kept UTC+7 without daylight saving since 1975, so a fixed zone stands
// in when the system has no tz database.
var Vietnam = loadVietnam()

func loadVietnam() *time.Location {
	if loc, err := time.LoadLocation("Asia/Ho_Chi_Minh"); err == nil {
		return loc
	}
	return time.FixedZone("ICT", 7*3600)
}

// ErrBadMonth is returned (wrapped) by ParseMonth.
var ErrBadMonth = errors.New("not a month like 2026-11")

// ErrUnknownRegion is returned (wrapped) by MonthlyReport for a region code
// that is neither in the directory nor on any call.
var ErrUnknownRegion = errors.New("unknown region")

// Month is a calendar month in Asia/Ho_Chi_Minh.
type Month struct {
	Year  int
	Month time.Month
}

var monthRE = regexp.MustCompile(`^([0-9]{4})-(0[1-9]|1[0-2])$`)

// ParseMonth reads "YYYY-MM" (e.g. "2026-11"), nothing else.
func ParseMonth(s string) (Month, error) {
	m := monthRE.FindStringSubmatch(s)
	if m == nil {
		return Month{}, fmt.Errorf("%q is %w (YYYY-MM)", s, ErrBadMonth)
	}
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	return Month{Year: y, Month: time.Month(mo)}, nil
}

// MonthOf is the month containing t in Asia/Ho_Chi_Minh.
func MonthOf(t time.Time) Month {
	t = t.In(Vietnam)
	return Month{Year: t.Year(), Month: t.Month()}
}

// Range is the month's first instant and the next month's first instant,
// midnight in Asia/Ho_Chi_Minh: a call belongs to the month when
// from <= started_at < to.
func (m Month) Range() (from, to time.Time) {
	from = time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, Vietnam)
	return from, from.AddDate(0, 1, 0)
}

// Next is the month after m; Prev the month before.
func (m Month) Next() Month { _, to := m.Range(); return MonthOf(to) }

// Prev is the month before m.
func (m Month) Prev() Month { from, _ := m.Range(); return MonthOf(from.Add(-time.Hour)) }

// String is "YYYY-MM".
func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

// ReportFilter selects what MonthlyReport counts.
type ReportFilter struct {
	Month Month
	// Region, when set, keeps only calls whose calls.region_code is it
	// (the café's region, exact match); calls placed in no region are then
	// left out.
	Region string
}

// PersonFigures are one person's figures for a month. Every leg, call and
// rating counted belongs to a call that started in the month
// (Asia/Ho_Chi_Minh) and, with a region filter, in that region: a leg
// belongs to its call's month even when it rang after midnight.
type PersonFigures struct {
	// Staff is the staff code on the legs, calls and ratings; Name and Role
	// come from the directory now ("" for someone no longer in it: Role
	// then falls back to the role of their latest leg).
	Staff string `db:"staff_code" json:"staff_code"`
	Name  string `db:"name" json:"name"`
	Role  string `db:"role" json:"role"`
	// LegsOffered counts every leg that rang (or tried to ring) one of
	// their numbers, whatever its result. It is the sum of the five
	// counts below it.
	LegsOffered int `db:"legs_offered" json:"legs_offered"`
	// LegsAccepted: legs with result answered (they pressed 1).
	LegsAccepted int `db:"legs_accepted" json:"legs_accepted"`
	// LegsMissed: rung and not answered: results no_answer (rang until
	// the ring timeout) and busy (declined, or busy on another call).
	LegsMissed int `db:"legs_missed" json:"legs_missed"`
	// LegsNoConfirm: answered without pressing 1 (result
	// answered_unconfirmed: their voicemail, or a wrong person, took it).
	LegsNoConfirm int `db:"legs_answered_no_confirm" json:"legs_answered_no_confirm"`
	// LegsUnreached: the network did not reach the phone (results
	// congestion and failed: switched off, out of coverage, trunk fault).
	LegsUnreached int `db:"legs_unreached" json:"legs_unreached"`
	// LegsCancelled: the hotline hung the leg up because the caller left,
	// the call ended or someone else was already taking it (result
	// cancelled) — not theirs to answer.
	LegsCancelled int `db:"legs_cancelled" json:"legs_cancelled"`
	// MedianAcceptSeconds is the median, over their accepted legs, of the
	// time from the leg starting to ring (ring_at) to pressing 1
	// (accepted_at), in seconds; with an even count the mean of the two
	// middle values. nil without accepted legs.
	MedianAcceptSeconds *float64 `db:"median_accept_seconds" json:"median_accept_seconds"`
	// CallsHandled counts the calls whose record names them as the person
	// who took the call (calls.accepted_by).
	CallsHandled int `db:"calls_handled" json:"calls_handled"`
	// TalkSeconds sums calls.talk_seconds over those calls: the bridged
	// time, from pressing 1 until the conversation ended (the rating
	// prompt afterwards not included).
	TalkSeconds float64 `db:"talk_seconds" json:"talk_seconds"`
	// RatingCount counts the scores 1–5 callers gave about them
	// (ratings.staff_code); RatingMean is their mean (nil without any).
	// RatingSum is the sum of those scores.
	RatingCount int      `db:"rating_count" json:"rating_count"`
	RatingSum   int      `db:"rating_sum" json:"-"`
	RatingMean  *float64 `db:"rating_mean" json:"rating_mean"`
	// Complaints counts ratings marked complaint (key 9) about them.
	Complaints int `db:"complaints" json:"complaints"`
	// TransfersGiven counts transfers they completed: accepted legs with
	// reason transfer in a call where their accepted leg was the one before
	// (by accepted_at). TransfersReceived counts their own accepted legs
	// with reason transfer. Both are 0 while the database records no leg
	// reason (MonthlyReport.TransfersRecorded false).
	TransfersGiven    int `db:"transfers_given" json:"transfers_given"`
	TransfersReceived int `db:"transfers_received" json:"transfers_received"`
	// CallbacksMade counts their accepted legs in calls with direction
	// callback (they pressed 1 on a callback to a café). nil while the
	// database records no call direction (MonthlyReport.CallbacksRecorded
	// false): not known, rather than 0.
	CallbacksMade *int `db:"callbacks_made" json:"callbacks_made"`
}

// MonthlyReport is the per-person report of one month.
type MonthlyReport struct {
	Month      Month
	From, To   time.Time // Month.Range()
	Region     string    // "" = all calls
	RegionName string    // from the directory, "" if unknown or no filter
	// People are everyone with a leg, a call taken or a rating in the
	// month, ordered by staff code.
	People []PersonFigures
	// Total sums the people's counts and times; its median and mean are
	// over all their accepted legs and all their ratings. Staff is "".
	Total PersonFigures
	// TransfersRecorded: call_legs has a reason column (transfers are
	// counted). CallbacksRecorded: calls has a direction column (callbacks
	// are counted).
	TransfersRecorded bool
	CallbacksRecorded bool
}

// reportSQL is the one query behind every report. %[1]s is the predicate
// "this leg is a transfer" on call_legs l, %[2]s "this call is a callback" on
// calls, %[3]s the callbacks_made aggregate over the legs CTE, %[4]s the
// final callbacks_made expression, %[5]s the transfers_given CTE. They are
// constants chosen by MonthlyReport from the schema, never user input.
//
// c and l are NOT MATERIALIZED so that each use is planned on the tables
// and their indexes: materialized, the query took 4 times as long on a
// month of 100,000 legs.
const reportSQL = `
WITH c AS NOT MATERIALIZED (
	SELECT id, accepted_by, talk_seconds, %[2]s AS is_callback
	FROM calls
	WHERE started_at >= $1 AND started_at < $2 AND ($3 = '' OR region_code = $3)
), l AS NOT MATERIALIZED (
	SELECT l.call_id, l.staff_code, l.result, l.ring_at, l.accepted_at,
		coalesce(%[1]s, false) AS is_transfer, c.is_callback
	FROM call_legs l JOIN c ON c.id = l.call_id
	WHERE l.staff_code <> '' AND l.role <> 'cafe' -- a callback's leg to the café is nobody's
), legs AS (
	SELECT coalesce(staff_code, '') AS k,
		count(*) AS legs_offered,
		count(*) FILTER (WHERE result = 'answered') AS legs_accepted,
		count(*) FILTER (WHERE result IN ('no_answer', 'busy')) AS legs_missed,
		count(*) FILTER (WHERE result = 'answered_unconfirmed') AS legs_answered_no_confirm,
		count(*) FILTER (WHERE result IN ('congestion', 'failed')) AS legs_unreached,
		count(*) FILTER (WHERE result = 'cancelled') AS legs_cancelled,
		percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM accepted_at - ring_at)::float8)
			FILTER (WHERE result = 'answered' AND accepted_at IS NOT NULL) AS median_accept_seconds,
		count(*) FILTER (WHERE result = 'answered' AND is_transfer) AS transfers_received,
		%[3]s AS callbacks_made
	FROM l
	GROUP BY GROUPING SETS ((staff_code), ())
), given AS (
%[5]s
), handled AS (
	SELECT coalesce(accepted_by, '') AS k, count(*) AS calls_handled, coalesce(sum(talk_seconds), 0) AS talk_seconds
	FROM c WHERE accepted_by <> ''
	GROUP BY GROUPING SETS ((accepted_by), ())
), rates AS (
	SELECT coalesce(r.staff_code, '') AS k,
		count(r.score) AS rating_count, coalesce(sum(r.score), 0) AS rating_sum,
		avg(r.score)::float8 AS rating_mean,
		count(*) FILTER (WHERE r.complaint) AS complaints
	FROM ratings r JOIN c ON c.id = r.call_id
	WHERE r.staff_code <> ''
	GROUP BY GROUPING SETS ((r.staff_code), ())
)
SELECT keys.k AS staff_code, coalesce(st.name, '') AS name, CASE WHEN keys.k <> '' THEN coalesce(st.role, (
		SELECT lr.role FROM call_legs lr WHERE lr.staff_code = keys.k AND lr.ring_at < $2
		ORDER BY lr.ring_at DESC LIMIT 1), '') ELSE '' END AS role,
	coalesce(legs.legs_offered, 0) AS legs_offered,
	coalesce(legs.legs_accepted, 0) AS legs_accepted,
	coalesce(legs.legs_missed, 0) AS legs_missed,
	coalesce(legs.legs_answered_no_confirm, 0) AS legs_answered_no_confirm,
	coalesce(legs.legs_unreached, 0) AS legs_unreached,
	coalesce(legs.legs_cancelled, 0) AS legs_cancelled,
	legs.median_accept_seconds,
	coalesce(handled.calls_handled, 0) AS calls_handled,
	coalesce(handled.talk_seconds, 0) AS talk_seconds,
	coalesce(rates.rating_count, 0) AS rating_count,
	coalesce(rates.rating_sum, 0) AS rating_sum,
	rates.rating_mean,
	coalesce(rates.complaints, 0) AS complaints,
	coalesce(given.transfers_given, 0) AS transfers_given,
	coalesce(legs.transfers_received, 0) AS transfers_received,
	%[4]s AS callbacks_made
FROM (SELECT k FROM legs UNION SELECT k FROM given UNION SELECT k FROM handled UNION SELECT k FROM rates) keys
LEFT JOIN legs ON legs.k = keys.k
LEFT JOIN given ON given.k = keys.k
LEFT JOIN handled ON handled.k = keys.k
LEFT JOIN rates ON rates.k = keys.k
LEFT JOIN staff st ON st.code = keys.k AND keys.k <> ''
ORDER BY keys.k`

// reportGivenSQL counts, per person, the transfers taken from them: each
// accepted transfer leg is given by whoever's accepted leg came just before
// it in the call.
const reportGivenSQL = `	SELECT coalesce(g.staff_code, '') AS k, count(*) AS transfers_given
	FROM call_legs t JOIN c ON c.id = t.call_id
	CROSS JOIN LATERAL (
		SELECT p.staff_code FROM call_legs p
		WHERE p.call_id = t.call_id AND p.result = 'answered' AND p.accepted_at < t.accepted_at
			AND p.staff_code <> '' AND p.role <> 'cafe'
		ORDER BY p.accepted_at DESC LIMIT 1
	) g
	WHERE t.reason = 'transfer' AND t.result = 'answered' AND t.staff_code <> '' AND t.role <> 'cafe'
	GROUP BY GROUPING SETS ((g.staff_code), ())`

// reportQuery builds reportSQL for a schema with or without the transfer
// and callback columns.
func reportQuery(transfers, callbacks bool) string {
	isTransfer, isCallback := "false", "NULL::boolean"
	made, final := "NULL::bigint", "NULL::bigint"
	given := "\tSELECT ''::text AS k, 0::bigint AS transfers_given"
	if transfers {
		isTransfer = "l.reason = 'transfer'"
		given = reportGivenSQL
	}
	if callbacks {
		isCallback = "coalesce(direction = 'callback', false)"
		made = "count(*) FILTER (WHERE result = 'answered' AND is_callback)"
		final = "coalesce(legs.callbacks_made, 0)"
	}
	return fmt.Sprintf(reportSQL, isTransfer, isCallback, made, final, given)
}

// MonthlyReport computes the per-person figures of f.Month (optionally one
// region) from the calls, call_legs and ratings rows, in one consistent
// snapshot. It reads call_legs.reason and calls.direction when the schema has
// them (the transfer and callback features add them) and reports whether it
// did. An unknown region (in neither the directory nor any call) is an error
// wrapping ErrUnknownRegion that lists the known ones.
func (s *Store) MonthlyReport(ctx context.Context, f ReportFilter) (MonthlyReport, error) {
	from, to := f.Month.Range()
	rep := MonthlyReport{Month: f.Month, From: from, To: to, Region: f.Region, People: []PersonFigures{}}
	tx, err := s.db.BeginTxx(ctx, &sqlTxReadOnlySnapshot)
	if err != nil {
		return rep, fmt.Errorf("store: monthly report: %w", err)
	}
	defer func() { _ = tx.Rollback() }()

	if err := tx.QueryRowxContext(ctx, `
SELECT
	EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'call_legs' AND column_name = 'reason'),
	EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'calls' AND column_name = 'direction')`).
		Scan(&rep.TransfersRecorded, &rep.CallbacksRecorded); err != nil {
		return rep, fmt.Errorf("store: monthly report: read schema: %w", err)
	}

	if f.Region != "" {
		var known bool
		if err := tx.QueryRowxContext(ctx, `
SELECT coalesce((SELECT name FROM regions WHERE code = $1), ''),
	EXISTS (SELECT 1 FROM regions WHERE code = $1) OR EXISTS (SELECT 1 FROM calls WHERE region_code = $1)`,
			f.Region).Scan(&rep.RegionName, &known); err != nil {
			return rep, fmt.Errorf("store: monthly report: region: %w", err)
		}
		if !known {
			var codes []string
			if err := tx.SelectContext(ctx, &codes, `SELECT code FROM regions ORDER BY code`); err != nil {
				return rep, fmt.Errorf("store: monthly report: regions: %w", err)
			}
			return rep, fmt.Errorf("region %q: %w (known: %s)", f.Region, ErrUnknownRegion, strings.Join(codes, ", "))
		}
	}

	var rows []PersonFigures
	if err := tx.SelectContext(ctx, &rows, reportQuery(rep.TransfersRecorded, rep.CallbacksRecorded),
		from, to, f.Region); err != nil {
		return rep, fmt.Errorf("store: monthly report %s: %w", f.Month, err)
	}
	for _, r := range rows {
		if r.Staff == "" {
			rep.Total = r
			continue
		}
		rep.People = append(rep.People, r)
	}
	return rep, nil
}
