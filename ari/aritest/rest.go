package aritest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Handler returns the HTTP handler serving /ari/… (REST and /ari/events).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	h := func(pattern string, fn func(*req)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { s.serveREST(w, r, fn) })
	}
	mux.HandleFunc("GET /ari/events", func(w http.ResponseWriter, r *http.Request) {
		if !s.authorised(r) {
			unauthorised(w)
			return
		}
		s.handleEvents(w, r)
	})
	// channels
	h("GET /ari/channels", s.listChannels)
	h("POST /ari/channels", s.originate)
	h("POST /ari/channels/create", s.createChannel)
	h("GET /ari/channels/{id}", s.getChannel)
	h("POST /ari/channels/{id}", s.originate)
	h("DELETE /ari/channels/{id}", s.hangupChannel)
	h("POST /ari/channels/{id}/answer", s.answerChannel)
	h("POST /ari/channels/{id}/ring", s.ringChannel(true))
	h("DELETE /ari/channels/{id}/ring", s.ringChannel(false))
	h("POST /ari/channels/{id}/moh", s.mohChannel(true))
	h("DELETE /ari/channels/{id}/moh", s.mohChannel(false))
	h("POST /ari/channels/{id}/silence", s.silenceChannel(true))
	h("DELETE /ari/channels/{id}/silence", s.silenceChannel(false))
	h("POST /ari/channels/{id}/hold", s.noopChannel)
	h("DELETE /ari/channels/{id}/hold", s.noopChannel)
	h("POST /ari/channels/{id}/mute", s.noopChannel)
	h("DELETE /ari/channels/{id}/mute", s.noopChannel)
	h("POST /ari/channels/{id}/progress", s.noopChannel)
	h("POST /ari/channels/{id}/play", s.playChannel)
	h("POST /ari/channels/{id}/play/{playbackId}", s.playChannel)
	h("POST /ari/channels/{id}/dtmf", s.sendDTMF)
	h("POST /ari/channels/{id}/dial", s.dialChannel)
	h("POST /ari/channels/{id}/continue", s.continueChannel)
	h("GET /ari/channels/{id}/variable", s.getChannelVar)
	h("POST /ari/channels/{id}/variable", s.setChannelVar)
	h("POST /ari/channels/{id}/record", s.recordChannel)
	h("POST /ari/channels/{id}/snoop", s.snoopChannel)
	h("POST /ari/channels/{id}/snoop/{snoopId}", s.snoopChannel)
	// bridges
	h("GET /ari/bridges", s.listBridges)
	h("POST /ari/bridges", s.createBridge)
	h("GET /ari/bridges/{id}", s.getBridge)
	h("POST /ari/bridges/{id}", s.createBridge)
	h("DELETE /ari/bridges/{id}", s.destroyBridge)
	h("POST /ari/bridges/{id}/addChannel", s.addToBridge)
	h("POST /ari/bridges/{id}/removeChannel", s.removeFromBridge)
	h("POST /ari/bridges/{id}/play", s.playBridge)
	h("POST /ari/bridges/{id}/play/{playbackId}", s.playBridge)
	h("POST /ari/bridges/{id}/moh", s.mohBridge(true))
	h("DELETE /ari/bridges/{id}/moh", s.mohBridge(false))
	h("POST /ari/bridges/{id}/record", s.recordBridge)
	// playbacks, recordings
	h("GET /ari/playbacks/{id}", s.getPlayback)
	h("DELETE /ari/playbacks/{id}", s.stopPlayback)
	h("GET /ari/recordings/stored", s.listStored)
	h("GET /ari/recordings/stored/{name}", s.getStored)
	h("DELETE /ari/recordings/stored/{name}", s.deleteStored)
	h("GET /ari/recordings/stored/{name}/file", s.getStoredFile)
	h("GET /ari/recordings/live/{name}", s.getLive)
	h("POST /ari/recordings/live/{name}/stop", s.stopLive)
	h("DELETE /ari/recordings/live/{name}", s.cancelLive)
	// applications, asterisk, endpoints
	h("GET /ari/applications", s.listApps)
	h("GET /ari/applications/{name}", s.getApp)
	h("GET /ari/asterisk/info", s.info)
	h("GET /ari/asterisk/ping", s.ping)
	h("GET /ari/asterisk/variable", s.getGlobal)
	h("POST /ari/asterisk/variable", s.setGlobal)
	h("GET /ari/endpoints", s.listEndpoints)
	h("/", func(r *req) { r.fail(http.StatusNotFound, "Resource not found") })
	return mux
}

// req is one REST request being served: parameters merged from the query and
// a JSON body, plus the response to write.
type req struct {
	r      *http.Request
	params url.Values
	vars   map[string]string // "variables" from the JSON body
	status int
	body   any
}

func (q *req) param(name string) string { return q.params.Get(name) }

