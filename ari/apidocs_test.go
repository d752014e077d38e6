package ari

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// apiDocs is the part of Asterisk's Swagger 1.1 description (api-docs/*.json,
// Asterisk 22.10.1) that says how a request is read.
type apiDocs struct {
	APIs []struct {
		Path       string `json:"path"`
		Operations []struct {
			HTTPMethod string     `json:"httpMethod"`
			Nickname   string     `json:"nickname"`
			Parameters []apiParam `json:"parameters"`
		} `json:"operations"`
	} `json:"apis"`
}

type apiParam struct {
	Name          string `json:"name"`
	ParamType     string `json:"paramType"` // path, query, body
	Required      bool   `json:"required"`
	AllowMultiple bool   `json:"allowMultiple"`
	DataType      string `json:"dataType"`
	Allowable     *struct {
		ValueType string   `json:"valueType"`
		Values    []string `json:"values"`
		Min       *int     `json:"min"`
	} `json:"allowableValues"`
}

// apiOp is one operation: method, path segments and parameters by name.
type apiOp struct {
	resource, nickname, method string
	segs                       []string
	params                     map[string]apiParam
}

func loadAPIDocs(t *testing.T) []apiOp {
	t.Helper()
	files, err := filepath.Glob("testdata/api-docs/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/api-docs/*.json (Asterisk's ARI description): %v", err)
	}
	var ops []apiOp
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d apiDocs
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, a := range d.APIs {
			for _, o := range a.Operations {
				op := apiOp{
					resource: filepath.Base(f), nickname: o.Nickname, method: o.HTTPMethod,
					segs: strings.Split(strings.Trim(a.Path, "/"), "/"), params: map[string]apiParam{},
				}
				for _, p := range o.Parameters {
					op.params[p.Name] = p
				}
				ops = append(ops, op)
			}
		}
	}
	return ops
}

// match finds the operation serving method and path (below /ari).
func matchOp(ops []apiOp, method, path string) *apiOp {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var best *apiOp
	bestLiterals := -1
	for i := range ops {
		op := &ops[i]
		if op.method != method || len(op.segs) != len(segs) {
			continue
		}
		literals, ok := 0, true
		for j, s := range op.segs {
			if strings.HasPrefix(s, "{") {
				if segs[j] == "" {
					ok = false
				}
				continue
			}
			if s != segs[j] {
				ok = false
				break
			}
			literals++
		}
		// /channels/create beats /channels/{channelId}.
		if ok && literals > bestLiterals {
			best, bestLiterals = op, literals
		}
	}
	return best
}

