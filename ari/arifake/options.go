package arifake

import (
	"log/slog"
	"time"
)

// Options configures a fake Asterisk. Zero values get defaults (see NewServer for
// real-time defaults and Start for the short ones used in tests).
type Options struct {
	// User and Password are the ARI credentials (api_key=user:pass or basic auth).
	// Default "asterisk"/"asterisk".
	User, Password string
	// App is the Stasis application incoming calls enter. Default "hotline".
	App string
	// Extension is the extension incoming calls dial. Default "2".
	Extension string
	// InboundTrunk is the PJSIP endpoint incoming calls arrive on. Default "gw-viettel".
	InboundTrunk string
	// InboundContext is the dialplan context of incoming calls. Default "hotline".
	InboundContext string
	// AsteriskID is the entity id sent in every event. Default "02:fc:00:00:00:01".
	AsteriskID string
	// Location is the time zone of timestamps. Default UTC (+0000, as in the traces).
	Location *time.Location
	// Logger receives debug logs; nil discards.
	Logger *slog.Logger

	// Second is how long one "second" given in a REST parameter lasts (dial
	// timeout, originate timeout, maxDurationSeconds). Default time.Second; tests
	// shrink it so that timeout=20 takes 20×Second.
	Second time.Duration
	// PlaybackLength is how long each media item of a playback plays. Default 440 ms
	// (the length of sound:beep on the recorded Asterisk).
	PlaybackLength time.Duration
	// MediaLength, if set, overrides PlaybackLength per media URI (e.g. "sound:greeting").
	MediaLength func(uri string) time.Duration
	// SoundExists, if set, says whether Asterisk finds the sound file of
	// "sound:NAME" in language lang; an item whose file does not exist fails
	// (see playback.go). Nil: the sounds of SoundFiles exist ("LANG/NAME" or
	// "NAME" with any extension), or every sound when SoundFiles is empty.
	SoundExists func(name, lang string) bool
	// DTMFGap is the pause between digits a scripted phone or caller presses. Default 250 ms.
	DTMFGap time.Duration
	// DTMFDurationMS is the duration_ms reported in ChannelDtmfReceived. Default 100.
	DTMFDurationMS int
	// LocalLinger is how long a Local-channel phone that is busy or congested stays
	// up after reporting it (Busy(5) in a dialplan keeps the leg 5 s). Default 5 s.
	LocalLinger time.Duration
	// BeepLength delays RecordingStarted when a recording asks for a beep. Default 0.
	BeepLength time.Duration
	// StasisEntryDelay is how long after POST /channels/create has answered
	// the new channel enters its application (StasisStart). Asterisk 22.10.1
	// sends StasisStart sometimes before the create's answer and sometimes
	// after it, and refuses a dial sent before it with 409 "Channel not in
	// Stasis application" (about one leg in twenty on the real runs). The
	// fake always takes the late path, so a client that dials without waiting
	// for StasisStart fails here too. Default 5 ms; negative: inside the
	// request, before the answer.
	StasisEntryDelay time.Duration

	// Phones scripts dialled numbers, keyed by number (digits; 0… and 84… forms
	// are matched to each other).
	Phones map[string]Phone
	// DefaultPhone applies to numbers not in Phones. The zero value answers at once.
	DefaultPhone Phone
	// PhoneFor, if set, scripts a number that is not in Phones (nor set with
	// SetPhone) each time it is dialled; false falls back to DefaultPhone.
	// It runs with the server's lock held: it must not call the Server.
	PhoneFor func(number string) (Phone, bool)
	// Trunks sets the state of PJSIP trunks by endpoint name; absent trunks are up.
	Trunks map[string]TrunkState
	// KnownTrunks, if non-empty, makes PJSIP endpoints other than these fail with
	// 500 {"error": "Allocation failed"}, as for an unknown endpoint.
	KnownTrunks []string
	// SoundFiles are the files in Asterisk's sounds folder, relative to it
	// ("vi/greeting.wav"): what GET /sounds and /sounds/{id} report (the
	// first directory is the language). Default none.
	SoundFiles []string

	// ContinueKeepsChannel makes POST /channels/{id}/continue leave the channel
	// alive in the dialplan (outside Stasis) instead of hanging it up, i.e. the
	// dialplan after Stasis() keeps the caller (e.g. a queue). Default: hang up.
	ContinueKeepsChannel bool

	// HistoryLimit bounds each of the request, event and dial logs; past it the
	// oldest half is dropped. Default 100000.
	HistoryLimit int
	// OnRequest, if set, sees every REST request as it is logged, also those
	// the history has dropped since (a load generator counts with it). It runs
	// with the server's lock held: it must not call the Server.
	OnRequest func(Request)

	// WriteTimeout bounds one WebSocket write. Default 5 s.
	WriteTimeout time.Duration
	// MaxQueue is how many events may wait for a slow WebSocket reader before the
	// fake drops the connection (as Asterisk drops slow readers). Default 10000.
	MaxQueue int

	// FaultSeed seeds the random choice of the requests a Fault with a Rate
	// applies to (faults.go): one seed and one order of requests give the same
	// choices. 0 is a seed like any other.
	FaultSeed uint64
}

