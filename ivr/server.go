package ivr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/metrics"
	"github.com/csm-vn/hotline/store"
)

// Hold music choices of Config.Hold.
const (
	HoldRinging = "ringing" // the caller hears ringback
	HoldMOH     = "moh"     // the caller hears music on hold (Config.MOHClass)
)

// Defaults for zero Config fields.
const (
	DefaultRing            = 25 * time.Second
	DefaultConfirmTimeout  = 8 * time.Second
	DefaultMaxCall         = 60 * time.Minute
	DefaultMaxLeg          = 2 * time.Minute
	DefaultCodeFirstDigit  = 8 * time.Second
	DefaultCodeInterDigit  = 4 * time.Second
	DefaultCodeOverall     = 20 * time.Second
	DefaultCodeTries       = 2
	DefaultVoicemailMax    = 2 * time.Minute
	DefaultRatingTimeout   = 8 * time.Second
	DefaultMaxTargets      = 12
	DefaultLease           = 30 * time.Second
	DefaultMaxPrompt       = 2 * time.Minute
	DefaultRequestTimeout  = 5 * time.Second
	DefaultShutdownTimeout = 5 * time.Second
	DefaultReconcileGrace  = 2 * time.Second
	DefaultReserveBudget   = 150 * time.Millisecond
	DefaultTeardownTries   = 5
	DefaultTeardownBackoff = 500 * time.Millisecond
)

// Prompts names the sounds played (Asterisk sound names without "sound:",
// e.g. "vi/greeting"). A company can replace them with recorded voices.
type Prompts struct {
	Greeting   string // to the caller, first thing
	EnterCode  string // "enter your café code, then #"
	Connecting string // "connecting you"
	Announce   string // to the called person: "hotline call from café"
	Province   string // "in province"
	// ProvincePrefix + the province's area code ("0297") names a province.
	ProvincePrefix string
	PressOne       string // "press 1 to accept"
	Rate           string // "rate the call 1 to 5, 9 to complain"
	Thanks         string
	Voicemail      string // "nobody is free, leave a message after the beep, # to end"
	Goodbye        string
	// DigitPrefix + "0".."9" names a digit.
	DigitPrefix string
	// LetterPrefix + "a".."z" names a letter of a café code (spoken the
	// Vietnamese way); Asterisk's own characters: media (English letter
	// sounds) when empty.
	LetterPrefix string
	// Callback replaces Announce on a callback try: "callback to café"
	// (Announce when empty); CallbackNoAnswer tells the person who
	// accepted that the café did not answer.
	Callback, CallbackNoAnswer string
	// Transfers by the person who accepted (transfer.go), to that person:
	// Transfer ("transferring to") + RolePrefix + the role of the person
	// rung ("vi/role-technician") [+ Province + the province]; TransferFailed
	// ("nobody took it, the caller is back with you"); TransferInvalid (an
	// area code of no province).
	Transfer, RolePrefix, TransferFailed, TransferInvalid string
}

