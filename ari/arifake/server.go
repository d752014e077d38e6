// Package arifake is an in-process fake Asterisk for ARI applications: the REST
// interface under /ari/… and the events WebSocket (/ari/events), speaking the
// wire protocol recorded from Asterisk 22 (see /work/shared/ari/traces and the
// replay tests in this package).
//
// It models channels, bridges, playbacks, recordings and applications with
// Asterisk's semantics and event order, incoming calls on extension 2 (PlaceCall),
// and scripted phones that dialled legs reach by number (Options.Phones). It runs
// as a standalone process (NewServer + Listen) for `hotline simulate`, and in
// tests through package ari/aritest (Start), which re-exports this API. It
// does not import package testing, so the production binary can link it.
package arifake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Server is a fake Asterisk. All methods are safe for concurrent use.
type Server struct {
	opts Options
	log  *slog.Logger

	// mu guards every field below: the whole telephony state is one state
	// machine, and timers and HTTP handlers take mu before touching it.
	mu        sync.Mutex
	closed    bool
	timers    map[*time.Timer]struct{}
	uniqSeq   int // channel unique id sequence ("<epoch>.<seq>")
	nameSeq   int // channel name suffix ("-00000001")
	connSeq   int
	objSeq    int // creation order of channels and bridges
	channels  map[string]*channel
	bridges   map[string]*bridge
	plays     map[string][]*playback // by id; ids may repeat (the oldest first)
	liveRecs  map[string]*recording
	stored    map[string]*storedRec
	apps      map[string]*application
	conns     map[*wsConn]struct{}
	globals   map[string]string
	phones    map[string]Phone
	defPhone  Phone
	trunks    map[string]TrunkState
	requests  []Request
	dials     []*dialRecord
	fallbacks int
	events    []SentEvent
	started   time.Time
	changed   chan struct{}       // closed and replaced whenever events are sent or state changes
	faults    faultTable          // scripted REST faults (faults.go); its own mutex
	evFaults  []*activeEventFault // scripted WebSocket cuts (faults.go)
	dropped   []SentEvent         // events lost to them
	watch     watchState          // double rings, channels alone in a bridge (watch.go)

	srv *http.Server
	url string
	wg  sync.WaitGroup

	// misMu guards misuses: requests the fake served by reading a parameter
	// its route does not declare (a bug in the fake; Start fails the test).
	misMu   sync.Mutex
	misuses []string
}

// NewServer returns a fake Asterisk with real-time defaults for unset options.
// Serve it with Listen, or mount Handler yourself.
func NewServer(opts Options) *Server {
	opts = opts.withDefaults()
	s := &Server{
		opts:     opts,
		log:      opts.Logger.With("component", "arifake"),
		timers:   map[*time.Timer]struct{}{},
		channels: map[string]*channel{},
		bridges:  map[string]*bridge{},
		plays:    map[string][]*playback{},
		liveRecs: map[string]*recording{},
		stored:   map[string]*storedRec{},
		apps:     map[string]*application{},
		conns:    map[*wsConn]struct{}{},
		globals:  map[string]string{},
		phones:   map[string]Phone{},
		defPhone: opts.DefaultPhone,
		trunks:   map[string]TrunkState{},
		started:  time.Now(),
		changed:  make(chan struct{}),
	}
	s.faults.rng = rand.New(rand.NewPCG(opts.FaultSeed, 0))
	for n, p := range opts.Phones {
		s.phones[digits(n)] = p
	}
	for n, st := range opts.Trunks {
		s.trunks[n] = st
	}
	return s
}

// Listen serves the fake on addr (e.g. "127.0.0.1:0") in the background.
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("arifake: listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.srv = srv
	s.url = "http://" + ln.Addr().String()
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve", "err", err)
		}
	}()
	return nil
}

// URL is the base URL once listening, e.g. "http://127.0.0.1:43121" (ARI lives
// under /ari on it, as HOTLINE_ARI_URL expects).
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Options returns the effective options (defaults filled in).
func (s *Server) Options() Options { return s.opts }

// Close stops timers, drops every WebSocket and stops the listener.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for t := range s.timers {
		t.Stop()
	}
	s.timers = map[*time.Timer]struct{}{}
	conns := make([]*wsConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	srv := s.srv
	s.mu.Unlock()
	for _, c := range conns {
		c.kill()
	}
	var err error
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = srv.Shutdown(ctx)
		cancel()
		if err != nil {
			err = srv.Close()
		}
	}
	s.wg.Wait()
	return err
}

