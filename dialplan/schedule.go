package dialplan

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Asia/Ho_Chi_Minh even on hosts without system tzdata
)

// ErrBadSchedule is wrapped by every ParseSchedule error.
var ErrBadSchedule = errors.New("bad schedule")

// hcm is Vietnam's time zone. time/tzdata makes LoadLocation succeed without
// system zone files; the fixed +07:00 fallback is exact anyway for any date
// since 1975 (Vietnam has no daylight saving time).
var hcm = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Ho_Chi_Minh"); err == nil {
		return loc
	}
	return time.FixedZone("ICT", 7*3600)
}()

// Location returns Asia/Ho_Chi_Minh, the zone of every schedule and holiday.
func Location() *time.Location { return hcm }

// Schedule text forms.
const (
	scheduleAlways = "24/7"
	scheduleNever  = "never"
)

// weekOrder lists the days Monday first, the order schedules are written in.
var weekOrder = [7]time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

var dayNames = map[string]time.Weekday{
	"mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday,
	"fri": time.Friday, "sat": time.Saturday, "sun": time.Sunday,
	"monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday, "thursday": time.Thursday,
	"friday": time.Friday, "saturday": time.Saturday, "sunday": time.Sunday,
	"tues": time.Tuesday, "thur": time.Thursday, "thurs": time.Thursday,
}

// ParseSchedule parses working hours in Asia/Ho_Chi_Minh.
//
// "" and "24/7" mean Always (holidays included); "never" means no hours at
// all. Otherwise the text is clauses separated by ';', each a set of days and
// a set of time windows: "Mon-Sat 07:00-22:00; Sun 08:00-12:00",
// "Mon,Wed,Fri 08:00-12:00,13:30-17:30". Days are Mon…Sun (or full English
// names, any case); a range may wrap ("Fri-Mon"). Times are H:MM or HH:MM, the
// end may be 24:00. A window whose end is before its start runs overnight and
// is split at midnight: "Mon-Fri 22:00-06:00" is Mon–Fri 22:00–24:00 plus
// Tue–Sat 00:00–06:00. Overlapping and touching windows of a day are merged.
func ParseSchedule(s string) (Schedule, error) {
	text := strings.TrimSpace(s)
	switch strings.ToLower(text) {
	case "", scheduleAlways:
		return Schedule{Always: true}, nil
	case scheduleNever:
		return Schedule{}, nil
	}
	var days [7][]Window // indexed by time.Weekday
	for i, clause := range strings.Split(text, ";") {
		clause = strings.TrimSpace(clause)
		fail := func(format string, args ...any) (Schedule, error) {
			return Schedule{}, fmt.Errorf("%w %q: clause %d %q: %s", ErrBadSchedule, s, i+1, clause, fmt.Sprintf(format, args...))
		}
		if clause == "" {
			if i == 0 || i < strings.Count(text, ";") {
				return fail("empty clause")
			}
			continue // a trailing ';'
		}
		cut := strings.IndexAny(clause, "0123456789")
		if cut < 0 {
			return fail("no time window (want e.g. \"Mon-Fri 08:00-17:00\")")
		}
		dayPart := strings.ReplaceAll(strings.TrimSpace(clause[:cut]), " ", "")
		timePart := strings.ReplaceAll(clause[cut:], " ", "")
		if dayPart == "" {
			return fail("no days before the time (want e.g. \"Mon-Fri 08:00-17:00\")")
		}
		set, err := parseDays(dayPart)
		if err != nil {
			return fail("%v", err)
		}
		for _, rng := range strings.Split(timePart, ",") {
			start, end, err := parseRange(rng)
			if err != nil {
				return fail("%v", err)
			}
			for d := range 7 {
				if !set[d] {
					continue
				}
				if start < end {
					days[d] = append(days[d], Window{Day: time.Weekday(d), Start: start, End: end})
					continue
				}
				days[d] = append(days[d], Window{Day: time.Weekday(d), Start: start, End: 24 * 60})
				if end > 0 {
					next := (d + 1) % 7
					days[next] = append(days[next], Window{Day: time.Weekday(next), Start: 0, End: end})
				}
			}
		}
	}
	var out Schedule
	for _, d := range weekOrder {
		out.Windows = append(out.Windows, mergeWindows(days[d])...)
	}
	return out, nil
}

