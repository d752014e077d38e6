package dialplan

import (
	"fmt"
	"slices"
	"time"
)

// TetRule says how many days around lunar 1/1 the computed Tết holiday covers.
type TetRule struct {
	DaysBefore int // days before lunar 1/1 (2 = the last two days of the lunar year)
	DaysAfter  int // days after lunar 1/1 (2 = through lunar 1/3, "mùng 3")
}

// DefaultTet is the Tết holiday when none is configured: the five days the
// Labour Code gives (Bộ luật Lao động 2019, art. 112(1)(b)) placed as the
// Prime Minister's yearly decisions have placed them in recent years: the
// last two days of the lunar year and lunar 1/1–1/3 (Tết 2023: 20–24
// January; 2024: 8–12 February; 2025: 27–31 January), with the days that
// fall on a weekly rest day taken afterwards (compensation, DayOffAt). It is
// also one of the placements the Ministry of Labour lets private employers
// choose (one, two or three days before lunar 1/1). The exact days are each
// year's decision (art. 112(3)); a directory enters a different placement, or
// extra days, in its holiday list (HolidayAt).
var DefaultTet = TetRule{DaysBefore: 2, DaysAfter: 2}

// Names of the computed public holidays (art. 112(1)).
const (
	nameNewYear   = "Tết Dương lịch"
	nameTet       = "Tết Nguyên Đán"
	nameHungKings = "Giỗ Tổ Hùng Vương"
	nameVictory   = "Ngày Giải phóng miền Nam"
	nameLabour    = "Quốc tế Lao động"
	nameNational  = "Quốc khánh"
)

// civilDate is a calendar date as yyyymmdd.
type civilDate int

// dateOf is t's calendar date in Asia/Ho_Chi_Minh.
func dateOf(t time.Time) civilDate {
	y, m, d := t.In(hcm).Date()
	return civilDate(y*10000 + int(m)*100 + d)
}

// midnight is the date at midnight Asia/Ho_Chi_Minh.
func (c civilDate) midnight() time.Time {
	return time.Date(int(c)/10000, time.Month(int(c)/100%100), int(c)%100, 0, 0, 0, 0, hcm)
}

// PublicHolidays returns the Vietnamese public holidays of the Labour Code
// (Bộ luật Lao động 2019, art. 112(1)) computed for Gregorian year y, in date
// order, each at midnight Asia/Ho_Chi_Minh:
//
//   - 1/1 Tết Dương lịch (New Year's Day);
//   - Tết Nguyên Đán: lunar 1/1 with tet.DaysBefore days before and
//     tet.DaysAfter days after (DefaultTet: five days);
//   - Giỗ Tổ Hùng Vương: lunar 10/3;
//   - 30/4 Ngày Giải phóng miền Nam (Reunification Day);
//   - 1/5 Quốc tế Lao động (Labour Day);
//   - Quốc khánh (National Day): 2/9 and 3/9.
//
// The Prime Minister fixes each year which days Tết covers and whether
// National Day's second day is 1/9 or 3/9 (art. 112(3)); these are the
// defaults. A Directory follows a decision entered in its holiday list (see
// Directory.HolidayAt).
func PublicHolidays(y int, tet TetRule) []Holiday {
	day := func(m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, hcm) }
	hs := []Holiday{
		{Date: day(time.January, 1), Name: nameNewYear},
		{Date: day(time.April, 30), Name: nameVictory},
		{Date: day(time.May, 1), Name: nameLabour},
		{Date: day(time.September, 2), Name: nameNational},
		{Date: day(time.September, 3), Name: nameNational},
	}
	t := TetDate(y)
	for i := -tet.DaysBefore; i <= tet.DaysAfter; i++ {
		hs = append(hs, Holiday{Date: t.AddDate(0, 0, i), Name: nameTet})
	}
	if g, err := LunarToSolar(10, 3, y, false); err == nil {
		hs = append(hs, Holiday{Date: g, Name: nameHungKings})
	}
	slices.SortStableFunc(hs, func(a, b Holiday) int { return a.Date.Compare(b.Date) })
	return hs
}

// publicYear is a year's public holidays as this directory applies them.
type publicYear struct {
	names map[civilDate]string
	days  []civilDate // the keys of names, in order
}

// publicHolidays returns the public holidays of year y by date, cached per
// directory (they depend on its Tết rule and its list): PublicHolidays, with
// the yearly decisions the list records.
//
//   - A nationwide list entry on lunar 1/1 of y means the list gives that
//     year's Tết: no Tết day is computed for y.
//   - A nationwide list entry on 1/9 of y means National Day's second day is
//     1/9 that year, not 3/9.
func (d *Directory) publicHolidays(y int) *publicYear {
	if v, ok := d.public.Load(y); ok {
		return v.(*publicYear)
	}
	tetListed := d.nationwide(dateOf(TetDate(y)))
	sep1 := civilDate(y*10000 + 901)
	sep3 := civilDate(y*10000 + 903)
	before := d.nationwide(sep1)
	py := &publicYear{names: map[civilDate]string{}}
	for _, h := range PublicHolidays(y, d.tet) {
		day := dateOf(h.Date)
		switch {
		case h.Name == nameTet && tetListed:
			continue
		case day == sep3 && before:
			day = sep1
		}
		if _, dup := py.names[day]; !dup {
			py.names[day] = h.Name
			py.days = append(py.days, day)
		}
	}
	slices.Sort(py.days)
	v, _ := d.public.LoadOrStore(y, py)
	return v.(*publicYear)
}

