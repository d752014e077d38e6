package arifake

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The audit of the fake against Asterisk 22.10.1's ARI description
// (../testdata/api-docs/*.json): the route table is api-docs' list of
// operations with their parameters, and every operation the fake serves is
// exercised for what api-docs and Asterisk's parsers say about its
// parameters and answers.

type docParam struct {
	Name          string `json:"name"`
	ParamType     string `json:"paramType"`
	Required      bool   `json:"required"`
	AllowMultiple bool   `json:"allowMultiple"`
	DataType      string `json:"dataType"`
}

type docOp struct {
	method, path string
	params       []docParam
	codes        map[int]bool // errorResponses
}

func loadDocs(t *testing.T) map[string]docOp {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "testdata", "api-docs", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no ../testdata/api-docs/*.json: %v", err)
	}
	ops := map[string]docOp{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			APIs []struct {
				Path       string `json:"path"`
				Operations []struct {
					HTTPMethod     string     `json:"httpMethod"`
					Parameters     []docParam `json:"parameters"`
					ErrorResponses []struct {
						Code json.RawMessage `json:"code"` // a number, once a string
					} `json:"errorResponses"`
				} `json:"operations"`
			} `json:"apis"`
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, a := range d.APIs {
			for _, o := range a.Operations {
				op := docOp{method: o.HTTPMethod, path: a.Path, params: o.Parameters, codes: map[int]bool{}}
				for _, e := range o.ErrorResponses {
					code, err := strconv.Atoi(strings.Trim(string(e.Code), `"`))
					if err != nil {
						t.Fatalf("%s %s: error code %s", o.HTTPMethod, a.Path, e.Code)
					}
					op.codes[code] = true
				}
				ops[o.HTTPMethod+" "+a.Path] = op
			}
		}
	}
	return ops
}

// kindOf is how a documented parameter must be declared in the route table.
func kindOf(p docParam) paramKind {
	switch {
	case p.ParamType == "body":
		return pBody
	case p.AllowMultiple:
		return pList
	case p.DataType == "int" || p.DataType == "long":
		return pInt
	case p.DataType == "boolean":
		return pBool
	}
	return pString
}

// The route table is api-docs: every operation (the WebSocket aside), with
// exactly its query and body parameters, each declared with its type.
func TestRouteTableIsAPIDocs(t *testing.T) {
	docs := loadDocs(t)
	seen := map[string]bool{}
	for _, rt := range (&Server{}).routeTable() {
		key := rt.method + " " + rt.path
		if seen[key] {
			t.Errorf("%s: twice in the route table", key)
		}
		seen[key] = true
		op, ok := docs[key]
		if !ok {
			t.Errorf("%s: not an operation of api-docs", key)
			continue
		}
		want := map[string]paramKind{}
		for _, p := range op.params {
			if p.ParamType != "path" {
				want[p.Name] = kindOf(p)
			}
		}
		got := map[string]paramKind{}
		for _, p := range rt.params {
			got[p.name] = p.kind
		}
		for n, k := range want {
			if g, ok := got[n]; !ok {
				t.Errorf("%s: parameter %s (%s) not declared", key, n, k)
			} else if g != k {
				t.Errorf("%s: parameter %s declared %s, api-docs says %s", key, n, g, k)
			}
		}
		for n := range got {
			if _, ok := want[n]; !ok {
				t.Errorf("%s: declares %s, which api-docs does not have", key, n)
			}
		}
	}
	for key := range docs {
		if !seen[key] && key != "GET /events" {
			t.Errorf("%s: in api-docs, missing from the route table", key)
		}
	}
}

// auditFix makes fresh objects for each request of the audit.
type auditFix struct {
	t   *testing.T
	s   *Server
	c   *tclient
	st  *stream
	n   atomic.Int64
	got map[string]map[int]bool // statuses seen per operation
}

func (f *auditFix) id(prefix string) string { return fmt.Sprintf("%s%d", prefix, f.n.Add(1)) }

// caller is an answered incoming call in Stasis.
func (f *auditFix) caller() string {
	call, err := f.s.PlaceCall(CallSpec{Number: "0945550201"})
	if err != nil {
		f.t.Fatal(err)
	}
	f.c.must(f.t, testCtx(f.t), 204, "POST", "/channels/"+call.ID()+"/answer")
	return call.ID()
}

// leg is a created, not dialled, outgoing leg (state Down) in Stasis.
func (f *auditFix) leg() string {
	id := f.id("leg")
	f.c.must(f.t, testCtx(f.t), 200, "POST", "/channels/create", "endpoint", "Local/0900000019@test-phones", "app", "hotline", "channelId", id)
	f.st.want(f.t, testCtx(f.t), "StasisStart", id)
	return id
}

// outside is a channel that exists outside Stasis (an originate ringing).
func (f *auditFix) outside() string {
	id := f.id("orig")
	f.c.must(f.t, testCtx(f.t), 200, "POST", "/channels", "endpoint", "Local/0900000019@test-phones", "app", "hotline", "channelId", id)
	return id
}

func (f *auditFix) bridge(chans ...string) string {
	id := f.id("br")
	ctx := testCtx(f.t)
	f.c.must(f.t, ctx, 200, "POST", "/bridges/"+id)
	if len(chans) > 0 {
		f.c.must(f.t, ctx, 204, "POST", "/bridges/"+id+"/addChannel", "channel", strings.Join(chans, ","))
	}
	return id
}

// playback is a tone playing (until stopped) to a new caller.
func (f *auditFix) playback() string {
	id := f.id("pb")
	f.c.must(f.t, testCtx(f.t), 201, "POST", "/channels/"+f.caller()+"/play/"+id, "media", "tone:ring")
	return id
}

// live is a recording in progress; stored one that is over.
func (f *auditFix) live() string {
	name := f.id("rec")
	f.c.must(f.t, testCtx(f.t), 201, "POST", "/channels/"+f.caller()+"/record", "name", name, "format", "wav")
	return name
}

func (f *auditFix) stored() string {
	name := f.live()
	f.c.must(f.t, testCtx(f.t), 204, "POST", "/recordings/live/"+name+"/stop")
	return name
}

// answer is an expected status and message ("" = any; "error:…" is the
// {"error": …} body of a failed allocation).
type answer struct {
	status int
	msg    string
}

// auditCase is a valid request of one operation, how Asterisk answers it
// without each parameter it needs, and which kinds of channel it refuses.
type auditCase struct {
	vars    func(f *auditFix) map[string]string
	query   []string // a valid request
	status  int
	missing map[string]answer
	// stasis: a channel outside Stasis is 409; upOnly: a Down leg is 412.
	stasis, upOnly bool
}

func onCaller(f *auditFix) map[string]string { return map[string]string{"channelId": f.caller()} }
func onBridge(f *auditFix) map[string]string { return map[string]string{"bridgeId": f.bridge()} }

var (
	needVariable = map[string]answer{"variable": {400, "Variable name is required"}}
	needChannel  = map[string]answer{"channel": {400, "Missing parameter channel"}}
	needEndpoint = answer{400, "Endpoint must be specified"}
)

// auditCases are the operations the fake serves. Their answers come from
// the recordings (j_rest_params, i_playback_lists) and res/ari/resource_*.c.
func auditCases() map[string]auditCase {
	none := func(*auditFix) map[string]string { return nil }
	playMissing := map[string]answer{"media": {500, "Failed to queue media for playback"}}
	bridgePlayMissing := map[string]answer{"media": {500, "error:Allocation failed"}}
	recordMissing := map[string]answer{"name": {500, "Error parsing request"}, "format": {422, "specified format is unknown on this system"}}
	snoopMissing := map[string]answer{"app": {400, "Application name is required"},
		"spy": {400, "Direction must be specified for at least spy or whisper"}}
	control := func(status int) auditCase {
		return auditCase{vars: onCaller, status: status, stasis: true, upOnly: true}
	}
	return map[string]auditCase{
		"GET /applications":                   {vars: none, status: 200},
		"GET /applications/{applicationName}": {vars: func(*auditFix) map[string]string { return map[string]string{"applicationName": "hotline"} }, status: 200},
		// No body: both lists cleared (the bodies are the conformance suite's "event filter").
		"PUT /applications/{applicationName}/eventFilter": {vars: func(*auditFix) map[string]string {
			return map[string]string{"applicationName": "hotline"}
		}, status: 200},
		"GET /asterisk/info":         {vars: none, query: []string{"only", "build,status"}, status: 200},
		"GET /asterisk/ping":         {vars: none, status: 200},
		"GET /asterisk/variable":     {vars: none, query: []string{"variable", "G"}, status: 200, missing: needVariable},
		"POST /asterisk/variable":    {vars: none, query: []string{"variable", "G", "value", "1"}, status: 204, missing: needVariable},
		"GET /bridges":               {vars: none, status: 200},
		"POST /bridges":              {vars: none, query: []string{"type", "mixing", "name", "n"}, status: 200},
		"POST /bridges/{bridgeId}":   {vars: func(f *auditFix) map[string]string { return map[string]string{"bridgeId": f.id("nb")} }, status: 200},
		"GET /bridges/{bridgeId}":    {vars: onBridge, status: 200},
		"DELETE /bridges/{bridgeId}": {vars: onBridge, status: 204},
		"POST /bridges/{bridgeId}/addChannel": {vars: func(f *auditFix) map[string]string {
			return map[string]string{"bridgeId": f.bridge(), "channel": f.caller()}
		}, query: []string{"channel", "{channel}"}, status: 204, missing: needChannel},
		"POST /bridges/{bridgeId}/removeChannel": {vars: func(f *auditFix) map[string]string {
			ch := f.caller()
			return map[string]string{"bridgeId": f.bridge(ch), "channel": ch}
		}, query: []string{"channel", "{channel}"}, status: 204, missing: needChannel},
		"POST /bridges/{bridgeId}/moh": {vars: onBridge, status: 204},
		"DELETE /bridges/{bridgeId}/moh": {vars: func(f *auditFix) map[string]string {
			b := f.bridge()
			f.c.must(f.t, testCtx(f.t), 204, "POST", "/bridges/"+b+"/moh")
			return map[string]string{"bridgeId": b}
		}, status: 204},
		"POST /bridges/{bridgeId}/play": {vars: onBridge, query: []string{"media", "sound:a,sound:b"}, status: 201, missing: bridgePlayMissing},
		"POST /bridges/{bridgeId}/play/{playbackId}": {vars: func(f *auditFix) map[string]string {
			return map[string]string{"bridgeId": f.bridge(), "playbackId": f.id("bp")}
		}, query: []string{"media", "sound:a"}, status: 201, missing: bridgePlayMissing},
		"POST /bridges/{bridgeId}/record": {vars: func(f *auditFix) map[string]string {
			return map[string]string{"bridgeId": f.bridge(), "name": f.id("brec")}
		}, query: []string{"name", "{name}", "format", "wav"}, status: 201, missing: recordMissing},
		"GET /channels": {vars: none, status: 200},
		"POST /channels": {vars: none, query: []string{"endpoint", "Local/0900000019@test-phones", "app", "hotline"}, status: 200,
			missing: map[string]answer{"endpoint": needEndpoint}},
		"POST /channels/create": {vars: none, query: []string{"endpoint", "Local/0900000019@test-phones", "app", "hotline"}, status: 200,
			// Without app Asterisk still answers 200 (the channel dies at once).
			missing: map[string]answer{"endpoint": needEndpoint, "app": {200, ""}}},
		"GET /channels/{channelId}": {vars: onCaller, status: 200},
		"POST /channels/{channelId}": {vars: func(f *auditFix) map[string]string { return map[string]string{"channelId": f.id("oid")} },
			query: []string{"endpoint", "Local/0900000019@test-phones", "app", "hotline"}, status: 200,
			missing: map[string]answer{"endpoint": needEndpoint}},
		"DELETE /channels/{channelId}":         {vars: onCaller, status: 204},
		"POST /channels/{channelId}/continue":  control(204),
		"POST /channels/{channelId}/answer":    control(204),
		"POST /channels/{channelId}/ring":      control(204),
		"DELETE /channels/{channelId}/ring":    control(204),
		"POST /channels/{channelId}/progress":  control(204),
		"POST /channels/{channelId}/hold":      control(204),
		"DELETE /channels/{channelId}/hold":    control(204),
		"POST /channels/{channelId}/moh":       control(204),
		"DELETE /channels/{channelId}/moh":     control(204),
		"POST /channels/{channelId}/silence":   control(204),
		"DELETE /channels/{channelId}/silence": control(204),
		"POST /channels/{channelId}/dtmf": {vars: onCaller, query: []string{"dtmf", "12"}, status: 204, stasis: true, upOnly: true,
			// Not required in api-docs, required by the handler.
			missing: map[string]answer{"dtmf": {400, "DTMF is required"}}},
		"POST /channels/{channelId}/mute": {vars: onCaller, query: []string{"direction", "in"}, status: 204, stasis: true, upOnly: true,
			// api-docs' default "both" is not applied.
			missing: map[string]answer{"direction": {400, "Direction is required"}}},
		"DELETE /channels/{channelId}/mute": {vars: onCaller, query: []string{"direction", "both"}, status: 204, stasis: true, upOnly: true,
			missing: map[string]answer{"direction": {400, "Direction is required"}}},
		"POST /channels/{channelId}/play": {vars: onCaller, query: []string{"media", "sound:a,sound:b"}, status: 201, stasis: true, upOnly: true,
			missing: playMissing},
		"POST /channels/{channelId}/play/{playbackId}": {vars: func(f *auditFix) map[string]string {
			return map[string]string{"channelId": f.caller(), "playbackId": f.id("p")}
		}, query: []string{"media", "sound:a"}, status: 201, stasis: true, upOnly: true, missing: playMissing},
		"POST /channels/{channelId}/record": {vars: func(f *auditFix) map[string]string {
			return map[string]string{"channelId": f.caller(), "name": f.id("crec")}
		}, query: []string{"name", "{name}", "format", "wav"}, status: 201, stasis: true, missing: recordMissing},
		"GET /channels/{channelId}/variable":  {vars: onCaller, query: []string{"variable", "CALLERID(num)"}, status: 200, missing: needVariable},
		"POST /channels/{channelId}/variable": {vars: onCaller, query: []string{"variable", "X", "value", "1"}, status: 204, stasis: true, missing: needVariable},
		"POST /channels/{channelId}/snoop": {vars: onCaller, query: []string{"spy", "in", "app", "hotline"}, status: 200,
			missing: snoopMissing},
		"POST /channels/{channelId}/snoop/{snoopId}": {vars: func(f *auditFix) map[string]string {
			return map[string]string{"channelId": f.caller(), "snoopId": f.id("sn")}
		}, query: []string{"spy", "in", "app", "hotline"}, status: 200, missing: snoopMissing},
		"POST /channels/{channelId}/dial": {vars: func(f *auditFix) map[string]string { return map[string]string{"channelId": f.leg()} },
			query: []string{"timeout", "5"}, status: 204, stasis: true},
		"GET /endpoints": {vars: none, status: 200},
		"GET /endpoints/{tech}/{resource}": {vars: func(*auditFix) map[string]string {
			return map[string]string{"tech": "PJSIP", "resource": "gw-viettel"}
		}, status: 200},
		"GET /sounds":                                 {vars: none, query: []string{"lang", "vi", "format", "wav"}, status: 200},
		"GET /sounds/{soundId}":                       {vars: func(*auditFix) map[string]string { return map[string]string{"soundId": "greeting"} }, status: 200},
		"GET /playbacks/{playbackId}":                 {vars: func(f *auditFix) map[string]string { return map[string]string{"playbackId": f.playback()} }, status: 200},
		"DELETE /playbacks/{playbackId}":              {vars: func(f *auditFix) map[string]string { return map[string]string{"playbackId": f.playback()} }, status: 204},
		"GET /recordings/stored":                      {vars: none, status: 200},
		"GET /recordings/stored/{recordingName}":      {vars: func(f *auditFix) map[string]string { return map[string]string{"recordingName": f.stored()} }, status: 200},
		"DELETE /recordings/stored/{recordingName}":   {vars: func(f *auditFix) map[string]string { return map[string]string{"recordingName": f.stored()} }, status: 204},
		"GET /recordings/stored/{recordingName}/file": {vars: func(f *auditFix) map[string]string { return map[string]string{"recordingName": f.stored()} }, status: 200},
		"GET /recordings/live/{recordingName}":        {vars: func(f *auditFix) map[string]string { return map[string]string{"recordingName": f.live()} }, status: 200},
		"DELETE /recordings/live/{recordingName}":     {vars: func(f *auditFix) map[string]string { return map[string]string{"recordingName": f.live()} }, status: 204},
		"POST /recordings/live/{recordingName}/stop":  {vars: func(f *auditFix) map[string]string { return map[string]string{"recordingName": f.live()} }, status: 204},
	}
}

// undocumented are the statuses Asterisk 22.10.1 answers although api-docs
// does not list them for the operation (from res/ari/resource_*.c and the
// recordings), which the fake therefore answers too.
var undocumented = map[string]map[int]string{
	"POST /channels/{channelId}/play":              {400: "skipms/offsetms cannot be negative", 500: "Failed to queue media for playback (no media, an empty item)"},
	"POST /channels/{channelId}/play/{playbackId}": {400: "skipms/offsetms cannot be negative", 500: "Failed to queue media for playback"},
	"POST /bridges/{bridgeId}/play":                {500: "Allocation failed (no media, an empty item, a negative offset)"},
	"POST /bridges/{bridgeId}/play/{playbackId}":   {500: "Allocation failed"},
	"POST /channels/create":                        {400: "Endpoint must be specified / Invalid endpoint specified", 500: "Allocation failed"},
	"POST /channels":                               {500: "Allocation failed"},
	"POST /channels/{channelId}":                   {500: "Allocation failed"},
	"POST /channels/{channelId}/record":            {500: "Error parsing request (no name)"},
	"POST /bridges/{bridgeId}/record":              {500: "Error parsing request (no name)"},
	"POST /channels/{channelId}/mute":              {400: "Direction is required / Invalid direction specified"},
	"DELETE /channels/{channelId}/mute":            {400: "Direction is required / Invalid direction specified"},
	"POST /channels/{channelId}/snoop":             {500: "Snoop channel could not be created (the id exists)"},
	"POST /channels/{channelId}/snoop/{snoopId}":   {500: "Snoop channel could not be created (the id exists)"},
	"DELETE /playbacks/{playbackId}":               {500: "Could not stop playback (nothing stoppable played yet)"},
	"POST /bridges":                                {500: "Unable to create bridge (type)"},
	"POST /bridges/{bridgeId}":                     {500: "Unable to create bridge (type)"},
	"GET /sounds/{soundId}":                        {404: "Sound not found"},
}

func TestAuditFakeAgainstAPIDocs(t *testing.T) {
	docs := loadDocs(t)
	s, c, st, _ := setup(t, Options{Phones: map[string]Phone{"0900000019": NeverAnswers()}, Second: time.Second,
		SoundFiles: []string{"vi/greeting.wav"}})
	f := &auditFix{t: t, s: s, c: c, st: st, got: map[string]map[int]bool{}}
	cases := auditCases()
	served := map[string]bool{}
	for _, rt := range s.routeTable() {
		key := rt.method + " " + rt.path
		if rt.serve == nil {
			continue
		}
		served[key] = true
		if _, ok := cases[key]; !ok {
			t.Errorf("%s: served but not audited (add an auditCase)", key)
		}
	}
	for _, key := range sortedKeys(cases) {
		tc := cases[key]
		if !served[key] {
			t.Errorf("%s: audited but not served", key)
			continue
		}
		t.Run(strings.NewReplacer("/", "_", " ", "_").Replace(key), func(t *testing.T) {
			f.t = t
			f.audit(t, key, docs[key], tc)
		})
	}
	// Every status the fake gave is documented, a success, or a known
	// undocumented answer of Asterisk's.
	for _, key := range sortedKeys(f.got) {
		for status := range f.got[key] {
			if status < 300 || docs[key].codes[status] {
				continue
			}
			if _, ok := undocumented[key][status]; !ok {
				t.Errorf("%s: answered %d, which api-docs does not document for it", key, status)
			}
		}
	}
}

// request sends one request of key with vars and kv, recording its status.
func (f *auditFix) request(t *testing.T, key string, vars map[string]string, kv []string) resp {
	t.Helper()
	method, path, _ := strings.Cut(key, " ")
	for k, v := range vars {
		path = strings.ReplaceAll(path, "{"+k+"}", url.PathEscape(v))
	}
	q := make([]string, len(kv))
	for i, v := range kv {
		q[i] = v
		if strings.HasPrefix(v, "{") {
			q[i] = vars[strings.Trim(v, "{}")]
		}
	}
	r, err := f.c.do(testCtx(t), method, path, q...)
	if err != nil {
		t.Fatal(err)
	}
	if f.got[key] == nil {
		f.got[key] = map[int]bool{}
	}
	f.got[key][r.status] = true
	return r
}

func without(kv []string, name string) []string {
	var out []string
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] != name {
			out = append(out, kv[i], kv[i+1])
		}
	}
	return out
}

func (f *auditFix) audit(t *testing.T, key string, op docOp, tc auditCase) {
	check := func(what string, r resp, want answer) {
		t.Helper()
		msg := r.message()
		if strings.HasPrefix(want.msg, "error:") {
			var e struct{ Error string }
			_ = json.Unmarshal(r.body, &e)
			msg = "error:" + e.Error
		}
		if r.status != want.status || (want.msg != "" && msg != want.msg) {
			t.Errorf("%s: %d %s, want %d %q", what, r.status, r.body, want.status, want.msg)
		}
	}
	// A valid request, then the same with parameters Asterisk ignores: an
	// unknown name, a declared name in another case.
	check("valid request", f.request(t, key, tc.vars(f), tc.query), answer{tc.status, ""})
	extra := append(append([]string(nil), tc.query...), "bogus", "1", "MEDIA", "x", "Channel", "nope", "Variable", "")
	check("with unknown parameters", f.request(t, key, tc.vars(f), extra), answer{tc.status, ""})

	// Every parameter api-docs requires is audited, and so are those the
	// handler requires although api-docs does not.
	for _, p := range op.params {
		if p.Required && p.ParamType == "query" {
			if _, ok := tc.missing[p.Name]; !ok {
				t.Errorf("required parameter %s: no expected answer when missing", p.Name)
			}
		}
	}
	for _, name := range sortedKeys(tc.missing) {
		check("without "+name, f.request(t, key, tc.vars(f), without(tc.query, name)), tc.missing[name])
	}

	// An int that is not a number is 0 (atoi); a boolean that is not one of
	// ast_true's words is false.
	var rt route
	for _, r := range f.s.routeTable() {
		if r.method+" "+r.path == key {
			rt = r
		}
	}
	for _, p := range rt.params {
		var bad, same string
		switch p.kind {
		case pInt:
			bad, same = "abc", "0"
		case pBool:
			bad, same = "maybe", "false"
		default:
			continue
		}
		a := f.request(t, key, tc.vars(f), append(without(tc.query, p.name), p.name, bad))
		b := f.request(t, key, tc.vars(f), append(without(tc.query, p.name), p.name, same))
		if a.status != b.status {
			t.Errorf("%s=%s: %d %s, but %s=%s: %d", p.name, bad, a.status, a.body, p.name, same, b.status)
		}
		if p.kind == pInt {
			c := f.request(t, key, tc.vars(f), append(without(tc.query, p.name), p.name, "12abc"))
			d := f.request(t, key, tc.vars(f), append(without(tc.query, p.name), p.name, "12"))
			if c.status != d.status {
				t.Errorf("%s=12abc: %d, but %s=12: %d", p.name, c.status, p.name, d.status)
			}
		}
	}

	// Objects that do not exist, channels outside Stasis, legs not answered.
	vars := tc.vars(f)
	for _, v := range []string{"channelId", "bridgeId", "playbackId", "recordingName", "applicationName"} {
		if _, ok := vars[v]; !ok || strings.HasSuffix(key, "{"+v+"}") && (key == "POST /channels/{channelId}" || key == "POST /bridges/{bridgeId}") {
			continue
		}
		if (v == "playbackId" && strings.Contains(key, "/play/")) || (v == "channelId" && strings.Contains(key, "/bridges/")) {
			continue // the id of a new object
		}
		bad := maps(vars, v, "nope")
		r := f.request(t, key, bad, tc.query)
		if r.status != 404 {
			t.Errorf("unknown %s: %d %s, want 404", v, r.status, r.body)
		}
	}
	if tc.stasis {
		check("a channel outside Stasis", f.request(t, key, maps(tc.vars(f), "channelId", f.outside()), tc.query),
			answer{409, "Channel not in Stasis application"})
	}
	if tc.upOnly {
		check("a leg not answered (Down)", f.request(t, key, maps(tc.vars(f), "channelId", f.leg()), tc.query),
			answer{412, "Channel in invalid state"})
	}
}

func maps(m map[string]string, k, v string) map[string]string {
	out := map[string]string{}
	for a, b := range m {
		out[a] = b
	}
	out[k] = v
	return out
}

// The statuses in undocumented are all justified by name.
func TestUndocumentedStatusesAreExplained(t *testing.T) {
	docs := loadDocs(t)
	var keys []string
	for k := range undocumented {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := docs[k]; !ok {
			t.Errorf("%s: not an operation", k)
		}
		for status, why := range undocumented[k] {
			if docs[k].codes[status] {
				t.Errorf("%s %d is documented; drop it from undocumented", k, status)
			}
			if why == "" || !slices.Contains([]int{400, 404, 409, 412, 422, 500}, status) {
				t.Errorf("%s %d: %q", k, status, why)
			}
		}
	}
}
