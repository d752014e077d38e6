package store

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// decomposed is "Nguyễn Thị Hường" with every diacritic as a combining mark
// (NFD), as some spreadsheets export it.
const decomposed = "Nguye\u0302\u0303n Thi\u0323 Hu\u031bo\u031b\u0300ng"

func writeSample() MonthlyReport {
	m := Month{2026, time.November}
	from, to := m.Range()
	return MonthlyReport{
		Month: m, From: from, To: to, Region: "MN", RegionName: "Miền Nam",
		People: []PersonFigures{
			{Staff: "AM01", Name: "Quản lý Lê Thị Hồng", Role: "area_manager", LegsOffered: 1, LegsMissed: 1},
			{Staff: "KTV01", Name: "Nguyễn Văn A", Role: "technician", LegsOffered: 12, LegsAccepted: 9, LegsMissed: 2,
				LegsNoConfirm: 1, MedianAcceptSeconds: ptrF(7.25), CallsHandled: 9, TalkSeconds: 3723.5,
				RatingCount: 3, RatingSum: 13, RatingMean: ptrF(13.0 / 3), Complaints: 1},
			{Staff: "KTV02", Name: decomposed, Role: "technician", LegsOffered: 3, LegsAccepted: 1, LegsCancelled: 2,
				MedianAcceptSeconds: ptrF(12), CallsHandled: 1, TalkSeconds: 59.4},
		},
		Total: PersonFigures{LegsOffered: 16, LegsAccepted: 10, LegsMissed: 3, LegsNoConfirm: 1, LegsCancelled: 2,
			MedianAcceptSeconds: ptrF(8), CallsHandled: 10, TalkSeconds: 3782.9, RatingCount: 3, RatingSum: 13,
			RatingMean: ptrF(13.0 / 3), Complaints: 1},
	}
}

func TestReportText(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	require.NoError(t, writeSample().WriteText(&b))
	want := "" +
		"Monthly report 2026-11, region MN (Miền Nam): calls started from 2026-11-01 00:00 to 2026-12-01 00:00 (Asia/Ho_Chi_Minh)\n" +
		"\n" +
		"STAFF  NAME                 ROLE          OFFERED  ACCEPTED  MISSED  NO 1  UNREACHED  CANCELLED  MEDIAN ACCEPT  CALLS     TALK  RATING  RATINGS  COMPLAINTS  XFER GIVEN  XFER RECV  CALLBACKS\n" +
		"AM01   Quản lý Lê Thị Hồng  area_manager        1         0       1     0          0          0              —      0  0:00:00       —        0           0           0          0          —\n" +
		"KTV01  Nguyễn Văn A         technician         12         9       2     1          0          0           7.3s      9  1:02:04    4.33        3           1           0          0          —\n" +
		"KTV02  " + decomposed + "     technician          3         1       0     0          0          2          12.0s      1  0:00:59       —        0           0           0          0          —\n" +
		"TOTAL                                          16        10       3     1          0          2           8.0s     10  1:03:03    4.33        3           1           0          0          —\n" +
		"\n" +
		"XFER GIVEN/RECV: this database records no leg reason yet (call_legs.reason): shown as 0.\n" +
		"CALLBACKS: this database records no call direction yet (calls.direction): not counted (—).\n"
	require.Equal(t, want, b.String())

	// Every line of the table is as wide on screen, the decomposed name
	// included, and each column starts at the same place.
	lines := strings.Split(b.String(), "\n")[2:7]
	col := DisplayWidth(lines[0][:strings.Index(lines[0], "ROLE")])
	for _, l := range lines {
		require.Equal(t, DisplayWidth(lines[0]), DisplayWidth(l), l)
		for _, role := range []string{"technician", "area_manager"} {
			if i := strings.Index(l, role); i >= 0 {
				require.Equal(t, col, DisplayWidth(l[:i]), "ROLE column of %q", l)
			}
		}
	}
}

func TestReportTextEmptyAndRecorded(t *testing.T) {
	t.Parallel()
	m := Month{2026, time.February}
	from, to := m.Range()
	var b bytes.Buffer
	require.NoError(t, MonthlyReport{Month: m, From: from, To: to, TransfersRecorded: true, CallbacksRecorded: true,
		Total: PersonFigures{CallbacksMade: ptrI(0)}}.WriteText(&b))
	require.Equal(t, ""+
		"Monthly report 2026-02: calls started from 2026-02-01 00:00 to 2026-03-01 00:00 (Asia/Ho_Chi_Minh)\n"+
		"\n"+
		"STAFF  NAME  ROLE  OFFERED  ACCEPTED  MISSED  NO 1  UNREACHED  CANCELLED  MEDIAN ACCEPT  CALLS     TALK  RATING  RATINGS  COMPLAINTS  XFER GIVEN  XFER RECV  CALLBACKS\n"+
		"TOTAL                    0         0       0     0          0          0              —      0  0:00:00       —        0           0           0          0          0\n"+
		"(no calls)\n", b.String())
}

func TestReportCSV(t *testing.T) {
	t.Parallel()
	rep := writeSample()
	rep.People[1].Name = `Nguyễn "Tí", Văn A` // quoted as CSV quotes
	var b bytes.Buffer
	require.NoError(t, rep.WriteCSV(&b))
	require.Equal(t, ""+
		"month,region,staff_code,name,role,legs_offered,legs_accepted,legs_missed,legs_answered_no_confirm,legs_unreached,legs_cancelled,"+
		"median_accept_seconds,calls_handled,talk_seconds,rating_mean,rating_count,complaints,transfers_given,transfers_received,callbacks_made\n"+
		"2026-11,MN,AM01,Quản lý Lê Thị Hồng,area_manager,1,0,1,0,0,0,,0,0,,0,0,0,0,\n"+
		`2026-11,MN,KTV01,"Nguyễn ""Tí"", Văn A",technician,12,9,2,1,0,0,7.3,9,3724,4.33,3,1,0,0,`+"\n"+
		"2026-11,MN,KTV02,"+decomposed+",technician,3,1,0,0,0,2,12.0,1,59,,0,0,0,0,\n", b.String())
	recs, err := csv.NewReader(&b).ReadAll()
	require.NoError(t, err)
	for _, r := range recs {
		require.Len(t, r, len(ReportCSVColumns))
	}

	rep.CallbacksRecorded = true
	rep.People = rep.People[:1]
	rep.People[0].CallbacksMade = ptrI(4)
	b.Reset()
	require.NoError(t, rep.WriteCSV(&b))
	require.True(t, strings.HasSuffix(b.String(), ",0,0,0,4\n"), b.String())
}

func TestReportRounding(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		got, want string
	}{
		{FormatMedian(ptrF(7.25)), "7.3"},
		{FormatMedian(ptrF(7.249)), "7.2"},
		{FormatMedian(ptrF(0)), "0.0"},
		{FormatMedian(nil), ""},
		{FormatMean(ptrF(13.0 / 3)), "4.33"},
		{FormatMean(nil), ""},
		{FormatCount(nil), ""},
		{FormatCount(ptrI(0)), "0"},
		{FormatClock(0), "0:00:00"},
		{FormatClock(3724), "1:02:04"},
		{FormatClock(403389), "112:03:09"},
	} {
		require.Equal(t, tc.want, tc.got)
	}
	require.Equal(t, int64(3724), RoundTalk(3723.5))
	require.Equal(t, int64(59), RoundTalk(59.4))
	require.Equal(t, 16, DisplayWidth(decomposed))
	require.Equal(t, 16, DisplayWidth("Nguyễn Thị Hường"))
}
