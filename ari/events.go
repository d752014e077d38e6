package ari

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	fastjson "github.com/segmentio/encoding/json"
)

// Event is one message of the events WebSocket. The concrete type is a
// pointer to one of the typed structs below (*StasisStart, *Dial, …) or
// *RawEvent for any other type.
type Event interface {
	// Base returns the fields every event carries.
	Base() *EventBase
	// Keys returns the resources the event concerns (channels, bridges,
	// playbacks, recordings); subscriptions are matched against them.
	Keys() []Key
}

// EventBase holds the fields common to all events.
type EventBase struct {
	// Type is the ARI event type, e.g. "StasisStart".
	Type string `json:"type"`
	// Application is the Stasis application the event was delivered to.
	Application string `json:"application"`
	// AsteriskID is the sending Asterisk's entity id (a MAC address).
	AsteriskID string `json:"asterisk_id,omitempty"`
	// Timestamp is when Asterisk emitted the event.
	Timestamp Time `json:"timestamp"`
	// Node is the Config.Node of the client that received the event; it is
	// not part of the wire format.
	Node string `json:"-"`
}

// Base implements Event.
func (b *EventBase) Base() *EventBase { return b }

// Event type names as sent by Asterisk.
const (
	TypeStasisStart          = "StasisStart"
	TypeStasisEnd            = "StasisEnd"
	TypeChannelCreated       = "ChannelCreated"
	TypeChannelDestroyed     = "ChannelDestroyed"
	TypeChannelStateChange   = "ChannelStateChange"
	TypeChannelDtmfReceived  = "ChannelDtmfReceived"
	TypeChannelDialplan      = "ChannelDialplan"
	TypeChannelCallerID      = "ChannelCallerId"
	TypeChannelConnectedLine = "ChannelConnectedLine"
	TypeChannelHangupRequest = "ChannelHangupRequest"
	TypeChannelVarset        = "ChannelVarset"
	TypeChannelHold          = "ChannelHold"
	TypeChannelUnhold        = "ChannelUnhold"
	TypeChannelEnteredBridge = "ChannelEnteredBridge"
	TypeChannelLeftBridge    = "ChannelLeftBridge"
	TypeDial                 = "Dial"
	TypePlaybackStarted      = "PlaybackStarted"
	TypePlaybackContinuing   = "PlaybackContinuing"
	TypePlaybackFinished     = "PlaybackFinished"
	TypeRecordingStarted     = "RecordingStarted"
	TypeRecordingFinished    = "RecordingFinished"
	TypeRecordingFailed      = "RecordingFailed"
	TypeBridgeCreated        = "BridgeCreated"
	TypeBridgeDestroyed      = "BridgeDestroyed"
	TypeApplicationReplaced  = "ApplicationReplaced"
)

// StasisStart: a channel entered the application. Args are the arguments of
// Stasis() in the dialplan or appArgs of a create.
type StasisStart struct {
	EventBase
	Args           []string `json:"args"`
	Channel        Channel  `json:"channel"`
	ReplaceChannel *Channel `json:"replace_channel,omitempty"`
}

// StasisEnd: a channel left the application. Treat it as the end of the
// channel: ChannelDestroyed after it is not guaranteed to arrive.
type StasisEnd struct {
	EventBase
	Channel Channel `json:"channel"`
}

// ChannelCreated: a channel was created.
type ChannelCreated struct {
	EventBase
	Channel Channel `json:"channel"`
}

// ChannelDestroyed: a channel is gone. Cause is the Q.850 cause (16 normal,
// 17 busy, 19 no answer, 21 rejected, 34 congestion).
type ChannelDestroyed struct {
	EventBase
	Cause     int     `json:"cause"`
	CauseTxt  string  `json:"cause_txt"`
	TechCause int     `json:"tech_cause,omitempty"`
	Channel   Channel `json:"channel"`
}

// ChannelStateChange: the channel's State changed (e.g. Ringing, Up).
type ChannelStateChange struct {
	EventBase
	Channel Channel `json:"channel"`
}

// ChannelDTMFReceived: a DTMF digit was received on the channel.
type ChannelDTMFReceived struct {
	EventBase
	Digit      string  `json:"digit"`
	DurationMs int     `json:"duration_ms"`
	Channel    Channel `json:"channel"`
}

// ChannelDialplan: the channel moved in the dialplan.
type ChannelDialplan struct {
	EventBase
	Channel         Channel `json:"channel"`
	DialplanApp     string  `json:"dialplan_app"`
	DialplanAppData string  `json:"dialplan_app_data"`
}

