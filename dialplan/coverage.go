package dialplan

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// DefaultCoverageHours is the window Coverage looks at when
// CoverageRequest.Hours is 0: the coming 7 days.
const DefaultCoverageHours = 7 * 24

// CafeProblem says what is wrong with a café in a Coverage. The set is fixed.
type CafeProblem string

// Café problems.
const (
	// CafeNoTechnician: at some time of the window a call from the café
	// rings no technician (only managers and operators, or nobody).
	CafeNoTechnician CafeProblem = "no_technician"
	// CafeNoNumber: the café has no phone number on record, so it is never
	// recognised by its caller ID (it must type its code).
	CafeNoNumber CafeProblem = "no_number"
)

// CoverageRequest is what Coverage looks at.
type CoverageRequest struct {
	// From is the start of the window, rounded down to the hour in
	// Asia/Ho_Chi_Minh.
	From time.Time
	// Hours is the window's length; DefaultCoverageHours when 0.
	Hours int
	// Trunks are the configured dial templates: a technician whose numbers
	// have no trunk is not rung.
	Trunks Trunks
}

// Coverage says when calls would ring no technician in a window of time:
// per province (a caller known by the province only, or a café without a
// technician of its own) and per café where it differs. Every answer is a
// Directory.Plan of the same call at the same time, so it agrees with
// `hotline route` by construction. Nobody is on a call and every trunk is
// usable (Live and Health nil).
type Coverage struct {
	From      time.Time          `json:"from"` // Asia/Ho_Chi_Minh
	To        time.Time          `json:"to"`
	Provinces []ProvinceCoverage `json:"provinces"` // by code, never null
	Cafes     []CafeCoverage     `json:"cafes"`     // by code, never null
	cafeGaps  map[string][]Gap   // gaps of cafés with a technician or refusals of their own
	byProv    map[string]int     // index in Provinces
	cafeProv  map[string]string  // café code → province, active cafés
	instants  []time.Time        // when the plans were made
}

// ProvinceCoverage is one province's coverage. Provinces listed are those
// with an active café, an active technician covering them, or an area.
type ProvinceCoverage struct {
	Province    string `json:"province"` // code, e.g. "can-tho"
	Name        string `json:"name"`
	Area        string `json:"area"`   // "" when in no area
	Region      string `json:"region"` // "" when in no region
	Cafes       int    `json:"cafes"`  // active cafés
	Technicians int    `json:"technicians"`
	// GapHours counts the clock hours of the window with at least one
	// minute when a caller known only by this province (area code) rings
	// no technician; so does a café of it without a technician of its own.
	GapHours int   `json:"gap_hours"`
	Gaps     []Gap `json:"gaps"` // never null
	// UncoveredCafes counts the active cafés of the province that ring no
	// technician at some time of the window.
	UncoveredCafes int `json:"uncovered_cafes"`
}

// CafeCoverage is a café whose coverage is not told by its province's: it
// has no phone number, or its own technician or refusals give it other gaps.
type CafeCoverage struct {
	Cafe       string      `json:"cafe"`
	Name       string      `json:"name"`
	Province   string      `json:"province"`
	Region     string      `json:"region"`
	Technician string      `json:"technician"` // assigned, "" when none
	Problem    CafeProblem `json:"problem"`
	GapHours   int         `json:"gap_hours"`
	Gaps       []Gap       `json:"gaps"` // never null
}

// Gap is a time when no technician would be rung: [From, To).
type Gap struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Skipped are the technicians examined at From and why each was not
	// rung (off_duty, holiday, suspended, refuses_cafe, …).
	Skipped []GapSkip `json:"skipped"` // never null
	// Note is set when no technician was examined at all.
	Note string `json:"note,omitempty"`
}

// GapSkip is a technician left out at a gap's start.
type GapSkip struct {
	Staff  string     `json:"staff"`
	Reason SkipReason `json:"reason"`
}

// Why explains a gap in a few words: "KTV02 off_duty, KTV03 suspended".
func (g Gap) Why() string {
	if len(g.Skipped) == 0 {
		if g.Note != "" {
			return g.Note
		}
		return "no technician"
	}
	parts := make([]string, len(g.Skipped))
	for i, s := range g.Skipped {
		parts[i] = s.Staff + " " + string(s.Reason)
	}
	return strings.Join(parts, ", ")
}

