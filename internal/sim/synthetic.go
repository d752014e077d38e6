package sim

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/csm-vn/hotline/dialplan"
)

// DirectorySpec is the --directory flag of `hotline simulate`: the
// database's own directory (the zero value, "database"), or a synthetic
// directory of Cafes cafés and Staff people ("synthetic:CAFES,STAFF").
type DirectorySpec struct {
	Cafes, Staff int
}

// Limits of a synthetic directory. The smallest staff gives every one of the
// 63 provinces a technician besides the managers and operators.
const (
	MinSyntheticStaff = 100
	MaxSyntheticStaff = 50_000
	MaxSyntheticCafes = 200_000
)

// Synthetic reports whether the spec asks for a synthetic directory.
func (d DirectorySpec) Synthetic() bool { return d.Cafes > 0 }

// String is the flag's text: "database" or "synthetic:CAFES,STAFF".
func (d DirectorySpec) String() string {
	if !d.Synthetic() {
		return "database"
	}
	return fmt.Sprintf("synthetic:%d,%d", d.Cafes, d.Staff)
}

// ParseDirectorySpec reads "database" (or "") and "synthetic:CAFES,STAFF",
// e.g. "synthetic:20000,1000": plain decimal counts, no spaces or signs.
func ParseDirectorySpec(s string) (DirectorySpec, error) {
	if s == "" || s == "database" {
		return DirectorySpec{}, nil
	}
	rest, ok := strings.CutPrefix(s, "synthetic:")
	if !ok {
		return DirectorySpec{}, fmt.Errorf("directory %q: want database or synthetic:CAFES,STAFF (e.g. synthetic:20000,1000)", s)
	}
	cafesText, staffText, ok := strings.Cut(rest, ",")
	if !ok {
		return DirectorySpec{}, fmt.Errorf("directory %q: want synthetic:CAFES,STAFF (e.g. synthetic:20000,1000)", s)
	}
	count := func(what, text string, lo, hi int) (int, error) {
		if text == "" || len(text) > 7 || strings.TrimLeft(text, "0123456789") != "" {
			return 0, fmt.Errorf("directory %q: %s %q is not a whole number", s, what, text)
		}
		n, _ := strconv.Atoi(text) // at most 7 digits: cannot overflow
		if n < lo || n > hi {
			return 0, fmt.Errorf("directory %q: %s must be between %d and %d, not %d", s, what, lo, hi, n)
		}
		return n, nil
	}
	cafes, err := count("cafés", cafesText, 1, MaxSyntheticCafes)
	if err != nil {
		return DirectorySpec{}, err
	}
	staff, err := count("staff", staffText, MinSyntheticStaff, MaxSyntheticStaff)
	if err != nil {
		return DirectorySpec{}, err
	}
	return DirectorySpec{Cafes: cafes, Staff: staff}, nil
}

// Profile is how often one person, rung by the hotline, answers and presses
// 1, is busy, lets it ring out, or has a voicemail box answer: weights out of
// 100, drawn again on every ring.
type Profile struct {
	Answered, Busy, NoAnswer, Voicemail int
}

// profileKinds are the people of a synthetic directory: 70 % reliable, 20 %
// often busy (on another line), 10 % hard to reach (phone in a pocket, a
// voicemail box on). On average a ring is answered 79 % of the time, busy
// 7.3 %, rings out 8.5 %, and reaches a voicemail box 5.1 %.
var profileKinds = []struct {
	share   int // out of 100 people
	profile Profile
}{
	{70, Profile{Answered: 88, Busy: 4, NoAnswer: 5, Voicemail: 3}},
	{20, Profile{Answered: 65, Busy: 20, NoAnswer: 10, Voicemail: 5}},
	{10, Profile{Answered: 45, Busy: 5, NoAnswer: 30, Voicemail: 20}},
}

