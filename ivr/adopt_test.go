package ivr_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/ari/aritest"
	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/ivr"
	"github.com/csm-vn/hotline/store"
	"github.com/csm-vn/hotline/store/pgtest"
)

// A hotline killed with SIGKILL and started again (issue 10, point 7). The
// first hotline runs in a child process (the test binary again, running
// TestHotlineChildProcess only), against the test's Asterisk, database and
// record spool; the test kills it and starts a second hotline in the test
// process, which must take the calls over.

// childSpecEnv carries a childSpec (JSON) to the child process.
const childSpecEnv = "HOTLINE_TEST_CHILD_SPEC"

// childSpec is what the child hotline runs with.
type childSpec struct {
	URL, User, Password string
	DB, Spool           string
	Config              ivr.Config
	// KTV1, when set, selects phoneDirectory with these numbers for KTV1
	// (the real Asterisk's test phones); otherwise testDirectory.
	KTV1 []string
}

// TestHotlineChildProcess is not a test of its own: startChild runs the test
// binary with only this function selected, as a hotline process to kill.
func TestHotlineChildProcess(t *testing.T) {
	raw := os.Getenv(childSpecEnv)
	if raw == "" {
		t.Skip("the hotline of a child process: run by startChild")
	}
	var spec childSpec
	require.NoError(t, json.Unmarshal([]byte(raw), &spec))
	ctx := context.Background()
	db, err := sqlx.ConnectContext(ctx, "postgres", spec.DB)
	require.NoError(t, err)
	rec, err := store.NewRecorder(db, store.RecorderOptions{SpoolPath: spec.Spool, RetryInterval: 100 * time.Millisecond})
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	client, err := ari.New(ari.Config{URL: spec.URL, User: spec.User, Password: spec.Password, App: "hotline",
		BackoffMin: 10 * time.Millisecond, BackoffMax: 20 * time.Millisecond, RequestTimeout: 5 * time.Second,
		Logger: log.With("process", "child")})
	require.NoError(t, err)
	dir := testDirectory(t)
	if len(spec.KTV1) > 0 {
		dir = phoneDirectory(t, phonePlan{ktv1: spec.KTV1})
	}
	// New subscribes to StasisStart: before the client connects, so the
	// test's first call (placed once it is connected) is not missed.
	srv, err := ivr.New(spec.Config, ivr.Deps{ARI: client, Directory: func() *dialplan.Directory { return dir },
		Reserver: store.New(db), Recorder: rec, Callbacks: store.New(db), Now: func() time.Time { return weekday10 },
		Logger: log.With("process", "child")})
	require.NoError(t, err)
	go func() { _ = client.Run(ctx) }()
	go func() { _ = srv.Run(ctx) }()
	select {} // until killed
}

// child is a hotline process.
type child struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
}

// lockedBuffer collects the child's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startChild runs a hotline in a child process until kill (or the test's
// end). Its log is shown when the test fails (and as it goes with
// IVR_TEST_LOG).
func startChild(t *testing.T, spec childSpec) *child {
	t.Helper()
	b, err := json.Marshal(spec)
	require.NoError(t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHotlineChildProcess$", "-test.count=1", "-test.timeout=30m")
	cmd.Env = append(os.Environ(), childSpecEnv+"="+string(b))
	c := &child{cmd: cmd, out: &lockedBuffer{}, done: make(chan struct{})}
	var w io.Writer = c.out
	if os.Getenv("IVR_TEST_LOG") != "" {
		w = io.MultiWriter(c.out, os.Stderr)
	}
	cmd.Stdout, cmd.Stderr = w, w
	require.NoError(t, cmd.Start())
	go func() {
		_ = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		c.kill()
		if t.Failed() {
			t.Logf("the killed hotline's output:\n%s", c.out)
		}
	})
	return c
}

// kill kills the child as the kernel would on SIGKILL: no teardown at all.
func (c *child) kill() {
	_ = c.cmd.Process.Kill()
	<-c.done
}

// adoptEnv is a fake Asterisk with a hotline in a child process, until
// restart kills it and starts the hotline that takes its calls over.
type adoptEnv struct {
	t     *testing.T
	o     envOption
	fake  *aritest.Server
	db    *sqlx.DB
	spool string
	child *child
	// rest reads channel variables as anyone could (REST only).
	rest *ari.Client
}

func newAdoptEnv(t *testing.T, o envOption) *adoptEnv {
	t.Helper()
	fo := aritest.Options{Second: time.Second, DefaultPhone: aritest.NeverAnswers()}
	if o.fake != nil {
		o.fake(&fo)
	}
	fake := aritest.Start(t, fo)
	fake.RequireCleanAtEnd(t, waitTimeout)
	db, dbURL := pgtest.Open(t)
	require.NoError(t, store.Migrate(context.Background(), db))
	cfg := testConfig()
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	a := &adoptEnv{t: t, o: o, fake: fake, db: db, spool: filepath.Join(t.TempDir(), "spool.jsonl")}
	a.child = startChild(t, childSpec{URL: fake.URL(), User: "asterisk", Password: "asterisk", DB: dbURL,
		Spool: a.spool, Config: cfg})
	rest, err := ari.New(ari.Config{URL: fake.URL(), User: "asterisk", Password: "asterisk", App: "test-observer"})
	require.NoError(t, err)
	a.rest = rest
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	require.NoError(t, fake.WaitConnected(ctx, "hotline"), "the child hotline did not connect")
	return a
}