// Config is the call flow's configuration. Zero durations take the Default…
// constants.
type Config struct {
	// CallerID is the number shown to the called person (the hotline's).
	CallerID string
	// Ring is the ring timeout per role (missing roles: DefaultRing).
	Ring map[dialplan.Role]time.Duration
	// ConfirmTimeout is how long an answering person has to press 1 after
	// the announcement.
	ConfirmTimeout time.Duration
	// MaxCall is the hard limit of a bridged conversation.
	MaxCall time.Duration
	// MaxLeg is the hard limit of an outgoing leg before it is bridged
	// (ringing, announcement, confirmation), on top of its ring timeout: a
	// watchdog hangs it up whatever the flow is doing.
	MaxLeg time.Duration
	// Hold is what the caller hears while people are rung: HoldRinging or
	// HoldMOH; MOHClass is the music class for HoldMOH.
	Hold, MOHClass string
	// Café code by DTMF: timeouts for the first digit (after the prompt),
	// between digits, and overall; number of tries.
	CodeFirstDigit, CodeInterDigit, CodeOverall time.Duration
	CodeTries                                   int
	// VoicemailMax bounds a message; RatingTimeout is how long the caller
	// has to rate the call after the prompt.
	VoicemailMax, RatingTimeout time.Duration
	// Trunks maps a carrier (or "default") to a dial template.
	Trunks dialplan.Trunks
	// MaxTargets caps the number of people rung for one call.
	MaxTargets int
	// Prompts are the sound names.
	Prompts Prompts
	// Instance identifies this process in reservations.
	Instance string
	// Lease is the reservation lease; a heartbeat extends it every Lease/3
	// when the Reserver can (store.Store can).
	Lease time.Duration

	// MaxPrompt bounds the wait for one playback to finish.
	MaxPrompt time.Duration
	// RequestTimeout bounds each teardown request (hangups, bridge
	// destruction) made after the call's context ended.
	RequestTimeout time.Duration
	// ShutdownTimeout is how long Run waits, when its context ends, for
	// live calls to tear down before it warns that calls are still retrying;
	// it keeps waiting (every teardown step is bounded by TeardownTries).
	ShutdownTimeout time.Duration
	// ReconcileGrace is how long start-up reconciliation waits before it
	// treats a channel of the application that never sent us a StasisStart as
	// a leftover of a previous process.
	ReconcileGrace time.Duration
	// RecordingFormat is the voicemail file format (default "wav").
	RecordingFormat string
	// ReserveBudget is how long a person's reservation waits for the
	// database before the person is dialled anyway, on the strength of this
	// instance's in-memory reservation (logged and counted); the database's
	// answer still cancels the leg if someone else holds the person.
	ReserveBudget time.Duration
	// TeardownTries and TeardownBackoff bound what must happen at teardown
	// (hanging up a leg or the caller, releasing a reservation): up to
	// TeardownTries attempts, the first retry after TeardownBackoff, each
	// next one after twice as long (at most 4 s). Then the hotline gives up,
	// logs at ERROR and counts it.
	TeardownTries   int
	TeardownBackoff time.Duration
	// Callback configures calling cafés back (callback.go).
	Callback CallbackConfig
	// ExtraEvents are event types the application's event filter lets
	// through besides Events(), for observers of the hotline's own events
	// (the real-Asterisk tests follow its prompts by PlaybackStarted). None
	// in production.
	ExtraEvents []string
}

// events are the event types the call flow handles (and the ari client:
// ApplicationReplaced). Run asks Asterisk to send the application only these,
// after every connect of the events WebSocket (ari.EventFilter). The rest of
// what Asterisk would send per call is neither serialized by Asterisk nor
// decoded here: ChannelVarset (BRIDGEPEER and BRIDGEPVTCALLID at every bridge
// change, RTPAUDIOQOS* at hangup: over half of a call's events),
// ChannelEnteredBridge, ChannelConnectedLine, ChannelDialplan,
// ChannelCallerId, PlaybackStarted and PlaybackContinuing for every item of a
// media list, RecordingStarted. A handler that needs another type adds it
// here: the fake Asterisk (ari/arifake) honours the filter as Asterisk does,
// so the tests see what is missing.
var events = []string{
	ari.TypeStasisStart, ari.TypeStasisEnd,
	ari.TypeChannelStateChange, ari.TypeDial, ari.TypeChannelDtmfReceived,
	ari.TypeChannelHangupRequest, ari.TypeChannelDestroyed,
	ari.TypePlaybackFinished, ari.TypeRecordingFinished, ari.TypeRecordingFailed,
	ari.TypeChannelLeftBridge, ari.TypeBridgeDestroyed,
	ari.TypeApplicationReplaced,
}

