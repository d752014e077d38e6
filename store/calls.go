package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/csm-vn/hotline/dialplan"
	"github.com/jmoiron/sqlx"
)

// Outcome is how a call ended (the vocabulary shared by all packages).
type Outcome string

// Call outcomes.
const (
	OutcomeAnswered    Outcome = "answered"    // a person accepted with 1
	OutcomeAbandoned   Outcome = "abandoned"   // the caller left before anyone accepted
	OutcomeVoicemail   Outcome = "voicemail"   // the caller left a message or a callback request
	OutcomeNoAnswer    Outcome = "no_answer"   // nobody accepted and no message was left
	OutcomeFailed      Outcome = "failed"      // internal error
	OutcomeInterrupted Outcome = "interrupted" // ARI link lost or process restart mid-call
)

// LegResult is how one attempt to ring a person ended.
type LegResult string

// Leg results.
const (
	LegAnswered            LegResult = "answered"             // the person accepted with 1
	LegAnsweredUnconfirmed LegResult = "answered_unconfirmed" // answered, no 1: voicemail or a wrong person
	LegBusy                LegResult = "busy"
	LegNoAnswer            LegResult = "no_answer"
	LegCongestion          LegResult = "congestion"
	LegFailed              LegResult = "failed"    // unreachable, rejected, other
	LegCancelled           LegResult = "cancelled" // we hung it up: the caller left or the call ended
)

var (
	validOutcomes = map[Outcome]bool{OutcomeAnswered: true, OutcomeAbandoned: true, OutcomeVoicemail: true,
		OutcomeNoAnswer: true, OutcomeFailed: true, OutcomeInterrupted: true}
	validLegResults = map[LegResult]bool{LegAnswered: true, LegAnsweredUnconfirmed: true, LegBusy: true,
		LegNoAnswer: true, LegCongestion: true, LegFailed: true, LegCancelled: true}
	validMatchedBy = map[dialplan.MatchedBy]bool{dialplan.MatchedByCallerID: true, dialplan.MatchedByDTMF: true,
		dialplan.MatchedByAreaCode: true, dialplan.MatchedByNone: true}
	validRoles = map[dialplan.Role]bool{dialplan.RoleTechnician: true, dialplan.RoleAreaManager: true,
		dialplan.RoleRegionalManager: true, dialplan.RoleOperator: true, RoleCafe: true}
	validCarriers = map[dialplan.Carrier]bool{dialplan.CarrierUnknown: true, dialplan.CarrierViettel: true,
		dialplan.CarrierVinaphone: true, dialplan.CarrierMobifone: true, dialplan.CarrierVietnamobile: true,
		dialplan.CarrierGmobile: true, dialplan.CarrierReddi: true, dialplan.CarrierItel: true}
)

// CallRecord is everything recorded about one call. It is written once, when
// the call has ended, by a Recorder. Zero times mean "did not happen".
type CallRecord struct {
	ID         string             `json:"id"`          // chosen by the app (a ULID); the idempotency key
	Node       string             `json:"node"`        // instance that handled the call
	ChannelID  string             `json:"channel_id"`  // the caller's Asterisk channel
	CallerRaw  string             `json:"caller_raw"`  // caller ID as received
	Caller     string             `json:"caller"`      // normalised E.164, "" if none
	CallerKind string             `json:"caller_kind"` // dialplan.Kind of the caller number
	Cafe       string             `json:"cafe"`        // café code, "" if not identified
	MatchedBy  dialplan.MatchedBy `json:"matched_by"`  // "" is stored as none
	Province   string             `json:"province"`
	Area       string             `json:"area"`
	Region     string             `json:"region"`
	StartedAt  time.Time          `json:"started_at"`
	AcceptedAt time.Time          `json:"accepted_at"`
	EndedAt    time.Time          `json:"ended_at"`
	Outcome    Outcome            `json:"outcome"`
	AcceptedBy string             `json:"accepted_by"` // staff code of who pressed 1
	Wait       time.Duration      `json:"wait"`        // from start until accepted (or until the end)
	Talk       time.Duration      `json:"talk"`        // from accept until the end
	Detail     string             `json:"detail"`      // why it failed or was interrupted
	Legs       []LegRecord        `json:"legs"`        // in the order they were rung
	Rating     *Rating            `json:"rating"`      // nil: no rating
	Voicemail  *Voicemail         `json:"voicemail"`   // nil: no message, no callback request
	// Direction is inbound (a café called; "" is stored as inbound) or
	// callback (the hotline called a café back: CallbackID names the
	// request, 0 for a "call back now" with none pending).
	Direction  Direction        `json:"direction,omitempty"`
	CallbackID int64            `json:"callback_id,omitempty"`
	Callback   *CallbackRequest `json:"callback,omitempty"` // a missed call to call back (callbacks.go)
}

// LegRecord is one attempt to ring a person on one number.
type LegRecord struct {
	Seq         int              `json:"seq"` // 1-based; 0 = position in Legs
	Staff       string           `json:"staff"`
	Role        dialplan.Role    `json:"role"`
	Number      string           `json:"number"` // E.164 dialled
	Carrier     dialplan.Carrier `json:"carrier"`
	Trunk       string           `json:"trunk"`
	ChannelID   string           `json:"channel_id"`
	RingAt      time.Time        `json:"ring_at"`
	AnsweredAt  time.Time        `json:"answered_at"`
	AcceptedAt  time.Time        `json:"accepted_at"`
	EndedAt     time.Time        `json:"ended_at"`
	Result      LegResult        `json:"result"`
	HangupCause int              `json:"hangup_cause"` // Q.850; 0 = unknown
	Detail      string           `json:"detail"`
	// Reason is why the person was rung: "" for the call itself,
	// LegReasonTransfer for a transfer asked by the person who had
	// accepted (call_legs.reason).
	Reason string `json:"reason,omitempty"`
}

