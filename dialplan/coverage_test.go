package dialplan

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// coverageData is a directory with every kind of gap: a province with
// office-hours technicians only (quarter-hour shifts, public holidays), one
// with no technician, one whose only technician has no trunk for their
// number, a café its province's only technician refuses, a café saved by a
// technician of its own, a café with a suspended technician of its own,
// cafés whose own technician works only on Sunday mornings this week (in a province with
// evening gaps and in one without technicians), a café without a number.
func coverageData(t *testing.T) DirectoryData {
	t.Helper()
	shift, err := ParseSchedule("Mon-Sat 07:30-21:45")
	require.NoError(t, err)
	office, err := ParseSchedule("Mon-Fri 08:00-17:15")
	require.NoError(t, err)
	// Sunday mornings, and this week's holidays (30/4, 1/5): no weekly rest
	// day of T10's falls on a holiday, so no compensatory day off moves onto
	// the Sunday (DayOffAt).
	sunday, err := ParseSchedule("Wed,Thu,Sun 08:00-12:00")
	require.NoError(t, err)
	always := Schedule{Always: true}
	return DirectoryData{
		Regions: []Region{{Code: "MN", Name: "Miền Nam", Manager: "RM1"}, {Code: "MB", Name: "Miền Bắc"}},
		Areas: []Area{
			{Code: "TNB", Name: "Tây Nam Bộ", Region: "MN", Manager: "AM1", Provinces: []string{"kien-giang", "can-tho", "soc-trang", "an-giang"}},
			{Code: "HN", Name: "Hà Nội", Region: "MB", Provinces: []string{"ha-noi"}},
		},
		Staff: []Staff{
			{Code: "T1", Role: RoleTechnician, Status: StatusActive, Hours: always,
				Phones: []Phone{{E164: "+84961000001"}}, Provinces: []string{"kien-giang"}},
			{Code: "T6", Role: RoleTechnician, Status: StatusActive, Hours: shift,
				Phones: []Phone{{E164: "+84961000006"}}, Provinces: []string{"can-tho"}},
			{Code: "T7", Role: RoleTechnician, Status: StatusActive, Hours: office,
				Phones: []Phone{{E164: "+84961000007"}}, Provinces: []string{"ha-noi"}},
			{Code: "T8", Role: RoleTechnician, Status: StatusSuspended, Hours: always,
				Phones: []Phone{{E164: "+84961000008"}}, Provinces: []string{"ha-noi"}},
			{Code: "T9", Role: RoleTechnician, Status: StatusActive, Hours: always, // mobifone: no trunk
				Phones: []Phone{{E164: "+84931000009"}}, Provinces: []string{"an-giang"}},
			{Code: "T10", Role: RoleTechnician, Status: StatusActive, Hours: sunday, // covers no province
				Phones: []Phone{{E164: "+84961000010"}}},
			{Code: "AM1", Role: RoleAreaManager, Status: StatusActive, Hours: always, Phones: []Phone{{E164: "+84941000011"}}},
			{Code: "RM1", Role: RoleRegionalManager, Status: StatusActive, Hours: always, Phones: []Phone{{E164: "+84941000021"}}},
			{Code: "OP1", Role: RoleOperator, Status: StatusActive, Hours: always, Phones: []Phone{{E164: "+84961000031"}}},
		},
		Cafes: []Cafe{
			{Code: "CT1", Province: "can-tho", Status: StatusActive, Phones: []string{"+84901000101"}},
			{Code: "CT2", Province: "can-tho", Technician: "T1", Status: StatusActive, Phones: []string{"+84901000102"}},
			{Code: "CT3", Province: "can-tho", Status: StatusTerminated, Phones: []string{"+84901000103"}},
			{Code: "KG1", Province: "kien-giang", Status: StatusActive, Phones: []string{"+84901000201"}},
			{Code: "KG2", Province: "kien-giang", Status: StatusActive, Phones: []string{"+84901000202"}},
			{Code: "KG3", Province: "kien-giang", Status: StatusActive},
			{Code: "CT4", Province: "can-tho", Technician: "T10", Status: StatusActive, Phones: []string{"+84901000104"}},
			{Code: "ST1", Province: "soc-trang", Status: StatusActive, Phones: []string{"+84901000301"}},
			{Code: "ST2", Province: "soc-trang", Technician: "T10", Status: StatusActive, Phones: []string{"+84901000302"}},
			{Code: "AG1", Province: "an-giang", Status: StatusActive, Phones: []string{"+84901000401"}},
			{Code: "HN1", Province: "ha-noi", Technician: "T8", Status: StatusActive, Phones: []string{"+84901000501"}},
			{Code: "HN2", Province: "ha-noi", Status: StatusActive, Phones: []string{"+84901000502"}},
		},
		Refusals: []Refusal{{Staff: "T1", Cafe: "KG2"}},
	}
}

