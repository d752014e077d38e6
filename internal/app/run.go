package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/internal/board"
	"github.com/csm-vn/hotline/internal/config"
	"github.com/csm-vn/hotline/ivr"
	"github.com/csm-vn/hotline/metrics"
	"github.com/csm-vn/hotline/store"
)

// Run serves until ctx ends (stop now) or, after drain is closed, until the
// live calls have finished or call.drain has passed. While Asterisk or the
// database is unreachable it keeps retrying and logs what it waits for.
func (a *App) Run(ctx context.Context, drain <-chan struct{}) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	goFn := func(name string, fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}

	// HTTP first, so /healthz answers and /readyz says what is awaited.
	var dbp atomic.Pointer[sqlx.DB]
	a.nodes = a.buildNodes()
	a.ready = []readiness{
		{name: "database", check: func(ctx context.Context) error {
			if db := dbp.Load(); db != nil {
				return db.PingContext(ctx)
			}
			return errors.New("waiting for the database")
		}},
	}
	for _, n := range a.nodes {
		name := "ari"
		if len(a.cfg.ARI.Nodes) > 0 {
			name = "ari " + n.cfg.Name
		}
		a.ready = append(a.ready, readiness{name: name, check: func(context.Context) error { return n.ready() }, anyOf: "ari"})
	}
	httpCtx, stopHTTP := context.WithCancel(context.WithoutCancel(ctx))
	httpDone := make(chan error, 1)
	started := make(chan error, 1)
	go func() { httpDone <- a.serveHTTP(httpCtx, started) }()
	if err := <-started; err != nil {
		stopHTTP()
		return err
	}
	defer func() { stopHTTP(); <-httpDone }()

	// Then the database: the ARI app must not take calls it cannot route.
	db, err := a.connectDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	dbp.Store(db)

	m := metrics.New(a.registerer, metrics.Options{
		ARINodes: a.nodeNames(), Trunks: extraTrunks(a.cfg.Trunks), Version: a.opts.Version,
		Provinces: provinceCodes(), NoRuntimeCollectors: true,
	})
	a.metrics = m

	coverageKick := make(chan struct{}, 1)
	watcher, err := store.WatchDirectory(ctx, db, a.cfg.Database.URL, func(d *dialplan.Directory) {
		a.directoryLoaded(d)
		select {
		case coverageKick <- struct{}{}:
		default:
		}
	},
		store.WatchOptions{Logger: a.log.With("component", "directory"),
			Directory: []dialplan.Option{dialplan.WithTet(a.cfg.Call.TetDaysBefore, a.cfg.Call.TetDaysAfter)}})
	if err != nil {
		return fmt.Errorf("load directory: %w", err)
	}
	a.directoryLoaded(watcher.Current())

	if err := os.MkdirAll(a.cfg.Database.SpoolDir, 0o750); err != nil {
		return fmt.Errorf("database.spool_dir: %w", err)
	}
	rec, err := store.NewRecorder(db, store.RecorderOptions{
		SpoolPath: filepath.Join(a.cfg.Database.SpoolDir, "calls.jsonl"),
		Logger:    a.log.With("component", "recorder"), Observer: m,
	})
	if err != nil {
		return err
	}
	defer func() {
		cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer ccancel()
		if err := rec.Close(cctx); err != nil {
			a.log.Error("call records not all written; they stay in the spool", "err", err)
		}
	}()
	st := store.New(db, store.WithLogger(a.log.With("component", "store")), store.WithRotationCache(rotationCacheAge))
	a.store = st

	deps := ivr.Deps{
		Directory: watcher.Current,
		Reserver:  st,
		Recorder:  rec,
		Metrics:   m,
		Callbacks: st,
	}
	a.setBoard(board.Handler(boardSource{calls: a.nodeServers, nodes: len(a.nodes) > 1, store: st, dir: watcher.Current}, board.Options{
		Token: a.cfg.HTTP.BoardToken, RequireToken: board.RequireTokenFor(a.cfg.HTTP.Addr),
		Logger: a.log.With("component", "board"),
		Inbox:  boardInbox{app: a, store: st, clients: a.clients, dir: watcher.Current, trunks: dialplan.Trunks(a.cfg.Trunks)},
		Report: reportSource{store: st, dir: watcher.Current},
		// "Call back now" (callback.go), dialled through a node that is up.
		Callbacks: boardCallbacks{calls: nodeCallbacks{app: a}},
	}))

	// Registered last, so it runs first: stop every goroutine (the call flow
	// ends its calls and submits their records) before the recorder drains
	// and the database closes.
	defer func() { cancel(); wg.Wait() }()

	for _, n := range a.nodes {
		goFn("node "+n.cfg.Name, func(ctx context.Context) error { return a.runNode(ctx, n, nodeDeps{store: st, deps: deps}) })
	}
	goFn("voicemails", func(ctx context.Context) error { a.pollVoicemails(ctx, st); return nil })
	goFn("coverage", func(ctx context.Context) error { a.watchCoverage(ctx, watcher.Current, coverageKick); return nil })

	select {
	case <-ctx.Done():
		a.log.Info("stopping")
		return nil
	case err := <-errc:
		return err
	case err := <-httpDone:
		httpDone <- err
		return err
	case <-drain:
	}
	a.draining.Store(true)
	servers := a.servers()
	for _, calls := range servers {
		calls.Drain()
	}
	dctx, dcancel := context.WithTimeout(ctx, a.cfg.Call.Drain)
	defer dcancel()
	var left error
	for _, calls := range servers {
		if err := calls.Wait(dctx); err != nil {
			left = err
		}
	}
	if left != nil {
		a.log.Warn("drain timeout: ending the calls still in progress", "drain", a.cfg.Call.Drain)
	} else {
		a.log.Info("drained: no call in progress")
	}
	return nil
}