// nationwide reports whether the list holds a nationwide entry on day.
func (d *Directory) nationwide(day civilDate) bool {
	return slices.ContainsFunc(d.holidays[day], func(h Holiday) bool { return h.Region == "" })
}

// publicHolidayOn returns the public holiday on day, "" if none.
func (d *Directory) publicHolidayOn(day civilDate) string {
	if d.noPublic {
		return ""
	}
	y := int(day) / 10000
	// A wide Tết window of year y+1 could start in late year y.
	for _, yy := range [2]int{y, y + 1} {
		if name, ok := d.publicHolidays(yy).names[day]; ok {
			return name
		}
	}
	return ""
}

// weekdaySet is a set of days of the week, bit i for time.Weekday(i).
type weekdaySet uint8

const allWeek weekdaySet = 1<<7 - 1

func (s weekdaySet) has(d time.Weekday) bool { return s&(1<<d) != 0 }

// restDays returns the weekly rest days of hours: the days of the week with
// no working window at all. 24/7 hours have none.
func restDays(hours Schedule) weekdaySet {
	if hours.Always {
		return 0
	}
	rest := allWeek
	for _, w := range hours.Windows {
		rest &^= 1 << w.Day
	}
	return rest
}

// compensation returns the compensatory days off of year y for people whose
// weekly rest days are rest, by date, with their explanation; cached per
// directory. Labour Code art. 111(3): a public holiday (art. 112(1)) that
// falls on a weekly rest day is taken on the next working day. The public
// holidays are taken in date order; each moves to the first later day that
// is a working day of the person, not a public holiday and not already
// another holiday's compensatory day. People with no rest day, or no working
// day, have none. Days of the list are not public holidays here: they are
// days off as entered, and a compensatory day falling on one stays there.
func (d *Directory) compensation(y int, rest weekdaySet) map[civilDate]string {
	if d.noPublic || rest == 0 || rest == allWeek {
		return nil
	}
	key := y*128 + int(rest)
	if v, ok := d.comp.Load(key); ok {
		return v.(map[civilDate]string)
	}
	py := d.publicHolidays(y)
	m := map[civilDate]string{}
	for _, day := range py.days {
		t := day.midnight()
		if !rest.has(t.Weekday()) {
			continue
		}
		for c := t.AddDate(0, 0, 1); ; c = c.AddDate(0, 0, 1) {
			cd := dateOf(c)
			if rest.has(c.Weekday()) || d.publicHolidayOn(cd) != "" || m[cd] != "" {
				continue
			}
			m[cd] = fmt.Sprintf("nghỉ bù: %s fell on %s %s, a weekly rest day", py.names[day], t.Weekday().String()[:3], t.Format(time.DateOnly))
			break
		}
	}
	v, _ := d.comp.LoadOrStore(key, m)
	return v.(map[civilDate]string)
}

// HolidayAt returns the name of the holiday on t's date (Asia/Ho_Chi_Minh)
// that applies to a person working in the given regions: a computed public
// holiday (unless turned off), or an entry of the directory's list that is
// nationwide or for one of those regions.
//
// The list also records the government's yearly decisions (Labour Code
// art. 112(3)). A nationwide entry on lunar 1/1 makes the list give that
// year's Tết: the computed Tết days are dropped and every day off of that Tết
// must be in the list. A nationwide entry on 1/9 makes 1/9, not 3/9, National
// Day's second day that year. Any other entry adds a day off.
func (d *Directory) HolidayAt(t time.Time, regions ...string) (string, bool) {
	day := dateOf(t)
	if name := d.publicHolidayOn(day); name != "" {
		return name, true
	}
	return listHoliday(d.holidays[day], regions)
}

// listHoliday returns the first of a day's list entries that is nationwide or
// for one of regions.
func listHoliday(hs []Holiday, regions []string) (string, bool) {
	for _, h := range hs {
		if h.Region == "" || slices.Contains(regions, h.Region) {
			return h.Name, true
		}
	}
	return "", false
}

// DayOffAt reports whether a person with the given hours, working in the
// given regions, has t's date (Asia/Ho_Chi_Minh) off, and why. People with
// 24/7 hours work every day, holidays included. Everyone else is off on the
// holidays of HolidayAt, and, when their hours leave weekly rest days (days
// with no window), on the compensatory day of each public holiday that falls
// on one of those rest days: the next working day of theirs (Labour Code
// art. 111(3), "nghỉ bù"). Plan skips people on such days with SkipHoliday
// and this reason as the detail.
func (d *Directory) DayOffAt(t time.Time, hours Schedule, regions ...string) (string, bool) {
	if hours.Always {
		return "", false
	}
	day := dateOf(t)
	return d.dayOff(day, d.publicHolidayOn(day), d.holidays[day], restDays(hours), regions)
}

// dayOff is DayOffAt with the day's lookups done by the caller.
func (d *Directory) dayOff(day civilDate, public string, list []Holiday, rest weekdaySet, regions []string) (string, bool) {
	if public != "" {
		return public, true
	}
	if name, ok := listHoliday(list, regions); ok {
		return name, true
	}
	if name, ok := d.compensation(int(day)/10000, rest)[day]; ok {
		return name, true
	}
	return "", false
}