// Monday 28 April 2025, 10:17: the week holds 30/4 and 1/5 (public holidays).
var coverageFrom = time.Date(2025, 4, 28, 10, 17, 0, 0, Location())

var coverageTrunks = Trunks{"viettel": "PJSIP/{number}@gw-viettel", "vinaphone": "PJSIP/{number}@gw-vinaphone"}

func TestCoverageFindsEveryGap(t *testing.T) {
	dir, err := NewDirectory(coverageData(t))
	require.NoError(t, err)
	cv := dir.Coverage(CoverageRequest{From: coverageFrom, Trunks: coverageTrunks})
	require.Equal(t, time.Date(2025, 4, 28, 10, 0, 0, 0, Location()), cv.From)
	require.Equal(t, cv.From.Add(168*time.Hour), cv.To)

	byCode := map[string]ProvinceCoverage{}
	var codes []string
	for _, p := range cv.Provinces {
		byCode[p.Province] = p
		codes = append(codes, p.Province)
	}
	require.Equal(t, []string{"an-giang", "can-tho", "ha-noi", "kien-giang", "soc-trang"}, codes)

	kg := byCode["kien-giang"]
	require.Zero(t, kg.GapHours)
	require.Empty(t, kg.Gaps)
	require.Equal(t, 3, kg.Cafes)
	require.Equal(t, 1, kg.UncoveredCafes, "KG2, refused by the only technician")

	st := byCode["soc-trang"]
	require.Equal(t, 168, st.GapHours)
	require.Len(t, st.Gaps, 1)
	require.Equal(t, "no technician covers province soc-trang", st.Gaps[0].Why())
	require.Equal(t, "MN", st.Region)

	ag := byCode["an-giang"]
	require.Equal(t, 168, ag.GapHours)
	require.Equal(t, "T9 no_trunk", ag.Gaps[0].Why())

	ct := byCode["can-tho"]
	require.Equal(t, 2, ct.UncoveredCafes, "CT1 and CT4; CT2 has T1 day and night, CT3 is closed")
	require.Equal(t, 3, ct.Cafes)
	first := ct.Gaps[0]
	require.Equal(t, time.Date(2025, 4, 28, 21, 45, 0, 0, Location()), first.From)
	require.Equal(t, time.Date(2025, 4, 29, 7, 30, 0, 0, Location()), first.To)
	require.Equal(t, "T6 off_duty", first.Why())
	// Tuesday evening to Friday 07:30: 30/4 and 1/5 are public holidays.
	second := ct.Gaps[1]
	require.Equal(t, time.Date(2025, 4, 29, 21, 45, 0, 0, Location()), second.From)
	require.Equal(t, time.Date(2025, 5, 2, 7, 30, 0, 0, Location()), second.To)
	holiday := false
	for _, g := range ct.Gaps {
		holiday = holiday || strings.Contains(g.Why(), "holiday")
	}
	require.False(t, holiday, "a gap is explained at its start: off duty on the evening before the holidays")

	hn := byCode["ha-noi"]
	require.Equal(t, 2, hn.UncoveredCafes, "HN2 follows the province, HN1 too (its technician is suspended)")
	require.Equal(t, 2, hn.Cafes)

	var cafes []string
	for _, c := range cv.Cafes {
		cafes = append(cafes, c.Cafe+" "+string(c.Problem))
	}
	// HN1's suspended technician sends it to the province's technicians:
	// the same gaps as its province, so not listed on its own.
	require.Equal(t, []string{"CT4 no_technician", "KG2 no_technician", "KG3 no_number", "ST2 no_technician"}, cafes)
	kg2 := cv.Cafes[1]
	require.Equal(t, 168, kg2.GapHours)
	require.Equal(t, "T1 refuses_cafe", kg2.Gaps[0].Why())
	require.Equal(t, "MN", kg2.Region)
	// ST2's own technician works on Sunday 4 May 08:00–12:00 only.
	st2 := cv.Cafes[3]
	require.Equal(t, 164, st2.GapHours)
	require.Len(t, st2.Gaps, 2)
	require.Equal(t, time.Date(2025, 5, 4, 8, 0, 0, 0, Location()), st2.Gaps[0].To)
	require.Equal(t, "T10 off_duty", st2.Gaps[0].Why())
	require.Equal(t, "T10", st2.Technician)
	// CT4 is covered by T6 in the day and by T10 on Sunday morning.
	require.Less(t, cv.Cafes[0].GapHours, ct.GapHours)
	require.Empty(t, cv.CafeGaps("CT2"))
	require.Equal(t, ct.Gaps, cv.CafeGaps("CT1"))
	require.True(t, sameGaps(hn.Gaps, cv.CafeGaps("HN1")))
	require.Nil(t, cv.CafeGaps("CT3"))
}