// pick draws one ring's behaviour.
func (p Profile) pick(r *rand.Rand) Behaviour {
	n := r.IntN(p.Answered + p.Busy + p.NoAnswer + p.Voicemail)
	switch {
	case n < p.Answered:
		return Answered
	case n < p.Answered+p.Busy:
		return Busy
	case n < p.Answered+p.Busy+p.NoAnswer:
		return NoAnswer
	}
	return Voicemail
}

// SyntheticDirectory is a generated company: three regions (Miền Bắc, Miền
// Trung, Miền Nam by the provinces' area codes), areas of about three
// neighbouring provinces, a manager for each, operators (3 % of the staff)
// and technicians in every province in proportion to its cafés; cafés in
// all 63 provinces, more in the big cities. Numbers are realistic: mobiles
// on the carriers' own prefixes in the carriers' market shares (a few staff
// numbers ported to another carrier, stored with it), landlines on the
// café's province's area code.
type SyntheticDirectory struct {
	Spec DirectorySpec
	Seed uint64
	// Data is the directory as dialplan sees it once imported.
	Data dialplan.DirectoryData
	// Profiles gives each person's behaviour when rung, by staff code.
	Profiles map[string]Profile
	// byNumber maps every staff number (national form) to its person.
	byNumber map[string]string
}

// Synthetic codes start with "SY" so they never collide with a real
// directory's (café codes SY100001…: typed 100001 on the keypad).
const (
	syntheticCafeBase = 100_000
)

// bigProvinces weigh the café count of a province (others weigh 1): the
// two metropolises and the large cities and industrial provinces.
var bigProvinces = map[string]int{
	"024": 8, "028": 8, // Hà Nội, TP Hồ Chí Minh
	"0225": 3, "0236": 3, "0292": 3, // Hải Phòng, Đà Nẵng, Cần Thơ
	"0251": 3, "0274": 3, "0237": 3, "0238": 3, // Đồng Nai, Bình Dương, Thanh Hóa, Nghệ An
}

// regionOf places a province by its area code: 020x–022x and 024 north;
// 023x, 0252 and 0255–0269 (the central coast and the highlands) centre; the
// rest (Đông Nam Bộ, Mekong delta, 028) south.
func regionOf(areaCode string) int {
	switch {
	case areaCode == "024" || areaCode < "0230":
		return 0
	case areaCode < "0240", areaCode == "0252", areaCode >= "0255" && areaCode <= "0269":
		return 1
	}
	return 2
}

var regionNames = [3]struct{ code, name string }{
	{"SY-MB", "Miền Bắc (synthetic)"}, {"SY-MT", "Miền Trung (synthetic)"}, {"SY-MN", "Miền Nam (synthetic)"},
}

// Market shares of the mobile carriers, in percent.
var carrierShares = []struct {
	carrier dialplan.Carrier
	share   int
}{
	{dialplan.CarrierViettel, 54}, {dialplan.CarrierVinaphone, 24}, {dialplan.CarrierMobifone, 19},
	{dialplan.CarrierVietnamobile, 2}, {dialplan.CarrierItel, 1},
}

var (
	familyNames = []string{"Nguyễn", "Nguyễn", "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ",
		"Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"}
	middleNames = []string{"Văn", "Thị", "Minh", "Thanh", "Quốc", "Ngọc", "Đức", "Hữu"}
	givenNames  = []string{"An", "Bình", "Cường", "Dũng", "Hà", "Hải", "Hùng", "Khoa", "Lan", "Linh", "Long", "Mai",
		"Nam", "Phong", "Quân", "Sơn", "Thảo", "Trang", "Tuấn", "Việt", "Yến"}
	cafeWords = []string{"Cỏ Mây", "Rồng Vàng", "Thủ Lĩnh", "Sao Đêm", "Hoàng Gia", "Tốc Độ", "Galaxy", "Đỉnh Cao",
		"Phượng Hoàng", "Bạch Long", "Game Thủ", "Ánh Sáng", "Vip Pro", "Thế Giới Số"}
	cafeKinds = []string{"Net", "Quán net", "Internet", "Game", "Cyber"}
)

