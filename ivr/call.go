package ivr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/store"
)

// Causes of a call's context ending.
var (
	// errCallerLeft: the caller hung up (StasisEnd or a hangup request of
	// the caller's channel).
	errCallerLeft = errors.New("caller hung up")
	// errCallerGone: after an ARI reconnect the caller's channel no longer
	// exists (its hangup happened while we could not see it).
	errCallerGone = errors.New("caller's channel vanished while the ARI link was down")
)

// call is one incoming call. Its flow (serve) runs in one goroutine; the
// fields under mu are also read by Snapshot, Busy and reconciliation.
type call struct {
	s         *Server
	id        string
	channelID string
	callerRaw string
	number    dialplan.Number
	seq       uint64
	offset    time.Duration // Deps.Now − time.Now at the start
	log       *slog.Logger

	ctx    context.Context
	cancel context.CancelCauseFunc
	sub    *ari.Subscription // the caller's channel events
	dtmf   chan string       // the caller's digits
	ids    atomic.Int64      // suffix counter for playback/leg ids
	gone   atomic.Bool       // the caller's channel is hanging up or gone
	// synced is closed by Run once it has handled every event its
	// subscription had queued when the call's own subscription was made
	// (mark): by then a hangup the client dispatched before the call could
	// hear it has reached the call. nil: nothing to wait for.
	synced chan struct{}
	mark   uint64

	mu           sync.Mutex
	state        string
	started      time.Time
	cafeName     string
	provinceName string
	target       *LiveTarget
	legs         map[string]*leg // legs alive now (for reconciliation)
	resync       chan struct{}   // closed and replaced after each reconcile
	rec          store.CallRecord

	// owned are the call's goroutines besides its flow (database
	// reservations, hangups being retried, marks of who was rung, the
	// saver): teardown waits for them.
	owned sync.WaitGroup

	// The call's state in Asterisk (persist.go): the flow puts the latest
	// encoding in toSave and kicks the saver.
	saveMu   sync.Mutex
	toSave   string
	saveKick chan struct{}
	written  string        // the state last written (saver), under saveMu
	wrote    chan struct{} // closed and replaced by each write, under saveMu
	// firstSaved is closed once the first write ended (or failed): the
	// caller hears nothing before, since on Asterisk a write waits while a
	// prompt plays.
	firstSaved chan struct{}
	// noted is closed once the call's journal row is written (journal.go).
	noted chan struct{}
	// adopted is the state a previous process left, for a call taken over
	// at start-up (adopt.go); nil for a call that started here.
	adopted *savedCall
	// oldLegs are the adopted call's legs still in Asterisk at adoption;
	// notAnswered: the adopted caller's channel was not answered yet.
	oldLegs     []string
	notAnswered bool

	// Flow-only fields (the serve goroutine).
	code      string // the café code typed, once it named a café
	holds     []*reservation
	offered   bool
	exhausted bool // every target was tried: nobody accepted
	failure   string
	// handBack says why the caller goes to the dialplan's fallback at
	// teardown instead of being hung up (set when voicemail cannot take
	// them); handedBack that Asterisk took them there.
	handBack   string
	handedBack bool
	acceptedBy *leg
	talkStart  time.Time
	talkEnd    time.Time

	// cb is set when the call is a callback try (callback_try.go).
	cb *callbackTry
	// Transfers (transfer.go): the one in progress (guarded by mu, the
	// board reads it), and the reason recorded on the legs rung now.
	xfer       *transfer
	ringReason string
}

func (s *Server) newCall(parent context.Context, e *ari.StasisStart) *call {
	start := s.now()
	return s.buildCall(parent, ulid.Make().String(), e.Channel.ID, e.Channel.Caller.Number, start, time.Until(start))
}

// buildCall makes a call of the caller's channel; start is on the call's
// clock, offset is that clock minus the wall clock.
func (s *Server) buildCall(parent context.Context, id, channelID, raw string, start time.Time, offset time.Duration) *call {
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(parent))
	num := dialplan.Normalize(raw)
	c := &call{
		s: s, id: id, channelID: channelID, callerRaw: raw, number: num,
		seq:    s.seq.Add(1),
		offset: offset,
		ctx:    ctx, cancel: cancel,
		dtmf:     make(chan string, 64),
		started:  start,
		legs:     map[string]*leg{},
		resync:   make(chan struct{}),
		saveKick: make(chan struct{}, 1),
		wrote:    make(chan struct{}),

		firstSaved: make(chan struct{}),
		noted:      make(chan struct{}),
	}
	c.log = s.log.With("call_id", id, "channel_id", c.channelID, "caller", raw)
	c.rec = store.CallRecord{
		ID: id, Node: s.cfg.Instance, ChannelID: c.channelID, CallerRaw: raw, Caller: num.E164,
		CallerKind: string(num.Kind), StartedAt: start,
	}
	// Subscribe before anything is done with the channel.
	c.sub = s.ari.Subscribe(ari.ChannelKey(c.channelID))
	return c
}

