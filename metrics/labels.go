package metrics

import (
	"regexp"
	"slices"
	"sync"
)

// Label values that do not come from the caller.
const (
	// Other replaces a label value outside the label's known set, so a wiring
	// mistake (or a caller ID passed by error) cannot create new series.
	Other = "other"
	// None is the region (or method) of a call that was not identified.
	None = "none"
	// Unknown is the carrier of a number whose carrier is not known.
	Unknown = "unknown"
	// DefaultTrunk is the trunk label of the default (carrier-less) trunk.
	DefaultTrunk = "default"
)

// Fixed label sets. They mirror the project's shared vocabulary; values
// outside them are mapped to Other.
var (
	// Outcomes of a whole call.
	Outcomes = []string{"answered", "abandoned", "voicemail", "no_answer", "failed", "interrupted"}
	// Methods by which the caller's café (or province) was identified.
	Methods = []string{"caller_id", "dtmf", "area_code", "none"}
	// LegResults of one outgoing leg.
	LegResults = []string{"answered", "answered_unconfirmed", "busy", "no_answer", "congestion", "failed", "cancelled"}
	// Roles of the people the hotline rings.
	Roles = []string{"technician", "area_manager", "regional_manager", "operator"}
	// Carriers are the mobile networks, plus Unknown for "".
	Carriers = []string{"viettel", "vinaphone", "mobifone", "vietnamobile", "gmobile", "reddi", "itel", Unknown}
	// States of a live call.
	States = []string{"ivr", "ringing", "bridged", "transferring"}
	// DirectoryKinds are the kinds of directory entries counted by
	// SetDirectorySize.
	DirectoryKinds = []string{"regions", "areas", "provinces", "staff", "cafes", "phones", "holidays", "refusals"}
	// Scores a caller can give (9 on the keypad is a complaint, not a score).
	Scores = []string{"1", "2", "3", "4", "5"}
	// StatusClasses of an ARI REST response; "none" when no response arrived.
	StatusClasses = []string{"2xx", "3xx", "4xx", "5xx", "none"}
)

// ARIEventTypes are the event types Asterisk's ARI describes (events.json,
// Asterisk 22). Any other type is counted as Other.
var ARIEventTypes = []string{
	"ApplicationMoveFailed", "ApplicationRegistered", "ApplicationReplaced", "ApplicationUnregistered",
	"BridgeAttendedTransfer", "BridgeBlindTransfer", "BridgeCreated", "BridgeDestroyed", "BridgeMerged",
	"BridgeVideoSourceChanged", "CallBroadcast", "CallClaimed", "ChannelCallerId", "ChannelConnectedLine",
	"ChannelCreated", "ChannelDestroyed", "ChannelDialplan", "ChannelDtmfReceived", "ChannelEnteredBridge",
	"ChannelHangupRequest", "ChannelHold", "ChannelLeftBridge", "ChannelStateChange", "ChannelTalkingFinished",
	"ChannelTalkingStarted", "ChannelToneDetected", "ChannelTransfer", "ChannelUnhold", "ChannelUserevent",
	"ChannelVarset", "ContactStatusChange", "DeviceStateChanged", "Dial", "EndpointStateChange",
	"MissingParams", "PeerStatusChange", "PlaybackContinuing", "PlaybackFinished", "PlaybackStarted",
	"RESTResponse", "RecordingFailed", "RecordingFinished", "RecordingStarted", "StasisEnd", "StasisStart",
	"TextMessageReceived",
}

// fixedSet maps values of a closed set to themselves and anything else to
// Other.
type fixedSet map[string]struct{}

func newFixedSet(values ...[]string) fixedSet {
	s := fixedSet{}
	for _, vs := range values {
		for _, v := range vs {
			s[v] = struct{}{}
		}
	}
	return s
}

// get returns v when it is in the set, else Other; ok reports membership.
func (s fixedSet) get(v string) (string, bool) {
	if _, ok := s[v]; ok {
		return v, true
	}
	return Other, false
}

// openSet admits label values that match a pattern, up to a maximum number
// of distinct values; later ones become Other. It bounds labels whose values
// are names chosen in code or configuration (ARI operations, Asterisk node
// names, database operations) without this package having to know them all.
type openSet struct {
	pattern *regexp.Regexp
	max     int

	mu   sync.RWMutex
	seen map[string]struct{}
}

func newOpenSet(pattern string, max int) *openSet {
	return &openSet{pattern: regexp.MustCompile(pattern), max: max, seen: map[string]struct{}{}}
}

// newClosedSet returns a set that admits only the values given (those that
// match pattern), and nothing later.
func newClosedSet(pattern string, values ...[]string) *openSet {
	s := newOpenSet(pattern, len(values)*64)
	for _, vs := range values {
		for _, v := range vs {
			s.get(v)
		}
	}
	s.max = len(s.seen)
	return s
}

// get returns v when it is admitted, else Other; ok reports admission.
func (s *openSet) get(v string) (string, bool) {
	s.mu.RLock()
	_, ok := s.seen[v]
	s.mu.RUnlock()
	if ok {
		return v, true
	}
	if !s.pattern.MatchString(v) {
		return Other, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen[v]; ok {
		return v, true
	}
	if len(s.seen) >= s.max {
		return Other, false
	}
	s.seen[v] = struct{}{}
	return v, true
}

// Patterns and limits of the open label sets. None of them admits a digit
// run that a phone number, channel id ("1712345678.42") or ULID would need.
const (
	// opPattern: "channels.create", "recordings.live_stop", "write_call".
	opPattern = `^[a-z][a-z_]{0,31}(\.[a-z][a-z_]{0,31})?$`
	// nodePattern: an Asterisk node name from the configuration ("pbx-a").
	nodePattern = `^[A-Za-z][A-Za-z0-9_.-]{0,39}$`
	// trunkPattern: a trunk name from the configuration ("viettel", "gw-backup2").
	trunkPattern = `^[a-z][a-z0-9_-]{0,31}$`
	// directoryCodePattern: a region or staff code from the directory.
	directoryCodePattern = `^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$`

	maxARIOps   = 64
	maxARINodes = 8 // only when Options.ARINodes is empty
	maxDBOps    = 32
)

// dirSet is a set of codes loaded from the directory (regions, staff). It is
// replaced as a whole when the directory reloads.
type dirSet struct {
	mu    sync.RWMutex
	codes map[string]struct{}
}

// has reports whether code is currently in the set. Callers hold mu.
func (d *dirSet) has(code string) bool {
	_, ok := d.codes[code]
	return ok
}

// diff returns the sorted codes added and removed by replacing the set with
// next, keeping only codes that are safe as label values; invalid codes are
// returned separately. Callers hold mu for writing.
func (d *dirSet) diff(next []string) (keep map[string]struct{}, added, removed, invalid []string) {
	pattern := regexp.MustCompile(directoryCodePattern)
	keep = map[string]struct{}{}
	for _, c := range next {
		if c == None || c == Other || !pattern.MatchString(c) {
			invalid = append(invalid, c)
			continue
		}
		if _, dup := keep[c]; dup {
			continue
		}
		keep[c] = struct{}{}
		if _, ok := d.codes[c]; !ok {
			added = append(added, c)
		}
	}
	for c := range d.codes {
		if _, ok := keep[c]; !ok {
			removed = append(removed, c)
		}
	}
	slices.Sort(added)
	slices.Sort(removed)
	return keep, added, removed, invalid
}