// GenerateDirectory builds the synthetic directory of spec; the same spec
// and seed always give the same directory.
func GenerateDirectory(spec DirectorySpec, seed uint64) (*SyntheticDirectory, error) {
	if !spec.Synthetic() {
		return nil, errors.New("simulate: not a synthetic directory")
	}
	if _, err := ParseDirectorySpec(spec.String()); err != nil {
		return nil, err
	}
	g := &synthGen{
		rnd:  rand.New(rand.NewPCG(seed, seed^0x5eed_d1c7_0000_0001)),
		used: map[string]bool{},
		out: &SyntheticDirectory{Spec: spec, Seed: seed, Profiles: map[string]Profile{},
			byNumber: map[string]string{}},
	}
	g.build()
	return g.out, nil
}

type synthGen struct {
	rnd  *rand.Rand
	used map[string]bool // numbers handed out (national form)
	out  *SyntheticDirectory
}

func (g *synthGen) build() {
	spec, d := g.out.Spec, &g.out.Data
	provinces := dialplan.Provinces()

	// Regions, and areas of about three provinces of one region in the
	// table's (roughly geographic) order.
	var byRegion [3][]dialplan.Province
	for _, p := range provinces {
		r := regionOf(p.AreaCode)
		byRegion[r] = append(byRegion[r], p)
	}
	areaOf := map[string]string{}
	for r, ps := range byRegion {
		rm := fmt.Sprintf("SYRM%d", r+1)
		d.Regions = append(d.Regions, dialplan.Region{Code: regionNames[r].code, Name: regionNames[r].name, Manager: rm})
		g.person(dialplan.Staff{Code: rm, Role: dialplan.RoleRegionalManager, Hours: mustSchedule("Mon-Sat 07:00-22:00")})
		for i := 0; i < len(ps); i += 3 {
			n := len(d.Areas) + 1
			area := dialplan.Area{Code: fmt.Sprintf("SYA%02d", n), Region: regionNames[r].code,
				Manager: fmt.Sprintf("SYAM%02d", n)}
			var names []string
			for _, p := range ps[i:min(i+3, len(ps))] {
				area.Provinces = append(area.Provinces, p.Code)
				names = append(names, p.Name)
				areaOf[p.Code] = area.Code
			}
			area.Name = "Khu vực " + strings.Join(names, ", ")
			d.Areas = append(d.Areas, area)
			g.person(dialplan.Staff{Code: area.Manager, Role: dialplan.RoleAreaManager,
				Hours: mustSchedule("Mon-Sun 06:00-23:00")})
		}
	}
	operators := max(3, spec.Staff*3/100)
	for i := range operators {
		hours := mustSchedule("Mon-Sun 07:00-19:00")
		if i%3 == 0 {
			hours = dialplan.Schedule{Always: true} // the night desk
		}
		g.person(dialplan.Staff{Code: fmt.Sprintf("SYOP%03d", i+1), Role: dialplan.RoleOperator, Hours: hours})
	}

	// Cafés and technicians per province, by weight (largest remainders,
	// so the counts add up exactly; technicians at least one each).
	weights := make([]int, len(provinces))
	for i, p := range provinces {
		weights[i] = max(1, bigProvinces[p.AreaCode])
	}
	cafesIn := apportion(spec.Cafes, weights, 0)
	techs := spec.Staff - len(g.out.Profiles)
	techsIn := apportion(techs, weights, 1)

	techOf := make([][]string, len(provinces))
	n := 0
	for i, p := range provinces {
		for range techsIn[i] {
			n++
			st := dialplan.Staff{Code: fmt.Sprintf("SYKTV%04d", n), Role: dialplan.RoleTechnician,
				Provinces: []string{p.Code}}
			// A third also stand in for the next province of their area.
			if next := (i + 1) % len(provinces); g.rnd.IntN(3) == 0 && areaOf[provinces[next].Code] == areaOf[p.Code] {
				st.Provinces = append(st.Provinces, provinces[next].Code)
			}
			switch x := g.rnd.IntN(100); {
			case x < 50:
				st.Hours = dialplan.Schedule{Always: true}
			case x < 80:
				st.Hours = mustSchedule("Mon-Sat 07:00-22:00; Sun 08:00-12:00")
			default:
				st.Hours = mustSchedule("Mon-Sun 06:00-23:00")
			}
			if g.rnd.IntN(50) == 0 {
				st.Status = dialplan.StatusSuspended
			}
			g.person(st)
			techOf[i] = append(techOf[i], st.Code)
		}
	}
	n = 0
	for i, p := range provinces {
		for range cafesIn[i] {
			n++
			c := dialplan.Cafe{Code: fmt.Sprintf("SY%06d", syntheticCafeBase+n),
				Name:     cafeKinds[g.rnd.IntN(len(cafeKinds))] + " " + cafeWords[g.rnd.IntN(len(cafeWords))] + " " + strconv.Itoa(n),
				Province: p.Code, Status: dialplan.StatusActive}
			if g.rnd.IntN(100) == 0 {
				c.Status = dialplan.StatusTerminated
			}
			// Most cafés give an owner's mobile; 40 % have a landline too
			// (first or second), some a second mobile.
			c.Phones = append(c.Phones, g.mobile())
			switch x := g.rnd.IntN(100); {
			case x < 25:
				c.Phones = append(c.Phones, g.landline(p.AreaCode))
			case x < 40:
				c.Phones = append([]string{g.landline(p.AreaCode)}, c.Phones...)
			case x < 55:
				c.Phones = append(c.Phones, g.mobile())
			}
			if len(techOf[i]) > 0 && g.rnd.IntN(10) < 3 {
				c.Technician = techOf[i][g.rnd.IntN(len(techOf[i]))]
			}
			d.Cafes = append(d.Cafes, c)
		}
	}
}

