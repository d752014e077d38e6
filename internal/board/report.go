package board

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"
)

// The monthly report page, /report?month=YYYY-MM[&region=CODE]: one row per
// person (legs offered, accepted, missed, …) for a month in
// Asia/Ho_Chi_Minh. The figures come from a ReportSource; the app's is the
// same store query as `hotline report`, so both show the same numbers.

// ReportTimeout bounds one ReportSource.Report call (or Options.Timeout when
// longer): a month of calls takes longer to add up than the live board.
const ReportTimeout = 20 * time.Second

// ReportSource produces the monthly report. It is called once per /report
// request, with a bounded context (ReportTimeout).
type ReportSource interface {
	Report(ctx context.Context, q ReportQuery) (Report, error)
}

// ReportSourceFunc adapts a function to a ReportSource.
type ReportSourceFunc func(ctx context.Context, q ReportQuery) (Report, error)

// Report calls f.
func (f ReportSourceFunc) Report(ctx context.Context, q ReportQuery) (Report, error) {
	return f(ctx, q)
}

// ErrUnknownRegion is returned (wrapped) by a ReportSource for a region it
// does not know: the page answers 404.
var ErrUnknownRegion = errors.New("unknown region")

// ReportQuery is what /report asks for.
type ReportQuery struct {
	Year  int
	Month time.Month
	// Region is a region code; "" for every region.
	Region string
}

// Range is the month's first instant and the next month's, midnight in
// Asia/Ho_Chi_Minh.
func (q ReportQuery) Range() (from, to time.Time) {
	from = time.Date(q.Year, q.Month, 1, 0, 0, 0, 0, Zone)
	return from, from.AddDate(0, 1, 0)
}

// Report is one month's figures per person, as the page shows them.
type Report struct {
	// Regions are the regions to offer as filters, in display order.
	Regions []ReportRegion `json:"-"`
	// RegionName names the region asked for ("" for all regions or when
	// unknown).
	RegionName string `json:"region_name"`
	// People, in the order to show them; Total sums them up (its median and
	// mean are over everyone's legs and ratings).
	People []ReportRow `json:"people"`
	Total  ReportRow   `json:"total"`
	// TransfersRecorded / CallbacksRecorded: whether the database records
	// transfers and callbacks yet (when not, transfers show 0 and callbacks
	// "—").
	TransfersRecorded bool `json:"transfers_recorded"`
	CallbacksRecorded bool `json:"callbacks_recorded"`
}

// ReportRegion is a region to filter on.
type ReportRegion struct {
	Code, Name string
}

// ReportRow is one person's figures (or the total), already rounded as
// every output of the report rounds them: TalkSeconds to the second,
// MedianAcceptSeconds to 0.1 s, RatingMean to 0.01. The JSON names are the
// CSV columns of `hotline report --csv`.
type ReportRow struct {
	Staff               string   `json:"staff_code"`
	Name                string   `json:"name"`
	Role                string   `json:"role"`
	LegsOffered         int      `json:"legs_offered"`
	LegsAccepted        int      `json:"legs_accepted"`
	LegsMissed          int      `json:"legs_missed"`
	LegsNoConfirm       int      `json:"legs_answered_no_confirm"`
	LegsUnreached       int      `json:"legs_unreached"`
	LegsCancelled       int      `json:"legs_cancelled"`
	MedianAcceptSeconds *float64 `json:"median_accept_seconds"` // nil: no accepted leg
	CallsHandled        int      `json:"calls_handled"`
	TalkSeconds         int64    `json:"talk_seconds"`
	RatingMean          *float64 `json:"rating_mean"` // nil: no rating
	RatingCount         int      `json:"rating_count"`
	Complaints          int      `json:"complaints"`
	TransfersGiven      int      `json:"transfers_given"`
	TransfersReceived   int      `json:"transfers_received"`
	CallbacksMade       *int     `json:"callbacks_made"` // nil: not recorded
}

//go:embed assets/report.html assets/report.css
var reportAssets embed.FS

