package dialplan

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrInvalidDirectory is wrapped by every NewDirectory error.
var ErrInvalidDirectory = errors.New("invalid directory")

// DirectoryError lists every problem NewDirectory found, each naming the
// record and the offending value.
type DirectoryError struct {
	Problems []string
}

// Error lists the first problems found.
func (e *DirectoryError) Error() string {
	const show = 20
	p := e.Problems
	more := ""
	if len(p) > show {
		more = fmt.Sprintf("; … and %d more", len(p)-show)
		p = p[:show]
	}
	return fmt.Sprintf("%s: %s%s", ErrInvalidDirectory, strings.Join(p, "; "), more)
}

// Unwrap makes errors.Is(err, ErrInvalidDirectory) true.
func (e *DirectoryError) Unwrap() error { return ErrInvalidDirectory }

// Directory is an indexed, immutable snapshot of everything routing needs.
// It is safe for concurrent use. The pointers its methods return point into
// the snapshot and must not be modified.
type Directory struct {
	provinces      map[string]*Province // by code
	regions        map[string]*Region
	areas          map[string]*Area
	areaOfProvince map[string]*Area
	staff          map[string]*staffEntry
	staffList      []*staffEntry // by staffEntry.idx
	operators      []*staffEntry // every operator, by code
	techs          map[string][]*staffEntry
	cafeList       []Cafe     // every café, in the data's order
	cafeByKey      *cafeIndex // by CafeKey(code)
	cafeByDTMF     *cafeIndex // by DTMF key; ambiguous keys absent
	cafeByPhone    *cafeIndex // by E.164
	refusals       map[refusal]struct{}
	holidays       map[civilDate][]Holiday // the company's list
	phoneIDs       map[string]int          // staff E.164 → dense id (dialPhone.id)
	phoneList      []dialPhone             // by dialPhone.id
	routes         map[string]*provinceRoute
	tet            TetRule
	noPublic       bool
	public         sync.Map // year → *publicYear (computed public holidays)
	comp           sync.Map // year*128 + weekdaySet → map[civilDate]string (compensatory days off)
	counts         Counts

	// Plan's caches: scratch planners, trunk tables (see trunkTable).
	planners  sync.Pool // *planner
	trunkMu   sync.Mutex
	trunkTabs atomic.Pointer[[]*trunkTable]
}

// provinceRoute is what Plan needs about a province, with its reasons and
// notes built once.
type provinceRoute struct {
	techs       []*staffEntry // covering it, by code
	coverReason string        // "covers province X"
	noTechNote  string
	area        *Area // nil when in no area
	areaManager *staffEntry
	areaReason  string
	areaNote    string // no area, or an area without manager
	region      *Region
	regionMgr   *staffEntry
	regionWhy   string
	regionNote  string // a region without manager
}

type refusal struct{ staff, cafe string }

// staffEntry is a staff member plus what routing precomputes about them.
type staffEntry struct {
	*Staff
	phones    []dialPhone
	regions   []string   // regions whose holidays apply to this person
	rest      weekdaySet // weekly rest days (restDays), for compensatory days off
	hoursText string     // "hours " + Hours.String(), the off_duty detail
	idx       int        // dense index, for the planner's seen-set
	role      int        // roleIndex(Role), for per-role ring times
	refused   []*Cafe    // the cafés they refuse (pointers into the snapshot)
}

// dialPhone is a validated staff number in dialling order.
type dialPhone struct {
	e164     string
	national string
	carrier  Carrier // EffectiveCarrier
	id       int     // dense id of the E.164 number across all staff
}

// Counts sizes a Directory, for metrics and logs.
type Counts struct {
	Provinces   int `json:"provinces"`
	Regions     int `json:"regions"`
	Areas       int `json:"areas"`
	Staff       int `json:"staff"`
	ActiveStaff int `json:"active_staff"`
	Technicians int `json:"technicians"` // active technicians
	Operators   int `json:"operators"`   // active operators
	Cafes       int `json:"cafes"`
	ActiveCafes int `json:"active_cafes"`
	CafePhones  int `json:"cafe_phones"`
	Refusals    int `json:"refusals"`
	Holidays    int `json:"holidays"` // the company's list, not computed public holidays
}

