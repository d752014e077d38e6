package arifake

import (
	"net/http"
	"path"
	"slices"
	"strings"
)

// What a set-up check (hotline doctor) reads from Asterisk: single endpoints
// (GET /endpoints/{tech}/{resource}) and the sounds index (GET /sounds,
// GET /sounds/{soundId}), with Asterisk 22's answers and 404 bodies.

// getEndpoint serves GET /endpoints/{tech}/{resource}. The PJSIP endpoints
// that exist are those GET /endpoints lists (the inbound trunk, KnownTrunks
// and trunks given a state); when KnownTrunks is empty every PJSIP endpoint
// exists, as dialling any of them works then. A trunk set to
// TrunkUnavailable is offline, any other online. Unknown endpoints answer
// 404 {"message": "Endpoint not found"}, as Asterisk does.
func (s *Server) getEndpoint(q *req) {
	tech, res := q.r.PathValue("tech"), q.r.PathValue("resource")
	s.mu.Lock()
	defer s.mu.Unlock()
	if !strings.EqualFold(tech, "PJSIP") || !s.endpointExists(res) {
		q.fail(http.StatusNotFound, "Endpoint not found")
		return
	}
	st := "online"
	if s.trunks[res] == TrunkUnavailable {
		st = "offline"
	}
	ids := []string{}
	for _, ch := range s.channelsSorted() {
		if ch.tech == "PJSIP" && ch.target.Trunk == res {
			ids = append(ids, ch.id)
		}
	}
	q.ok(http.StatusOK, Endpoint{Technology: "PJSIP", Resource: res, State: st, ChannelIDs: ids})
}

// endpointExists reports whether a PJSIP endpoint is configured. s.mu held.
func (s *Server) endpointExists(name string) bool {
	if name == s.opts.InboundTrunk || len(s.opts.KnownTrunks) == 0 || slices.Contains(s.opts.KnownTrunks, name) {
		return true
	}
	_, ok := s.trunks[name]
	return ok
}

// Sound is ARI's Sound model.
type Sound struct {
	ID      string       `json:"id"`
	Formats []FormatLang `json:"formats"`
}

// FormatLang is ARI's FormatLangPair model.
type FormatLang struct {
	Language string `json:"language"`
	Format   string `json:"format"`
}

// soundIndex indexes Options.SoundFiles the way Asterisk indexes its sounds
// folder: the first directory is the language, the rest of the path without
// the extension is the id, the extension gives the format ("vi/greeting.wav"
// is the sound "greeting" in language "vi", format "slin"). Files outside a
// language directory or without an extension are not indexed.
func (s *Server) soundIndex() map[string][]FormatLang {
	idx := map[string][]FormatLang{}
	for _, f := range s.opts.SoundFiles {
		lang, rest, ok := strings.Cut(path.Clean(f), "/")
		ext := path.Ext(rest)
		if !ok || lang == "" || ext == "" || rest == ext {
			continue
		}
		id := strings.TrimSuffix(rest, ext)
		fl := FormatLang{Language: lang, Format: formatOfExt(ext[1:])}
		if !slices.Contains(idx[id], fl) {
			idx[id] = append(idx[id], fl)
		}
	}
	return idx
}

// formatOfExt names the Asterisk format of a sound file extension, as
// Asterisk 22 reports it: an 8 kHz .wav is "slin" (seen on a real
// Asterisk), .WAV is GSM in a WAV container.
func formatOfExt(ext string) string {
	switch ext {
	case "wav", "sln", "raw":
		return "slin"
	case "wav16", "sln16":
		return "slin16"
	case "ulaw", "pcm", "mu":
		return "ulaw"
	case "alaw", "al":
		return "alaw"
	case "WAV", "wav49":
		return "wav49"
	}
	return ext
}

// getSound serves GET /sounds/{soundId}: 404 {"message": "Sound not found"}
// when the sound exists in no language.
func (s *Server) getSound(q *req) {
	id := q.r.PathValue("soundId")
	f := s.soundIndex()[id]
	if len(f) == 0 {
		q.fail(http.StatusNotFound, "Sound not found")
		return
	}
	q.ok(http.StatusOK, Sound{ID: id, Formats: f})
}

// listSounds serves GET /sounds, filtered by the lang and format
// parameters as Asterisk does (a sound without a matching format is left
// out).
func (s *Server) listSounds(q *req) {
	lang, format := q.param("lang"), q.param("format")
	idx := s.soundIndex()
	out := []Sound{}
	for _, id := range sortedKeys(idx) {
		var fs []FormatLang
		for _, f := range idx[id] {
			if (lang == "" || f.Language == lang) && (format == "" || f.Format == format) {
				fs = append(fs, f)
			}
		}
		if len(fs) > 0 {
			out = append(out, Sound{ID: id, Formats: fs})
		}
	}
	q.ok(http.StatusOK, out)
}
