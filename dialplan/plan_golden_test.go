package dialplan

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/plan_golden.jsonl.gz from the current Plan")

const goldenPath = "testdata/plan_golden.jsonl.gz"

// goldenData is the benchmark's synthetic directory with the rarer paths
// added: terminated cafés and staff, staff without a number, a number shared
// by two people, an area without a manager, company holidays (one regional).
func goldenData() DirectoryData {
	d := syntheticData(20000, 1000)
	for i := range d.Cafes {
		if i%97 == 5 {
			d.Cafes[i].Status = StatusTerminated
		}
	}
	for i := range d.Staff {
		s := &d.Staff[i]
		if s.Role != RoleTechnician {
			continue
		}
		// Numbers shared by technicians of the same province.
		shared := Phone{E164: fmt.Sprintf("+8491200%04d", i%63)}
		switch i % 5 {
		case 1:
			s.Phones = append(s.Phones, shared)
		case 3:
			s.Phones = []Phone{shared, s.Phones[0]}
		case 4:
			s.Phones = []Phone{shared}
		}
		switch i % 41 {
		case 3:
			s.Status = StatusTerminated
		case 7:
			s.Phones = nil
		case 17:
			s.Phones = append(s.Phones, Phone{E164: "+842438250000"}) // a landline, default trunk
		}
	}
	for i := range d.Cafes {
		c := d.Cafes[i]
		switch {
		case c.Technician != "" && i%7 == 0: // the assigned technician refuses
			d.Refusals = append(d.Refusals, Refusal{Staff: c.Technician, Cafe: c.Code})
		case i%11 == 0: // a technician of the province refuses
			d.Refusals = append(d.Refusals, Refusal{Staff: fmt.Sprintf("T%04d", i%63+63*(i%5)), Cafe: c.Code})
		}
	}
	d.Areas[4].Manager = ""
	d.Holidays = []Holiday{
		{Date: time.Date(2025, 3, 10, 0, 0, 0, 0, Location()), Name: "company day"},
		{Date: time.Date(2025, 3, 11, 0, 0, 0, 0, Location()), Name: "region 1 festival", Region: "R1"},
		{Date: time.Date(2025, 3, 11, 0, 0, 0, 0, Location()), Name: "region 2 festival", Region: "R2"},
	}
	return d
}

type goldenHealth map[string]bool

func (h goldenHealth) Unavailable(t string) bool { return h[t] }

