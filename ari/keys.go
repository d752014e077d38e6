package ari

// KeyKind says what a Key identifies.
type KeyKind uint8

// Key kinds.
const (
	// KeyChannel matches events about a channel id (its own events, Dial
	// where it is peer or caller, playbacks/recordings targeting it,
	// bridge entry/exit).
	KeyChannel KeyKind = iota + 1
	// KeyBridge matches events about a bridge id.
	KeyBridge
	// KeyPlayback matches events about a playback id.
	KeyPlayback
	// KeyRecording matches events about a recording name.
	KeyRecording
	// KeyType matches every event of one type (ID is the type name).
	KeyType
	// KeyAll matches every event.
	KeyAll
)

// String returns the kind's name.
func (k KeyKind) String() string {
	switch k {
	case KeyChannel:
		return "channel"
	case KeyBridge:
		return "bridge"
	case KeyPlayback:
		return "playback"
	case KeyRecording:
		return "recording"
	case KeyType:
		return "type"
	case KeyAll:
		return "all"
	default:
		return "unknown"
	}
}

// Key selects events for a Subscription.
type Key struct {
	Kind KeyKind
	ID   string
}

// String formats the key as "kind:id".
func (k Key) String() string { return k.Kind.String() + ":" + k.ID }

// ChannelKey selects events about a channel.
func ChannelKey(id string) Key { return Key{KeyChannel, id} }

// BridgeKey selects events about a bridge.
func BridgeKey(id string) Key { return Key{KeyBridge, id} }

// PlaybackKey selects events about a playback.
func PlaybackKey(id string) Key { return Key{KeyPlayback, id} }

// RecordingKey selects events about a (live) recording by name.
func RecordingKey(name string) Key { return Key{KeyRecording, name} }

// TypeKey selects every event of one type, e.g. TypeKey(TypeStasisStart) for
// new calls.
func TypeKey(eventType string) Key { return Key{KeyType, eventType} }

// AllKey selects every event.
func AllKey() Key { return Key{Kind: KeyAll} }

// targetKey turns a target URI ("channel:ID", "bridge:ID") into a key.
func targetKey(uri string) (Key, bool) {
	kind, id := splitTarget(uri)
	if id == "" {
		return Key{}, false
	}
	switch kind {
	case "channel":
		return ChannelKey(id), true
	case "bridge":
		return BridgeKey(id), true
	}
	return Key{}, false
}

func chKeys(ch *Channel, more ...Key) []Key {
	keys := make([]Key, 0, 1+len(more))
	if ch != nil && ch.ID != "" {
		keys = append(keys, ChannelKey(ch.ID))
	}
	return append(keys, more...)
}

func playbackKeys(p *Playback) []Key {
	keys := make([]Key, 0, 2)
	if p.ID != "" {
		keys = append(keys, PlaybackKey(p.ID))
	}
	if k, ok := targetKey(p.TargetURI); ok {
		keys = append(keys, k)
	}
	return keys
}

func recordingKeys(r *LiveRecording) []Key {
	keys := make([]Key, 0, 2)
	if r.Name != "" {
		keys = append(keys, RecordingKey(r.Name))
	}
	if k, ok := targetKey(r.TargetURI); ok {
		keys = append(keys, k)
	}
	return keys
}

func bridgeKeys(b *Bridge, ch *Channel) []Key {
	keys := chKeys(ch)
	if b.ID != "" {
		keys = append(keys, BridgeKey(b.ID))
	}
	return keys
}

// Keys implements Event.
func (e *StasisStart) Keys() []Key {
	keys := chKeys(&e.Channel)
	if e.ReplaceChannel != nil && e.ReplaceChannel.ID != "" {
		keys = append(keys, ChannelKey(e.ReplaceChannel.ID))
	}
	return keys
}

// Keys implements Event.
func (e *StasisEnd) Keys() []Key { return chKeys(&e.Channel) }

// Keys implements Event.
func (e *ChannelCreated) Keys() []Key { return chKeys(&e.Channel) }

// Keys implements Event.
func (e *ChannelDestroyed) Keys() []Key { return chKeys(&e.Channel) }

// Keys implements Event.
func (e *ChannelStateChange) Keys() []Key { return chKeys(&e.Channel) }

// Keys implements Event.
func (e *ChannelDTMFReceived) Keys() []Key { return chKeys(&e.Channel) }

// Keys implements Event.
func (e *ChannelDialplan) Keys() []Key { return chKeys(&e.Channel) }

// Keys implements Event.
func (e *ChannelCallerID) Keys() []Key { return chKeys(&e.Channel) }

// Keys implements Event.
func (e *ChannelConnectedLine) Keys() []Key { return chKeys(&e.Channel) }

// Keys implements Event.
func (e *ChannelHangupRequest) Keys() []Key { return chKeys(&e.Channel) }

// Keys implements Event.
func (e *ChannelVarset) Keys() []Key { return chKeys(e.Channel) }

// Keys implements Event.
func (e *ChannelHold) Keys() []Key { return chKeys(&e.Channel) }

// Keys implements Event.
func (e *ChannelUnhold) Keys() []Key { return chKeys(&e.Channel) }

// Keys implements Event.
func (e *ChannelEnteredBridge) Keys() []Key { return bridgeKeys(&e.Bridge, e.Channel) }

// Keys implements Event.
func (e *ChannelLeftBridge) Keys() []Key { return bridgeKeys(&e.Bridge, &e.Channel) }

// Keys implements Event: the peer, the caller and a forwarded channel.
func (e *Dial) Keys() []Key {
	keys := chKeys(&e.Peer)
	for _, ch := range []*Channel{e.Caller, e.Forwarded} {
		if ch != nil && ch.ID != "" && ch.ID != e.Peer.ID {
			keys = append(keys, ChannelKey(ch.ID))
		}
	}
	return keys
}

// Keys implements Event: the playback and its target channel or bridge.
func (e *PlaybackStarted) Keys() []Key { return playbackKeys(&e.Playback) }

// Keys implements Event: the playback and its target channel or bridge.
func (e *PlaybackContinuing) Keys() []Key { return playbackKeys(&e.Playback) }

// Keys implements Event: the playback and its target channel or bridge.
func (e *PlaybackFinished) Keys() []Key { return playbackKeys(&e.Playback) }

// Keys implements Event: the recording and its target channel or bridge.
func (e *RecordingStarted) Keys() []Key { return recordingKeys(&e.Recording) }

// Keys implements Event: the recording and its target channel or bridge.
func (e *RecordingFinished) Keys() []Key { return recordingKeys(&e.Recording) }

// Keys implements Event: the recording and its target channel or bridge.
func (e *RecordingFailed) Keys() []Key { return recordingKeys(&e.Recording) }

// Keys implements Event.
func (e *BridgeCreated) Keys() []Key { return bridgeKeys(&e.Bridge, nil) }

// Keys implements Event.
func (e *BridgeDestroyed) Keys() []Key { return bridgeKeys(&e.Bridge, nil) }

// Keys implements Event: none (it concerns the whole application).
func (e *ApplicationReplaced) Keys() []Key { return nil }

// Keys implements Event.
func (e *RawEvent) Keys() []Key { return append([]Key(nil), e.keys...) }