// person adds a staff member with a name, one or two mobiles and a
// behaviour profile.
func (g *synthGen) person(st dialplan.Staff) {
	if st.Status == "" {
		st.Status = dialplan.StatusActive
	}
	st.Name = familyNames[g.rnd.IntN(len(familyNames))] + " " + middleNames[g.rnd.IntN(len(middleNames))] + " " +
		givenNames[g.rnd.IntN(len(givenNames))]
	phones := 1 + g.rnd.IntN(2)
	for range phones {
		e164 := g.mobile()
		ph := dialplan.Phone{E164: e164}
		if g.rnd.IntN(25) == 0 { // ported: the stored carrier differs from the prefix's
			hint := dialplan.CarrierHint(e164)
			ph.Carrier = dialplan.CarrierViettel
			if hint == dialplan.CarrierViettel {
				ph.Carrier = dialplan.CarrierVinaphone
			}
		}
		st.Phones = append(st.Phones, ph)
		g.out.byNumber[dialplan.Normalize(e164).National] = st.Code
	}
	x := g.rnd.IntN(100)
	for _, k := range profileKinds {
		if x < k.share {
			g.out.Profiles[st.Code] = k.profile
			break
		}
		x -= k.share
	}
	g.out.Data.Staff = append(g.out.Data.Staff, st)
}

// mobile returns a fresh mobile number (E.164) of a carrier drawn by market
// share, on one of that carrier's prefixes.
func (g *synthGen) mobile() string {
	x := g.rnd.IntN(100)
	carrier := carrierShares[len(carrierShares)-1].carrier
	for _, c := range carrierShares {
		if x < c.share {
			carrier = c.carrier
			break
		}
		x -= c.share
	}
	prefixes := dialplan.MobilePrefixes(carrier)
	for {
		national := prefixes[g.rnd.IntN(len(prefixes))] + fmt.Sprintf("%07d", g.rnd.IntN(10_000_000))
		if !g.used[national] {
			g.used[national] = true
			return "+84" + national[1:]
		}
	}
}