// Option configures NewDirectory.
type Option func(*Directory)

// WithTet sets the computed Tết holiday to run from daysBefore days before
// lunar 1/1 to daysAfter days after it (default DefaultTet, 2 and 2: the last
// two days of the lunar year through lunar 1/3, five days).
func WithTet(daysBefore, daysAfter int) Option {
	return func(d *Directory) { d.tet = TetRule{DaysBefore: max(daysBefore, 0), DaysAfter: max(daysAfter, 0)} }
}

// WithoutPublicHolidays turns the computed Vietnamese public holidays off;
// only the directory's own holiday list applies.
func WithoutPublicHolidays() Option {
	return func(d *Directory) { d.noPublic = true }
}

// CafeKey is how café codes are compared: trimmed and upper-cased, and a
// code made only of digits loses its leading zeros ("007" and "7" are the
// same café) because a caller may or may not type them on the keypad.
func CafeKey(code string) string {
	code = strings.ToUpper(strings.TrimSpace(code))
	if allDigits(code) {
		code = strings.TrimLeft(code, "0")
		if code == "" {
			code = "0"
		}
	}
	return code
}

// dtmfKey is the key a café is found by from keypad digits: the digits of
// its code (letters before them dropped: "C001" is typed 001), leading
// zeros dropped. "" when the code cannot be typed (letters after digits).
func dtmfKey(code string) string {
	code = strings.ToUpper(strings.TrimSpace(code))
	i := strings.IndexFunc(code, func(r rune) bool { return r >= '0' && r <= '9' })
	if i < 0 || !allDigits(code[i:]) {
		return ""
	}
	return CafeKey(code[i:])
}

var validRoles = map[Role]bool{RoleTechnician: true, RoleAreaManager: true, RoleRegionalManager: true, RoleOperator: true}

