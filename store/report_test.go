package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/dialplan"
)

func TestParseMonth(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Month
		ok   bool
	}{
		{"2026-11", Month{2026, time.November}, true},
		{"2026-01", Month{2026, time.January}, true},
		{"1999-12", Month{1999, time.December}, true},
		{"2026-13", Month{}, false},
		{"2026-00", Month{}, false},
		{"2026-1", Month{}, false},
		{"26-11", Month{}, false},
		{"2026/11", Month{}, false},
		{"2026-11-01", Month{}, false},
		{" 2026-11", Month{}, false},
		{"", Month{}, false},
		{"november", Month{}, false},
	} {
		got, err := ParseMonth(tc.in)
		if !tc.ok {
			require.ErrorIs(t, err, ErrBadMonth, tc.in)
			require.ErrorContains(t, err, fmt.Sprintf("%q", tc.in))
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
		require.Equal(t, tc.in, got.String())
	}
}

func TestMonthRangeIsVietnamTime(t *testing.T) {
	t.Parallel()
	from, to := Month{2026, time.November}.Range()
	// Midnight in Vietnam is 17:00 UTC the day before.
	require.Equal(t, time.Date(2026, 10, 31, 17, 0, 0, 0, time.UTC), from.UTC())
	require.Equal(t, time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC), to.UTC())
	require.Equal(t, Month{2026, time.December}, Month{2026, time.November}.Next())
	require.Equal(t, Month{2027, time.January}, Month{2026, time.December}.Next())
	require.Equal(t, Month{2025, time.December}, Month{2026, time.January}.Prev())
	require.Equal(t, Month{2026, time.December}, MonthOf(time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC)))
	require.Equal(t, Month{2026, time.November}, MonthOf(time.Date(2026, 11, 30, 16, 59, 59, 0, time.UTC)))
}

// vn is a wall-clock time in Vietnam.
func vn(month time.Month, day, h, m, s int) time.Time {
	return time.Date(2026, month, day, h, m, s, 0, Vietnam)
}

func ptrF(f float64) *float64 { return &f }
func ptrI(n int) *int         { return &n }

// leg builds a leg: rings at ring, answered at ans and accepted at acc
// (offsets from ring; negative = did not happen), ends at ring+10 min.
func leg(staff string, role dialplan.Role, ring time.Time, result LegResult, ans, acc time.Duration) LegRecord {
	l := LegRecord{Staff: staff, Role: role, Number: "+84945550101", RingAt: ring, EndedAt: ring.Add(10 * time.Minute), Result: result}
	if ans >= 0 {
		l.AnsweredAt = ring.Add(ans)
	}
	if acc >= 0 {
		l.AcceptedAt = ring.Add(acc)
	}
	return l
}

const none = time.Duration(-1)

// reportCall builds a call record; acceptedBy "" = nobody took it.
func reportCall(id, region string, start time.Time, acceptedBy string, talk time.Duration, legs ...LegRecord) CallRecord {
	rec := CallRecord{ID: id, Caller: "+84945550201", Cafe: "KG001", Region: region, StartedAt: start,
		EndedAt: start.Add(20 * time.Minute), Outcome: OutcomeAbandoned, Legs: legs}
	if acceptedBy != "" {
		rec.Outcome, rec.AcceptedBy, rec.AcceptedAt, rec.Talk = OutcomeAnswered, acceptedBy, start.Add(time.Minute), talk
	}
	return rec
}

func seedReportDirectory(t *testing.T, db *sqlx.DB) {
	t.Helper()
	_, err := db.ExecContext(testCtx(t), `
INSERT INTO staff (code, name, role) VALUES
	('KTV01', 'KTV Nguyễn Văn A', 'technician'),
	('KTV02', 'KTV Trần Thị Bình', 'technician'),
	('AM01', 'Quản lý Lê Thị Hồng', 'area_manager'),
	('OP01', 'Tổng đài Phạm Đức', 'operator');
INSERT INTO regions (code, name) VALUES ('MN', 'Miền Nam'), ('MB', 'Miền Bắc')`)
	require.NoError(t, err)
}

