package board

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fptr(f float64) *float64 { return &f }

// reportFixture is November 2026 in the south: three people and a total.
func reportFixture() Report {
	return Report{
		Regions:    []ReportRegion{{"MB", "Miền Bắc"}, {"MN", "Miền Nam"}},
		RegionName: "Miền Nam",
		People: []ReportRow{
			{Staff: "AM01", Name: "Võ Thanh Hải", Role: RoleAreaManager, LegsOffered: 4, LegsMissed: 3, LegsNoConfirm: 1},
			{Staff: "KTV01", Name: "KTV Nguyễn Văn A", Role: RoleTechnician, LegsOffered: 31, LegsAccepted: 24,
				LegsMissed: 4, LegsNoConfirm: 1, LegsUnreached: 1, LegsCancelled: 1, MedianAcceptSeconds: fptr(7.5),
				CallsHandled: 24, TalkSeconds: 7384, RatingMean: fptr(4.25), RatingCount: 12, Complaints: 2},
			{Staff: "OP01", Name: "Tổng đài viên Mai", Role: RoleOperator, LegsOffered: 6, LegsAccepted: 6,
				MedianAcceptSeconds: fptr(5), CallsHandled: 6, TalkSeconds: 59, RatingMean: fptr(5), RatingCount: 1},
		},
		Total: ReportRow{LegsOffered: 41, LegsAccepted: 30, LegsMissed: 7, LegsNoConfirm: 2, LegsUnreached: 1,
			LegsCancelled: 1, MedianAcceptSeconds: fptr(7), CallsHandled: 30, TalkSeconds: 7443, RatingMean: fptr(4.31),
			RatingCount: 13, Complaints: 2},
	}
}

// reportRecorder serves rep and records the queries it was asked.
type reportRecorder struct {
	mu  sync.Mutex
	qs  []ReportQuery
	rep Report
	err error
}

func (s *reportRecorder) Report(_ context.Context, q ReportQuery) (Report, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.qs = append(s.qs, q)
	return s.rep, s.err
}

func (s *reportRecorder) queries() []ReportQuery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ReportQuery(nil), s.qs...)
}

func reportHandler(src ReportSource, o Options) http.Handler {
	o.Report = src
	if o.Now == nil {
		o.Now = func() time.Time { return testNow } // 25 November 2025
	}
	return Handler(static(fixture()), o)
}

func TestReportPage(t *testing.T) {
	t.Parallel()
	src := &reportRecorder{rep: reportFixture()}
	w := get(t, reportHandler(src, Options{}), "/report?month=2026-11&region=MN")
	require.Equal(t, http.StatusOK, w.Code)
	body := w.Body.String()
	require.Equal(t, []ReportQuery{{Year: 2026, Month: time.November, Region: "MN"}}, src.queries())

	assert.Equal(t, "Báo cáo tháng 11/2026 Monthly report", text(element(t, body, "report-h", "h1")))
	assert.Equal(t, "Miền Nam (MN) · cuộc gọi bắt đầu từ 01/11/2026 00:00 – 01/12/2026 00:00 (giờ Việt Nam) · lập lúc 14:32 25/11/2025",
		text(element(t, body, "report-scope", "p")))
	for id, want := range map[string]string{
		"person-AM01":  "Võ Thanh Hải AM01 Quản lý khu vực 4 0 3 1 0 0 — 0 0:00:00 — 0 0 0 0 —",
		"person-KTV01": "KTV Nguyễn Văn A KTV01 Kỹ thuật viên 31 24 4 1 1 1 7,5 s 24 2:03:04 4,25 12 2 0 0 —",
		"person-OP01":  "Tổng đài viên Mai OP01 Tổng đài viên 6 6 0 0 0 0 5,0 s 6 0:00:59 5,00 1 0 0 0 —",
		"report-total": "Tổng cộng 41 30 7 2 1 1 7,0 s 30 2:04:03 4,31 13 2 0 0 —",
	} {
		assert.Equal(t, want, text(element(t, body, id, "tr")), id)
	}
	assert.Contains(t, element(t, body, "person-KTV01", "tr"), `class="complaints bad"`, "complaints stand out")
	assert.Contains(t, element(t, body, "person-OP01", "tr"), `class="complaints"`)
	assert.Equal(t, "Cơ sở dữ liệu chưa ghi lại việc chuyển cuộc gọi: Chuyển đi và Nhận chuyển hiện là 0. "+
		"Cơ sở dữ liệu chưa ghi lại chiều cuộc gọi: Gọi lại chưa được đếm (—).", text(element(t, body, "report-notes", "ul")))

	// Month links keep the region; region links keep the month.
	assert.Contains(t, body, `<a href="report?month=2026-10&amp;region=MN" id="prev-month" rel="prev">‹ 10/2026</a>`)
	assert.Contains(t, body, `<a href="report?month=2026-12&amp;region=MN" id="next-month" rel="next">12/2026 ›</a>`)
	assert.Contains(t, body, `<a href="report?month=2026-11">Tất cả</a>`)
	assert.Contains(t, body, `<a href="report?month=2026-11&amp;region=MB">Miền Bắc</a>`)
	assert.Contains(t, body, `<a href="report?month=2026-11&amp;region=MN" aria-current="page">Miền Nam</a>`)
	assert.Contains(t, body, `<a href="./" id="to-board">`)
	assert.NotContains(t, body, "http-equiv=\"refresh\"", "a report does not refresh itself")
}

