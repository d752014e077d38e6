// Package sim is `hotline simulate`: a fake Asterisk (ari/arifake) running as
// a process of its own on loopback, with generated calls from the directory's
// cafés and a chosen mix of outcomes. It lets a newcomer watch calls flow
// through `hotline serve` without an Asterisk, and it is the load generator
// for the speed figures (calls per second, concurrent calls, set-up time).
package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/csm-vn/hotline/ari/arifake"
	"github.com/csm-vn/hotline/dialplan"
)

// Behaviour is what the first person rung does on one generated call, or
// what the caller does.
type Behaviour string

// Behaviours of the mix.
const (
	Answered  Behaviour = "answered"  // the person answers, presses 1, talks, hangs up; the caller rates
	Busy      Behaviour = "busy"      // busy; the call falls back to the next person
	NoAnswer  Behaviour = "no_answer" // rings out; the call falls back
	Voicemail Behaviour = "voicemail" // a voicemail box answers and never presses 1
	GivesUp   Behaviour = "gives_up"  // the caller hangs up while waiting
)

// Mix weighs the behaviours; ParseMix reads "answered=60,busy=10,…".
type Mix map[Behaviour]int

// DefaultMix is a plausible afternoon.
var DefaultMix = Mix{Answered: 60, Busy: 10, NoAnswer: 10, Voicemail: 10, GivesUp: 10}

// ParseMix reads a mix like "answered=60,busy=10,no_answer=10,voicemail=10,gives_up=10".
func ParseMix(s string) (Mix, error) {
	m := Mix{}
	known := []Behaviour{Answered, Busy, NoAnswer, Voicemail, GivesUp}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		b := Behaviour(strings.TrimSpace(k))
		if !ok || !slices.Contains(known, b) {
			return nil, fmt.Errorf("mix: %q is not NAME=WEIGHT with NAME one of answered, busy, no_answer, voicemail, gives_up", part)
		}
		var w int
		if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d", &w); err != nil || w < 0 {
			return nil, fmt.Errorf("mix: weight of %s must be a whole number ≥ 0, not %q", b, v)
		}
		m[b] = w
	}
	total := 0
	for _, w := range m {
		total += w
	}
	if total == 0 {
		return nil, errors.New("mix: all weights are 0")
	}
	return m, nil
}

func (m Mix) pick(r *rand.Rand) Behaviour {
	keys := make([]Behaviour, 0, len(m))
	total := 0
	for k, w := range m {
		keys = append(keys, k)
		total += w
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	n := r.IntN(total)
	for _, k := range keys {
		if n < m[k] {
			return k
		}
		n -= m[k]
	}
	return keys[len(keys)-1]
}

// Options configure a simulation.
type Options struct {
	// Listen is where the fake Asterisk serves ARI (default 127.0.0.1:8088).
	Listen         string
	User, Password string
	App            string
	// Directory gives the callers (cafés' numbers) and, through Plan, the
	// first person each call will ring, whose phone is scripted by the mix.
	Directory *dialplan.Directory
	Cafes     []dialplan.Cafe
	Trunks    dialplan.Trunks
	// Rate is new calls per second; Calls stops after that many (0 = until
	// Duration or ctx ends); Duration bounds the whole run (0 = none).
	Rate     float64
	Calls    int
	Duration time.Duration
	Mix      Mix

	// People, for a synthetic directory, scripts every ring of its people
	// by their own profiles, the first person rung and every fallback
	// alike. A nil Mix then scripts nothing per call (ByPerson), and
	// PeopleGiveUp % of callers give up; a Mix still scripts each call's
	// first person.
	People *SyntheticDirectory
	people *people  // set by Run from People
	track  *tracker // set by Run

	// Unknown is the share (0..1) of calls from numbers not in the directory
	// (half anonymous, half unknown numbers that type their café's code).
	Unknown float64
	// Scale multiplies every ring, talk and wait time (1 = real time; a load
	// test uses e.g. 0.05).
	Scale float64
	// Talk, when set, makes conversations last Talk to 2×Talk (managers'
	// and operators' 1.5×Talk), not scaled: long enough for a fault (a
	// restart) to happen during them even at a small Scale.
	Talk time.Duration
	// WaitApp waits up to this long for `hotline serve` to connect first.
	WaitApp time.Duration
	Seed    uint64
	Logger  *slog.Logger
	// Ready, when set, receives the fake's base URL once it listens.
	Ready func(url string)

	// Chaos (chaos.go). CutWS drops the app's events WebSocket this often
	// while calls are placed (0 = never); Rest500 answers this share (0..1)
	// of REST requests with 500 (arifake's Fault.Rate). Settle bounds the
	// wait, after the last call, for every channel and bridge to be gone
	// (0 = DefaultSettle); AloneLimit is how long a caller may be alone in a
	// bridge before it counts (0 = DefaultAloneLimit).
	CutWS      time.Duration
	Rest500    float64
	Settle     time.Duration
	AloneLimit time.Duration
	// Faults are scripted on the fake from the start (arifake.Fault: e.g.
	// a held DELETE, to give the app's clean-up a known delay).
	Faults []arifake.Fault
	// Finish, when set, runs once the calls are over and the fake has
	// settled, while it still serves: the app still hears the last hangups
	// (e.g. to wait for its call records there).
	Finish func(ctx context.Context, r Report)
}

// Report is what a simulation measured.
type Report struct {
	Placed, Fallback, Completed int
	Behaviours                  map[Behaviour]int
	Heard                       map[string]int // what callers ended up with: bridged, voicemail, rated…
	MaxConcurrent               int
	Rings                       map[Behaviour]int // with People: each ring's draw from the person's profile
	// Placing is how long placing the calls took; Elapsed includes the
	// wait for the last calls to end.
	Placing, Elapsed time.Duration
	// SetupTimes are call arrival (StasisStart) → the app's request creating
	// the first outgoing leg, for calls whose caller ID identified the café
	// and that rang anyone at all.
	SetupTimes []time.Duration
	// ARIRequests is the number of REST requests the app made.
	ARIRequests int
	// CallIDs are the caller channels of the calls the app took.
	CallIDs []string
	// Chaos is the faults injected and what the detectors saw.
	Chaos Chaos
}

// WriteTo prints the report for people.
func (r Report) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "calls placed %d in %s (%.2f calls/s; to the dialplan fallback: %d), completed %d in %s; at most %d at once\n",
		r.Placed, r.Placing.Round(time.Millisecond), float64(r.Placed)/max(r.Placing.Seconds(), 1e-9), r.Fallback,
		r.Completed, r.Elapsed.Round(time.Millisecond), r.MaxConcurrent)
	fmt.Fprintf(&b, "scripted: %s\n", formatCounts(r.Behaviours))
	if len(r.Rings) > 0 {
		fmt.Fprintf(&b, "people rung (each by their own shares): %s\n", formatCounts(r.Rings))
	}
	fmt.Fprintf(&b, "callers got: %s\n", formatCounts(r.Heard))
	if n := len(r.SetupTimes); n > 0 {
		s := slices.Clone(r.SetupTimes)
		slices.Sort(s)
		q := func(p float64) time.Duration { return s[min(n-1, int(p*float64(n)))] }
		fmt.Fprintf(&b, "call set-up (known café: call arrives → first person dialled), %d calls: p50 %s, p95 %s, p99 %s, max %s\n",
			n, q(0.50), q(0.95), q(0.99), s[n-1])
	}
	if r.Placed > 0 {
		fmt.Fprintf(&b, "ARI requests by the app: %d (%.1f per call)\n", r.ARIRequests, float64(r.ARIRequests)/float64(r.Placed))
	}
	r.writeChaos(&b)
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

