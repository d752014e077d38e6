package dialplan

import (
	"slices"
	"time"
)

// TetRule says how many days around lunar 1/1 the computed Tết holiday covers.
type TetRule struct {
	DaysBefore int // days before lunar 1/1 (1 = the last day of the lunar year, 29th or 30th)
	DaysAfter  int // days after lunar 1/1 (4 = through lunar 1/5)
}

// DefaultTet is the Tết holiday when none is configured: the last day of the
// lunar year through lunar 1/5, which covers the five-day statutory Tết break
// in its usual placement (Labour Code 2019, art. 112). Companies that give
// more days add them with WithTet or their own holiday list.
var DefaultTet = TetRule{DaysBefore: 1, DaysAfter: 4}

// civilDate is a calendar date as yyyymmdd.
type civilDate int

// dateOf is t's calendar date in Asia/Ho_Chi_Minh.
func dateOf(t time.Time) civilDate {
	y, m, d := t.In(hcm).Date()
	return civilDate(y*10000 + int(m)*100 + d)
}

// PublicHolidays returns the Vietnamese public holidays computed for
// Gregorian year y, in date order, each at midnight Asia/Ho_Chi_Minh:
//
//   - 1/1 Tết Dương lịch (New Year's Day);
//   - Tết Nguyên Đán: lunar 1/1 with tet.DaysBefore days before and
//     tet.DaysAfter days after;
//   - Giỗ Tổ Hùng Vương: lunar 10/3;
//   - 30/4 Ngày Giải phóng miền Nam (Reunification Day);
//   - 1/5 Quốc tế Lao động (Labour Day);
//   - 2/9 Quốc khánh (National Day).
//
// The extra day next to 2/9 (1/9 or 3/9) and the bridge days the government
// announces each year are not computable; put them in the directory's holiday
// list.
func PublicHolidays(y int, tet TetRule) []Holiday {
	day := func(m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, hcm) }
	hs := []Holiday{
		{Date: day(time.January, 1), Name: "Tết Dương lịch"},
		{Date: day(time.April, 30), Name: "Ngày Giải phóng miền Nam"},
		{Date: day(time.May, 1), Name: "Quốc tế Lao động"},
		{Date: day(time.September, 2), Name: "Quốc khánh"},
	}
	t := TetDate(y)
	for i := -tet.DaysBefore; i <= tet.DaysAfter; i++ {
		hs = append(hs, Holiday{Date: t.AddDate(0, 0, i), Name: "Tết Nguyên Đán"})
	}
	if g, err := LunarToSolar(10, 3, y, false); err == nil {
		hs = append(hs, Holiday{Date: g, Name: "Giỗ Tổ Hùng Vương"})
	}
	slices.SortStableFunc(hs, func(a, b Holiday) int { return a.Date.Compare(b.Date) })
	return hs
}

// publicHolidays returns the computed public holidays of year y by date,
// cached per directory (the rule is per directory).
func (d *Directory) publicHolidays(y int) map[civilDate]string {
	if v, ok := d.public.Load(y); ok {
		return v.(map[civilDate]string)
	}
	m := map[civilDate]string{}
	for _, h := range PublicHolidays(y, d.tet) {
		m[dateOf(h.Date)] = h.Name
	}
	v, _ := d.public.LoadOrStore(y, m)
	return v.(map[civilDate]string)
}

// HolidayAt returns the name of the holiday on t's date (Asia/Ho_Chi_Minh)
// that applies to a person working in the given regions: a computed public
// holiday (unless turned off), or an entry of the directory's list that is
// nationwide or for one of those regions.
func (d *Directory) HolidayAt(t time.Time, regions ...string) (string, bool) {
	day := dateOf(t)
	if !d.noPublic {
		y := int(day) / 10000
		// A wide Tết window of year y+1 could start in late year y.
		for _, yy := range []int{y, y + 1} {
			if name, ok := d.publicHolidays(yy)[day]; ok {
				return name, true
			}
		}
	}
	for _, h := range d.holidays[day] {
		if h.Region == "" || slices.Contains(regions, h.Region) {
			return h.Name, true
		}
	}
	return "", false
}
