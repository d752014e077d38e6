package arifake

import (
	"net/http"
	"path"
	"strings"
	"time"
)

// Playbacks, as res/res_stasis_playback.c plays them and as recorded from
// Asterisk 22.10.1 (ari/aritest/testdata/traces/i_playback_lists.jsonl):
//
//   - POST …/play answers 201 with the Playback in state "queued": media_uri
//     is the first item, next_media_uri the second. next_media_uri is present
//     whenever the current item is not the last, in every state.
//   - Each item of the media list in turn: PlaybackStarted (state playing,
//     media_uri = the item, next_media_uri = the one after); when it ends and
//     is not the last, PlaybackContinuing (state continuing, the same two
//     URIs), then the next item's PlaybackStarted; after the last item one
//     PlaybackFinished (done). GET /playbacks/{id} shows the current item.
//   - An item that plays but fails (a sound: whose file does not exist — see
//     Options.SoundExists; Asterisk logs "Playback failed for sound:…") is
//     followed by PlaybackContinuing and the next item as usual; when it is
//     the last item, PlaybackFinished has state "failed".
//   - An item Asterisk cannot start at all (a recording: that is not stored, a
//     number: that is not a number, an unknown scheme) gets its
//     PlaybackStarted and nothing else: the next item's PlaybackStarted follows
//     at once, and when it was the last item no PlaybackFinished is ever sent
//     (the playback disappears; GET answers 404).
//   - DELETE /playbacks/{id} stops the whole list: PlaybackFinished (done) with
//     the current item and its next_media_uri; no further item plays. Only a
//     playback that has played a sound:, recording: or tone: item can be
//     stopped; before that (digits:, number:, characters:) DELETE answers 500
//     "Could not stop playback".
//   - Playbacks on one channel (or bridge) play one after the other. A queued
//     one that is stopped answers 204, shows state "done" in GET, and sends
//     its PlaybackFinished (done, without PlaybackStarted) when its turn comes.
//   - When the channel hangs up, the playing item fails (PlaybackFinished
//     "failed", with the current URIs) and each queued playback then gets
//     PlaybackStarted and PlaybackFinished "failed" for its first item.
//   - Playback ids are not checked: a play with the id of a live playback is
//     201 too, and GET or DELETE of that id finds the older one.
//   - A continue waits behind the channel's playbacks: they play to their end,
//     then StasisEnd (a play asked for after the continue never plays).

// playback is one queued or playing playback.
type playback struct {
	id           string
	media        []string
	idx          int
	lang         string
	state        string // queued, playing, continuing, done, failed
	canceled     bool   // stopped while queued: "done", finished when its turn comes
	controllable bool   // a sound:, recording: or tone: item has started
	ch           *channel
	br           *bridge
	token        int // bumped to cancel the pending timer
}

func (p *playback) targetURI() string {
	if p.br != nil {
		return "bridge:" + p.br.id
	}
	return "channel:" + p.ch.id
}

func (p *playback) model() *Playback {
	st := p.state
	if p.canceled {
		st = "done"
	}
	m := &Playback{ID: p.id, MediaURI: p.media[p.idx], TargetURI: p.targetURI(), Language: p.lang, State: st}
	if p.idx+1 < len(p.media) {
		m.NextMediaURI = p.media[p.idx+1]
	}
	return m
}

// queue is the playback queue of p's target; its head is playing.
func (p *playback) queue() *[]*playback {
	if p.br != nil {
		return &p.br.plays
	}
	return &p.ch.plays
}

func (p *playback) listeners() []*channel {
	if p.br != nil {
		return p.br.channels
	}
	return []*channel{p.ch}
}

// announcerFormats are the formats a bridge playback's announcer_format may
// name (ast_format_cache_get).
var announcerFormats = map[string]bool{"ulaw": true, "alaw": true, "gsm": true, "g722": true, "g729": true,
	"slin": true, "slin12": true, "slin16": true, "slin24": true, "slin32": true, "slin44": true, "slin48": true,
	"slin96": true, "slin192": true, "opus": true}

