package ari

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Field names and types in this file follow Asterisk's own description of ARI
// (api-docs/*.json, API version 10). Optional fields are pointers or carry
// omitempty so a decoded value marshals back to what Asterisk sent.

// Time is a timestamp as ARI writes it ("2026-11-24T21:00:20.706+0000", which
// is not RFC 3339). Decoding also accepts RFC 3339 and an empty string (the
// zero Time); encoding uses ARI's format with milliseconds.
type Time struct {
	time.Time
}

// TimeLayout is the layout of ARI timestamps. When parsing, the fractional
// seconds are optional.
const TimeLayout = "2006-01-02T15:04:05.000-0700"

// ParseTime parses an ARI timestamp, tolerating RFC 3339.
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02T15:04:05-0700", s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("ari: bad timestamp %q", s)
	}
	return t, nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if n := len(b); n >= 2 && b[0] == '"' && b[n-1] == '"' && bytes.IndexByte(b[1:n-1], '\\') < 0 &&
		bytes.IndexByte(b[1:n-1], '"') < 0 {
		s = string(b[1 : n-1]) // a plain string: no escapes to decode (every Asterisk timestamp)
	} else if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("ari: timestamp is not a string: %w", err)
	}
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	v, err := ParseTime(s)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// MarshalJSON implements json.Marshaler; the zero Time encodes as "".
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte(`""`), nil
	}
	return []byte(`"` + t.Format(TimeLayout) + `"`), nil
}

// CallerID is a caller or connected-line identity.
type CallerID struct {
	Name   string `json:"name"`
	Number string `json:"number"`
}

// DialplanCEP is a position in the dialplan (context, extension, priority).
type DialplanCEP struct {
	Context  string `json:"context"`
	Exten    string `json:"exten"`
	Priority int64  `json:"priority"`
	AppName  string `json:"app_name"`
	AppData  string `json:"app_data"`
}

// Channel states as Asterisk reports them in Channel.State.
const (
	StateDown           = "Down"
	StateReserved       = "Rsrved"
	StateOffHook        = "OffHook"
	StateDialing        = "Dialing"
	StateRing           = "Ring"
	StateRinging        = "Ringing"
	StateUp             = "Up"
	StateBusy           = "Busy"
	StateDialingOffhook = "Dialing Offhook"
	StatePreRing        = "Pre-ring"
	StateUnknown        = "Unknown"
)

// Channel is an Asterisk channel (one call leg).
type Channel struct {
	ID           string            `json:"id"`
	ProtocolID   string            `json:"protocol_id"`
	Name         string            `json:"name"`
	State        string            `json:"state"`
	Caller       CallerID          `json:"caller"`
	Connected    CallerID          `json:"connected"`
	AccountCode  string            `json:"accountcode"`
	Dialplan     DialplanCEP       `json:"dialplan"`
	CreationTime Time              `json:"creationtime"`
	Language     string            `json:"language"`
	ChannelVars  map[string]string `json:"channelvars,omitempty"`
	CallerRDNIS  string            `json:"caller_rdnis,omitempty"`
	TenantID     string            `json:"tenantid,omitempty"`
}

// Bridge is an Asterisk bridge (a place where channels are mixed).
type Bridge struct {
	ID            string            `json:"id"`
	Technology    string            `json:"technology"`
	BridgeType    string            `json:"bridge_type"`
	BridgeClass   string            `json:"bridge_class"`
	Creator       string            `json:"creator"`
	Name          string            `json:"name"`
	Channels      []string          `json:"channels"`
	VideoMode     string            `json:"video_mode,omitempty"`
	VideoSourceID string            `json:"video_source_id,omitempty"`
	CreationTime  Time              `json:"creationtime"`
	BridgeVars    map[string]string `json:"bridgevars,omitempty"`
}

// Playback states as reported in Playback.State.
const (
	PlaybackQueued    = "queued"
	PlaybackPlaying   = "playing"
	PlaybackContinues = "continuing"
	PlaybackDone      = "done"
	PlaybackFailed    = "failed"
)