// after runs fn with s.mu held once d has passed, unless the server closed.
// Callers hold s.mu.
func (s *Server) after(d time.Duration, fn func()) {
	if s.closed {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.timers, t)
		if s.closed {
			return
		}
		fn()
	})
	s.timers[t] = struct{}{}
}

// seconds converts a REST parameter in seconds to fake time.
func (s *Server) seconds(n int) time.Duration { return time.Duration(n) * s.opts.Second }

func (s *Server) ts(t time.Time) string { return t.In(s.opts.Location).Format(TimeLayout) }

func (s *Server) now() string { return s.ts(time.Now()) }

// notify wakes waiters (WaitFor). Callers hold s.mu.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// newUniqueID returns a channel id in Asterisk's form "<epoch>.<n>".
func (s *Server) newUniqueID() string {
	id := strconv.FormatInt(time.Now().Unix(), 10) + "." + strconv.Itoa(s.uniqSeq)
	s.uniqSeq++
	return id
}

func (s *Server) newNameSuffix() string {
	n := s.nameSeq
	s.nameSeq++
	return fmt.Sprintf("%08x", n)
}

// emit sends ev to app. Callers hold s.mu.
func (s *Server) emit(appName string, ev event) {
	if appName == "" {
		return
	}
	a := s.apps[appName]
	if a == nil || a.conn == nil {
		return
	}
	s.sendTo(a.conn, appName, ev)
}

func (s *Server) sendTo(c *wsConn, appName string, ev event) {
	if a := s.apps[appName]; a != nil && !a.passes(ev.Type) {
		return // the application's event filter (ari_websocket_send_event)
	}
	ev.Application = appName
	ev.AsteriskID = s.opts.AsteriskID
	if ev.Timestamp == "" {
		ev.Timestamp = s.now()
	}
	b, err := json.Marshal(ev)
	if err != nil {
		s.log.Error("marshal event", "type", ev.Type, "err", err)
		return
	}
	se := SentEvent{App: appName, Conn: c.n, Type: ev.Type, At: time.Now(), JSON: b}
	if s.cutAt(c, appName, ev) { // a scripted WebSocket cut (faults.go): the event is lost
		s.dropped = trimHistory(append(s.dropped, se), s.opts.HistoryLimit)
		s.notify()
		return
	}
	s.events = trimHistory(append(s.events, se), s.opts.HistoryLimit)
	c.push(b, s.opts.MaxQueue)
	s.notify()
}

// emitChannel sends a channel event to the channel's application and to
// applications subscribed to everything.
func (s *Server) emitChannel(ch *channel, ev event) {
	sent := map[string]bool{}
	if ch.app != "" {
		s.emit(ch.app, ev)
		sent[ch.app] = true
	}
	s.emitAll(ev, sent)
}

func (s *Server) emitBridge(b *bridge, ev event) {
	sent := map[string]bool{}
	for _, a := range sortedKeys(b.apps) {
		s.emit(a, ev)
		sent[a] = true
	}
	s.emitAll(ev, sent)
}

func (s *Server) emitAll(ev event, sent map[string]bool) {
	for _, name := range sortedKeys(s.apps) {
		if a := s.apps[name]; a.subscribeAll && !sent[name] {
			s.emit(name, ev)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// SetPhone scripts a number (digits; 0… and 84… forms match each other).
func (s *Server) SetPhone(number string, p Phone) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.phones[digits(number)] = p
}

// ClearPhone removes a number's script (SetPhone, Options.Phones): it is
// dialled as Options.PhoneFor or the default phone says again.
func (s *Server) ClearPhone(number string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range numberKeys(number) {
		delete(s.phones, k)
	}
}

// SetDefaultPhone scripts every number not set with SetPhone.
func (s *Server) SetDefaultPhone(p Phone) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.defPhone = p
}

// SetTrunk marks a PJSIP trunk up, congested or unavailable.
func (s *Server) SetTrunk(name string, st TrunkState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trunks[name] = st
}

func (s *Server) phoneFor(number string) Phone {
	for _, k := range numberKeys(number) {
		if p, ok := s.phones[k]; ok {
			return p
		}
	}
	if s.opts.PhoneFor != nil {
		if p, ok := s.opts.PhoneFor(number); ok {
			return p
		}
	}
	return s.defPhone
}

func (s *Server) misuse(msg string) {
	s.log.Error("arifake: undeclared parameter", "detail", msg)
	s.misMu.Lock()
	s.misuses = append(s.misuses, msg)
	s.misMu.Unlock()
}

// Misuses returns the requests the fake served by reading a parameter their
// route does not declare: bugs in the fake, which a test should fail on
// (aritest.Start does).
func (s *Server) Misuses() []string {
	s.misMu.Lock()
	defer s.misMu.Unlock()
	return append([]string(nil), s.misuses...)
}

// Requests returns the REST requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Events returns the events queued to WebSockets so far, in order.
func (s *Server) Events() []SentEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SentEvent(nil), s.events...)
}

