package dialplan

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// syntheticData builds a directory of the size of the whole business:
// cafes cafés and staff people (mostly technicians spread over the 63
// provinces, a manager per area of 3 provinces, one per region, operators).
func syntheticData(cafes, staff int) DirectoryData {
	provinces := Provinces()
	var d DirectoryData
	office, _ := ParseSchedule("Mon-Sat 07:00-22:00; Sun 08:00-12:00")
	prefixes := []string{"96", "91", "90", "38", "70", "83", "56", "59", "87", "55"}
	phone := func(i int) string { return fmt.Sprintf("+84%s%07d", prefixes[i%len(prefixes)], i) }
	nAreas := (len(provinces) + 2) / 3
	for r := range 3 {
		d.Regions = append(d.Regions, Region{Code: fmt.Sprintf("R%d", r), Manager: fmt.Sprintf("RM%d", r)})
		d.Staff = append(d.Staff, Staff{Code: fmt.Sprintf("RM%d", r), Role: RoleRegionalManager, Status: StatusActive,
			Hours: Schedule{Always: true}, Phones: []Phone{{E164: phone(900000 + r)}}})
	}
	for a := range nAreas {
		area := Area{Code: fmt.Sprintf("A%02d", a), Region: fmt.Sprintf("R%d", a%3), Manager: fmt.Sprintf("AM%02d", a)}
		for _, p := range provinces[a*3 : min(a*3+3, len(provinces))] {
			area.Provinces = append(area.Provinces, p.Code)
		}
		d.Areas = append(d.Areas, area)
		d.Staff = append(d.Staff, Staff{Code: area.Manager, Role: RoleAreaManager, Status: StatusActive,
			Hours: office, Phones: []Phone{{E164: phone(910000 + a)}}})
	}
	const operators = 30
	for o := range operators {
		op := Staff{Code: fmt.Sprintf("OP%02d", o), Role: RoleOperator, Status: StatusActive,
			Hours: office, Phones: []Phone{{E164: phone(920000 + o)}}}
		if o%3 == 0 {
			op.Hours = Schedule{Always: true} // a night shift
		}
		d.Staff = append(d.Staff, op)
	}
	techs := staff - len(d.Staff)
	for i := range techs {
		st := Staff{Code: fmt.Sprintf("T%04d", i), Role: RoleTechnician, Status: StatusActive, Hours: office,
			Phones:    []Phone{{E164: phone(930000 + 2*i)}, {E164: phone(930001 + 2*i), Carrier: CarrierViettel}},
			Provinces: []string{provinces[i%len(provinces)].Code, provinces[(i+7)%len(provinces)].Code}}
		if i%10 == 0 {
			st.Status = StatusSuspended
		}
		if i%5 == 0 {
			st.Hours = Schedule{Always: true}
		}
		d.Staff = append(d.Staff, st)
	}
	for i := range cafes {
		p := provinces[i%len(provinces)].Code
		c := Cafe{Code: fmt.Sprintf("%05d", i+1), Province: p, Status: StatusActive,
			Phones: []string{phone(i), fmt.Sprintf("+842%d%08d", []int{4, 8}[i%2], i)}}
		if i%3 == 0 {
			c.Technician = fmt.Sprintf("T%04d", i%techs)
		}
		d.Cafes = append(d.Cafes, c)
		if i%50 == 0 {
			d.Refusals = append(d.Refusals, Refusal{Staff: fmt.Sprintf("T%04d", (i+1)%techs), Cafe: c.Code})
		}
	}
	return d
}

type benchLive struct{ busy map[string]bool }

func (l benchLive) Busy(s string) bool { return l.busy[s] }

type benchRotation struct{ last map[string]time.Time }

func (r benchRotation) LastRung(s string) time.Time { return r.last[s] }

// BenchmarkPlan measures Identify + Plan for varied callers and times on a
// 20,000-café, 1,000-staff directory (about 28 technicians per province and
// 30 operators, so an unlimited plan lists about 100 numbers), and reports
// the p50/p99 of single decisions. "max12" is the call flow's realistic use
// with PlanRequest.MaxTargets = 12.
func BenchmarkPlan(b *testing.B) {
	b.Run("all", func(b *testing.B) { benchmarkPlan(b, 0) })
	b.Run("max12", func(b *testing.B) { benchmarkPlan(b, 12) })
}

