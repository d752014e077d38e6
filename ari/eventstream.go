package ari

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/coder/websocket"
)

// maxMessage bounds one WebSocket message (events are a few kB).
const maxMessage = 4 << 20

// ErrDeadPeer is the cause of a disconnect when a ping got no pong within
// Config.PingTimeout.
var ErrDeadPeer = errors.New("ari: events socket: no pong (peer dead)")

// ConnState is the state of the events WebSocket.
type ConnState struct {
	// Node is the Config.Node of the client.
	Node string
	// Connected is true while the WebSocket is up.
	Connected bool
	// Connects counts successful connections of this Client. When it
	// grows past 1 the socket came back after a drop: events of the gap
	// are lost for good (Asterisk replays nothing), so the application
	// must reconcile its calls (GetApplication, GetChannel).
	Connects uint64
	// Replaced is true when Asterisk said another WebSocket took the
	// application over (ApplicationReplaced) on the current connection.
	Replaced bool
	// LastError is why the last connection ended or the last attempt
	// failed (it is kept after a successful reconnect); nil before any.
	LastError error
}

// State returns the current connection state and a channel that is closed
// at the next change, so a caller can wait for changes without polling:
//
//	for {
//		st, changed := c.State()
//		… act on st …
//		select { case <-changed: case <-ctx.Done(): return }
//	}
func (c *Client) State() (ConnState, <-chan struct{}) {
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	return c.state, c.changed
}

// Connected reports whether the events WebSocket is up.
func (c *Client) Connected() bool {
	st, _ := c.State()
	return st.Connected
}

