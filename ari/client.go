package ari

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	fastjson "github.com/segmentio/encoding/json"
)

// Defaults for the zero values of Config.
const (
	DefaultRequestTimeout = 10 * time.Second
	DefaultDialTimeout    = 5 * time.Second
	DefaultBackoffMin     = 500 * time.Millisecond
	DefaultBackoffMax     = 30 * time.Second
	DefaultPingInterval   = 5 * time.Second
	DefaultPingTimeout    = 5 * time.Second
	DefaultQueueLimit     = 100_000
	// maxErrorBody bounds how much of an error body is read.
	maxErrorBody = 64 << 10
	// maxResponseBody bounds a successful response body.
	maxResponseBody = 16 << 20
)

// Config configures a Client for one Asterisk node.
type Config struct {
	// URL is Asterisk's HTTP base, e.g. "http://127.0.0.1:8088". A trailing
	// "/ari" is accepted. Required.
	URL string
	// User and Password are the ARI credentials (ari.conf). Required.
	User, Password string
	// App is the Stasis application name (the argument of Stasis() in the
	// dialplan). Required.
	App string
	// Node names this Asterisk server in logs, metrics and EventBase.Node;
	// the URL's host when empty.
	Node string

	// HTTPClient is used for REST calls when given; never pass a client
	// without timeouts. When nil, REST calls to an http:// URL (no proxy in
	// the environment) go over the client's own kept connections
	// (conns.go), and net/http with RequestTimeout and DialTimeout carries
	// the rest (https, a proxy, a recording's file).
	HTTPClient *http.Client
	// RequestTimeout bounds each REST call (also applied through the
	// context when HTTPClient is given). DefaultRequestTimeout when zero.
	RequestTimeout time.Duration
	// DialTimeout bounds TCP connects and the WebSocket handshake.
	DialTimeout time.Duration

	// BackoffMin and BackoffMax bound the delay between WebSocket
	// reconnects (exponential, with jitter).
	BackoffMin, BackoffMax time.Duration
	// PingInterval is how often the WebSocket is pinged; PingTimeout how
	// long a pong may take before the connection is declared dead.
	PingInterval, PingTimeout time.Duration
	// QueueLimit is the hard bound on events waiting for one subscriber.
	// Reaching it is an error (logged and reported to the Observer).
	QueueLimit int

	// Logger receives the client's logs; discarded when nil.
	Logger *slog.Logger
	// Observer receives measurements; no-op when nil.
	Observer Observer
	// Debug logs REST and WebSocket traffic (never the password). Also
	// enabled by a non-empty ARI_DEBUG environment variable.
	Debug bool
}

// Client talks to one Asterisk node: REST calls, and (after Run is started)
// the events WebSocket. It is safe for concurrent use.
type Client struct {
	base     string // http://host:port/ari
	wsURL    string // ws://host:port/ari/events?app=…
	user     string
	password string
	app      string
	node     string

	hc             *http.Client
	rest           *conns // REST requests' own transport (plain http, no HTTPClient given); nil: hc
	basePath       string // path of base, for rest's request lines
	wsClient       *http.Client
	requestTimeout time.Duration
	dialTimeout    time.Duration
	backoffMin     time.Duration
	backoffMax     time.Duration
	pingInterval   time.Duration
	pingTimeout    time.Duration

	log   *slog.Logger
	obs   Observer
	debug bool

	disp *dispatcher

	stateMu sync.Mutex
	state   ConnState
	changed chan struct{} // closed and replaced on every state change
	running bool          // Run is active; a second Run is refused
}

