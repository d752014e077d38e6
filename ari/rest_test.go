package ari

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorded is one request seen by the test server.
type recorded struct {
	method, path string
	query        url.Values
	body         string
	user, pass   string
	ctype        string
}

// restServer is an httptest ARI stand-in: it records each request and
// answers with the next configured status and body.
type restServer struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []recorded
	status int
	body   string
}

func newRESTServer(t *testing.T) *restServer {
	t.Helper()
	s := &restServer{status: http.StatusNoContent}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		u, p, _ := r.BasicAuth()
		s.mu.Lock()
		s.reqs = append(s.reqs, recorded{r.Method, r.URL.EscapedPath(), r.URL.Query(), string(b), u, p, r.Header.Get("Content-Type")})
		status, body := s.status, s.body
		s.mu.Unlock()
		if body != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *restServer) reply(status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.body = status, body
}

func (s *restServer) last(t *testing.T) recorded {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reqs) == 0 {
		t.Fatal("no request reached the server")
	}
	return s.reqs[len(s.reqs)-1]
}

func (s *restServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// recObserver records RequestDone calls.
type recObserver struct {
	NopObserver
	mu       sync.Mutex
	ops      []string
	statuses []int
	errs     []error
	events   []string
	states   []bool
	reconn   int
	overflow int
}

func (o *recObserver) RequestDone(node, op string, status int, _ time.Duration, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ops = append(o.ops, op)
	o.statuses = append(o.statuses, status)
	o.errs = append(o.errs, err)
}

func (o *recObserver) EventReceived(_, eventType string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, eventType)
}

func (o *recObserver) ConnectionState(_ string, up bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.states = append(o.states, up)
}

func (o *recObserver) Reconnected(string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.reconn++
}

func (o *recObserver) QueueOverflow(string, string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.overflow++
}

