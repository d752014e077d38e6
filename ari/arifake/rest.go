package arifake

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// route is one ARI operation of api-docs (ari/testdata/api-docs): its method,
// its path as api-docs writes it, the query (and body) parameters the fake
// reads, declared with api-docs' names and types, and the handler. A nil
// handler means the fake does not model the operation: it answers 501
// {"message": "Method not implemented"} (routing stays Asterisk's, so
// /channels/externalMedia is never taken for a channel id).
type route struct {
	method string
	path   string
	params []param
	serve  func(*req)
}

// routeTable lists every operation of Asterisk 22's api-docs; the audit test
// (apidocs_test.go) checks it against api-docs.
func (s *Server) routeTable() []route {
	playParams := params("media:list", "lang", "offsetms:int", "skipms:int")
	originateParams := params("endpoint", "extension", "context", "priority:int", "label", "app", "appArgs",
		"callerId", "timeout:int", "variables:body", "otherChannelId", "originator", "formats")
	recordParams := params("name", "format", "maxDurationSeconds:int", "maxSilenceSeconds:int", "ifExists", "beep:bool", "terminateOn")
	snoopParams := params("spy", "whisper", "app", "appArgs")
	return []route{
		// applications
		{"GET", "/applications", nil, s.listApps},
		{"GET", "/applications/{applicationName}", nil, s.getApp},
		{"POST", "/applications/{applicationName}/subscription", params("eventSource:list"), nil},
		{"DELETE", "/applications/{applicationName}/subscription", params("eventSource:list"), nil},
		{"PUT", "/applications/{applicationName}/eventFilter", params("filter:body"), s.setEventFilter},
		// asterisk
		{"GET", "/asterisk/config/dynamic/{configClass}/{objectType}/{id}", nil, nil},
		{"PUT", "/asterisk/config/dynamic/{configClass}/{objectType}/{id}", params("fields:body"), nil},
		{"DELETE", "/asterisk/config/dynamic/{configClass}/{objectType}/{id}", nil, nil},
		{"GET", "/asterisk/info", params("only:list"), s.info},
		{"GET", "/asterisk/ping", nil, s.ping},
		{"GET", "/asterisk/modules", nil, nil},
		{"GET", "/asterisk/modules/{moduleName}", nil, nil},
		{"POST", "/asterisk/modules/{moduleName}", nil, nil},
		{"DELETE", "/asterisk/modules/{moduleName}", nil, nil},
		{"PUT", "/asterisk/modules/{moduleName}", nil, nil},
		{"GET", "/asterisk/logging", nil, nil},
		{"POST", "/asterisk/logging/{logChannelName}", params("configuration"), nil},
		{"DELETE", "/asterisk/logging/{logChannelName}", nil, nil},
		{"PUT", "/asterisk/logging/{logChannelName}/rotate", nil, nil},
		{"GET", "/asterisk/variable", params("variable"), s.getGlobal},
		{"POST", "/asterisk/variable", params("variable", "value"), s.setGlobal},
		// bridges
		{"GET", "/bridges", nil, s.listBridges},
		{"POST", "/bridges", params("type", "bridgeId", "name", "variables:body"), s.createBridge},
		{"POST", "/bridges/{bridgeId}", params("type", "name", "variables:body"), s.createBridge},
		{"GET", "/bridges/{bridgeId}", nil, s.getBridge},
		{"DELETE", "/bridges/{bridgeId}", nil, s.destroyBridge},
		{"GET", "/bridges/{bridgeId}/variable", params("variable"), nil},
		{"POST", "/bridges/{bridgeId}/variable", params("variable", "value", "report_events:bool"), nil},
		{"GET", "/bridges/{bridgeId}/variables", params("variables:list"), nil},
		{"POST", "/bridges/{bridgeId}/variables", params("variables:body"), nil},
		{"POST", "/bridges/{bridgeId}/addChannel", params("channel:list", "role", "absorbDTMF:bool", "mute:bool", "inhibitConnectedLineUpdates:bool"), s.addToBridge},
		{"POST", "/bridges/{bridgeId}/removeChannel", params("channel:list"), s.removeFromBridge},
		{"POST", "/bridges/{bridgeId}/videoSource/{channelId}", nil, nil},
		{"DELETE", "/bridges/{bridgeId}/videoSource", nil, nil},
		{"POST", "/bridges/{bridgeId}/moh", params("mohClass"), s.mohBridge(true)},
		{"DELETE", "/bridges/{bridgeId}/moh", nil, s.mohBridge(false)},
		{"POST", "/bridges/{bridgeId}/play", append(params("announcer_format", "playbackId"), playParams...), s.playBridge},
		{"POST", "/bridges/{bridgeId}/play/{playbackId}", append(params("announcer_format"), playParams...), s.playBridge},
		{"POST", "/bridges/{bridgeId}/record", append(params("recorder_format"), recordParams...), s.recordBridge},
		// channels
		{"GET", "/channels", nil, s.listChannels},
		{"POST", "/channels", append(params("channelId"), originateParams...), s.originate},
		{"POST", "/channels/create", params("endpoint", "app", "appArgs", "channelId", "otherChannelId", "originator", "formats", "variables:body"), s.createChannel},
		{"GET", "/channels/{channelId}", nil, s.getChannel},
		{"POST", "/channels/{channelId}", originateParams, s.originate},
		{"DELETE", "/channels/{channelId}", params("reason_code", "reason"), s.hangupChannel},
		{"POST", "/channels/{channelId}/continue", params("context", "extension", "priority:int", "label"), s.continueChannel},
		{"POST", "/channels/{channelId}/move", params("app", "appArgs"), nil},
		{"POST", "/channels/{channelId}/redirect", params("endpoint"), nil},
		{"POST", "/channels/{channelId}/answer", nil, s.answerChannel},
		{"POST", "/channels/{channelId}/ring", nil, s.ringChannel(true)},
		{"DELETE", "/channels/{channelId}/ring", nil, s.ringChannel(false)},
		{"POST", "/channels/{channelId}/progress", nil, s.noopChannel},
		{"POST", "/channels/{channelId}/dtmf", params("dtmf", "before:int", "between:int", "duration:int", "after:int"), s.sendDTMF},
		{"POST", "/channels/{channelId}/mute", params("direction"), s.muteChannel},
		{"DELETE", "/channels/{channelId}/mute", params("direction"), s.muteChannel},
		{"POST", "/channels/{channelId}/hold", nil, s.noopChannel},
		{"DELETE", "/channels/{channelId}/hold", nil, s.noopChannel},
		{"POST", "/channels/{channelId}/moh", params("mohClass"), s.mohChannel(true)},
		{"DELETE", "/channels/{channelId}/moh", nil, s.mohChannel(false)},
		{"POST", "/channels/{channelId}/silence", nil, s.silenceChannel(true)},
		{"DELETE", "/channels/{channelId}/silence", nil, s.silenceChannel(false)},
		{"POST", "/channels/{channelId}/play", append(params("playbackId"), playParams...), s.playChannel},
		{"POST", "/channels/{channelId}/play/{playbackId}", playParams, s.playChannel},
		{"POST", "/channels/{channelId}/record", recordParams, s.recordChannel},
		{"GET", "/channels/{channelId}/variable", params("variable"), s.getChannelVar},
		{"POST", "/channels/{channelId}/variable", params("variable", "value", "report_events:bool"), s.setChannelVar},
		{"GET", "/channels/{channelId}/variables", params("variables:list"), nil},
		{"POST", "/channels/{channelId}/variables", params("variables:body"), nil},
		{"POST", "/channels/{channelId}/snoop", append(params("snoopId"), snoopParams...), s.snoopChannel},
		{"POST", "/channels/{channelId}/snoop/{snoopId}", snoopParams, s.snoopChannel},
		{"POST", "/channels/{channelId}/dial", params("caller", "timeout:int"), s.dialChannel},
		{"GET", "/channels/{channelId}/rtp_statistics", nil, nil},
		{"POST", "/channels/externalMedia", params("channelId", "app", "variables:body", "external_host", "encapsulation",
			"transport", "connection_type", "format", "direction", "data", "transport_data"), nil},
		{"POST", "/channels/{channelId}/transfer_progress", params("states"), nil},
		// deviceStates
		{"GET", "/deviceStates", nil, nil},
		{"GET", "/deviceStates/{deviceName}", nil, nil},
		{"PUT", "/deviceStates/{deviceName}", params("deviceState"), nil},
		{"DELETE", "/deviceStates/{deviceName}", nil, nil},
		// endpoints
		{"GET", "/endpoints", nil, s.listEndpoints},
		{"PUT", "/endpoints/sendMessage", params("to", "from", "body", "variables:body"), nil},
		{"POST", "/endpoints/refer", params("to", "from", "refer_to", "to_self:bool", "variables:body"), nil},
		{"GET", "/endpoints/{tech}", nil, nil},
		{"GET", "/endpoints/{tech}/{resource}", nil, s.getEndpoint},
		{"PUT", "/endpoints/{tech}/{resource}/sendMessage", params("from", "body", "variables:body"), nil},
		{"POST", "/endpoints/{tech}/{resource}/refer", params("from", "refer_to", "to_self:bool", "variables:body"), nil},
		// events (GET /events, the WebSocket, is served by Handler itself)
		{"POST", "/events/user/{eventName}", params("application", "source:list", "variables:body"), nil},
		{"POST", "/events/claim", params("channelId", "application"), nil},
		// mailboxes
		{"GET", "/mailboxes", nil, nil},
		{"GET", "/mailboxes/{mailboxName}", nil, nil},
		{"PUT", "/mailboxes/{mailboxName}", params("oldMessages:int", "newMessages:int"), nil},
		{"DELETE", "/mailboxes/{mailboxName}", nil, nil},
		// playbacks
		{"GET", "/playbacks/{playbackId}", nil, s.getPlayback},
		{"DELETE", "/playbacks/{playbackId}", nil, s.stopPlayback},
		{"POST", "/playbacks/{playbackId}/control", params("operation"), nil},
		// recordings
		{"GET", "/recordings/stored", nil, s.listStored},
		{"GET", "/recordings/stored/{recordingName}", nil, s.getStored},
		{"DELETE", "/recordings/stored/{recordingName}", nil, s.deleteStored},
		{"GET", "/recordings/stored/{recordingName}/file", nil, s.getStoredFile},
		{"POST", "/recordings/stored/{recordingName}/copy", params("destinationRecordingName"), nil},
		{"GET", "/recordings/live/{recordingName}", nil, s.getLive},
		{"DELETE", "/recordings/live/{recordingName}", nil, s.cancelLive},
		{"POST", "/recordings/live/{recordingName}/stop", nil, s.stopLive},
		{"POST", "/recordings/live/{recordingName}/pause", nil, nil},
		{"DELETE", "/recordings/live/{recordingName}/pause", nil, nil},
		{"POST", "/recordings/live/{recordingName}/mute", nil, nil},
		{"DELETE", "/recordings/live/{recordingName}/mute", nil, nil},
		// sounds
		{"GET", "/sounds", params("lang", "format"), s.listSounds},
		{"GET", "/sounds/{soundId}", nil, s.getSound},
	}
}

