package app

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/internal/board/boardtest"
	"github.com/csm-vn/hotline/internal/config"
	"github.com/csm-vn/hotline/store"
)

// seedMonth writes calls of November 2026 (and one just after) into the
// sample directory's database.
func seedMonth(t *testing.T, dbURL string) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlx.Connect("postgres", dbURL)
	require.NoError(t, err)
	defer db.Close()
	vn := func(mo time.Month, d, h, mi int) time.Time { return time.Date(2026, mo, d, h, mi, 0, 0, store.Vietnam) }
	leg := func(staff string, role dialplan.Role, ring time.Time, res store.LegResult, accept time.Duration) store.LegRecord {
		l := store.LegRecord{Staff: staff, Role: role, Number: "+84945550101", RingAt: ring, EndedAt: ring.Add(time.Minute), Result: res}
		if res == store.LegAnswered {
			l.AnsweredAt, l.AcceptedAt = ring.Add(time.Second), ring.Add(accept)
		}
		return l
	}
	answered := func(id, region string, start time.Time, by string, talk time.Duration, legs ...store.LegRecord) store.CallRecord {
		return store.CallRecord{ID: id, Region: region, StartedAt: start, EndedAt: start.Add(10 * time.Minute),
			Outcome: store.OutcomeAnswered, AcceptedBy: by, AcceptedAt: start.Add(30 * time.Second), Talk: talk, Legs: legs}
	}
	a, b, c, d := vn(11, 3, 9, 0), vn(11, 14, 15, 30), vn(11, 30, 23, 59), vn(12, 1, 0, 0)
	recs := []store.CallRecord{
		answered("a", "MN", a, "KTV01", 95400*time.Millisecond,
			leg("KTV01", dialplan.RoleTechnician, a, store.LegBusy, 0),
			leg("KTV01", dialplan.RoleTechnician, a.Add(5*time.Second), store.LegAnswered, 7*time.Second)),
		answered("b", "MB", b, "OP01", 61*time.Second,
			leg("KTV11", dialplan.RoleTechnician, b, store.LegNoAnswer, 0),
			leg("AM02", dialplan.RoleAreaManager, b.Add(25*time.Second), store.LegAnsweredUnconfirmed, 0),
			leg("OP01", dialplan.RoleOperator, b.Add(40*time.Second), store.LegAnswered, 4*time.Second)),
		answered("c", "MN", c, "KTV01", 30*time.Second,
			leg("KTV01", dialplan.RoleTechnician, c.Add(10*time.Second), store.LegAnswered, 60*time.Second)),
		answered("d", "MN", d, "KTV02", 30*time.Second,
			leg("KTV02", dialplan.RoleTechnician, d, store.LegAnswered, 3*time.Second)),
	}
	recs[0].Rating = &store.Rating{Score: 4, Staff: "KTV01"}
	recs[2].Rating = &store.Rating{Score: 5, Complaint: true, Staff: "KTV01"}
	recs[1].Rating = &store.Rating{Complaint: true, Staff: "OP01"}
	for _, rec := range recs {
		_, err := store.WriteCall(ctx, db, &rec)
		require.NoError(t, err)
	}
}

// jsonCell writes a JSON value the way the CSV writes it.
func jsonCell(col string, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		switch col {
		case "median_accept_seconds":
			return strconv.FormatFloat(x, 'f', 1, 64)
		case "rating_mean":
			return strconv.FormatFloat(x, 'f', 2, 64)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return "?"
}

// TestBoardReportMatchesCommand: the board's /report (JSON and in
// Chromium) shows exactly the numbers `hotline report --csv` prints, for
// every region filter.
func TestBoardReportMatchesCommand(t *testing.T) {
	h := startHarness(t, nil)
	seedMonth(t, h.dbURL)
	cfg := config.Default()
	cfg.Database.URL = h.dbURL
	nov := store.Month{Year: 2026, Month: time.November}

	for _, region := range []string{"", "MN", "MB"} {
		var out bytes.Buffer
		require.NoError(t, Report(ctxFor(t, 30*time.Second), cfg, ReportOptions{Month: nov, Region: region, CSV: true}, &out))
		rows, err := csv.NewReader(&out).ReadAll()
		require.NoError(t, err)
		header, rows := rows[0], rows[1:]
		require.Equal(t, store.ReportCSVColumns, header)
		require.NotEmpty(t, rows, "region %q", region)

		code, body := h.get("/report?month=2026-11&format=json&region=" + region)
		require.Equal(t, http.StatusOK, code, body)
		var page struct {
			Month  string           `json:"month"`
			Region string           `json:"region"`
			People []map[string]any `json:"people"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &page))
		require.Equal(t, "2026-11", page.Month)
		require.Len(t, page.People, len(rows), "region %q", region)
		for i, row := range rows {
			for j, col := range header {
				switch col {
				case "month":
					require.Equal(t, page.Month, row[j])
				case "region":
					require.Equal(t, page.Region, row[j])
				default:
					require.Equal(t, row[j], jsonCell(col, page.People[i][col]), "region %q, %s, %s", region, row[2], col)
				}
			}
		}
	}

	// The figures by hand for KTV01 in the south: legs a busy, a accepted
	// (7 s), c accepted (60 s, after midnight: still November); talk 95.4 +
	// 30 s; ratings 4 and 5, one complaint.
	code, body := h.get("/report?month=2026-11&region=MN&format=json")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"staff_code": "KTV01"`)
	boardtest.Chromium(t)
	dom, err := boardtest.Browser{Width: 1280, Height: 900}.DumpDOM(ctxFor(t, 60*time.Second), h.base+"/report?month=2026-11&region=MN")
	require.NoError(t, err)
	require.Contains(t, dom, `<tr id="person-KTV01"><th scope="row" class="who"><b class="name">KTV Nguyễn Văn A</b>`)
	require.Contains(t, dom, `<td data-label="Lượt đổ chuông" class="offered">3</td>`)
	require.Contains(t, dom, `<td data-label="Thời gian nhận (trung vị)" class="median">33,5 s</td>`)
	require.Contains(t, dom, `<td data-label="Thời gian nói chuyện" class="talk">0:02:05</td>`)
	require.Contains(t, dom, `<td data-label="Điểm TB" class="mean">4,50</td>`)
	dom, err = boardtest.DumpDOM(ctxFor(t, 60*time.Second), h.base+"/")
	require.NoError(t, err)
	require.Contains(t, dom, `<a href="report" id="to-report">Báo cáo tháng</a>`)
}
