package aritest

import (
	"time"

	"github.com/csm-vn/hotline/ari/arifake"
)

// The fake's API, re-exported: see package arifake for the documentation.
type (
	AloneInBridge   = arifake.AloneInBridge
	Application     = arifake.Application
	Bridge          = arifake.Bridge
	Call            = arifake.Call
	CallSpec        = arifake.CallSpec
	CallerID        = arifake.CallerID
	Channel         = arifake.Channel
	ConversationCut = arifake.ConversationCut
	DialTarget      = arifake.DialTarget
	Dialled         = arifake.Dialled
	DialplanCEP     = arifake.DialplanCEP
	DoubleRing      = arifake.DoubleRing
	Endpoint        = arifake.Endpoint
	EventFault      = arifake.EventFault
	Fault           = arifake.Fault
	FormatLang      = arifake.FormatLang
	Heard           = arifake.Heard
	LiveRecording   = arifake.LiveRecording
	Options         = arifake.Options
	Outcome         = arifake.Outcome
	Phone           = arifake.Phone
	Playback        = arifake.Playback
	Press           = arifake.Press
	Request         = arifake.Request
	SentEvent       = arifake.SentEvent
	Server          = arifake.Server
	Sound           = arifake.Sound
	StoredRecording = arifake.StoredRecording
	TrunkState      = arifake.TrunkState
)

// Phone outcomes, trunk states and hangup causes (arifake's).
const (
	OutcomeAnswer      = arifake.OutcomeAnswer
	OutcomeBusy        = arifake.OutcomeBusy
	OutcomeNoAnswer    = arifake.OutcomeNoAnswer
	OutcomeCongestion  = arifake.OutcomeCongestion
	OutcomeUnreachable = arifake.OutcomeUnreachable
	OutcomeReject      = arifake.OutcomeReject

	TrunkUp          = arifake.TrunkUp
	TrunkCongested   = arifake.TrunkCongested
	TrunkUnavailable = arifake.TrunkUnavailable

	CauseUnallocated       = arifake.CauseUnallocated
	CauseNoRoute           = arifake.CauseNoRoute
	CauseNormal            = arifake.CauseNormal
	CauseBusy              = arifake.CauseBusy
	CauseNoAnswer          = arifake.CauseNoAnswer
	CauseRejected          = arifake.CauseRejected
	CauseFailure           = arifake.CauseFailure
	CauseCongestion        = arifake.CauseCongestion
	CauseARIHangup         = arifake.CauseARIHangup
	CauseNormalUnspec      = arifake.CauseNormalUnspec
	CauseAnsweredElsewhere = arifake.CauseAnsweredElsewhere

	TimeLayout = arifake.TimeLayout
)

// The fake's errors: the same values, so errors.Is matches either name.
var (
	ErrAppInactive = arifake.ErrAppInactive
	ErrBadEndpoint = arifake.ErrBadEndpoint
	ErrCallEnded   = arifake.ErrCallEnded
	ErrNotClean    = arifake.ErrNotClean
)

// NewServer is arifake.NewServer (real-time defaults; tests use Start).
func NewServer(opts Options) *Server { return arifake.NewServer(opts) }

// ParseEndpoint is arifake.ParseEndpoint.
func ParseEndpoint(s string) (DialTarget, error) { return arifake.ParseEndpoint(s) }

// Answers is arifake.Answers.
func Answers(after time.Duration) Phone { return arifake.Answers(after) }

// AnswersAndPresses is arifake.AnswersAndPresses.
func AnswersAndPresses(ring time.Duration, keys string, delay time.Duration) Phone {
	return arifake.AnswersAndPresses(ring, keys, delay)
}

// Transfers is arifake.Transfers.
func Transfers(ring, talk time.Duration, code string) Phone {
	return arifake.Transfers(ring, talk, code)
}

// Voicemail is arifake.Voicemail.
func Voicemail(ring time.Duration) Phone { return arifake.Voicemail(ring) }

// HangsUpAfter is arifake.HangsUpAfter.
func HangsUpAfter(ring, talk time.Duration) Phone { return arifake.HangsUpAfter(ring, talk) }

// Busy is arifake.Busy.
func Busy() Phone { return arifake.Busy() }

// NeverAnswers is arifake.NeverAnswers.
func NeverAnswers() Phone { return arifake.NeverAnswers() }

// Congested is arifake.Congested.
func Congested() Phone { return arifake.Congested() }

// Unreachable is arifake.Unreachable.
func Unreachable() Phone { return arifake.Unreachable() }

// Rejects is arifake.Rejects.
func Rejects(after time.Duration) Phone { return arifake.Rejects(after) }