func TestReportPageRecordedAndEmpty(t *testing.T) {
	t.Parallel()
	three := 3
	rep := reportFixture()
	rep.TransfersRecorded, rep.CallbacksRecorded = true, true
	rep.People[1].TransfersGiven, rep.People[1].TransfersReceived, rep.People[1].CallbacksMade = 2, 1, &three
	w := get(t, reportHandler(&reportRecorder{rep: rep}, Options{}), "/report?month=2026-11")
	require.Equal(t, http.StatusOK, w.Code)
	body := w.Body.String()
	assert.Equal(t, "KTV Nguyễn Văn A KTV01 Kỹ thuật viên 31 24 4 1 1 1 7,5 s 24 2:03:04 4,25 12 2 2 1 3",
		text(element(t, body, "person-KTV01", "tr")))
	assert.NotContains(t, body, `id="report-notes"`)
	assert.Contains(t, body, `<a href="report?month=2026-11" aria-current="page">Tất cả</a>`)
	assert.Contains(t, text(element(t, body, "report-scope", "p")), "Tất cả các vùng ·")

	// The current month (the handler's clock) is the default, and says it
	// is not over.
	src := &reportRecorder{rep: Report{}}
	w = get(t, reportHandler(src, Options{}), "/report")
	require.Equal(t, http.StatusOK, w.Code)
	require.Equal(t, []ReportQuery{{Year: 2025, Month: time.November}}, src.queries())
	body = w.Body.String()
	assert.Equal(t, "Không có cuộc gọi nào trong tháng này.", text(element(t, body, "no-report", "p")))
	assert.NotContains(t, body, `<table`)
	assert.Contains(t, text(element(t, body, "report-scope", "p")), "tháng chưa kết thúc")
}

func TestReportBadQueries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, target string
		srcErr       error
		status       int
		page, json   string
	}{
		{"month out of range", "/report?month=2026-13", nil, 400, "Tháng không hợp lệ", "bad month: give month=YYYY-MM, e.g. 2026-11"},
		{"month with a day", "/report?month=2026-11-01", nil, 400, "Tháng không hợp lệ", "bad month: give month=YYYY-MM, e.g. 2026-11"},
		{"month as words", "/report?month=th%C3%A1ng+11", nil, 400, "Tháng không hợp lệ", "bad month: give month=YYYY-MM, e.g. 2026-11"},
		{"unknown region", "/report?month=2026-11&region=XX", fmt.Errorf("region %q: %w", "XX", ErrUnknownRegion), 404, "Không có vùng XX.", "unknown region"},
		{"database down", "/report?month=2026-11", errors.New(`dial tcp db.internal:5432: password authentication failed`), 503,
			"Không lấy được dữ liệu báo cáo", "report data unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			src := &reportRecorder{err: tc.srcErr}
			h := reportHandler(src, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			w := get(t, h, tc.target)
			require.Equal(t, tc.status, w.Code)
			body := w.Body.String()
			assert.Contains(t, text(element(t, body, "error", "p")), tc.page)
			assert.Contains(t, body, `<a href="report?month=2025-11">Báo cáo tháng này</a>`)
			assert.NotContains(t, body, "db.internal")
			if tc.status == 400 {
				assert.Empty(t, src.queries(), "a bad month never reaches the source")
			}
			j := get(t, h, tc.target+"&format=json")
			require.Equal(t, tc.status, j.Code)
			assert.JSONEq(t, fmt.Sprintf(`{"error":%q}`, tc.json), j.Body.String())
			if tc.status == 503 {
				assert.Contains(t, logs.String(), "db.internal", "the error is logged for the operator")
			}
		})
	}
}

func TestReportJSON(t *testing.T) {
	t.Parallel()
	h := reportHandler(&reportRecorder{rep: reportFixture()}, Options{})
	w := get(t, h, "/report?month=2026-11&region=MN&format=json")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
	var raw map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &raw))
	assert.Equal(t, "2026-11", raw["month"])
	assert.Equal(t, "MN", raw["region"])
	assert.Equal(t, "Miền Nam", raw["region_name"])
	assert.Equal(t, "2026-11-01T00:00:00+07:00", raw["from"])
	assert.Equal(t, "2026-12-01T00:00:00+07:00", raw["to"])
	assert.Equal(t, false, raw["transfers_recorded"])
	assert.NotContains(t, raw, "Regions")
	people := raw["people"].([]any)
	require.Len(t, people, 3)
	// The row's names are the CSV columns of hotline report --csv (minus
	// month and region, given once).
	assert.Equal(t, map[string]any{
		"staff_code": "KTV01", "name": "KTV Nguyễn Văn A", "role": "technician",
		"legs_offered": 31.0, "legs_accepted": 24.0, "legs_missed": 4.0, "legs_answered_no_confirm": 1.0,
		"legs_unreached": 1.0, "legs_cancelled": 1.0, "median_accept_seconds": 7.5, "calls_handled": 24.0,
		"talk_seconds": 7384.0, "rating_mean": 4.25, "rating_count": 12.0, "complaints": 2.0,
		"transfers_given": 0.0, "transfers_received": 0.0, "callbacks_made": nil,
	}, people[1])
	assert.Nil(t, people[0].(map[string]any)["median_accept_seconds"])
	assert.Equal(t, 41.0, raw["total"].(map[string]any)["legs_offered"])

	w = get(t, reportHandler(&reportRecorder{}, Options{}), "/report?month=2026-11&format=json")
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &raw))
	assert.Equal(t, []any{}, raw["people"], "[] rather than null")
}

