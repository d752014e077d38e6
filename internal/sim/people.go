package sim

import (
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/csm-vn/hotline/ari/arifake"
)

// ByPerson is the behaviour of a call whose people behave by their own
// profiles (a synthetic directory without --mix): nothing is scripted for
// the call, every ring draws from the person's Profile.
const ByPerson Behaviour = "by_person"

// PeopleGiveUp is the share (percent) of callers who give up while waiting
// when the people behave by their profiles.
const PeopleGiveUp = 3

// people scripts every ring of a synthetic directory's numbers from the
// person's profile (arifake.Options.PhoneFor). It has its own lock: the fake
// calls it with its lock held, and the generator holds its own lock while
// calling the fake.
type people struct {
	dir   *SyntheticDirectory
	scale func(time.Duration) time.Duration

	mu    sync.Mutex
	rnd   *rand.Rand
	rings map[Behaviour]int
}

func newPeople(dir *SyntheticDirectory, seed uint64, scale func(time.Duration) time.Duration) *people {
	return &people{dir: dir, scale: scale, rnd: rand.New(rand.NewPCG(seed^0x9e09_1e00, seed)),
		rings: map[Behaviour]int{}}
}

// phoneFor draws how the person owning number behaves on this ring.
func (p *people) phoneFor(number string) (arifake.Phone, bool) {
	if p == nil {
		return arifake.Phone{}, false
	}
	code, ok := p.dir.Person(number)
	if !ok {
		return arifake.Phone{}, false
	}
	p.mu.Lock()
	b := p.dir.Profiles[code].pick(p.rnd)
	talk := p.scale(time.Duration(10+p.rnd.IntN(30)) * time.Second)
	p.rings[b]++
	p.mu.Unlock()
	return scripted(b, talk, p.scale), true
}

// counts returns the behaviours drawn so far (nil without people).
func (p *people) counts() map[Behaviour]int {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[Behaviour]int, len(p.rings))
	for b, n := range p.rings {
		out[b] = n
	}
	return out
}

// scripted is the phone of a person behaving as b.
func scripted(b Behaviour, talk time.Duration, scale func(time.Duration) time.Duration) arifake.Phone {
	ring := scale(4 * time.Second)
	switch b {
	case Busy:
		return arifake.Busy()
	case NoAnswer, GivesUp:
		return arifake.NeverAnswers()
	case Voicemail:
		return arifake.Voicemail(ring)
	default:
		return arifake.Phone{Outcome: arifake.OutcomeAnswer, RingFor: ring, Keys: "1",
			KeysAfter: scale(2 * time.Second), HangupAfter: talk}
	}
}

// pickBehaviour draws a call's behaviour: from the mix, or, when the people
// behave by their profiles, only whether the caller gives up.
func (g *generator) pickBehaviour() Behaviour {
	if g.opts.Mix == nil {
		if g.rnd.IntN(100) < PeopleGiveUp {
			return GivesUp
		}
		return ByPerson
	}
	return g.opts.Mix.pick(g.rnd)
}

// tracker counts the app's REST requests and finds each call's first leg
// as the fake serves them (arifake.Options.OnRequest), so the figures hold
// for runs longer than the fake's history.
type tracker struct {
	mu       sync.Mutex
	requests int
	first    map[string]time.Time // caller channel → its first leg's create
}

func newTracker() *tracker { return &tracker{first: map[string]time.Time{}} }

func (t *tracker) onRequest(r arifake.Request) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.requests++
	if r.Method != "POST" || r.Path != "/ari/channels/create" || len(r.Query["originator"]) == 0 {
		return
	}
	if o := r.Query["originator"][0]; t.first[o].IsZero() {
		t.first[o] = r.At
	}
}

func (t *tracker) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.requests
}

func (t *tracker) firstLeg(channel string) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	at, ok := t.first[channel]
	return at, ok
}

// keypad is what a caller types for a café code: its digits (the letters
// before them are not typed, as dialplan's DTMF lookup expects).
func keypad(code string) string {
	return strings.TrimLeftFunc(code, func(r rune) bool { return r < '0' || r > '9' })
}