// Events returns the event types the call flow handles: what Run lets
// Asterisk send the application.
func Events() []string { return slices.Clone(events) }

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.ConfirmTimeout, DefaultConfirmTimeout)
	def(&c.MaxCall, DefaultMaxCall)
	def(&c.MaxLeg, DefaultMaxLeg)
	def(&c.CodeFirstDigit, DefaultCodeFirstDigit)
	def(&c.CodeInterDigit, DefaultCodeInterDigit)
	def(&c.CodeOverall, DefaultCodeOverall)
	def(&c.VoicemailMax, DefaultVoicemailMax)
	def(&c.RatingTimeout, DefaultRatingTimeout)
	def(&c.Lease, DefaultLease)
	def(&c.MaxPrompt, DefaultMaxPrompt)
	def(&c.RequestTimeout, DefaultRequestTimeout)
	def(&c.ShutdownTimeout, DefaultShutdownTimeout)
	def(&c.ReconcileGrace, DefaultReconcileGrace)
	def(&c.ReserveBudget, DefaultReserveBudget)
	def(&c.TeardownBackoff, DefaultTeardownBackoff)
	if c.TeardownTries <= 0 {
		c.TeardownTries = DefaultTeardownTries
	}
	if c.CodeTries <= 0 {
		c.CodeTries = DefaultCodeTries
	}
	if c.MaxTargets <= 0 {
		c.MaxTargets = DefaultMaxTargets
	}
	if c.Hold == "" {
		c.Hold = HoldRinging
	}
	if c.RecordingFormat == "" {
		c.RecordingFormat = "wav"
	}
	ring := make(map[dialplan.Role]time.Duration, 4)
	for _, r := range []dialplan.Role{dialplan.RoleTechnician, dialplan.RoleAreaManager,
		dialplan.RoleRegionalManager, dialplan.RoleOperator} {
		ring[r] = DefaultRing
		if d, ok := dialplan.DefaultRing[r]; ok {
			ring[r] = d
		}
		if d := c.Ring[r]; d > 0 {
			ring[r] = d
		}
	}
	c.Callback = c.Callback.withDefaults()
	ring[store.RoleCafe] = c.Callback.Ring
	c.Ring = ring
	return c
}

func (c Config) validate() error {
	var errs []error
	if c.Hold != HoldRinging && c.Hold != HoldMOH {
		errs = append(errs, fmt.Errorf("ivr: Config.Hold %q: must be %q or %q", c.Hold, HoldRinging, HoldMOH))
	}
	if c.Instance == "" {
		errs = append(errs, errors.New("ivr: Config.Instance is required (reservations name their holder)"))
	}
	if len(c.Trunks) == 0 {
		errs = append(errs, errors.New("ivr: Config.Trunks is empty: nobody could be dialled"))
	} else if err := c.Trunks.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("ivr: Config.Trunks: %w", err))
	}
	errs = append(errs, c.Callback.validate())
	return errors.Join(errs...)
}

