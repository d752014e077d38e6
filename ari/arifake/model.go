package arifake

import (
	"encoding/json"
	"time"
)

// TimeLayout is the timestamp layout Asterisk uses in ARI JSON
// ("2026-11-24T21:00:20.706+0000").
const TimeLayout = "2006-01-02T15:04:05.000-0700"

// CallerID is ARI's CallerID model.
type CallerID struct {
	Name   string `json:"name"`
	Number string `json:"number"`
}

// DialplanCEP is ARI's dialplan location model (context, extension, priority).
type DialplanCEP struct {
	Context  string `json:"context"`
	Exten    string `json:"exten"`
	Priority int64  `json:"priority"`
	AppName  string `json:"app_name"`
	AppData  string `json:"app_data"`
}

// Channel is ARI's Channel model as the fake serialises it.
type Channel struct {
	ID           string      `json:"id"`
	Name         string      `json:"name"`
	State        string      `json:"state"`
	ProtocolID   string      `json:"protocol_id"`
	Caller       CallerID    `json:"caller"`
	Connected    CallerID    `json:"connected"`
	AccountCode  string      `json:"accountcode"`
	Dialplan     DialplanCEP `json:"dialplan"`
	CreationTime string      `json:"creationtime"`
	Language     string      `json:"language"`
}

// Bridge is ARI's Bridge model.
type Bridge struct {
	ID           string   `json:"id"`
	Technology   string   `json:"technology"`
	BridgeType   string   `json:"bridge_type"`
	BridgeClass  string   `json:"bridge_class"`
	Creator      string   `json:"creator"`
	Name         string   `json:"name"`
	Channels     []string `json:"channels"`
	CreationTime string   `json:"creationtime"`
	VideoMode    string   `json:"video_mode"`
}

// Playback is ARI's Playback model.
type Playback struct {
	ID           string `json:"id"`
	MediaURI     string `json:"media_uri"`
	NextMediaURI string `json:"next_media_uri,omitempty"`
	TargetURI    string `json:"target_uri"`
	Language     string `json:"language"`
	State        string `json:"state"`
}

// LiveRecording is ARI's LiveRecording model.
type LiveRecording struct {
	Name      string `json:"name"`
	Format    string `json:"format"`
	TargetURI string `json:"target_uri"`
	State     string `json:"state"`
	Duration  *int   `json:"duration,omitempty"`
	Cause     string `json:"cause,omitempty"`
}

// StoredRecording is ARI's StoredRecording model.
type StoredRecording struct {
	Name   string `json:"name"`
	Format string `json:"format"`
}

// Application is ARI's Application model.
type Application struct {
	Name             string   `json:"name"`
	ChannelIDs       []string `json:"channel_ids"`
	BridgeIDs        []string `json:"bridge_ids"`
	EndpointIDs      []string `json:"endpoint_ids"`
	DeviceNames      []string `json:"device_names"`
	EventsAllowed    []any    `json:"events_allowed"`
	EventsDisallowed []any    `json:"events_disallowed"`
}

// Endpoint is ARI's Endpoint model (only what GET /endpoints returns).
type Endpoint struct {
	Technology string   `json:"technology"`
	Resource   string   `json:"resource"`
	State      string   `json:"state"`
	ChannelIDs []string `json:"channel_ids"`
}

// event is one ARI event on the wire. Only the fields an event type defines are
// set; the rest are omitted, as Asterisk does.
type event struct {
	Type                  string         `json:"type"`
	Timestamp             string         `json:"timestamp"`
	Args                  *[]string      `json:"args,omitempty"`
	Cause                 *int           `json:"cause,omitempty"`
	CauseTxt              string         `json:"cause_txt,omitempty"`
	TechCause             *int           `json:"tech_cause,omitempty"`
	Soft                  bool           `json:"soft,omitempty"`
	Digit                 string         `json:"digit,omitempty"`
	DurationMS            *int           `json:"duration_ms,omitempty"`
	DialStatus            *string        `json:"dialstatus,omitempty"`
	Forward               *string        `json:"forward,omitempty"`
	DialString            *string        `json:"dialstring,omitempty"`
	Variable              string         `json:"variable,omitempty"`
	Value                 *string        `json:"value,omitempty"`
	DialplanApp           *string        `json:"dialplan_app,omitempty"`
	DialplanAppData       *string        `json:"dialplan_app_data,omitempty"`
	CallerPresentation    *int           `json:"caller_presentation,omitempty"`
	CallerPresentationTxt string         `json:"caller_presentation_txt,omitempty"`
	Caller                *Channel       `json:"caller,omitempty"`
	Peer                  *Channel       `json:"peer,omitempty"`
	Channel               *Channel       `json:"channel,omitempty"`
	Bridge                *Bridge        `json:"bridge,omitempty"`
	Playback              *Playback      `json:"playback,omitempty"`
	Recording             *LiveRecording `json:"recording,omitempty"`
	AsteriskID            string         `json:"asterisk_id"`
	Application           string         `json:"application"`
}

// SentEvent is one event the fake queued to an application's WebSocket.
type SentEvent struct {
	App  string          // application the event was delivered to
	Conn int             // WebSocket connection number (1, 2, … in order of connection)
	Type string          // event type, e.g. "StasisStart"
	At   time.Time       // when it was queued
	JSON json.RawMessage // the exact message sent
}

// Request is one REST request the fake received.
type Request struct {
	At     time.Time
	Method string
	Path   string // e.g. /ari/channels/1795554020.5/answer
	Query  map[string][]string
	Body   string
	Status int
}

// hangup causes (Q.850) and their texts as Asterisk prints them.
const (
	CauseUnallocated       = 1
	CauseNoRoute           = 3
	CauseNormal            = 16
	CauseBusy              = 17
	CauseNoAnswer          = 19
	CauseRejected          = 21
	CauseFailure           = 38
	CauseCongestion        = 34
	CauseARIHangup         = 32 // the soft-hangup flag ChannelHangupRequest carries when hung up through ARI
	CauseNormalUnspec      = 31
	CauseAnsweredElsewhere = 26
)

var causeText = map[int]string{
	0:   "Unknown",
	1:   "Unallocated (unassigned) number",
	3:   "No route to destination",
	16:  "Normal Clearing",
	17:  "User busy",
	18:  "No user responding",
	19:  "User alerting, no answer",
	21:  "Call Rejected",
	26:  "Answered elsewhere",
	28:  "Invalid number format (incomplete number)",
	31:  "Normal, unspecified",
	34:  "Circuit/channel congestion",
	38:  "Network out of order",
	58:  "Bearer capability not available",
	127: "Interworking, unspecified",
}

// hangupReasons maps DELETE /channels/{id}?reason= to causes, as Asterisk does.
var hangupReasons = map[string]int{
	"normal":             16,
	"busy":               17,
	"congestion":         34,
	"no_answer":          19,
	"timeout":            19,
	"rejected":           21,
	"unallocated":        1,
	"normal_unspecified": 31,
	"number_incomplete":  28,
	"codec_mismatch":     58,
	"interworking":       127,
	"failure":            38,
	"answered_elsewhere": 26,
}

func causeTxt(c int) string {
	if t, ok := causeText[c]; ok {
		return t
	}
	return "Unknown"
}

func intp(v int) *int       { return &v }
func strp(v string) *string { return &v }