// Handler returns the HTTP handler serving /ari/… (REST and /ari/events).
func (s *Server) Handler() http.Handler {
	tree := newRouteTree(s.routeTable())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ari/events" && r.Method == http.MethodGet {
			if !s.authorised(r, parsePairs(r.URL.RawQuery)) {
				unauthorised(w)
				return
			}
			s.handleEvents(w, r)
			return
		}
		s.serveREST(w, r, tree)
	})
}

// routeNode is one path segment of the route tree.
type routeNode struct {
	segment  string // literal segment, or the variable name of a wildcard
	wildcard bool
	children []*routeNode
	routes   map[string]*route // by method
}

func newRouteTree(table []route) *routeNode {
	root := &routeNode{routes: map[string]*route{}}
	for i := range table {
		rt := &table[i]
		n := root
		for _, seg := range strings.Split(strings.TrimPrefix(rt.path, "/"), "/") {
			wild := strings.HasPrefix(seg, "{")
			name := strings.Trim(seg, "{}")
			var next *routeNode
			for _, c := range n.children {
				if c.segment == name && c.wildcard == wild {
					next = c
				}
			}
			if next == nil {
				next = &routeNode{segment: name, wildcard: wild, routes: map[string]*route{}}
				n.children = append(n.children, next)
			}
			n = next
		}
		n.routes[rt.method] = rt
	}
	return root
}