// ARI is what the call flow needs of Asterisk; *ari.Client satisfies it.
type ARI interface {
	Subscribe(keys ...ari.Key) *ari.Subscription
	State() (ari.ConnState, <-chan struct{})
	GetApplication(ctx context.Context, name string) (*ari.Application, error)
	GetChannel(ctx context.Context, id string) (*ari.Channel, error)
	CreateChannel(ctx context.Context, p ari.CreateChannelParams) (*ari.Channel, error)
	Dial(ctx context.Context, id, caller string, timeout time.Duration) error
	Answer(ctx context.Context, id string) error
	Hangup(ctx context.Context, id string, reason ari.HangupReason) error
	Ring(ctx context.Context, id string) error
	RingStop(ctx context.Context, id string) error
	StartChannelMOH(ctx context.Context, id, class string) error
	StopChannelMOH(ctx context.Context, id string) error
	ContinueInDialplan(ctx context.Context, id string, p ari.ContinueParams) error
	PlayChannel(ctx context.Context, id string, p ari.PlayParams) (*ari.Playback, error)
	GetPlayback(ctx context.Context, id string) (*ari.Playback, error)
	StopPlayback(ctx context.Context, id string) error
	RecordChannel(ctx context.Context, id string, p ari.RecordParams) (*ari.LiveRecording, error)
	GetLiveRecording(ctx context.Context, name string) (*ari.LiveRecording, error)
	StopRecording(ctx context.Context, name string) error
	CreateBridge(ctx context.Context, p ari.CreateBridgeParams) (*ari.Bridge, error)
	GetBridge(ctx context.Context, id string) (*ari.Bridge, error)
	AddChannels(ctx context.Context, bridgeID string, channelIDs ...string) error
	RemoveChannels(ctx context.Context, bridgeID string, channelIDs ...string) error
	DestroyBridge(ctx context.Context, id string) error
	ListBridges(ctx context.Context) ([]ari.Bridge, error)
	SetEventFilter(ctx context.Context, name string, f ari.EventFilter) (*ari.Application, error)
	GetChannelVar(ctx context.Context, id, name string) (string, error)
	SetChannelVar(ctx context.Context, id, name, value string) error
	GetStoredRecording(ctx context.Context, name string) (*ari.StoredRecording, error)
}

// Reserver reserves a person for a call across instances; *store.Store
// satisfies it.
type Reserver interface {
	Reserve(ctx context.Context, staff, callID, instanceID string, lease time.Duration) (bool, error)
	Release(ctx context.Context, staff, callID string) error
}

// leaseExtender is the optional heartbeat side of a Reserver: it renews the
// leases of the calls named (those still in progress), and no others.
type leaseExtender interface {
	ExtendLeases(ctx context.Context, instanceID string, callIDs []string, lease time.Duration) (int, error)
}

// instanceReleaser is the optional start-up cleanup side of a Reserver.
type instanceReleaser interface {
	ReleaseInstance(ctx context.Context, instanceID string) (int, error)
}

// Recorder takes finished call records; *store.Recorder satisfies it.
// Submit must not block on the database.
type Recorder interface {
	Submit(rec store.CallRecord)
}

// Deps are the call flow's collaborators.
type Deps struct {
	// ARI is the Asterisk connection (required). Its Run is driven by the
	// caller of Server.Run.
	ARI ARI
	// Directory returns the current directory snapshot (required).
	Directory func() *dialplan.Directory
	// Reserver reserves people in the database; nil: in-memory only.
	Reserver Reserver
	// Recorder stores call records (required).
	Recorder Recorder
	// Metrics may be nil.
	Metrics *metrics.Metrics
	// Logger may be nil (discarded).
	Logger *slog.Logger
	// Now is the clock used for a call's start (and thus its plan's time
	// of day); nil is time.Now.
	Now func() time.Time
	// Callbacks stores callback requests (*store.Store); nil: no callbacks
	// (callback.go).
	Callbacks CallbackStore
}

