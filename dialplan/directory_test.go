package dialplan

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testData is a small but complete directory used by the directory, identify
// and plan tests. Kiên Giang (0297) and An Giang (0296) are in area KG of
// region MT (Miền Tây); Hà Nội is in area HN of region MB with no technician.
func testData() DirectoryData {
	office, _ := ParseSchedule("Mon-Sat 08:00-17:00")
	night, _ := ParseSchedule("Mon-Sun 17:00-08:00")
	return DirectoryData{
		Regions: []Region{{Code: "MT", Name: "Miền Tây", Manager: "RM1"}, {Code: "MB", Name: "Miền Bắc", Manager: "RM2"}},
		Areas: []Area{
			{Code: "KG", Name: "Kiên Giang – An Giang", Region: "MT", Manager: "AM1", Provinces: []string{"kien-giang", "an-giang"}},
			{Code: "HN", Name: "Hà Nội", Region: "MB", Manager: "AM2", Provinces: []string{"ha-noi"}},
		},
		Staff: []Staff{
			{Code: "T1", Name: "Trần Văn Một", Role: RoleTechnician, Status: StatusActive, Hours: Schedule{Always: true},
				Phones:    []Phone{{E164: "+84961000001"}, {E164: "0911000001", Carrier: CarrierVinaphone}},
				Provinces: []string{"kien-giang"}},
			{Code: "T2", Name: "Lê Thị Hai", Role: RoleTechnician, Status: StatusActive, Hours: Schedule{Always: true},
				Phones: []Phone{{E164: "+84901000002"}}, Provinces: []string{"kien-giang", "an-giang"}},
			{Code: "T3", Name: "Phạm Ba", Role: RoleTechnician, Status: StatusActive, Hours: office,
				Phones: []Phone{{E164: "+84971000003"}}, Provinces: []string{"kien-giang"}},
			{Code: "T4", Name: "Nghỉ Việc", Role: RoleTechnician, Status: StatusSuspended, Hours: Schedule{Always: true},
				Phones: []Phone{{E164: "+84981000004"}}, Provinces: []string{"kien-giang"}},
			{Code: "T5", Name: "Đêm", Role: RoleTechnician, Status: StatusActive, Hours: night,
				Phones: []Phone{{E164: "+84381000005"}}, Provinces: []string{"an-giang"}},
			{Code: "AM1", Name: "Quản Lý KG", Role: RoleAreaManager, Status: StatusActive, Hours: Schedule{Always: true},
				Phones: []Phone{{E164: "+84931000011"}}},
			{Code: "AM2", Name: "Quản Lý HN", Role: RoleAreaManager, Status: StatusActive, Hours: office,
				Phones: []Phone{{E164: "+842438000012"}}}, // a Hà Nội landline
			{Code: "RM1", Name: "Vùng MT", Role: RoleRegionalManager, Status: StatusActive, Hours: Schedule{Always: true},
				Phones: []Phone{{E164: "+84941000021"}}},
			{Code: "RM2", Name: "Vùng MB", Role: RoleRegionalManager, Status: StatusActive, Hours: Schedule{Always: true},
				Phones: []Phone{{E164: "+84941000022"}}},
			{Code: "OP1", Name: "Tổng Đài 1", Role: RoleOperator, Status: StatusActive, Hours: Schedule{Always: true},
				Phones: []Phone{{E164: "+84351000031", Carrier: CarrierMobifone}}},
			{Code: "OP2", Name: "Tổng Đài 2", Role: RoleOperator, Status: StatusActive, Hours: office,
				Phones: []Phone{{E164: "+84351000032"}}},
			{Code: "OP3", Name: "Tổng Đài 3", Role: RoleOperator, Status: StatusTerminated, Hours: Schedule{Always: true},
				Phones: []Phone{{E164: "+84351000033"}}},
		},
		Cafes: []Cafe{
			{Code: "001", Name: "Net Rạch Giá", Province: "kien-giang", Technician: "T1", Status: StatusActive,
				Phones: []string{"+842973111001", "+84909111001"}},
			{Code: "002", Name: "Net Hà Tiên", Province: "kien-giang", Status: StatusActive, Phones: []string{"+842973111002"}},
			{Code: "003", Name: "Net Long Xuyên", Province: "an-giang", Technician: "T2", Status: StatusActive, Phones: []string{"+842963111003"}},
			{Code: "104", Name: "Net Hà Nội", Province: "ha-noi", Status: StatusActive, Phones: []string{"+842438111104"}},
			{Code: "005", Name: "Net Đóng Cửa", Province: "kien-giang", Status: StatusTerminated, Phones: []string{"+842973111005"}},
		},
		Refusals: []Refusal{{Staff: "T3", Cafe: "002"}},
		Holidays: []Holiday{
			{Date: time.Date(2025, 6, 20, 0, 0, 0, 0, Location()), Name: "Company day"},
			{Date: time.Date(2025, 6, 21, 0, 0, 0, 0, time.UTC), Name: "Lễ hội Miền Tây", Region: "MT"},
		},
	}
}