func writeCalls(t *testing.T, db *sqlx.DB, recs ...CallRecord) {
	t.Helper()
	for _, rec := range recs {
		_, err := WriteCall(testCtx(t), db, &rec)
		require.NoError(t, err, rec.ID)
	}
}

const (
	tech = dialplan.RoleTechnician
	am   = dialplan.RoleAreaManager
	op   = dialplan.RoleOperator
)

// seedReportCalls writes the calls of TestMonthlyReport: every leg result,
// ratings and complaints, a person no longer in the directory, a call in
// another region and one in none, and calls on both sides of November's
// boundaries in Vietnam time.
func seedReportCalls(t *testing.T, db *sqlx.DB) {
	t.Helper()
	a := vn(11, 1, 0, 0, 0) // the first instant of November in Vietnam (31 Oct 17:00 UTC)
	callA := reportCall("nov-first", "MN", a, "KTV01", 100500*time.Millisecond,
		leg("KTV01", tech, a.Add(2*time.Second), LegBusy, none, none),
		leg("KTV01", tech, a.Add(5*time.Second), LegAnswered, 3*time.Second, 7*time.Second))
	callA.Rating = &Rating{Score: 5, Staff: "KTV01"}

	b := vn(11, 10, 9, 0, 0)
	callB := reportCall("nov-unconfirmed", "MN", b, "OP01", 60*time.Second,
		leg("KTV01", tech, b.Add(time.Second), LegAnsweredUnconfirmed, 4*time.Second, none),
		leg("AM01", am, b.Add(20*time.Second), LegNoAnswer, none, none),
		leg("OP01", op, b.Add(40*time.Second), LegAnswered, 2*time.Second, 9*time.Second))
	callB.Rating = &Rating{Complaint: true, Staff: "OP01"}

	c := vn(11, 15, 20, 0, 0)
	callC := reportCall("nov-abandoned", "MN", c, "", 0,
		leg("KTV02", tech, c.Add(time.Second), LegNoAnswer, none, none),
		leg("KTV02", tech, c.Add(30*time.Second), LegCongestion, none, none),
		leg("KTV02", tech, c.Add(31*time.Second), LegCancelled, none, none),
		leg("", op, c.Add(32*time.Second), LegFailed, none, none)) // no staff code: nobody's

	d := vn(11, 20, 10, 0, 0)
	callD := reportCall("nov-mb", "MB", d, "KTV02", 30*time.Second,
		leg("KTV02", tech, d.Add(time.Second), LegFailed, none, none),
		leg("KTV02", tech, d.Add(3*time.Second), LegAnswered, 2*time.Second, 4*time.Second))
	callD.Rating = &Rating{Score: 3, Staff: "KTV02"}

	// The last minute of November in Vietnam; the leg is accepted after
	// midnight, in December: it still counts in November, with its call.
	e := vn(11, 30, 23, 59, 30)
	callE := reportCall("nov-last", "MN", e, "KTV01", 200*time.Second,
		leg("KTV01", tech, e.Add(10*time.Second), LegAnswered, 20*time.Second, 25*time.Second))
	callE.Rating = &Rating{Score: 4, Staff: "KTV01"}

	f := vn(11, 25, 3, 0, 0)
	callF := reportCall("nov-noregion", "", f, "OP01", 45*time.Second,
		leg("OP01", op, f.Add(time.Second), LegAnswered, time.Second, 5*time.Second))
	callF.Rating = &Rating{Score: 2, Complaint: true, Staff: "OP01"}

	g := vn(11, 5, 8, 0, 0)
	callG := reportCall("nov-gone", "MN", g, "KTV01", 10*time.Second,
		leg("GONE01", tech, g.Add(time.Second), LegNoAnswer, none, none),
		leg("KTV01", tech, g.Add(30*time.Second), LegAnswered, 5*time.Second, 10*time.Second))

	// Outside November in Vietnam time, though 1 December 00:00 is still
	// 30 November in UTC.
	h := vn(10, 31, 23, 59, 59)
	callH := reportCall("oct-last", "MN", h, "KTV01", 50*time.Second,
		leg("KTV01", tech, h, LegAnswered, time.Second, 3*time.Second))
	callH.Rating = &Rating{Score: 1, Complaint: true, Staff: "KTV01"}
	i := vn(12, 1, 0, 0, 0)
	callI := reportCall("dec-first", "MN", i, "OP01", 70*time.Second,
		leg("KTV01", tech, i, LegNoAnswer, none, none),
		leg("OP01", op, i.Add(30*time.Second), LegAnswered, time.Second, 2*time.Second))

	writeCalls(t, db, callA, callB, callC, callD, callE, callF, callG, callH, callI)
}

