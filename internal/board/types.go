package board

import (
	"context"
	"time"
)

// Live call states, the fixed vocabulary shared with the call flow.
const (
	StateIVR     = "ivr"     // answered by the hotline: greeting, identification, planning
	StateRinging = "ringing" // a person's phone is ringing (or hearing who calls, before pressing 1)
	StateBridged = "bridged" // the caller talks with a person
	// StateTransferring: the person who accepted passes the call on (*<area
	// code>#); the caller hears music while the new person is rung.
	StateTransferring = "transferring"
)

// Staff roles, the fixed vocabulary shared with the directory.
const (
	RoleTechnician      = "technician"
	RoleAreaManager     = "area_manager"
	RoleRegionalManager = "regional_manager"
	RoleOperator        = "operator"
	// RoleCafe is a callback's target while the café's phone rings.
	RoleCafe = "cafe"
)

// Call is one call in progress.
type Call struct {
	// ID identifies the call (the caller's channel ID or a call ID).
	ID string `json:"id"`
	// State is one of StateIVR, StateRinging, StateBridged,
	// StateTransferring; any other value is shown as it is.
	State string `json:"state"`
	// CafeCode and CafeName are empty while the café is not identified.
	CafeCode string `json:"cafe_code"`
	CafeName string `json:"cafe_name"`
	// Province is the province's name with diacritics (e.g. "Kiên Giang").
	Province string `json:"province"`
	// Region is the region code; its name is taken from Snapshot.Today.
	Region string `json:"region"`
	// Caller is the caller's number as received or normalised.
	Caller string `json:"caller"`
	// Started is when the call entered the hotline.
	Started time.Time `json:"started,omitzero"`
	// StateSince is when State began (Started when zero).
	StateSince time.Time `json:"state_since,omitzero"`
	// Target is the person being rung (ringing, transferring) or talked to
	// (bridged).
	Target *Person `json:"target,omitempty"`
	// Callback: the hotline is calling the café back (Caller is the
	// café's number being called).
	Callback bool `json:"callback,omitempty"`
	// Transfer is set while the call is being transferred.
	Transfer *Transfer `json:"transfer,omitempty"`
	// Node is the Asterisk node (ari.nodes name) the call is on; set only
	// when the hotline serves more than one node.
	Node string `json:"node,omitempty"`
}

// Transfer is a transfer in progress.
type Transfer struct {
	// From is the person who accepted the call and passes it on.
	From Person `json:"from"`
	// FromGone: they hung up; the transfer goes on without them.
	FromGone bool `json:"from_gone"`
	// To is the province's name, or "operators".
	To string `json:"to"`
}

// Person is a member of staff on (or being rung for) a hotline call.
type Person struct {
	// Staff is the staff code.
	Staff string `json:"staff"`
	Name  string `json:"name"`
	// Role is one of the Role constants.
	Role string `json:"role"`
	// Number is the number being rung or talked on.
	Number string `json:"number"`
	// Since is when the person started ringing (in Call.Target) or accepted
	// the call (in Snapshot.OnCall).
	Since time.Time `json:"since,omitzero"`
}

// RegionTotals are one region's call outcomes today.
type RegionTotals struct {
	// Region is the region code ("" for calls not placed in a region);
	// Name its display name.
	Region string `json:"region"`
	Name   string `json:"name"`
	// Offered counts calls that reached the hotline; the others count ended
	// calls by outcome.
	Offered     int `json:"offered"`
	Answered    int `json:"answered"`
	Abandoned   int `json:"abandoned"`
	Voicemail   int `json:"voicemail"`
	NoAnswer    int `json:"no_answer"`
	Failed      int `json:"failed"`
	Interrupted int `json:"interrupted"`
}

// Voicemail is a message (or callback request) waiting to be handled.
type Voicemail struct {
	ID             int64     `json:"id"`
	CafeCode       string    `json:"cafe_code"`
	CafeName       string    `json:"cafe_name"`
	CallbackNumber string    `json:"callback_number"`
	Created        time.Time `json:"created,omitzero"`
}

// Snapshot is everything the board shows at one instant.
type Snapshot struct {
	// Now is when the snapshot was taken; durations are measured to it.
	// When zero the handler uses Options.Now.
	Now time.Time
	// Calls are the calls in progress, in any order (the board shows the
	// oldest first).
	Calls []Call
	// OnCall are the people talking on a hotline call right now.
	OnCall []Person
	// Today are the totals per region since midnight in Asia/Ho_Chi_Minh
	// (see TodayRange), in display order.
	Today []RegionTotals
	// VoicemailsWaiting counts every voicemail not yet handled;
	// OldestVoicemail is when the oldest of them was left (zero if none).
	VoicemailsWaiting int
	OldestVoicemail   time.Time
	// Voicemails are the latest few waiting, newest first.
	Voicemails []Voicemail
	// CallbacksPending counts the cafés waiting to be called back
	// (callback requests not yet done, cancelled or given up).
	CallbacksPending int
}

// Source produces snapshots. It is called once per page or JSON request,
// with a bounded context (Options.Timeout).
type Source interface {
	Snapshot(ctx context.Context) (Snapshot, error)
}

// SourceFunc adapts a function to a Source.
type SourceFunc func(ctx context.Context) (Snapshot, error)

// Snapshot calls f.
func (f SourceFunc) Snapshot(ctx context.Context) (Snapshot, error) { return f(ctx) }

// Zone is Asia/Ho_Chi_Minh, the zone of "today". Vietnam has kept UTC+7
// without daylight saving since 1975, so a fixed zone stands in when the
// system has no tz database.
var Zone = loadZone()

func loadZone() *time.Location {
	if loc, err := time.LoadLocation("Asia/Ho_Chi_Minh"); err == nil {
		return loc
	}
	return time.FixedZone("ICT", 7*3600)
}

// TodayRange returns the start of the day containing now in Asia/Ho_Chi_Minh
// and the start of the next day: the window of Snapshot.Today.
func TodayRange(now time.Time) (from, to time.Time) {
	t := now.In(Zone)
	from = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, Zone)
	return from, from.AddDate(0, 0, 1)
}