// Playback is a media playback on a channel or bridge.
type Playback struct {
	ID           string `json:"id"`
	MediaURI     string `json:"media_uri"`
	NextMediaURI string `json:"next_media_uri,omitempty"`
	// TargetURI is "channel:<id>" or "bridge:<id>".
	TargetURI string `json:"target_uri"`
	Language  string `json:"language,omitempty"`
	State     string `json:"state"`
}

// Target splits TargetURI into its kind ("channel", "bridge") and id.
func (p Playback) Target() (kind, id string) { return splitTarget(p.TargetURI) }

// LiveRecording is a recording in progress (or just finished).
type LiveRecording struct {
	Name   string `json:"name"`
	Format string `json:"format"`
	// TargetURI is "channel:<id>" or "bridge:<id>".
	TargetURI       string `json:"target_uri"`
	State           string `json:"state"`
	Duration        *int   `json:"duration,omitempty"`
	TalkingDuration *int   `json:"talking_duration,omitempty"`
	SilenceDuration *int   `json:"silence_duration,omitempty"`
	Cause           string `json:"cause,omitempty"`
}

// Target splits TargetURI into its kind ("channel", "bridge") and id.
func (r LiveRecording) Target() (kind, id string) { return splitTarget(r.TargetURI) }

// StoredRecording is a finished recording kept by Asterisk.
type StoredRecording struct {
	Name   string `json:"name"`
	Format string `json:"format"`
}

// Application is the state of a Stasis application. After a reconnect its
// ChannelIDs and BridgeIDs are how an application finds what it still owns.
type Application struct {
	Name             string           `json:"name"`
	ChannelIDs       []string         `json:"channel_ids"`
	BridgeIDs        []string         `json:"bridge_ids"`
	EndpointIDs      []string         `json:"endpoint_ids"`
	DeviceNames      []string         `json:"device_names"`
	EventsAllowed    []map[string]any `json:"events_allowed"`
	EventsDisallowed []map[string]any `json:"events_disallowed"`
}

// AsteriskInfo is the answer of GET /asterisk/info.
type AsteriskInfo struct {
	Build  *BuildInfo  `json:"build,omitempty"`
	System *SystemInfo `json:"system,omitempty"`
	Config *ConfigInfo `json:"config,omitempty"`
	Status *StatusInfo `json:"status,omitempty"`
}

// BuildInfo describes how Asterisk was built.
type BuildInfo struct {
	OS      string `json:"os"`
	Kernel  string `json:"kernel"`
	Options string `json:"options"`
	Machine string `json:"machine"`
	Date    string `json:"date"`
	User    string `json:"user"`
}

// SystemInfo carries the Asterisk version and entity id (the asterisk_id of
// events).
type SystemInfo struct {
	Version  string `json:"version"`
	EntityID string `json:"entity_id"`
}

// ConfigInfo is Asterisk's global configuration.
type ConfigInfo struct {
	Name            string    `json:"name"`
	DefaultLanguage string    `json:"default_language"`
	MaxChannels     int       `json:"max_channels,omitempty"`
	MaxOpenFiles    int       `json:"max_open_files,omitempty"`
	MaxLoad         float64   `json:"max_load,omitempty"`
	SetID           SetIDInfo `json:"setid"`
}

// SetIDInfo is the user and group Asterisk runs as.
type SetIDInfo struct {
	User  string `json:"user"`
	Group string `json:"group"`
}

// StatusInfo holds Asterisk's start and last reload time.
type StatusInfo struct {
	StartupTime    Time `json:"startup_time"`
	LastReloadTime Time `json:"last_reload_time"`
}

// AsteriskPing is the answer of GET /asterisk/ping.
type AsteriskPing struct {
	AsteriskID string `json:"asterisk_id"`
	Ping       string `json:"ping"`
	Timestamp  string `json:"timestamp"`
}

// variable is the answer of the variable getters.
type variable struct {
	Value string `json:"value"`
}

// splitTarget splits "channel:ID" into ("channel", "ID").
func splitTarget(uri string) (kind, id string) {
	kind, id, ok := strings.Cut(uri, ":")
	if !ok {
		return "", ""
	}
	return kind, id
}