// TestMonthlyReport compares the report with figures worked out by hand
// from the rows seedReportCalls writes (accept times: A 7 s, B 9 s, D 4 s,
// E 25 s, F 5 s, G 10 s).
func TestMonthlyReport(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	seedReportDirectory(t, db)
	seedReportCalls(t, db)
	s := New(db)
	nov := Month{2026, time.November}

	ktv01 := PersonFigures{Staff: "KTV01", Name: "KTV Nguyễn Văn A", Role: "technician",
		// A busy + A accepted, B unconfirmed, E accepted, G accepted.
		LegsOffered: 5, LegsAccepted: 3, LegsMissed: 1, LegsNoConfirm: 1,
		MedianAcceptSeconds: ptrF(10),              // 7, 10, 25
		CallsHandled:        3, TalkSeconds: 310.5, // 100.5 + 200 + 10
		RatingCount: 2, RatingSum: 9, RatingMean: ptrF(4.5)}
	ktv02All := PersonFigures{Staff: "KTV02", Name: "KTV Trần Thị Bình", Role: "technician",
		// C no_answer, congestion, cancelled; D failed, accepted.
		LegsOffered: 5, LegsAccepted: 1, LegsMissed: 1, LegsUnreached: 2, LegsCancelled: 1,
		MedianAcceptSeconds: ptrF(4), CallsHandled: 1, TalkSeconds: 30,
		RatingCount: 1, RatingSum: 3, RatingMean: ptrF(3)}
	am01 := PersonFigures{Staff: "AM01", Name: "Quản lý Lê Thị Hồng", Role: "area_manager", LegsOffered: 1, LegsMissed: 1}
	op01All := PersonFigures{Staff: "OP01", Name: "Tổng đài Phạm Đức", Role: "operator",
		LegsOffered: 2, LegsAccepted: 2, MedianAcceptSeconds: ptrF(7), // (5 + 9) / 2
		CallsHandled: 2, TalkSeconds: 105, // 60 + 45
		RatingCount: 1, RatingSum: 2, RatingMean: ptrF(2), Complaints: 2}
	gone := PersonFigures{Staff: "GONE01", Role: "technician", LegsOffered: 1, LegsMissed: 1}

	for _, tc := range []struct {
		name   string
		filter ReportFilter
		people []PersonFigures
		total  PersonFigures
		region string
	}{
		{
			name:   "all regions",
			filter: ReportFilter{Month: nov},
			people: []PersonFigures{am01, gone, ktv01, ktv02All, op01All},
			total: PersonFigures{LegsOffered: 14, LegsAccepted: 6, LegsMissed: 4, LegsNoConfirm: 1, LegsUnreached: 2,
				LegsCancelled: 1, MedianAcceptSeconds: ptrF(8), // 4 5 7 | 9 10 25
				CallsHandled: 6, TalkSeconds: 445.5, RatingCount: 4, RatingSum: 14, RatingMean: ptrF(3.5), Complaints: 2},
		},
		{
			name:   "region MN: calls A, B, C, E, G",
			filter: ReportFilter{Month: nov, Region: "MN"},
			region: "Miền Nam",
			people: []PersonFigures{am01, gone, ktv01,
				{Staff: "KTV02", Name: "KTV Trần Thị Bình", Role: "technician",
					LegsOffered: 3, LegsMissed: 1, LegsUnreached: 1, LegsCancelled: 1},
				{Staff: "OP01", Name: "Tổng đài Phạm Đức", Role: "operator",
					LegsOffered: 1, LegsAccepted: 1, MedianAcceptSeconds: ptrF(9), CallsHandled: 1, TalkSeconds: 60, Complaints: 1},
			},
			total: PersonFigures{LegsOffered: 11, LegsAccepted: 4, LegsMissed: 4, LegsNoConfirm: 1, LegsUnreached: 1,
				LegsCancelled: 1, MedianAcceptSeconds: ptrF(9.5), // 7 9 | 10 25
				CallsHandled: 4, TalkSeconds: 370.5, RatingCount: 2, RatingSum: 9, RatingMean: ptrF(4.5), Complaints: 1},
		},
		{
			name:   "region MB: call D",
			filter: ReportFilter{Month: nov, Region: "MB"},
			region: "Miền Bắc",
			people: []PersonFigures{{Staff: "KTV02", Name: "KTV Trần Thị Bình", Role: "technician",
				LegsOffered: 2, LegsAccepted: 1, LegsUnreached: 1, MedianAcceptSeconds: ptrF(4),
				CallsHandled: 1, TalkSeconds: 30, RatingCount: 1, RatingSum: 3, RatingMean: ptrF(3)}},
			total: PersonFigures{LegsOffered: 2, LegsAccepted: 1, LegsUnreached: 1, MedianAcceptSeconds: ptrF(4),
				CallsHandled: 1, TalkSeconds: 30, RatingCount: 1, RatingSum: 3, RatingMean: ptrF(3)},
		},
		{
			name:   "December: only the call of 1 December 00:00, not the one accepted then",
			filter: ReportFilter{Month: Month{2026, time.December}},
			people: []PersonFigures{
				{Staff: "KTV01", Name: "KTV Nguyễn Văn A", Role: "technician", LegsOffered: 1, LegsMissed: 1},
				{Staff: "OP01", Name: "Tổng đài Phạm Đức", Role: "operator", LegsOffered: 1, LegsAccepted: 1,
					MedianAcceptSeconds: ptrF(2), CallsHandled: 1, TalkSeconds: 70},
			},
			total: PersonFigures{LegsOffered: 2, LegsAccepted: 1, LegsMissed: 1, MedianAcceptSeconds: ptrF(2),
				CallsHandled: 1, TalkSeconds: 70},
		},
		{
			name:   "October: the call of 31 October 23:59:59",
			filter: ReportFilter{Month: Month{2026, time.October}},
			people: []PersonFigures{{Staff: "KTV01", Name: "KTV Nguyễn Văn A", Role: "technician", LegsOffered: 1,
				LegsAccepted: 1, MedianAcceptSeconds: ptrF(3), CallsHandled: 1, TalkSeconds: 50,
				RatingCount: 1, RatingSum: 1, RatingMean: ptrF(1), Complaints: 1}},
			total: PersonFigures{LegsOffered: 1, LegsAccepted: 1, MedianAcceptSeconds: ptrF(3), CallsHandled: 1,
				TalkSeconds: 50, RatingCount: 1, RatingSum: 1, RatingMean: ptrF(1), Complaints: 1},
		},
		{
			name:   "a month without calls",
			filter: ReportFilter{Month: Month{2026, time.September}},
			people: []PersonFigures{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := s.MonthlyReport(testCtx(t), tc.filter)
			require.NoError(t, err)
			// calls.direction exists (migration 7) and every call here is
			// inbound: nobody made a callback.
			noCallbacks := func(p PersonFigures) PersonFigures {
				if p.CallbacksMade == nil {
					p.CallbacksMade = new(int)
				}
				return p
			}
			people := make([]PersonFigures, 0, len(tc.people))
			for _, p := range tc.people {
				people = append(people, noCallbacks(p))
			}
			require.Equal(t, people, rep.People)
			require.Equal(t, noCallbacks(tc.total), rep.Total)
			require.Equal(t, tc.region, rep.RegionName)
			require.True(t, rep.TransfersRecorded, "call_legs.reason (migration 9)")
			require.True(t, rep.CallbacksRecorded, "calls.direction (migration 7)")
			from, to := tc.filter.Month.Range()
			require.Equal(t, from, rep.From)
			require.Equal(t, to, rep.To)
			for _, p := range rep.People {
				require.Equal(t, p.LegsOffered, p.LegsAccepted+p.LegsMissed+p.LegsNoConfirm+p.LegsUnreached+p.LegsCancelled,
					"%s: offered = the sum of the leg buckets", p.Staff)
			}
		})
	}
}