func (q *req) intParam(name string, def int) (int, bool) {
	v := q.params.Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

func (q *req) fail(status int, msg string) {
	q.status = status
	q.body = map[string]string{"message": msg}
}

func (q *req) ok(status int, body any) {
	q.status = status
	q.body = body
}

func (s *Server) serveREST(w http.ResponseWriter, r *http.Request, fn func(*req)) {
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	q := &req{r: r, params: r.URL.Query(), status: http.StatusNoContent}
	if !s.authorised(r) {
		unauthorised(w)
		s.logRequest(r, raw, http.StatusUnauthorized)
		return
	}
	if s.injectFault(w, r, raw) { // scripted faults (faults.go)
		return
	}
	if len(bytes.TrimSpace(raw)) > 0 {
		var obj map[string]any
		if err := json.Unmarshal(raw, &obj); err != nil {
			writeErr(w, http.StatusBadRequest, "Invalid JSON body")
			s.logRequest(r, raw, http.StatusBadRequest)
			return
		}
		for k, v := range obj {
			if k == "variables" {
				if m, ok := v.(map[string]any); ok {
					q.vars = map[string]string{}
					for vk, vv := range m {
						q.vars[vk] = fmt.Sprint(vv)
					}
				}
				continue
			}
			if q.params.Get(k) == "" {
				q.params.Set(k, fmt.Sprint(v))
			}
		}
	}
	fn(q)
	if rb, ok := q.body.(rawBody); ok {
		w.Header().Set("Content-Type", rb.contentType)
		w.WriteHeader(q.status)
		_, _ = w.Write(rb.data)
	} else if q.status == http.StatusNoContent || q.body == nil {
		w.WriteHeader(q.status)
	} else {
		writeJSON(w, q.status, q.body)
	}
	s.logRequest(r, raw, q.status)
}

func (s *Server) logRequest(r *http.Request, body []byte, status int) {
	s.mu.Lock()
	s.requests = trimHistory(append(s.requests, Request{
		At: time.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: string(body), Status: status,
	}), s.opts.HistoryLimit)
	s.notify()
	s.mu.Unlock()
}

func (s *Server) authorised(r *http.Request) bool {
	if key := r.URL.Query().Get("api_key"); key != "" {
		u, p, _ := strings.Cut(key, ":")
		return u == s.opts.User && p == s.opts.Password
	}
	if u, p, ok := r.BasicAuth(); ok {
		return u == s.opts.User && p == s.opts.Password
	}
	return false
}

func unauthorised(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Basic realm="Asterisk REST Interface"`)
	writeErr(w, http.StatusUnauthorized, "Authentication required")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"message":"Internal Server Error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeErr(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}

// --- applications, asterisk, endpoints ---

func (s *Server) listApps(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Application{}
	for _, n := range sortedKeys(s.apps) {
		out = append(out, s.appModel(s.apps[n]))
	}
	q.ok(http.StatusOK, out)
}

func (s *Server) getApp(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[q.r.PathValue("name")]
	if a == nil {
		q.fail(http.StatusNotFound, "Application not found")
		return
	}
	q.ok(http.StatusOK, s.appModel(a))
}

func (s *Server) info(q *req) {
	t := s.ts(s.started)
	all := map[string]any{
		"build": map[string]any{"os": "Linux", "kernel": "aritest", "machine": "x86_64", "options": "OPTIONAL_API",
			"date": s.started.UTC().Format("2006-01-02 15:04:05 UTC"), "user": "aritest"},
		"system": map[string]any{"version": "22.10.1", "entity_id": s.opts.AsteriskID},
		"config": map[string]any{"name": "", "default_language": "en", "max_channels": 2000,
			"setid": map[string]any{"user": "", "group": ""}},
		"status": map[string]any{"startup_time": t, "last_reload_time": t},
	}
	if only := q.param("only"); only != "" {
		sub := map[string]any{}
		for _, k := range strings.Split(only, ",") {
			if v, ok := all[k]; ok {
				sub[k] = v
			}
		}
		all = sub
	}
	q.ok(http.StatusOK, all)
}

func (s *Server) ping(q *req) {
	q.ok(http.StatusOK, map[string]string{"ping": "pong", "timestamp": s.now(), "asterisk_id": s.opts.AsteriskID})
}

func (s *Server) getGlobal(q *req) {
	name := q.param("variable")
	if name == "" {
		q.fail(http.StatusBadRequest, "Variable name is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q.ok(http.StatusOK, map[string]string{"value": s.globals[name]})
}

func (s *Server) setGlobal(q *req) {
	name := q.param("variable")
	if name == "" {
		q.fail(http.StatusBadRequest, "Variable name is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.globals[name] = q.param("value")
}

func (s *Server) listEndpoints(q *req) {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := map[string]bool{s.opts.InboundTrunk: true}
	for _, t := range s.opts.KnownTrunks {
		names[t] = true
	}
	for t := range s.trunks {
		names[t] = true
	}
	out := []Endpoint{}
	for _, n := range sortedKeys(names) {
		st := "online"
		if s.trunks[n] == TrunkUnavailable {
			st = "offline"
		}
		ids := []string{}
		for _, ch := range s.channelsSorted() {
			if ch.tech == "PJSIP" && ch.target.Trunk == n {
				ids = append(ids, ch.id)
			}
		}
		out = append(out, Endpoint{Technology: "PJSIP", Resource: n, State: st, ChannelIDs: ids})
	}
	q.ok(http.StatusOK, out)
}
