package arifake

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// tclient is a tiny test-local ARI client (plain net/http + coder/websocket) so
// these tests depend on nothing but the wire protocol.
type tclient struct {
	base, user, pass string
	hc               *http.Client
}

func newTClient(base, user, pass string) *tclient {
	return &tclient{base: strings.TrimRight(base, "/"), user: user, pass: pass, hc: &http.Client{Timeout: 10 * time.Second}}
}

type resp struct {
	status int
	body   []byte
}

func (r resp) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r resp) message() string {
	var m map[string]string
	_ = json.Unmarshal(r.body, &m)
	if m["message"] != "" {
		return m["message"]
	}
	return m["error"]
}

// do sends method path?kv… ; kv are alternating names and values.
func (c *tclient) do(ctx context.Context, method, path string, kv ...string) (resp, error) {
	return c.doBody(ctx, method, path, nil, kv...)
}

func (c *tclient) doBody(ctx context.Context, method, path string, body any, kv ...string) (resp, error) {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Add(kv[i], kv[i+1])
	}
	u := c.base + "/ari" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return resp{}, err
		}
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return resp{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(c.user, c.pass)
	res, err := c.hc.Do(req)
	if err != nil {
		return resp{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, body: b}, err
}

// doRaw sends a request with rawQuery as is (repeated keys, no re-encoding)
// and, if body is not empty, that body with Content-Type ctype.
func (c *tclient) doRaw(ctx context.Context, method, path, rawQuery, ctype, body string) (resp, error) {
	u := c.base + "/ari" + path
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return resp{}, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.SetBasicAuth(c.user, c.pass)
	res, err := c.hc.Do(req)
	if err != nil {
		return resp{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, body: b}, err
}

// must is do + a status check.
func (c *tclient) must(t testing.TB, ctx context.Context, want int, method, path string, kv ...string) resp {
	t.Helper()
	r, err := c.do(ctx, method, path, kv...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if r.status != want {
		t.Fatalf("%s %s: status %d (%s), want %d", method, path, r.status, r.body, want)
	}
	return r
}

// ev is a decoded ARI event with the fields the tests look at.
type ev struct {
	Type       string `json:"type"`
	Timestamp  string `json:"timestamp"`
	App        string `json:"application"`
	AsteriskID string `json:"asterisk_id"`
	Channel    *struct {
		ID     string   `json:"id"`
		Name   string   `json:"name"`
		State  string   `json:"state"`
		Caller CallerID `json:"caller"`
	} `json:"channel"`
	Peer *struct {
		ID    string `json:"id"`
		State string `json:"state"`
	} `json:"peer"`
	DialStatus *string  `json:"dialstatus"`
	Cause      *int     `json:"cause"`
	TechCause  *int     `json:"tech_cause"`
	Soft       bool     `json:"soft"`
	Digit      string   `json:"digit"`
	DurationMS int      `json:"duration_ms"`
	Args       []string `json:"args"`
	Playback   *struct {
		ID           string `json:"id"`
		State        string `json:"state"`
		MediaURI     string `json:"media_uri"`
		NextMediaURI string `json:"next_media_uri"`
	} `json:"playback"`
	Bridge *struct {
		ID       string   `json:"id"`
		Channels []string `json:"channels"`
	} `json:"bridge"`
	Recording *struct {
		Name     string `json:"name"`
		State    string `json:"state"`
		Duration *int   `json:"duration"`
	} `json:"recording"`
	raw []byte
}

func (e ev) chanID() string {
	if e.Channel != nil {
		return e.Channel.ID
	}
	if e.Peer != nil {
		return e.Peer.ID
	}
	return ""
}

func (e ev) String() string {
	s := e.Type
	if id := e.chanID(); id != "" {
		s += " " + id
	}
	if e.DialStatus != nil {
		s += fmt.Sprintf(" dialstatus=%q", *e.DialStatus)
	}
	if e.Cause != nil {
		s += fmt.Sprintf(" cause=%d", *e.Cause)
	}
	if e.Soft {
		s += " soft"
	}
	return s
}

// stream is one events WebSocket; a reader goroutine keeps every event.
type stream struct {
	conn *websocket.Conn
	mu   sync.Mutex
	evs  []ev
	pos  int
	err  error
	wake chan struct{}
}

func (c *tclient) events(ctx context.Context, app string) (*stream, error) {
	return c.eventsURL(ctx, "ws"+strings.TrimPrefix(c.base, "http")+"/ari/events?"+url.Values{
		"app": {app}, "subscribeAll": {"false"}, "api_key": {c.user + ":" + c.pass},
	}.Encode())
}

// eventsURL opens the events WebSocket at u as given.
func (c *tclient) eventsURL(ctx context.Context, u string) (*stream, error) {
	conn, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	st := &stream{conn: conn, wake: make(chan struct{}, 1)}
	go st.read()
	return st, nil
}

func (st *stream) read() {
	for {
		_, b, err := st.conn.Read(context.Background())
		st.mu.Lock()
		if err != nil {
			st.err = err
			st.mu.Unlock()
			st.poke()
			return
		}
		var e ev
		if jerr := json.Unmarshal(b, &e); jerr == nil {
			e.raw = b
			st.evs = append(st.evs, e)
		}
		st.mu.Unlock()
		st.poke()
	}
}

func (st *stream) poke() {
	select {
	case st.wake <- struct{}{}:
	default:
	}
}

func (st *stream) close() { _ = st.conn.Close(websocket.StatusNormalClosure, "") }

// all returns every event received so far.
func (st *stream) all() []ev {
	st.mu.Lock()
	defer st.mu.Unlock()
	return append([]ev(nil), st.evs...)
}

// next waits for the next event matching pred (nil = any), skipping others.
func (st *stream) next(ctx context.Context, pred func(ev) bool) (ev, error) {
	for {
		st.mu.Lock()
		for st.pos < len(st.evs) {
			e := st.evs[st.pos]
			st.pos++
			if pred == nil || pred(e) {
				st.mu.Unlock()
				return e, nil
			}
		}
		err := st.err
		st.mu.Unlock()
		if err != nil {
			return ev{}, fmt.Errorf("stream closed: %w", err)
		}
		select {
		case <-ctx.Done():
			return ev{}, ctx.Err()
		case <-st.wake:
		}
	}
}

// want waits for an event of type typ about channel id ("" = any).
func (st *stream) want(t testing.TB, ctx context.Context, typ, id string) ev {
	t.Helper()
	e, err := st.next(ctx, func(e ev) bool { return e.Type == typ && (id == "" || e.chanID() == id) })
	if err != nil {
		t.Fatalf("waiting for %s %s: %v; got so far: %v", typ, id, err, st.all())
	}
	return e
}

// waitClosed waits until the server side closed the socket.
func (st *stream) waitClosed(ctx context.Context) error {
	for {
		st.mu.Lock()
		err := st.err
		st.mu.Unlock()
		if err != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-st.wake:
		}
	}
}