// TestMonthlyReportAgreesWithRows checks the report against plain counts of
// the rows over the same window, on the sample of TestMonthlyReport: the
// report's totals are the table's own totals.
func TestMonthlyReportAgreesWithRows(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	seedReportDirectory(t, db)
	seedReportCalls(t, db)
	ctx := testCtx(t)
	for _, m := range []Month{{2026, time.October}, {2026, time.November}, {2026, time.December}} {
		rep, err := New(db).MonthlyReport(ctx, ReportFilter{Month: m})
		require.NoError(t, err)
		from, to := m.Range()
		inMonth := "FROM call_legs l JOIN calls c ON c.id = l.call_id WHERE c.started_at >= $1 AND c.started_at < $2 AND l.staff_code <> ''"
		require.Equal(t, countRows(t, db, "SELECT count(*) "+inMonth, from, to), rep.Total.LegsOffered, m)
		require.Equal(t, countRows(t, db, "SELECT count(*) "+inMonth+" AND l.result = 'answered'", from, to), rep.Total.LegsAccepted, m)
		require.Equal(t, countRows(t, db, "SELECT count(*) FROM calls WHERE started_at >= $1 AND started_at < $2 AND outcome = 'answered'", from, to),
			rep.Total.CallsHandled, m)
		var talk float64
		require.NoError(t, db.GetContext(ctx, &talk, "SELECT coalesce(sum(talk_seconds), 0) FROM calls WHERE started_at >= $1 AND started_at < $2", from, to))
		require.InDelta(t, talk, rep.Total.TalkSeconds, 1e-9, m)
		sum := PersonFigures{}
		for _, p := range rep.People {
			sum.LegsOffered += p.LegsOffered
			sum.CallsHandled += p.CallsHandled
			sum.RatingCount += p.RatingCount
			sum.Complaints += p.Complaints
		}
		require.Equal(t, rep.Total.LegsOffered, sum.LegsOffered, m)
		require.Equal(t, rep.Total.CallsHandled, sum.CallsHandled, m)
		require.Equal(t, rep.Total.RatingCount, sum.RatingCount, m)
		require.Equal(t, rep.Total.Complaints, sum.Complaints, m)
	}
}

