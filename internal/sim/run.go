package sim

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/csm-vn/hotline/ari/arifake"
	"github.com/csm-vn/hotline/dialplan"
)

func (g *generator) run(ctx context.Context) (Report, error) {
	start := time.Now()
	// Duration bounds placing calls only: settling and Finish come after
	// it, and get the caller's ctx (ended only by an interrupt).
	runCtx := ctx
	if g.opts.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, g.opts.Duration)
		defer cancel()
	}
	tick := time.NewTicker(time.Duration(float64(time.Second) / g.opts.Rate))
	defer tick.Stop()
	// Calls still going when placing stops get this long to finish.
	callCtx, stopCalls := context.WithCancel(context.WithoutCancel(ctx))
	defer stopCalls()
	var wg sync.WaitGroup
	stopCutting := func() {}
	if g.opts.CutWS > 0 {
		// Only while calls are placed: the end of the run is clean.
		cutCtx, cancel := context.WithCancel(ctx)
		cut := make(chan struct{})
		go func() {
			defer close(cut)
			g.cutWebSocket(cutCtx, g.opts.CutWS)
		}()
		stopCutting = func() { cancel(); <-cut }
	}
loop:
	for n := 0; g.opts.Calls == 0 || n < g.opts.Calls; n++ {
		// Each call is placed on its own goroutine so a slow placement
		// never lowers the rate.
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.place(callCtx, &wg)
		}()
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
		}
	}
	g.rep.Placing = time.Since(start)
	stopCutting()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(g.scale(3*time.Minute) + 5*time.Second + 3*g.opts.Talk):
		g.log.Warn("calls still in progress at the end; hanging them up")
		stopCalls()
		<-done
	}
	g.rep.Elapsed = time.Since(start)
	g.matchSetups()
	g.rep.ARIRequests, g.rep.Rings = g.opts.track.count(), g.opts.people.counts()
	g.settle(runCtx)
	g.rep.Chaos.REST500s = g.srv.FaultHits()
	if g.opts.Finish != nil {
		g.opts.Finish(runCtx, g.rep)
	}
	return g.rep, nil
}

// place makes one call: picks a café (or an unknown caller) and a behaviour,
// scripts the first person the hotline will ring, and plays the caller.
func (g *generator) place(ctx context.Context, wg *sync.WaitGroup) {
	g.mu.Lock()
	cafe := g.opts.Cafes[g.rnd.IntN(len(g.opts.Cafes))]
	b := g.pickBehaviour()
	unknown := g.rnd.Float64() < g.opts.Unknown
	anonymous := unknown && g.rnd.IntN(2) == 0
	number := ""
	if len(cafe.Phones) > 0 {
		number = national(cafe.Phones[g.rnd.IntN(len(cafe.Phones))])
	}
	code := ""
	if unknown {
		number, code = "", cafe.Code
		if !anonymous {
			number = fmt.Sprintf("0900555%03d", g.rnd.IntN(1000))
		}
	}
	n := g.rnd.IntN(30)
	talk := g.scale(time.Duration(10+n) * time.Second)
	if g.opts.Talk > 0 {
		talk = g.opts.Talk + g.opts.Talk*time.Duration(n)/30
	}
	giveUp := g.scale(time.Duration(4+g.rnd.IntN(10)) * time.Second)
	score := fmt.Sprint(1 + g.rnd.IntN(5))
	if g.rnd.IntN(20) == 0 {
		score = "9"
	}
	g.rep.Behaviours[b]++
	g.mu.Unlock()

	placed := time.Now()
	first := g.firstTarget(number, code, placed)
	if first != "" && b != ByPerson {
		g.srv.SetPhone(first, g.phoneFor(b, talk))
	}
	call, err := g.srv.PlaceCall(arifake.CallSpec{Number: number})
	g.mu.Lock()
	g.rep.Placed++
	if err != nil {
		if first != "" {
			g.srv.ClearPhone(first)
		}
		if errors.Is(err, arifake.ErrAppInactive) {
			g.rep.Fallback++
		}
		g.mu.Unlock()
		g.log.Warn("call not taken by the app", "err", err)
		return
	}
	g.active++
	g.rep.CallIDs = append(g.rep.CallIDs, call.ID())
	g.rep.MaxConcurrent = max(g.rep.MaxConcurrent, g.active)
	if !unknown {
		// Set-up time is measured where the caller ID identifies the café:
		// there the first dial should wait for nothing.
		g.pending = append(g.pending, pendingSetup{placed: placed, channel: call.ID()})
	}
	g.mu.Unlock()
	wg.Add(1)
	go func() {
		defer wg.Done()
		got := g.caller(ctx, call, b == GivesUp, giveUp, code, score)
		if first != "" {
			// The script was for this call: the person behaves normally again.
			g.srv.ClearPhone(first)
		}
		g.mu.Lock()
		g.active--
		g.rep.Completed++
		g.rep.Heard[got]++
		g.mu.Unlock()
	}()
}

