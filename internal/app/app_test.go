package app

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari/aritest"
	"github.com/csm-vn/hotline/internal/board/boardtest"
	"github.com/csm-vn/hotline/internal/config"
	"github.com/csm-vn/hotline/store"
	"github.com/csm-vn/hotline/store/pgtest"
)

// harness is the whole hotline as `serve` runs it, against the fake Asterisk
// and a fresh PostgreSQL database holding the sample directory.
type harness struct {
	t      *testing.T
	ast    *aritest.Server
	app    *App
	base   string // http://addr of the app
	dbURL  string
	cancel context.CancelFunc
	drain  chan struct{}
	done   chan error
}

func startHarness(t *testing.T, phones map[string]aritest.Phone, tweaks ...func(*config.Config)) *harness {
	t.Helper()
	dbURL := sampleDatabase(t)
	ast := aritest.Start(t, aritest.Options{User: "hotline", Password: "s3cret", App: "hotline", Phones: phones, Second: time.Second,
		DefaultPhone: aritest.NeverAnswers()})
	h := startApp(t, dbURL, ast.URL(), time.Second, tweaks...)
	h.ast = ast
	return h
}

// sampleDatabase is a fresh, migrated database holding deploy/sample.
func sampleDatabase(t *testing.T) string {
	t.Helper()
	db, dbURL := pgtest.Open(t)
	ctx := context.Background()
	require.NoError(t, store.Migrate(ctx, db))
	files, err := filepath.Glob("../../deploy/sample/*.csv")
	require.NoError(t, err)
	_, err = store.ImportPaths(ctx, db, files, store.ImportOptions{})
	require.NoError(t, err)
	return dbURL
}

// startApp runs the app as `serve` does, with short call timings (ring:
// each role's ring timeout; tweaks change them further), until the test ends.
func startApp(t *testing.T, dbURL, ariURL string, ring time.Duration, tweaks ...func(*config.Config)) *harness {
	t.Helper()
	h := startAppNoWait(t, dbURL, ariURL, ring, tweaks...)
	h.waitReady()
	return h
}