// Server runs the hotline's Stasis application: one goroutine per incoming
// call (see the package documentation).
type Server struct {
	cfg  Config
	ari  ARI
	dir  func() *dialplan.Directory
	res  Reserver
	rec  Recorder
	met  *metrics.Metrics
	log  *slog.Logger
	now  func() time.Time
	wg   sync.WaitGroup
	seq  atomic.Uint64
	stop atomic.Bool // draining: new calls go back to the dialplan
	// starts receives StasisStart events; subscribed in New so that no call
	// is missed between the WebSocket connecting and Run starting. It also
	// receives every channel's end (hangup request, StasisEnd,
	// ChannelDestroyed), in the socket's order: a caller's end that the
	// client dispatched before the call's own subscription existed (the
	// socket reader runs ahead of Run) still reaches the call.
	starts *ari.Subscription

	mu    sync.Mutex
	calls map[string]*call // by caller channel id
	legs  map[string]*call // our outgoing channels, by channel id
	// seen are the channels whose StasisStart we handled (or whose call we
	// took over) until start-up reconciliation is done: a call that already
	// ended is not a leftover. Not kept afterwards.
	seen map[string]bool
	// startupClaimed: a reconciliation listed the application and does the
	// start-up part (adoption, leftovers); startedUp: that is done.
	startupClaimed, startedUp bool
	// startupClear is closed once nothing a previous process left in the
	// application can still be up: start-up found none of its channels, or
	// its reconciliation is done (leftover legs hung up, the predecessor's
	// reservations freed). The callback worker waits for it (callback.go).
	startupClear     chan struct{}
	startupClearOnce sync.Once
	// adoptedIDs are the calls taken over at start-up; prevRun the
	// journal's calls of previous runs, by caller's channel (journal.go).
	adoptedIDs map[string]bool
	prevRun    map[string]store.LiveCall
	// run identifies this run of the process in the journal.
	run string

	reserved map[string]string // staff code → call id (in-memory reservation)
	lastRung map[string]time.Time
	changed  chan struct{} // closed and replaced when a call ends
	// abandoned are legs of ended calls we gave up hanging up, by channel
	// id: their watchdogs are still armed (leg.go).
	abandoned map[string]*leg
	// tries are the callback tries in progress, by call id (callback.go).
	tries map[string]*call

	cb *callbacks // the callback worker (callback.go)
	// promptLens: media → how long it last played in full (media.go).
	promptLens sync.Map
}

// New checks cfg and deps and builds a Server; nothing runs until Run.
func New(cfg Config, deps Deps) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	switch {
	case deps.ARI == nil:
		return nil, errors.New("ivr: Deps.ARI is required")
	case deps.Directory == nil:
		return nil, errors.New("ivr: Deps.Directory is required")
	case deps.Recorder == nil:
		return nil, errors.New("ivr: Deps.Recorder is required")
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	return &Server{
		starts: deps.ARI.Subscribe(ari.TypeKey(ari.TypeStasisStart), ari.TypeKey(ari.TypeChannelHangupRequest),
			ari.TypeKey(ari.TypeStasisEnd), ari.TypeKey(ari.TypeChannelDestroyed)),
		cfg: cfg, ari: deps.ARI, dir: deps.Directory, res: deps.Reserver, rec: deps.Recorder,
		met: deps.Metrics, log: log.With("component", "ivr"), now: now,
		calls: map[string]*call{}, legs: map[string]*call{}, seen: map[string]bool{},
		reserved: map[string]string{}, lastRung: map[string]time.Time{}, changed: make(chan struct{}),
		abandoned: map[string]*leg{}, tries: map[string]*call{}, adoptedIDs: map[string]bool{},
		startupClear: make(chan struct{}),
		run:          ulid.Make().String(),
		cb:           newCallbacks(deps.Callbacks),
	}, nil
}

