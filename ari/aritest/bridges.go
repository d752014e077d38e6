package aritest

import (
	"net/http"
	"strings"
	"time"
)

const msgBridgeNotFound = "Bridge not found"

func (s *Server) bridgeFor(q *req) *bridge {
	b := s.bridges[q.r.PathValue("id")]
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

func (s *Server) createBridge(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := q.r.PathValue("id")
	if id == "" {
		id = q.param("bridgeId")
	}
	if id == "" {
		id = newUUID()
	}
	if s.bridges[id] != nil {
		q.fail(http.StatusConflict, "Bridge with the same bridgeId already exists")
		return
	}
	typ := "mixing"
	for _, t := range strings.Split(q.param("type"), ",") {
		if strings.TrimSpace(t) == "holding" {
			typ = "holding"
		}
	}
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
	s.destroyBridgeLocked(b)
}

func (s *Server) destroyBridgeLocked(b *bridge) {
	for len(b.plays) > 0 {
		s.finishPlayback(b.plays[0], "done", false)
	}
	for len(b.channels) > 0 {
		ch := b.channels[0]
		s.emitVarset(ch, "BRIDGEPEER", "")
		s.leaveBridge(ch)
	}
	delete(s.bridges, b.id)
	s.emitBridge(b, event{Type: "BridgeDestroyed", Bridge: b.modelp()})
	s.notify()
}

// bridgeChannels resolves the channel parameter ("id1,id2"). It answers 400
// for an unknown channel and 422 for one outside Stasis. Callers hold s.mu.
func (s *Server) bridgeChannels(q *req) []*channel {
	param := q.param("channel")
	if param == "" {
		q.fail(http.StatusBadRequest, "Missing parameter channel")
		return nil
	}
	var chs []*channel
	for _, id := range strings.Split(param, ",") {
		ch := s.channels[strings.TrimSpace(id)]
		if ch == nil {
			q.fail(http.StatusBadRequest, msgChannelNotFound)
			return nil
		}
		chs = append(chs, ch)
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
	for _, ch := range chs {
		if !ch.inStasis {
			q.fail(http.StatusUnprocessableEntity, msgNotInStasis)
			return
		}
	}
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
	}
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
		if b.moh != "" {
			b.moh = ""
			for _, ch := range b.channels {
				ch.hear("moh-stop", "")
			}
		}
	}
}