// ChannelCallerID: the channel's caller id changed.
type ChannelCallerID struct {
	EventBase
	CallerPresentation    int     `json:"caller_presentation"`
	CallerPresentationTxt string  `json:"caller_presentation_txt"`
	Channel               Channel `json:"channel"`
}

// ChannelConnectedLine: the channel's connected line changed.
type ChannelConnectedLine struct {
	EventBase
	Channel Channel `json:"channel"`
}

// ChannelHangupRequest: a hangup was requested on the channel. Cause is 0
// when Asterisk sent none (a SIP BYE). With Soft set, Cause is an internal
// flag rather than a Q.850 cause (32 = hung up through ARI). TechCause is
// the technology's cause, e.g. SIP 486.
type ChannelHangupRequest struct {
	EventBase
	Cause     int     `json:"cause,omitempty"`
	TechCause int     `json:"tech_cause,omitempty"`
	Soft      bool    `json:"soft,omitempty"`
	Channel   Channel `json:"channel"`
}

// ChannelVarset: a variable was set; Channel is nil for a global variable.
type ChannelVarset struct {
	EventBase
	Variable string   `json:"variable"`
	Value    string   `json:"value"`
	Channel  *Channel `json:"channel,omitempty"`
}

// ChannelHold: the channel put its peer on hold.
type ChannelHold struct {
	EventBase
	Channel    Channel `json:"channel"`
	MusicClass string  `json:"musicclass,omitempty"`
}

// ChannelUnhold: the channel took its peer off hold.
type ChannelUnhold struct {
	EventBase
	Channel Channel `json:"channel"`
}

// ChannelEnteredBridge: a channel joined a bridge.
type ChannelEnteredBridge struct {
	EventBase
	Bridge  Bridge   `json:"bridge"`
	Channel *Channel `json:"channel,omitempty"`
}

// ChannelLeftBridge: a channel left a bridge.
type ChannelLeftBridge struct {
	EventBase
	Bridge  Bridge  `json:"bridge"`
	Channel Channel `json:"channel"`
}

// Dial status values of Dial.DialStatus ("" while the dial is in progress).
const (
	DialAnswer      = "ANSWER"
	DialBusy        = "BUSY"
	DialNoAnswer    = "NOANSWER"
	DialCongestion  = "CONGESTION"
	DialCancel      = "CANCEL"
	DialChanUnavail = "CHANUNAVAIL"
	DialRinging     = "RINGING"
	DialProgress    = "PROGRESS"
)

// Dial: progress of a dial. Peer is the dialled channel, Caller (optional)
// the channel it is dialled for. DialStatus is "" when the dial starts, then
// RINGING, ANSWER, BUSY, … Do not rely on it alone: a SIP 486 gives no final
// BUSY, only a hangup with cause 17.
type Dial struct {
	EventBase
	Caller     *Channel `json:"caller,omitempty"`
	Peer       Channel  `json:"peer"`
	Forward    string   `json:"forward,omitempty"`
	Forwarded  *Channel `json:"forwarded,omitempty"`
	DialString string   `json:"dialstring,omitempty"`
	DialStatus string   `json:"dialstatus"`
}

// PlaybackStarted: a playback began.
type PlaybackStarted struct {
	EventBase
	Playback Playback `json:"playback"`
}

// PlaybackContinuing: a playback moved on to its next media URI.
type PlaybackContinuing struct {
	EventBase
	Playback Playback `json:"playback"`
}

// PlaybackFinished: a playback ended (done, stopped or failed).
type PlaybackFinished struct {
	EventBase
	Playback Playback `json:"playback"`
}

// RecordingStarted: a live recording began.
type RecordingStarted struct {
	EventBase
	Recording LiveRecording `json:"recording"`
}

// RecordingFinished: a live recording ended and was stored.
type RecordingFinished struct {
	EventBase
	Recording LiveRecording `json:"recording"`
}

// RecordingFailed: a live recording failed.
type RecordingFailed struct {
	EventBase
	Recording LiveRecording `json:"recording"`
}

// BridgeCreated: a bridge was created.
type BridgeCreated struct {
	EventBase
	Bridge Bridge `json:"bridge"`
}

// BridgeDestroyed: a bridge was destroyed.
type BridgeDestroyed struct {
	EventBase
	Bridge Bridge `json:"bridge"`
}

// ApplicationReplaced: another WebSocket registered the same application;
// this socket gets no more events for it (Asterisk does not close it).
type ApplicationReplaced struct {
	EventBase
}

// RawEvent is an event of a type without a typed struct here (or one whose
// typed decoding failed). Raw is the whole message. Its Keys are taken from
// the usual "channel" and "bridge" fields when present.
type RawEvent struct {
	EventBase
	Raw  json.RawMessage `json:"-"`
	keys []Key
}