// The agreement with `hotline route`: at every quarter hour of the window
// (every schedule in the data starts and ends on one), a call from each
// café's number and from each province's landline, identified and planned
// exactly as `hotline route` does (Identify, uncapped Plan), rings a
// technician exactly when Coverage says it is not in a gap; and the gap
// hours are the clock hours holding an uncovered quarter.
func TestCoverageAgreesWithRoute(t *testing.T) {
	data := coverageData(t)
	dir, err := NewDirectory(data)
	require.NoError(t, err)
	cv := dir.Coverage(CoverageRequest{From: coverageFrom, Trunks: coverageTrunks})

	rings := func(number string, at time.Time) bool {
		dec := dir.Plan(PlanRequest{ID: Identify(dir, Normalize(number), ""), At: at, Trunks: coverageTrunks})
		for _, tg := range dec.Targets {
			if tg.Role == RoleTechnician {
				return true
			}
		}
		return false
	}
	landline := map[string]string{}
	for _, p := range Provinces() {
		n := p.AreaCode
		for len(n) < 11 {
			n += "5"
		}
		landline[p.Code] = n
	}
	checked := 0
	for _, p := range cv.Provinces {
		hours := map[time.Time]bool{}
		for at := cv.From; at.Before(cv.To); at = at.Add(15 * time.Minute) {
			want := rings(landline[p.Province], at)
			require.Equal(t, want, covered(p.Gaps, at), "province %s at %s", p.Province, at)
			if !want {
				hours[at.Truncate(time.Hour)] = true
			}
			checked++
		}
		require.Equal(t, len(hours), p.GapHours, p.Province)
	}
	for _, c := range data.Cafes {
		if c.Status != StatusActive || len(c.Phones) == 0 {
			continue
		}
		for at := cv.From; at.Before(cv.To); at = at.Add(15 * time.Minute) {
			require.Equal(t, rings(c.Phones[0], at), covered(cv.CafeGaps(c.Code), at), "café %s at %s", c.Code, at)
			checked++
		}
	}
	require.Equal(t, 5*672+10*672, checked)
}

// Instants: each hour's start plus the minutes technicians' shifts start
// or end at (here :15, :30 and :45).
func TestCoverageInstants(t *testing.T) {
	dir, err := NewDirectory(coverageData(t))
	require.NoError(t, err)
	cv := dir.Coverage(CoverageRequest{From: coverageFrom, Hours: 2})
	var got []string
	for _, at := range cv.Instants() {
		got = append(got, at.Format("15:04"))
	}
	require.Equal(t, []string{"10:00", "10:15", "10:30", "10:45", "11:00", "11:15", "11:30", "11:45"}, got)
}