// NewDirectory validates data and builds the indexed snapshot. It copies
// what it keeps, so data may be reused afterwards. Provinces default to
// Provinces() when data.Provinces is empty.
//
// It refuses (one DirectoryError listing every problem): duplicate codes;
// unknown staff, café, area, region or province codes in any reference; a
// café's technician who is not a technician; unknown roles and statuses;
// staff numbers that are not Vietnamese mobile or landline numbers
// (toll-free, premium, short, foreign and invalid numbers are never dialled);
// café numbers that do not normalise, or belong to two cafés; invalid
// schedule windows.
func NewDirectory(data DirectoryData, opts ...Option) (*Directory, error) {
	d := &Directory{
		provinces:      map[string]*Province{},
		regions:        map[string]*Region{},
		areas:          map[string]*Area{},
		areaOfProvince: map[string]*Area{},
		staff:          make(map[string]*staffEntry, len(data.Staff)),
		techs:          map[string][]*staffEntry{},
		refusals:       make(map[refusal]struct{}, len(data.Refusals)),
		holidays:       map[civilDate][]Holiday{},
		phoneIDs:       make(map[string]int, len(data.Staff)*2),
		tet:            DefaultTet,
	}
	for _, o := range opts {
		o(d)
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	provinces := data.Provinces
	if len(provinces) == 0 {
		provinces = tables.provinces
	}
	for i := range provinces {
		p := provinces[i]
		if p.Code == "" {
			bad("province %q: empty code", p.Name)
			continue
		}
		if _, dup := d.provinces[p.Code]; dup {
			bad("province %s: duplicate code", p.Code)
			continue
		}
		d.provinces[p.Code] = &p
	}

	for i := range data.Staff {
		s := data.Staff[i]
		if s.Code == "" {
			bad("staff %q: empty code", s.Name)
			continue
		}
		if _, dup := d.staff[s.Code]; dup {
			bad("staff %s: duplicate code", s.Code)
			continue
		}
		if !validRoles[s.Role] {
			bad("staff %s: unknown role %q", s.Code, s.Role)
		}
		if s.Status != StatusActive && s.Status != StatusSuspended && s.Status != StatusTerminated {
			bad("staff %s: unknown status %q", s.Code, s.Status)
		}
		s.Phones = slices.Clone(s.Phones)
		s.Provinces = slices.Clone(s.Provinces)
		s.Hours.Windows = slices.Clone(s.Hours.Windows)
		for _, w := range s.Hours.Windows {
			if w.Day < time.Sunday || w.Day > time.Saturday || w.Start < 0 || w.Start >= w.End || w.End > 24*60 {
				bad("staff %s: bad working window %+v", s.Code, w)
			}
		}
		e := &staffEntry{Staff: &s, hoursText: "hours " + s.Hours.String(), rest: restDays(s.Hours), idx: len(d.staff), role: roleIndex(s.Role)}
		seen := map[string]bool{}
		for _, ph := range s.Phones {
			n := Normalize(ph.E164)
			if !n.Dialable() {
				bad("staff %s: number %q is %s, not a Vietnamese mobile or landline number", s.Code, ph.E164, n.Kind)
				continue
			}
			if seen[n.E164] {
				bad("staff %s: number %s listed twice", s.Code, n.E164)
				continue
			}
			seen[n.E164] = true
			id, ok := d.phoneIDs[n.E164]
			if !ok {
				id = len(d.phoneIDs)
				d.phoneIDs[n.E164] = id
			}
			dp := dialPhone{e164: n.E164, national: n.National, id: id,
				carrier: EffectiveCarrier(Phone{E164: n.E164, Carrier: ph.Carrier})}
			if !ok {
				d.phoneList = append(d.phoneList, dp)
			}
			e.phones = append(e.phones, dp)
		}
		for _, p := range s.Provinces {
			if d.provinces[p] == nil {
				bad("staff %s: unknown province %q", s.Code, p)
			}
		}
		d.staff[s.Code] = e
		d.staffList = append(d.staffList, e)
	}
	staffRef := func(what, code string, role Role) {
		if code == "" {
			return
		}
		e := d.staff[code]
		switch {
		case e == nil:
			bad("%s: unknown staff %q", what, code)
		case e.Role != role:
			bad("%s: staff %s is %s, not %s", what, code, e.Role, role)
		}
	}

	for i := range data.Regions {
		r := data.Regions[i]
		if r.Code == "" || d.regions[r.Code] != nil {
			bad("region %q: empty or duplicate code", r.Code)
			continue
		}
		staffRef("region "+r.Code+" manager", r.Manager, RoleRegionalManager)
		d.regions[r.Code] = &r
	}
	for i := range data.Areas {
		a := data.Areas[i]
		if a.Code == "" || d.areas[a.Code] != nil {
			bad("area %q: empty or duplicate code", a.Code)
			continue
		}
		a.Provinces = slices.Clone(a.Provinces)
		if a.Region != "" && d.regions[a.Region] == nil {
			bad("area %s: unknown region %q", a.Code, a.Region)
		}
		staffRef("area "+a.Code+" manager", a.Manager, RoleAreaManager)
		for _, p := range a.Provinces {
			switch {
			case d.provinces[p] == nil:
				bad("area %s: unknown province %q", a.Code, p)
			case d.areaOfProvince[p] != nil:
				bad("area %s: province %s is already in area %s", a.Code, p, d.areaOfProvince[p].Code)
			default:
				d.areaOfProvince[p] = &a
			}
		}
		d.areas[a.Code] = &a
	}

	// Staff regions (for regional holidays) and indexes.
	for _, e := range d.staff {
		switch e.Role {
		case RoleTechnician:
			for _, p := range e.Provinces {
				if a := d.areaOfProvince[p]; a != nil && a.Region != "" && !slices.Contains(e.regions, a.Region) {
					e.regions = append(e.regions, a.Region)
				}
				d.techs[p] = append(d.techs[p], e)
			}
		case RoleOperator:
			d.operators = append(d.operators, e)
		}
	}
	for _, a := range d.areas {
		if e := d.staff[a.Manager]; e != nil && a.Region != "" && !slices.Contains(e.regions, a.Region) {
			e.regions = append(e.regions, a.Region)
		}
	}
	for _, r := range d.regions {
		if e := d.staff[r.Manager]; e != nil && !slices.Contains(e.regions, r.Code) {
			e.regions = append(e.regions, r.Code)
		}
	}
	byCode := func(a, b *staffEntry) int { return strings.Compare(a.Code, b.Code) }
	for p := range d.techs {
		slices.SortFunc(d.techs[p], byCode)
	}
	slices.SortFunc(d.operators, byCode)

	// The cafés and their numbers are each kept in one block (&cafes[i] is
	// café i), so the snapshot is few objects for the garbage collector.
	cafes := make([]Cafe, len(data.Cafes))
	codeCafe := make(map[string]*Cafe, len(data.Cafes))   // by CafeKey
	numberCafe := make(map[string]*Cafe, len(data.Cafes)) // by E.164
	nPhones := 0
	for i := range data.Cafes {
		nPhones += len(data.Cafes[i].Phones)
	}
	phones := make([]string, 0, nPhones)
	for i := range data.Cafes {
		cafes[i] = data.Cafes[i]
		c := &cafes[i]
		key := CafeKey(c.Code)
		if key == "" {
			bad("cafe %q: empty code", c.Name)
			continue
		}
		if other := codeCafe[key]; other != nil {
			bad("cafe %s: duplicate code (same as %s)", c.Code, other.Code)
			continue
		}
		if c.Status != StatusActive && c.Status != StatusTerminated {
			bad("cafe %s: unknown status %q", c.Code, c.Status)
		}
		if d.provinces[c.Province] == nil {
			bad("cafe %s: unknown province %q", c.Code, c.Province)
		}
		if c.Technician != "" {
			staffRef("cafe "+c.Code+" technician", c.Technician, RoleTechnician)
		}
		if c.Phones != nil { // a copy, nil staying nil as slices.Clone does
			start := len(phones)
			phones = append(phones, c.Phones...)
			c.Phones = phones[start:len(phones):len(phones)]
		}
		for j, raw := range c.Phones {
			n := Normalize(raw)
			if n.E164 == "" {
				bad("cafe %s: number %q is %s", c.Code, raw, n.Kind)
				continue
			}
			c.Phones[j] = n.E164
			if other := numberCafe[n.E164]; other != nil {
				bad("cafe %s: number %s already belongs to cafe %s", c.Code, n.E164, other.Code)
				continue
			}
			numberCafe[n.E164] = c
		}
		codeCafe[key] = c
		d.counts.CafePhones += len(c.Phones)
		if c.Status == StatusActive {
			d.counts.ActiveCafes++
		}
	}

	for _, r := range data.Refusals {
		if d.staff[r.Staff] == nil {
			bad("refusal %s/%s: unknown staff %q", r.Staff, r.Cafe, r.Staff)
		}
		if codeCafe[CafeKey(r.Cafe)] == nil {
			bad("refusal %s/%s: unknown cafe %q", r.Staff, r.Cafe, r.Cafe)
		}
		if c := codeCafe[CafeKey(r.Cafe)]; c != nil {
			d.refusals[refusal{r.Staff, c.Code}] = struct{}{}
			if e := d.staff[r.Staff]; e != nil && !slices.Contains(e.refused, c) {
				e.refused = append(e.refused, c)
			}
		}
	}
	for _, h := range data.Holidays {
		if h.Date.IsZero() {
			bad("holiday %q: no date", h.Name)
			continue
		}
		if h.Region != "" && d.regions[h.Region] == nil {
			bad("holiday %s %q: unknown region %q", h.Date.Format(time.DateOnly), h.Name, h.Region)
		}
		day := dateOf(h.Date)
		d.holidays[day] = append(d.holidays[day], h)
	}
	if len(problems) > 0 {
		return nil, &DirectoryError{Problems: problems}
	}

	d.compactCafes(cafes)
	d.routes = make(map[string]*provinceRoute, len(d.provinces))
	for code := range d.provinces {
		d.routes[code] = d.provinceRoute(code)
	}
	d.counts.Provinces = len(d.provinces)
	d.counts.Regions = len(d.regions)
	d.counts.Areas = len(d.areas)
	d.counts.Staff = len(d.staff)
	d.counts.Cafes = len(d.cafeList)
	d.counts.Refusals = len(d.refusals)
	d.counts.Holidays = len(data.Holidays)
	for _, e := range d.staff {
		if e.Status != StatusActive {
			continue
		}
		d.counts.ActiveStaff++
		switch e.Role {
		case RoleTechnician:
			d.counts.Technicians++
		case RoleOperator:
			d.counts.Operators++
		}
	}
	return d, nil
}

// compactCafes copies the valid cafés' codes, names and numbers into one
// string and shares the province and technician codes with the directory,
// then indexes the cafés by position (see cafeIndex): the snapshot then
// holds a handful of objects for 20,000 cafés rather than 100,000, and few
// pointers, which makes every garbage collection of the process shorter.
// Every café is valid (it runs only when NewDirectory found no problem).
func (d *Directory) compactCafes(cafes []Cafe) {
	size := 0
	for i := range cafes {
		c := &cafes[i]
		size += len(c.Code) + len(c.Name)
		for _, ph := range c.Phones {
			size += len(ph)
		}
	}
	var b strings.Builder
	b.Grow(size)
	for i := range cafes {
		c := &cafes[i]
		b.WriteString(c.Code)
		b.WriteString(c.Name)
		for _, ph := range c.Phones {
			b.WriteString(ph)
		}
	}
	text, off := b.String(), 0
	take := func(s string) string {
		off += len(s)
		return text[off-len(s) : off]
	}
	byCode := make(map[string]int32, len(cafes))
	byDTMF := make(map[string]int32, len(cafes)) // -1: two codes type the same digits
	byPhone := make(map[string]int32, d.counts.CafePhones)
	for i := range cafes {
		c := &cafes[i]
		c.Code, c.Name = take(c.Code), take(c.Name)
		for j, ph := range c.Phones {
			c.Phones[j] = take(ph)
			byPhone[c.Phones[j]] = int32(i)
		}
		if p := d.provinces[c.Province]; p != nil {
			c.Province = p.Code
		}
		if e := d.staff[c.Technician]; e != nil {
			c.Technician = e.Code
		}
		byCode[CafeKey(c.Code)] = int32(i)
		if k := dtmfKey(c.Code); k != "" {
			if _, taken := byDTMF[k]; taken {
				byDTMF[k] = -1
			} else {
				byDTMF[k] = int32(i)
			}
		}
	}
	maps.DeleteFunc(byDTMF, func(_ string, i int32) bool { return i < 0 })
	d.cafeList = cafes
	d.cafeByKey = newCafeIndex(byCode, cafeHasCode)
	d.cafeByDTMF = newCafeIndex(byDTMF, cafeHasDTMF)
	d.cafeByPhone = newCafeIndex(byPhone, cafeHasPhone)
	refusals := make(map[refusal]struct{}, len(d.refusals))
	for r := range d.refusals {
		refusals[refusal{d.staff[r.staff].Code, cafes[byCode[CafeKey(r.cafe)]].Code}] = struct{}{}
	}
	d.refusals = refusals
}

// cafe returns the café of a key in one of the café indexes, nil if none.
func (d *Directory) cafe(x *cafeIndex, key string) *Cafe {
	if i, ok := x.get(d.cafeList, key); ok {
		return &d.cafeList[i]
	}
	return nil
}

// provinceRoute precomputes Plan's view of a province.
func (d *Directory) provinceRoute(code string) *provinceRoute {
	pr := &provinceRoute{
		techs:       d.techs[code],
		coverReason: "covers province " + code,
		noTechNote:  "no technician covers province " + code,
	}
	a := d.areaOfProvince[code]
	if a == nil {
		pr.areaNote = "province " + code + " is in no area"
		return pr
	}
	pr.area = a
	if a.Manager != "" {
		pr.areaManager, pr.areaReason = d.staff[a.Manager], "area manager of area "+a.Code
	} else {
		pr.areaNote = "area " + a.Code + " has no manager"
	}
	if r := d.regions[a.Region]; r != nil {
		pr.region = r
		if r.Manager != "" {
			pr.regionMgr, pr.regionWhy = d.staff[r.Manager], "regional manager of region "+r.Code
		} else {
			pr.regionNote = "region " + r.Code + " has no manager"
		}
	}
	return pr
}

// roleIndex numbers the roles for per-role arrays; unknown roles are 4.
func roleIndex(r Role) int {
	switch r {
	case RoleTechnician:
		return 0
	case RoleAreaManager:
		return 1
	case RoleRegionalManager:
		return 2
	case RoleOperator:
		return 3
	}
	return 4
}

// Counts returns the directory's sizes.
func (d *Directory) Counts() Counts { return d.counts }

// Province returns a province by code.
func (d *Directory) Province(code string) (*Province, bool) {
	p, ok := d.provinces[code]
	return p, ok
}

// ProvinceByAreaCode returns the province whose landline area code is code,
// with or without its leading 0 ("0299" or "299": Sóc Trăng). Only digits
// match; "0" alone is no province.
func (d *Directory) ProvinceByAreaCode(code string) (*Province, bool) {
	if len(code) < 2 || !allDigits(code) {
		return nil, false
	}
	if code[0] != '0' {
		code = "0" + code
	}
	for _, p := range d.provinces {
		if p.AreaCode == code {
			return p, true
		}
	}
	return nil, false
}

// Region returns a region by code.
func (d *Directory) Region(code string) (*Region, bool) {
	r, ok := d.regions[code]
	return r, ok
}

// Area returns an area by code.
func (d *Directory) Area(code string) (*Area, bool) {
	a, ok := d.areas[code]
	return a, ok
}

// AreaOf returns the area a province belongs to.
func (d *Directory) AreaOf(province string) (*Area, bool) {
	a, ok := d.areaOfProvince[province]
	return a, ok
}

// Staff returns a staff member by code.
func (d *Directory) Staff(code string) (*Staff, bool) {
	e, ok := d.staff[code]
	if !ok {
		return nil, false
	}
	return e.Staff, true
}

// CafeByCode returns a café by code, compared as CafeKey does.
func (d *Directory) CafeByCode(code string) (*Cafe, bool) {
	c := d.cafe(d.cafeByKey, CafeKey(code))
	ok := c != nil
	return c, ok
}

// CafeByDTMF returns the café whose code is the typed digits (leading zeros
// and a letter prefix of the code ignored: "001", "1" and "0001" all find
// "C001"). '#' and '*' are ignored. False when no café, or two cafés, match.
func (d *Directory) CafeByDTMF(digits string) (*Cafe, bool) {
	digits = strings.Map(func(r rune) rune {
		if r == '#' || r == '*' || r == ' ' {
			return -1
		}
		return r
	}, digits)
	if !allDigits(digits) {
		return nil, false
	}
	c := d.cafe(d.cafeByDTMF, CafeKey(digits))
	return c, c != nil
}

// CafeByPhone returns the café a number belongs to. number may be in any
// form Normalize accepts.
func (d *Directory) CafeByPhone(number string) (*Cafe, bool) {
	c := d.cafe(d.cafeByPhone, number)
	if c == nil {
		if n := Normalize(number); n.E164 != "" {
			c = d.cafe(d.cafeByPhone, n.E164)
		}
	}
	return c, c != nil
}

// Technicians returns the active technicians covering a province, by code.
func (d *Directory) Technicians(province string) []*Staff {
	var out []*Staff
	for _, e := range d.techs[province] {
		if e.Status == StatusActive {
			out = append(out, e.Staff)
		}
	}
	return out
}

// Operators returns the active operators, by code.
func (d *Directory) Operators() []*Staff {
	var out []*Staff
	for _, e := range d.operators {
		if e.Status == StatusActive {
			out = append(out, e.Staff)
		}
	}
	return out
}

// Refuses reports whether a technician refuses a café (by code).
func (d *Directory) Refuses(staff, cafe string) bool {
	c := d.cafe(d.cafeByKey, CafeKey(cafe))
	if c == nil {
		return false
	}
	_, ok := d.refusals[refusal{staff, c.Code}]
	return ok
}

// RegionCodes lists the directory's region codes, sorted (for metrics labels).
func (d *Directory) RegionCodes() []string { return slices.Sorted(maps.Keys(d.regions)) }

// StaffCodes lists every staff code in the directory, sorted.
func (d *Directory) StaffCodes() []string { return slices.Sorted(maps.Keys(d.staff)) }