// firstTarget is the national number of the first person the hotline will
// ring for this caller, as the hotline's own routing decides it.
func (g *generator) firstTarget(number, code string, at time.Time) string {
	if g.opts.Directory == nil {
		return ""
	}
	id := dialplan.Identify(g.opts.Directory, dialplan.Normalize(number), code)
	dec := g.opts.Directory.Plan(dialplan.PlanRequest{ID: id, At: at, Trunks: g.opts.Trunks, MaxTargets: 1})
	if len(dec.Targets) == 0 {
		return ""
	}
	return national(dec.Targets[0].Number)
}

func (g *generator) phoneFor(b Behaviour, talk time.Duration) arifake.Phone {
	ring := g.scale(4 * time.Second)
	switch b {
	case Busy:
		return arifake.Busy()
	case NoAnswer, GivesUp:
		return arifake.NeverAnswers()
	case Voicemail:
		return arifake.Voicemail(ring)
	default:
		return arifake.Phone{Outcome: arifake.OutcomeAnswer, RingFor: ring, Keys: "1",
			KeysAfter: g.scale(2 * time.Second), HangupAfter: talk}
	}
}

// caller plays the café owner: types the code when asked, rates the call,
// ends a voicemail with #, or gives up. It returns what the caller got.
func (g *generator) caller(ctx context.Context, call *arifake.Call, givesUp bool, giveUp time.Duration, code, score string) string {
	start := time.Now()
	limit := time.After(g.scale(10*time.Minute) + time.Minute)
	poll := time.NewTicker(max(g.scale(100*time.Millisecond), 50*time.Millisecond))
	defer poll.Stop()
	seen := 0
	var bridged, recorded, rated, typed, gaveUp bool
	var recordingAt time.Time
	for {
		select {
		case <-call.Done():
			switch {
			case gaveUp:
				return "gave_up"
			case bridged && rated:
				return "bridged_and_rated"
			case bridged:
				return "bridged"
			case recorded:
				return "left_voicemail"
			}
			return "other"
		case <-ctx.Done():
			_ = call.Hangup()
			return "cut_short"
		case <-limit:
			_ = call.Hangup()
			return "too_long"
		case <-poll.C:
		}
		heard := call.Heard()
		for _, h := range heard[seen:] {
			switch {
			case h.Kind == "playback" && strings.Contains(h.Detail, "enter-code") && !typed && code != "":
				typed = true
				go func() { _ = call.Press(ctx, keypad(code)+"#") }()
			case h.Kind == "playback" && strings.Contains(h.Detail, "/rate") && !rated:
				rated = true
				go func() { _ = call.Press(ctx, score) }()
			case h.Kind == "bridged":
				bridged = true
			case h.Kind == "recording":
				recorded, recordingAt = true, time.Now()
			}
		}
		seen = len(heard)
		if recorded && !recordingAt.IsZero() && time.Since(recordingAt) > g.scale(3*time.Second) {
			recordingAt = time.Time{}
			go func() { _ = call.Press(ctx, "#") }()
		}
		if givesUp && !bridged && !gaveUp && time.Since(start) > giveUp {
			gaveUp = true
			_ = call.Hangup()
		}
	}
}

// matchSetups pairs each call with the app's first leg request for it (the
// leg's create names the caller's channel as its originator): the time from
// the call's arrival to the first person's phone being set up.
func (g *generator) matchSetups() {
	for _, p := range g.pending {
		if at, ok := g.opts.track.firstLeg(p.channel); ok {
			g.rep.SetupTimes = append(g.rep.SetupTimes, at.Sub(p.placed))
		}
	}
}

// national turns "+84945551519" or "84945551519" into "0945551519".
func national(n string) string {
	n = strings.TrimPrefix(n, "+")
	if strings.HasPrefix(n, "84") && len(n) >= 11 {
		return "0" + n[2:]
	}
	return n
}
