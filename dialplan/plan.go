package dialplan

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Live is the call flow's view of who is already on a hotline call.
type Live interface {
	// Busy reports whether the staff member is on a hotline call (ringing,
	// confirming or bridged) right now.
	Busy(staffCode string) bool
}

// Rotation supplies fairness state: when each staff member was last rung.
type Rotation interface {
	// LastRung returns when the staff member was last rung by the hotline,
	// the zero time if never (or not known).
	LastRung(staffCode string) time.Time
}

// TrunkHealth says which trunks are congested or unavailable.
type TrunkHealth interface {
	// Unavailable reports whether the trunk (a Trunks key: a carrier name or
	// "default") should not be used now.
	Unavailable(trunk string) bool
}

// DefaultTrunk is the Trunks key of the trunk used for carriers without
// their own (HOTLINE_TRUNK_DEFAULT).
const DefaultTrunk = "default"

// Trunks maps a carrier name ("viettel") or DefaultTrunk to a dial template
// such as "PJSIP/{number}@gw-viettel". In a template {number} is replaced by
// the national form "0xxxxxxxxx" and {e164} by "+84xxxxxxxxx". It is the
// shape of config's trunks map and HOTLINE_TRUNK_<CARRIER> variables.
type Trunks map[string]string

// Validate checks every template names the number to dial.
func (t Trunks) Validate() error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(t)) {
		tpl := t[name]
		if !strings.Contains(tpl, "{number}") && !strings.Contains(tpl, "{e164}") {
			errs = append(errs, fmt.Errorf("trunk %s: template %q has neither {number} nor {e164}", name, tpl))
		}
	}
	return errors.Join(errs...)
}

// DefaultRing is the ring time per role when PlanRequest.Ring has none.
var DefaultRing = map[Role]time.Duration{
	RoleTechnician:      25 * time.Second,
	RoleAreaManager:     25 * time.Second,
	RoleRegionalManager: 25 * time.Second,
	RoleOperator:        30 * time.Second,
}

// PlanRequest is everything Plan needs besides the directory.
type PlanRequest struct {
	ID       Identification
	At       time.Time // the call's time; schedules and holidays use Asia/Ho_Chi_Minh
	Live     Live      // nil: nobody is busy
	Rotation Rotation  // nil: nobody was rung before; ties go by staff code
	Trunks   Trunks
	Health   TrunkHealth            // nil: every trunk is usable
	Ring     map[Role]time.Duration // missing roles use DefaultRing
	// MaxTargets stops the plan after that many targets (0 = no limit):
	// the call flow never rings more than its own limit, and people past
	// it need not be examined. A note says how many were not examined.
	MaxTargets int
	// Province, when set, routes on this province (a code) instead of the
	// caller's: a transfer to another area. Its technicians are rung (the
	// café's assigned technician only when it is the café's own province),
	// then its area and regional managers, then operators. The café still
	// counts for refusals, and a terminated café still gets operators only.
	Province string
}

// SkipReason says why a person was left out of a plan. The set is fixed.
type SkipReason string

// Skip reasons.
const (
	SkipSuspended   SkipReason = "suspended"    // staff status suspended
	SkipTerminated  SkipReason = "terminated"   // staff status terminated
	SkipOffDuty     SkipReason = "off_duty"     // outside their working hours
	SkipHoliday     SkipReason = "holiday"      // a public/company holiday, or their compensatory day off for one (nghỉ bù), and their hours are not 24/7
	SkipRefusesCafe SkipReason = "refuses_cafe" // the technician refuses this café
	SkipOnCall      SkipReason = "on_call"      // already on a hotline call (Live.Busy)
	SkipDuplicate   SkipReason = "duplicate"    // already in the plan, or all their numbers are
	SkipNoPhone     SkipReason = "no_phone"     // no number on record
	SkipNoTrunk     SkipReason = "no_trunk"     // no configured trunk for any of their numbers
)

// Route is one way to dial a number.
type Route struct {
	Trunk string // Trunks key
	Dial  string // the dial string
}

