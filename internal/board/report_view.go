package board

import (
	"cmp"
	"html/template"
	"strconv"
	"strings"
	"time"
)

// reportPage is what assets/report.html renders: every string ready to print.
type reportPage struct {
	CSS         template.CSS
	Title       string // "Báo cáo tháng 11/2026"
	Month       string // "11/2026"
	RegionLabel string // "Miền Nam (MN)", "Tất cả các vùng"
	Range       string // "01/11/2026 00:00 – 01/12/2026 00:00"
	InProgress  bool   // the month has not ended yet
	Generated   string // "14:32 25/11/2026"
	Prev, Next  link
	ThisMonth   string // URL of the current month (all regions)
	Regions     []link
	People      []reportRowView
	Total       reportRowView
	NoTransfers bool
	NoCallbacks bool
	Error       string
}

type link struct {
	Label   string
	URL     string
	Current bool
}

type reportRowView struct {
	Staff, Name, Role                                          string
	Offered, Accepted, Missed, NoConfirm, Unreached, Cancelled int
	Median                                                     string // "7,5 s", "—"
	Calls                                                      int
	Talk                                                       string // "1:02:04"
	Mean                                                       string // "4,50", "—"
	Ratings, Complaints, TransfersGiven, TransfersReceived     int
	Callbacks                                                  string // "3", "—"
}

func buildReportPage(q ReportQuery, r Report, now time.Time) reportPage {
	from, to := q.Range()
	month := twoDigits(int(q.Month)) + "/" + strconv.Itoa(q.Year)
	p := reportPage{
		Title:       "Báo cáo tháng " + month,
		Month:       month,
		RegionLabel: "Tất cả các vùng",
		Range:       from.Format("02/01/2006 15:04") + " – " + to.Format("02/01/2006 15:04"),
		InProgress:  now.Before(to) && !now.Before(from),
		Generated:   now.In(Zone).Format("15:04 02/01/2006"),
		NoTransfers: !r.TransfersRecorded,
		NoCallbacks: !r.CallbacksRecorded,
	}
	if q.Region != "" {
		p.RegionLabel = q.Region
		if r.RegionName != "" {
			p.RegionLabel = r.RegionName + " (" + q.Region + ")"
		}
	}
	prev, next := from.AddDate(0, -1, 0), to
	p.Prev = link{Label: "‹ " + prev.Format("01/2006"), URL: reportURL(ReportQuery{Year: prev.Year(), Month: prev.Month(), Region: q.Region})}
	p.Next = link{Label: next.Format("01/2006") + " ›", URL: reportURL(ReportQuery{Year: next.Year(), Month: next.Month(), Region: q.Region})}
	n := now.In(Zone)
	p.ThisMonth = reportURL(ReportQuery{Year: n.Year(), Month: n.Month()})

	all := q
	all.Region = ""
	p.Regions = append(p.Regions, link{Label: "Tất cả", URL: reportURL(all), Current: q.Region == ""})
	for _, rg := range r.Regions {
		rq := q
		rq.Region = rg.Code
		p.Regions = append(p.Regions, link{Label: cmp.Or(rg.Name, rg.Code), URL: reportURL(rq), Current: q.Region == rg.Code})
	}
	for _, row := range r.People {
		p.People = append(p.People, rowView(row))
	}
	p.Total = rowView(r.Total)
	p.Total.Name = "Tổng cộng"
	return p
}

func rowView(r ReportRow) reportRowView {
	v := reportRowView{
		Staff: r.Staff, Name: cmp.Or(r.Name, r.Staff), Role: roleText(r.Role),
		Offered: r.LegsOffered, Accepted: r.LegsAccepted, Missed: r.LegsMissed, NoConfirm: r.LegsNoConfirm,
		Unreached: r.LegsUnreached, Cancelled: r.LegsCancelled,
		Median: "—", Calls: r.CallsHandled, Talk: clockHMS(r.TalkSeconds), Mean: "—",
		Ratings: r.RatingCount, Complaints: r.Complaints,
		TransfersGiven: r.TransfersGiven, TransfersReceived: r.TransfersReceived, Callbacks: "—",
	}
	if r.MedianAcceptSeconds != nil {
		v.Median = decimalComma(*r.MedianAcceptSeconds, 1) + " s"
	}
	if r.RatingMean != nil {
		v.Mean = decimalComma(*r.RatingMean, 2)
	}
	if r.CallbacksMade != nil {
		v.Callbacks = strconv.Itoa(*r.CallbacksMade)
	}
	return v
}

// decimalComma formats f with prec decimals and a decimal comma, as
// Vietnamese writes numbers ("4,50").
func decimalComma(f float64, prec int) string {
	return strings.Replace(strconv.FormatFloat(f, 'f', prec, 64), ".", ",", 1)
}

// clockHMS is whole seconds as h:mm:ss ("0:05:11").
func clockHMS(s int64) string {
	if s < 0 {
		s = 0
	}
	return strconv.FormatInt(s/3600, 10) + ":" + twoDigits(int(s/60%60)) + ":" + twoDigits(int(s%60))
}
