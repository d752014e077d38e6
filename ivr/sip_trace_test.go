package ivr_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// ariRecorder is a loopback HTTP proxy between the hotline's ARI client and
// Asterisk that passes everything through and keeps what the hotline sent
// and received: its REST requests with their answers, and the events of its
// WebSocket. The SIP scenarios check what PJSIP really did through it, and
// with HOTLINE_TEST_RECORD_TRACES=DIR write it as a trace in the replay
// format of ari/aritest/testdata/traces (see ari/aritest/testdata/trim.py):
// {"k":"phone"…} lines for the gateways' behaviour, {"k":"call"} / "press" /
// "hangup" for what the café did, then "request"/"response"/"event" lines.
type ariRecorder struct {
	t        *testing.T
	upstream *url.URL // http://host:port of Asterisk
	srv      *httptest.Server
	hc       *http.Client
	start    time.Time

	mu    sync.Mutex
	steps []*recStep
	wg    sync.WaitGroup
}

// recStep is one line of the trace; resp is written right after its request
// (requests can overlap; the replay reads a request's answer from the next
// line).
type recStep struct {
	line map[string]any
	resp map[string]any
	ev   *recEvent
}

// recEvent is the part of an event the scenarios look at.
type recEvent struct {
	Type    string `json:"type"`
	Channel *struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		State  string `json:"state"`
		Caller struct {
			Name   string `json:"name"`
			Number string `json:"number"`
		} `json:"caller"`
	} `json:"channel"`
	Peer *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"peer"`
	DialStatus *string `json:"dialstatus"`
	Cause      *int    `json:"cause"`
	TechCause  *int    `json:"tech_cause"`
	Soft       bool    `json:"soft"`
	Digit      string  `json:"digit"`
}

// channelID is the event's channel (or, for Dial, its peer).
func (e *recEvent) channelID() string {
	switch {
	case e.Peer != nil:
		return e.Peer.ID
	case e.Channel != nil:
		return e.Channel.ID
	}
	return ""
}

func (e *recEvent) channelName() string {
	switch {
	case e.Peer != nil:
		return e.Peer.Name
	case e.Channel != nil:
		return e.Channel.Name
	}
	return ""
}

// startARIRecorder proxies to the ARI base URL rawURL until the test ends.
func startARIRecorder(t *testing.T, rawURL string) *ariRecorder {
	t.Helper()
	u, err := url.Parse(strings.TrimSuffix(strings.TrimRight(rawURL, "/"), "/ari"))
	if err != nil || u.Scheme != "http" {
		t.Fatalf("ari recorder: %q is not an http URL", rawURL)
	}
	r := &ariRecorder{t: t, upstream: u, hc: &http.Client{Timeout: 15 * time.Second}, start: time.Now()}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(func() {
		r.srv.CloseClientConnections()
		r.srv.Close()
		r.wg.Wait()
	})
	return r
}

// url is the ARI base URL through the recorder.
func (r *ariRecorder) url() string { return r.srv.URL }

func (r *ariRecorder) since() int64 { return time.Since(r.start).Milliseconds() }

func (r *ariRecorder) add(s *recStep) {
	r.mu.Lock()
	r.steps = append(r.steps, s)
	r.mu.Unlock()
}

func (r *ariRecorder) serve(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path == "/ari/events" {
		r.serveEvents(w, req)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	line := map[string]any{"t": r.since(), "k": "request", "method": req.Method, "path": req.URL.Path,
		"query": map[string][]string(req.URL.Query())}
	if v := jsonValue(body); v != nil {
		line["body"] = v
	}
	s := &recStep{line: line}
	r.add(s)
	up, err := http.NewRequestWithContext(req.Context(), req.Method, r.upstream.String()+req.URL.RequestURI(),
		bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	for _, h := range []string{"Authorization", "Content-Type", "Accept"} {
		if v := req.Header.Get(h); v != "" {
			up.Header.Set(h, v)
		}
	}
	res, err := r.hc.Do(up)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer res.Body.Close()
	rbody, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	r.mu.Lock()
	s.resp = map[string]any{"t": r.since(), "k": "response", "status": res.StatusCode, "body": jsonValue(rbody)}
	r.mu.Unlock()
	for k, vs := range res.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(res.StatusCode)
	_, _ = w.Write(rbody)
}

// serveEvents relays the events WebSocket, keeping every event.
func (r *ariRecorder) serveEvents(w http.ResponseWriter, req *http.Request) {
	wsURL := *r.upstream
	wsURL.Scheme = "ws"
	wsURL.Path = req.URL.Path
	wsURL.RawQuery = req.URL.RawQuery
	hdr := http.Header{}
	if v := req.Header.Get("Authorization"); v != "" {
		hdr.Set("Authorization", v)
	}
	dctx, cancel := context.WithTimeout(req.Context(), 10*time.Second)
	up, res, err := websocket.Dial(dctx, wsURL.String(), &websocket.DialOptions{HTTPHeader: hdr})
	cancel()
	if err != nil {
		status := http.StatusBadGateway
		if res != nil {
			status = res.StatusCode
		}
		http.Error(w, err.Error(), status)
		return
	}
	up.SetReadLimit(16 << 20)
	down, err := websocket.Accept(w, req, nil)
	if err != nil {
		_ = up.CloseNow()
		return
	}
	r.wg.Add(1)
	defer r.wg.Done()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() {
		// The client sends nothing but control frames; reading answers them
		// and notices its close.
		defer stop()
		for {
			if _, _, err := down.Read(ctx); err != nil {
				return
			}
		}
	}()
	for {
		typ, msg, err := up.Read(ctx)
		if err != nil {
			break
		}
		r.event(msg)
		if err := down.Write(ctx, typ, msg); err != nil {
			break
		}
	}
	_ = up.CloseNow()
	_ = down.CloseNow()
}

func (r *ariRecorder) event(msg []byte) {
	var ev recEvent
	if err := json.Unmarshal(msg, &ev); err != nil {
		r.t.Logf("ari recorder: undecodable event %q: %v", msg, err)
		return
	}
	r.add(&recStep{line: map[string]any{"t": r.since(), "k": "event", "ws": "hot", "event": jsonValue(msg)}, ev: &ev})
}

// jsonValue decodes b (keeping numbers as they are), nil when it is empty
// or not JSON.
func jsonValue(b []byte) any {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	return v
}

// events returns the events received so far.
func (r *ariRecorder) events() []*recEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*recEvent
	for _, s := range r.steps {
		if s.ev != nil {
			out = append(out, s.ev)
		}
	}
	return out
}

// channelEvents returns the events of the channels whose name starts with
// prefix ("PJSIP/gw-vinaphone-").
func (r *ariRecorder) channelEvents(prefix string) []*recEvent {
	var out []*recEvent
	for _, e := range r.events() {
		if strings.HasPrefix(e.channelName(), prefix) {
			out = append(out, e)
		}
	}
	return out
}

// requestCount counts the requests whose "METHOD path" contains s.
func (r *ariRecorder) requestCount(s string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, st := range r.steps {
		if st.line["k"] == "request" && strings.Contains(st.line["method"].(string)+" "+st.line["path"].(string), s) {
			n++
		}
	}
	return n
}

// traceDirEnv names the directory the SIP scenarios write their traces to.
const traceDirEnv = "HOTLINE_TEST_RECORD_TRACES"

// write saves the trace as DIR/name.jsonl when HOTLINE_TEST_RECORD_TRACES
// is set. head comes first (a note, the phones); the café's channel is the
// first one named callerPrefix ("PJSIP/cafe-trunk-"): its StasisStart gets a
// "call" step, its keys "press" steps and its own hangup (a BYE: no cause)
// a "hangup" step, each just before the event, as trim.py makes them.
// ChannelVarset events are left out (bookkeeping noise, as in trim.py).
func (r *ariRecorder) write(name, callerPrefix string, head []map[string]any) {
	dir := os.Getenv(traceDirEnv)
	if dir == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	put := func(v map[string]any) {
		if err := enc.Encode(v); err != nil {
			r.t.Errorf("trace %s: %v", name, err)
		}
	}
	for _, h := range head {
		put(h)
	}
	caller := ""
	for _, s := range r.steps {
		if e := s.ev; e != nil {
			if e.Type == "ChannelVarset" {
				continue
			}
			t := s.line["t"]
			if e.Channel != nil && e.Peer == nil {
				id := e.Channel.ID
				switch {
				case caller == "" && e.Type == "StasisStart" && strings.HasPrefix(e.Channel.Name, callerPrefix):
					caller = id
					put(map[string]any{"t": t, "k": "call", "tech": "PJSIP", "trunk": "cafe-trunk",
						"number": e.Channel.Caller.Number, "name": e.Channel.Caller.Name})
				case id == caller && e.Type == "ChannelDtmfReceived":
					put(map[string]any{"t": t, "k": "press", "digits": e.Digit})
				case id == caller && e.Type == "ChannelHangupRequest" && e.Cause == nil:
					put(map[string]any{"t": t, "k": "hangup"})
				}
			}
		}
		put(s.line)
		if s.resp != nil {
			put(s.resp)
		}
	}
	path := filepath.Join(dir, name+".jsonl")
	if err := os.MkdirAll(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		r.t.Errorf("trace %s: %v", name, err)
		return
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		r.t.Errorf("trace %s: %v", name, err)
		return
	}
	r.t.Logf("trace written to %s", path)
}