// Outcome is what a scripted phone eventually does when dialled.
type Outcome int

// Outcomes of a scripted phone.
const (
	// OutcomeAnswer answers after RingFor.
	OutcomeAnswer Outcome = iota
	// OutcomeBusy is busy (cause 17).
	OutcomeBusy
	// OutcomeNoAnswer rings until the dial timeout or a hangup.
	OutcomeNoAnswer
	// OutcomeCongestion is congested (cause 34).
	OutcomeCongestion
	// OutcomeUnreachable cannot be reached (cause 3, or Cause).
	OutcomeUnreachable
	// OutcomeReject rings for RingFor and then rejects the call (cause 21).
	OutcomeReject
)

// String names the outcome.
func (o Outcome) String() string {
	switch o {
	case OutcomeAnswer:
		return "answer"
	case OutcomeBusy:
		return "busy"
	case OutcomeNoAnswer:
		return "no_answer"
	case OutcomeCongestion:
		return "congestion"
	case OutcomeUnreachable:
		return "unreachable"
	case OutcomeReject:
		return "reject"
	}
	return "unknown"
}

// Phone scripts a dialled number.
type Phone struct {
	Outcome Outcome
	// RingFor is how long the phone rings before answering or rejecting. For a
	// PJSIP busy phone it is the ringing before the 486. Zero: no ringing state.
	RingFor time.Duration
	// Keys are the DTMF digits the person presses after answering ("" = none,
	// e.g. a voicemail box), starting KeysAfter after the answer.
	Keys      string
	KeysAfter time.Duration
	// Later are keys the person presses later in the call (a technician
	// who talks a while, then types *0# to pass the call on): each Press's
	// Digits, in order and DTMFGap apart, Press.After the answer, or with
	// Press.InBridge, after the leg first entered a bridge. Like every
	// digit from the far end, each is a ChannelDtmfReceived of this leg
	// only; a bridge passes the tone on to the other channels in it,
	// which get no event (Asterisk publishes received DTMF only).
	Later []Press
	// HangupAfter, if positive, makes the phone hang up that long after answering.
	HangupAfter time.Duration
	// Cause overrides the hangup cause of a failing outcome (0 = the usual one).
	Cause int
}

// Press is keys a scripted phone presses later in a call (Phone.Later).
type Press struct {
	Digits string
	// After is counted from the answer, or with InBridge from the moment
	// the leg first entered a bridge.
	After    time.Duration
	InBridge bool
	// HangupAfter, if positive, makes the person hang up that long after
	// the last of these Digits was delivered (a technician who types *0#
	// and hangs up: a blind transfer). It is counted on the keys' own
	// timeline, so the hangup never overtakes them.
	HangupAfter time.Duration
}

// Transfers returns a person who answers after ring, presses 1 at once,
// talks for talk once bridged with the caller, then types code (e.g. "*0#").
func Transfers(ring, talk time.Duration, code string) Phone {
	return Phone{Outcome: OutcomeAnswer, RingFor: ring, Keys: "1", KeysAfter: 10 * time.Millisecond,
		Later: []Press{{Digits: code, After: talk, InBridge: true}}}
}