// restart kills the child hotline (SIGKILL) and starts a new one on the
// same Asterisk, database, record spool and instance name.
func (a *adoptEnv) restart() *env {
	a.t.Helper()
	a.child.kill()
	o := a.o
	o.db, o.spool = a.db, a.spool
	e := startHotline(a.t, a.fake.URL(), "asterisk", "asterisk", o)
	e.fake = a.fake
	wctx, wcancel := context.WithTimeout(context.Background(), waitTimeout)
	defer wcancel()
	require.NoError(a.t, a.fake.WaitConnected(wctx, "hotline"))
	return e
}

// saved is HOTLINE_CALL as a supervisor could read it in Asterisk (the
// fields the tests look at).
type saved struct {
	ID    string `json:"id"`
	Phase string `json:"st"`
	Legs  []struct {
		ID     string `json:"id"`
		Result string `json:"res"`
	} `json:"legs"`
	Accepted string `json:"acc"`
}

// waitSaved waits until the caller's HOTLINE_CALL satisfies ok.
func (a *adoptEnv) waitSaved(c *aritest.Call, what string, ok func(saved) bool) saved {
	a.t.Helper()
	var s saved
	eventually(a.t, what, func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		raw, err := a.rest.GetChannelVar(ctx, c.ID(), "HOTLINE_CALL")
		if err != nil {
			return false, err.Error()
		}
		s = saved{}
		if err := json.Unmarshal([]byte(raw), &s); err != nil {
			return false, raw
		}
		return ok(s), raw
	})
	return s
}

// A bridged call survives the hotline's SIGKILL: the new process takes it
// over, the caller and the KTV keep talking in the same bridge, and when the
// KTV hangs up the caller is asked to rate; one record, answered, with its
// leg and rating. Before: the new process sent the caller back to the
// dialplan (recorded interrupted) and destroyed the bridge.
func TestAdoptionKeepsABridgedCallTalking(t *testing.T) {
	a := newAdoptEnv(t, envOption{cfg: expect{tech: true, confirm: true, rate: true}.cfg(),
		fake: func(o *aritest.Options) {
			o.Phones = map[string]aritest.Phone{ktv1Vina: aritest.AnswersAndPresses(20*time.Millisecond, "1", 10*time.Millisecond)}
		}})
	c, err := a.fake.PlaceCall(aritest.CallSpec{Number: cafe1Phone})
	require.NoError(t, err)
	_, err = c.WaitHeard(ctxFor(t), "bridged", "")
	require.NoError(t, err)
	st := a.waitSaved(c, "the bridged call saved", func(s saved) bool { return s.Phase == "bridged" })
	bridge := st.ID + "-br"
	legID := st.Accepted
	require.NotEmpty(t, legID)

	e := a.restart()
	waitLive(t, ctxFor(t), e, "taken over, bridged with KTV1", func(l ivr.LiveCall) bool {
		return l.ID == st.ID && l.State == "bridged" && l.Target != nil && l.Target.Staff == "KTV1" && l.Target.Bridged
	})
	// Still talking in the same bridge: nothing was undone.
	brs := a.fake.Bridges()
	require.Len(t, brs, 1)
	require.Equal(t, bridge, brs[0].ID)
	require.ElementsMatch(t, []string{c.ID(), legID}, brs[0].Channels)
	require.False(t, c.Continued())
	require.Empty(t, e.requests("DELETE /ari/bridges/"))
	require.Zero(t, e.hangups(c.ID()))
	require.Zero(t, e.hangups(legID))

	require.NoError(t, a.fake.HangupLeg(legID))
	e.waitHeard(c, "playback", "vi/rate")
	require.NoError(t, c.Press(e.ctx(), "4"))
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(t, st.ID, r.ID, "the call keeps its id")
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, "KTV1", r.AcceptedBy.String)
	require.Equal(t, "KG001", r.Cafe.String)
	require.Equal(t, "caller_id", r.MatchedBy)
	require.Equal(t, weekday10, r.StartedAt.In(weekday10.Location()), "the call's start is the original one")
	require.Equal(t, []string{"KTV1/answered"}, r.results())
	require.Equal(t, legID, r.Legs[0].ChannelID)
	require.True(t, r.Legs[0].AcceptedAt.Valid)
	require.Contains(t, r.Detail, "taken over")
	require.NotNil(t, r.Rating)
	require.Equal(t, int64(4), r.Rating.Score.Int64)
	require.Equal(t, "KTV1", r.Rating.Staff)
	e.expectMetrics(map[string]float64{
		`hotline_calls_adopted_total{state="bridged"}`:           1,
		ended("answered", "caller_id", "MN"):                     1,
		legs("technician", "vinaphone", "vinaphone", "answered"): 1,
		staffLegs("KTV1", "answered"):                            1,
		talks("MN", "technician"):                                1,
		`hotline_ratings_total{region="MN",score="4"}`:           1,
		`hotline_staff_ratings_total{staff="KTV1"}`:              1,
		`hotline_staff_rating_points_total{staff="KTV1"}`:        4,
	})
}

