package ari

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// wsServer is a minimal events endpoint: it checks auth and app, accepts the
// WebSocket and hands each connection to the test.
type wsServer struct {
	*httptest.Server
	conns   chan *websocket.Conn
	accepts atomic.Int32
	// noPong lists connection numbers (1-based) that never answer pings.
	noPong map[int32]bool
	// refuse makes the handshake fail with this status when non-zero.
	refuse atomic.Int32
}

func newWSServer(t *testing.T, noPong ...int32) *wsServer {
	t.Helper()
	s := &wsServer{conns: make(chan *websocket.Conn, 16), noPong: map[int32]bool{}}
	for _, n := range noPong {
		s.noPong[n] = true
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ari/events" || r.URL.Query().Get("app") != "hotline" || r.URL.Query().Get("subscribeAll") != "false" {
			http.Error(w, "bad events URL "+r.URL.String(), http.StatusBadRequest)
			return
		}
		if code := s.refuse.Load(); code != 0 {
			http.Error(w, `{"error":"refused"}`, int(code))
			return
		}
		if u, p, ok := r.BasicAuth(); !ok || u != "hotline" || p != "s3cret-pw" {
			http.Error(w, `{"error":"Authentication required"}`, http.StatusUnauthorized)
			return
		}
		n := s.accepts.Add(1)
		dead := s.noPong[n]
		conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
			OnPingReceived: func(context.Context, []byte) bool { return !dead },
		})
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		// Read (and drop) client frames so pings/closes are processed.
		conn.CloseRead(context.Background())
		s.conns <- conn
	}))
	t.Cleanup(s.Close)
	return s
}

// next returns the next accepted connection.
func (s *wsServer) next(t *testing.T) *websocket.Conn {
	t.Helper()
	select {
	case c := <-s.conns:
		t.Cleanup(func() { c.CloseNow() })
		return c
	case <-time.After(waitTimeout):
		t.Fatal("no WebSocket connection")
		return nil
	}
}

func send(t *testing.T, conn *websocket.Conn, msgs ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, m := range msgs {
		if err := conn.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
}

func streamClient(t *testing.T, url string, obs Observer, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		URL: url, User: "hotline", Password: "s3cret-pw", App: "hotline", Node: "ast1",
		DialTimeout: 2 * time.Second, BackoffMin: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond,
		// A pong may take seconds on a loaded machine: only the dead-peer
		// test wants a ping to fail.
		PingInterval: time.Second, PingTimeout: waitTimeout, Observer: obs,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// run starts c.Run and stops it at cleanup, checking it returns nil.
func run(t *testing.T, c *Client) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v", err)
			}
		case <-time.After(waitTimeout):
			t.Error("Run did not return")
		}
	})
}

// waitState waits until pred holds for the client's state.
func waitState(t *testing.T, c *Client, what string, pred func(ConnState) bool) ConnState {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for {
		st, changed := c.State()
		if pred(st) {
			return st
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("waiting for %s: last state %+v", what, st)
		}
	}
}

