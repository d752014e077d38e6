package dialplan

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPublicHolidays(t *testing.T) {
	tests := []struct {
		year int
		want []string
	}{
		{2026, []string{
			"2026-01-01 Tết Dương lịch",
			// Lunar 1/1 is Tuesday 17 February: 28 Tết (15/2) to mùng 3 (19/2).
			"2026-02-15 Tết Nguyên Đán", "2026-02-16 Tết Nguyên Đán", "2026-02-17 Tết Nguyên Đán",
			"2026-02-18 Tết Nguyên Đán", "2026-02-19 Tết Nguyên Đán",
			"2026-04-26 Giỗ Tổ Hùng Vương",
			"2026-04-30 Ngày Giải phóng miền Nam",
			"2026-05-01 Quốc tế Lao động",
			"2026-09-02 Quốc khánh", "2026-09-03 Quốc khánh",
		}},
		{2027, []string{
			"2027-01-01 Tết Dương lịch",
			// Lunar 1/1 is Saturday 6 February.
			"2027-02-04 Tết Nguyên Đán", "2027-02-05 Tết Nguyên Đán", "2027-02-06 Tết Nguyên Đán",
			"2027-02-07 Tết Nguyên Đán", "2027-02-08 Tết Nguyên Đán",
			"2027-04-16 Giỗ Tổ Hùng Vương", // lunar 10/3
			"2027-04-30 Ngày Giải phóng miền Nam",
			"2027-05-01 Quốc tế Lao động",
			"2027-09-02 Quốc khánh", "2027-09-03 Quốc khánh",
		}},
	}
	for _, tt := range tests {
		var got []string
		for _, h := range PublicHolidays(tt.year, DefaultTet) {
			require.Equal(t, Location(), h.Date.Location())
			got = append(got, h.Date.Format(time.DateOnly)+" "+h.Name)
		}
		require.Equal(t, tt.want, got, "%d", tt.year)
	}
}

// The Labour Code gives five days of Tết (art. 112(1)(b)): the default rule
// gives exactly five, every year, the last two of the lunar year and lunar
// 1/1–1/3; and eleven public holidays in all.
func TestDefaultTetIsFiveDays(t *testing.T) {
	for y := 2000; y <= 2050; y++ {
		hs := PublicHolidays(y, DefaultTet)
		require.Len(t, hs, 11, "%d", y)
		var tet []time.Time
		for _, h := range hs {
			if h.Name == "Tết Nguyên Đán" {
				tet = append(tet, h.Date)
			}
		}
		require.Len(t, tet, 5, "%d", y)
		lunarNewYear := TetDate(y)
		for i, d := range tet {
			require.Equal(t, lunarNewYear.AddDate(0, 0, i-2), d, "Tết %d day %d", y, i)
		}
		// The first day is the 28th or the 29th of the last lunar month (29
		// or 30 days long): 27 or 28 days after its first.
		month12, err := LunarToSolar(1, 12, y-1, false)
		require.NoError(t, err)
		require.Contains(t, []int{27, 28}, int(tet[0].Sub(month12).Hours()/24), "%d", y)
	}
}

// bu is the explanation of a compensatory day off.
func bu(holiday, day string) string {
	tm, _ := time.ParseInLocation(time.DateOnly, day, Location())
	return "nghỉ bù: " + holiday + " fell on " + tm.Weekday().String()[:3] + " " + day + ", a weekly rest day"
}