// MarshalJSON returns the raw message.
func (e *RawEvent) MarshalJSON() ([]byte, error) { return e.Raw, nil }

// eventTypes maps a type name to a constructor of its typed struct.
var eventTypes = map[string]func() Event{
	TypeStasisStart:          func() Event { return new(StasisStart) },
	TypeStasisEnd:            func() Event { return new(StasisEnd) },
	TypeChannelCreated:       func() Event { return new(ChannelCreated) },
	TypeChannelDestroyed:     func() Event { return new(ChannelDestroyed) },
	TypeChannelStateChange:   func() Event { return new(ChannelStateChange) },
	TypeChannelDtmfReceived:  func() Event { return new(ChannelDTMFReceived) },
	TypeChannelDialplan:      func() Event { return new(ChannelDialplan) },
	TypeChannelCallerID:      func() Event { return new(ChannelCallerID) },
	TypeChannelConnectedLine: func() Event { return new(ChannelConnectedLine) },
	TypeChannelHangupRequest: func() Event { return new(ChannelHangupRequest) },
	TypeChannelVarset:        func() Event { return new(ChannelVarset) },
	TypeChannelHold:          func() Event { return new(ChannelHold) },
	TypeChannelUnhold:        func() Event { return new(ChannelUnhold) },
	TypeChannelEnteredBridge: func() Event { return new(ChannelEnteredBridge) },
	TypeChannelLeftBridge:    func() Event { return new(ChannelLeftBridge) },
	TypeDial:                 func() Event { return new(Dial) },
	TypePlaybackStarted:      func() Event { return new(PlaybackStarted) },
	TypePlaybackContinuing:   func() Event { return new(PlaybackContinuing) },
	TypePlaybackFinished:     func() Event { return new(PlaybackFinished) },
	TypeRecordingStarted:     func() Event { return new(RecordingStarted) },
	TypeRecordingFinished:    func() Event { return new(RecordingFinished) },
	TypeRecordingFailed:      func() Event { return new(RecordingFailed) },
	TypeBridgeCreated:        func() Event { return new(BridgeCreated) },
	TypeBridgeDestroyed:      func() Event { return new(BridgeDestroyed) },
	TypeApplicationReplaced:  func() Event { return new(ApplicationReplaced) },
}

// KnownEventTypes returns the event types decoded into typed structs.
func KnownEventTypes() []string {
	out := make([]string, 0, len(eventTypes))
	for t := range eventTypes {
		out = append(out, t)
	}
	return out
}

// ErrBadEvent is returned by DecodeEvent for a message that is not an ARI
// event at all (invalid JSON, or no "type").
var ErrBadEvent = errors.New("ari: not an ARI event")

// DecodeEvent decodes one WebSocket message. A type without a typed struct
// gives a *RawEvent and no error. When a known type fails to decode into its
// struct, DecodeEvent returns a *RawEvent together with the error, so the
// event can still be delivered. Only a message that is not an event at all
// gives a nil Event (and an error wrapping ErrBadEvent).
//
// Events are decoded with github.com/segmentio/encoding/json, a drop-in
// encoding/json (the same rules, the same error types) 3-4 times faster on
// Asterisk's events: their decoding was the largest single cost of a call
// in serve's CPU profile. FuzzDecodeEventFastType holds it to
// encoding/json's results.
func DecodeEvent(data []byte) (Event, error) {
	return decodeEvent(data, fastjson.Unmarshal)
}

// decodeEvent is DecodeEvent with the given json.Unmarshal.
func decodeEvent(data []byte, unmarshal func([]byte, any) error) (Event, error) {
	// The type is found by a scan of the message's top level (eventType),
	// and the message decoded once, into its typed struct: decoding it a
	// first time just for its type was a third of the decoding cost.
	// Anything the scan cannot read plainly takes the general path.
	typ, ok := eventType(data)
	if !ok {
		return decodeEventSlow(data, unmarshal)
	}
	if typ == "" {
		if !json.Valid(data) {
			return nil, fmt.Errorf("%w: invalid JSON", ErrBadEvent)
		}
		return nil, fmt.Errorf("%w: no type", ErrBadEvent)
	}
	ctor, ok := eventTypes[typ]
	if !ok {
		if !json.Valid(data) {
			return decodeEventSlow(data, unmarshal) // the same error as ever
		}
		return rawEvent(data), nil
	}
	ev := ctor()
	if err := unmarshal(data, ev); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return nil, fmt.Errorf("%w: %w", ErrBadEvent, err)
		}
		return rawEvent(data), fmt.Errorf("ari: decode %s event: %w", typ, err)
	}
	return ev, nil
}