// now is the call's clock: Deps.Now at the start, then real time.
func (c *call) now() time.Time { return time.Now().Add(c.offset) }

// newID returns a fresh id for a resource of the call ("<call>-pb3").
func (c *call) newID(kind string) string {
	return c.id + "-" + kind + strconv.FormatInt(c.ids.Add(1), 10)
}

// serve runs the call from StasisStart (or its adoption) to its record.
func (c *call) serve() {
	if c.adopted == nil {
		c.setState(StateIVR)
		c.log.Info("call started")
	}
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		c.watch()
	}()
	stopSaving := make(chan struct{})
	c.goOwned(func() { c.saver(stopSaving) })
	c.note()
	defer func() {
		if p := recover(); p != nil {
			c.failure = fmt.Sprintf("panic: %v", p)
			c.log.Error("call flow panicked", "panic", p)
		}
		close(stopSaving)
		c.teardown()
		c.sub.Close()
		<-watchDone
		c.setState("")
		c.s.endCall(c)
	}()
	if c.adopted != nil {
		c.resume(c.ctx)
		return
	}
	c.flow(c.ctx)
}

// watch follows the caller's channel: its hangup cancels the call's
// context, its digits go to c.dtmf.
func (c *call) watch() {
	for ev := range c.sub.Events() {
		switch e := ev.(type) {
		case *ari.ChannelDTMFReceived:
			select {
			case c.dtmf <- e.Digit:
			default: // a caller mashing keys: older digits are enough
			}
		case *ari.ChannelHangupRequest, *ari.StasisEnd, *ari.ChannelDestroyed:
			c.callerHungUp()
		}
	}
}

// callerHungUp records that the caller's channel is hanging up or gone:
// the call's context ends with errCallerLeft. It may come more than once
// (Run and the call's subscription both see the end).
func (c *call) callerHungUp() {
	c.gone.Store(true)
	c.cancel(errCallerLeft)
}

// callerLeft reports whether the caller's channel is gone (or going).
func (c *call) callerLeft() bool { return c.gone.Load() }

// callerGoneErr reports whether err, Asterisk's answer to a request about
// the caller's channel, says the caller is gone — 404 (no such channel) or
// 409 (not in a Stasis application: the caller left ours, which only a
// hangup does while the flow runs) — and then ends the call as the
// hangup's events would have (they may be lost, or still on their way).
func (c *call) callerGoneErr(err error) bool {
	if err == nil || (!ari.IsNotFound(err) && !errors.Is(err, ari.ErrNotInStasis)) {
		return false
	}
	if !c.callerLeft() {
		c.log.Info("the caller's channel is gone", "err", err)
	}
	c.callerHungUp()
	return true
}

// waitSynced waits until every end of the caller's channel the client
// dispatched before the call's own subscription existed has reached the
// call (see synced), and reports whether the call goes on.
func (c *call) waitSynced(ctx context.Context) bool {
	if c.synced != nil {
		select {
		case <-c.synced:
		case <-ctx.Done():
		}
	}
	return ctx.Err() == nil
}

// checkCallerGone asks Asterisk whether the caller's channel still exists,
// after an error that does not say (Asterisk answers an answer request on
// a channel that is hanging up with 500 "Failed to answer channel").
func (c *call) checkCallerGone() bool {
	ctx, cancel := c.teardownCtx()
	defer cancel()
	_, err := c.s.ari.GetChannel(ctx, c.channelID)
	return c.callerGoneErr(err)
}

// flow is the call, as a supervisor tells it.
func (c *call) flow(ctx context.Context) {
	dir := c.s.dir()
	if dir == nil {
		c.failure = "no directory loaded"
		return
	}
	// The call's state is saved in Asterisk (persist.go) from here on: by the
	// plan for a known café, before the greeting otherwise.
	id := dialplan.Identify(dir, c.number, "")
	if id.MatchedBy == dialplan.MatchedByCallerID {
		// Known café: ring its first target at once, while the greeting
		// plays.
		dec := c.plan(dir, id)
		in := c.startIntro(ctx, true, c.s.cfg.Prompts.Greeting, c.s.cfg.Prompts.Connecting)
		c.ringAll(ctx, dec, in)
		return
	}
	// Unknown number: greet, ask for the café code, then identify.
	c.save()
	if err := c.answer(ctx); err != nil {
		return
	}
	c.awaitFirstSave(ctx)
	_ = c.playWait(ctx, c.channelID, c.s.cfg.Prompts.Greeting)
	if ctx.Err() != nil {
		return
	}
	code := c.collectCode(ctx, dir)
	if ctx.Err() != nil {
		return
	}
	id = dialplan.Identify(dir, c.number, code)
	if id.MatchedBy == dialplan.MatchedByDTMF {
		c.code = code
	}
	dec := c.plan(dir, id)
	in := c.startIntro(ctx, false, c.s.cfg.Prompts.Connecting)
	c.ringAll(ctx, dec, in)
}