// Run handles the application's incoming calls until ctx ends. It
// reconciles with Asterisk whenever the events WebSocket (re)connects: at
// start-up channels left by a previous process are sent back to the
// dialplan (callers, recorded as interrupted) or hung up (our outgoing legs);
// after a reconnect, calls whose channels vanished meanwhile are ended and
// recorded. When ctx ends every live call is hung up and recorded as
// interrupted; Run returns once every call's goroutines are done.
//
// Run is called once. New already subscribes to StasisStart, so calls
// arriving before Run starts wait for it.
func (s *Server) Run(ctx context.Context) error {
	sub := s.starts
	defer sub.Close()
	if r, ok := s.res.(instanceReleaser); ok {
		if _, lists := s.res.(reservationLister); !lists {
			s.releasePredecessor(r)
		} // else once start-up reconciliation took over what it could (releasePredecessorExcept)
	}
	s.cb.begin(ctx) // (before the first reconciliation: it may take callback tries over)
	var bg sync.WaitGroup
	defer bg.Wait()
	if ext, ok := s.res.(leaseExtender); ok {
		bg.Add(1)
		go func() {
			defer bg.Done()
			s.heartbeat(ctx, ext)
		}()
	}
	bg.Add(1)
	go func() {
		defer bg.Done()
		s.runCallbacks(ctx)
	}()
	var connects uint64
	// handled counts the events of sub handled so far; syncing are the
	// calls waiting until it reaches their mark (call.synced).
	var handled uint64
	var syncing []*call
	// conn ends the current connection's reconciliation.
	var conn struct{ end context.CancelFunc }
	endConn := func() {
		if conn.end != nil {
			conn.end()
		}
	}
	defer endConn()
	replaced := false
	st, changed := s.ari.State()
	for {
		if (!st.Connected || st.Connects != connects) && connects != 0 {
			endConn() // that connection is gone: its reconciliation stops retrying
		}
		if st.Connected && st.Connects != connects {
			connects = st.Connects
			var cctx context.Context
			cctx, conn.end = context.WithCancel(ctx)
			bg.Add(2)
			go func() {
				defer bg.Done()
				s.filterEvents(cctx)
			}()
			go func() {
				defer bg.Done()
				s.reconcile(cctx, ctx)
			}()
		}
		if st.Connected && st.Replaced != replaced {
			replaced = st.Replaced
			s.met.ApplicationReplaced(st.Node, replaced)
			if replaced {
				s.log.Error("another process took this ARI application over (ApplicationReplaced): this process gets "+
					"no more events for its calls and new calls go to the other one; run one hotline per application",
					"node", st.Node, "live_calls", len(s.liveCallIDs()))
			}
		} else if !st.Connected && replaced {
			replaced = false // a new connection takes the application back
			s.met.ApplicationReplaced(st.Node, false)
		}
		select {
		case ev, ok := <-sub.Events():
			if !ok {
				return s.shutdown()
			}
			switch e := ev.(type) {
			case *ari.StasisStart:
				if c := s.onStasisStart(ctx, e); c != nil {
					syncing = append(syncing, c)
				}
			case *ari.ChannelHangupRequest:
				s.onChannelEnd(e.Channel.ID)
			case *ari.StasisEnd:
				s.onChannelEnd(e.Channel.ID)
			case *ari.ChannelDestroyed:
				s.onChannelEnd(e.Channel.ID)
			}
			handled++
			syncing = slices.DeleteFunc(syncing, func(c *call) bool {
				if c.mark > handled {
					return false
				}
				close(c.synced)
				return true
			})
		case <-changed:
			st, changed = s.ari.State()
		case <-ctx.Done():
			return s.shutdown()
		}
	}
}

// filterEvents sets the application's event filter (events and
// Config.ExtraEvents). Without it calls go on, at a higher cost to
// Asterisk: a failure is logged.
func (s *Server) filterEvents(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	f := ari.EventFilter{Allowed: slices.Concat(events, s.cfg.ExtraEvents)}
	if _, err := s.ari.SetEventFilter(rctx, "", f); err != nil && ctx.Err() == nil {
		s.log.Warn("could not set the application's event filter: Asterisk sends every event", "err", err)
	}
}

// onStasisStart starts a call, unless the channel is one of ours, and
// returns it (nil: none).
func (s *Server) onStasisStart(ctx context.Context, e *ari.StasisStart) *call {
	id := e.Channel.ID
	s.mu.Lock()
	if _, ours := s.legs[id]; ours || isLegID(id) {
		s.mu.Unlock()
		return nil
	}
	if _, dup := s.calls[id]; dup {
		s.mu.Unlock()
		return nil
	}
	if !s.startedUp {
		s.seen[id] = true
	}
	if s.stop.Load() || ctx.Err() != nil {
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.sendBack(id)
		}()
		return nil
	}
	c := s.newCall(ctx, e)
	// Everything dispatched before the call's own subscription (made by
	// newCall) is among what s.starts has queued by now.
	c.synced, c.mark = make(chan struct{}), s.starts.Queued()
	s.calls[id] = c
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		c.serve()
	}()
	return c
}