var (
	reportTemplate = template.Must(template.ParseFS(reportAssets, "assets/report.html"))
	// reportCSS is the board's style sheet followed by the report's.
	reportCSS = css + "\n" + mustReadFS(reportAssets, "assets/report.css")
	reportCSP = "default-src 'none'; style-src 'sha256-" + hashCSS(reportCSS) + "'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

var monthParam = regexp.MustCompile(`^([0-9]{4})-(0[1-9]|1[0-2])$`)

// parseReportQuery reads ?month=YYYY-MM (default: the month of now in
// Asia/Ho_Chi_Minh) and ?region=.
func parseReportQuery(r *http.Request, now time.Time) (ReportQuery, bool) {
	q := r.URL.Query()
	rq := ReportQuery{Region: q.Get("region")}
	m := q.Get("month")
	if m == "" {
		t := now.In(Zone)
		rq.Year, rq.Month = t.Year(), t.Month()
		return rq, true
	}
	sm := monthParam.FindStringSubmatch(m)
	if sm == nil {
		return rq, false
	}
	y, _ := strconv.Atoi(sm[1])
	mo, _ := strconv.Atoi(sm[2])
	rq.Year, rq.Month = y, time.Month(mo)
	return rq, true
}

// serveReport answers /report once access is granted.
func (h *handler) serveReport(w http.ResponseWriter, r *http.Request, asJSON bool) {
	if h.opts.Report == nil {
		http.NotFound(w, r)
		return
	}
	q, ok := parseReportQuery(r, h.opts.Now())
	if !ok {
		h.reportError(w, r, asJSON, http.StatusBadRequest, "bad month: give month=YYYY-MM, e.g. 2026-11",
			"Tháng không hợp lệ: cần dạng month=YYYY-MM, ví dụ 2026-11.")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), max(h.opts.Timeout, ReportTimeout))
	rep, err := h.opts.Report.Report(ctx, q)
	cancel()
	switch {
	case errors.Is(err, ErrUnknownRegion):
		h.reportError(w, r, asJSON, http.StatusNotFound, "unknown region", "Không có vùng "+q.Region+".")
		return
	case err != nil:
		h.log.Warn("monthly report failed", "month", monthText(q), "region", q.Region, "err", err)
		h.reportError(w, r, asJSON, http.StatusServiceUnavailable, "report data unavailable",
			"Không lấy được dữ liệu báo cáo. Hãy thử lại sau.")
		return
	}
	if asJSON {
		h.serveReportJSON(w, r, q, rep)
		return
	}
	h.writeReportPage(w, r, http.StatusOK, buildReportPage(q, rep, h.opts.Now()))
}

// jsonReport is the body of /report?format=json.
type jsonReport struct {
	Month  string    `json:"month"`
	Region string    `json:"region"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Report
}

func (h *handler) serveReportJSON(w http.ResponseWriter, r *http.Request, q ReportQuery, rep Report) {
	from, to := q.Range()
	if rep.People == nil {
		rep.People = []ReportRow{}
	}
	b, err := json.MarshalIndent(jsonReport{Month: monthText(q), Region: q.Region, From: from, To: to, Report: rep}, "", "  ")
	if err != nil {
		h.log.Error("report json", "err", err)
		http.Error(w, "report rendering failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(append(b, '\n'))
	}
}

func (h *handler) reportError(w http.ResponseWriter, r *http.Request, asJSON bool, status int, en, vi string) {
	if asJSON {
		b, _ := json.Marshal(map[string]string{"error": en})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(append(b, '\n'))
		return
	}
	now := h.opts.Now().In(Zone)
	p := reportPage{Title: "Báo cáo tháng", Error: vi, ThisMonth: reportURL(ReportQuery{Year: now.Year(), Month: now.Month()})}
	h.writeReportPage(w, r, status, p)
}

func (h *handler) writeReportPage(w http.ResponseWriter, r *http.Request, status int, p reportPage) {
	p.CSS = template.CSS(reportCSS)
	var buf bytes.Buffer
	if err := reportTemplate.Execute(&buf, p); err != nil {
		h.log.Error("report template", "err", err)
		http.Error(w, "report rendering failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", reportCSP)
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// monthText is "2026-11".
func monthText(q ReportQuery) string {
	return strconv.Itoa(q.Year) + "-" + twoDigits(int(q.Month))
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// reportURL is the page's own link for q: report?month=…[&region=…],
// relative so that it works wherever the board is mounted.
func reportURL(q ReportQuery) string {
	v := url.Values{"month": {monthText(q)}}
	if q.Region != "" {
		v.Set("region", q.Region)
	}
	return "report?" + v.Encode()
}