// A hotline killed while the person who accepted was transferring the call
// (the caller on music outside the bridge, the operator ringing) does not
// carry the transfer over: the new process hangs the operator's leg up, stops
// the music and bridges the caller back with KTV1, who goes on talking; one
// record, with the operator's leg kept as a transfer's. Before: the caller
// stayed on music, alone, while KTV1 waited in the bridge.
func TestAdoptionOfACallBeingTransferredGoesBackToTheFirstPerson(t *testing.T) {
	a := newAdoptEnv(t, envOption{cfg: expect{tech: true, op: true, confirm: true, rate: true}.cfg(func(c *ivr.Config) {
		c.CodeInterDigit = patient
	}), fake: func(o *aritest.Options) {
		o.Phones = map[string]aritest.Phone{ktv1Vina: aritest.AnswersAndPresses(20*time.Millisecond, "1", 10*time.Millisecond)}
	}}) // OP1 rings until it gives up
	c, err := a.fake.PlaceCall(aritest.CallSpec{Number: cafe1Phone})
	require.NoError(t, err)
	_, err = c.WaitHeard(ctxFor(t), "bridged", "")
	require.NoError(t, err)
	st := a.waitSaved(c, "the bridged call saved", func(s saved) bool { return s.Phase == "bridged" })
	bridge, first := st.ID+"-br", st.Accepted
	require.NotEmpty(t, first)
	require.NoError(t, a.fake.PressOnLeg(first, "*0#"))
	_, err = c.WaitHeard(ctxFor(t), "moh", "")
	require.NoError(t, err)
	st = a.waitSaved(c, "the operator's leg saved", func(s saved) bool { return len(s.Legs) == 2 })
	var op string
	for _, l := range st.Legs {
		if l.ID != first {
			op = l.ID
		}
	}
	require.Equal(t, first, st.Accepted, "KTV1 still the one who accepted")

	e := a.restart()
	waitLive(t, ctxFor(t), e, "taken over, bridged back with KTV1", func(l ivr.LiveCall) bool {
		return l.ID == st.ID && l.State == "bridged" && l.Target != nil && l.Target.Staff == "KTV1" && l.Target.Bridged
	})
	eventually(t, "the caller back in the bridge with KTV1, the operator's leg gone", func() (bool, string) {
		brs := a.fake.Bridges()
		if len(brs) != 1 || brs[0].ID != bridge {
			return false, fmt.Sprint(brs)
		}
		return slices.Contains(brs[0].Channels, c.ID()) && slices.Contains(brs[0].Channels, first) &&
			len(brs[0].Channels) == 2 && e.hangups(op) > 0, fmt.Sprint(brs[0].Channels)
	})
	e.waitHeard(c, "moh-stop", "")
	require.Zero(t, e.hangups(first))

	require.NoError(t, a.fake.HangupLeg(first))
	e.waitHeard(c, "playback", "vi/rate")
	require.NoError(t, c.Press(e.ctx(), "4"))
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(t, st.ID, r.ID)
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, "KTV1", r.AcceptedBy.String)
	require.Equal(t, []string{"KTV1/answered", "OP1/cancelled"}, r.results())
	require.Equal(t, []string{"", "transfer"}, e.reasons(r))
	require.NotNil(t, r.Rating)
	require.Equal(t, "KTV1", r.Rating.Staff)
}