// landline returns a fresh landline (E.164) on areaCode: 11 digits in the
// national form, the subscriber number starting with 2–9.
func (g *synthGen) landline(areaCode string) string {
	digits := 11 - len(areaCode)
	for {
		sub := strconv.Itoa(2+g.rnd.IntN(8)) + fmt.Sprintf("%0*d", digits-1, g.rnd.IntN(pow10(digits-1)))
		national := areaCode + sub
		if !g.used[national] {
			g.used[national] = true
			return "+84" + national[1:]
		}
	}
}

func pow10(n int) int {
	p := 1
	for range n {
		p *= 10
	}
	return p
}

// apportion splits total over weights by largest remainders, each share at
// least floor (when total allows it).
func apportion(total int, weights []int, floor int) []int {
	out := make([]int, len(weights))
	if total >= floor*len(weights) {
		for i := range out {
			out[i] = floor
		}
		total -= floor * len(weights)
	}
	sum := 0
	for _, w := range weights {
		sum += w
	}
	given := 0
	rems := make([]int, len(weights))
	for i, w := range weights {
		q := total * w / sum
		out[i] += q
		given += q
		rems[i] = total * w % sum
	}
	for ; given < total; given++ {
		best := 0
		for i := range rems {
			if rems[i] > rems[best] {
				best = i
			}
		}
		out[best]++
		rems[best] = -1
	}
	return out
}

func mustSchedule(s string) dialplan.Schedule {
	sc, err := dialplan.ParseSchedule(s)
	if err != nil {
		panic(err)
	}
	return sc
}

// Person returns the staff code of the person a number (any form) belongs
// to.
func (s *SyntheticDirectory) Person(number string) (string, bool) {
	code, ok := s.byNumber[dialplan.Normalize(number).National]
	return code, ok
}

// CSVFile is one import file of the synthetic directory.
type CSVFile struct {
	Name string // regions.csv, areas.csv, staff.csv, cafes.csv
	Data []byte
}

// CSV returns the directory as the import files `hotline import` reads.
func (s *SyntheticDirectory) CSV() []CSVFile {
	d := &s.Data
	name := map[string]string{}
	for _, p := range dialplan.Provinces() {
		name[p.Code] = p.Name
	}
	provinceNames := func(codes []string) string {
		out := make([]string, len(codes))
		for i, c := range codes {
			out[i] = name[c]
		}
		return strings.Join(out, "; ")
	}
	national := func(e164 string) string { return dialplan.Normalize(e164).National }
	write := func(file string, header []string, rows [][]string) CSVFile {
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		_ = w.Write(header) // a bytes.Buffer does not fail
		_ = w.WriteAll(rows)
		return CSVFile{Name: file, Data: b.Bytes()}
	}
	var regions, areas, staff, cafes [][]string
	for _, r := range d.Regions {
		regions = append(regions, []string{r.Code, r.Name, r.Manager})
	}
	for _, a := range d.Areas {
		areas = append(areas, []string{a.Code, a.Name, a.Region, a.Manager, provinceNames(a.Provinces)})
	}
	for _, st := range d.Staff {
		phones := make([]string, len(st.Phones))
		for i, p := range st.Phones {
			phones[i] = national(p.E164)
			if p.Carrier != dialplan.CarrierUnknown {
				phones[i] += ":" + string(p.Carrier)
			}
		}
		hours := st.Hours.String()
		staff = append(staff, []string{st.Code, st.Name, string(st.Role), strings.Join(phones, "; "),
			provinceNames(st.Provinces), string(st.Status), hours})
	}
	for _, c := range d.Cafes {
		phones := make([]string, len(c.Phones))
		for i, p := range c.Phones {
			phones[i] = national(p)
		}
		cafes = append(cafes, []string{c.Code, c.Name, strings.Join(phones, "; "), name[c.Province], c.Technician,
			string(c.Status)})
	}
	return []CSVFile{
		write("regions.csv", []string{"code", "name", "manager"}, regions),
		write("areas.csv", []string{"code", "name", "region", "manager", "provinces"}, areas),
		write("staff.csv", []string{"code", "name", "role", "phones", "provinces", "status", "hours"}, staff),
		write("cafes.csv", []string{"code", "name", "phones", "province", "technician", "status"}, cafes),
	}
}