// Channels returns a snapshot of the live channels, oldest first.
func (s *Server) Channels() []Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.channelList()
}

func (s *Server) channelList() []Channel {
	chs := make([]*channel, 0, len(s.channels))
	for _, ch := range s.channels {
		chs = append(chs, ch)
	}
	sort.Slice(chs, func(i, j int) bool { return chs[i].seq < chs[j].seq })
	out := make([]Channel, 0, len(chs))
	for _, ch := range chs {
		out = append(out, ch.model())
	}
	return out
}

// Bridges returns a snapshot of the live bridges, oldest first.
func (s *Server) Bridges() []Bridge {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bridgeList()
}

func (s *Server) bridgeList() []Bridge {
	bs := make([]*bridge, 0, len(s.bridges))
	for _, b := range s.bridges {
		bs = append(bs, b)
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].seq < bs[j].seq })
	out := make([]Bridge, 0, len(bs))
	for _, b := range bs {
		out = append(out, b.model())
	}
	return out
}

// StoredRecordings returns the stored recordings.
func (s *Server) StoredRecordings() []StoredRecording {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []StoredRecording{}
	for _, n := range sortedKeys(s.stored) {
		out = append(out, StoredRecording{Name: n, Format: s.stored[n].format})
	}
	return out
}

// Leftovers lists the channels and bridges still alive.
func (s *Server) Leftovers() (channels []Channel, bridges []Bridge) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.channelList(), s.bridgeList()
}

// ErrNotClean is returned by CheckClean when channels or bridges are left.
var ErrNotClean = errors.New("arifake: channels or bridges left behind")

// CheckClean waits until no channel and no bridge is left, or ctx ends; then it
// returns ErrNotClean wrapped with the leftovers.
func (s *Server) CheckClean(ctx context.Context) error {
	err := s.waitState(ctx, func() bool { return len(s.channels) == 0 && len(s.bridges) == 0 })
	if err == nil {
		return nil
	}
	chs, brs := s.Leftovers()
	var desc []string
	for _, c := range chs {
		desc = append(desc, fmt.Sprintf("channel %s (%s, %s)", c.ID, c.Name, c.State))
	}
	for _, b := range brs {
		desc = append(desc, fmt.Sprintf("bridge %s %v", b.ID, b.Channels))
	}
	return fmt.Errorf("%w: %v", ErrNotClean, desc)
}

// WaitFor blocks until cond holds, or ctx ends. cond runs without the state
// lock (it may call Server and Call methods) each time the fake's state or
// event log changes.
func (s *Server) WaitFor(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("arifake: wait: %w", ctx.Err())
		}
	}
}

// waitState is WaitFor with cond evaluated under the state lock, for
// conditions on the fake's internals.
func (s *Server) waitState(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ok := cond()
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("arifake: wait: %w", ctx.Err())
		}
	}
}

// WaitEvent waits until an event of type typ has been sent to app and returns
// the first one after the first skip such events (skip counts from zero).
func (s *Server) WaitEvent(ctx context.Context, app, typ string, skip int) (SentEvent, error) {
	var found SentEvent
	err := s.waitState(ctx, func() bool {
		n := 0
		for _, e := range s.events {
			if e.App == app && e.Type == typ {
				if n == skip {
					found = e
					return true
				}
				n++
			}
		}
		return false
	})
	return found, err
}

// Connected reports whether app has a WebSocket.
func (s *Server) Connected(app string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[app]
	return a != nil && a.conn != nil
}

// WaitConnected waits until app has a WebSocket.
func (s *Server) WaitConnected(ctx context.Context, app string) error {
	return s.waitState(ctx, func() bool {
		a := s.apps[app]
		return a != nil && a.conn != nil
	})
}

// trimHistory keeps a log under limit entries by dropping the oldest half, so a
// long simulation does not grow without bound.
func trimHistory[T any](log []T, limit int) []T {
	if len(log) <= limit {
		return log
	}
	keep := log[len(log)-limit/2:]
	return append(make([]T, 0, len(keep)), keep...)
}
