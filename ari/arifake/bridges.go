package arifake

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

const msgBridgeNotFound = "Bridge not found"

func (s *Server) bridgeFor(q *req) *bridge {
	b := s.bridges[q.r.PathValue("bridgeId")]
	if b == nil {
		q.fail(http.StatusNotFound, msgBridgeNotFound)
	}
	return b
}

func (s *Server) listBridges(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q.ok(http.StatusOK, s.bridgeList())
}

func (s *Server) getBridge(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.bridgeFor(q); b != nil {
		q.ok(http.StatusOK, b.model())
	}
}

// createBridge serves POST /bridges and POST /bridges/{bridgeId}. The type
// is a comma-separated list of which the fake keeps mixing and holding
// (unknown words are ignored; neither, or both, is 500 as in Asterisk).
func (s *Server) createBridge(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := q.r.PathValue("bridgeId")
	withID := q.rt.path == "/bridges/{bridgeId}"
	if !withID {
		id = q.param("bridgeId")
	}
	if id != "" && s.bridges[id] != nil {
		q.fail(http.StatusConflict, fmt.Sprintf("Bridge with id '%s' already exists", id))
		return
	}
	types := q.param("type")
	if types == "" {
		types = "mixing"
	}
	mixing, holding := false, false
	for _, t := range strings.Split(types, ",") {
		switch strings.TrimSpace(t) {
		case "mixing":
			mixing = true
		case "holding":
			holding = true
		}
	}
	if mixing == holding {
		if withID {
			q.fail(http.StatusInternalServerError, "Unable to create bridge")
		} else {
			shown := id
			if shown == "" {
				shown = "(null)"
			}
			q.fail(http.StatusInternalServerError, fmt.Sprintf("Unable to create bridge. Possible duplicate bridge id '%s'", shown))
		}
		return
	}
	typ := "mixing"
	if holding {
		typ = "holding"
	}
	if id == "" {
		id = newUUID()
	}
	q.decl("variables", pBody) // bridge variables are not modelled
	s.objSeq++
	b := &bridge{seq: s.objSeq, id: id, name: q.param("name"), typ: typ, created: time.Now(), apps: map[string]bool{}}
	s.bridges[id] = b
	s.notify()
	q.ok(http.StatusOK, b.model())
}

func (s *Server) destroyBridge(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bridgeFor(q)
	if b == nil {
		return
	}
	s.watchCut(b, "destroy")
	s.destroyBridgeLocked(b)
}

func (s *Server) destroyBridgeLocked(b *bridge) {
	s.hangupPlaybacks(&b.plays)
	for len(b.channels) > 0 {
		ch := b.channels[0]
		s.emitVarset(ch, "BRIDGEPEER", "")
		s.leaveBridge(ch)
	}
	delete(s.bridges, b.id)
	s.emitBridge(b, event{Type: "BridgeDestroyed", Bridge: b.modelp()})
	s.notify()
}

// bridgeChannels resolves the channel list ("id1,id2"; empty items are
// skipped, none at all is 400 "Missing parameter channel"). It answers 400
// "Channel not found" for an unknown channel and 422 for one outside Stasis,
// at the first such item. Callers hold s.mu.
func (s *Server) bridgeChannels(q *req) []*channel {
	var chs []*channel
	for _, id := range q.listParam("channel") {
		if id == "" {
			continue
		}
		ch := s.channels[id]
		switch {
		case ch == nil:
			q.fail(http.StatusBadRequest, msgChannelNotFound)
			return nil
		case !ch.inStasis:
			q.fail(http.StatusUnprocessableEntity, msgNotInStasis)
			return nil
		}
		chs = append(chs, ch)
	}
	if len(chs) == 0 {
		q.fail(http.StatusBadRequest, "Missing parameter channel")
		return nil
	}
	return chs
}

func (s *Server) addToBridge(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bridgeFor(q)
	if b == nil {
		return
	}
	chs := s.bridgeChannels(q)
	if chs == nil {
		return
	}
	// Roles and bridge features are not modelled.
	q.param("role")
	q.boolParam("absorbDTMF")
	q.boolParam("mute")
	q.boolParam("inhibitConnectedLineUpdates")
	for _, ch := range chs {
		if ch.bridge != nil {
			// Even re-adding to the same bridge leaves and enters again (as recorded).
			if len(ch.bridge.channels) > 1 {
				s.emitVarset(ch, "BRIDGEPEER", "")
			}
			s.leaveBridge(ch)
		}
		b.channels = append(b.channels, ch)
		ch.bridge = b
		if ch.app != "" {
			b.apps[ch.app] = true
		}
		ch.ringing = false
		ch.hear("bridged", b.id)
		if b.moh != "" {
			ch.hear("moh", b.moh)
		}
		s.emitBridgeAndChannel(b, ch, event{Type: "ChannelEnteredBridge", Bridge: b.modelp(), Channel: ch.modelp()})
		if len(b.channels) == 2 {
			a, c := b.channels[0], b.channels[1]
			s.emitVarset(a, "BRIDGEPEER", c.name)
			s.emitVarset(c, "BRIDGEPEER", a.name)
		}
		s.enteredBridge(ch)
	}
	s.watchBridge(b)
	s.notify()
}

func (s *Server) removeFromBridge(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bridgeFor(q)
	if b == nil {
		return
	}
	chs := s.bridgeChannels(q)
	if chs == nil {
		return
	}
	for _, ch := range chs {
		if ch.bridge != b {
			q.fail(http.StatusUnprocessableEntity, "Channel not in this bridge")
			return
		}
	}
	s.watchCut(b, "remove")
	for _, ch := range chs {
		s.emitVarset(ch, "BRIDGEPEER", "")
		s.leaveBridge(ch)
	}
}

func (s *Server) mohBridge(on bool) func(*req) {
	return func(q *req) {
		s.mu.Lock()
		defer s.mu.Unlock()
		b := s.bridgeFor(q)
		if b == nil {
			return
		}
		if on {
			class := q.param("mohClass")
			if class == "" {
				class = "default"
			}
			b.moh = class
			for _, ch := range b.channels {
				ch.hear("moh", class)
			}
			return
		}
		if b.moh == "" {
			q.fail(http.StatusConflict, "Bridge isn't playing music")
			return
		}
		b.moh = ""
		for _, ch := range b.channels {
			ch.hear("moh-stop", "")
		}
	}
}
