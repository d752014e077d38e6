package aritest

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"strings"
	"time"
)

var mediaSchemes = map[string]bool{"sound": true, "recording": true, "number": true, "digits": true, "characters": true, "tone": true}

var recordFormats = map[string]bool{"wav": true, "gsm": true, "ulaw": true, "alaw": true, "sln": true, "g722": true, "wav16": true, "ogg": true}

func mediaList(q *req) []string {
	var out []string
	for _, v := range q.params["media"] {
		for _, m := range strings.Split(v, ",") {
			if m = strings.TrimSpace(m); m != "" {
				out = append(out, m)
			}
		}
	}
	return out
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

func (s *Server) newPlayback(q *req) *playback {
	media := mediaList(q)
	if len(media) == 0 {
		q.fail(http.StatusBadRequest, "Missing parameter media")
		return nil
	}
	id := q.r.PathValue("playbackId")
	if id == "" {
		id = q.param("playbackId")
	}
	if id == "" {
		id = newUUID()
	}
	if s.plays[id] != nil {
		q.fail(http.StatusConflict, "Playback with the same ID already exists")
		return nil
	}
	lang := q.param("lang")
	if lang == "" {
		lang = "en"
	}
	return &playback{id: id, media: media, lang: lang, state: "queued"}
}

func (s *Server) playChannel(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.stasisChannelFor(q)
	if ch == nil {
		return
	}
	p := s.newPlayback(q)
	if p == nil {
		return
	}
	p.ch = ch
	resp := p.model()
	s.plays[p.id] = p
	ch.plays = append(ch.plays, p)
	if len(ch.plays) == 1 {
		s.startPlayback(p)
	}
	q.ok(http.StatusCreated, resp)
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
	resp := p.model()
	s.plays[p.id] = p
	b.plays = append(b.plays, p)
	if len(b.plays) == 1 {
		s.startPlayback(p)
	}
	q.ok(http.StatusCreated, resp)
}

func (s *Server) emitPlayback(p *playback, typ string) {
	ev := event{Type: typ, Playback: p.model()}
	if p.br != nil {
		s.emitBridge(p.br, ev)
	} else {
		s.emitChannel(p.ch, ev)
	}
}

func (s *Server) playbackListeners(p *playback) []*channel {
	if p.br != nil {
		return p.br.channels
	}
	return []*channel{p.ch}
}

// startPlayback starts the head of a playback queue. Callers hold s.mu.
func (s *Server) startPlayback(p *playback) {
	p.state = "playing"
	s.emitPlayback(p, "PlaybackStarted")
	s.playItem(p)
}

func (s *Server) playItem(p *playback) {
	uri := p.media[p.idx]
	scheme, rest, _ := strings.Cut(uri, ":")
	ok := mediaSchemes[scheme] && rest != ""
	if scheme == "recording" {
		ok = s.stored[rest] != nil
	}
	if !ok {
		s.finishPlayback(p, "failed", true)
		return
	}
	for _, ch := range s.playbackListeners(p) {
		ch.hear("playback", uri)
	}
	d := s.mediaLength(uri)
	if d == 0 {
		return // a tone plays until stopped
	}
	tok := p.token
	s.after(d, func() {
		if p.token != tok || p.state == "done" || p.state == "failed" {
			return
		}
		if p.idx+1 < len(p.media) {
			p.idx++
			p.state = "continuing"
			s.emitPlayback(p, "PlaybackContinuing")
			p.state = "playing"
			s.playItem(p)
			return
		}
		s.finishPlayback(p, "done", true)
	})
}

// finishPlayback ends p (stopped, finished or failed) with PlaybackFinished and,
// if startNext, starts the next playback queued on the same target.
func (s *Server) finishPlayback(p *playback, state string, startNext bool) {
	wasPlaying := p.state == "playing" || p.state == "continuing"
	p.token++
	p.state = state
	delete(s.plays, p.id)
	var queue *[]*playback
	if p.br != nil {
		queue = &p.br.plays
	} else {
		queue = &p.ch.plays
	}
	head := len(*queue) > 0 && (*queue)[0] == p
	for i, x := range *queue {
		if x == p {
			*queue = append((*queue)[:i], (*queue)[i+1:]...)
			break
		}
	}
	s.emitPlayback(p, "PlaybackFinished")
	if wasPlaying && state == "done" {
		for _, ch := range s.playbackListeners(p) {
			ch.hear("playback-end", p.media[p.idx])
		}
	}
	if startNext && head && len(*queue) > 0 {
		s.startPlayback((*queue)[0])
	}
	s.notify()
}

func (s *Server) getPlayback(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.plays[q.r.PathValue("id")]
	if p == nil {
		q.fail(http.StatusNotFound, "Playback not found")
		return
	}
	q.ok(http.StatusOK, p.model())
}

func (s *Server) stopPlayback(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.plays[q.r.PathValue("id")]
	if p == nil {
		q.fail(http.StatusNotFound, "Playback not found")
		return
	}
	// Stopped playbacks finish with state "done" (ARI has no "stopped" state).
	s.finishPlayback(p, "done", true)
}

// --- recordings ---

func (s *Server) recordChannel(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.stasisChannelFor(q)
	if ch == nil {
		return
	}
	if ch.bridge != nil && len(ch.bridge.channels) > 1 {
		q.fail(http.StatusConflict, "Channel is currently bridged")
		return
	}
	if r := s.newRecording(q); r != nil {
		r.ch = ch
		ch.recording = r
		ch.hear("recording", r.name)
		s.startRecording(q, r)
	}
}

func (s *Server) recordBridge(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bridgeFor(q)
	if b == nil {
		return
	}
	if r := s.newRecording(q); r != nil {
		r.br = b
		s.startRecording(q, r)
	}
}

// newRecording validates a record request. Callers hold s.mu.
func (s *Server) newRecording(q *req) *recording {
	name, format := q.param("name"), q.param("format")
	if name == "" || format == "" {
		q.fail(http.StatusBadRequest, "Recording name and format are required")
		return nil
	}
	ifExists := q.param("ifExists")
	if ifExists == "" {
		ifExists = "fail"
	}
	term := q.param("terminateOn")
	if term == "" {
		term = "none"
	}
	switch {
	case ifExists != "fail" && ifExists != "overwrite" && ifExists != "append":
		q.fail(http.StatusBadRequest, "ifExists invalid")
		return nil
	case term != "none" && term != "any" && term != "*" && term != "#":
		q.fail(http.StatusBadRequest, "terminateOn invalid")
		return nil
	case !recordFormats[format]:
		q.fail(http.StatusUnprocessableEntity, "Unknown format")
		return nil
	case s.liveRecs[name] != nil:
		q.fail(http.StatusConflict, "Recording with the same name is in progress")
		return nil
	case s.stored[name] != nil && ifExists == "fail":
		q.fail(http.StatusConflict, "Recording with the same name already exists")
		return nil
	}
	return &recording{name: name, format: format, state: "queued", terminateOn: term}
}

func (s *Server) recModel(r *recording, withDuration bool) *LiveRecording {
	m := &LiveRecording{Name: r.name, Format: r.format, TargetURI: r.targetURI(), State: r.state}
	if withDuration {
		d := 0
		if !r.started.IsZero() {
			d = int(time.Since(r.started) / s.opts.Second)
		}
		m.Duration = &d
	}
	return m
}

func (s *Server) emitRecording(r *recording, typ string, withDuration bool) {
	ev := event{Type: typ, Recording: s.recModel(r, withDuration)}
	if r.br != nil {
		s.emitBridge(r.br, ev)
	} else {
		s.emitChannel(r.ch, ev)
	}
}

func (s *Server) startRecording(q *req, r *recording) {
	maxDur, _ := q.intParam("maxDurationSeconds", 0)
	s.liveRecs[r.name] = r
	s.stored[r.name] = &storedRec{format: r.format} // the file exists while recording
	q.ok(http.StatusCreated, s.recModel(r, false))
	delay := time.Duration(0)
	if q.param("beep") == "true" {
		delay = s.opts.BeepLength
	}
	tok := r.token
	s.after(delay, func() {
		if r.token != tok || r.state != "queued" {
			return
		}
		r.state = "recording"
		r.started = time.Now()
		s.emitRecording(r, "RecordingStarted", false)
		if maxDur > 0 {
			s.after(s.seconds(maxDur), func() {
				if r.token == tok && r.state == "recording" {
					s.finishRecording(r, "done")
				}
			})
		}
	})
}

// finishRecording ends a live recording with RecordingFinished. Callers hold s.mu.
func (s *Server) finishRecording(r *recording, state string) {
	r.token++
	if r.started.IsZero() {
		r.started = time.Now()
	}
	r.state = state
	s.emitRecording(r, "RecordingFinished", true)
	delete(s.liveRecs, r.name)
	if r.ch != nil && r.ch.recording == r {
		r.ch.recording = nil
	}
	if state == "canceled" {
		delete(s.stored, r.name)
	} else if st := s.stored[r.name]; st != nil {
		st.duration = time.Since(r.started) / s.opts.Second * time.Second
	}
	s.notify()
}

func (s *Server) getLive(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.liveRecs[q.r.PathValue("name")]
	if r == nil {
		q.fail(http.StatusNotFound, "Recording not found")
		return
	}
	q.ok(http.StatusOK, s.recModel(r, false))
}

func (s *Server) stopLive(q *req)   { s.endLive(q, "done") }
func (s *Server) cancelLive(q *req) { s.endLive(q, "canceled") }

func (s *Server) endLive(q *req, state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.liveRecs[q.r.PathValue("name")]
	if r == nil {
		q.fail(http.StatusNotFound, "Recording not found")
		return
	}
	s.finishRecording(r, state)
}

func (s *Server) listStored(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []StoredRecording{}
	for _, n := range sortedKeys(s.stored) {
		out = append(out, StoredRecording{Name: n, Format: s.stored[n].format})
	}
	q.ok(http.StatusOK, out)
}

func (s *Server) getStored(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := q.r.PathValue("name")
	st := s.stored[name]
	if st == nil {
		q.fail(http.StatusNotFound, "Recording not found")
		return
	}
	q.ok(http.StatusOK, StoredRecording{Name: name, Format: st.format})
}

func (s *Server) deleteStored(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := q.r.PathValue("name")
	if s.stored[name] == nil {
		q.fail(http.StatusNotFound, "Recording not found")
		return
	}
	delete(s.stored, name)
}

// getStoredFile answers a WAV file of silence as long as the recording.
func (s *Server) getStoredFile(q *req) {
	s.mu.Lock()
	st := s.stored[q.r.PathValue("name")]
	var d time.Duration
	if st != nil {
		d = st.duration
	}
	s.mu.Unlock()
	if st == nil {
		q.fail(http.StatusNotFound, "Recording not found")
		return
	}
	q.ok(http.StatusOK, rawBody{contentType: "audio/wav", data: silenceWAV(d)})
}

// rawBody is a non-JSON response body.
type rawBody struct {
	contentType string
	data        []byte
}

// silenceWAV is a valid 8 kHz 16-bit mono WAV file of silence.
func silenceWAV(d time.Duration) []byte {
	n := int(d.Seconds() * 8000 * 2)
	var b bytes.Buffer
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	w(uint32(36 + n))
	b.WriteString("WAVEfmt ")
	w(uint32(16))
	w(uint16(1))
	w(uint16(1))
	w(uint32(8000))
	w(uint32(16000))
	w(uint16(2))
	w(uint16(16))
	b.WriteString("data")
	w(uint32(n))
	b.Write(make([]byte, n))
	return b.Bytes()
}
