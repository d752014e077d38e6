package app

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/internal/config"
	"github.com/csm-vn/hotline/internal/sim"
)

// TestChaosRun is a tiny chaos run (scripts/chaos.sh is the long one):
// `hotline simulate` with its faults — the events WebSocket dropped while
// calls arrive, 1% of REST requests answered 500 — against the real app,
// and its summary line: every goal met, and the faults did happen.
func TestChaosRun(t *testing.T) {
	dbURL := sampleDatabase(t)
	ctx := ctxFor(t, 2*time.Minute)
	cfg := config.Default()
	require.NoError(t, cfg.ApplyEnv([]string{"HOTLINE_DATABASE_URL=" + dbURL,
		"HOTLINE_ARI_USER=hotline", "HOTLINE_ARI_PASSWORD=s3cret"}))
	const calls = 40
	urls := make(chan string, 1)
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- Simulate(ctx, cfg, SimulateOptions{
			Listen: "127.0.0.1:0", Rate: 10, Calls: calls, Mix: sim.DefaultMix, Unknown: 0.1, Scale: 0.05,
			WaitApp: 30 * time.Second, Seed: 3,
			CutWS: 1500 * time.Millisecond, Rest500: 0.01, Settle: 10 * time.Second, AloneLimit: sim.DefaultAloneLimit,
			RecordsWait: 10 * time.Second, Ready: func(u string) { urls <- u },
		}, &out, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
	}()
	// As in TestSimulateThroughServe: 20 s of ring time are 1 s on the fake.
	startApp(t, dbURL, <-urls, 20*time.Second)
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-ctx.Done():
		t.Fatal("the chaos run did not finish")
	}
	t.Log(out.String())
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var s sim.Summary
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &s), "the last line is the summary")

	require.Equal(t, calls, s.CallsPlaced)
	require.Equal(t, calls, s.CallsTaken+s.CallsFallback)
	require.Positive(t, s.WSCuts, "the WebSocket was dropped")
	require.Positive(t, s.REST500s, "REST requests were answered 500")
	require.True(t, s.RecordsChecked)
	require.Equal(t, s.CallsTaken, s.RecordsWritten+s.RecordsLost)
	for _, g := range s.GoalsMissed {
		if why, ok := knownChaosMisses[g]; ok {
			t.Logf("goal missed, a known fault of the app (%s): %s", why, g)
			continue
		}
		t.Errorf("goal missed: %s (%+v)", g, s)
	}
}

// knownChaosMisses are goals today's app can miss under these faults, with
// the fault of the app (issue 10). TestChaosRun fails on any other. Remove
// an entry once its fix is in.
var knownChaosMisses = map[string]string{}