// TestDayOffAt is the table of holiday rules: for hours and a holiday list,
// every day from..to that is a day off, with its reason; every other day of
// the range must be a working day. Office is Monday–Friday. The years with a
// known decision check the default rules against it: the days off it gave a
// Monday–Friday worker (civil servants' calendar).
func TestDayOffAt(t *testing.T) {
	const (
		office    = "Mon-Fri 08:00-17:00"
		sixDays   = "Mon-Sat 08:00-17:00"
		everyDay  = "Mon-Sat 07:00-22:00; Sun 08:00-12:00"
		tet       = "Tết Nguyên Đán"
		national  = "Quốc khánh"
		newYear   = "Tết Dương lịch"
		hungKings = "Giỗ Tổ Hùng Vương"
		victory   = "Ngày Giải phóng miền Nam"
		labour    = "Quốc tế Lao động"
	)
	day := func(s string) time.Time {
		tm, err := time.ParseInLocation(time.DateOnly, s, Location())
		require.NoError(t, err)
		return tm
	}
	listed := func(name string, days ...string) []Holiday {
		var hs []Holiday
		for _, d := range days {
			hs = append(hs, Holiday{Date: day(d), Name: name})
		}
		return hs
	}
	tests := []struct {
		name     string
		hours    string
		list     []Holiday
		from, to string
		want     []string // "YYYY-MM-DD reason"
	}{
		{name: "New Year 2023 on a Sunday: the office takes Monday 2 January", hours: office,
			from: "2022-12-30", to: "2023-01-04",
			want: []string{"2023-01-01 " + newYear, "2023-01-02 " + bu(newYear, "2023-01-01")}},
		{name: "six-day week (rest on Sunday): the same Monday", hours: sixDays,
			from: "2022-12-30", to: "2023-01-04",
			want: []string{"2023-01-01 " + newYear, "2023-01-02 " + bu(newYear, "2023-01-01")}},
		{name: "hours on every day of the week: no weekly rest day, nothing moves", hours: everyDay,
			from: "2022-12-30", to: "2023-01-04",
			want: []string{"2023-01-01 " + newYear}},
		{name: "24/7 (technicians by agreement): works on holidays", hours: "24/7",
			from: "2022-12-30", to: "2023-01-04"},
		{name: "no working day at all: nothing to move to", hours: "never",
			from: "2022-12-30", to: "2023-01-04",
			want: []string{"2023-01-01 " + newYear}},
		{name: "overnight shift ending Saturday morning: only Sunday is a rest day", hours: "Mon-Fri 22:00-06:00",
			from: "2022-12-30", to: "2023-01-04",
			want: []string{"2023-01-01 " + newYear, "2023-01-02 " + bu(newYear, "2023-01-01")}},
		{name: "Tết 2023 (lunar 1/1 Sunday 22 January; decision: 20–26 January)", hours: office,
			from: "2023-01-18", to: "2023-01-28",
			want: []string{"2023-01-20 " + tet, "2023-01-21 " + tet, "2023-01-22 " + tet, "2023-01-23 " + tet, "2023-01-24 " + tet,
				"2023-01-25 " + bu(tet, "2023-01-21"), "2023-01-26 " + bu(tet, "2023-01-22")}},
		{name: "Tết 2023, six-day week: Saturday is a Tết day worked off, only Sunday moves", hours: sixDays,
			from: "2023-01-18", to: "2023-01-28",
			want: []string{"2023-01-20 " + tet, "2023-01-21 " + tet, "2023-01-22 " + tet, "2023-01-23 " + tet, "2023-01-24 " + tet,
				"2023-01-25 " + bu(tet, "2023-01-22")}},
		{name: "Tết 2024 (lunar 1/1 Saturday 10 February; decision: 8–14 February)", hours: office,
			from: "2024-02-06", to: "2024-02-16",
			want: []string{"2024-02-08 " + tet, "2024-02-09 " + tet, "2024-02-10 " + tet, "2024-02-11 " + tet, "2024-02-12 " + tet,
				"2024-02-13 " + bu(tet, "2024-02-10"), "2024-02-14 " + bu(tet, "2024-02-11")}},
		{name: "Tết 2025 (lunar 1/1 Wednesday 29 January; decision: 25 January – 2 February with the weekends)", hours: office,
			from: "2025-01-24", to: "2025-02-04",
			want: []string{"2025-01-27 " + tet, "2025-01-28 " + tet, "2025-01-29 " + tet, "2025-01-30 " + tet, "2025-01-31 " + tet}},
		{name: "Tết 2026 (lunar 1/1 Tuesday 17 February; decision: 14–22 February with the weekends)", hours: office,
			from: "2026-02-12", to: "2026-02-24",
			want: []string{"2026-02-15 " + tet, "2026-02-16 " + tet, "2026-02-17 " + tet, "2026-02-18 " + tet, "2026-02-19 " + tet,
				"2026-02-20 " + bu(tet, "2026-02-15")}},
		{name: "Tết 2027 (lunar 1/1 Saturday 6 February): Thursday 4 to Wednesday 10 February", hours: office,
			from: "2027-02-02", to: "2027-02-12",
			want: []string{"2027-02-04 " + tet, "2027-02-05 " + tet, "2027-02-06 " + tet, "2027-02-07 " + tet, "2027-02-08 " + tet,
				"2027-02-09 " + bu(tet, "2027-02-06"), "2027-02-10 " + bu(tet, "2027-02-07")}},
		{name: "Giỗ Tổ, 30/4 and 1/5 of 2023 on Saturday, Sunday, Monday (decision: 29 April – 3 May)", hours: office,
			from: "2023-04-27", to: "2023-05-05",
			want: []string{"2023-04-29 " + hungKings, "2023-04-30 " + victory, "2023-05-01 " + labour,
				"2023-05-02 " + bu(hungKings, "2023-04-29"), "2023-05-03 " + bu(victory, "2023-04-30")}},
		{name: "Giỗ Tổ 2026 on Sunday 26 April: Monday 27 April", hours: sixDays,
			from: "2026-04-24", to: "2026-05-03",
			want: []string{"2026-04-26 " + hungKings, "2026-04-27 " + bu(hungKings, "2026-04-26"),
				"2026-04-30 " + victory, "2026-05-01 " + labour}},
		{name: "National Day 2029 on a Sunday, second day Monday 3/9: Tuesday 4/9 in lieu", hours: office,
			from: "2029-08-31", to: "2029-09-06",
			want: []string{"2029-09-02 " + national, "2029-09-03 " + national, "2029-09-04 " + bu(national, "2029-09-02")}},
		{name: "National Day 2023 without a decision: 2/9 and 3/9 on the weekend, 4/9 and 5/9 in lieu", hours: office,
			from: "2023-08-30", to: "2023-09-06",
			want: []string{"2023-09-02 " + national, "2023-09-03 " + national,
				"2023-09-04 " + bu(national, "2023-09-02"), "2023-09-05 " + bu(national, "2023-09-03")}},
		{name: "National Day 2023 by the decision (1/9 listed): 1–4 September", hours: office,
			list: listed("Quốc khánh (QĐ 2023)", "2023-09-01"), from: "2023-08-30", to: "2023-09-06",
			want: []string{"2023-09-01 " + national, "2023-09-02 " + national, "2023-09-04 " + bu(national, "2023-09-02")}},
		{name: "a regional 1/9 is not the decision: 3/9 stays, the region's people also have 1/9", hours: office,
			list: []Holiday{{Date: day("2023-09-01"), Name: "Lễ hội MN", Region: "MN"}}, from: "2023-08-30", to: "2023-09-06",
			want: []string{"2023-09-02 " + national, "2023-09-03 " + national,
				"2023-09-04 " + bu(national, "2023-09-02"), "2023-09-05 " + bu(national, "2023-09-03")}},
		{name: "Tết 2027 entered from a decision (lunar 1/1 listed): the list's days only, none moved", hours: office,
			list: listed("Tết (QĐ 2027)", "2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11"),
			from: "2027-02-02", to: "2027-02-13",
			want: []string{"2027-02-05 Tết (QĐ 2027)", "2027-02-06 Tết (QĐ 2027)", "2027-02-07 Tết (QĐ 2027)", "2027-02-08 Tết (QĐ 2027)",
				"2027-02-09 Tết (QĐ 2027)", "2027-02-10 Tết (QĐ 2027)", "2027-02-11 Tết (QĐ 2027)"}},
		{name: "an extra day before Tết (lunar 1/1 not listed): added to the computed Tết", hours: office,
			list: listed("Nghỉ thêm trước Tết", "2027-02-03"), from: "2027-02-02", to: "2027-02-12",
			want: []string{"2027-02-03 Nghỉ thêm trước Tết", "2027-02-04 " + tet, "2027-02-05 " + tet, "2027-02-06 " + tet,
				"2027-02-07 " + tet, "2027-02-08 " + tet, "2027-02-09 " + bu(tet, "2027-02-06"), "2027-02-10 " + bu(tet, "2027-02-07")}},
		{name: "Sunday mornings only: 30/4 and 1/5 of 2025 (Wednesday, Thursday) move to the next two Sundays", hours: "Sun 08:00-12:00",
			from: "2025-04-28", to: "2025-05-12",
			want: []string{"2025-04-30 " + victory, "2025-05-01 " + labour,
				"2025-05-04 " + bu(victory, "2025-04-30"), "2025-05-11 " + bu(labour, "2025-05-01")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hours, err := ParseSchedule(tt.hours)
			require.NoError(t, err)
			d, err := NewDirectory(DirectoryData{Regions: []Region{{Code: "MN", Name: "Miền Nam"}}, Holidays: tt.list})
			require.NoError(t, err)
			var got []string
			for at := day(tt.from); !at.After(day(tt.to)); at = at.AddDate(0, 0, 1) {
				// Any time of the day, in any zone: the date in Vietnam counts.
				probe := at.Add(23*time.Hour + 59*time.Minute).UTC()
				if why, off := d.DayOffAt(probe, hours); off {
					got = append(got, at.Format(time.DateOnly)+" "+why)
				}
			}
			require.Equal(t, tt.want, got)
		})
	}
}