// Target is one number of one person to ring, in order.
type Target struct {
	Staff       string
	Name        string
	Role        Role
	Number      string  // E.164, always from the directory
	Carrier     Carrier // EffectiveCarrier of the number
	Trunk       string  // Trunks key used
	Dial        string  // Trunks[Trunk] with the number filled in
	RingSeconds int
	Reason      string // why this person is in the plan
	// Alternate is the same number through another healthy trunk, to try
	// when this leg fails with congestion on Trunk. nil when there is no
	// other usable trunk. When the carrier's own trunk is marked unavailable
	// the plan already dials through another trunk (Trunk says which, Reason
	// says why) and Alternate is the next healthy one, if any.
	Alternate *Route
}

// Skip records a person left out of the plan, and why.
type Skip struct {
	Staff  string
	Name   string
	Role   Role
	Reason SkipReason
	Detail string // e.g. the holiday's name, the refused café
}

// Decision is the ordered ringing plan for one call, with its explanation.
type Decision struct {
	ID       Identification
	At       time.Time // in Asia/Ho_Chi_Minh
	Province string    // province code routed on ("" when unknown)
	Area     string    // area code ("" when unknown)
	Region   string    // region code ("" when unknown)
	Targets  []Target
	Skipped  []Skip
	Notes    []string // facts that shaped the plan (terminated café, trunk problems, …)
}

// planner carries one Plan call's state. Planners are reused through the
// Directory's pool. Targets and skips are gathered as small records without
// pointers (no write barriers while the garbage collector runs, nothing to
// clear), and the Decision returned is built from them once, exactly sized.
type planner struct {
	d       *Directory
	req     PlanRequest
	dec     Decision
	day     time.Weekday
	minute  int
	seen    bitset // staffEntry.idx of people already targeted or skipped
	numbers bitset // dialPhone.id of numbers already targeted
	cafe    *Cafe
	// elsewhere: the plan is for another province than the café's
	// (PlanRequest.Province): the café's assigned technician is not first.
	elsewhere bool
	// The directory's café of the same code, for refusals, once looked up.
	dirCafe    *Cafe
	cafeLooked bool
	// Holidays of the call's date, looked up once per plan.
	date          civilDate
	publicHoliday string    // computed public holiday's name, "" if none
	dayHolidays   []Holiday // the directory's list for that date
	trunks        *trunkTable
	down          bitset           // trunk indexes marked unavailable
	ring          [5]time.Duration // per roleIndex; 0 = not looked up yet
	targets       []targetRec
	skips         []skipRec
	strs          []string // reasons and details the records point to
	nAlts         int      // targets with an alternate
	rankBuf       []ranked
	truncated     int // people not examined because MaxTargets was reached
	// The last reason with a replaced trunk, to share its string.
	lastReason, lastWhy string
	lastFull            int32 // its index in strs
}

// targetRec is a Target as indexes.
type targetRec struct {
	staff  int32 // staffEntry.idx
	phone  int32 // index in the person's phones
	trunk  int32 // trunk table index
	alt    int32 // trunk table index of the alternate, -1 when none
	reason int32 // index in planner.strs
}

// skipRec is a Skip as indexes.
type skipRec struct {
	staff  int32
	reason int32 // index in skipReasons
	detail int32 // index in planner.strs, or noDetail or hoursDetail
}

// Special skipRec.detail values.
const (
	noDetail    = -1 // ""
	hoursDetail = -2 // the person's hours text
)

// skipReasons numbers the skip reasons for skipRec.
var skipReasons = [...]SkipReason{SkipSuspended, SkipTerminated, SkipOffDuty, SkipHoliday, SkipRefusesCafe,
	SkipOnCall, SkipDuplicate, SkipNoPhone, SkipNoTrunk}

// Indexes of skipReasons.
const (
	skipSuspended = iota
	skipTerminated
	skipOffDuty
	skipHoliday
	skipRefusesCafe
	skipOnCall
	skipDuplicate
	skipNoPhone
	skipNoTrunk
)