// New checks cfg, fills in defaults and returns a Client. It does not
// connect; call Run to keep the events WebSocket up.
func New(cfg Config) (*Client, error) {
	if cfg.URL == "" {
		return nil, errors.New("ari: Config.URL is required")
	}
	u, err := url.Parse(strings.TrimRight(cfg.URL, "/"))
	if err != nil {
		return nil, fmt.Errorf("ari: Config.URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("ari: Config.URL %q: scheme must be http or https", cfg.URL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("ari: Config.URL %q: missing host", cfg.URL)
	}
	if u.User != nil {
		return nil, errors.New("ari: Config.URL must not contain credentials; use User and Password")
	}
	if cfg.User == "" {
		return nil, errors.New("ari: Config.User is required")
	}
	if cfg.App == "" {
		return nil, errors.New("ari: Config.App is required")
	}
	u.Path = strings.TrimSuffix(u.Path, "/ari")
	u.RawQuery, u.Fragment = "", ""
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"RequestTimeout", cfg.RequestTimeout}, {"DialTimeout", cfg.DialTimeout},
		{"BackoffMin", cfg.BackoffMin}, {"BackoffMax", cfg.BackoffMax},
		{"PingInterval", cfg.PingInterval}, {"PingTimeout", cfg.PingTimeout},
	} {
		if d.v < 0 {
			return nil, fmt.Errorf("ari: Config.%s must not be negative", d.name)
		}
	}
	c := &Client{
		base:           u.String() + "/ari",
		user:           cfg.User,
		password:       cfg.Password,
		app:            cfg.App,
		node:           orDefault(cfg.Node, u.Host),
		requestTimeout: orDuration(cfg.RequestTimeout, DefaultRequestTimeout),
		dialTimeout:    orDuration(cfg.DialTimeout, DefaultDialTimeout),
		backoffMin:     orDuration(cfg.BackoffMin, DefaultBackoffMin),
		backoffMax:     orDuration(cfg.BackoffMax, DefaultBackoffMax),
		pingInterval:   orDuration(cfg.PingInterval, DefaultPingInterval),
		pingTimeout:    orDuration(cfg.PingTimeout, DefaultPingTimeout),
		log:            cfg.Logger,
		obs:            cfg.Observer,
		debug:          cfg.Debug || os.Getenv("ARI_DEBUG") != "",
		changed:        make(chan struct{}),
	}
	if c.backoffMax < c.backoffMin {
		return nil, errors.New("ari: Config.BackoffMax must not be below BackoffMin")
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With("component", "ari", "node", c.node)
	if c.obs == nil {
		c.obs = NopObserver{}
	}
	c.hc = cfg.HTTPClient
	if c.hc == nil {
		c.hc = newHTTPClient(c.requestTimeout, c.dialTimeout)
		if u.Scheme == "http" && !proxied(c.base) {
			c.rest = newConns(u.Host, c.user, c.password, c.dialTimeout, maxResponseBody)
			c.basePath = u.Path + "/ari"
		}
	}
	c.wsClient = &http.Client{Timeout: c.dialTimeout, Transport: newTransport(c.dialTimeout)}
	ws := *u
	if u.Scheme == "https" {
		ws.Scheme = "wss"
	} else {
		ws.Scheme = "ws"
	}
	ws.Path += "/ari/events"
	ws.RawQuery = url.Values{"app": {c.app}, "subscribeAll": {"false"}}.Encode()
	c.wsURL = ws.String()
	limit := cfg.QueueLimit
	if limit <= 0 {
		limit = DefaultQueueLimit
	}
	c.disp = newDispatcher(c.node, limit, c.log, c.obs)
	c.state.Node = c.node
	return c, nil
}

// Node returns the node name this client serves.
func (c *Client) Node() string { return c.node }

// App returns the Stasis application name.
func (c *Client) App() string { return c.app }

// Connection pool of the REST client. Asterisk's HTTP server takes at most
// 100 sessions at once (http.conf sessionlimit; the events WebSocket is one)
// and closes a kept-alive connection after 15 s idle (session_keep_alive,
// main/http.c). The pool keeps every connection it opens, so a busy node is
// served over a few dozen long-lived connections instead of a new TCP
// connection for each request past the idle limit (that churn was 14 % of
// serve's CPU at 80 calls/s), never holds more than maxConns, and drops an
// idle connection before Asterisk does.
const (
	maxConns        = 64
	idleConnTimeout = 10 * time.Second
)

func newTransport(dialTimeout time.Duration) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   dialTimeout,
		MaxIdleConns:          maxConns,
		MaxIdleConnsPerHost:   maxConns,
		MaxConnsPerHost:       maxConns,
		IdleConnTimeout:       idleConnTimeout,
		ExpectContinueTimeout: time.Second,
	}
}

// newHTTPClient has no overall Timeout: do bounds each request, its body
// included, by its context (RequestTimeout). http.Client.Timeout would do
// the same again with a timer and a goroutine of its own per request.
func newHTTPClient(requestTimeout, dialTimeout time.Duration) *http.Client {
	t := newTransport(dialTimeout)
	t.ResponseHeaderTimeout = requestTimeout
	return &http.Client{Transport: t}
}