// A call whose KTV was ringing at the kill is rung again by the new
// process: the old leg is hung up (and gone) before the new one is created,
// the KTV answers this time, the call completes. Before: the caller went
// back to the dialplan.
func TestAdoptionRingsARingingCallAgain(t *testing.T) {
	a := newAdoptEnv(t, envOption{cfg: expect{tech: true, confirm: true}.cfg()})
	c, err := a.fake.PlaceCall(aritest.CallSpec{Number: cafe1Phone})
	require.NoError(t, err)
	st := a.waitSaved(c, "the ringing call saved with its leg", func(s saved) bool {
		return s.Phase == "ringing" && len(s.Legs) == 1 && s.Legs[0].Result == ""
	})
	oldLeg := st.Legs[0].ID
	require.NoError(t, a.fake.WaitFor(ctxFor(t), func() bool {
		return len(a.fake.Dials()) == 1 && len(requestsOf(a.fake, "POST /ari/channels/"+oldLeg+"/dial")) == 1
	}))

	a.fake.SetPhone(ktv1Vina, aritest.AnswersAndPresses(20*time.Millisecond, "1", 10*time.Millisecond))
	e := a.restart()
	var newLeg aritest.Dialled
	require.NoError(t, a.fake.WaitFor(e.ctx(), func() bool {
		for _, d := range a.fake.Dials() {
			// Dialled: its dial request is logged, so its create (a dial
			// listing has the leg from the create's handling on, the
			// request log only once the create is answered).
			if d.ChannelID != oldLeg && d.Number == ktv1Vina &&
				len(requestsOf(a.fake, "POST /ari/channels/"+d.ChannelID+"/dial")) == 1 {
				newLeg = d
				return true
			}
		}
		return false
	}))
	require.True(t, strings.HasPrefix(newLeg.ChannelID, st.ID+"-leg"), "the call keeps its id: %s", newLeg.ChannelID)
	// Nobody rung twice at once: the old leg was gone before the new one
	// was created.
	gone := eventAt(t, a.fake, "ChannelDestroyed", oldLeg)
	created := requestsOf(a.fake, "POST /ari/channels/create")
	i := slices.IndexFunc(created, func(r aritest.Request) bool { return r.Query["channelId"][0] == newLeg.ChannelID })
	require.GreaterOrEqual(t, i, 0)
	require.True(t, gone.Before(created[i].At), "old leg destroyed %v, new leg created %v", gone, created[i].At)

	e.hangUpWhenBridged(ktv1Vina)
	e.waitEnded(c) // no rating given: the prompt times out
	r := e.record(c.ID())
	require.Equal(t, st.ID, r.ID)
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, []string{"KTV1/cancelled", "KTV1/answered"}, r.results())
	require.Equal(t, oldLeg, r.Legs[0].ChannelID)
	require.Contains(t, r.Legs[0].Detail, "restart")
	require.Equal(t, newLeg.ChannelID, r.Legs[1].ChannelID)
	e.expectMetrics(map[string]float64{
		`hotline_calls_adopted_total{state="ringing"}`:            1,
		ended("answered", "caller_id", "MN"):                      1,
		legs("technician", "vinaphone", "vinaphone", "cancelled"): 1,
		legs("technician", "vinaphone", "vinaphone", "answered"):  1,
		staffLegs("KTV1", "cancelled"):                            1,
		staffLegs("KTV1", "answered"):                             1,
		answerWaits("MN"):                                         1,
		talks("MN", "technician"):                                 1,
		routed:                                                    1,
	})
}

// A caller whose saved state cannot be used (garbled, or unreadable: every
// read fails) goes to the dialplan's fallback and is recorded interrupted;
// a call next to it, whose state is fine, is taken over. Before: every call
// went to the dialplan, none was taken over.
func TestAdoptionFallsBackToTheDialplanWhenTheStateCannotBeRead(t *testing.T) {
	for _, tc := range []struct {
		name   string
		spoil  func(a *adoptEnv, c *aritest.Call)
		detail string
	}{
		{"garbled", func(a *adoptEnv, c *aritest.Call) {
			require.NoError(t, a.rest.SetChannelVar(ctxFor(t), c.ID(), "HOTLINE_CALL", `{"v":1,"id":"01KAB7Y1Q3F7T8M2XW6N4P9R5S","st":`))
		}, "could not be read"},
		{"from a newer version", func(a *adoptEnv, c *aritest.Call) {
			require.NoError(t, a.rest.SetChannelVar(ctxFor(t), c.ID(), "HOTLINE_CALL",
				`{"v":2,"id":"01KAB7Y1Q3F7T8M2XW6N4P9R5S","ch":"`+c.ID()+`","t0":1,"st":"ringing"}`))
		}, "version 2"},
		{"unreadable", func(a *adoptEnv, c *aritest.Call) {
			a.fake.FailNext(http.MethodGet, "/ari/channels/"+c.ID()+"/variable", http.StatusInternalServerError, 0)
		}, "could not be read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAdoptEnv(t, envOption{cfg: expect{tech: true, am: true}.cfg(func(c *ivr.Config) {
				c.TeardownBackoff = 20 * time.Millisecond // the unreadable state is given up quickly
			})})
			spoilt, err := a.fake.PlaceCall(aritest.CallSpec{Number: cafe1Phone})
			require.NoError(t, err)
			a.waitSaved(spoilt, "the first call ringing", func(s saved) bool { return s.Phase == "ringing" && len(s.Legs) == 1 })
			fine, err := a.fake.PlaceCall(aritest.CallSpec{Number: cafe2Phone}) // same KTV: its area manager is rung
			require.NoError(t, err)
			st := a.waitSaved(fine, "the second call ringing", func(s saved) bool { return s.Phase == "ringing" && len(s.Legs) == 1 })
			tc.spoil(a, spoilt)

			e := a.restart()
			require.NoError(t, e.fake.WaitFor(e.ctx(), spoilt.Continued))
			r := e.record(spoilt.ID())
			require.Equal(t, "interrupted", r.Outcome)
			require.Contains(t, r.Detail, tc.detail)
			require.Contains(t, r.Detail, "returned to the dialplan")
			e.fake.ClearFaults()
			waitLive(t, ctxFor(t), e, "the second call rung again", func(l ivr.LiveCall) bool {
				return l.ID == st.ID && l.State == "ringing"
			})
			require.NoError(t, fine.Hangup())
			rf := e.record(fine.ID())
			require.Equal(t, st.ID, rf.ID)
			require.Equal(t, "abandoned", rf.Outcome)
			require.Equal(t, 1.0, e.metric("hotline_adoption_fallbacks_total"))
			require.Equal(t, 1.0, e.metric("hotline_calls_adopted_total", "state", "ringing"))
		})
	}
}