// getPlanner returns a clean planner sized for the directory.
func (d *Directory) getPlanner() *planner {
	p, _ := d.planners.Get().(*planner)
	if p == nil {
		return &planner{seen: newBitset(len(d.staff)), numbers: newBitset(len(d.phoneList))}
	}
	return p
}

// putPlanner resets a planner and returns it to the pool. Its slices keep
// their arrays; strs is cleared so as not to keep a plan's strings alive.
func (d *Directory) putPlanner(p *planner) {
	clear(p.seen)
	clear(p.numbers)
	clear(p.down)
	clear(p.strs)
	p.req, p.dec = PlanRequest{}, Decision{}
	p.cafe, p.dirCafe, p.cafeLooked, p.elsewhere = nil, nil, false, false
	p.date, p.publicHoliday, p.dayHolidays, p.trunks = 0, "", nil, nil
	p.ring = [5]time.Duration{}
	p.targets, p.skips, p.strs, p.rankBuf = p.targets[:0], p.skips[:0], p.strs[:0], p.rankBuf[:0]
	p.nAlts, p.truncated = 0, 0
	p.lastReason, p.lastWhy, p.lastFull = "", "", 0
	d.planners.Put(p)
}

// Plan decides who is rung, in what order, on which number and through which
// trunk, and why. The order:
//
//  1. with an active café: its assigned technician; if it has none, or that
//     technician is skipped for any reason (refusing the café included), the
//     active technicians covering the café's province, least recently rung
//     first (ties by staff code);
//     with only a province (area code): the technicians covering it, rotated;
//  2. the manager of the province's area;
//  3. the manager of that area's region;
//  4. every operator, rotated like technicians.
//
// With PlanRequest.Province (a transfer) the route is that province's
// instead of the café's. Unknown callers, and terminated cafés, go to
// operators only. A person is
// skipped (see SkipReason) when suspended or terminated, refusing the café,
// on a holiday or a compensatory day off with non-24/7 hours (DayOffAt),
// outside their hours, already on a call,
// or already in the plan. Each person's numbers are rung in their own order,
// each number through its carrier's trunk (else the default trunk); a trunk
// marked unavailable is replaced by another usable one. Only the directory's
// numbers are ever dialled, and no number twice.
func (d *Directory) Plan(req PlanRequest) Decision {
	local := req.At.In(hcm)
	p := d.getPlanner()
	defer d.putPlanner(p)
	p.d, p.req = d, req
	p.dec = Decision{ID: req.ID, At: local}
	p.day, p.minute = local.Weekday(), local.Hour()*60+local.Minute()
	p.date = dateOf(local)
	p.publicHoliday = d.publicHolidayOn(p.date)
	p.dayHolidays = d.holidays[p.date]
	p.trunks = d.trunkTable(req.Trunks)
	if n := len(p.trunks.names); cap(p.down)*64 < n {
		p.down = newBitset(n)
	} else {
		p.down = p.down[:(n+63)/64]
	}
	if req.Health != nil {
		for i, name := range p.trunks.names {
			if req.Health.Unavailable(name) {
				p.down.set(i)
			}
		}
	}
	id := req.ID
	province := id.Province
	if c := id.Cafe; c != nil {
		if c.Status != StatusActive {
			p.note("café " + c.Code + " is " + string(c.Status) + ": operators only")
			province = ""
		} else {
			p.cafe = c
			province = c.Province
		}
	}
	if req.Province != "" && (id.Cafe == nil || p.cafe != nil) {
		if p.cafe != nil && p.cafe.Province != req.Province {
			p.elsewhere = true
		}
		province = req.Province
	}
	var pr *provinceRoute
	if province != "" {
		if pr = d.routes[province]; pr == nil {
			p.note("province " + province + " is not in the directory: operators only")
			province = ""
		}
	}
	p.dec.Province = province
	if pr != nil {
		p.technicians(pr)
		if a := pr.area; a != nil {
			p.dec.Area = a.Code
			if a.Manager != "" {
				p.consider(pr.areaManager, pr.areaReason)
			} else {
				p.note(pr.areaNote)
			}
			if r := pr.region; r != nil {
				p.dec.Region = r.Code
				if r.Manager != "" {
					p.consider(pr.regionMgr, pr.regionWhy)
				} else {
					p.note(pr.regionNote)
				}
			}
		} else {
			p.note(pr.areaNote)
		}
	}
	p.considerAll(d.operators, "operator")
	if p.truncated > 0 {
		p.note("stopped at " + strconv.Itoa(p.req.MaxTargets) + " targets: " +
			strconv.Itoa(p.truncated) + " more people not examined")
	}
	if len(p.targets) == 0 {
		p.note("nobody can be rung")
	}
	return p.decision()
}