func TestStreamDeliversTypedEvents(t *testing.T) {
	srv := newWSServer(t)
	obs := &recObserver{}
	c := streamClient(t, srv.URL, obs, nil)
	// Subscribe before anything exists, like an app that chose the id.
	leg := c.Subscribe(ChannelKey("1795555375.5"))
	defer leg.Close()
	starts := c.Subscribe(TypeKey(TypeStasisStart))
	defer starts.Close()
	run(t, c)
	conn := srv.next(t)
	if err := c.WaitConnected(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	send(t, conn,
		string(readEvent(t, "stasisstart_caller")),
		`{"type":`, // garbage is logged, never delivered, never fatal
		string(readEvent(t, "dtmf_2")),
		string(readEvent(t, "playback_finished")),
		string(readEvent(t, "destroyed_normal")))

	st := next(t, starts).(*StasisStart)
	if st.Channel.ID != "1795554020.1" || st.Node != "ast1" || st.AsteriskID != "02:fc:00:00:00:01" {
		t.Errorf("StasisStart = %+v", st)
	}
	dtmf, ok := next(t, leg).(*ChannelDTMFReceived)
	if !ok || dtmf.Digit != "2" || dtmf.Node != "ast1" {
		t.Fatalf("first leg event = %+v", dtmf)
	}
	if pb, ok := next(t, leg).(*PlaybackFinished); !ok || pb.Playback.ID != "ba27c0c7-41eb-4216-a391-9f72c7d1a1e7" {
		t.Errorf("second leg event = %+v", pb)
	}
	if d, ok := next(t, leg).(*ChannelDestroyed); !ok || d.Cause != 16 {
		t.Errorf("third leg event = %+v", d)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	want := []string{TypeStasisStart, "invalid", TypeChannelDtmfReceived, TypePlaybackFinished, TypeChannelDestroyed}
	if fmt.Sprint(obs.events) != fmt.Sprint(want) {
		t.Errorf("observer events = %v, want %v", obs.events, want)
	}
}

func TestStreamReconnects(t *testing.T) {
	srv := newWSServer(t)
	obs := &recObserver{}
	c := streamClient(t, srv.URL, obs, nil)
	sub := c.Subscribe(ChannelKey("1795555375.5"))
	defer sub.Close()
	run(t, c)

	first := srv.next(t)
	st := waitState(t, c, "first connect", func(s ConnState) bool { return s.Connected && s.Connects == 1 })
	if st.Node != "ast1" {
		t.Errorf("state node %q", st.Node)
	}
	first.CloseNow() // Asterisk restarts, the socket dies

	second := srv.next(t)
	st = waitState(t, c, "reconnect", func(s ConnState) bool { return s.Connected && s.Connects == 2 })
	if st.LastError == nil {
		t.Error("LastError not kept after the reconnect")
	}
	// The subscription survived the reconnect.
	send(t, second, string(readEvent(t, "dtmf_2")))
	if ev, ok := next(t, sub).(*ChannelDTMFReceived); !ok || ev.Digit != "2" {
		t.Errorf("after reconnect got %+v", ev)
	}
	// The observer hears of the reconnect right after the state changes.
	eventually(t, "observer saw the reconnect", func() bool {
		obs.mu.Lock()
		defer obs.mu.Unlock()
		return obs.reconn == 1 && fmt.Sprint(obs.states) == "[true false true]"
	})
}

// waitTimeout bounds every wait for something asynchronous. A passing test
// never waits it out, so it is generous: under -race on a busy 2-core
// machine, what takes milliseconds idle can take seconds.
const waitTimeout = 20 * time.Second

// eventually polls cond until it holds or a generous deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestStreamDetectsDeadPeer(t *testing.T) {
	srv := newWSServer(t, 1) // the first connection never answers pings
	c := streamClient(t, srv.URL, nil, func(cfg *Config) {
		cfg.PingInterval = 30 * time.Millisecond
		cfg.PingTimeout = 60 * time.Millisecond
	})
	run(t, c)
	srv.next(t)
	srv.next(t) // the client gave up on the silent peer and came back
	// (On a loaded machine a late pong may end that connection too: at
	// least the second.)
	st := waitState(t, c, "reconnect after dead peer", func(s ConnState) bool { return s.Connected && s.Connects >= 2 })
	if !errors.Is(st.LastError, ErrDeadPeer) {
		t.Errorf("LastError = %v, want ErrDeadPeer", st.LastError)
	}
}

func TestStreamUnauthorized(t *testing.T) {
	srv := newWSServer(t)
	c := streamClient(t, srv.URL, nil, func(cfg *Config) { cfg.Password = "wrong-pw" })
	run(t, c)
	st := waitState(t, c, "a refused attempt", func(s ConnState) bool { return s.LastError != nil })
	if !errors.Is(st.LastError, ErrUnauthorized) || st.Connected {
		t.Fatalf("state = %+v", st)
	}
	msg := st.LastError.Error()
	if strings.Contains(msg, "wrong-pw") || !strings.Contains(msg, `"hotline"`) || !strings.Contains(msg, "/ari/events") {
		t.Errorf("message = %s", msg)
	}
	// A server error during the handshake is a typed error too.
	srv.refuse.Store(http.StatusServiceUnavailable)
	waitState(t, c, "a 503", func(s ConnState) bool { return errors.Is(s.LastError, ErrServer) })
}

func TestStreamApplicationReplaced(t *testing.T) {
	srv := newWSServer(t)
	c := streamClient(t, srv.URL, nil, nil)
	all := c.Subscribe(AllKey())
	defer all.Close()
	run(t, c)
	conn := srv.next(t)
	send(t, conn, string(readEvent(t, "application_replaced")))
	if _, ok := next(t, all).(*ApplicationReplaced); !ok {
		t.Fatal("ApplicationReplaced not delivered")
	}
	waitState(t, c, "replaced", func(s ConnState) bool { return s.Replaced && s.Connected })
	// The socket stays open and keeps delivering what still comes.
	send(t, conn, string(readEvent(t, "stasisend")))
	if _, ok := next(t, all).(*StasisEnd); !ok {
		t.Fatal("events stopped after ApplicationReplaced")
	}
}

func TestStreamOrderAndSlowSubscriberOverWebSocket(t *testing.T) {
	srv := newWSServer(t)
	c := streamClient(t, srv.URL, nil, nil)
	slow := c.Subscribe(AllKey()) // reads nothing until the end
	defer slow.Close()
	subs := map[string]*Subscription{"A": c.Subscribe(ChannelKey("A")), "B": c.Subscribe(ChannelKey("B"))}
	for _, s := range subs {
		defer s.Close()
	}
	run(t, c)
	conn := srv.next(t)
	const n = 1500
	ids := func(i int) string { return []string{"A", "B", "A"}[i%3] }
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for i := range n {
			msg := fmt.Sprintf(`{"type":"ChannelVarset","application":"hotline","asterisk_id":"x","timestamp":"2026-11-24T21:00:20.706+0000","variable":"SEQ","value":"%d","channel":{"id":"%s"}}`, i, ids(i))
			if conn.Write(ctx, websocket.MessageText, []byte(msg)) != nil {
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for id, s := range subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				if ids(i) != id {
					continue
				}
				ev := next(t, s).(*ChannelVarset)
				if ev.Value != fmt.Sprint(i) || ev.Channel.ID != id {
					t.Errorf("%s: got %s#%s, want #%d", id, ev.Channel.ID, ev.Value, i)
					return
				}
			}
		}()
	}
	wg.Wait() // both fast subscribers got everything while slow read nothing
	for i := range n {
		if ev := next(t, slow).(*ChannelVarset); ev.Value != fmt.Sprint(i) {
			t.Fatalf("slow[%d] = %s", i, ev.Value)
		}
	}
}