// rotationCacheAge is how old this instance's copy of who was rung last
// (least recently rung first, shared through PostgreSQL) may be: one read of
// the table serves every call of that moment instead of one read per call.
const rotationCacheAge = 200 * time.Millisecond

// ivrLease is how long a reservation of a person outlives a dead instance.
const ivrLease = 30 * time.Second

func (a *App) ivrConfig(instance string) ivr.Config {
	c, p := a.cfg.Call, a.cfg.Prompts
	return ivr.Config{
		CallerID: c.CallerID, Ring: RingTimes(c.Ring),
		ConfirmTimeout: c.ConfirmTimeout, MaxCall: c.MaxCall, MaxLeg: c.MaxLeg,
		Hold: c.Hold, MOHClass: c.MOHClass,
		CodeFirstDigit: c.CodeFirstDigit, CodeInterDigit: c.CodeInterDigit, CodeOverall: c.CodeOverall, CodeTries: c.CodeTries,
		VoicemailMax: c.VoicemailMax, RatingTimeout: c.RatingTimeout,
		Trunks: dialplan.Trunks(a.cfg.Trunks), MaxTargets: 12,
		Prompts: ivr.Prompts{
			Greeting: p.Greeting, EnterCode: p.EnterCode, Connecting: p.Connecting, Announce: p.Announce,
			Province: p.Province, ProvincePrefix: p.ProvincePrefix, PressOne: p.PressOne, Rate: p.Rate,
			Thanks: p.Thanks, Voicemail: p.Voicemail, Goodbye: p.Goodbye, DigitPrefix: p.DigitPrefix, LetterPrefix: p.LetterPrefix,
			Callback: p.Callback, CallbackNoAnswer: p.CallbackNoAnswer,
			Transfer: p.Transfer, RolePrefix: p.RolePrefix, TransferFailed: p.TransferFailed, TransferInvalid: p.TransferInvalid,
		},
		Instance: instance, Lease: ivrLease,
		Callback: callbackConfig(a.cfg.Callback),
	}
}