// decodeEventSlow is DecodeEvent with encoding/json finding the type.
func decodeEventSlow(data []byte, unmarshal func([]byte, any) error) (Event, error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadEvent, err)
	}
	if head.Type == "" {
		return nil, fmt.Errorf("%w: no type", ErrBadEvent)
	}
	ctor, ok := eventTypes[head.Type]
	if !ok {
		return rawEvent(data), nil
	}
	ev := ctor()
	if err := unmarshal(data, ev); err != nil {
		return rawEvent(data), fmt.Errorf("ari: decode %s event: %w", head.Type, err)
	}
	return ev, nil
}

// eventType returns the value of data's top-level "type" key as
// encoding/json would read it into a string field tagged "type": the last
// such key, matched without regard to case; "" when there is none. ok is
// false when data is not an object this scan reads plainly (a key or the
// type with escapes, a type that is not a string, malformed text): the
// caller then lets encoding/json decide. It does not validate values it
// skips; the decoding that follows does.
func eventType(data []byte) (typ string, ok bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return "", false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return "", true
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return "", false
		}
		end, escaped := stringEnd(data, i)
		if end < 0 || escaped {
			return "", false
		}
		key := data[i+1 : end]
		i = skipSpace(data, end+1)
		if i >= len(data) || data[i] != ':' {
			return "", false
		}
		i = skipSpace(data, i+1)
		if i >= len(data) {
			return "", false
		}
		if len(key) == 4 && bytes.EqualFold(key, []byte("type")) {
			if data[i] != '"' {
				return "", false
			}
			vend, vesc := stringEnd(data, i)
			if vend < 0 || vesc {
				return "", false
			}
			typ = string(data[i+1 : vend])
			i = vend + 1
		} else if i = skipValue(data, i); i < 0 {
			return "", false
		}
		i = skipSpace(data, i)
		switch {
		case i < len(data) && data[i] == ',':
			i = skipSpace(data, i+1)
		case i < len(data) && data[i] == '}':
			return typ, true
		default:
			return "", false
		}
	}
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index of the quote closing the string that starts
// at data[i] (a quote), and whether it holds a backslash; -1 when unclosed.
func stringEnd(data []byte, i int) (end int, escaped bool) {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j, escaped
		}
	}
	return -1, escaped
}

// skipValue returns the index just after the value starting at data[i], or
// -1 when it is cut short.
func skipValue(data []byte, i int) int {
	switch data[i] {
	case '"':
		end, _ := stringEnd(data, i)
		if end < 0 {
			return -1
		}
		return end + 1
	case '{', '[':
		depth := 0
		for j := i; j < len(data); j++ {
			switch data[j] {
			case '"':
				end, _ := stringEnd(data, j)
				if end < 0 {
					return -1
				}
				j = end
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	// A number, true, false or null: up to the next delimiter.
	j := i
	for j < len(data) && data[j] != ',' && data[j] != '}' && data[j] != ']' &&
		data[j] != ' ' && data[j] != '\t' && data[j] != '\n' && data[j] != '\r' {
		j++
	}
	if j == i {
		return -1
	}
	return j
}

// rawEvent builds a RawEvent, decoding what it can of the common fields;
// each field is decoded alone so one bad field does not hide the others.
func rawEvent(data []byte) *RawEvent {
	var loose struct {
		Type        json.RawMessage `json:"type"`
		Application json.RawMessage `json:"application"`
		AsteriskID  json.RawMessage `json:"asterisk_id"`
		Timestamp   json.RawMessage `json:"timestamp"`
		Channel     json.RawMessage `json:"channel"`
		Bridge      json.RawMessage `json:"bridge"`
	}
	_ = json.Unmarshal(data, &loose) // the caller already knows data is an object with a type
	ev := &RawEvent{Raw: append(json.RawMessage(nil), data...)}
	_ = json.Unmarshal(loose.Type, &ev.Type)
	_ = json.Unmarshal(loose.Application, &ev.Application)
	_ = json.Unmarshal(loose.AsteriskID, &ev.AsteriskID)
	if len(loose.Timestamp) > 0 {
		_ = ev.Timestamp.UnmarshalJSON(loose.Timestamp)
	}
	var ref struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(loose.Channel, &ref) == nil && ref.ID != "" {
		ev.keys = append(ev.keys, ChannelKey(ref.ID))
	}
	ref.ID = ""
	if json.Unmarshal(loose.Bridge, &ref) == nil && ref.ID != "" {
		ev.keys = append(ev.keys, BridgeKey(ref.ID))
	}
	return ev
}