// Compensatory days off and the list's decisions are for people with
// weekly hours; WithoutPublicHolidays turns the computed days and their
// compensation off, the list stays.
func TestDayOffAtWithoutPublicHolidays(t *testing.T) {
	d, err := NewDirectory(DirectoryData{Holidays: []Holiday{{Date: time.Date(2023, 9, 1, 0, 0, 0, 0, Location()), Name: "Company"}}},
		WithoutPublicHolidays())
	require.NoError(t, err)
	office, err := ParseSchedule("Mon-Fri 08:00-17:00")
	require.NoError(t, err)
	for _, tt := range []struct {
		day, want string
	}{{"2023-09-01", "Company"}, {"2023-09-02", ""}, {"2023-09-04", ""}, {"2023-01-02", ""}} {
		at, err := time.ParseInLocation(time.DateOnly, tt.day, Location())
		require.NoError(t, err)
		why, off := d.DayOffAt(at.Add(10*time.Hour), office)
		require.Equal(t, tt.want, why, tt.day)
		require.Equal(t, tt.want != "", off, tt.day)
	}
}

// Plan skips a person on their compensatory day off as on a holiday, and says
// which holiday it stands for; `hotline route` prints it.
func TestPlanExplainsCompensatoryDayOff(t *testing.T) {
	dir, err := NewDirectory(testData())
	require.NoError(t, err)
	tests := []struct {
		at     string
		detail string // OP2's (Monday–Saturday hours) skip detail; "" = rung
	}{
		{"2029-09-03 10:00", "Quốc khánh"},
		{"2029-09-04 10:00", bu("Quốc khánh", "2029-09-02")},
		{"2029-09-05 10:00", ""},
		{"2026-02-19 10:00", "Tết Nguyên Đán"},
		{"2026-02-20 10:00", bu("Tết Nguyên Đán", "2026-02-15")},
		{"2026-02-21 10:00", ""},
	}
	for _, tt := range tests {
		dec := dir.Plan(PlanRequest{ID: Identify(dir, Normalize("0912345678"), ""), At: at(t, tt.at), Trunks: testTrunks})
		var detail string
		rung := false
		for _, s := range dec.Skipped {
			if s.Staff == "OP2" {
				require.Equal(t, SkipHoliday, s.Reason, tt.at)
				detail = s.Detail
			}
		}
		for _, tg := range dec.Targets {
			rung = rung || tg.Staff == "OP2"
		}
		require.Equal(t, tt.detail, detail, tt.at)
		require.Equal(t, tt.detail == "", rung, tt.at)
		if tt.detail != "" {
			require.True(t, strings.Contains(dec.String(), "OP2 Tổng Đài 2 (operator): holiday ("+tt.detail+")"), dec.String())
		}
	}
}