// resolve walks the tree as ast_ari_invoke does: segment by segment (each
// %-decoded), a literal child before the wildcard, no backtracking, stopping
// at an empty segment. It returns the node and the path variables, or nil.
func (n *routeNode) resolve(path string) (*routeNode, map[string]string) {
	vars := map[string]string{}
	for _, seg := range strings.Split(path, "/") {
		if seg == "" {
			break
		}
		seg = uriDecode(seg)
		var found, wild *routeNode
		for _, c := range n.children {
			if c.wildcard {
				wild = c
			} else if c.segment == seg {
				found = c
			}
		}
		if found == nil && wild != nil {
			found = wild
			vars[wild.segment] = seg
		}
		if found == nil {
			return nil, nil
		}
		n = found
	}
	return n, vars
}

// req is one REST request being served: its parameters read as Asterisk
// reads them (params.go), plus the response to write.
type req struct {
	s      *Server
	r      *http.Request
	rt     *route // nil while routing
	pairs  []pair
	body   map[string]any // the JSON body object, if any
	json   any            // the JSON body (an object or an array), nil when there is none
	status int
	resp   any
}

func (q *req) fail(status int, msg string) {
	q.status = status
	q.resp = map[string]string{"message": msg}
}

func (q *req) ok(status int, body any) {
	q.status = status
	q.resp = body
}