// TestClientRequestsMatchAPIDocs sends every operation the client implements,
// with every optional field set, and checks each request against Asterisk's
// own description of the operation: a known method and path, every query
// parameter declared, sent once (Asterisk keeps only the last of repeated
// keys), lists comma-joined, values of the declared type and among the
// allowed ones, every required parameter present, body keys declared.
func TestClientRequestsMatchAPIDocs(t *testing.T) {
	ops := loadAPIDocs(t)
	srv := newRESTServer(t)
	c := testClient(t, srv.URL, nil)
	ctx := context.Background()
	vars := map[string]string{"TIMEOUT(absolute)": "120", "CALLERID(num)": "19001000"}
	allPlay := PlayParams{PlaybackID: "pb-1", Media: []string{"sound:vi/announce", "digits:0945550201", "sound:vi/press-one"},
		Lang: "vi", Offset: time.Second, Skip: 3 * time.Second}
	allRecord := RecordParams{Name: "vm-1", Format: "wav", MaxDuration: time.Minute, MaxSilence: 5 * time.Second,
		IfExists: "overwrite", Beep: true, TerminateOn: "#"}

	// One or more calls per exported method; the method name is the key so
	// that a method added to Client without a row here fails the test.
	calls := map[string][]func() error{
		"GetApplication": {func() error { _, err := c.GetApplication(ctx, "hotline"); return err }},
		"SetEventFilter": {func() error {
			_, err := c.SetEventFilter(ctx, "hotline", EventFilter{Allowed: []string{"StasisStart"}, Disallowed: []string{"ChannelVarset"}})
			return err
		}},
		"Info":         {func() error { _, err := c.Info(ctx); return err }},
		"Ping":         {func() error { _, err := c.Ping(ctx); return err }},
		"GetGlobalVar": {func() error { _, err := c.GetGlobalVar(ctx, "HOTLINE_MODE"); return err }},
		"SetGlobalVar": {func() error { return c.SetGlobalVar(ctx, "HOTLINE_MODE", "night") }},
		"CreateBridge": {
			func() error {
				_, err := c.CreateBridge(ctx, CreateBridgeParams{Type: "mixing,dtmf_events", Name: "call-1"})
				return err
			},
			func() error {
				_, err := c.CreateBridge(ctx, CreateBridgeParams{ID: "br-1", Type: BridgeMixing, Name: "call-1"})
				return err
			},
		},
		"GetBridge":      {func() error { _, err := c.GetBridge(ctx, "br-1"); return err }},
		"ListBridges":    {func() error { _, err := c.ListBridges(ctx); return err }},
		"DestroyBridge":  {func() error { return c.DestroyBridge(ctx, "br-1") }},
		"AddChannels":    {func() error { return c.AddChannels(ctx, "br-1", "caller-1", "leg-1") }},
		"RemoveChannels": {func() error { return c.RemoveChannels(ctx, "br-1", "caller-1", "leg-1") }},
		"PlayBridge": {
			func() error { _, err := c.PlayBridge(ctx, "br-1", allPlay); return err },
			func() error {
				_, err := c.PlayBridge(ctx, "br-1", PlayParams{Media: []string{"sound:beep"}})
				return err
			},
		},
		"RecordBridge":   {func() error { _, err := c.RecordBridge(ctx, "br-1", allRecord); return err }},
		"StartBridgeMOH": {func() error { return c.StartBridgeMOH(ctx, "br-1", "default") }},
		"StopBridgeMOH":  {func() error { return c.StopBridgeMOH(ctx, "br-1") }},
		"GetChannel":     {func() error { _, err := c.GetChannel(ctx, "c1"); return err }},
		"ListChannels":   {func() error { _, err := c.ListChannels(ctx); return err }},
		"CreateChannel": {func() error {
			_, err := c.CreateChannel(ctx, CreateChannelParams{ChannelID: "leg-1", Endpoint: "PJSIP/0945550101@gw-vinaphone",
				App: "hotline", AppArgs: "leg", OtherChannelID: "leg-1b", Originator: "caller-1", Formats: []string{"ulaw", "alaw"}, Variables: vars})
			return err
		}},
		"Dial": {func() error { return c.Dial(ctx, "leg-1", "caller-1", 25*time.Second) }},
		"Originate": {
			func() error {
				_, err := c.Originate(ctx, OriginateParams{ChannelID: "o-1", Endpoint: "Local/2@hotline", Extension: "2", Context: "hotline",
					Priority: 1, Label: "start", CallerID: `"Cafe" <0945550201>`, Timeout: 30 * time.Second, OtherChannelID: "o-1b",
					Originator: "caller-1", Formats: []string{"ulaw"}, Variables: vars})
				return err
			},
			func() error {
				_, err := c.Originate(ctx, OriginateParams{Endpoint: "Local/2@hotline", App: "harness", AppArgs: "caller"})
				return err
			},
		},
		"Answer":          {func() error { return c.Answer(ctx, "c1") }},
		"Hangup":          {func() error { return c.Hangup(ctx, "c1", HangupNormal) }, func() error { return c.Hangup(ctx, "c1", HangupAnsweredElsewhere) }},
		"Ring":            {func() error { return c.Ring(ctx, "c1") }},
		"RingStop":        {func() error { return c.RingStop(ctx, "c1") }},
		"StartChannelMOH": {func() error { return c.StartChannelMOH(ctx, "c1", "default") }},
		"StopChannelMOH":  {func() error { return c.StopChannelMOH(ctx, "c1") }},
		"SendDTMF":        {func() error { return c.SendDTMF(ctx, "c1", "1#") }},
		"ContinueInDialplan": {func() error {
			return c.ContinueInDialplan(ctx, "c1", ContinueParams{Context: "hotline-fallback", Extension: "s", Priority: 1, Label: "x"})
		}},
		"GetChannelVar": {func() error { _, err := c.GetChannelVar(ctx, "c1", "CALLERID(num)"); return err }},
		"SetChannelVar": {func() error { return c.SetChannelVar(ctx, "c1", "HOTLINE_CALL", "call-1") }},
		"PlayChannel": {
			func() error { _, err := c.PlayChannel(ctx, "c1", allPlay); return err },
			func() error {
				_, err := c.PlayChannel(ctx, "c1", PlayParams{Media: []string{"sound:beep"}})
				return err
			},
		},
		"RecordChannel": {func() error { _, err := c.RecordChannel(ctx, "c1", allRecord); return err }},
		"Snoop": {
			func() error {
				_, err := c.Snoop(ctx, "c1", SnoopParams{SnoopID: "s-1", Spy: "both", Whisper: "out", App: "hotline", AppArgs: "snoop"})
				return err
			},
			func() error { _, err := c.Snoop(ctx, "c1", SnoopParams{Spy: "in"}); return err },
		},
		"GetPlayback":           {func() error { _, err := c.GetPlayback(ctx, "pb-1"); return err }},
		"StopPlayback":          {func() error { return c.StopPlayback(ctx, "pb-1") }},
		"GetLiveRecording":      {func() error { _, err := c.GetLiveRecording(ctx, "vm-1"); return err }},
		"StopRecording":         {func() error { return c.StopRecording(ctx, "vm-1") }},
		"CancelRecording":       {func() error { return c.CancelRecording(ctx, "vm-1") }},
		"GetStoredRecording":    {func() error { _, err := c.GetStoredRecording(ctx, "vm-1"); return err }},
		"DeleteStoredRecording": {func() error { return c.DeleteStoredRecording(ctx, "vm-1") }},
		"GetStoredRecordingFile": {func() error {
			f, err := c.GetStoredRecordingFile(ctx, "vm-1")
			if err == nil {
				err = f.Body.Close()
			}
			return err
		}},
		"GetEndpoint":   {func() error { _, err := c.GetEndpoint(ctx, "PJSIP", "gw-viettel"); return err }},
		"ListEndpoints": {func() error { _, err := c.ListEndpoints(ctx); return err }},
		"GetSound":      {func() error { _, err := c.GetSound(ctx, "province-0297"); return err }},
	}
	// Methods that are not one REST operation.
	notREST := map[string]bool{"Run": true, "WaitConnected": true}

	ctxType := reflect.TypeFor[context.Context]()
	ct := reflect.TypeFor[*Client]()
	for i := range ct.NumMethod() {
		m := ct.Method(i)
		if m.Type.NumIn() < 2 || m.Type.In(1) != ctxType || notREST[m.Name] {
			continue
		}
		if _, ok := calls[m.Name]; !ok {
			t.Errorf("Client.%s sends REST requests but has no row in this test: add one with every optional field set", m.Name)
		}
	}

	names := make([]string, 0, len(calls))
	for name := range calls {
		names = append(names, name)
	}
	slices.Sort(names)
	srv.reply(204, "")
	for _, name := range names {
		for i, call := range calls[name] {
			before := srv.count()
			if err := call(); err != nil {
				t.Errorf("%s #%d: %v", name, i, err)
				continue
			}
			if srv.count() != before+1 {
				t.Errorf("%s #%d: sent %d requests, want 1", name, i, srv.count()-before)
				continue
			}
			checkAgainstAPIDocs(t, ops, name, srv.last(t))
		}
	}
}