// ctxFor is a bounded context for one step of a test.
func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// requestsOf returns the fake's requests whose "METHOD path" contains s.
func requestsOf(fake *aritest.Server, s string) []aritest.Request {
	var out []aritest.Request
	for _, r := range fake.Requests() {
		if strings.Contains(r.Method+" "+r.Path, s) {
			out = append(out, r)
		}
	}
	return out
}

// eventAt is when the fake sent the first event of type typ about channel
// id.
func eventAt(t *testing.T, fake *aritest.Server, typ, id string) time.Time {
	t.Helper()
	for _, ev := range fake.Events() {
		var m struct {
			Channel struct {
				ID string `json:"id"`
			} `json:"channel"`
		}
		if ev.Type == typ && json.Unmarshal(ev.JSON, &m) == nil && m.Channel.ID == id {
			return ev.At
		}
	}
	t.Fatalf("no %s event for %s", typ, id)
	return time.Time{}
}

// What happened to a bridged call while no hotline ran is read from
// Asterisk when the new one starts: the person hung up (the caller is alone
// in the bridge: rating), the caller hung up (the leg is hung up and the
// call recorded), or the process died right after bridging, before saving
// it (the bridge says who talks).
func TestAdoptionOfABridgedCallAfterChangesWhileDead(t *testing.T) {
	rate := func(t *testing.T, e *env, c *aritest.Call) {
		e.waitHeard(c, "playback", "vi/rate")
		require.NoError(t, c.Press(e.ctx(), "5"))
	}
	for _, tc := range []struct {
		name string
		// meanwhile runs between the kill and the new process's start;
		// ringing is HOTLINE_CALL as it was while the KTV was rung.
		meanwhile func(t *testing.T, a *adoptEnv, c *aritest.Call, leg, ringing string)
		// then drives the call taken over to its end.
		then  func(t *testing.T, e *env, c *aritest.Call, leg string)
		check func(t *testing.T, r callRow)
	}{
		{"the KTV hung up", func(t *testing.T, a *adoptEnv, c *aritest.Call, leg, _ string) {
			require.NoError(t, a.fake.HangupLeg(leg))
		}, func(t *testing.T, e *env, c *aritest.Call, _ string) {
			rate(t, e, c)
		}, func(t *testing.T, r callRow) {
			require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
			require.Equal(t, int64(5), r.Rating.Score.Int64)
		}},
		{"the caller hung up", func(t *testing.T, a *adoptEnv, c *aritest.Call, _, _ string) {
			require.NoError(t, c.Hangup())
		}, func(*testing.T, *env, *aritest.Call, string) {}, func(t *testing.T, r callRow) {
			require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
			require.Contains(t, r.Detail, "vanished while the hotline was restarting")
			require.Nil(t, r.Rating)
		}},
		{"the bridge was not saved yet", func(t *testing.T, a *adoptEnv, c *aritest.Call, _, ringing string) {
			require.NoError(t, a.rest.SetChannelVar(ctxFor(t), c.ID(), "HOTLINE_CALL", ringing))
		}, func(t *testing.T, e *env, c *aritest.Call, leg string) {
			waitLive(t, e.ctx(), e, "taken over, bridged", func(l ivr.LiveCall) bool { return l.State == "bridged" })
			require.NoError(t, e.fake.HangupLeg(leg))
			rate(t, e, c)
		}, func(t *testing.T, r callRow) {
			require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
			require.True(t, r.AcceptedAt.Valid)
			require.Equal(t, int64(5), r.Rating.Score.Int64)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAdoptEnv(t, envOption{cfg: expect{tech: true, confirm: true, rate: true}.cfg(),
				fake: func(o *aritest.Options) {
					// Answers a moment after ringing: time to read the
					// ringing call's state first.
					o.Phones = map[string]aritest.Phone{ktv1Vina: aritest.AnswersAndPresses(300*time.Millisecond, "1", 10*time.Millisecond)}
				}})
			c, err := a.fake.PlaceCall(aritest.CallSpec{Number: cafe1Phone})
			require.NoError(t, err)
			a.waitSaved(c, "the ringing call saved", func(s saved) bool { return s.Phase == "ringing" && len(s.Legs) == 1 })
			ringing, err := a.rest.GetChannelVar(ctxFor(t), c.ID(), "HOTLINE_CALL")
			require.NoError(t, err)
			st := a.waitSaved(c, "the bridged call saved", func(s saved) bool { return s.Phase == "bridged" })
			a.child.kill()
			tc.meanwhile(t, a, c, st.Accepted, ringing)

			e := a.restart()
			tc.then(t, e, c, st.Accepted)
			e.waitEnded(c)
			r := e.record(c.ID())
			require.Equal(t, st.ID, r.ID)
			require.Equal(t, []string{"KTV1/answered"}, r.results())
			require.Equal(t, st.Accepted, r.Legs[0].ChannelID)
			require.Len(t, e.heardKinds(c, "bridged"), 1, "bridged once, by the first process")
			tc.check(t, r)
			require.NoError(t, a.fake.CheckClean(e.ctx()))
		})
	}
}