// serveREST answers one request in Asterisk's order: the body is read (a
// broken JSON body is 400 before anything else), then authentication, the
// trailing-slash rule, routing (404 "Resource not found"), the method (405
// "Invalid method"), the list parameters' size, and the operation.
func (s *Server) serveREST(w http.ResponseWriter, r *http.Request, tree *routeNode) {
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if s.injectFault(w, r, raw) { // scripted faults (faults.go)
		return
	}
	q := &req{s: s, r: r, status: http.StatusNoContent}
	defer func() {
		// Logged before the answer is written: once the app has an
		// answer (and may send its next request), this request is in
		// the log, so the log's order is the app's.
		s.logRequest(r, raw, q.status)
		q.write(w)
	}()
	if !q.readParams(raw) {
		return
	}
	if !s.authorised(r, q.pairs) {
		q.status = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", `Basic realm="Asterisk REST Interface"`)
		q.resp = map[string]string{"message": "Authentication required"}
		return
	}
	path, isARI := strings.CutPrefix(r.URL.EscapedPath(), "/ari/")
	if !isARI {
		q.fail(http.StatusNotFound, "Resource not found")
		return
	}
	if strings.HasSuffix(path, "/") {
		q.fail(http.StatusNotFound, "ARI URLs do not end with a slash. Try /ari/"+strings.TrimRight(uriDecode(path), "/"))
		return
	}
	n, vars := tree.resolve(path)
	if n == nil {
		q.fail(http.StatusNotFound, "Resource not found")
		return
	}
	rt := n.routes[r.Method]
	if rt == nil {
		methods := sortedKeys(n.routes)
		w.Header().Set("Allow", strings.Join(methods, ","))
		q.fail(http.StatusMethodNotAllowed, "Invalid method")
		return
	}
	q.rt = rt
	for k, v := range vars {
		r.SetPathValue(k, v)
	}
	if !q.checkLists() {
		return
	}
	if rt.serve == nil {
		q.fail(http.StatusNotImplemented, "Method not implemented")
		return
	}
	rt.serve(q)
}