// decision builds the Decision from the records.
func (p *planner) decision() Decision {
	dec := p.dec
	tt, staff := p.trunks, p.d.staffList
	dec.Targets = make([]Target, len(p.targets))
	var alts []Route
	if p.nAlts > 0 {
		alts = make([]Route, 0, p.nAlts)
	}
	for i, r := range p.targets {
		e := staff[r.staff]
		ph := &e.phones[r.phone]
		t := &dec.Targets[i]
		t.Staff, t.Name, t.Role = e.Code, e.Name, e.Role
		t.Number, t.Carrier = ph.e164, ph.carrier
		t.Trunk, t.Dial = tt.names[r.trunk], tt.dial(ph.id, int(r.trunk))
		t.RingSeconds = int(p.ringOf(e) / time.Second)
		t.Reason = p.strs[r.reason]
		if r.alt >= 0 {
			alts = append(alts, Route{Trunk: tt.names[r.alt], Dial: tt.dial(ph.id, int(r.alt))})
			t.Alternate = &alts[len(alts)-1]
		}
	}
	dec.Skipped = make([]Skip, len(p.skips))
	for i, r := range p.skips {
		e := staff[r.staff]
		s := &dec.Skipped[i]
		s.Staff, s.Name, s.Role, s.Reason = e.Code, e.Name, e.Role, skipReasons[r.reason]
		switch r.detail {
		case noDetail:
		case hoursDetail:
			s.Detail = e.hoursText
		default:
			s.Detail = p.strs[r.detail]
		}
	}
	return dec
}

func (p *planner) note(s string) { p.dec.Notes = append(p.dec.Notes, s) }

// str stores a string for the records, sharing the last one when equal.
func (p *planner) str(s string) int32 {
	if n := len(p.strs); n > 0 && p.strs[n-1] == s {
		return int32(n - 1)
	}
	p.strs = append(p.strs, s)
	return int32(len(p.strs) - 1)
}

// technicians adds the café's technician, else the province's technicians.
func (p *planner) technicians(pr *provinceRoute) {
	if c := p.cafe; c != nil && c.Technician != "" && !p.elsewhere {
		if p.consider(p.d.staff[c.Technician], "assigned technician of café "+c.Code) {
			return
		}
	}
	if len(pr.techs) == 0 {
		p.note(pr.noTechNote)
	}
	p.considerAll(pr.techs, pr.coverReason)
}

// considerAll considers people (sorted by code) in rotation order: least
// recently rung first, ties by code. Inactive people keep their place
// relative to each other; they are skipped anyway.
func (p *planner) considerAll(people []*staffEntry, reason string) {
	if p.req.Rotation == nil || len(people) < 2 || p.full() {
		for _, e := range people { // when full, consider only counts them
			p.consider(e, reason)
		}
		return
	}
	rs := p.rankBuf[:0]
	for i, e := range people {
		last := int64(math.MinInt64)
		if t := p.req.Rotation.LastRung(e.Code); !t.IsZero() {
			last = t.UnixNano()
		}
		rs = append(rs, ranked{last, i})
	}
	sortRanked(rs)
	p.rankBuf = rs
	for _, r := range rs {
		p.consider(people[r.i], reason)
	}
}

