package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/store"
)

func vnTime(y int, mo time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, mo, d, h, mi, s, 0, store.Vietnam)
}

// seedReport writes four calls into the sample database: two in November
// 2026 (one at 23:59 on the 30th, Vietnam time) and one on each side of it.
func seedReport(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlx.Connect("postgres", os.Getenv("HOTLINE_DATABASE_URL"))
	require.NoError(t, err)
	defer db.Close()
	legAt := func(staff string, role dialplan.Role, ring time.Time, res store.LegResult, accept time.Duration) store.LegRecord {
		l := store.LegRecord{Staff: staff, Role: role, Number: "+84945550101", RingAt: ring, EndedAt: ring.Add(time.Minute), Result: res}
		if res == store.LegAnswered || res == store.LegAnsweredUnconfirmed {
			l.AnsweredAt = ring.Add(time.Second)
		}
		if res == store.LegAnswered {
			l.AcceptedAt = ring.Add(accept)
		}
		return l
	}
	last := vnTime(2026, time.November, 30, 23, 59, 0)
	mb := vnTime(2026, time.November, 10, 9, 0, 0)
	dec := vnTime(2026, time.December, 1, 0, 0, 0)
	oct := vnTime(2026, time.October, 31, 23, 59, 59)
	for _, rec := range []store.CallRecord{
		{ID: "last", Region: "MN", StartedAt: last, EndedAt: last.Add(3 * time.Minute), Outcome: store.OutcomeAnswered,
			AcceptedBy: "KTV01", AcceptedAt: last.Add(8 * time.Second), Talk: 125400 * time.Millisecond,
			Legs:   []store.LegRecord{legAt("KTV01", dialplan.RoleTechnician, last.Add(2*time.Second), store.LegAnswered, 6*time.Second)},
			Rating: &store.Rating{Score: 4, Staff: "KTV01"}},
		{ID: "mb", Region: "MB", StartedAt: mb, EndedAt: mb.Add(3 * time.Minute), Outcome: store.OutcomeAnswered,
			AcceptedBy: "OP01", AcceptedAt: mb.Add(time.Minute), Talk: 60 * time.Second,
			Legs: []store.LegRecord{
				legAt("KTV11", dialplan.RoleTechnician, mb.Add(time.Second), store.LegBusy, 0),
				legAt("AM02", dialplan.RoleAreaManager, mb.Add(5*time.Second), store.LegAnsweredUnconfirmed, 0),
				legAt("OP01", dialplan.RoleOperator, mb.Add(30*time.Second), store.LegAnswered, 8*time.Second),
			},
			Rating: &store.Rating{Complaint: true, Staff: "OP01"}},
		{ID: "dec", Region: "MN", StartedAt: dec, EndedAt: dec.Add(time.Minute), Outcome: store.OutcomeNoAnswer,
			Legs: []store.LegRecord{legAt("KTV01", dialplan.RoleTechnician, dec, store.LegNoAnswer, 0)}},
		{ID: "oct", Region: "MN", StartedAt: oct, EndedAt: oct.Add(time.Minute), Outcome: store.OutcomeAnswered,
			AcceptedBy: "KTV02", AcceptedAt: oct.Add(5 * time.Second), Talk: 30 * time.Second,
			Legs: []store.LegRecord{legAt("KTV02", dialplan.RoleTechnician, oct, store.LegAnswered, 5*time.Second)}},
	} {
		_, err := store.WriteCall(ctx, db, &rec)
		require.NoError(t, err)
	}
}

