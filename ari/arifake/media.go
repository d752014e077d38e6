package arifake

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/http"
	"strings"
	"time"
)

var recordFormats = map[string]bool{"wav": true, "gsm": true, "ulaw": true, "alaw": true, "sln": true, "g722": true, "wav16": true, "ogg": true}

// --- recordings ---

// recordChannel serves POST /channels/{id}/record with Asterisk's checks in
// its order (res/ari/resource_channels.c ast_ari_channels_record).
func (s *Server) recordChannel(q *req) {
	if q.intParam("maxDurationSeconds") < 0 {
		q.fail(http.StatusBadRequest, "max_duration_seconds cannot be negative")
		return
	}
	if q.intParam("maxSilenceSeconds") < 0 {
		q.fail(http.StatusBadRequest, "max_silence_seconds cannot be negative")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.stasisChannelFor(q)
	if ch == nil {
		return
	}
	r := s.newRecording(q, "")
	if r == nil {
		return
	}
	if ch.bridge != nil && len(ch.bridge.channels) > 1 {
		// Not verified against Asterisk, which has no such check; the fake
		// cannot record a bridged channel's side alone.
		q.fail(http.StatusConflict, "Channel is currently bridged")
		return
	}
	r.ch = ch
	ch.recording = r
	ch.hear("recording", r.name)
	s.startRecording(q, r)
}

// recordBridge serves POST /bridges/{id}/record (ast_ari_bridges_record).
func (s *Server) recordBridge(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bridgeFor(q)
	if b == nil {
		return
	}
	if r := s.newRecording(q, q.param("recorder_format")); r != nil {
		r.br = b
		s.startRecording(q, r)
	}
}

// newRecording checks a record request after its target (format, then
// terminateOn and ifExists, then stasis_app_control_record's own checks).
// Callers hold s.mu.
func (s *Server) newRecording(q *req, recorderFormat string) *recording {
	name, format := q.param("name"), q.param("format")
	bridge := q.rt.path == "/bridges/{bridgeId}/record"
	formatFirst := func() bool {
		if !recordFormats[format] {
			q.fail(http.StatusUnprocessableEntity, "specified format is unknown on this system")
			return false
		}
		if recorderFormat != "" && !announcerFormats[recorderFormat] {
			q.fail(http.StatusUnprocessableEntity, "specified recorder_format is unknown on this system")
			return false
		}
		return true
	}
	if bridge && !formatFirst() {
		return nil
	}
	term := strings.ToLower(q.param("terminateOn"))
	switch term {
	case "":
		term = "none"
	case "none", "any", "*", "#":
	default:
		q.fail(http.StatusBadRequest, "terminateOn invalid")
		return nil
	}
	ifExists := strings.ToLower(q.param("ifExists"))
	switch ifExists {
	case "":
		ifExists = "fail"
	case "fail", "overwrite", "append":
	default:
		q.fail(http.StatusBadRequest, "ifExists invalid")
		return nil
	}
	if !bridge && !formatFirst() {
		return nil
	}
	switch {
	case name == "" || q.intParam("maxDurationSeconds") < 0 || q.intParam("maxSilenceSeconds") < 0:
		q.fail(http.StatusInternalServerError, "Error parsing request")
		return nil
	case s.stored[name] != nil && ifExists == "fail", s.liveRecs[name] != nil:
		q.fail(http.StatusConflict, fmt.Sprintf("Recording '%s' already exists and can not be overwritten", name))
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
	maxDur := q.intParam("maxDurationSeconds")
	s.liveRecs[r.name] = r
	s.stored[r.name] = &storedRec{format: r.format} // the file exists while recording
	q.ok(http.StatusCreated, s.recModel(r, false))
	delay := time.Duration(0)
	if q.boolParam("beep") {
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
	r := s.liveRecs[q.r.PathValue("recordingName")]
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
	r := s.liveRecs[q.r.PathValue("recordingName")]
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
	name := q.r.PathValue("recordingName")
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
	name := q.r.PathValue("recordingName")
	if s.stored[name] == nil {
		q.fail(http.StatusNotFound, "Recording not found")
		return
	}
	delete(s.stored, name)
}

// getStoredFile answers the recording's file (recfile.go).
func (s *Server) getStoredFile(q *req) {
	s.mu.Lock()
	var file storedRec
	st := s.stored[q.r.PathValue("recordingName")]
	if st != nil {
		file = *st
	}
	s.mu.Unlock()
	if st == nil {
		q.fail(http.StatusNotFound, "Recording not found")
		return
	}
	storedFile(q, &file)
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