func testClient(t *testing.T, url string, obs Observer) *Client {
	t.Helper()
	c, err := New(Config{
		URL: url, User: "hotline", Password: "s3cret-pw", App: "hotline", Node: "ast1",
		RequestTimeout: 5 * time.Second, DialTimeout: 2 * time.Second, Observer: obs,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

const channelJSON = `{"id":"1795555375.5","name":"Local/2@hotline-00000002;2","state":"Up","protocol_id":"","caller":{"name":"","number":"0945551519"},"connected":{"name":"","number":"0945551519"},"accountcode":"","dialplan":{"context":"hotline","exten":"2","priority":2,"app_name":"Stasis","app_data":"hotline"},"creationtime":"2026-11-24T21:22:55.178+0000","language":"en"}`

func TestRESTRequests(t *testing.T) {
	srv := newRESTServer(t)
	obs := &recObserver{}
	c := testClient(t, srv.URL, obs)
	ctx := testCtx(t)
	q := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	tests := []struct {
		name   string
		status int
		reply  string
		call   func() error
		method string
		path   string
		query  url.Values
		body   string // JSON, compared semantically; "" = no body
		op     string
	}{
		{"get channel", 200, channelJSON, func() error {
			ch, err := c.GetChannel(ctx, "1795555375.5")
			if err == nil && (ch.Caller.Number != "0945551519" || ch.Dialplan.Priority != 2) {
				t.Errorf("channel = %+v", ch)
			}
			return err
		}, "GET", "/ari/channels/1795555375.5", q(), "", "channels.get"},
		{"list channels", 200, "[" + channelJSON + "]", func() error {
			chs, err := c.ListChannels(ctx)
			if err == nil && (len(chs) != 1 || chs[0].ID != "1795555375.5") {
				t.Errorf("channels = %+v", chs)
			}
			return err
		}, "GET", "/ari/channels", q(), "", "channels.list"},
		{"answer", 204, "", func() error { return c.Answer(ctx, "1795555375.5") },
			"POST", "/ari/channels/1795555375.5/answer", q(), "", "channels.answer"},
		{"hangup busy", 204, "", func() error { return c.Hangup(ctx, "leg-1", HangupBusy) },
			"DELETE", "/ari/channels/leg-1", q("reason", "busy"), "", "channels.hangup"},
		{"hangup default", 204, "", func() error { return c.Hangup(ctx, "leg-1", "") },
			"DELETE", "/ari/channels/leg-1", q(), "", "channels.hangup"},
		{"ring", 204, "", func() error { return c.Ring(ctx, "c1") }, "POST", "/ari/channels/c1/ring", q(), "", "channels.ring"},
		{"ring stop", 204, "", func() error { return c.RingStop(ctx, "c1") }, "DELETE", "/ari/channels/c1/ring", q(), "", "channels.ring_stop"},
		{"play with id, several media", 201, `{"id":"pb-1","media_uri":"sound:hello","target_uri":"channel:c1","language":"vi","state":"queued"}`, func() error {
			pb, err := c.PlayChannel(ctx, "c1", PlayParams{PlaybackID: "pb-1", Media: []string{"sound:hello", "digits:42"}, Lang: "vi"})
			if err == nil && (pb.ID != "pb-1" || pb.State != PlaybackQueued) {
				t.Errorf("playback = %+v", pb)
			}
			return err
		}, "POST", "/ari/channels/c1/play/pb-1", q("media", "sound:hello,digits:42", "lang", "vi"), "", "channels.play"},
		{"play without id", 201, `{"id":"x","media_uri":"sound:beep","target_uri":"channel:c1","state":"playing"}`, func() error {
			_, err := c.PlayChannel(ctx, "c1", PlayParams{Media: []string{"sound:beep"}, Offset: 1500 * time.Millisecond})
			return err
		}, "POST", "/ari/channels/c1/play", q("media", "sound:beep", "offsetms", "1500"), "", "channels.play"},
		{"dtmf", 204, "", func() error { return c.SendDTMF(ctx, "c1", "1#") },
			"POST", "/ari/channels/c1/dtmf", q("dtmf", "1#"), "", "channels.dtmf"},
		{"create", 200, channelJSON, func() error {
			_, err := c.CreateChannel(ctx, CreateChannelParams{
				ChannelID: "leg-7", Endpoint: "PJSIP/0912345678@gw-viettel", AppArgs: "outbound",
				Originator: "1795555375.5", Formats: []string{"ulaw", "alaw"}, Variables: map[string]string{"CALLERID(num)": "1900"},
			})
			return err
		}, "POST", "/ari/channels/create", q("endpoint", "PJSIP/0912345678@gw-viettel", "app", "hotline", "appArgs", "outbound",
			"channelId", "leg-7", "originator", "1795555375.5", "formats", "ulaw,alaw"),
			`{"variables":{"CALLERID(num)":"1900"}}`, "channels.create"},
		{"dial", 204, "", func() error { return c.Dial(ctx, "leg-7", "1795555375.5", 2500*time.Millisecond) },
			"POST", "/ari/channels/leg-7/dial", q("caller", "1795555375.5", "timeout", "3"), "", "channels.dial"},
		{"dial no timeout", 204, "", func() error { return c.Dial(ctx, "leg-7", "", 0) },
			"POST", "/ari/channels/leg-7/dial", q(), "", "channels.dial"},
		{"originate", 200, channelJSON, func() error {
			_, err := c.Originate(ctx, OriginateParams{Endpoint: "Local/2@hotline", App: "sim", AppArgs: "caller-side",
				CallerID: "0945551519", Timeout: 60 * time.Second, ChannelID: "o-1"})
			return err
		}, "POST", "/ari/channels", q("endpoint", "Local/2@hotline", "app", "sim", "appArgs", "caller-side",
			"callerId", "0945551519", "timeout", "60", "channelId", "o-1"), "", "channels.originate"},
		{"continue", 204, "", func() error {
			return c.ContinueInDialplan(ctx, "c1", ContinueParams{Context: "hotline", Extension: "fallback", Priority: 1})
		}, "POST", "/ari/channels/c1/continue", q("context", "hotline", "extension", "fallback", "priority", "1"), "", "channels.continue"},
		{"get var", 200, `{"value":"0945551519"}`, func() error {
			v, err := c.GetChannelVar(ctx, "c1", "CALLERID(num)")
			if err == nil && v != "0945551519" {
				t.Errorf("value = %q", v)
			}
			return err
		}, "GET", "/ari/channels/c1/variable", q("variable", "CALLERID(num)"), "", "channels.var_get"},
		{"set var", 204, "", func() error { return c.SetChannelVar(ctx, "c1", "CDR(userfield)", "x y") },
			"POST", "/ari/channels/c1/variable", q("variable", "CDR(userfield)"), `{"value":"x y"}`, "channels.var_set"},
		{"record", 201, `{"name":"vm-1","format":"wav","target_uri":"channel:c1","state":"queued"}`, func() error {
			rec, err := c.RecordChannel(ctx, "c1", RecordParams{Name: "vm-1", Format: "wav", MaxDuration: 120 * time.Second,
				MaxSilence: 5 * time.Second, IfExists: "overwrite", Beep: true, TerminateOn: "#"})
			if err == nil && rec.Name != "vm-1" {
				t.Errorf("recording = %+v", rec)
			}
			return err
		}, "POST", "/ari/channels/c1/record", q("name", "vm-1", "format", "wav", "maxDurationSeconds", "120", "maxSilenceSeconds", "5",
			"ifExists", "overwrite", "beep", "true", "terminateOn", "#"), "", "channels.record"},
		{"moh start", 204, "", func() error { return c.StartChannelMOH(ctx, "c1", "default") },
			"POST", "/ari/channels/c1/moh", q("mohClass", "default"), "", "channels.moh_start"},
		{"moh stop", 204, "", func() error { return c.StopChannelMOH(ctx, "c1") },
			"DELETE", "/ari/channels/c1/moh", q(), "", "channels.moh_stop"},
		{"snoop", 200, channelJSON, func() error {
			_, err := c.Snoop(ctx, "c1", SnoopParams{SnoopID: "snoop-1", Spy: "both"})
			return err
		}, "POST", "/ari/channels/c1/snoop/snoop-1", q("app", "hotline", "spy", "both"), "", "channels.snoop"},
		{"channel id escaped", 204, "", func() error { return c.Answer(ctx, "a/b;1") },
			"POST", "/ari/channels/a%2Fb%3B1/answer", q(), "", "channels.answer"},

		{"bridge create with id", 200, `{"id":"br-1","technology":"simple_bridge","bridge_type":"mixing","bridge_class":"stasis","creator":"Stasis","name":"call-1","channels":[],"creationtime":"2026-11-24T21:00:21.351+0000"}`, func() error {
			b, err := c.CreateBridge(ctx, CreateBridgeParams{ID: "br-1", Type: BridgeMixing, Name: "call-1"})
			if err == nil && (b.ID != "br-1" || b.CreationTime.IsZero()) {
				t.Errorf("bridge = %+v", b)
			}
			return err
		}, "POST", "/ari/bridges/br-1", q("type", "mixing", "name", "call-1"), "", "bridges.create"},
		{"bridge create", 200, `{"id":"x","channels":[]}`, func() error {
			_, err := c.CreateBridge(ctx, CreateBridgeParams{Type: "mixing,dtmf_events"})
			return err
		}, "POST", "/ari/bridges", q("type", "mixing,dtmf_events"), "", "bridges.create"},
		{"bridge get", 200, `{"id":"br-1","channels":["a","b"]}`, func() error {
			b, err := c.GetBridge(ctx, "br-1")
			if err == nil && len(b.Channels) != 2 {
				t.Errorf("bridge = %+v", b)
			}
			return err
		}, "GET", "/ari/bridges/br-1", q(), "", "bridges.get"},
		{"bridge list", 200, `[]`, func() error { _, err := c.ListBridges(ctx); return err },
			"GET", "/ari/bridges", q(), "", "bridges.list"},
		{"add channels", 204, "", func() error { return c.AddChannels(ctx, "br-1", "a", "b") },
			"POST", "/ari/bridges/br-1/addChannel", q("channel", "a,b"), "", "bridges.add_channel"},
		{"remove channel", 204, "", func() error { return c.RemoveChannels(ctx, "br-1", "a") },
			"POST", "/ari/bridges/br-1/removeChannel", q("channel", "a"), "", "bridges.remove_channel"},
		{"destroy bridge", 204, "", func() error { return c.DestroyBridge(ctx, "br-1") },
			"DELETE", "/ari/bridges/br-1", q(), "", "bridges.destroy"},
		{"bridge play", 201, `{"id":"pb-2","media_uri":"sound:beep","target_uri":"bridge:br-1","state":"queued"}`, func() error {
			_, err := c.PlayBridge(ctx, "br-1", PlayParams{PlaybackID: "pb-2", Media: []string{"sound:beep"}})
			return err
		}, "POST", "/ari/bridges/br-1/play/pb-2", q("media", "sound:beep"), "", "bridges.play"},
		{"bridge moh", 204, "", func() error { return c.StartBridgeMOH(ctx, "br-1", "") },
			"POST", "/ari/bridges/br-1/moh", q(), "", "bridges.moh_start"},
		{"bridge moh stop", 204, "", func() error { return c.StopBridgeMOH(ctx, "br-1") },
			"DELETE", "/ari/bridges/br-1/moh", q(), "", "bridges.moh_stop"},
		{"bridge record", 201, `{"name":"r","format":"wav","target_uri":"bridge:br-1","state":"queued"}`, func() error {
			_, err := c.RecordBridge(ctx, "br-1", RecordParams{Name: "r", Format: "wav"})
			return err
		}, "POST", "/ari/bridges/br-1/record", q("name", "r", "format", "wav"), "", "bridges.record"},

		{"playback get", 200, `{"id":"pb-1","media_uri":"sound:beep","target_uri":"channel:c1","state":"playing"}`, func() error {
			_, err := c.GetPlayback(ctx, "pb-1")
			return err
		}, "GET", "/ari/playbacks/pb-1", q(), "", "playbacks.get"},
		{"playback stop", 204, "", func() error { return c.StopPlayback(ctx, "pb-1") },
			"DELETE", "/ari/playbacks/pb-1", q(), "", "playbacks.stop"},
		{"live recording stop", 204, "", func() error { return c.StopRecording(ctx, "vm-1") },
			"POST", "/ari/recordings/live/vm-1/stop", q(), "", "recordings.live_stop"},
		{"live recording cancel", 204, "", func() error { return c.CancelRecording(ctx, "vm-1") },
			"DELETE", "/ari/recordings/live/vm-1", q(), "", "recordings.live_cancel"},
		{"live recording get", 200, `{"name":"vm-1","format":"wav","target_uri":"channel:c1","state":"recording"}`, func() error {
			_, err := c.GetLiveRecording(ctx, "vm-1")
			return err
		}, "GET", "/ari/recordings/live/vm-1", q(), "", "recordings.live_get"},
		{"stored get", 200, `{"name":"vm-1","format":"wav"}`, func() error {
			r, err := c.GetStoredRecording(ctx, "vm-1")
			if err == nil && r.Format != "wav" {
				t.Errorf("stored = %+v", r)
			}
			return err
		}, "GET", "/ari/recordings/stored/vm-1", q(), "", "recordings.stored_get"},
		{"stored delete", 204, "", func() error { return c.DeleteStoredRecording(ctx, "vm-1") },
			"DELETE", "/ari/recordings/stored/vm-1", q(), "", "recordings.stored_delete"},

		{"application", 200, `{"name":"hotline","channel_ids":["1795555480.53"],"bridge_ids":[],"endpoint_ids":[],"device_names":[],"events_allowed":[],"events_disallowed":[]}`, func() error {
			a, err := c.GetApplication(ctx, "")
			if err == nil && (a.Name != "hotline" || len(a.ChannelIDs) != 1 || a.ChannelIDs[0] != "1795555480.53") {
				t.Errorf("application = %+v", a)
			}
			return err
		}, "GET", "/ari/applications/hotline", q(), "", "applications.get"},
		{"event filter", 200, `{"name":"hotline","channel_ids":[],"bridge_ids":[],"endpoint_ids":[],"device_names":[],"events_allowed":[{"type":"StasisStart"},{"type":"StasisEnd"}],"events_disallowed":[]}`, func() error {
			a, err := c.SetEventFilter(ctx, "", EventFilter{Allowed: []string{"StasisStart", "StasisEnd"}})
			if err == nil && (len(a.EventsAllowed) != 2 || a.EventsAllowed[1]["type"] != "StasisEnd" || len(a.EventsDisallowed) != 0) {
				t.Errorf("application = %+v", a)
			}
			return err
		}, "PUT", "/ari/applications/hotline/eventFilter", q(), `{"allowed":[{"type":"StasisStart"},{"type":"StasisEnd"}],"disallowed":[]}`, "applications.event_filter"},
		{"event filter cleared", 200, `{"name":"other","channel_ids":[],"bridge_ids":[],"endpoint_ids":[],"device_names":[],"events_allowed":[],"events_disallowed":[]}`, func() error {
			_, err := c.SetEventFilter(ctx, "other", EventFilter{})
			return err
		}, "PUT", "/ari/applications/other/eventFilter", q(), `{"allowed":[],"disallowed":[]}`, "applications.event_filter"},
		{"ping", 200, `{"asterisk_id":"02:fc:00:00:00:01","ping":"pong","timestamp":"2026-11-24T21:01:08.477+0000"}`, func() error {
			p, err := c.Ping(ctx)
			if err == nil && (p.Ping != "pong" || p.AsteriskID != "02:fc:00:00:00:01") {
				t.Errorf("ping = %+v", p)
			}
			return err
		}, "GET", "/ari/asterisk/ping", q(), "", "asterisk.ping"},
		{"info", 200, `{"build":{"date":"2026-11-24 20:52:46 UTC","kernel":"6.18.44-fc-v669","machine":"x86_64","options":"OPTIONAL_API","os":"Linux","user":"root"},"config":{"default_language":"en","max_channels":2000,"name":"","setid":{"group":"","user":""}},"status":{"last_reload_time":"2026-11-24T20:59:45.536+0000","startup_time":"2026-11-24T20:59:45.536+0000"},"system":{"entity_id":"02:fc:00:00:00:01","version":"22.10.1"}}`, func() error {
			info, err := c.Info(ctx)
			if err == nil && (info.System == nil || info.System.Version != "22.10.1" || info.Config.MaxChannels != 2000 || info.Status.StartupTime.IsZero()) {
				t.Errorf("info = %+v", info)
			}
			return err
		}, "GET", "/ari/asterisk/info", q(), "", "asterisk.info"},
		{"global var", 204, "", func() error { return c.SetGlobalVar(ctx, "HOTLINE_MODE", "night") },
			"POST", "/ari/asterisk/variable", q("variable", "HOTLINE_MODE", "value", "night"), "", "asterisk.var_set"},
		{"global var get", 200, `{"value":"night"}`, func() error {
			v, err := c.GetGlobalVar(ctx, "HOTLINE_MODE")
			if err == nil && v != "night" {
				t.Errorf("value = %q", v)
			}
			return err
		}, "GET", "/ari/asterisk/variable", q("variable", "HOTLINE_MODE"), "", "asterisk.var_get"},

		{"endpoint get", 200, `{"technology":"PJSIP","resource":"gw-viettel","state":"online","channel_ids":[]}`, func() error {
			e, err := c.GetEndpoint(ctx, "PJSIP", "gw-viettel")
			if err == nil && (e.Resource != "gw-viettel" || e.State != EndpointOnline) {
				t.Errorf("endpoint = %+v", e)
			}
			return err
		}, "GET", "/ari/endpoints/PJSIP/gw-viettel", q(), "", "endpoints.get"},
		{"endpoint list", 200, `[{"technology":"PJSIP","resource":"gw-viettel","state":"offline","channel_ids":["1795555480.53"]}]`, func() error {
			es, err := c.ListEndpoints(ctx)
			if err == nil && (len(es) != 1 || es[0].State != EndpointOffline || len(es[0].ChannelIDs) != 1) {
				t.Errorf("endpoints = %+v", es)
			}
			return err
		}, "GET", "/ari/endpoints", q(), "", "endpoints.list"},
		{"sound get", 200, `{"id":"greeting","formats":[{"language":"vi","format":"wav"},{"language":"en","format":"gsm"}]}`, func() error {
			s, err := c.GetSound(ctx, "greeting")
			if err == nil && (!s.HasLanguage("vi") || !s.HasLanguage("en") || s.HasLanguage("fr")) {
				t.Errorf("sound = %+v", s)
			}
			return err
		}, "GET", "/ari/sounds/greeting", q(), "", "sounds.get"},
		{"sound id escaped", 200, `{"id":"digits/1","formats":[{"language":"en","format":"gsm"}]}`, func() error {
			_, err := c.GetSound(ctx, "digits/1")
			return err
		}, "GET", "/ari/sounds/digits%2F1", q(), "", "sounds.get"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.reply(tt.status, tt.reply)
			if err := tt.call(); err != nil {
				t.Fatal(err)
			}
			got := srv.last(t)
			if got.method != tt.method || got.path != tt.path {
				t.Errorf("request = %s %s, want %s %s", got.method, got.path, tt.method, tt.path)
			}
			if got.query.Encode() != tt.query.Encode() {
				t.Errorf("query = %s, want %s", got.query.Encode(), tt.query.Encode())
			}
			for k, vs := range got.query {
				if len(vs) > 1 {
					t.Errorf("query key %s sent %d times (Asterisk keeps only the last): %v", k, len(vs), vs)
				}
			}
			if got.user != "hotline" || got.pass != "s3cret-pw" {
				t.Errorf("basic auth = %q/%q", got.user, got.pass)
			}
			if tt.body == "" {
				if got.body != "" {
					t.Errorf("body = %s, want none", got.body)
				}
			} else {
				var a, b any
				if err := json.Unmarshal([]byte(got.body), &a); err != nil {
					t.Fatalf("body %q: %v", got.body, err)
				}
				_ = json.Unmarshal([]byte(tt.body), &b)
				ab, _ := json.Marshal(a)
				bb, _ := json.Marshal(b)
				if string(ab) != string(bb) || got.ctype != "application/json" {
					t.Errorf("body = %s (%s), want %s", ab, got.ctype, bb)
				}
			}
			obs.mu.Lock()
			op, status := obs.ops[len(obs.ops)-1], obs.statuses[len(obs.statuses)-1]
			obs.mu.Unlock()
			if op != tt.op || status != tt.status {
				t.Errorf("observer saw %s %d, want %s %d", op, status, tt.op, tt.status)
			}
		})
	}
	// op names are a fixed set: no id, not even an escaped one, leaks in,
	// and this table exercised every one of Operations().
	obs.mu.Lock()
	defer obs.mu.Unlock()
	seen := map[string]bool{}
	for _, op := range obs.ops {
		seen[op] = true
	}
	for _, op := range Operations() {
		if !seen[op] {
			t.Errorf("operation %s not exercised", op)
		}
		delete(seen, op)
	}
	for op := range seen {
		t.Errorf("op %s missing from Operations()", op)
	}
	for _, op := range obs.ops {
		if strings.ContainsAny(op, "/%;-0123456789") {
			t.Errorf("op %q looks like it carries an id", op)
		}
	}
}

func TestRESTRejectsMissingParams(t *testing.T) {
	srv := newRESTServer(t)
	c := testClient(t, srv.URL, nil)
	ctx := testCtx(t)
	calls := map[string]func() error{
		"answer":        func() error { return c.Answer(ctx, "") },
		"hangup":        func() error { return c.Hangup(ctx, "", HangupNormal) },
		"get channel":   func() error { _, err := c.GetChannel(ctx, ""); return err },
		"create":        func() error { _, err := c.CreateChannel(ctx, CreateChannelParams{ChannelID: "x"}); return err },
		"play no media": func() error { _, err := c.PlayChannel(ctx, "c1", PlayParams{PlaybackID: "p"}); return err },
		"add none":      func() error { return c.AddChannels(ctx, "br-1") },
		"destroy":       func() error { return c.DestroyBridge(ctx, "") },
		"dtmf":          func() error { return c.SendDTMF(ctx, "c1", "") },
		"record":        func() error { _, err := c.RecordChannel(ctx, "c1", RecordParams{Format: "wav"}); return err },
		"filter empty type": func() error {
			_, err := c.SetEventFilter(ctx, "", EventFilter{Allowed: []string{"StasisStart", ""}})
			return err
		},
	}
	for name, call := range calls {
		if err := call(); !isLocalBadRequest(err) {
			t.Errorf("%s: err = %v, want a local ErrBadRequest", name, err)
		}
	}
	if n := srv.count(); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
}

// isLocalBadRequest reports an ErrBadRequest that never reached a server.
func isLocalBadRequest(err error) bool {
	var e *Error
	return errors.Is(err, ErrBadRequest) && !errors.As(err, &e)
}

// TestEncodeQuery pins the wire form Asterisk parses: one key per parameter,
// several values of an allowMultiple parameter joined by literal commas.
func TestEncodeQuery(t *testing.T) {
	tests := []struct {
		name    string
		q       url.Values
		want    string
		wantErr bool
	}{
		{"one value", url.Values{"channel": {"c1"}}, "channel=c1", false},
		{"list joined", url.Values{"channel": {"caller-1", "leg-1"}}, "channel=caller-1,leg-1", false},
		{"media list", url.Values{"media": {"sound:vi/announce", "digits:0945550201"}, "lang": {"vi"}},
			"lang=vi&media=sound%3Avi%2Fannounce,digits%3A0945550201", false},
		{"escaped single value keeps its comma", url.Values{"callerId": {`"A, B" <1900>`}}, "callerId=%22A%2C+B%22+%3C1900%3E", false},
		{"empty list skipped", url.Values{"x": {}}, "", false},
		{"comma inside a list item", url.Values{"media": {"sound:a,b", "sound:c"}}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := encodeQuery(tt.q)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				if !errors.Is(err, ErrBadRequest) {
					t.Errorf("err = %v, want ErrBadRequest", err)
				}
				return
			}
			if got != tt.want {
				t.Errorf("encodeQuery = %s, want %s", got, tt.want)
			}
		})
	}
}