func benchmarkPlan(b *testing.B, maxTargets int) {
	data := syntheticData(20000, 1000)
	dir, err := NewDirectory(data)
	if err != nil {
		b.Fatal(err)
	}
	busy, last := map[string]bool{}, map[string]time.Time{}
	base := time.Date(2025, 3, 3, 6, 0, 0, 0, Location())
	for i, s := range data.Staff {
		if i%17 == 0 {
			busy[s.Code] = true
		}
		last[s.Code] = base.Add(-time.Duration(i%97) * time.Minute)
	}
	// Interface values made once: the timed loop allocates nothing of its
	// own, so B/op and allocs/op are Identify's and Plan's.
	var (
		live Live     = benchLive{busy: busy}
		rot  Rotation = benchRotation{last: last}
	)
	const variants = 4096
	callers := make([]Number, variants)
	codes := make([]string, variants)
	ats := make([]time.Time, variants)
	for i := range variants {
		c := data.Cafes[(i*7919)%len(data.Cafes)]
		switch i % 4 {
		case 0, 1:
			callers[i] = Normalize(c.Phones[i%2])
		case 2:
			callers[i] = Normalize("0912345678")
			codes[i] = c.Code
		default:
			callers[i] = Normalize(fmt.Sprintf("02%d%07d", 90+i%10, i)) // unknown landlines
		}
		ats[i] = base.Add(time.Duration(i*37) * time.Minute)
	}
	trunks := Trunks{"viettel": "PJSIP/{number}@gw-viettel", "vinaphone": "PJSIP/{number}@gw-vinaphone", DefaultTrunk: "PJSIP/{e164}@gw-any"}
	// The latest 64Ki decisions' durations (b.N is not known up front with b.Loop).
	durations := make([]time.Duration, 0, 1<<16)
	n := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		k := i % variants
		start := time.Now()
		id := Identify(dir, callers[k], codes[k])
		dec := dir.Plan(PlanRequest{ID: id, At: ats[k], Live: live, Rotation: rot, Trunks: trunks, MaxTargets: maxTargets})
		if took := time.Since(start); len(durations) < cap(durations) {
			durations = append(durations, took)
		} else {
			durations[n%len(durations)] = took
		}
		n++
		if len(dec.Targets) == 0 {
			b.Fatalf("no targets for %+v", id)
		}
	}
	b.StopTimer()
	if len(durations) > 0 {
		slices.Sort(durations)
		b.ReportMetric(float64(durations[len(durations)*99/100].Nanoseconds()), "p99-ns")
		b.ReportMetric(float64(durations[len(durations)/2].Nanoseconds()), "p50-ns")
	}
}

// BenchmarkNormalize measures one caller ID normalisation.
func BenchmarkNormalize(b *testing.B) {
	in := []string{"sip:0945551519@10.0.0.1;user=phone", "+84 94 555 15 19", "01685551519", "02973123456"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = Normalize(in[i%len(in)])
	}
}

// BenchmarkNewDirectory measures building the 20,000-café, 1,000-staff snapshot.
func BenchmarkNewDirectory(b *testing.B) {
	data := syntheticData(20000, 1000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewDirectory(data); err != nil {
			b.Fatal(err)
		}
	}
}

// The synthetic directory is valid and the benchmark exercises every path.
func TestSyntheticDirectory(t *testing.T) {
	data := syntheticData(2000, 300)
	dir, err := NewDirectory(data)
	if err != nil {
		t.Fatal(err)
	}
	c := dir.Counts()
	if c.Cafes != 2000 || c.Staff != 300 {
		t.Fatalf("counts %+v", c)
	}
}

// BenchmarkCoverage: the 7-day coverage of 20,000 cafés / 1,000 staff, as
// serve recomputes it for the coverage gauges.
func BenchmarkCoverage(b *testing.B) {
	dir, err := NewDirectory(syntheticData(20000, 1000))
	if err != nil {
		b.Fatal(err)
	}
	from := time.Date(2026, 11, 23, 0, 0, 0, 0, Location())
	for b.Loop() {
		dir.Coverage(CoverageRequest{From: from, Trunks: testTrunks})
	}
}