// A call killed while the caller was asked for a rating, or was leaving a
// message, finishes that with the new process: the rating is asked again
// and stored; the message being recorded (Asterisk goes on recording)
// is kept, with the goodbye.
func TestAdoptionFinishesTheRatingAndTheMessage(t *testing.T) {
	t.Run("rating", func(t *testing.T) {
		a := newAdoptEnv(t, envOption{cfg: expect{tech: true, confirm: true, rate: true}.cfg(),
			fake: func(o *aritest.Options) {
				o.Phones = map[string]aritest.Phone{ktv1Vina: aritest.AnswersAndPresses(20*time.Millisecond, "1", 10*time.Millisecond)}
			}})
		c, err := a.fake.PlaceCall(aritest.CallSpec{Number: cafe1Phone})
		require.NoError(t, err)
		st := a.waitSaved(c, "the bridged call saved", func(s saved) bool { return s.Phase == "bridged" })
		require.NoError(t, a.fake.HangupLeg(st.Accepted))
		_, err = c.WaitHeard(ctxFor(t), "playback", "vi/rate")
		require.NoError(t, err)
		a.waitSaved(c, "the call saved while rating", func(s saved) bool { return s.Phase == "rating" })
		e := a.restart()
		eventually(t, "the rating asked again", func() (bool, string) {
			return countHeard(c, "playback", "sound:vi/rate") == 2, fmt.Sprint(c.Heard())
		})
		require.NoError(t, c.Press(e.ctx(), "3"))
		e.waitEnded(c)
		r := e.record(c.ID())
		require.Equal(t, st.ID, r.ID)
		require.Equal(t, "answered", r.Outcome)
		require.Equal(t, []string{"KTV1/answered"}, r.results())
		require.Equal(t, int64(3), r.Rating.Score.Int64)
		require.Equal(t, "KTV1", r.Rating.Staff)
		require.Equal(t, 1.0, e.metric("hotline_calls_adopted_total", "state", "ivr"))
	})
	t.Run("message", func(t *testing.T) {
		a := newAdoptEnv(t, envOption{cfg: expect{message: true}.cfg()})
		c, err := a.fake.PlaceCall(aritest.CallSpec{Number: cafe1Phone})
		require.NoError(t, err)
		st := a.waitSaved(c, "the call saved in voicemail", func(s saved) bool { return s.Phase == "voicemail" })
		rec, err := c.WaitHeard(ctxFor(t), "recording", "")
		require.NoError(t, err)
		e := a.restart()
		waitLive(t, e.ctx(), e, "taken over", func(l ivr.LiveCall) bool { return l.ID == st.ID })
		require.NoError(t, c.Press(e.ctx(), "#"))
		e.waitHeard(c, "playback", "vi/goodbye")
		e.waitEnded(c)
		r := e.record(c.ID())
		require.Equal(t, st.ID, r.ID)
		require.Equal(t, "voicemail", r.Outcome)
		require.Len(t, r.Legs, 5, "%+v", r.Legs)
		require.NotNil(t, r.Voicemail)
		require.Equal(t, rec.Detail, r.Voicemail.Recording)
		require.Equal(t, "+84945551001", r.Voicemail.Callback)
	})
}

// countHeard counts what the caller was given of kind and detail.
func countHeard(c *aritest.Call, kind, detail string) int {
	n := 0
	for _, h := range c.Heard() {
		if h.Kind == kind && h.Detail == detail {
			n++
		}
	}
	return n
}

// Every call's state is in Asterisk before the caller hears anything: on
// Asterisk a write waits while a prompt plays (the fake does the same), so
// the first one is made before the greeting and a call is never long
// without a saved state to take over.
func TestCallStateIsSavedBeforeTheCallerHearsAnything(t *testing.T) {
	for _, tc := range []struct{ name, number string }{
		{"known café", cafe1Phone},
		{"unknown number", "0901234567"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOption{fake: func(o *aritest.Options) { o.PlaybackLength = 300 * time.Millisecond }})
			c := e.call(tc.number)
			e.waitHeard(c, "playback", "vi/greeting")
			var first []string
			eventually(t, "the answer and the greeting's play request logged", func() (bool, string) {
				first = nil
				for _, r := range e.requests("/ari/channels/" + c.ID() + "/") {
					first = append(first, r.Method+" "+strings.TrimPrefix(r.Path, "/ari/channels/"+c.ID()+"/"))
				}
				return slices.Contains(first, "POST answer") && slices.ContainsFunc(first, func(s string) bool {
					return strings.HasPrefix(s, "POST play/")
				}), fmt.Sprint(first)
			})
			play := slices.IndexFunc(first, func(s string) bool { return strings.HasPrefix(s, "POST play/") })
			require.Less(t, slices.Index(first, "POST variable"), play, "saved before the greeting: %v", first)
			require.NotEqual(t, -1, slices.Index(first, "POST variable"), "%v", first)
			require.Equal(t, "HOTLINE_CALL", e.requests("/ari/channels/" + c.ID() + "/variable")[0].Query["variable"][0])
			require.NoError(t, c.Hangup())
			e.waitEnded(c)
		})
	}
}