// newPlayback reads a play request, with Asterisk's checks after the target's
// own. It answers nil with the response set when the request fails.
// Callers hold s.mu.
func (s *Server) newPlayback(q *req) *playback {
	bridge := strings.HasPrefix(q.rt.path, "/bridges/")
	skip, offset := q.intParam("skipms"), q.intParam("offsetms")
	if !bridge {
		if skip < 0 {
			q.fail(http.StatusBadRequest, "skipms cannot be negative")
			return nil
		}
		if offset < 0 {
			q.fail(http.StatusBadRequest, "offsetms cannot be negative")
			return nil
		}
	} else if f := q.param("announcer_format"); f != "" && !announcerFormats[f] {
		q.fail(http.StatusUnprocessableEntity, "specified announcer_format is unknown on this system")
		return nil
	}
	media := q.listParam("media")
	ok := len(media) > 0 && skip >= 0 && offset >= 0
	for _, m := range media {
		ok = ok && m != ""
	}
	if !ok {
		// stasis_app_control_play_uri refuses it.
		if bridge {
			allocationFailed(q)
		} else {
			q.fail(http.StatusInternalServerError, "Failed to queue media for playback")
		}
		return nil
	}
	id := q.r.PathValue("playbackId")
	if !strings.HasSuffix(q.rt.path, "{playbackId}") {
		id = q.param("playbackId")
	}
	if id == "" {
		id = newUUID()
	}
	lang := q.param("lang")
	if lang == "" {
		lang = "en" // the channel's language
	}
	return &playback{id: id, media: media, lang: lang, state: "queued"}
}

func (s *Server) playChannel(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.controlFor(q)
	if ch == nil {
		return
	}
	p := s.newPlayback(q)
	if p == nil {
		return
	}
	p.ch = ch
	q.ok(http.StatusCreated, p.model())
	if ch.pendingContinue != nil {
		return // queued behind the continue: flushed when the channel leaves, no event
	}
	s.enqueuePlayback(p)
}

func (s *Server) playBridge(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bridgeFor(q)
	if b == nil {
		return
	}
	p := s.newPlayback(q)
	if p == nil {
		return
	}
	p.br = b
	q.ok(http.StatusCreated, p.model())
	s.enqueuePlayback(p)
}

// findPlayback returns the oldest live playback with id. Callers hold s.mu.
func (s *Server) findPlayback(id string) *playback {
	if ps := s.plays[id]; len(ps) > 0 {
		return ps[0]
	}
	return nil
}

// enqueuePlayback queues p on its target and starts it if nothing plays there.
// Callers hold s.mu.
func (s *Server) enqueuePlayback(p *playback) {
	s.plays[p.id] = append(s.plays[p.id], p)
	q := p.queue()
	*q = append(*q, p)
	if len(*q) == 1 {
		s.beginPlayback(p)
	}
}

// beginPlayback runs p now that its turn has come. Callers hold s.mu.
func (s *Server) beginPlayback(p *playback) {
	if p.canceled {
		s.endPlayback(p, "done", true)
		return
	}
	s.startItem(p)
}

func (s *Server) emitPlayback(p *playback, typ string) {
	ev := event{Type: typ, Playback: p.model()}
	if p.br != nil {
		s.emitBridge(p.br, ev)
	} else {
		s.emitChannel(p.ch, ev)
	}
}

// mediaLength is how long one media item plays; 0 means until stopped (tones).
func (s *Server) mediaLength(uri string) time.Duration {
	if s.opts.MediaLength != nil {
		if d := s.opts.MediaLength(uri); d > 0 {
			return d
		}
	}
	if strings.HasPrefix(uri, "tone:") {
		return 0
	}
	return s.opts.PlaybackLength
}

// soundExists reports whether Asterisk finds the file of sound:name in
// language lang: Options.SoundExists, else Options.SoundFiles (looked up as
// Asterisk does, "lang/name" then "name", any extension), else yes.
func (s *Server) soundExists(name, lang string) bool {
	if s.opts.SoundExists != nil {
		return s.opts.SoundExists(name, lang)
	}
	if len(s.opts.SoundFiles) == 0 {
		return true
	}
	for _, f := range s.opts.SoundFiles {
		f = strings.TrimSuffix(f, path.Ext(f))
		if f == lang+"/"+name || f == name {
			return true
		}
	}
	return false
}

