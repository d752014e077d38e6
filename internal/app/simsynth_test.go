package app

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/internal/sim"
	"github.com/csm-vn/hotline/store"
	"github.com/csm-vn/hotline/store/pgtest"
)

// `hotline simulate --directory synthetic:…` writes the generated directory
// through the import, so serve loads exactly it from PostgreSQL; the same
// seed again changes nothing; only the synthetic cafés call, even beside
// leftovers; a database with another directory is refused. Then a few calls through the real app: the people
// ring by their own profiles and every call leaves its record.
func TestSimulateSyntheticDirectory(t *testing.T) {
	ctx := ctxFor(t, 120*time.Second)
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil))
	spec := sim.DirectorySpec{Cafes: 600, Staff: 120}

	sample, err := store.Open(ctx, sampleDatabase(t))
	require.NoError(t, err)
	defer sample.Close()
	_, err = importSynthetic(ctx, sample, spec, 3, log)
	require.ErrorContains(t, err, "needs a database of its own: this one holds another directory (areas HN, TNB)")

	pdb, dbURL := pgtest.Open(t)
	require.NoError(t, store.Migrate(ctx, pdb))
	db, err := store.Open(ctx, dbURL)
	require.NoError(t, err)
	defer db.Close()
	// A café left from an earlier, larger synthetic directory.
	_, err = db.ExecContext(ctx, "INSERT INTO cafes (code, name, province_code, status) VALUES ('SY999999', 'Net cũ', 'ha-noi', 'active')")
	require.NoError(t, err)

	syn, err := importSynthetic(ctx, db, spec, 3, log)
	require.NoError(t, err)
	require.Contains(t, logs.String(), "changed=true")
	data, err := store.LoadDirectoryData(ctx, db)
	require.NoError(t, err)
	dir, err := dialplan.NewDirectory(data)
	require.NoError(t, err)
	for _, c := range syn.Data.Cafes {
		got, ok := dir.CafeByCode(c.Code)
		require.True(t, ok, c.Code)
		require.Equal(t, c.Phones, got.Phones)
		require.Equal(t, c.Province, got.Province)
	}
	for _, st := range syn.Data.Staff {
		got, ok := dir.Staff(st.Code)
		require.True(t, ok, st.Code)
		require.Equal(t, st.Phones, got.Phones)
		require.Equal(t, st.Hours.String(), got.Hours.String())
	}
	callers := syntheticCallers(data, syn, log)
	active := 0
	for _, c := range syn.Data.Cafes {
		if c.Status == dialplan.StatusActive {
			active++
		}
	}
	require.Len(t, callers, active, "the synthetic cafés call, the sample's do not")
	require.Contains(t, logs.String(), "other_cafes=1")

	logs.Reset()
	_, err = importSynthetic(ctx, db, spec, 3, log)
	require.NoError(t, err)
	require.Contains(t, logs.String(), "changed=false", "the same seed again changes nothing")

	// A few calls through serve, each person behaving by their profile.
	const calls = 10
	urls := make(chan string, 1)
	type result struct {
		rep sim.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := sim.Run(ctx, sim.Options{
			Listen: "127.0.0.1:0", User: "hotline", Password: "s3cret", App: "hotline",
			Directory: dir, Cafes: callers, People: syn, Trunks: dialplan.Trunks(map[string]string{
				"vinaphone": "PJSIP/{number}@gw-vinaphone", "viettel": "PJSIP/{number}@gw-viettel", "default": "PJSIP/{number}@gw-viettel"}),
			Rate: 20, Calls: calls, Scale: 0.05, WaitApp: 30 * time.Second, Seed: 7,
			Ready: func(u string) { urls <- u },
		})
		done <- result{rep, err}
	}()
	startApp(t, dbURL, <-urls, 20*time.Second)
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		t.Fatal("simulation did not finish")
	}
	require.NoError(t, res.err)
	require.Equal(t, calls, res.rep.Completed)
	require.Equal(t, calls, res.rep.Behaviours[sim.ByPerson]+res.rep.Behaviours[sim.GivesUp])
	rings := 0
	for _, n := range res.rep.Rings {
		rings += n
	}
	require.GreaterOrEqual(t, rings, calls-res.rep.Behaviours[sim.GivesUp], "the people rung drew from their profiles")
	require.Eventually(t, func() bool {
		var n int
		return db.GetContext(context.Background(), &n, "SELECT count(*) FROM calls") == nil && n == calls
	}, 15*time.Second, 50*time.Millisecond, "one record per call")
	var synthetic int
	require.NoError(t, db.GetContext(ctx, &synthetic,
		"SELECT count(*) FROM call_legs WHERE staff_code LIKE 'SY%'"))
	require.Positive(t, synthetic, "the synthetic directory's people were rung")
}