func parseDays(s string) ([7]bool, error) {
	var set [7]bool
	for item := range strings.SplitSeq(s, ",") {
		if item == "" {
			return set, errors.New("empty day in list")
		}
		from, to, isRange := strings.Cut(item, "-")
		a, ok := dayNames[strings.ToLower(from)]
		if !ok {
			return set, fmt.Errorf("unknown day %q (want Mon, Tue, Wed, Thu, Fri, Sat or Sun)", from)
		}
		b := a
		if isRange {
			if b, ok = dayNames[strings.ToLower(to)]; !ok {
				return set, fmt.Errorf("unknown day %q (want Mon, Tue, Wed, Thu, Fri, Sat or Sun)", to)
			}
		}
		for d := a; ; d = (d + 1) % 7 {
			set[d] = true
			if d == b {
				break
			}
		}
	}
	return set, nil
}

func parseRange(s string) (start, end int, err error) {
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("time window %q is not START-END (e.g. 08:00-17:00)", s)
	}
	if start, err = parseClock(from); err != nil {
		return 0, 0, err
	}
	if start == 24*60 {
		return 0, 0, fmt.Errorf("time window %q starts at 24:00 (use 00:00)", s)
	}
	if end, err = parseClock(to); err != nil {
		return 0, 0, err
	}
	if start == end {
		return 0, 0, fmt.Errorf("time window %q is empty (start equals end)", s)
	}
	return start, end, nil
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 || !allDigits(h) || !allDigits(m) {
		return 0, fmt.Errorf("time %q is not HH:MM", s)
	}
	hh, _ := strconv.Atoi(h)
	mm, _ := strconv.Atoi(m)
	switch {
	case hh == 24 && mm == 0:
	case hh > 23:
		return 0, fmt.Errorf("time %q: hour must be 00..23 (or 24:00 as an end)", s)
	case mm > 59:
		return 0, fmt.Errorf("time %q: minute must be 00..59", s)
	}
	return hh*60 + mm, nil
}

// mergeWindows sorts one day's windows and merges overlapping or touching ones.
func mergeWindows(ws []Window) []Window {
	if len(ws) == 0 {
		return nil
	}
	slices.SortFunc(ws, func(a, b Window) int { return a.Start - b.Start })
	out := ws[:1]
	for _, w := range ws[1:] {
		last := &out[len(out)-1]
		if w.Start <= last.End {
			last.End = max(last.End, w.End)
			continue
		}
		out = append(out, w)
	}
	return out
}

// String renders the schedule in the canonical form ParseSchedule reads back to
// an equal Schedule: "24/7", "never", or clauses grouping the days whose
// windows are identical, Monday first ("Mon-Fri 08:00-17:00; Sat 08:00-12:00").
func (s Schedule) String() string {
	if s.Always {
		return scheduleAlways
	}
	if len(s.Windows) == 0 {
		return scheduleNever
	}
	var perDay [7]string // by time.Weekday
	for _, d := range weekOrder {
		var ws []Window
		for _, w := range s.Windows {
			if w.Day == d {
				ws = append(ws, w)
			}
		}
		ws = mergeWindows(ws)
		parts := make([]string, len(ws))
		for i, w := range ws {
			parts[i] = clock(w.Start) + "-" + clock(w.End)
		}
		perDay[d] = strings.Join(parts, ",")
	}
	var clauses []string
	done := [7]bool{}
	for i, d := range weekOrder {
		if done[d] || perDay[d] == "" {
			continue
		}
		// All days (Monday first) with the same windows, as runs.
		var runs []string
		for j := i; j < 7; {
			if perDay[weekOrder[j]] != perDay[d] {
				j++
				continue
			}
			k := j
			for k+1 < 7 && perDay[weekOrder[k+1]] == perDay[d] {
				k++
			}
			for x := j; x <= k; x++ {
				done[weekOrder[x]] = true
			}
			run := weekOrder[j].String()[:3]
			if k > j {
				run += "-" + weekOrder[k].String()[:3]
			}
			runs = append(runs, run)
			j = k + 1
		}
		clauses = append(clauses, strings.Join(runs, ",")+" "+perDay[d])
	}
	return strings.Join(clauses, "; ")
}

func clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// OpenAt reports whether t falls inside the schedule's weekly windows, with t
// taken in Asia/Ho_Chi_Minh whatever its own location. Holidays are not
// considered here (see Directory.DayOffAt); Always is open at any time.
func (s Schedule) OpenAt(t time.Time) bool {
	if s.Always {
		return true
	}
	local := t.In(hcm)
	day := local.Weekday()
	m := local.Hour()*60 + local.Minute()
	for _, w := range s.Windows {
		if w.Day == day && w.Start <= m && m < w.End {
			return true
		}
	}
	return false
}