// answer answers the caller's channel. An error that means the caller is
// gone (see callerGoneErr; for any other, the events already dispatched,
// then a GET) ends the call like their hangup. A transient error (5xx, no
// answer) with the caller still there is retried (callerTries, within
// about a second); only then is it a failure, and teardown hands the caller
// to the dialplan's fallback.
func (c *call) answer(ctx context.Context) error {
	var err error
	for try := 1; ; try++ {
		err = c.s.ari.Answer(ctx, c.channelID)
		if err == nil || ctx.Err() != nil || c.callerGoneErr(err) || !c.waitSynced(ctx) || c.checkCallerGone() {
			if err == nil && try > 1 {
				c.log.Info("answered the call after retries", "tries", try)
			}
			return err
		}
		if try >= callerTries || !transient(err) {
			break
		}
		c.log.Warn("could not answer the call; retrying", "try", try, "err", err)
		if !sleepCtx(ctx, callerBackoff(try)) {
			return ctx.Err()
		}
	}
	c.failure = "answer: " + err.Error()
	c.log.Error("could not answer the call; it goes to the dialplan's fallback", "tries", callerTries, "err", err)
	return err
}

// callerTries bounds the tries of a request the caller is waiting on (the
// answer, a prompt) that Asterisk refused with a transient error; the
// waits between them (callerBackoff) add up to 0.6 s.
const callerTries = 3

// callerBackoff is the wait after the n-th failed try (n >= 1) of a
// request the caller is waiting on: 200 ms, 400 ms.
func callerBackoff(n int) time.Duration { return 200 * time.Millisecond << (n - 1) }

// transient reports whether an ARI request's error may pass if the request
// is made again: a 5xx, or no answer (timeout, connection); not a 4xx,
// which says what Asterisk thinks of the request or the channel.
func transient(err error) bool {
	if err == nil {
		return false
	}
	for _, e := range []error{ari.ErrBadRequest, ari.ErrUnauthorized, ari.ErrNotFound, ari.ErrConflict,
		ari.ErrPrecondition, ari.ErrUnprocessable, ari.ErrUnexpectedStatus} {
		if errors.Is(err, e) {
			return false
		}
	}
	return true
}

// sleepCtx waits d, or until ctx ends; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// plan identifies and plans, and records what it learnt.
func (c *call) plan(dir *dialplan.Directory, id dialplan.Identification) dialplan.Decision {
	rot := c.rotation() // the database's, within ReserveBudget: not part of the (pure) decision's time
	t0 := time.Now()
	dec := dir.Plan(dialplan.PlanRequest{
		ID: id, At: c.started, Live: c.s, Rotation: rot, Trunks: c.s.cfg.Trunks,
		Ring: c.s.cfg.Ring, MaxTargets: c.s.cfg.MaxTargets,
	})
	c.s.met.RoutingDecision(time.Since(t0))
	var cafeName, provName string
	c.mu.Lock()
	c.rec.MatchedBy = id.MatchedBy
	if id.Cafe != nil {
		c.rec.Cafe = id.Cafe.Code
		cafeName = id.Cafe.Name
		c.cafeName = cafeName
		c.s.cafeCalling(c, id.Cafe.Code) // its pending callback is moot (callback_request.go)
	}
	c.rec.Province, c.rec.Area, c.rec.Region = dec.Province, dec.Area, dec.Region
	if p, ok := dir.Province(dec.Province); ok {
		provName = p.Name
		c.provinceName = provName
	}
	c.mu.Unlock()
	if !c.offered { // a call taken over was offered by the process that started it
		c.offered = true
		c.s.met.CallOffered(string(id.MatchedBy), dec.Region)
	}
	c.log = c.log.With("cafe", c.rec.Cafe, "matched_by", string(id.MatchedBy))
	c.save()
	skipped := make([]string, 0, len(dec.Skipped))
	for _, sk := range dec.Skipped {
		skipped = append(skipped, sk.Staff+":"+string(sk.Reason))
	}
	c.log.Info("call identified and planned", "province", dec.Province, "region", dec.Region,
		"targets", len(dec.Targets), "skipped", skipped, "note", id.Note)
	return dec
}

// legCtx gives leg goroutines a bounded context for teardown requests.
func (c *call) teardownCtx() (context.Context, context.CancelFunc) { return c.s.teardownCtx(c.ctx) }