// Answers returns a phone that rings for after and answers without pressing anything.
func Answers(after time.Duration) Phone { return Phone{Outcome: OutcomeAnswer, RingFor: after} }

// AnswersAndPresses returns a person who answers after ring and presses keys delay later.
func AnswersAndPresses(ring time.Duration, keys string, delay time.Duration) Phone {
	return Phone{Outcome: OutcomeAnswer, RingFor: ring, Keys: keys, KeysAfter: delay}
}

// Voicemail returns a voicemail box: answers after ring and never presses a key.
func Voicemail(ring time.Duration) Phone { return Phone{Outcome: OutcomeAnswer, RingFor: ring} }

// HangsUpAfter returns a phone that answers after ring and hangs up talk later.
func HangsUpAfter(ring, talk time.Duration) Phone {
	return Phone{Outcome: OutcomeAnswer, RingFor: ring, HangupAfter: talk}
}

// Busy returns a busy phone.
func Busy() Phone { return Phone{Outcome: OutcomeBusy} }

// NeverAnswers returns a phone that rings forever.
func NeverAnswers() Phone { return Phone{Outcome: OutcomeNoAnswer} }

// Congested returns a phone whose network is congested.
func Congested() Phone { return Phone{Outcome: OutcomeCongestion} }

// Unreachable returns a phone that cannot be reached (cause 3).
func Unreachable() Phone { return Phone{Outcome: OutcomeUnreachable} }

// Rejects returns a phone that rings for after and then rejects (cause 21).
func Rejects(after time.Duration) Phone { return Phone{Outcome: OutcomeReject, RingFor: after} }

// TrunkState is the state of a PJSIP trunk (gateway).
type TrunkState int

// Trunk states.
const (
	// TrunkUp passes calls to the phones.
	TrunkUp TrunkState = iota
	// TrunkCongested fails every dial with congestion (cause 34).
	TrunkCongested
	// TrunkUnavailable fails every dial as unreachable (cause 3).
	TrunkUnavailable
)

func (o Options) withDefaults() Options {
	if o.User == "" {
		o.User = "asterisk"
	}
	if o.Password == "" {
		o.Password = "asterisk"
	}
	if o.App == "" {
		o.App = "hotline"
	}
	if o.Extension == "" {
		o.Extension = "2"
	}
	if o.InboundTrunk == "" {
		o.InboundTrunk = "gw-viettel"
	}
	if o.InboundContext == "" {
		o.InboundContext = "hotline"
	}
	if o.AsteriskID == "" {
		o.AsteriskID = "02:fc:00:00:00:01"
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Second <= 0 {
		o.Second = time.Second
	}
	if o.PlaybackLength <= 0 {
		o.PlaybackLength = 440 * time.Millisecond
	}
	if o.DTMFGap <= 0 {
		o.DTMFGap = 250 * time.Millisecond
	}
	if o.DTMFDurationMS <= 0 {
		o.DTMFDurationMS = 100
	}
	if o.LocalLinger <= 0 {
		o.LocalLinger = 5 * time.Second
	}
	if o.StasisEntryDelay == 0 {
		o.StasisEntryDelay = 5 * time.Millisecond
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 5 * time.Second
	}
	if o.HistoryLimit <= 0 {
		o.HistoryLimit = 100000
	}
	if o.MaxQueue <= 0 {
		o.MaxQueue = 10000
	}
	return o
}

// FastDefaults returns o with every unset duration shrunk for tests (Second =
// 20 ms, PlaybackLength = 20 ms, DTMFGap = 5 ms, LocalLinger = 50 ms) and the
// other defaults filled in, as aritest.Start uses it.
func (o Options) FastDefaults() Options {
	if o.Second <= 0 {
		o.Second = 20 * time.Millisecond
	}
	if o.PlaybackLength <= 0 {
		o.PlaybackLength = 20 * time.Millisecond
	}
	if o.DTMFGap <= 0 {
		o.DTMFGap = 5 * time.Millisecond
	}
	if o.LocalLinger <= 0 {
		o.LocalLinger = 50 * time.Millisecond
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 2 * time.Second
	}
	return o.withDefaults()
}