// A caller who hangs up while no hotline runs, their KTV still ringing: the
// new process finds the call from its leg (HOTLINE_LEG), hangs the leg up
// and records the call, interrupted.
func TestAdoptionRecordsACallerWhoLeftWhileNoProcessRan(t *testing.T) {
	a := newAdoptEnv(t, envOption{cfg: expect{tech: true}.cfg()})
	c, err := a.fake.PlaceCall(aritest.CallSpec{Number: cafe1Phone})
	require.NoError(t, err)
	st := a.waitSaved(c, "the ringing call saved with its leg", func(s saved) bool {
		return s.Phase == "ringing" && len(s.Legs) == 1 && s.Legs[0].Result == ""
	})
	a.child.kill()
	require.NoError(t, c.Hangup())
	e := a.restart()
	r := e.record(c.ID())
	require.Equal(t, st.ID, r.ID)
	require.Equal(t, "interrupted", r.Outcome)
	require.Contains(t, r.Detail, "vanished while the hotline was restarting")
	require.Equal(t, []string{"KTV1/cancelled"}, r.results())
	require.Equal(t, st.Legs[0].ID, r.Legs[0].ChannelID)
	require.Equal(t, cafe1Phone, r.CallerRaw)
	require.Equal(t, "KG001", r.Cafe.String)
	require.NoError(t, a.fake.CheckClean(e.ctx()))
}

// A call arriving right after the restart, while the calls of the killed
// process are being taken over, does not ring a person one of those calls
// talks with: the previous run's reservations of the calls taken over are
// kept (the others are freed). Before: every reservation of the previous run
// was freed at start-up, and the new call rang the KTV in the middle of
// their conversation.
func TestAdoptionKeepsThePersonOfACallTakenOverReserved(t *testing.T) {
	talker := aritest.AnswersAndPresses(20*time.Millisecond, "1", 10*time.Millisecond)
	a := newAdoptEnv(t, envOption{cfg: expect{tech: true, am: true, confirm: true}.cfg(),
		fake: func(o *aritest.Options) { o.Phones = map[string]aritest.Phone{ktv1Vina: talker, am1: talker} }})
	first, err := a.fake.PlaceCall(aritest.CallSpec{Number: cafe1Phone})
	require.NoError(t, err)
	st := a.waitSaved(first, "the first call bridged with KTV1", func(s saved) bool { return s.Phase == "bridged" })
	// The new process takes its time over the bridged call.
	a.fake.AddFault(aritest.Fault{Method: http.MethodGet, Path: "/ari/bridges/" + st.ID + "-br", Delay: time.Second, Times: 1})
	e := a.restart()
	second := e.call(cafe2Phone) // KTV1's café too
	e.waitHeard(second, "bridged", "")
	require.Len(t, e.dialsTo(ktv1Vina), 1, "KTV1 rung again while talking: %+v", e.dialsTo(ktv1Vina))
	require.Len(t, e.dialsTo(am1), 1)
	require.NoError(t, first.Hangup())
	require.NoError(t, second.Hangup())
	e.waitEnded(first)
	e.waitEnded(second)
	require.Equal(t, []string{"KTV1/answered"}, e.record(first.ID()).results())
	r := e.record(second.ID())
	require.Equal(t, []string{"AM1/answered"}, r.results(), "%+v", r.Legs)
	e.requireNoReservation(waitTimeout)
}

// Asterisk answering 500 to the new process's first reads of a bridged
// call's bridge does not cut the conversation (the chaos run's 1% of 500s
// did, once): the read is tried again, and a bridge whose state is unknown is
// left as it is.
func TestAdoptionSurvivesFailingReadsOfTheBridge(t *testing.T) {
	for _, failures := range []int{2, 100} { // read again until it works; never works
		t.Run(fmt.Sprint(failures), func(t *testing.T) {
			a := newAdoptEnv(t, envOption{cfg: expect{tech: true, confirm: true}.cfg(func(c *ivr.Config) {
				c.TeardownBackoff = 20 * time.Millisecond
			}), fake: func(o *aritest.Options) {
				o.Phones = map[string]aritest.Phone{ktv1Vina: aritest.AnswersAndPresses(20*time.Millisecond, "1", 10*time.Millisecond)}
			}})
			c, err := a.fake.PlaceCall(aritest.CallSpec{Number: cafe1Phone})
			require.NoError(t, err)
			st := a.waitSaved(c, "the bridged call saved", func(s saved) bool { return s.Phase == "bridged" })
			a.child.kill()
			a.fake.FailNext(http.MethodGet, "/ari/bridges/"+st.ID+"-br", http.StatusInternalServerError, failures)
			before := len(a.fake.Requests())
			e := a.restart()
			waitLive(t, e.ctx(), e, "taken over, bridged", func(l ivr.LiveCall) bool { return l.State == "bridged" })
			for _, r := range a.fake.Requests()[before:] {
				require.False(t, strings.HasPrefix(r.Path, "/ari/bridges") && r.Method != http.MethodGet,
					"the bridge is left as it is: %s %s", r.Method, r.Path)
			}
			e.fake.ClearFaults()
			require.NoError(t, a.fake.HangupLeg(st.Accepted))
			e.waitEnded(c)
			r := e.record(c.ID())
			require.Equal(t, "answered", r.Outcome)
			require.Equal(t, []string{"KTV1/answered"}, r.results())
		})
	}
}