// callbackConfig is callback.* for the call flow (validated already).
func callbackConfig(c config.Callback) ivr.CallbackConfig {
	out := ivr.CallbackConfig{Enabled: c.Enabled, MinWait: c.MinWait, Tries: c.Tries, Retry: c.Retry}
	if start, end, err := config.CallbackHours(c.Hours); err == nil {
		for d := time.Sunday; d <= time.Saturday; d++ {
			out.Hours.Windows = append(out.Hours.Windows, dialplan.Window{Day: d, Start: start, End: end})
		}
	}
	return out
}

// connectDB waits for the database and checks its schema. An out-of-date
// schema stops start-up with the command that fixes it.
func (a *App) connectDB(ctx context.Context) (*sqlx.DB, error) {
	var db *sqlx.DB
	what := "database at " + redact(a.cfg.Database.URL)
	err := retry(ctx, a.log, what, 10*time.Second, func(ctx context.Context) error {
		var err error
		db, err = store.Open(ctx, a.cfg.Database.URL)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := store.CheckSchema(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// directoryLoaded updates the metrics that follow the directory.
func (a *App) directoryLoaded(d *dialplan.Directory) {
	if d == nil || a.metrics == nil {
		return
	}
	m := a.metrics
	m.SetRegions(d.RegionCodes())
	m.SetStaff(d.StaffCodes())
	c := d.Counts()
	for kind, n := range map[string]int{"regions": c.Regions, "areas": c.Areas, "provinces": c.Provinces,
		"staff": c.Staff, "cafes": c.Cafes, "phones": c.CafePhones, "holidays": c.Holidays, "refusals": c.Refusals} {
		m.SetDirectorySize(kind, n)
	}
	m.DirectoryLoaded(time.Now())
	a.log.Info("directory loaded", "cafes", c.Cafes, "staff", c.Staff, "regions", c.Regions)
}

// watchARI logs a node's ARI link state changes, so an operator sees
// exactly what the process waits for.
func (a *App) watchARI(ctx context.Context, n *node, c *ari.Client) {
	var was *bool
	for {
		st, changed := c.State()
		if was == nil || *was != st.Connected {
			if st.Connected {
				n.log.Info("connected to Asterisk ARI", "url", redact(n.cfg.URL), "app", n.cfg.App, "connects", st.Connects)
			} else if st.LastError != nil {
				n.log.Warn("waiting for Asterisk ARI", "url", redact(n.cfg.URL), "user", n.cfg.User, "app", n.cfg.App, "err", st.LastError)
			}
			conn := st.Connected
			was = &conn
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
	}
}

// buildNodes are the nodes of the configuration, not started.
func (a *App) buildNodes() []*node {
	var out []*node
	for _, c := range a.cfg.NodeList() {
		out = append(out, &node{cfg: c, instance: a.cfg.NodeInstanceID(c.Name), log: a.log.With("node", c.Name)})
	}
	return out
}

// nodeNames are the configured nodes' names (the metrics' node labels).
func (a *App) nodeNames() []string {
	var out []string
	for _, c := range a.cfg.NodeList() {
		out = append(out, c.Name)
	}
	return out
}

// pollVoicemails keeps hotline_voicemails_waiting and the oldest waiting
// voicemail's time current (the latter was left at 0, so its alert never fired).
func (a *App) pollVoicemails(ctx context.Context, st *store.Store) {
	t := time.NewTicker(15 * time.Second)
	defer t.Stop()
	for {
		a.refreshVoicemailGauges(ctx, st)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// extraTrunks are the configured trunk names that are not carriers or
// "default" (metrics admits them as label values).
func extraTrunks(trunks map[string]string) []string {
	var out []string
	for k := range trunks {
		switch dialplan.Carrier(k) {
		case dialplan.CarrierViettel, dialplan.CarrierVinaphone, dialplan.CarrierMobifone, dialplan.CarrierVietnamobile,
			dialplan.CarrierGmobile, dialplan.CarrierReddi, dialplan.CarrierItel:
			continue
		}
		if k != "default" {
			out = append(out, k)
		}
	}
	return out
}

// provinceCodes are the directory's province codes (the metrics' province
// label values).
func provinceCodes() []string {
	var out []string
	for _, p := range dialplan.Provinces() {
		out = append(out, p.Code)
	}
	return out
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}
