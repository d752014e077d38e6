package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/internal/sim"
	"github.com/csm-vn/hotline/store"
)

// TestSimulateThroughServe runs `hotline simulate`'s generator against the
// real app, as scripts/run.sh does: every generated call is taken by serve,
// ends, and leaves exactly one record.
func TestSimulateThroughServe(t *testing.T) {
	dbURL := sampleDatabase(t)
	ctx := ctxFor(t, 90*time.Second)
	db, err := store.Open(ctx, dbURL)
	require.NoError(t, err)
	defer db.Close()
	data, err := store.LoadDirectoryData(ctx, db)
	require.NoError(t, err)
	dir, err := dialplan.NewDirectory(data)
	require.NoError(t, err)
	var cafes []dialplan.Cafe
	for _, c := range data.Cafes {
		if c.Status == dialplan.StatusActive && len(c.Phones) > 0 {
			cafes = append(cafes, c)
		}
	}

	const calls = 12
	urls := make(chan string, 1)
	type result struct {
		rep sim.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := sim.Run(ctx, sim.Options{
			Listen: "127.0.0.1:0", User: "hotline", Password: "s3cret", App: "hotline",
			Directory: dir, Cafes: cafes, Trunks: dialplan.Trunks(map[string]string{
				"vinaphone": "PJSIP/{number}@gw-vinaphone", "viettel": "PJSIP/{number}@gw-viettel", "default": "PJSIP/{number}@gw-viettel"}),
			Rate: 20, Calls: calls, Mix: sim.DefaultMix, Unknown: 0.2, Scale: 0.05, WaitApp: 30 * time.Second, Seed: 7,
			Ready: func(u string) { urls <- u },
		})
		done <- result{rep, err}
	}()
	// The fake counts a dial timeout in scaled seconds (×0.05): 20 s of
	// configured ring time are 1 s there, time for the scripted phones.
	h := startApp(t, dbURL, <-urls, 20*time.Second)
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		t.Fatal("simulation did not finish")
	}
	require.NoError(t, res.err)
	rep := res.rep
	require.Equal(t, calls, rep.Placed)
	require.Equal(t, 0, rep.Fallback, "every call entered the app")
	require.Equal(t, calls, rep.Completed)
	require.NotEmpty(t, rep.SetupTimes, "set-up times measured")
	require.Positive(t, rep.ARIRequests)
	var sb strings.Builder
	_, err = rep.WriteTo(&sb)
	require.NoError(t, err)
	require.Contains(t, sb.String(), "calls placed 12")
	require.Positive(t, rep.Heard["bridged"]+rep.Heard["bridged_and_rated"], "some callers talked to someone")
	t.Log(sb.String())

	require.Eventually(t, func() bool {
		var n int
		return db.GetContext(context.Background(), &n, "SELECT count(*) FROM calls") == nil && n == calls
	}, 15*time.Second, 50*time.Millisecond, "one record per call")
	_ = h
}

func TestParseMix(t *testing.T) {
	m, err := sim.ParseMix("answered=3, busy=1,gives_up=0")
	require.NoError(t, err)
	require.Equal(t, sim.Mix{sim.Answered: 3, sim.Busy: 1, sim.GivesUp: 0}, m)
	for in, want := range map[string]string{
		"answered":          "not NAME=WEIGHT",
		"laughs=3":          "not NAME=WEIGHT",
		"busy=-1":           "whole number",
		"busy=0,answered=0": "all weights are 0",
	} {
		_, err := sim.ParseMix(in)
		require.ErrorContains(t, err, want, in)
	}
}
