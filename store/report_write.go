package store

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// ReportCSVColumns are the columns of `hotline report --csv`, in order. They
// are a contract (documented in README.md): add at the end, never rename.
var ReportCSVColumns = []string{
	"month", "region", "staff_code", "name", "role",
	"legs_offered", "legs_accepted", "legs_missed", "legs_answered_no_confirm", "legs_unreached", "legs_cancelled",
	"median_accept_seconds", "calls_handled", "talk_seconds", "rating_mean", "rating_count", "complaints",
	"transfers_given", "transfers_received", "callbacks_made",
}

// Rounding shared by every output of the report (CSV, text, the board), so
// they all show the same numbers.

// RoundTalk is the talk time in whole seconds (half away from zero).
func RoundTalk(seconds float64) int64 { return int64(math.Round(seconds)) }

// RoundMedian is the median time to accept rounded to a tenth of a second;
// nil stays nil.
func RoundMedian(seconds *float64) *float64 {
	if seconds == nil {
		return nil
	}
	v := math.Round(*seconds*10) / 10
	return &v
}

// RoundMean is the mean rating rounded to two decimals; nil stays nil.
func RoundMean(mean *float64) *float64 {
	if mean == nil {
		return nil
	}
	v := math.Round(*mean*100) / 100
	return &v
}

// FormatMedian is RoundMedian with one decimal ("7.5"), "" when there is
// none.
func FormatMedian(seconds *float64) string {
	if seconds == nil {
		return ""
	}
	return strconv.FormatFloat(*RoundMedian(seconds), 'f', 1, 64)
}

// FormatMean is RoundMean with two decimals ("4.50"), "" when there is
// none.
func FormatMean(mean *float64) string {
	if mean == nil {
		return ""
	}
	return strconv.FormatFloat(*RoundMean(mean), 'f', 2, 64)
}

// FormatCount is n, or "" for nil (a figure the database does not record).
func FormatCount(n *int) string {
	if n == nil {
		return ""
	}
	return strconv.Itoa(*n)
}

// FormatClock is a duration in seconds as h:mm:ss ("0:05:11", "112:03:09").
func FormatClock(seconds int64) string {
	return fmt.Sprintf("%d:%02d:%02d", seconds/3600, seconds/60%60, seconds%60)
}

// WriteCSV writes the report as CSV: a header of ReportCSVColumns, then one
// row per person ordered by staff code (no total row). Empty cells: no
// median (no accepted leg), no mean (no rating), callbacks not recorded.
func (r MonthlyReport) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(ReportCSVColumns); err != nil {
		return fmt.Errorf("report csv: %w", err)
	}
	for _, p := range r.People {
		rec := []string{
			r.Month.String(), r.Region, p.Staff, p.Name, p.Role,
			strconv.Itoa(p.LegsOffered), strconv.Itoa(p.LegsAccepted), strconv.Itoa(p.LegsMissed),
			strconv.Itoa(p.LegsNoConfirm), strconv.Itoa(p.LegsUnreached), strconv.Itoa(p.LegsCancelled),
			FormatMedian(p.MedianAcceptSeconds), strconv.Itoa(p.CallsHandled),
			strconv.FormatInt(RoundTalk(p.TalkSeconds), 10), FormatMean(p.RatingMean), strconv.Itoa(p.RatingCount),
			strconv.Itoa(p.Complaints), strconv.Itoa(p.TransfersGiven), strconv.Itoa(p.TransfersReceived),
			FormatCount(p.CallbacksMade),
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("report csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report csv: %w", err)
	}
	return nil
}

// textColumns are the text table's headings; the first three are left
// aligned, the numbers right aligned.
var textColumns = []string{"STAFF", "NAME", "ROLE", "OFFERED", "ACCEPTED", "MISSED", "NO 1", "UNREACHED", "CANCELLED",
	"MEDIAN ACCEPT", "CALLS", "TALK", "RATING", "RATINGS", "COMPLAINTS", "XFER GIVEN", "XFER RECV", "CALLBACKS"}

const textLeftColumns = 3

func textRow(p PersonFigures) []string {
	median := FormatMedian(p.MedianAcceptSeconds)
	if median != "" {
		median += "s"
	}
	return []string{
		p.Staff, p.Name, p.Role,
		strconv.Itoa(p.LegsOffered), strconv.Itoa(p.LegsAccepted), strconv.Itoa(p.LegsMissed),
		strconv.Itoa(p.LegsNoConfirm), strconv.Itoa(p.LegsUnreached), strconv.Itoa(p.LegsCancelled),
		dash(median), strconv.Itoa(p.CallsHandled), FormatClock(RoundTalk(p.TalkSeconds)),
		dash(FormatMean(p.RatingMean)), strconv.Itoa(p.RatingCount), strconv.Itoa(p.Complaints),
		strconv.Itoa(p.TransfersGiven), strconv.Itoa(p.TransfersReceived), dash(FormatCount(p.CallbacksMade)),
	}
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// WriteText writes the report as an aligned table for a terminal: a title
// line, the table (one row per person, then TOTAL) and notes on what the
// database does not record yet. Columns are aligned by what a terminal
// shows (runes, combining marks taking no column), so Vietnamese names line
// up whether they are stored composed or decomposed.
func (r MonthlyReport) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Monthly report %s", r.Month)
	if r.Region != "" {
		fmt.Fprintf(&b, ", region %s", r.Region)
		if r.RegionName != "" {
			fmt.Fprintf(&b, " (%s)", r.RegionName)
		}
	}
	fmt.Fprintf(&b, ": calls started from %s to %s (Asia/Ho_Chi_Minh)\n\n",
		r.From.In(Vietnam).Format("2006-01-02 15:04"), r.To.In(Vietnam).Format("2006-01-02 15:04"))

	rows := [][]string{textColumns}
	for _, p := range r.People {
		rows = append(rows, textRow(p))
	}
	total := textRow(r.Total)
	total[0], total[1], total[2] = "TOTAL", "", ""
	rows = append(rows, total)
	widths := make([]int, len(textColumns))
	for _, row := range rows {
		for i, cell := range row {
			widths[i] = max(widths[i], DisplayWidth(cell))
		}
	}
	for _, row := range rows {
		var line strings.Builder
		for i, cell := range row {
			if i > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[i]-DisplayWidth(cell))
			if i < textLeftColumns {
				line.WriteString(cell + pad)
			} else {
				line.WriteString(pad + cell)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	if len(r.People) == 0 {
		b.WriteString("(no calls)\n")
	}
	var notes []string
	if !r.TransfersRecorded {
		notes = append(notes, "XFER GIVEN/RECV: this database records no leg reason yet (call_legs.reason): shown as 0.")
	}
	if !r.CallbacksRecorded {
		notes = append(notes, "CALLBACKS: this database records no call direction yet (calls.direction): not counted (—).")
	}
	if len(notes) > 0 {
		b.WriteString("\n" + strings.Join(notes, "\n") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// DisplayWidth is how many terminal columns s takes: one per rune, none for
// combining marks and format characters (a decomposed "ễ" is three runes,
// one column).
func DisplayWidth(s string) int {
	n := 0
	for _, r := range s {
		if unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf) {
			continue
		}
		n++
	}
	return n
}
