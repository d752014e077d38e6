package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/csm-vn/hotline/dialplan"
)

// maxParams keeps one multi-row statement under PostgreSQL's limit of
// 65,535 parameters.
const maxParams = 60_000

// WriteCalls stores several records in one transaction, each table with
// one multi-row INSERT (calls, then the legs, ratings and voicemails of
// the calls that were not stored yet): a handful of statements for the
// whole batch instead of several per call. Like WriteCall it is
// idempotent by call id: inserted[i] reports whether recs[i] was new (a
// repeat of an id within recs counts as already stored). Any error rolls
// back the whole batch; a validation error names the record.
func WriteCalls(ctx context.Context, db *sqlx.DB, recs []*CallRecord) (inserted []bool, err error) {
	for _, rec := range recs {
		if err := rec.Validate(); err != nil {
			return nil, validationError{err}
		}
	}
	inserted = make([]bool, len(recs))
	if len(recs) == 0 {
		return inserted, nil
	}
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: write %s: %w", batchName(recs), err)
	}
	defer func() { _ = tx.Rollback() }()

	first := make(map[string]int, len(recs)) // id → index of its first record
	var calls [][]any
	for i, rec := range recs {
		if _, dup := first[rec.ID]; dup {
			continue
		}
		first[rec.ID] = i
		matched := rec.MatchedBy
		if matched == "" {
			matched = dialplan.MatchedByNone
		}
		direction := rec.Direction
		if direction == "" {
			direction = DirectionInbound
		}
		calls = append(calls, []any{rec.ID, rec.Node, rec.ChannelID, rec.CallerRaw, rec.Caller, rec.CallerKind,
			nullString(rec.Cafe), string(matched), nullString(rec.Province), nullString(rec.Area),
			nullString(rec.Region), rec.StartedAt, nullTime(rec.AcceptedAt), rec.EndedAt, string(rec.Outcome),
			nullString(rec.AcceptedBy), rec.Wait.Seconds(), rec.Talk.Seconds(), rec.Detail, string(direction),
			nullInt64(rec.CallbackID)})
	}
	for _, chunk := range chunks(calls) {
		q := `INSERT INTO calls (id, node, channel_id, caller_raw, caller, caller_kind, cafe_code, matched_by,
	province_code, area_code, region_code, started_at, accepted_at, ended_at, outcome, accepted_by,
	wait_seconds, talk_seconds, detail, direction, callback_id)
VALUES ` + placeholders(len(chunk), len(chunk[0])) + `
ON CONFLICT (id) DO NOTHING
RETURNING id`
		rows, err := tx.QueryContext(ctx, q, flatten(chunk)...)
		if err != nil {
			return nil, fmt.Errorf("store: write %s: %w", batchName(recs), err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: write %s: %w", batchName(recs), err)
			}
			inserted[first[id]] = true
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("store: write %s: %w", batchName(recs), err)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: write %s: %w", batchName(recs), err)
		}
	}

	// The calls are no longer in progress (live_calls), whether this write
	// or an earlier one (a spool replay, a batch retried) stored them.
	ids := make([]string, 0, len(first))
	for id := range first {
		ids = append(ids, id)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM live_calls WHERE call_id = ANY($1)", pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("store: write %s: %w", batchName(recs), err)
	}

	var legs, ratings, voicemails [][]any
	for i, rec := range recs {
		if !inserted[i] {
			continue // already stored: nothing written twice
		}
		for j, l := range rec.Legs {
			legs = append(legs, []any{rec.ID, legSeq(l, j), l.Staff, string(l.Role), l.Number, string(l.Carrier),
				l.Trunk, l.ChannelID, l.RingAt, nullTime(l.AnsweredAt), nullTime(l.AcceptedAt), l.EndedAt,
				string(l.Result), nullInt(l.HangupCause), l.Detail, l.Reason})
		}
		if rt := rec.Rating; rt != nil {
			ratings = append(ratings, []any{rec.ID, rt.Staff, nullInt(rt.Score), rt.Complaint, rec.EndedAt})
		}
		if vm := rec.Voicemail; vm != nil {
			voicemails = append(voicemails, []any{rec.ID, nullString(rec.Cafe), vm.CallbackNumber, vm.Recording, rec.EndedAt,
				nullSeconds(vm.Length)})
		}
	}
	for _, part := range []struct {
		what, head string
		rows       [][]any
	}{
		{"legs", `INSERT INTO call_legs (call_id, seq, staff_code, role, number, carrier, trunk, channel_id, ring_at,
	answered_at, accepted_at, ended_at, result, hangup_cause, detail, reason) VALUES `, legs},
		{"ratings", `INSERT INTO ratings (call_id, staff_code, score, complaint, created_at) VALUES `, ratings},
		{"voicemails", `INSERT INTO voicemails (call_id, cafe_code, callback_number, recording, created_at,
	length_seconds) VALUES `, voicemails},
	} {
		for _, chunk := range chunks(part.rows) {
			if _, err := tx.ExecContext(ctx, part.head+placeholders(len(chunk), len(chunk[0])), flatten(chunk)...); err != nil {
				return nil, fmt.Errorf("store: write %s %s: %w", batchName(recs), part.what, err)
			}
		}
	}
	// Callback requests last, in the batch's order: each sees every call of
	// the batch (the Recorder ends a batch at a record with a callback
	// request, so that it sees exactly the calls recorded before it).
	for i, rec := range recs {
		if inserted[i] {
			if err := insertCallbackRequest(ctx, tx, rec); err != nil {
				return nil, err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: write %s: %w", batchName(recs), err)
	}
	return inserted, nil
}

// batchName names a batch in errors: "call ID" for one record.
func batchName(recs []*CallRecord) string {
	if len(recs) == 1 {
		return "call " + recs[0].ID
	}
	return fmt.Sprintf("%d calls (%s…)", len(recs), recs[0].ID)
}

// chunks splits rows so that each statement stays under maxParams.
func chunks(rows [][]any) [][][]any {
	if len(rows) == 0 {
		return nil
	}
	per := max(1, maxParams/len(rows[0]))
	var out [][][]any
	for len(rows) > per {
		out = append(out, rows[:per])
		rows = rows[per:]
	}
	return append(out, rows)
}

// placeholders returns "($1, $2), ($3, $4)" for rows of cols values.
func placeholders(rows, cols int) string {
	var b strings.Builder
	n := 1
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			n++
		}
		b.WriteByte(')')
	}
	return b.String()
}

func flatten(rows [][]any) []any {
	out := make([]any, 0, len(rows)*len(rows[0]))
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}