func TestReportAccessAndHeaders(t *testing.T) {
	t.Parallel()
	src := &reportRecorder{rep: reportFixture()}
	h := reportHandler(src, Options{Token: testToken, RequireToken: true})

	w := get(t, h, "/report?month=2026-11")
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	w = get(t, h, "/report?month=2026-11&format=json")
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.JSONEq(t, `{"error":"unauthorized"}`, w.Body.String())
	assert.Empty(t, src.queries())

	// ?token= signs in and comes back to the same report without it.
	w = get(t, h, "/report?month=2026-11&region=MN&token="+testToken)
	require.Equal(t, http.StatusSeeOther, w.Code)
	assert.Equal(t, "/report?month=2026-11&region=MN", w.Header().Get("Location"))
	cookie := w.Result().Cookies()[0]
	w = get(t, h, "/report?month=2026-11&region=MN", func(r *http.Request) { r.AddCookie(cookie) })
	require.Equal(t, http.StatusOK, w.Code)
	w = get(t, h, "/report?format=json&month=2026-11", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+testToken) })
	require.Equal(t, http.StatusOK, w.Code)

	w = get(t, h, "/report?month=2026-11", func(r *http.Request) { r.AddCookie(cookie) })
	hd := w.Header()
	assert.Equal(t, "no-store", hd.Get("Cache-Control"))
	assert.Equal(t, "DENY", hd.Get("X-Frame-Options"))
	// The CSP allows exactly the page's own style sheet.
	csp := hd.Get("Content-Security-Policy")
	m := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(w.Body.String())
	require.NotNil(t, m)
	sum := sha256.Sum256([]byte(m[1]))
	assert.Contains(t, csp, "style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	assert.Contains(t, csp, "default-src 'none'")

	w = do(h, http.MethodHead, "/report?month=2026-11", cookie)
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Zero(t, w.Body.Len())
	w = do(h, http.MethodPost, "/report?month=2026-11", cookie)
	assert.Equal(t, http.StatusMethodNotAllowed, w.Code)
}

func TestReportLinkedFromBoard(t *testing.T) {
	t.Parallel()
	w := get(t, reportHandler(&reportRecorder{}, Options{}), "/")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), `<a href="report" id="to-report">Báo cáo tháng</a>`)

	// Without a report source there is neither a link nor a page.
	h := Handler(static(fixture()), Options{})
	assert.NotContains(t, get(t, h, "/").Body.String(), `id="to-report"`)
	assert.Equal(t, http.StatusNotFound, get(t, h, "/report?month=2026-11").Code)
}

func TestReportEscapes(t *testing.T) {
	t.Parallel()
	rep := Report{People: []ReportRow{{Staff: `X"><script>alert(1)</script>`, Name: `<img src=x onerror=alert(1)>`}}}
	w := get(t, reportHandler(&reportRecorder{rep: rep}, Options{}), "/report?month=2026-11&region=%3Cb%3E")
	body := w.Body.String()
	assert.NotContains(t, body, "<script>alert")
	assert.NotContains(t, body, "<img src=x")
	assert.Contains(t, body, "<b>&lt;b&gt;</b> · cuộc gọi", "the region asked for is shown as text")
	assert.Contains(t, body, "&lt;img src=x onerror=alert(1)&gt;")
}

// do runs one request with any method through h.
func do(h http.Handler, method, target string, c *http.Cookie) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	r.AddCookie(c)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestReportDeadline: a month takes longer to add up than the live board's
// snapshot, so the report gets ReportTimeout, not Options.Timeout.
func TestReportDeadline(t *testing.T) {
	t.Parallel()
	var left time.Duration
	src := ReportSourceFunc(func(ctx context.Context, _ ReportQuery) (Report, error) {
		d, ok := ctx.Deadline()
		require.True(t, ok, "the report runs with a deadline")
		left = time.Until(d)
		return Report{}, nil
	})
	w := get(t, reportHandler(src, Options{Timeout: 50 * time.Millisecond}), "/report?month=2026-11")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Greater(t, left, ReportTimeout-5*time.Second)
	assert.LessOrEqual(t, left, ReportTimeout)
}