func formatCounts[K ~string](m map[K]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[K(k)]))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// Run starts the fake Asterisk and places calls until Calls, Duration or ctx
// says stop, then waits (bounded) for the calls in progress to end.
func Run(ctx context.Context, opts Options) (Report, error) {
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:8088"
	}
	if opts.Scale <= 0 {
		opts.Scale = 1
	}
	if opts.Rate <= 0 {
		opts.Rate = 0.2
	}
	if opts.Mix == nil && opts.People == nil {
		opts.Mix = DefaultMix
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if len(opts.Cafes) == 0 {
		return Report{}, errors.New("simulate: the directory has no cafés to call from (import deploy/sample first)")
	}
	scale := func(d time.Duration) time.Duration { return time.Duration(float64(d) * opts.Scale) }
	// Everyone not scripted for a call answers after 3 s, presses 1 and
	// talks for 20 s: managers and operators take the fallbacks.
	everyone := arifake.Phone{Outcome: arifake.OutcomeAnswer, RingFor: scale(3 * time.Second),
		Keys: "1", KeysAfter: scale(2 * time.Second), HangupAfter: scale(20 * time.Second)}
	if opts.Talk > 0 {
		everyone.HangupAfter = opts.Talk * 3 / 2
	}
	if opts.People != nil {
		opts.people = newPeople(opts.People, opts.Seed, scale)
	}
	opts.track = newTracker()
	srv := arifake.NewServer(arifake.Options{
		User: opts.User, Password: opts.Password, App: opts.App, Logger: log,
		Second:         scale(time.Second),
		PlaybackLength: scale(1500 * time.Millisecond),
		DTMFGap:        scale(250 * time.Millisecond),
		LocalLinger:    scale(5 * time.Second),
		DefaultPhone:   everyone,
		FaultSeed:      opts.Seed, // the 500s' own sequence: one seed, the same calls with or without them
		PhoneFor:       opts.people.phoneFor,
		OnRequest:      opts.track.onRequest,
	})
	if opts.Rest500 > 0 {
		srv.AddFault(arifake.Fault{Status: http.StatusInternalServerError, Rate: opts.Rest500})
	}
	for _, f := range opts.Faults {
		srv.AddFault(f)
	}
	if err := srv.Listen(opts.Listen); err != nil {
		return Report{}, err
	}
	defer srv.Close()
	log.Info("fake Asterisk listening", "ari_url", srv.URL(), "app", opts.App)
	if opts.Ready != nil {
		opts.Ready(srv.URL())
	}
	if opts.WaitApp > 0 {
		wctx, cancel := context.WithTimeout(ctx, opts.WaitApp)
		err := srv.WaitConnected(wctx, opts.App)
		cancel()
		if err != nil {
			return Report{}, fmt.Errorf("simulate: no application %q connected within %s: is `hotline serve` pointed at %s?", opts.App, opts.WaitApp, srv.URL())
		}
	}
	g := &generator{opts: opts, srv: srv, log: log, scale: scale, everyone: everyone,
		rnd: rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		rep: Report{Behaviours: map[Behaviour]int{}, Heard: map[string]int{}}}
	return g.run(ctx)
}

type generator struct {
	opts  Options
	srv   *arifake.Server
	log   *slog.Logger
	scale func(time.Duration) time.Duration
	// everyone is how a person not scripted for a call behaves.
	everyone arifake.Phone

	mu      sync.Mutex
	rnd     *rand.Rand
	rep     Report
	active  int
	pending []pendingSetup // calls waiting for their first dial to be matched
}

type pendingSetup struct {
	placed  time.Time
	channel string // the caller's channel
}