// startItem plays p's current item (play_on_channel). Callers hold s.mu.
func (s *Server) startItem(p *playback) {
	p.state = "playing"
	s.emitPlayback(p, "PlaybackStarted")
	uri := p.media[p.idx]
	_, rest, _ := strings.Cut(uri, ":")
	switch {
	case strings.HasPrefix(uri, "sound:"):
		p.controllable = true
		if rest == "" || !s.soundExists(rest, p.lang) {
			s.itemEnded(p, false)
			return
		}
	case strings.HasPrefix(uri, "recording:"):
		if s.stored[rest] == nil {
			s.skipItem(p)
			return
		}
		p.controllable = true
	case strings.HasPrefix(uri, "number:"):
		if _, ok := scanInt(rest); !ok {
			s.skipItem(p)
			return
		}
	case strings.HasPrefix(uri, "digits:"), strings.HasPrefix(uri, "characters:"):
	case strings.HasPrefix(uri, "tone:"):
		p.controllable = true
	default:
		s.skipItem(p)
		return
	}
	for _, ch := range p.listeners() {
		ch.hear("playback", uri)
	}
	d := s.mediaLength(uri)
	if d == 0 {
		return // a tone plays until stopped
	}
	tok := p.token
	s.after(d, func() {
		if p.token == tok {
			s.itemEnded(p, true)
		}
	})
}

// itemEnded moves p past an item that played (ok) or failed: on to the next
// item with PlaybackContinuing, or PlaybackFinished after the last one.
// Callers hold s.mu.
func (s *Server) itemEnded(p *playback, ok bool) {
	p.token++
	if p.idx == len(p.media)-1 {
		state := "done"
		if !ok {
			state = "failed"
		}
		if ok {
			for _, ch := range p.listeners() {
				ch.hear("playback-end", p.media[p.idx])
			}
		}
		s.endPlayback(p, state, true)
		return
	}
	p.state = "continuing"
	s.emitPlayback(p, "PlaybackContinuing")
	p.idx++
	s.startItem(p)
}

// skipItem passes over an item Asterisk cannot start: no event of its own
// beyond PlaybackStarted, and none at all at the end of the list.
// Callers hold s.mu.
func (s *Server) skipItem(p *playback) {
	p.token++
	if p.idx == len(p.media)-1 {
		s.endPlayback(p, "", true)
		return
	}
	p.idx++
	s.startItem(p)
}

// endPlayback ends p with PlaybackFinished in state (no event when state is
// ""), forgets it and, if startNext, starts the next playback queued on its
// target. Callers hold s.mu.
func (s *Server) endPlayback(p *playback, state string, startNext bool) {
	p.token++
	if state != "" {
		p.state = state
		s.emitPlayback(p, "PlaybackFinished")
	} else {
		p.state = "done"
	}
	ps := s.plays[p.id]
	for i, x := range ps {
		if x == p {
			ps = append(ps[:i:i], ps[i+1:]...)
			break
		}
	}
	if len(ps) == 0 {
		delete(s.plays, p.id)
	} else {
		s.plays[p.id] = ps
	}
	q := p.queue()
	head := len(*q) > 0 && (*q)[0] == p
	for i, x := range *q {
		if x == p {
			*q = append((*q)[:i:i], (*q)[i+1:]...)
			break
		}
	}
	if startNext && head && len(*q) > 0 {
		s.beginPlayback((*q)[0])
	}
	if startNext && p.ch != nil && len(p.ch.plays) == 0 && p.ch.pendingContinue != nil && !p.ch.gone {
		s.leaveStasis(p.ch, *p.ch.pendingContinue)
	}
	s.notify()
}

// hangupPlaybacks ends every playback of a queue as a hangup does: the
// playing one fails where it is, each queued one gets PlaybackStarted and
// PlaybackFinished "failed" (a stopped one: only PlaybackFinished "done").
// Callers hold s.mu.
func (s *Server) hangupPlaybacks(queue *[]*playback) {
	for len(*queue) > 0 {
		p := (*queue)[0]
		switch {
		case p.canceled:
			s.endPlayback(p, "done", false)
		case p.state == "queued":
			p.state = "playing"
			s.emitPlayback(p, "PlaybackStarted")
			s.endPlayback(p, "failed", false)
		default:
			s.endPlayback(p, "failed", false)
		}
	}
}

func (s *Server) getPlayback(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.findPlayback(q.r.PathValue("playbackId"))
	if p == nil {
		q.fail(http.StatusNotFound, "Playback not found")
		return
	}
	q.ok(http.StatusOK, p.model())
}

func (s *Server) stopPlayback(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.findPlayback(q.r.PathValue("playbackId"))
	if p == nil {
		q.fail(http.StatusNotFound, "Playback not found")
		return
	}
	switch {
	case p.canceled:
	case p.state == "queued":
		p.canceled = true
	case !p.controllable:
		q.fail(http.StatusInternalServerError, "Could not stop playback")
	default:
		// Stopped playbacks finish with state "done" (ARI has no "stopped" state).
		s.endPlayback(p, "done", true)
	}
}