// LegReasonTransfer marks a leg rung for a transfer (`*<area code>#`).
const LegReasonTransfer = "transfer"

// Rating is the caller's verdict after the call: Score 1–5, and/or a
// complaint (key 9), about Staff.
type Rating struct {
	Score     int    `json:"score"` // 0 = no score (complaint only)
	Complaint bool   `json:"complaint"`
	Staff     string `json:"staff"`
}

// Voicemail is a message or callback request left when nobody accepted.
type Voicemail struct {
	Recording      string `json:"recording"`       // Asterisk recording name, "" = callback request only
	CallbackNumber string `json:"callback_number"` // E.164 to call back
	// Length is how long the message is, as Asterisk measured the file
	// (RecordingFinished's duration); 0 = not known.
	Length time.Duration `json:"length,omitempty"`
}

// Validate reports the first reason the database would reject r. Such a
// record is never retried (see Recorder).
func (r *CallRecord) Validate() error {
	switch {
	case r.ID == "":
		return errors.New("call record: empty id")
	case !validOutcomes[r.Outcome]:
		return fmt.Errorf("call record %s: unknown outcome %q", r.ID, r.Outcome)
	case r.MatchedBy != "" && !validMatchedBy[r.MatchedBy]:
		return fmt.Errorf("call record %s: unknown matched_by %q", r.ID, r.MatchedBy)
	case r.StartedAt.IsZero() || r.EndedAt.IsZero():
		return fmt.Errorf("call record %s: start and end times are required", r.ID)
	case r.EndedAt.Before(r.StartedAt):
		return fmt.Errorf("call record %s: ends before it starts", r.ID)
	case r.Wait < 0 || r.Talk < 0:
		return fmt.Errorf("call record %s: negative wait or talk time", r.ID)
	case r.Direction != "" && r.Direction != DirectionInbound && r.Direction != DirectionCallback:
		return fmt.Errorf("call record %s: unknown direction %q", r.ID, r.Direction)
	}
	if err := r.validateCallback(); err != nil {
		return err
	}
	seen := map[int]bool{}
	for i, l := range r.Legs {
		seq := legSeq(l, i)
		switch {
		case seen[seq]:
			return fmt.Errorf("call record %s: leg %d: duplicate seq", r.ID, seq)
		case !validRoles[l.Role]:
			return fmt.Errorf("call record %s: leg %d: unknown role %q", r.ID, seq, l.Role)
		case !validLegResults[l.Result]:
			return fmt.Errorf("call record %s: leg %d: unknown result %q", r.ID, seq, l.Result)
		case !validCarriers[l.Carrier]:
			return fmt.Errorf("call record %s: leg %d: unknown carrier %q", r.ID, seq, l.Carrier)
		case l.RingAt.IsZero() || l.EndedAt.IsZero():
			return fmt.Errorf("call record %s: leg %d: ring and end times are required", r.ID, seq)
		case l.EndedAt.Before(l.RingAt):
			return fmt.Errorf("call record %s: leg %d: ends before it rings", r.ID, seq)
		case l.Number == "":
			return fmt.Errorf("call record %s: leg %d: empty number", r.ID, seq)
		case l.Reason != "" && l.Reason != LegReasonTransfer:
			return fmt.Errorf("call record %s: leg %d: unknown reason %q", r.ID, seq, l.Reason)
		}
		seen[seq] = true
	}
	if rt := r.Rating; rt != nil {
		if (rt.Score < 1 || rt.Score > 5) && !(rt.Score == 0 && rt.Complaint) {
			return fmt.Errorf("call record %s: rating score %d out of 1..5", r.ID, rt.Score)
		}
	}
	if vm := r.Voicemail; vm != nil && vm.Recording == "" && vm.CallbackNumber == "" {
		return fmt.Errorf("call record %s: voicemail without recording or callback number", r.ID)
	}
	if vm := r.Voicemail; vm != nil && vm.Length < 0 {
		return fmt.Errorf("call record %s: negative voicemail length", r.ID)
	}
	return nil
}

func legSeq(l LegRecord, i int) int {
	if l.Seq > 0 {
		return l.Seq
	}
	return i + 1
}

// WriteCall stores rec with its legs, rating and voicemail in one
// transaction (WriteCalls with one record). It is idempotent by rec.ID: when
// the call is already stored it changes nothing and reports inserted=false.
func WriteCall(ctx context.Context, db *sqlx.DB, rec *CallRecord) (inserted bool, err error) {
	ins, err := WriteCalls(ctx, db, []*CallRecord{rec})
	if err != nil {
		return false, err
	}
	return ins[0], nil
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func nullSeconds(d time.Duration) *float64 {
	if d <= 0 {
		return nil
	}
	s := d.Seconds()
	return &s
}

func nullInt64(n int64) *int64 {
	if n == 0 {
		return nil
	}
	return &n
}

func nullInt(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}