func TestNewDirectoryIndexes(t *testing.T) {
	d, err := NewDirectory(testData())
	require.NoError(t, err)
	require.Equal(t, Counts{Provinces: 63, Regions: 2, Areas: 2, Staff: 12, ActiveStaff: 10, Technicians: 4, Operators: 2,
		Cafes: 5, ActiveCafes: 4, CafePhones: 6, Refusals: 1, Holidays: 2}, d.Counts())

	for _, number := range []string{"+842973111001", "02973111001", "0909111001", "sip:0909111001@gw"} {
		c, ok := d.CafeByPhone(number)
		require.True(t, ok, number)
		require.Equal(t, "001", c.Code)
	}
	_, ok := d.CafeByPhone("0909111999")
	require.False(t, ok)

	for _, code := range []string{"001", "1", "0001"} {
		c, ok := d.CafeByCode(code)
		require.True(t, ok, code)
		require.Equal(t, "001", c.Code)
		c, ok = d.CafeByDTMF(code + "#")
		require.True(t, ok, code)
		require.Equal(t, "001", c.Code)
	}
	_, ok = d.CafeByDTMF("99")
	require.False(t, ok)
	_, ok = d.CafeByDTMF("1a")
	require.False(t, ok)

	s, ok := d.Staff("T1")
	require.True(t, ok)
	require.Equal(t, "Trần Văn Một", s.Name)
	codes := func(ss []*Staff) (out []string) {
		for _, s := range ss {
			out = append(out, s.Code)
		}
		return out
	}
	require.Equal(t, []string{"T1", "T2", "T3"}, codes(d.Technicians("kien-giang")), "active only, by code")
	require.Equal(t, []string{"T2", "T5"}, codes(d.Technicians("an-giang")))
	require.Empty(t, d.Technicians("ha-noi"))
	require.Equal(t, []string{"OP1", "OP2"}, codes(d.Operators()))
	a, ok := d.AreaOf("an-giang")
	require.True(t, ok)
	require.Equal(t, "KG", a.Code)
	r, ok := d.Region(a.Region)
	require.True(t, ok)
	require.Equal(t, "RM1", r.Manager)
	require.True(t, d.Refuses("T3", "002"))
	require.True(t, d.Refuses("T3", "2"))
	require.False(t, d.Refuses("T1", "002"))
}

func TestNewDirectoryCopiesInput(t *testing.T) {
	data := testData()
	d, err := NewDirectory(data)
	require.NoError(t, err)
	data.Staff[0].Phones[0].E164 = "+84999999999"
	data.Cafes[0].Phones[0] = "+84999999999"
	data.Areas[0].Provinces[0] = "ha-noi"
	_, ok := d.CafeByPhone("+842973111001")
	require.True(t, ok)
	s, _ := d.Staff("T1")
	require.Equal(t, "+84961000001", s.Phones[0].E164)
	a, _ := d.AreaOf("kien-giang")
	require.Equal(t, "KG", a.Code)
}

func TestNewDirectoryErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(*DirectoryData)
		want   []string
	}{
		{"unknown technician", func(d *DirectoryData) { d.Cafes[0].Technician = "T9" },
			[]string{`cafe 001 technician: unknown staff "T9"`}},
		{"technician is a manager", func(d *DirectoryData) { d.Cafes[0].Technician = "AM1" },
			[]string{`cafe 001 technician: staff AM1 is area_manager, not technician`}},
		{"unknown managers", func(d *DirectoryData) { d.Areas[0].Manager = "X1"; d.Regions[0].Manager = "X2" },
			[]string{`area KG manager: unknown staff "X1"`, `region MT manager: unknown staff "X2"`}},
		{"unknown provinces", func(d *DirectoryData) {
			d.Cafes[1].Province = "atlantis"
			d.Staff[0].Provinces = append(d.Staff[0].Provinces, "Kiên Giang")
			d.Areas[1].Provinces = append(d.Areas[1].Provinces, "hanoi")
		}, []string{`cafe 002: unknown province "atlantis"`, `staff T1: unknown province "Kiên Giang"`, `area HN: unknown province "hanoi"`}},
		{"province in two areas", func(d *DirectoryData) { d.Areas[1].Provinces = append(d.Areas[1].Provinces, "an-giang") },
			[]string{`area HN: province an-giang is already in area KG`}},
		{"unknown region", func(d *DirectoryData) { d.Areas[1].Region = "ZZ" }, []string{`area HN: unknown region "ZZ"`}},
		{"never dial 1900, 1800, short, foreign", func(d *DirectoryData) {
			d.Staff[0].Phones = []Phone{{E164: "19001570"}, {E164: "18001091"}, {E164: "113"}, {E164: "+14155550100"}, {E164: "0955551519"}}
		}, []string{`staff T1: number "19001570" is premium`, `"18001091" is tollfree`, `"113" is short`, `"+14155550100" is foreign`, `"0955551519" is invalid`}},
		{"duplicate numbers", func(d *DirectoryData) {
			d.Staff[1].Phones = append(d.Staff[1].Phones, Phone{E164: "0901000002"})
			d.Cafes[1].Phones = append(d.Cafes[1].Phones, "0909111001")
		}, []string{`staff T2: number +84901000002 listed twice`, `cafe 002: number +84909111001 already belongs to cafe 001`}},
		{"duplicate codes", func(d *DirectoryData) {
			d.Staff = append(d.Staff, d.Staff[0])
			d.Cafes = append(d.Cafes, Cafe{Code: "1", Province: "ha-noi", Status: StatusActive})
		}, []string{`staff T1: duplicate code`, `cafe 1: duplicate code (same as 001)`}},
		{"bad role and status", func(d *DirectoryData) { d.Staff[0].Role = "boss"; d.Staff[1].Status = ""; d.Cafes[0].Status = "open" },
			[]string{`staff T1: unknown role "boss"`, `staff T2: unknown status ""`, `cafe 001: unknown status "open"`}},
		{"refusal references", func(d *DirectoryData) { d.Refusals = append(d.Refusals, Refusal{Staff: "T9", Cafe: "999"}) },
			[]string{`refusal T9/999: unknown staff "T9"`, `refusal T9/999: unknown cafe "999"`}},
		{"holiday region", func(d *DirectoryData) { d.Holidays[1].Region = "ZZ" }, []string{`unknown region "ZZ"`}},
		{"bad window", func(d *DirectoryData) { d.Staff[2].Hours.Windows = []Window{{Day: 1, Start: 600, End: 500}} },
			[]string{`staff T3: bad working window`}},
		{"anonymous cafe number", func(d *DirectoryData) { d.Cafes[0].Phones = []string{"anonymous"} },
			[]string{`cafe 001: number "anonymous" is anonymous`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := testData()
			tt.change(&data)
			_, err := NewDirectory(data)
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrInvalidDirectory))
			var de *DirectoryError
			require.ErrorAs(t, err, &de)
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestHolidayAt(t *testing.T) {
	d, err := NewDirectory(testData())
	require.NoError(t, err)
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation(time.DateTime, s, Location())
		require.NoError(t, err)
		return tm
	}
	tests := []struct {
		at      time.Time
		regions []string
		name    string
	}{
		{at("2025-06-20 10:00:00"), nil, "Company day"},
		{at("2025-06-20 00:00:00").UTC(), nil, "Company day"}, // 2025-06-19 17:00 UTC is the 20th in Vietnam
		{at("2025-06-21 10:00:00"), []string{"MT"}, "Lễ hội Miền Tây"},
		{at("2025-06-21 10:00:00"), []string{"MB"}, ""},
		{at("2025-06-21 10:00:00"), nil, ""},
		// Computed: Tết 2025 is 29 January; default window 27–31 January.
		{at("2025-01-26 23:59:00"), nil, ""},
		{at("2025-01-27 00:00:00"), nil, "Tết Nguyên Đán"},
		{at("2025-01-31 23:00:00"), nil, "Tết Nguyên Đán"},
		{at("2025-02-01 00:00:00"), nil, ""},
		{at("2025-04-07 09:00:00"), nil, "Giỗ Tổ Hùng Vương"},
		{at("2025-04-30 09:00:00"), nil, "Ngày Giải phóng miền Nam"},
		{at("2025-05-01 09:00:00"), nil, "Quốc tế Lao động"},
		{at("2025-09-02 09:00:00"), nil, "Quốc khánh"},
		{at("2025-09-03 09:00:00"), nil, "Quốc khánh"},
		{at("2025-09-04 09:00:00"), nil, ""},
		{at("2026-01-01 09:00:00"), nil, "Tết Dương lịch"},
	}
	for _, tt := range tests {
		name, ok := d.HolidayAt(tt.at, tt.regions...)
		require.Equal(t, tt.name, name, "%s %v", tt.at, tt.regions)
		require.Equal(t, tt.name != "", ok)
	}

	wide, err := NewDirectory(testData(), WithTet(3, 6))
	require.NoError(t, err)
	_, ok := wide.HolidayAt(at("2025-01-26 12:00:00"))
	require.True(t, ok)
	_, ok = wide.HolidayAt(at("2025-02-04 12:00:00"))
	require.True(t, ok)
	none, err := NewDirectory(testData(), WithoutPublicHolidays())
	require.NoError(t, err)
	_, ok = none.HolidayAt(at("2025-01-29 12:00:00"))
	require.False(t, ok)
	name, _ := none.HolidayAt(at("2025-06-20 12:00:00"))
	require.Equal(t, "Company day", name)
}