func checkAgainstAPIDocs(t *testing.T, ops []apiOp, name string, got recorded) {
	t.Helper()
	path := strings.TrimPrefix(got.path, "/ari")
	op := matchOp(ops, got.method, path)
	if op == nil {
		t.Errorf("%s: %s %s is no operation of Asterisk's ARI", name, got.method, got.path)
		return
	}
	where := name + " (" + op.resource + " " + op.nickname + ")"
	for key, vals := range got.query {
		p, ok := op.params[key]
		if !ok || p.ParamType != "query" {
			t.Errorf("%s: query parameter %q is not one Asterisk reads (ignored there)", where, key)
			continue
		}
		if len(vals) != 1 {
			t.Errorf("%s: %q sent %d times; Asterisk keeps only the last (%v)", where, key, len(vals), vals)
			continue
		}
		items := []string{vals[0]}
		if p.AllowMultiple {
			items = strings.Split(vals[0], ",")
		}
		for _, v := range items {
			if msg := badValue(p, v); msg != "" {
				t.Errorf("%s: %s=%q: %s", where, key, v, msg)
			}
		}
	}
	var body map[string]json.RawMessage
	if got.body != "" {
		if err := json.Unmarshal([]byte(got.body), &body); err != nil {
			t.Errorf("%s: body is not a JSON object: %v", where, err)
		}
		if p, ok := wholeBody[op.resource+" "+op.nickname]; ok {
			// The operation reads the whole body as its parameter p.
			checkWholeBody(t, where, p, body)
			return
		}
		for key := range body {
			if _, ok := op.params[key]; !ok {
				t.Errorf("%s: body field %q is not a parameter of the operation", where, key)
			}
		}
	}
	for _, p := range op.params {
		if !p.Required || p.ParamType == "path" {
			continue
		}
		_, inQuery := got.query[p.Name]
		_, inBody := body[p.Name]
		if !inQuery && !inBody {
			t.Errorf("%s: required parameter %q missing (Asterisk answers 400)", where, p.Name)
		}
	}
}