// sortRanked sorts by last, then i: insertion sort for the usual few
// dozen people of a province or the operators, which is fast and needs no
// comparison function call.
func sortRanked(rs []ranked) {
	if len(rs) > 64 {
		slices.SortFunc(rs, func(a, b ranked) int {
			if c := cmp.Compare(a.last, b.last); c != 0 {
				return c
			}
			return a.i - b.i
		})
		return
	}
	for i := 1; i < len(rs); i++ {
		r := rs[i]
		j := i
		for ; j > 0 && (rs[j-1].last > r.last || rs[j-1].last == r.last && rs[j-1].i > r.i); j-- {
			rs[j] = rs[j-1]
		}
		rs[j] = r
	}
}

// ranked is a person (by input position) with the time they were last
// rung, for considerAll. It has no pointers: sorting needs no write barriers.
type ranked struct {
	last int64 // Unix ns; the zero time sorts first
	i    int   // input position: ties keep code order
}

// consider adds a person's numbers as targets, or records why not. It
// returns whether at least one target was added.
func (p *planner) consider(e *staffEntry, reason string) bool {
	if e == nil {
		return false
	}
	if p.full() {
		if !p.seen.has(e.idx) {
			p.seen.set(e.idx)
			p.truncated++
		}
		return false
	}
	if p.seen.has(e.idx) {
		for _, t := range p.targets {
			if int(t.staff) == e.idx {
				p.skip(e, skipDuplicate, p.str("already in the plan as "+p.strs[t.reason]))
				break
			}
		}
		return false
	}
	p.seen.set(e.idx)
	switch {
	case e.Status == StatusSuspended:
		p.skip(e, skipSuspended, noDetail)
		return false
	case e.Status != StatusActive:
		p.skip(e, skipTerminated, noDetail)
		return false
	case p.cafe != nil && e.Role == RoleTechnician && len(e.refused) > 0 && p.refusesCafe(e):
		p.skip(e, skipRefusesCafe, p.str("refuses café "+p.cafe.Code))
		return false
	}
	if !e.Hours.Always {
		if name, ok := p.holiday(e); ok {
			p.skip(e, skipHoliday, p.str(name))
			return false
		}
		if !openAt(e.Hours, p.day, p.minute) {
			p.skip(e, skipOffDuty, hoursDetail)
			return false
		}
	}
	if p.req.Live != nil && p.req.Live.Busy(e.Code) {
		p.skip(e, skipOnCall, noDetail)
		return false
	}
	if len(e.phones) == 0 {
		p.skip(e, skipNoPhone, noDetail)
		return false
	}
	added, shared, noTrunk := 0, -1, 0
	for k := range e.phones {
		ph := &e.phones[k]
		if p.full() {
			break
		}
		if p.numbers.has(ph.id) {
			shared = ph.id
			continue
		}
		primary, alternate, why, ok := p.routes(ph)
		if !ok {
			noTrunk++
			continue
		}
		p.numbers.set(ph.id)
		if alternate >= 0 {
			p.nAlts++
		}
		p.targets = append(p.targets, targetRec{staff: int32(e.idx), phone: int32(k),
			trunk: int32(primary), alt: int32(alternate), reason: p.reasonWith(reason, why)})
		added++
	}
	switch {
	case added > 0:
		return true
	case noTrunk > 0:
		p.skip(e, skipNoTrunk, p.str("no trunk configured for their numbers"))
	default:
		p.skip(e, skipDuplicate, p.str("number already in the plan for "+p.ownerOf(shared)))
	}
	return false
}

// refusesCafe is Directory.Refuses(e.Code, p.cafe.Code), with the café
// looked up once per plan.
func (p *planner) refusesCafe(e *staffEntry) bool {
	if !p.cafeLooked {
		p.dirCafe, p.cafeLooked = p.d.cafe(p.d.cafeByKey, CafeKey(p.cafe.Code)), true
	}
	return p.dirCafe != nil && slices.Contains(e.refused, p.dirCafe)
}