// startAppNoWait is startApp without waiting for /readyz.
func startAppNoWait(t *testing.T, dbURL, ariURL string, ring time.Duration, tweaks ...func(*config.Config)) *harness {
	t.Helper()
	cfg := config.Default()
	require.NoError(t, cfg.ApplyEnv([]string{
		"HOTLINE_DATABASE_URL=" + dbURL, "HOTLINE_ARI_URL=" + ariURL,
		"HOTLINE_ARI_USER=hotline", "HOTLINE_ARI_PASSWORD=s3cret",
		"HOTLINE_SPOOL_DIR=" + t.TempDir(),
	}))
	cfg.Call.Ring = config.RingTimes{Technician: ring, AreaManager: ring, RegionalManager: ring, Operator: ring}
	cfg.Call.MaxLeg = max(5*time.Second, 2*ring)
	cfg.Call.ConfirmTimeout = time.Second
	cfg.Call.RatingTimeout = time.Second
	cfg.Call.CodeFirstDigit, cfg.Call.CodeInterDigit, cfg.Call.CodeOverall = 300*time.Millisecond, 300*time.Millisecond, time.Second
	cfg.Call.VoicemailMax = time.Second
	cfg.Call.Drain = 5 * time.Second
	for _, f := range tweaks {
		f(&cfg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cfg.HTTP.Addr = ln.Addr().String()

	a, err := New(Options{Config: cfg, Listener: ln, Version: "test",
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	require.NoError(t, err)
	runCtx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, app: a, base: "http://" + ln.Addr().String(), dbURL: dbURL,
		cancel: cancel, drain: make(chan struct{}), done: make(chan error, 1)}
	go func() { h.done <- a.Run(runCtx, h.drain) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-h.done:
			require.NoError(t, err)
		case <-time.After(20 * time.Second):
			t.Error("app did not stop within 20 s")
		}
	})
	return h
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (h *harness) get(path string) (int, string) {
	h.t.Helper()
	resp, err := http.Get(h.base + path)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	return resp.StatusCode, string(b)
}

func (h *harness) waitReady() {
	h.t.Helper()
	require.Eventually(h.t, func() bool {
		code, _ := h.get("/readyz")
		return code == http.StatusOK
	}, 15*time.Second, 50*time.Millisecond, "app never became ready")
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestServeWholeCall: a café calls, its KTV answers and presses 1, the board
// (in a real browser) shows the bridged call, the caller rates it, and the
// call ends with its record in the database and in /metrics.
func TestServeWholeCall(t *testing.T) {
	// KTV01 covers Kiên Giang; KG001 calls from 0945550201. KTV01 talks
	// until the test hangs up their leg, so the call stays bridged however
	// long the browser takes. Every wait of this call ends by an event (the
	// KTV answers and presses 1, the caller rates): long timeouts, for a
	// loaded machine.
	const ktv = "0945550101"
	h := startHarness(t, map[string]aritest.Phone{ktv: aritest.AnswersAndPresses(100*time.Millisecond, "1", 100*time.Millisecond)},
		func(c *config.Config) {
			c.Call.Ring.Technician, c.Call.MaxLeg = 20*time.Second, 40*time.Second
			c.Call.ConfirmTimeout, c.Call.RatingTimeout = 20*time.Second, 20*time.Second
		})
	code, body := h.get("/healthz")
	require.Equal(t, http.StatusOK, code, body)

	call, err := h.ast.PlaceCall(aritest.CallSpec{Number: "0945550201"})
	require.NoError(t, err)
	ctx := ctxFor(t, 90*time.Second)
	_, err = call.WaitHeard(ctx, "bridged", "")
	require.NoError(t, err)

	// The board, as JSON and in Chromium, while the call is bridged.
	var snap struct {
		Calls []struct {
			State    string  `json:"state"`
			CafeCode string  `json:"cafe_code"`
			Node     *string `json:"node"`
			Target   *struct {
				Staff string `json:"staff"`
			} `json:"target"`
		} `json:"calls"`
	}
	require.Eventually(t, func() bool {
		code, body = h.get("/board.json")
		require.Equal(t, http.StatusOK, code, body)
		require.NoError(t, json.Unmarshal([]byte(body), &snap), body)
		return len(snap.Calls) == 1 && snap.Calls[0].State == "bridged" && snap.Calls[0].Target != nil
	}, 20*time.Second, 20*time.Millisecond, "board never showed the bridged call: %s", body)
	require.Equal(t, "KG001", snap.Calls[0].CafeCode)
	require.Equal(t, "KTV01", snap.Calls[0].Target.Staff)
	require.Nil(t, snap.Calls[0].Node, "one node: the board does not name it")
	boardtest.Chromium(t)
	dom, err := boardtest.DumpDOM(ctxFor(t, 60*time.Second), h.base+"/")
	require.NoError(t, err)
	require.Contains(t, dom, "Net Cỏ Mây", "the café's name on the board")
	require.Contains(t, dom, "KTV Nguyễn Văn A", "who the caller talks to")
	require.Contains(t, dom, "Miền Nam", "today's totals by region")

	// The technician hangs up; the caller is asked to rate and presses 4.
	var leg string
	for _, d := range h.ast.Dials() {
		if d.Number == ktv && d.Answered && !d.Ended {
			leg = d.ChannelID
		}
	}
	require.NoError(t, h.ast.HangupLeg(leg), "the KTV's leg, still bridged: %+v", h.ast.Dials())
	_, err = call.WaitHeard(ctx, "playback", "rate")
	require.NoError(t, err)
	require.NoError(t, call.Press(ctx, "4"))
	select {
	case <-call.Done():
	case <-ctx.Done():
		t.Fatal("call did not end")
	}

	db, err := store.Open(ctx, h.dbURL)
	require.NoError(t, err)
	defer db.Close()
	var outcome, cafe, matched string
	var score int
	require.Eventually(t, func() bool {
		err := db.QueryRowContext(ctx, `SELECT c.outcome, c.cafe_code, c.matched_by, r.score
			FROM calls c JOIN ratings r ON r.call_id = c.id`).Scan(&outcome, &cafe, &matched, &score)
		return err == nil
	}, 20*time.Second, 50*time.Millisecond, "no call record")
	require.Equal(t, "answered", outcome)
	require.Equal(t, "KG001", cafe)
	require.Equal(t, "caller_id", matched)
	require.Equal(t, 4, score)

	_, metricsText := h.get("/metrics")
	require.Contains(t, metricsText, `hotline_calls_ended_total{method="caller_id",outcome="answered",region="MN"} 1`)
	require.Contains(t, metricsText, `hotline_build_info{version="test"} 1`)
	require.Contains(t, metricsText, "go_goroutines")
	require.NoError(t, h.ast.CheckClean(ctx))
}

// TestServeDrain: after SIGTERM's drain, new calls go back to the dialplan
// (continue) and Run returns once no call is live.
func TestServeDrain(t *testing.T) {
	h := startHarness(t, nil)
	close(h.drain)
	select {
	case err := <-h.done:
		require.NoError(t, err)
		h.done <- nil // for the cleanup
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return after drain with no live call")
	}
}

// TestReadyzSaysWhatIsAwaited: with Asterisk unreachable, /readyz is 503 and
// names ARI while /healthz is 200.
func TestReadyzSaysWhatIsAwaited(t *testing.T) {
	db, dbURL := pgtest.Open(t)
	require.NoError(t, store.Migrate(context.Background(), db))
	cfg := config.Default()
	require.NoError(t, cfg.ApplyEnv([]string{"HOTLINE_DATABASE_URL=" + dbURL, "HOTLINE_ARI_URL=http://127.0.0.1:1",
		"HOTLINE_ARI_USER=u", "HOTLINE_ARI_PASSWORD=p", "HOTLINE_SPOOL_DIR=" + t.TempDir()}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cfg.HTTP.Addr = ln.Addr().String()
	a, err := New(Options{Config: cfg, Listener: ln})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, nil) }()
	defer func() { cancel(); <-done }()
	base := "http://" + ln.Addr().String()
	var body string
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		t.Log(body)
		return resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(body, `"database":"ok"`) &&
			strings.Contains(body, `"ari":"not connected to http://127.0.0.1:1 (app hotline): dial tcp 127.0.0.1:1: connect: connection refused"`)
	}, 10*time.Second, 50*time.Millisecond)
	t.Log("last /readyz:", body)
	resp, err := http.Get(base + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestReadyzSaysTheApplicationWasReplaced: a second process taking the ARI
// application over (ApplicationReplaced) makes /readyz 503 with the reason,
// and hotline_ari_application_replaced 1 (issue 10, point 4).
func TestReadyzSaysTheApplicationWasReplaced(t *testing.T) {
	h := startHarness(t, nil)
	ctx := ctxFor(t, 10*time.Second)
	other, _, err := websocket.Dial(ctx, h.ast.EventsURL("hotline", false), nil)
	require.NoError(t, err)
	defer other.CloseNow()
	replaced := regexp.MustCompile(`(?m)^hotline_ari_application_replaced\{node="[^"]*"\} 1$`)
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, body := h.get("/readyz")
		_, metrics := h.get("/metrics")
		if code == http.StatusServiceUnavailable && strings.Contains(body, `"database":"ok"`) &&
			strings.Contains(body, `"ari":"replaced: another process took the application hotline over`) &&
			replaced.MatchString(metrics) { // (the gauge follows a moment later)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz %d %s; replaced gauge set: %v", code, body, replaced.MatchString(metrics))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeRefusesOldSchema: serve stops at once, naming the fix.
func TestServeRefusesOldSchema(t *testing.T) {
	_, dbURL := pgtest.Open(t) // empty database: no schema
	cfg := config.Default()
	require.NoError(t, cfg.ApplyEnv([]string{"HOTLINE_DATABASE_URL=" + dbURL, "HOTLINE_ARI_URL=http://127.0.0.1:1",
		"HOTLINE_ARI_USER=u", "HOTLINE_ARI_PASSWORD=p", "HOTLINE_SPOOL_DIR=" + t.TempDir()}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	a, err := New(Options{Config: cfg, Listener: ln})
	require.NoError(t, err)
	err = a.Run(ctxFor(t, 20*time.Second), nil)
	require.Error(t, err)
	require.True(t, errors.Is(err, store.ErrSchemaOutdated), "%v", err)
	require.ErrorContains(t, err, `run "hotline migrate"`)
}

// TestNewRefusesOpenBoardBeyondLoopback: a board on 0.0.0.0 needs a token.
func TestNewRefusesOpenBoardBeyondLoopback(t *testing.T) {
	cfg := config.Default()
	require.NoError(t, cfg.ApplyEnv([]string{"HOTLINE_DATABASE_URL=postgres://x/y", "HOTLINE_ARI_URL=http://127.0.0.1:1",
		"HOTLINE_ARI_USER=u", "HOTLINE_ARI_PASSWORD=p", "HOTLINE_HTTP_ADDR=0.0.0.0:9480"}))
	_, err := New(Options{Config: cfg})
	require.ErrorContains(t, err, "set HOTLINE_BOARD_TOKEN")
}
