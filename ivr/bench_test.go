package ivr_test

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/ari/aritest"
	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/ivr"
	"github.com/csm-vn/hotline/store"
	"github.com/csm-vn/hotline/store/pgtest"
)

// memRecorder keeps records in memory.
type memRecorder struct {
	mu   sync.Mutex
	recs []store.CallRecord
}

func (m *memRecorder) Submit(r store.CallRecord) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, r)
}

// slowReserver is a database that takes its time (less than the reservation
// budget): the first dial waits for it, nothing else on the way does.
type slowReserver struct{ delay time.Duration }

func (s slowReserver) Reserve(ctx context.Context, _, _, _ string, _ time.Duration) (bool, error) {
	select {
	case <-time.After(s.delay):
		return true, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

func (s slowReserver) Release(context.Context, string, string) error { return nil }

// BenchmarkCallSetup measures, against the fake Asterisk on loopback, the
// time from StasisStart of a known café's call to the first outgoing dial
// request (setup-ms, mean; p50-ms, p99-ms), and the number of ARI requests a
// whole answered call makes (ari-req/call). The reservation database answers
// after 20 ms (the person is reserved before being dialled: that wait is on
// the path to the dial) and records go to memory (not on it).
func BenchmarkCallSetup(b *testing.B) {
	benchCallSetup(b, slowReserver{delay: 20 * time.Millisecond})
}

// BenchmarkCallSetupPostgres is BenchmarkCallSetup with the real
// reservation store on the test database (HOTLINE_TEST_DATABASE_URL):
// what a database on the same machine costs the call set-up.
func BenchmarkCallSetupPostgres(b *testing.B) {
	db, _ := pgtest.Open(b)
	if err := store.Migrate(context.Background(), db); err != nil {
		b.Fatal(err)
	}
	benchCallSetup(b, store.New(db))
}

func benchCallSetup(b *testing.B, res ivr.Reserver) {
	fake := aritest.Start(b, aritest.Options{Second: time.Second,
		DefaultPhone: aritest.Phone{Outcome: aritest.OutcomeAnswer, Keys: "1", KeysAfter: time.Millisecond,
			HangupAfter: 5 * time.Millisecond}})
	client, err := ari.New(ari.Config{URL: fake.URL(), User: "asterisk", Password: "asterisk", App: "hotline"})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = client.Run(ctx) }()
	cfg := testConfig()
	cfg.Prompts.Rate = "" // no rating prompt: the call ends when the KTV hangs up
	cfg.RatingTimeout = time.Millisecond
	dir := testDirectory(b)
	rec := &memRecorder{}
	srv, err := ivr.New(cfg, ivr.Deps{ARI: client, Directory: func() *dialplan.Directory { return dir },
		Reserver: res, Recorder: rec,
		Now: func() time.Time { return weekday10 }})
	if err != nil {
		b.Fatal(err)
	}
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		_ = srv.Run(ctx)
	}()
	if err := fake.WaitConnected(ctx, "hotline"); err != nil {
		b.Fatal(err)
	}
	time.Sleep(2 * cfg.ReconcileGrace) // let start-up reconciliation finish
	before := len(fake.Requests())
	ids := make([]string, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, err := fake.PlaceCall(aritest.CallSpec{Number: cafe1Phone})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, c.ID())
		select {
		case <-c.Done():
		case <-time.After(10 * time.Second):
			b.Fatalf("call %d did not end", i)
		}
		wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
		if err := srv.Wait(wctx); err != nil {
			b.Fatal(err)
		}
		wcancel()
	}
	b.StopTimer()
	reqs := fake.Requests()[before:]
	starts := map[string]time.Time{}
	for _, ev := range fake.Events() {
		if ev.Type != "StasisStart" {
			continue
		}
		var m struct {
			Channel struct {
				ID string `json:"id"`
			} `json:"channel"`
		}
		if json.Unmarshal(ev.JSON, &m) == nil {
			starts[m.Channel.ID] = ev.At
		}
	}
	var setups []time.Duration
	for _, id := range ids {
		for _, r := range reqs {
			if strings.HasSuffix(r.Path, "/dial") && strings.Contains(r.Path, "-leg") {
				// The first dial after this call's StasisStart.
				if st, ok := starts[id]; ok && !r.At.Before(st) {
					setups = append(setups, r.At.Sub(st))
					break
				}
			}
		}
	}
	if len(setups) > 0 {
		sort.Slice(setups, func(i, j int) bool { return setups[i] < setups[j] })
		var sum time.Duration
		for _, d := range setups {
			sum += d
		}
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		b.ReportMetric(ms(sum/time.Duration(len(setups))), "setup-ms")
		b.ReportMetric(ms(setups[len(setups)/2]), "p50-ms")
		b.ReportMetric(ms(setups[(len(setups)*99)/100]), "p99-ms")
	}
	b.ReportMetric(float64(len(reqs))/float64(b.N), "ari-req/call")
	cancel()
	<-runDone
}