func TestMonthlyReportRegion(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	seedReportDirectory(t, db)
	c := reportCall("old-region", "OLD", vn(11, 3, 9, 0, 0), "KTV01", 5*time.Second,
		leg("KTV01", tech, vn(11, 3, 9, 0, 1), LegAnswered, time.Second, 2*time.Second))
	writeCalls(t, db, c)
	s := New(db)
	ctx := testCtx(t)

	_, err := s.MonthlyReport(ctx, ReportFilter{Month: Month{2026, time.November}, Region: "XX"})
	require.ErrorIs(t, err, ErrUnknownRegion)
	require.ErrorContains(t, err, `region "XX"`)
	require.ErrorContains(t, err, "known: MB, MN")
	_, err = s.MonthlyReport(ctx, ReportFilter{Month: Month{2026, time.November}, Region: "mn"})
	require.ErrorIs(t, err, ErrUnknownRegion, "codes are exact")

	// A region gone from the directory but on calls is still reported.
	rep, err := s.MonthlyReport(ctx, ReportFilter{Month: Month{2026, time.November}, Region: "OLD"})
	require.NoError(t, err)
	require.Empty(t, rep.RegionName)
	require.Len(t, rep.People, 1)
	require.Equal(t, 1, rep.People[0].CallsHandled)
}