// proxied says whether the environment (HTTP_PROXY, NO_PROXY) sends
// requests to base through a proxy: then net/http's transport, which knows
// proxies, carries them.
func proxied(base string) bool {
	req, err := http.NewRequest(http.MethodGet, base, nil)
	if err != nil {
		return true
	}
	u, err := http.ProxyFromEnvironment(req)
	return err != nil || u != nil
}

// request is one REST call.
type request struct {
	op     string // fixed operation name for metrics, e.g. "channels.answer"
	method string
	path   string // below /ari, ids already escaped
	query  url.Values
	body   any // JSON-encoded when non-nil
}

// do performs r and decodes a 2xx body into out (when out is non-nil). The
// status is checked before anything is decoded.
func (c *Client) do(ctx context.Context, r request, out any) (err error) {
	start := time.Now()
	status := 0
	defer func() {
		c.obs.RequestDone(c.node, r.op, status, time.Since(start), err)
	}()
	full := r.path
	if len(r.query) > 0 {
		qs, err := encodeQuery(r.query)
		if err != nil {
			return fmt.Errorf("ari %s: %w", r.op, err)
		}
		full += "?" + qs
	}
	var body io.Reader
	var payload []byte
	if r.body != nil {
		payload, err = json.Marshal(r.body)
		if err != nil {
			return fmt.Errorf("ari %s: encode body: %w", r.op, err)
		}
		body = bytes.NewReader(payload)
	}
	if c.debug {
		c.log.Info("ari wire request", "method", r.method, "url", c.base+full, "body", string(payload))
	}
	var raw []byte
	if c.rest != nil {
		deadline := time.Now().Add(c.requestTimeout)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		status, raw, err = c.rest.exchange(ctx, r.method, c.basePath+full, payload, deadline)
	} else {
		status, raw, err = c.httpDo(ctx, r.method, c.base+full, body, payload != nil)
	}
	if err != nil {
		return fmt.Errorf("ari %s: %s %s: %w", r.op, r.method, r.path, err)
	}

	if status < 200 || status > 299 {
		if len(raw) > maxErrorBody {
			raw = raw[:maxErrorBody]
		}
		if c.debug {
			c.log.Info("ari wire response", "method", r.method, "path", r.path, "status", status, "body", string(raw))
		}
		e := &Error{Op: r.op, Method: r.method, Path: "/ari" + r.path, Status: status, Message: errorMessage(raw)}
		if errors.Is(e, ErrUnauthorized) {
			e.User, e.URL = c.user, c.base+r.path
		}
		return e
	}
	if c.debug {
		c.log.Info("ari wire response", "method", r.method, "path", r.path, "status", status, "body", string(raw))
	}
	if out == nil || status == http.StatusNoContent {
		return nil
	}
	if err := fastjson.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("ari %s: %s %s: decode %d response: %w", r.op, r.method, r.path, status, err)
	}
	return nil
}

// httpDo makes a request through net/http (an HTTPClient given, https, a
// proxy) and reads its whole answer, at most maxResponseBody bytes.
func (c *Client) httpDo(ctx context.Context, method, url string, body io.Reader, isJSON bool) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return 0, nil, err
	}
	req.SetBasicAuth(c.user, c.password)
	req.Header.Set("Accept", "application/json")
	if isJSON {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	if err != nil {
		return 0, nil, fmt.Errorf("read body: %w", err)
	}
	if len(raw) > maxResponseBody {
		return 0, nil, fmt.Errorf("answer longer than %d bytes", maxResponseBody)
	}
	return resp.StatusCode, raw, nil
}

// encodeQuery encodes q the way Asterisk reads a query string: every key
// once, in sorted order. A parameter with several values (ARI's
// "allowMultiple", e.g. addChannel's channel or play's media) is ONE value,
// comma-separated: Asterisk keeps only the last of repeated keys, so
// channel=a&channel=b would silently add only b. An item that itself holds a
// comma cannot be sent in that form and is refused.
func encodeQuery(q url.Values) (string, error) {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		vs := q[k]
		if len(vs) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(k))
		b.WriteByte('=')
		for i, v := range vs {
			if len(vs) > 1 && strings.Contains(v, ",") {
				return "", fmt.Errorf("parameter %s: item %q contains a comma and cannot be part of a list: %w", k, v, ErrBadRequest)
			}
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(url.QueryEscape(v))
		}
	}
	return b.String(), nil
}

// seg escapes one path segment (ids may contain ';', '/', '@').
func seg(s string) string { return url.PathEscape(s) }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orDuration(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