// WaitConnected waits until the events WebSocket is up or ctx ends.
func (c *Client) WaitConnected(ctx context.Context) error {
	for {
		st, changed := c.State()
		if st.Connected {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (c *Client) updateState(f func(*ConnState)) {
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	f(&c.state)
	close(c.changed)
	c.changed = make(chan struct{})
}

// Run keeps the events WebSocket connected until ctx ends, reconnecting with
// exponential backoff and jitter, and returns nil then. Only one Run may be
// active per Client. Events reach subscriptions (Subscribe) while it runs.
func (c *Client) Run(ctx context.Context) error {
	c.stateMu.Lock()
	if c.running {
		c.stateMu.Unlock()
		return errors.New("ari: Run is already active on this client")
	}
	c.running = true
	c.stateMu.Unlock()
	defer func() {
		c.stateMu.Lock()
		c.running = false
		c.stateMu.Unlock()
	}()

	attempt := 0
	// refused is set once a 401/403 has been logged: wrong credentials are
	// said once, then retried quietly (debug) until the socket is up.
	refused := false
	for {
		up := false
		err := c.session(ctx, func() { up, attempt, refused = true, 0, false })
		if ctx.Err() != nil {
			return nil
		}
		switch {
		case up:
			c.log.Warn("ari: events socket lost", "err", err)
		case errors.Is(err, ErrUnauthorized) && refused:
			c.log.Debug("ari: events socket refused", "err", err, "attempt", attempt+1)
		case errors.Is(err, ErrUnauthorized):
			c.log.Error("ari: events socket refused: wrong ARI user or password; retrying quietly", "err", err)
			refused = true
		default:
			c.log.Warn("ari: events socket connect failed", "err", err, "attempt", attempt+1)
		}
		if !up {
			c.updateState(func(s *ConnState) { s.LastError = err })
		}
		delay := c.backoff(attempt)
		attempt++
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// backoff returns the delay before reconnect attempt n (0-based):
// BackoffMin·2ⁿ capped at BackoffMax, then jittered into [d/2, d].
func (c *Client) backoff(n int) time.Duration {
	d := c.backoffMin
	for i := 0; i < n && d < c.backoffMax; i++ {
		d *= 2
	}
	d = min(d, c.backoffMax)
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(d-half+1)
}

// session connects once and reads until the connection ends. onUp runs once
// the handshake succeeded.
func (c *Client) session(ctx context.Context, onUp func()) (err error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.CloseNow()
	conn.SetReadLimit(maxMessage)

	onUp()
	var connects uint64
	c.updateState(func(s *ConnState) {
		s.Connected, s.Replaced = true, false
		s.Connects++
		connects = s.Connects
	})
	c.obs.ConnectionState(c.node, true)
	if connects > 1 {
		c.log.Info("ari: events socket reconnected", "connects", connects)
		c.obs.Reconnected(c.node)
	} else {
		c.log.Info("ari: events socket connected")
	}
	defer func() {
		c.updateState(func(s *ConnState) { s.Connected, s.LastError = false, err })
		c.obs.ConnectionState(c.node, false)
	}()

	sctx, cancel := context.WithCancelCause(ctx)
	pinger := make(chan struct{})
	go func() {
		defer close(pinger)
		c.keepalive(sctx, conn, cancel)
	}()
	defer func() {
		cancel(nil)
		<-pinger
	}()
	// The session's end (ctx, or the pinger finding the peer dead) closes
	// the connection, which ends the read below. Reading with sctx itself
	// would set up and tear down the same watch for every message.
	stopClose := context.AfterFunc(sctx, func() { _ = conn.CloseNow() })
	defer stopClose()
	for {
		typ, data, rerr := conn.Read(context.Background())
		if rerr != nil {
			if cause := context.Cause(sctx); cause != nil && ctx.Err() == nil {
				return cause
			}
			return fmt.Errorf("ari: events socket read: %w", rerr)
		}
		if typ != websocket.MessageText {
			c.log.Warn("ari: ignoring binary WebSocket message", "bytes", len(data))
			continue
		}
		c.handle(data)
	}
}

// dial performs the WebSocket handshake with basic auth (the credentials
// never appear in the URL, so they cannot leak into logs).
func (c *Client) dial(ctx context.Context) (*websocket.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, c.dialTimeout)
	defer cancel()
	hdr := http.Header{}
	hdr.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.user+":"+c.password)))
	if c.debug {
		c.log.Info("ari wire ws dial", "url", c.wsURL)
	}
	conn, resp, err := websocket.Dial(dctx, c.wsURL, &websocket.DialOptions{HTTPClient: c.wsClient, HTTPHeader: hdr})
	if err != nil {
		if resp != nil && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) {
			return nil, &Error{Op: "events.connect", Method: "GET", Path: "/ari/events", Status: resp.StatusCode, User: c.user, URL: c.wsURL}
		}
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, &Error{Op: "events.connect", Method: "GET", Path: "/ari/events", Status: resp.StatusCode,
				Message: fmt.Sprintf("WebSocket handshake refused: %v", err)}
		}
		return nil, fmt.Errorf("ari: events socket dial %s: %w", c.wsURL, err)
	}
	return conn, nil
}

// keepalive pings every PingInterval; a ping without pong within
// PingTimeout ends the session with ErrDeadPeer.
func (c *Client) keepalive(ctx context.Context, conn *websocket.Conn, stop context.CancelCauseFunc) {
	t := time.NewTicker(c.pingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, c.pingTimeout)
		err := conn.Ping(pctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				stop(fmt.Errorf("%w after %s: %w", ErrDeadPeer, c.pingTimeout, err))
			}
			return
		}
	}
}

// handle decodes one message and queues it for the subscribers; it never
// blocks.
func (c *Client) handle(data []byte) {
	if c.debug {
		c.log.Info("ari wire event", "json", string(data))
	}
	ev, err := DecodeEvent(data)
	if ev == nil {
		const max = 512
		c.log.Error("ari: undecodable WebSocket message", "err", err, "message", string(data[:min(len(data), max)]))
		c.obs.EventReceived(c.node, "invalid")
		return
	}
	b := ev.Base()
	if err != nil {
		c.log.Warn("ari: event delivered undecoded", "type", b.Type, "err", err)
	}
	b.Node = c.node
	c.obs.EventReceived(c.node, b.Type)
	if _, ok := ev.(*ApplicationReplaced); ok {
		c.log.Warn("ari: another WebSocket took over the application; this one gets no more events for it",
			"app", b.Application)
		c.updateState(func(s *ConnState) { s.Replaced = true })
	}
	c.disp.dispatch(ev)
}