// startCall starts a call of a caller's channel found by reconciliation
// (its StasisStart was lost), as onStasisStart would have. Its own
// subscription is made now, and the channel was there just before: a hangup
// in between is found by the next reconciliation or the call's first
// request.
func (s *Server) startCall(ctx context.Context, ch ari.Channel) {
	s.mu.Lock()
	if _, dup := s.calls[ch.ID]; dup {
		s.mu.Unlock()
		return
	}
	if s.stop.Load() || ctx.Err() != nil {
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.sendBack(ch.ID)
		}()
		return
	}
	c := s.newCall(ctx, &ari.StasisStart{Channel: ch})
	s.calls[ch.ID] = c
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		c.serve()
	}()
}

// onChannelEnd passes the end of a caller's channel to its call. The call's
// own subscription sees it too, unless it came before that subscription
// was made; either way the call ends once.
func (s *Server) onChannelEnd(id string) {
	s.mu.Lock()
	c := s.calls[id]
	s.mu.Unlock()
	if c != nil {
		c.callerHungUp()
	}
}

// sendBack returns a channel to the dialplan (its fallback after Stasis()).
func (s *Server) sendBack(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.RequestTimeout)
	defer cancel()
	if err := s.ari.ContinueInDialplan(ctx, id, ari.ContinueParams{}); err != nil && !ari.IsNotFound(err) {
		s.log.Warn("draining: could not return the call to the dialplan; hanging up", "channel_id", id, "err", err)
		_ = s.ari.Hangup(ctx, id, ari.HangupNormal)
		return
	}
	s.log.Info("draining: call returned to the dialplan", "channel_id", id)
}

// isLegID reports whether a channel id has the shape of our outgoing legs
// ("<call ULID>-legN"), so a previous process's legs are recognised too.
func isLegID(id string) bool {
	i := strings.LastIndex(id, "-leg")
	return i > 0 && i+4 < len(id) && isULID(id[:i])
}

// isBridgeID reports whether a bridge id has the shape of ours
// ("<call ULID>-br").
func isBridgeID(id string) bool {
	callID, ok := strings.CutSuffix(id, "-br")
	return ok && isULID(callID)
}

func isULID(s string) bool {
	_, err := ulid.ParseStrict(s)
	return err == nil
}

// Drain stops taking new calls: from now on they are returned to the
// dialplan (whose fallback after Stasis() takes them). Live calls go on.
func (s *Server) Drain() { s.stop.Store(true) }

// Wait returns when no live call (callback tries included) remains, or
// with ctx's error.
func (s *Server) Wait(ctx context.Context) error {
	for {
		s.mu.Lock()
		n, ch := len(s.calls)+len(s.tries), s.changed
		s.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("ivr: %d live call(s) remain: %w", n, ctx.Err())
		}
	}
}

// errShutdown is the cause given to live calls when Run's context ends.
var errShutdown = errors.New("ivr: server stopping")

// shutdown ends every live call and waits for their teardown, goroutines
// included, so nothing of a call runs once Run has returned (the database
// may close then). Every step of a teardown is bounded, so this ends; past
// ShutdownTimeout it says what it is still waiting for.
func (s *Server) shutdown() error {
	s.stop.Store(true)
	s.mu.Lock()
	for _, c := range s.calls {
		c.cancel(errShutdown)
	}
	s.mu.Unlock()
	defer s.stopAbandoned()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(s.cfg.ShutdownTimeout + s.cfg.RequestTimeout)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C:
	}
	s.mu.Lock()
	n := len(s.calls)
	s.mu.Unlock()
	s.log.Warn("stopping: calls are still retrying their teardown (hangups, releases); waiting for them", "calls", n)
	<-done
	return nil
}