// Covered reports whether t is outside every gap.
func covered(gaps []Gap, t time.Time) bool {
	for _, g := range gaps {
		if !t.Before(g.From) && t.Before(g.To) {
			return false
		}
	}
	return true
}

// ProvinceGaps returns a listed province's gaps (nil when none or not listed).
func (cv *Coverage) ProvinceGaps(province string) []Gap {
	if i, ok := cv.byProv[province]; ok {
		return cv.Provinces[i].Gaps
	}
	return nil
}

// CafeGaps returns when a call from the active café code would ring no
// technician: its own gaps when its technician or refusals set it apart,
// else its province's. nil for an unknown or terminated café.
func (cv *Coverage) CafeGaps(code string) []Gap {
	if g, ok := cv.cafeGaps[code]; ok {
		return g
	}
	if p, ok := cv.cafeProv[code]; ok {
		return cv.ProvinceGaps(p)
	}
	return nil
}

// Instants are the times at which plans were made: every hour's start and
// every minute of an hour at which a technician's working window starts or
// ends. Between two of them nothing that routing looks at changes.
func (cv *Coverage) Instants() []time.Time { return cv.instants }

// Coverage computes, for the window of req, when calls would ring no
// technician, at every instant where something can change: each hour's
// start and each minute a technician's working window starts or ends
// (holidays change at midnight). Every answer comes from Directory.Plan:
//
//   - per province, the plan of a caller known by its area code, which is
//     also the plan of a café without a technician of its own that no
//     technician of the province refuses;
//   - per province and set of refusing technicians of the province, the
//     plan of such a café;
//   - for a café with a technician of its own, the café's plan, made only
//     at the instants where its province part rings nobody (otherwise a
//     technician is rung whatever its own technician does); whether that
//     technician can be rung at an instant is learnt from one such plan and
//     reused for their other cafés.
func (d *Directory) Coverage(req CoverageRequest) *Coverage {
	hours := req.Hours
	if hours <= 0 {
		hours = DefaultCoverageHours
	}
	// Vietnam's offset is a whole number of hours: truncating the absolute
	// time is truncating the local one.
	from := req.From.In(hcm).Truncate(time.Hour)
	cv := &Coverage{From: from, To: from.Add(time.Duration(hours) * time.Hour),
		Provinces: []ProvinceCoverage{}, Cafes: []CafeCoverage{},
		cafeGaps: map[string][]Gap{}, byProv: map[string]int{}, cafeProv: map[string]string{}}
	cv.instants = d.coverageInstants(from, hours)
	k := &coverageCalc{d: d, instants: cv.instants, to: cv.To, trunks: req.Trunks,
		prov: map[string]bitset{}, techRings: map[string][2]bitset{}}

	// Technicians' refusals that matter, by café code: those of the
	// province's technicians and of the café's own.
	refusers := map[string][]string{}
	for r := range d.refusals {
		if e := d.staff[r.staff]; e != nil && e.Role == RoleTechnician {
			refusers[r.cafe] = append(refusers[r.cafe], r.staff)
		}
	}
	covers := func(province, staff string) bool {
		return slices.ContainsFunc(d.techs[province], func(e *staffEntry) bool { return e.Code == staff })
	}

	type group struct {
		rep      *Cafe
		refusers string // the refusals that matter, sorted, comma-separated
		members  []*Cafe
	}
	groups := map[string]*group{}
	var groupKeys []string
	active, plain, techs := map[string]int{}, map[string]int{}, map[string]int{}
	provinces := map[string]bool{}
	for i := range d.cafeList {
		c := &d.cafeList[i]
		if c.Status != StatusActive {
			continue
		}
		cv.cafeProv[c.Code] = c.Province
		active[c.Province]++
		provinces[c.Province] = true
		var rs []string
		for _, r := range refusers[c.Code] {
			if r == c.Technician || covers(c.Province, r) {
				rs = append(rs, r)
			}
		}
		if c.Technician == "" && len(rs) == 0 {
			plain[c.Province]++
			continue
		}
		slices.Sort(rs)
		key := c.Province + "\x00" + c.Technician + "\x00" + strings.Join(rs, ",")
		g := groups[key]
		if g == nil {
			g = &group{rep: c, refusers: strings.Join(rs, ",")}
			groups[key] = g
			groupKeys = append(groupKeys, key)
		}
		g.members = append(g.members, c)
	}
	for code, es := range d.techs {
		for _, e := range es {
			if e.Status == StatusActive {
				techs[code]++
				provinces[code] = true
			}
		}
	}
	for code := range d.areaOfProvince {
		provinces[code] = true
	}

	for _, code := range slices.Sorted(maps.Keys(provinces)) {
		p := d.provinces[code]
		if p == nil {
			continue
		}
		pc := ProvinceCoverage{Province: code, Name: p.Name, Cafes: active[code], Technicians: techs[code]}
		if a := d.areaOfProvince[code]; a != nil {
			pc.Area, pc.Region = a.Code, a.Region
		}
		id := Identification{Province: code, MatchedBy: MatchedByAreaCode}
		unc := k.uncovered(id)
		k.prov[code] = unc
		pc.Gaps = k.gaps(unc, id)
		pc.GapHours = gapHours(pc.Gaps)
		if pc.GapHours > 0 {
			pc.UncoveredCafes = plain[code]
		}
		cv.byProv[code] = len(cv.Provinces)
		cv.Provinces = append(cv.Provinces, pc)
	}

	slices.Sort(groupKeys)
	for _, key := range groupKeys {
		g := groups[key]
		rep := g.rep
		// The province part: the same café without a technician of its
		// own (its refusals are looked up by code).
		alone := *rep
		alone.Technician = ""
		part := k.prov[rep.Province]
		if g.refusers != "" {
			part = k.uncoveredCached("refusals\x00"+rep.Province+"\x00"+g.refusers,
				Identification{Cafe: &alone, Province: rep.Province, MatchedBy: MatchedByCallerID})
		}
		id := Identification{Cafe: rep, Province: rep.Province, MatchedBy: MatchedByCallerID}
		unc := part
		if rep.Technician != "" {
			unc = k.withTechnician(part, id, rep.Technician, d.Refuses(rep.Technician, rep.Code))
		}
		gaps := k.gaps(unc, id)
		same := sameGaps(gaps, cv.ProvinceGaps(rep.Province))
		for _, c := range g.members {
			cv.cafeGaps[c.Code] = gaps
			if len(gaps) > 0 {
				if i, ok := cv.byProv[c.Province]; ok {
					cv.Provinces[i].UncoveredCafes++
				}
			}
			if len(gaps) > 0 && !same {
				cv.Cafes = append(cv.Cafes, d.cafeCoverage(c, CafeNoTechnician, gaps))
			}
		}
	}
	for i := range d.cafeList {
		if c := &d.cafeList[i]; c.Status == StatusActive && len(c.Phones) == 0 {
			cv.Cafes = append(cv.Cafes, d.cafeCoverage(c, CafeNoNumber, nil))
		}
	}
	slices.SortFunc(cv.Cafes, func(a, b CafeCoverage) int {
		if c := strings.Compare(a.Cafe, b.Cafe); c != 0 {
			return c
		}
		return strings.Compare(string(a.Problem), string(b.Problem))
	})
	return cv
}

