package arifake

import (
	"sort"
	"time"
)

// channel is one live channel. All fields are guarded by Server.mu.
type channel struct {
	seq        int
	id, name   string
	state      string // Down, Ring, Ringing, Up
	protocolID string
	caller     CallerID
	connected  CallerID
	dialplan   DialplanCEP
	created    time.Time
	tech       string // "PJSIP" or "Local": decides SIP-style or Local-style signalling

	app          string // application subscribed to the channel ("" = none)
	inStasis     bool
	fromDialplan bool // entered Stasis from the dialplan (an incoming call)
	args         []string

	// outgoing legs
	outgoing     bool
	target       DialTarget
	phone        Phone
	dialed       bool // dial started
	originate    bool // POST /channels semantics: StasisStart only on answer
	dialToken    int  // bumped when a dial flow must stop acting
	answeredOnce bool
	bridgedOnce  bool // entered a bridge at least once (Press.InBridge)

	bridge *bridge
	vars   map[string]string
	plays  []*playback // queue; the first one plays
	// pendingContinue is where a continue sends the channel once its
	// playbacks are over; plays asked for meanwhile never play.
	pendingContinue *DialplanCEP
	moh             string
	ringing         bool
	silence         bool
	recording       *recording
	heard           []Heard
	call            *Call // set for incoming calls placed with PlaceCall
	snoops          []*channel
	gone            bool
	endCause        int
}

func (ch *channel) model() Channel {
	return Channel{
		ID:           ch.id,
		Name:         ch.name,
		State:        ch.state,
		ProtocolID:   ch.protocolID,
		Caller:       ch.caller,
		Connected:    ch.connected,
		AccountCode:  "",
		Dialplan:     ch.dialplan,
		CreationTime: ch.created.In(time.UTC).Format(TimeLayout),
		Language:     "en",
	}
}

func (ch *channel) modelp() *Channel {
	m := ch.model()
	return &m
}

func (ch *channel) hear(kind, detail string) {
	ch.heard = append(ch.heard, Heard{At: time.Now(), Kind: kind, Detail: detail})
}

// Heard is one thing a channel's far end was given to hear or receive.
type Heard struct {
	At     time.Time
	Kind   string // playback, playback-stopped, moh, moh-stop, ringing, ringing-stop, silence, silence-stop, dtmf, bridged, unbridged, recording, answered
	Detail string // media URI, music class, digit, bridge id…
}

// bridge is one live bridge.
type bridge struct {
	seq      int
	id       string
	name     string
	typ      string
	created  time.Time
	channels []*channel
	apps     map[string]bool // applications subscribed to the bridge
	plays    []*playback
	moh      string
}

func (b *bridge) model() Bridge {
	ids := make([]string, 0, len(b.channels))
	for _, c := range b.channels {
		ids = append(ids, c.id)
	}
	sort.Strings(ids) // Asterisk's snapshot keeps them in a sorted container
	tech := "simple_bridge"
	if b.typ == "holding" {
		tech = "holding_bridge"
	} else if len(b.channels) > 2 {
		tech = "softmix"
	}
	return Bridge{
		ID:           b.id,
		Technology:   tech,
		BridgeType:   b.typ,
		BridgeClass:  "stasis",
		Creator:      "Stasis",
		Name:         b.name,
		Channels:     ids,
		CreationTime: b.created.In(time.UTC).Format(TimeLayout),
		VideoMode:    "talker",
	}
}

func (b *bridge) modelp() *Bridge {
	m := b.model()
	return &m
}

func (b *bridge) remove(ch *channel) {
	for i, c := range b.channels {
		if c == ch {
			b.channels = append(b.channels[:i], b.channels[i+1:]...)
			return
		}
	}
}

// recording is one live recording.
type recording struct {
	name        string
	format      string
	ch          *channel
	br          *bridge
	state       string
	started     time.Time
	terminateOn string
	token       int
}

func (r *recording) targetURI() string {
	if r.br != nil {
		return "bridge:" + r.br.id
	}
	return "channel:" + r.ch.id
}

type storedRec struct {
	format   string
	duration time.Duration
	data     []byte // the file, when a test stored it (StoreRecording)
}

// application is a Stasis application known to the fake (registered by a WebSocket).
type application struct {
	name         string
	conn         *wsConn
	subscribeAll bool
	// allowed and disallowed are the event filter (PUT …/eventFilter) as
	// given: arrays of {"type": name} objects; nil or empty means none.
	allowed, disallowed []any
}

// passes reports whether the filter lets an event of type typ through, as
// stasis_app_event_allowed does: not disallowed, and allowed (an empty
// allowed list allows everything).
func (a *application) passes(typ string) bool {
	return !filterHas(a.disallowed, typ, false) && filterHas(a.allowed, typ, true)
}

func filterHas(list []any, typ string, empty bool) bool {
	if len(list) == 0 {
		return empty
	}
	for _, it := range list {
		if m, ok := it.(map[string]any); ok && m["type"] == typ {
			return true
		}
	}
	return false
}

// finished reports whether Asterisk would have destroyed the application
// (res/stasis/app.c app_is_finished: no WebSocket, no channel, no bridge),
// and with it its event filter. Callers hold s.mu.
func (s *Server) finished(a *application) bool {
	if a.conn != nil {
		return false
	}
	for _, c := range s.channels {
		if c.app == a.name {
			return false
		}
	}
	for _, b := range s.bridges {
		if b.apps[a.name] {
			return false
		}
	}
	return true
}

func (s *Server) appModel(a *application) Application {
	m := Application{
		Name: a.name, ChannelIDs: []string{}, BridgeIDs: []string{}, EndpointIDs: []string{},
		DeviceNames: []string{}, EventsAllowed: []any{}, EventsDisallowed: []any{},
	}
	if a.allowed != nil {
		m.EventsAllowed = a.allowed
	}
	if a.disallowed != nil {
		m.EventsDisallowed = a.disallowed
	}
	for _, c := range s.channelsSorted() {
		if c.app == a.name && (c.inStasis || c.originate) {
			m.ChannelIDs = append(m.ChannelIDs, c.id)
		}
	}
	for _, id := range sortedKeys(s.bridges) {
		if s.bridges[id].apps[a.name] {
			m.BridgeIDs = append(m.BridgeIDs, id)
		}
	}
	return m
}

func (s *Server) channelsSorted() []*channel {
	chs := make([]*channel, 0, len(s.channels))
	for _, ch := range s.channels {
		chs = append(chs, ch)
	}
	sort.Slice(chs, func(i, j int) bool { return chs[i].seq < chs[j].seq })
	return chs
}