// endCall forgets a finished call.
func (s *Server) endCall(c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.calls, c.channelID)
	close(s.changed)
	s.changed = make(chan struct{})
}

// releasePredecessor frees, before any call is taken, the reservations a
// previous run of this Instance left (it died holding people), and says how
// many. It retries; should it give up, those rows still expire within a
// lease, since nothing renews them.
func (s *Server) releasePredecessor(r instanceReleaser) {
	var released int
	tries, err := s.retry(0, func(ctx context.Context) error {
		n, err := r.ReleaseInstance(ctx, s.cfg.Instance)
		released = n
		return err
	})
	if err != nil {
		s.log.Error("could not release the reservations a previous run of this instance left; they expire within a lease",
			"instance", s.cfg.Instance, "tries", tries, "lease", s.cfg.Lease, "err", err)
		return
	}
	s.log.Info("released the reservations a previous run of this instance left", "instance", s.cfg.Instance,
		"count", released)
}

// reservationLister is the optional side of a Reserver (store.Store) that
// lists who is reserved: a restarted instance then frees its previous
// run's reservations except those of the calls it took over.
type reservationLister interface {
	Reservations(ctx context.Context) ([]store.Reservation, error)
}

// releasePredecessorExcept frees the reservations a previous run of this
// Instance left, except those of the calls in progress here (the calls
// taken over at start-up keep their people until they decide: adopt.go),
// and says how many. Rows it could not free expire within a lease.
func (s *Server) releasePredecessorExcept(l reservationLister) {
	live := map[string]bool{}
	for _, id := range s.liveCallIDs() {
		live[id] = true
	}
	var rows []store.Reservation
	tries, err := s.retry(0, func(ctx context.Context) error {
		var err error
		rows, err = l.Reservations(ctx)
		return err
	})
	if err != nil {
		s.log.Error("could not list the reservations a previous run of this instance left; they expire within a lease",
			"instance", s.cfg.Instance, "tries", tries, "lease", s.cfg.Lease, "err", err)
		return
	}
	released, kept := 0, 0
	for _, r := range rows {
		switch {
		case r.Instance != s.cfg.Instance:
		case live[r.CallID]:
			kept++
		default:
			if _, err := s.retry(0, func(ctx context.Context) error { return s.res.Release(ctx, r.Staff, r.CallID) }); err != nil {
				s.met.ReleaseGivenUp()
				s.log.Error("could not release a reservation a previous run of this instance left; it expires within a lease",
					"staff", r.Staff, "call_id", r.CallID, "err", err)
				continue
			}
			released++
		}
	}
	s.log.Info("released the reservations a previous run of this instance left", "instance", s.cfg.Instance,
		"count", released, "kept_for_calls_in_progress", kept)
}

// liveCallIDs returns the ids of the calls in progress (teardown included),
// callback tries too.
func (s *Server) liveCallIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.calls)+len(s.tries))
	for _, c := range s.calls {
		ids = append(ids, c.id)
	}
	for id := range s.tries {
		ids = append(ids, id)
	}
	return ids
}

// heartbeat extends the reservation leases of this instance's live calls
// until ctx ends. A reservation of a call that ended (its release failed)
// is not renewed: it expires.
func (s *Server) heartbeat(ctx context.Context, ext leaseExtender) {
	t := time.NewTicker(s.cfg.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
			if _, err := ext.ExtendLeases(rctx, s.cfg.Instance, s.liveCallIDs(), s.cfg.Lease); err != nil && ctx.Err() == nil {
				s.log.Warn("reservation heartbeat failed", "err", err)
			}
			cancel()
		}
	}
}

// teardownCtx is a bounded context for requests made after a call's context
// ended (hangups, bridge destruction).
func (s *Server) teardownCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), s.cfg.RequestTimeout)
}