// coverageCalc holds one Coverage computation's plans.
type coverageCalc struct {
	d        *Directory
	instants []time.Time
	to       time.Time
	trunks   Trunks
	prov     map[string]bitset // uncovered instants: provinces, and refusal groups by key
	// techRings[staff] is {known, rings} per instant: whether a café's own
	// technician was rung, as learnt from that café's plan.
	techRings map[string][2]bitset
}

// plan plans the call id at instant i. Technicians come first in a plan:
// one target is enough to know whether a technician is rung.
func (k *coverageCalc) plan(id Identification, i int) Decision {
	return k.d.Plan(PlanRequest{ID: id, At: k.instants[i], Trunks: k.trunks, MaxTargets: 1})
}

func ringsTechnician(dec Decision) bool {
	return len(dec.Targets) > 0 && dec.Targets[0].Role == RoleTechnician
}

// uncovered returns the instants at which the call id rings no technician.
func (k *coverageCalc) uncovered(id Identification) bitset {
	unc := newBitset(len(k.instants))
	for i := range k.instants {
		if !ringsTechnician(k.plan(id, i)) {
			unc.set(i)
		}
	}
	return unc
}

func (k *coverageCalc) uncoveredCached(key string, id Identification) bitset {
	if b, ok := k.prov[key]; ok {
		return b
	}
	b := k.uncovered(id)
	k.prov[key] = b
	return b
}