func TestRunTwiceRefused(t *testing.T) {
	srv := newWSServer(t)
	c := streamClient(t, srv.URL, nil, nil)
	run(t, c)
	srv.next(t)
	waitState(t, c, "connected", func(s ConnState) bool { return s.Connected })
	if err := c.Run(testCtx(t)); err == nil {
		t.Error("second Run accepted")
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestDebugLogsWireButNeverThePassword(t *testing.T) {
	rest := newRESTServer(t)
	ws := newWSServer(t)
	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mk := func(url string) *Client {
		return streamClient(t, url, nil, func(cfg *Config) { cfg.Debug, cfg.Logger = true, log })
	}
	rest.reply(404, `{"message":"Channel not found"}`)
	if err := mk(rest.URL).Answer(testCtx(t), "c1"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	c := mk(ws.URL)
	sub := c.Subscribe(AllKey())
	defer sub.Close()
	run(t, c)
	send(t, ws.next(t), string(readEvent(t, "dtmf_2")))
	next(t, sub)
	out := buf.String()
	for _, want := range []string{"ari wire request", "/channels/c1/answer", "Channel not found", "ari wire ws dial", "ChannelDtmfReceived"} {
		if !strings.Contains(out, want) {
			t.Errorf("debug log lacks %q", want)
		}
	}
	if strings.Contains(out, "s3cret-pw") || strings.Contains(out, base64.StdEncoding.EncodeToString([]byte("hotline:s3cret-pw"))) {
		t.Error("debug log contains the password")
	}
}