// A caller who hangs up during the greeting or the café code while no
// hotline runs leaves nothing in Asterisk (no leg was created yet): the new
// process finds the call in the database's journal of calls in progress and
// records it, interrupted, under its id. Before: no record at all.
func TestAdoptionRecordsACallerWhoLeftTheMenuWhileNoProcessRan(t *testing.T) {
	a := newAdoptEnv(t, envOption{cfg: expect{code: true}.cfg()})
	c, err := a.fake.PlaceCall(aritest.CallSpec{Number: "0901234567"}) // not a café's: asked for the code
	require.NoError(t, err)
	st := a.waitSaved(c, "the call saved in the menu", func(s saved) bool { return s.Phase == "ivr" })
	_, err = c.WaitHeard(ctxFor(t), "playback", "vi/enter-code")
	require.NoError(t, err)
	// The journal's row is written alongside the state in Asterisk, not
	// before it: wait for it too (a process killed before either is
	// written leaves nothing to record the call from).
	eventually(t, "the call in the journal", func() (bool, string) {
		var n int
		err := a.db.Get(&n, "SELECT count(*) FROM live_calls WHERE channel_id = $1", c.ID())
		return err == nil && n == 1, fmt.Sprint(n, err)
	})
	a.child.kill()
	require.NoError(t, c.Hangup())
	e := a.restart()
	r := e.record(c.ID())
	require.Equal(t, st.ID, r.ID)
	require.Equal(t, "interrupted", r.Outcome)
	require.Contains(t, r.Detail, "vanished while the hotline was restarting")
	require.Equal(t, "0901234567", r.CallerRaw)
	require.Empty(t, r.Legs)
	var left int
	require.NoError(t, e.db.Get(&left, "SELECT count(*) FROM live_calls"))
	require.Zero(t, left, "the journal's row ends with the record")
	e.expectMetrics(map[string]float64{
		offered("none", "none"):              1,
		ended("interrupted", "none", "none"): 1,
	})
}

// A hotline killed before it could save a call's state in Asterisk (every
// write of HOTLINE_CALL refused here) still wrote the call in the journal:
// the new process takes the caller over from the menu under the call's id
// (asked for the café code again) instead of sending them to the
// dialplan's fallback. Before: returned to the dialplan, recorded
// interrupted.
func TestAdoptionTakesOverACallerWithoutSavedStateFromTheJournal(t *testing.T) {
	a := newAdoptEnv(t, envOption{cfg: expect{code: true}.cfg()})
	a.fake.FailNext(http.MethodPost, "/ari/channels/*/variable", http.StatusInternalServerError, 0)
	c, err := a.fake.PlaceCall(aritest.CallSpec{Number: "0901234567"}) // not a café's: asked for the code
	require.NoError(t, err)
	_, err = c.WaitHeard(ctxFor(t), "playback", "vi/enter-code")
	require.NoError(t, err)
	var callID string
	eventually(t, "the call in the journal", func() (bool, string) {
		err := a.db.Get(&callID, "SELECT call_id FROM live_calls WHERE channel_id = $1", c.ID())
		return err == nil, fmt.Sprint(err)
	})
	_, err = a.rest.GetChannelVar(ctxFor(t), c.ID(), "HOTLINE_CALL")
	require.True(t, ari.IsNotFound(err), "no state saved: %v", err)
	a.child.kill()
	a.fake.ClearFaults()
	e := a.restart()
	eventually(t, "the caller asked for the code again", func() (bool, string) {
		return countHeard(c, "playback", "sound:vi/enter-code") >= 2, fmt.Sprint(c.Heard())
	})
	require.False(t, c.Continued(), "not returned to the dialplan")
	require.NoError(t, c.Hangup())
	e.waitEnded(c)
	r := e.record(c.ID())
	require.Equal(t, callID, r.ID)
	require.Contains(t, r.Detail, "taken over")
	require.Equal(t, 1.0, e.metric("hotline_calls_adopted_total", "state", "ivr"))
	require.Zero(t, e.metric("hotline_adoption_fallbacks_total"))
}