// wholeBody lists the operations whose body parameter is the whole JSON body
// (the generated parser passes the body itself: res/res_ari_applications.c
// "args.filter = body"), by "resource nickname", with that parameter's name.
var wholeBody = map[string]string{"applications.json filter": "filter"}

// checkWholeBody checks an eventFilter body as stasis_app_event_filter_set
// (res/stasis/app.c) reads it: the keys "allowed" and "disallowed" only, each
// an array of objects with a non-empty string "type" (anything else is 400
// "Invalid format definition").
func checkWholeBody(t *testing.T, where, param string, body map[string]json.RawMessage) {
	t.Helper()
	if param != "filter" {
		t.Fatalf("%s: no check for whole-body parameter %q", where, param)
	}
	for key, raw := range body {
		if key != "allowed" && key != "disallowed" {
			t.Errorf("%s: filter key %q is neither allowed nor disallowed (ignored by Asterisk)", where, key)
			continue
		}
		var items []map[string]any
		if err := json.Unmarshal(raw, &items); err != nil {
			t.Errorf("%s: filter %s is not an array of objects: %v", where, key, err)
			continue
		}
		for _, it := range items {
			if s, ok := it["type"].(string); !ok || s == "" {
				t.Errorf("%s: filter %s item %v has no type (Asterisk answers 400)", where, key, it)
			}
		}
	}
}

// badValue says why Asterisk would not read v as parameter p ("" when it
// would).
func badValue(p apiParam, v string) string {
	switch p.DataType {
	case "int", "long":
		n, err := strconv.Atoi(v)
		if err != nil {
			return "not an integer"
		}
		if p.Allowable != nil && p.Allowable.Min != nil && n < *p.Allowable.Min {
			return "below the minimum " + strconv.Itoa(*p.Allowable.Min)
		}
	case "boolean":
		if v != "true" && v != "false" {
			return "not true/false"
		}
	}
	if p.Allowable != nil && p.Allowable.ValueType == "LIST" && !slices.Contains(p.Allowable.Values, v) {
		return "not one of " + strings.Join(p.Allowable.Values, ", ")
	}
	if v == "" {
		return "empty"
	}
	return ""
}