// goldenRequests makes n varied plan requests on goldenData, deterministically.
func goldenRequests(t testing.TB, n int) (*Directory, []PlanRequest) {
	data := goldenData()
	dir, err := NewDirectory(data)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	trunkSets := []Trunks{
		{"viettel": "PJSIP/{number}@gw-viettel", "vinaphone": "PJSIP/{number}@gw-vinaphone", DefaultTrunk: "PJSIP/{e164}@gw-any"},
		{DefaultTrunk: "PJSIP/{e164}@gw-any"},
		{"viettel": "PJSIP/{number}@gw-viettel", "mobifone": "SIP/{e164}/{number}@mobi"},
		{"viettel": "PJSIP/{number}@gw-viettel", "vinaphone": "PJSIP/{number}@gw-vinaphone", "mobifone": "M/{number}",
			"vietnamobile": "VN/{e164}", DefaultTrunk: "D/{number}"},
	}
	healths := []TrunkHealth{nil, nil, goldenHealth{"viettel": true}, goldenHealth{DefaultTrunk: true},
		goldenHealth{"viettel": true, "vinaphone": true, "mobifone": true, "vietnamobile": true, DefaultTrunk: true},
		goldenHealth{"vinaphone": true, DefaultTrunk: true}}
	maxes := []int{0, 1, 3, 12, 12, 12, 40}
	base := time.Date(2025, 1, 20, 0, 0, 0, 0, Location())
	special := []time.Time{
		time.Date(2025, 3, 10, 9, 0, 0, 0, Location()),
		time.Date(2025, 3, 11, 9, 0, 0, 0, Location()),
		time.Date(2025, 1, 29, 9, 0, 0, 0, Location()), // Tết
		time.Date(2025, 9, 2, 23, 30, 0, 0, Location()),
		time.Date(2025, 3, 9, 11, 59, 0, 0, Location()), // Sunday
	}
	out := make([]PlanRequest, 0, n)
	for range n {
		c := data.Cafes[rng.IntN(len(data.Cafes))]
		var caller Number
		code := ""
		switch rng.IntN(7) {
		case 0, 1:
			caller = Normalize(c.Phones[rng.IntN(len(c.Phones))])
		case 2:
			caller = Normalize("0912345678")
			code = c.Code
		case 3:
			caller = Normalize("anonymous")
			code = fmt.Sprintf("%d#", rng.IntN(30000))
		case 4:
			caller = Normalize(fmt.Sprintf("02%d%07d", 03+rng.IntN(97), rng.IntN(1e7)))
		case 5:
			caller = Normalize(fmt.Sprintf("09%08d", rng.IntN(1e8)))
		default:
			s := data.Staff[rng.IntN(len(data.Staff))]
			caller = Normalize("anonymous")
			if len(s.Phones) > 0 {
				caller = Normalize(s.Phones[0].E164)
			}
		}
		req := PlanRequest{
			ID:         Identify(dir, caller, code),
			Trunks:     trunkSets[rng.IntN(len(trunkSets))],
			Health:     healths[rng.IntN(len(healths))],
			MaxTargets: maxes[rng.IntN(len(maxes))],
		}
		if rng.IntN(4) == 0 {
			req.At = special[rng.IntN(len(special))]
		} else {
			req.At = base.Add(time.Duration(rng.IntN(400*24*60)) * time.Minute)
		}
		if rng.IntN(4) != 0 {
			busy := busySet{}
			for range rng.IntN(200) {
				busy[data.Staff[rng.IntN(len(data.Staff))].Code] = true
			}
			req.Live = busy
		}
		if rng.IntN(4) != 0 {
			last := lastRung{}
			for range rng.IntN(600) {
				last[data.Staff[rng.IntN(len(data.Staff))].Code] = base.Add(-time.Duration(rng.IntN(300)) * time.Minute)
			}
			req.Rotation = last
		}
		if rng.IntN(5) == 0 {
			req.Ring = map[Role]time.Duration{RoleTechnician: 15 * time.Second, RoleOperator: 0}
		}
		out = append(out, req)
	}
	return dir, out
}

// goldenDecisions makes n varied decisions on goldenData, deterministically.
func goldenDecisions(t testing.TB, n int) []Decision {
	dir, reqs := goldenRequests(t, n)
	out := make([]Decision, 0, n)
	for _, req := range reqs {
		out = append(out, dir.Plan(req))
	}
	return out
}

// TestPlanGolden compares 2,000 varied decisions on the synthetic directory
// with their reports recorded before Plan was optimised: the speed work must
// not change a single target, skip or note. Run with -update-golden only for
// an intended change of behaviour.
func TestPlanGolden(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the 20,000-café directory")
	}
	decs := goldenDecisions(t, 2000)
	var got bytes.Buffer
	for _, d := range decs {
		b, err := json.Marshal(d.Report())
		if err != nil {
			t.Fatal(err)
		}
		got.Write(b)
		got.WriteByte('\n')
	}
	if *updateGolden {
		var z bytes.Buffer
		w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		w.Write(got.Bytes())
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(goldenPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenPath, z.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s: %d bytes (%d uncompressed)", goldenPath, z.Len(), got.Len())
		return
	}
	f, err := os.Open(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	want := bufio.NewScanner(zr)
	want.Buffer(nil, 1<<22)
	have := bufio.NewScanner(&got)
	have.Buffer(nil, 1<<22)
	for i := 0; ; i++ {
		w, h := want.Scan(), have.Scan()
		if !w || !h {
			if w != h {
				t.Fatalf("decision %d: golden has more: %v, current has more: %v", i, w, h)
			}
			break
		}
		if !bytes.Equal(want.Bytes(), have.Bytes()) {
			t.Fatalf("decision %d differs\nwant %s\n got %s", i, want.Bytes(), have.Bytes())
		}
	}
	if err := want.Err(); err != nil {
		t.Fatal(err)
	}
}