// withTechnician narrows part (the instants at which the café's province
// part rings nobody) to those at which its own technician is not rung
// either.
func (k *coverageCalc) withTechnician(part bitset, id Identification, staff string, refuses bool) bitset {
	if refuses {
		return part // skipped for this café at every instant
	}
	memo, ok := k.techRings[staff]
	if !ok {
		memo = [2]bitset{newBitset(len(k.instants)), newBitset(len(k.instants))}
		k.techRings[staff] = memo
	}
	known, rings := memo[0], memo[1]
	unc := newBitset(len(k.instants))
	for i := range k.instants {
		if !part.has(i) {
			continue
		}
		if !known.has(i) {
			dec := k.plan(id, i)
			known.set(i)
			if len(dec.Targets) > 0 && dec.Targets[0].Staff == staff {
				rings.set(i)
			}
		}
		if !rings.has(i) {
			unc.set(i)
		}
	}
	return unc
}

// gaps merges consecutive uncovered instants into gaps ending at the next
// instant (or the window's end), each explained by the plan at its start.
func (k *coverageCalc) gaps(unc bitset, id Identification) []Gap {
	out := []Gap{}
	for i := 0; i < len(k.instants); i++ {
		if !unc.has(i) {
			continue
		}
		j := i
		for j+1 < len(k.instants) && unc.has(j+1) {
			j++
		}
		end := k.to
		if j+1 < len(k.instants) {
			end = k.instants[j+1]
		}
		g := Gap{From: k.instants[i], To: end, Skipped: []GapSkip{}}
		dec := k.plan(id, i)
		for _, s := range dec.Skipped {
			if s.Role == RoleTechnician {
				g.Skipped = append(g.Skipped, GapSkip{Staff: s.Staff, Reason: s.Reason})
			}
		}
		if len(g.Skipped) == 0 {
			for _, n := range dec.Notes {
				if strings.HasPrefix(n, "no technician covers") {
					g.Note = n
				}
			}
		}
		out = append(out, g)
		i = j
	}
	return out
}

func (d *Directory) cafeCoverage(c *Cafe, problem CafeProblem, gaps []Gap) CafeCoverage {
	cc := CafeCoverage{Cafe: c.Code, Name: c.Name, Province: c.Province, Technician: c.Technician,
		Problem: problem, GapHours: gapHours(gaps), Gaps: gaps}
	if cc.Gaps == nil {
		cc.Gaps = []Gap{}
	}
	if a := d.areaOfProvince[c.Province]; a != nil {
		cc.Region = a.Region
	}
	return cc
}

// coverageInstants lists the window's hour starts plus, in every hour, the
// minutes at which some technician's working window starts or ends.
func (d *Directory) coverageInstants(from time.Time, hours int) []time.Time {
	offsets := map[int]bool{0: true}
	for _, e := range d.staffList {
		if e.Role != RoleTechnician {
			continue
		}
		for _, w := range e.Hours.Windows {
			offsets[w.Start%60] = true
			offsets[w.End%60] = true
		}
	}
	mins := slices.Sorted(maps.Keys(offsets))
	out := make([]time.Time, 0, hours*len(mins))
	for h := range hours {
		start := from.Add(time.Duration(h) * time.Hour)
		for _, m := range mins {
			out = append(out, start.Add(time.Duration(m)*time.Minute))
		}
	}
	return out
}

// gapHours counts the clock hours that overlap a gap.
func gapHours(gaps []Gap) int {
	n := 0
	last := time.Time{}
	for _, g := range gaps {
		for h := g.From.Truncate(time.Hour); h.Before(g.To); h = h.Add(time.Hour) {
			if h.After(last) {
				n++
				last = h
			}
		}
	}
	return n
}

func sameGaps(a, b []Gap) bool {
	return slices.EqualFunc(a, b, func(x, y Gap) bool { return x.From.Equal(y.From) && x.To.Equal(y.To) })
}