func (q *req) write(w http.ResponseWriter) {
	if rb, ok := q.resp.(rawBody); ok {
		w.Header().Set("Content-Type", rb.contentType)
		// Asterisk sends every file with its length (ast_http_send).
		w.Header().Set("Content-Length", strconv.Itoa(len(rb.data)))
		w.Header().Set("Cache-Control", "no-cache, no-store")
		w.WriteHeader(q.status)
		_, _ = w.Write(rb.data)
	} else if q.status == http.StatusNoContent || q.resp == nil {
		w.WriteHeader(q.status)
	} else {
		writeJSON(w, q.status, q.resp)
	}
}

func (s *Server) logRequest(r *http.Request, body []byte, status int) {
	req := Request{
		At: time.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: string(body), Status: status,
	}
	s.mu.Lock()
	s.requests = trimHistory(append(s.requests, req), s.opts.HistoryLimit)
	if s.opts.OnRequest != nil {
		s.opts.OnRequest(req)
	}
	s.notify()
	s.mu.Unlock()
}

// authorised checks HTTP basic authentication or, without an Authorization
// header, the first api_key parameter (res/res_ari.c authenticate_user).
func (s *Server) authorised(r *http.Request, pairs []pair) bool {
	if r.Header.Get("Authorization") != "" {
		u, p, ok := r.BasicAuth()
		return ok && u == s.opts.User && p == s.opts.Password
	}
	for _, pr := range pairs {
		if pr.key == "api_key" {
			u, p, _ := strings.Cut(pr.value, ":")
			return p != "" && u == s.opts.User && p == s.opts.Password
		}
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
	a := s.apps[q.r.PathValue("applicationName")]
	if a == nil {
		q.fail(http.StatusNotFound, "Application not found")
		return
	}
	q.ok(http.StatusOK, s.appModel(a))
}

// setEventFilter is PUT /applications/{applicationName}/eventFilter, read
// as ast_ari_applications_filter and stasis_app_event_filter_set
// (res/stasis/app.c) do. The filter parameter is the whole body:
//   - no body, or {}: both lists are cleared;
//   - an object: its "disallowed" then its "allowed" member, each set when
//     present (a missing one is left as it was); each must be an array of
//     objects with a non-empty string "type", else 400 "Invalid format
//     definition" — and a valid "disallowed" stays set when "allowed" is
//     the bad one;
//   - an array: both lists become that array.
//
// The answer is the application (its events_allowed / events_disallowed as
// given); 404 "Application not found" when no WebSocket ever registered it.
func (s *Server) setEventFilter(q *req) {
	q.decl("filter", pBody)
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[q.r.PathValue("applicationName")]
	if a == nil || s.finished(a) {
		q.fail(http.StatusNotFound, "Application not found")
		return
	}
	set := func(key string, dst *[]any) bool {
		f := q.json
		if m, ok := f.(map[string]any); ok {
			if len(m) == 0 {
				f = nil
			} else if v, has := m[key]; has {
				if v == nil {
					return false // JSON null is not an array
				}
				f = v
			} else {
				return true
			}
		}
		if f == nil {
			*dst = nil
			return true
		}
		arr, ok := f.([]any)
		if !ok {
			return false
		}
		for _, it := range arr {
			m, _ := it.(map[string]any)
			if t, _ := m["type"].(string); t == "" {
				return false
			}
		}
		*dst = arr
		return true
	}
	if !set("disallowed", &a.disallowed) || !set("allowed", &a.allowed) {
		q.fail(http.StatusBadRequest, "Invalid format definition")
		return
	}
	q.ok(http.StatusOK, s.appModel(a))
}

func (s *Server) info(q *req) {
	t := s.ts(s.started)
	all := map[string]any{
		"build": map[string]any{"os": "Linux", "kernel": "arifake", "machine": "x86_64", "options": "OPTIONAL_API",
			"date": s.started.UTC().Format("2006-01-02 15:04:05 UTC"), "user": "arifake"},
		"system": map[string]any{"version": "22.10.1", "entity_id": s.opts.AsteriskID},
		"config": map[string]any{"name": "", "default_language": "en", "max_channels": 2000,
			"setid": map[string]any{"user": "", "group": ""}},
		"status": map[string]any{"startup_time": t, "last_reload_time": t},
	}
	if only := q.listParam("only"); only != nil {
		sub := map[string]any{}
		for _, k := range only {
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
