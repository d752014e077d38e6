package arifake

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// wsConn is one events WebSocket. Events are queued by the state machine (never
// blocking it) and written in order by one writer goroutine.
type wsConn struct {
	n    int
	apps []string
	c    *websocket.Conn

	mu      sync.Mutex
	q       [][]byte // nil: cut the socket here (cutAfterQueued)
	cutting bool     // a cut is queued; nothing more is
	wake    chan struct{}
	done    chan struct{}
	killed  sync.Once
}

func (c *wsConn) push(b []byte, max int) {
	c.mu.Lock()
	if c.cutting {
		c.mu.Unlock()
		return
	}
	if len(c.q) >= max {
		c.mu.Unlock()
		// Asterisk drops a reader that cannot keep up; so does the fake.
		go c.kill()
		return
	}
	c.q = append(c.q, b)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// cutAfterQueued makes the writer close the socket abruptly (as kill) once the
// events queued so far are written; nothing pushed later is sent.
func (c *wsConn) cutAfterQueued() {
	c.mu.Lock()
	c.q = append(c.q, nil)
	c.cutting = true
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// kill closes the socket abruptly (no close frame), like a crashed peer.
func (c *wsConn) kill() {
	c.killed.Do(func() {
		close(c.done)
		c.mu.Lock()
		wc := c.c
		c.mu.Unlock()
		if wc != nil {
			_ = wc.CloseNow()
		}
	})
}

func (c *wsConn) writer(timeout time.Duration) {
	for {
		select {
		case <-c.done:
			return
		case <-c.wake:
		}
		for {
			c.mu.Lock()
			q := c.q
			c.q = nil
			c.mu.Unlock()
			if len(q) == 0 {
				break
			}
			for _, b := range q {
				if b == nil {
					c.kill()
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				err := c.c.Write(ctx, websocket.MessageText, b)
				cancel()
				if err != nil {
					c.kill()
					return
				}
			}
		}
	}
}

// handleEvents serves GET /ari/events?app=a[,b]&subscribeAll=bool. Unlike the
// REST operations it takes the FIRST app= and subscribeAll= of the query
// (ari_websockets.c uses ast_variable_find_in_list); names are trimmed, and
// an empty one refuses the socket.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	first := func(name string) (string, bool) {
		for _, p := range parsePairs(r.URL.RawQuery) {
			if p.key == name {
				return p.value, true
			}
		}
		return "", false
	}
	appParam, _ := first("app")
	if appParam == "" {
		writeErr(w, http.StatusBadRequest, "HTTP request is missing param: [app]")
		return
	}
	var names []string
	for _, n := range strings.Split(appParam, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			writeErr(w, http.StatusInternalServerError, "Failed to create ARI websocket session")
			return
		}
		names = append(names, n)
	}
	sub, _ := first("subscribeAll")
	subAll := astTrue(sub)
	c := &wsConn{apps: names, wake: make(chan struct{}, 1), done: make(chan struct{})}

	// Register before the handshake completes, so that once a client sees its
	// socket open the application is active (events queue until the writer runs).
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		writeErr(w, http.StatusServiceUnavailable, "Shutting down")
		return
	}
	s.connSeq++
	c.n = s.connSeq
	s.conns[c] = struct{}{}
	for _, n := range names {
		a := s.apps[n]
		if a == nil || s.finished(a) {
			// New, or dropped by Asterisk meanwhile (its filter with it).
			a = &application{name: n}
			s.apps[n] = a
		}
		if a.conn != nil && a.conn != c {
			// The old socket is told and keeps living, but gets nothing more.
			s.sendTo(a.conn, n, event{Type: "ApplicationReplaced"})
		}
		a.conn = c
		a.subscribeAll = subAll
	}
	s.requests = append(s.requests, Request{At: time.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Status: http.StatusSwitchingProtocols})
	s.notify()
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	wc, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"ari"}, InsecureSkipVerify: true})
	if err != nil {
		s.log.Debug("websocket accept", "err", err)
		s.unregister(c)
		return
	}
	wc.SetReadLimit(1 << 20)
	c.mu.Lock()
	c.c = wc
	c.mu.Unlock()
	select {
	case <-c.done: // cut or closed while handshaking
		_ = wc.CloseNow()
		s.unregister(c)
		return
	default:
	}
	s.log.Debug("websocket connected", "apps", names, "conn", c.n)

	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		c.writer(s.opts.WriteTimeout)
	}()
	// Read until the peer goes away; this also answers pings and close frames.
	ctx := context.Background()
	for {
		if _, _, err := wc.Read(ctx); err != nil {
			break
		}
	}
	c.kill()
	s.unregister(c)
	s.log.Debug("websocket gone", "apps", names, "conn", c.n)
}

// unregister forgets a connection and deactivates the apps it served.
func (s *Server) unregister(c *wsConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	for _, n := range c.apps {
		if a := s.apps[n]; a != nil && a.conn == c {
			a.conn = nil
		}
	}
	s.notify()
}

// CutWebSocket closes app's WebSocket abruptly from the server side (no close
// frame, like a network cut or an Asterisk crash). It reports whether there was
// one. Channels stay where they are; nothing is replayed on reconnect.
func (s *Server) CutWebSocket(app string) bool {
	s.mu.Lock()
	a := s.apps[app]
	var c *wsConn
	if a != nil {
		c = a.conn
		a.conn = nil
	}
	s.notify()
	s.mu.Unlock()
	if c == nil {
		return false
	}
	c.kill()
	return true
}