// TestMonthlyReportTransfersAndCallbacks counts transfers from the legs'
// reason (call_legs.reason, written by WriteCall from LegRecord.Reason), and
// callbacks once calls has a direction: it adds the column the way a
// migration would when this schema has none yet.
func TestMonthlyReportTransfersAndCallbacks(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	seedReportDirectory(t, db)
	ctx := testCtx(t)

	xfer := func(l LegRecord) LegRecord {
		l.Reason = LegReasonTransfer
		return l
	}
	tr := vn(11, 12, 14, 0, 0)
	// KTV01 took the call and passed it on: KTV02 did not answer, AM01
	// accepted and passed it to OP01, who accepted.
	transferred := reportCall("transferred", "MN", tr, "OP01", 90*time.Second,
		leg("KTV01", tech, tr.Add(time.Second), LegAnswered, time.Second, 3*time.Second),
		xfer(leg("KTV02", tech, tr.Add(30*time.Second), LegNoAnswer, none, none)),
		xfer(leg("AM01", am, tr.Add(60*time.Second), LegAnswered, time.Second, 4*time.Second)),
		xfer(leg("OP01", op, tr.Add(120*time.Second), LegAnswered, time.Second, 6*time.Second)))
	cb := vn(11, 13, 9, 0, 0)
	callback := reportCall("callback", "MN", cb, "KTV02", 40*time.Second,
		leg("KTV02", tech, cb.Add(time.Second), LegAnswered, time.Second, 2*time.Second))
	inbound := reportCall("inbound", "MN", cb.Add(time.Hour), "KTV02", 20*time.Second,
		leg("KTV02", tech, cb.Add(time.Hour+time.Second), LegAnswered, time.Second, 2*time.Second))
	writeCalls(t, db, transferred, callback, inbound)
	require.Equal(t, 3, countRows(t, db, "SELECT count(*) FROM call_legs WHERE call_id = 'transferred' AND reason = 'transfer'"))
	require.Equal(t, 3, countRows(t, db, "SELECT count(*) FROM call_legs WHERE reason = ''"))
	_, err := db.ExecContext(ctx, `UPDATE call_legs SET reason = 'callback' WHERE call_id = 'transferred'`)
	require.ErrorContains(t, err, "call_legs_reason_check", "the database knows the reasons too")

	type xfers struct{ given, received int }
	transfersOf := func(rep MonthlyReport) map[string]xfers {
		got := map[string]xfers{}
		for _, p := range append(rep.People, rep.Total) {
			got[p.Staff] = xfers{p.TransfersGiven, p.TransfersReceived}
		}
		return got
	}
	wantTransfers := map[string]xfers{
		"KTV01": {given: 1},              // to AM01
		"KTV02": {},                      // a transfer leg not accepted is received by nobody
		"AM01":  {given: 1, received: 1}, // from KTV01, to OP01
		"OP01":  {received: 1},           // from AM01
		"":      {given: 2, received: 2}, // the total
	}

	s := New(db)
	nov := ReportFilter{Month: Month{2026, time.November}}
	before, err := s.MonthlyReport(ctx, nov)
	require.NoError(t, err)
	require.True(t, before.TransfersRecorded, "call_legs.reason (migration 9)")
	require.Equal(t, wantTransfers, transfersOf(before))
	if !before.CallbacksRecorded {
		for _, p := range append(before.People, before.Total) {
			require.Nil(t, p.CallbacksMade, "%s: unknown, not 0", p.Staff)
		}
	}

	_, err = db.ExecContext(ctx, `
ALTER TABLE calls ADD COLUMN IF NOT EXISTS direction text;
UPDATE calls SET direction = 'inbound';
UPDATE calls SET direction = 'callback' WHERE id = 'callback';
-- The callback feature's leg to the café itself (role cafe): nobody's leg,
-- even if it carried a code.
ALTER TABLE call_legs DROP CONSTRAINT IF EXISTS call_legs_role_check;
INSERT INTO call_legs (call_id, seq, staff_code, role, number, ring_at, answered_at, accepted_at, ended_at, result)
	SELECT 'callback', 2, 'KG001', 'cafe', '+84945550201', ring_at, answered_at, accepted_at, ended_at, 'answered'
	FROM call_legs WHERE call_id = 'callback' AND seq = 1`)
	require.NoError(t, err)
	after, err := s.MonthlyReport(ctx, nov)
	require.NoError(t, err)
	require.True(t, after.TransfersRecorded)
	require.True(t, after.CallbacksRecorded)
	require.Equal(t, wantTransfers, transfersOf(after))
	callbacks := map[string]int{}
	for _, p := range append(after.People, after.Total) {
		require.NotNil(t, p.CallbacksMade, p.Staff)
		callbacks[p.Staff] = *p.CallbacksMade
	}
	require.Equal(t, map[string]int{"KTV01": 0, "KTV02": 1, "AM01": 0, "OP01": 0, "": 1}, callbacks)
	require.Equal(t, 6, after.Total.LegsOffered, "4 + 1 + 1: the café's leg is not counted")
}
