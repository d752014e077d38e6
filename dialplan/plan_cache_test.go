package dialplan

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Plans made concurrently, which share the directory's scratch planners and
// trunk tables, are the plans made one at a time.
func TestPlanConcurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the 20,000-café directory")
	}
	dir, reqs := goldenRequests(t, 400)
	want := make([]Decision, len(reqs))
	for i, req := range reqs {
		want[i] = dir.Plan(req)
	}
	const workers = 4
	got := make([][]Decision, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			got[w] = make([]Decision, len(reqs))
			for k := range reqs {
				i := (k*7 + w*101) % len(reqs) // each worker in its own order
				got[w][i] = dir.Plan(reqs[i])
			}
		})
	}
	wg.Wait()
	for w := range workers {
		for i := range reqs {
			require.Equal(t, want[i].Report(), got[w][i].Report(), "worker %d, request %d", w, i)
		}
	}
}

// A decision owns its slices: the next plan, which reuses the scratch
// planner, does not change it.
func TestPlanDecisionsIndependent(t *testing.T) {
	dir, err := NewDirectory(testData())
	require.NoError(t, err)
	id := Identify(dir, Normalize("02973111001"), "")
	req := PlanRequest{ID: id, At: at(t, "2025-03-03 10:00"), Trunks: testTrunks, Health: downTrunks{"viettel": true}}
	first := dir.Plan(req)
	before := first.Report()
	require.NotEmpty(t, first.Targets)
	require.NotNil(t, first.Targets[0].Alternate)
	other := Identify(dir, Normalize("02963111002"), "")
	for range 3 {
		dir.Plan(PlanRequest{ID: other, At: at(t, "2025-03-04 03:00"), Trunks: Trunks{DefaultTrunk: "X/{e164}"}})
	}
	require.Equal(t, before, first.Report())
}

// More distinct trunk sets than the directory caches: every plan still dials
// through the templates of its own request, as a fresh directory would.
func TestPlanManyTrunkSets(t *testing.T) {
	data := testData()
	dir, err := NewDirectory(data)
	require.NoError(t, err)
	id := Identify(dir, Normalize("02973111001"), "")
	for round := range 2 {
		for i := range 3 * maxTrunkTables {
			trunks := Trunks{
				"viettel":    fmt.Sprintf("V%d/{number}", i),
				DefaultTrunk: fmt.Sprintf("D%d/{e164}", i),
			}
			if i%2 == 0 {
				trunks["vinaphone"] = fmt.Sprintf("N%d/{number}/{e164}", i)
			}
			req := PlanRequest{ID: id, At: time.Date(2025, 3, 3, 10, 0, 0, 0, Location()), Trunks: trunks}
			if i%3 == 0 {
				req.Health = downTrunks{"viettel": true}
			}
			fresh, err := NewDirectory(data)
			require.NoError(t, err)
			require.Equal(t, fresh.Plan(req).Report(), dir.Plan(req).Report(), "round %d, set %d", round, i)
		}
	}
	// A map equal in content to a cached one finds its table.
	a := dir.trunkTable(Trunks{DefaultTrunk: "D/{e164}"})
	require.Same(t, a, dir.trunkTable(Trunks{DefaultTrunk: "D/{e164}"}))
	require.NotSame(t, a, dir.trunkTable(Trunks{DefaultTrunk: "E/{e164}"}))
}

// sortRanked orders as a stable sort by last does, short and long inputs.
func TestSortRanked(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 2, 5, 30, 64, 65, 200} {
		rs := make([]ranked, n)
		for i := range rs {
			rs[i] = ranked{last: int64(rng.IntN(max(n/3, 1))), i: i}
		}
		want := slices.Clone(rs)
		slices.SortStableFunc(want, func(a, b ranked) int { return cmp.Compare(a.last, b.last) })
		sortRanked(rs)
		require.Equal(t, want, rs, "n=%d", n)
	}
}

// cafeIndex finds every key, and no other, even when hashes collide.
func TestCafeIndexCollisions(t *testing.T) {
	cafes := []Cafe{{Code: "A1", Phones: []string{"+84911000001"}}, {Code: "B22"}, {Code: "C3"}, {Code: "D44"}}
	keys := map[string]int32{"A1": 0, "B22": 1, "C3": 2, "D44": 3}
	for name, hash := range map[string]func(string) uint64{
		"by length (collisions)": func(s string) uint64 { return uint64(len(s)) },
		"constant":               func(string) uint64 { return 7 },
		"maphash":                newCafeIndex(nil, nil).hash,
	} {
		x := newCafeIndexHash(keys, cafeHasCode, hash)
		for k, want := range keys {
			i, ok := x.get(cafes, k)
			require.True(t, ok, "%s: %s", name, k)
			require.Equal(t, want, i, "%s: %s", name, k)
		}
		for _, k := range []string{"A2", "B2", "E55", "", "c3"} {
			_, ok := x.get(cafes, k)
			require.False(t, ok, "%s: %s", name, k)
		}
	}
	phones := newCafeIndexHash(map[string]int32{"+84911000001": 0}, cafeHasPhone, func(string) uint64 { return 1 })
	_, ok := phones.get(cafes, "+84911000002")
	require.False(t, ok)
}