// ringOf is the ring time of a person's role: PlanRequest.Ring, else
// DefaultRing, looked up once per role and plan.
func (p *planner) ringOf(e *staffEntry) time.Duration {
	if r := p.ring[e.role]; r != 0 {
		return r
	}
	ring := p.req.Ring[e.Role]
	if ring <= 0 {
		ring = DefaultRing[e.Role]
	}
	if ring != 0 {
		p.ring[e.role] = ring
	}
	return ring
}

// reasonWith stores reason, followed by why in parentheses when there is
// one. Consecutive targets usually share both, and then the string.
func (p *planner) reasonWith(reason, why string) int32 {
	if why == "" {
		return p.str(reason)
	}
	if reason != p.lastReason || why != p.lastWhy || p.lastWhy == "" {
		p.lastReason, p.lastWhy = reason, why
		p.lastFull = p.str(reason + " (" + why + ")")
	}
	return p.lastFull
}

// full reports whether MaxTargets is reached.
func (p *planner) full() bool {
	return p.req.MaxTargets > 0 && len(p.targets) >= p.req.MaxTargets
}

// ownerOf returns who already has a number in the plan (rare: a shared phone).
func (p *planner) ownerOf(phoneID int) string {
	for _, t := range p.targets {
		if e := p.d.staffList[t.staff]; e.phones[t.phone].id == phoneID {
			return e.Code
		}
	}
	return ""
}

// bitset is a fixed-size set of small integers.
type bitset []uint64

func newBitset(n int) bitset    { return make(bitset, (n+63)/64) }
func (b bitset) has(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }
func (b bitset) set(i int)      { b[i/64] |= 1 << (i % 64) }

func (p *planner) skip(e *staffEntry, reason int, detail int32) {
	p.skips = append(p.skips, skipRec{staff: int32(e.idx), reason: int32(reason), detail: detail})
}

// holiday is DayOffAt for the plan's date and a person whose hours are not
// 24/7, with the day's lookups done once.
func (p *planner) holiday(e *staffEntry) (string, bool) {
	return p.d.dayOff(p.date, p.publicHoliday, p.dayHolidays, e.rest, e.regions)
}

// routes picks the trunk for a number (trunk table indexes): its carrier's
// trunk, else the default; if that one is unavailable, the first usable of
// the default and the other carriers' trunks (by name). The alternate is
// the next usable one, -1 when none. why explains a replaced trunk. ok is
// false when no trunk is configured.
func (p *planner) routes(ph *dialPhone) (primary, alternate int, why string, ok bool) {
	tt := p.trunks
	want := -1
	if ph.carrier != "" {
		want = tt.index(string(ph.carrier))
	}
	if want < 0 {
		want = tt.def
	}
	if want < 0 {
		return -1, -1, "", false
	}
	primary, alternate = -1, -1
	try := func(i int) bool {
		if p.down.has(i) {
			return false
		}
		if primary < 0 {
			primary = i
			return false
		}
		alternate = i
		return true
	}
	done := try(want)
	if !done && want != tt.def && tt.def >= 0 {
		done = try(tt.def)
	}
	for i := range tt.names {
		if done {
			break
		}
		if i != want && i != tt.def {
			done = try(i)
		}
	}
	switch {
	case primary < 0:
		// Every trunk is marked unavailable: health may be stale, so
		// still try the number's own trunk rather than nobody.
		return want, -1, "every trunk marked unavailable", true
	case primary != want:
		return primary, alternate, tt.via[want*len(tt.names)+primary], true
	}
	return primary, alternate, "", true
}

// openAt is Schedule.OpenAt with the local weekday and minute precomputed.
func openAt(s Schedule, day time.Weekday, minute int) bool {
	if s.Always {
		return true
	}
	for _, w := range s.Windows {
		if w.Day == day && w.Start <= minute && minute < w.End {
			return true
		}
	}
	return false
}