func TestReport(t *testing.T) {
	sampleDB(t)
	seedReport(t)

	code, out, errs := hotline(t, "report", "--month", "2026-11", "--csv")
	require.Equal(t, exitOK, code, errs)
	require.Equal(t, ""+
		"month,region,staff_code,name,role,legs_offered,legs_accepted,legs_missed,legs_answered_no_confirm,legs_unreached,legs_cancelled,"+
		"median_accept_seconds,calls_handled,talk_seconds,rating_mean,rating_count,complaints,transfers_given,transfers_received,callbacks_made\n"+
		"2026-11,,AM02,Đỗ Thu Hằng,area_manager,1,0,0,1,0,0,,0,0,,0,0,0,0,0\n"+
		"2026-11,,KTV01,KTV Nguyễn Văn A,technician,1,1,0,0,0,0,6.0,1,125,4.00,1,0,0,0,0\n"+
		"2026-11,,KTV11,KTV Phạm Minh Đức,technician,1,0,1,0,0,0,,0,0,,0,0,0,0,0\n"+
		"2026-11,,OP01,Tổng đài viên Mai,operator,1,1,0,0,0,0,8.0,1,60,,0,1,0,0,0\n", out)

	code, out, errs = hotline(t, "report", "--region", "MN", "--month", "2026-11", "--csv")
	require.Equal(t, exitOK, code, errs)
	require.Equal(t, 2, strings.Count(out, "\n"), out)
	require.Contains(t, out, "\n2026-11,MN,KTV01,KTV Nguyễn Văn A,technician,1,1,0,0,0,0,6.0,1,125,4.00,1,0,0,0,0\n")

	code, out, errs = hotline(t, "report", "--month", "2026-11")
	require.Equal(t, exitOK, code, errs)
	lines := strings.Split(out, "\n")
	require.Equal(t, "Monthly report 2026-11: calls started from 2026-11-01 00:00 to 2026-12-01 00:00 (Asia/Ho_Chi_Minh)", lines[0])
	require.Equal(t, []string{
		"STAFF  NAME               ROLE          OFFERED  ACCEPTED  MISSED  NO 1  UNREACHED  CANCELLED  MEDIAN ACCEPT  CALLS     TALK  RATING  RATINGS  COMPLAINTS  XFER GIVEN  XFER RECV  CALLBACKS",
		"AM02   Đỗ Thu Hằng        area_manager        1         0       0     1          0          0              —      0  0:00:00       —        0           0           0          0          0",
		"KTV01  KTV Nguyễn Văn A   technician          1         1       0     0          0          0           6.0s      1  0:02:05    4.00        1           0           0          0          0",
		"KTV11  KTV Phạm Minh Đức  technician          1         0       1     0          0          0              —      0  0:00:00       —        0           0           0          0          0",
		"OP01   Tổng đài viên Mai  operator            1         1       0     0          0          0           8.0s      1  0:01:00       —        0           1           0          0          0",
		"TOTAL                                         4         2       1     1          0          0           7.0s      2  0:03:05    4.00        1           1           0          0          0",
	}, lines[2:8])
	require.NotContains(t, out, "CALLBACKS: this database records no call direction yet", "calls.direction exists (migration 7)")

	// December holds only the call of 1 December 00:00.
	code, out, errs = hotline(t, "report", "--month", "2026-12", "--csv")
	require.Equal(t, exitOK, code, errs)
	require.Equal(t, 2, strings.Count(out, "\n"), out)
	require.Contains(t, out, "\n2026-12,,KTV01,KTV Nguyễn Văn A,technician,1,0,1,0,0,0,,0,0,,0,0,0,0,0\n")
}

func TestReportBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"month out of range", []string{"--month", "2026-13"}, `--month: "2026-13" is not a month like 2026-11 (YYYY-MM)`},
		{"month with a day", []string{"--month", "2026-11-01"}, `--month: "2026-11-01" is not a month like 2026-11`},
		{"month in another form", []string{"--month", "11/2026"}, `--month: "11/2026" is not a month like 2026-11`},
		{"no month", []string{"--csv"}, "missing --month: hotline report --month YYYY-MM"},
		{"extra argument", []string{"--month", "2026-11", "MN"}, `unexpected arguments ["MN"]`},
		{"unknown flag", []string{"--month", "2026-11", "--json"}, "flag provided but not defined: -json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// No database is needed to refuse these.
			t.Setenv("HOTLINE_DATABASE_URL", "postgres://127.0.0.1:1/none")
			code, out, errs := hotline(t, append([]string{"report"}, tc.args...)...)
			require.Equal(t, exitUsage, code, errs)
			require.Contains(t, errs, tc.want)
			require.Empty(t, out)
		})
	}

	sampleDB(t)
	code, out, errs := hotline(t, "report", "--month", "2026-11", "--region", "XX")
	require.Equal(t, exitUsage, code, errs)
	require.Contains(t, errs, `hotline report: bad input: --region: region "XX": unknown region (known: MB, MN)`)
	require.Empty(t, out)
}
