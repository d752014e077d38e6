package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/internal/config"
	"github.com/csm-vn/hotline/ivr"
	"github.com/csm-vn/hotline/store"
)

// node is one Asterisk node this process serves (ari.nodes, or the single
// node of ari.url): its own ARI client (events socket, reconnect), its own
// call flow (ivr.Server: recovery, legs created on this node, callbacks
// dialled through it) and its own instance identity in reservations. Every
// node shares the database, the directory, the metrics and the HTTP server.
//
// A node is served by one process at a time: before its events socket
// connects, the process claims the node (its application and Asterisk's
// entity id) in PostgreSQL (store.ClaimNode). Asterisk gives an application
// to the last WebSocket that registers it, so a second process would take
// the node's calls from the first (ApplicationReplaced) and, not knowing
// them, end them; instead it waits, says so on /readyz and in the log, and
// takes the node over once the first has stopped (at once after a clean
// stop, within the lease after a crash).
type node struct {
	cfg      config.Node
	instance string // reservations' and callbacks' identity of this node's call flow
	log      *slog.Logger

	// cur is what serves the node now; nil fields until built.
	cur atomic.Pointer[nodeState]
}

// nodeState is a node's client and call flow of the moment, and why it is
// not serving when it is not.
type nodeState struct {
	client  *ari.Client
	calls   *ivr.Server // nil while the node is not claimed
	waiting string      // why the node is not served ("" once serving)
}

func (n *node) state() nodeState {
	if st := n.cur.Load(); st != nil {
		return *st
	}
	return nodeState{waiting: "not started yet (database, directory, call records come first)"}
}

func (n *node) set(st nodeState) { n.cur.Store(&st) }

// ready is the node's line of /readyz: nil when its call flow runs and its
// events socket is up.
func (n *node) ready() error {
	st := n.state()
	switch {
	case st.calls == nil:
		return errors.New(st.waiting)
	case st.client == nil:
		return errors.New("no ARI client")
	}
	if cs, _ := st.client.State(); !cs.Connected {
		return fmt.Errorf("not connected to %s (app %s)", redact(n.cfg.URL), n.cfg.App)
	} else if cs.Replaced {
		return fmt.Errorf("replaced: another process took the application %s over on %s (ApplicationReplaced); "+
			"this one gets no events for its calls: run one hotline per application", n.cfg.App, n.cfg.Name)
	}
	return nil
}

// Timings of serving a node.
const (
	// nodeLease is how long a crashed process keeps a node from the others.
	nodeLease = 30 * time.Second
	// nodeClaimRetry is how often a process waiting for a node (held by
	// another, or Asterisk unreachable) tries again.
	nodeClaimRetry = 2 * time.Second
)

// nodeDeps are what every node's call flow shares.
type nodeDeps struct {
	store *store.Store
	deps  ivr.Deps // ARI and Logger are set per node
}

// runNode serves n until ctx ends: it learns which Asterisk answers (entity
// id), claims the node, then runs the client and the call flow until ctx
// ends or the claim is lost (then all over again).
func (a *App) runNode(ctx context.Context, n *node, nd nodeDeps) error {
	for ctx.Err() == nil {
		client, err := ari.New(ari.Config{
			URL: n.cfg.URL, User: n.cfg.User, Password: n.cfg.Password, App: n.cfg.App, Node: n.cfg.Name,
			Logger: a.log, Observer: a.metrics.ARI(),
		})
		if err != nil {
			return fmt.Errorf("ari node %s: %w", n.cfg.Name, err)
		}
		n.set(nodeState{client: client, waiting: "asking Asterisk who it is (GET /asterisk/info)"})
		key, err := a.nodeKey(ctx, n, client)
		if err != nil {
			return nil // ctx ended
		}
		if !a.claimNode(ctx, n, client, nd.store, key) {
			return nil
		}
		a.serveNode(ctx, n, client, nd, key)
	}
	return nil
}

// nodeKey returns what identifies the node's application across processes:
// the application and the Asterisk's entity id (asterisk.conf entityid; by
// default a MAC address of its host), whatever URL reaches it. It retries
// until Asterisk answers or ctx ends.
func (a *App) nodeKey(ctx context.Context, n *node, client *ari.Client) (string, error) {
	var key string
	what := fmt.Sprintf("Asterisk node %s", n.cfg)
	err := retry(ctx, n.log, what, nodeClaimRetry, func(ctx context.Context) error {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		info, err := client.Info(rctx)
		if err != nil {
			n.set(nodeState{client: client, waiting: fmt.Sprintf("not connected to %s (app %s): %v",
				redact(n.cfg.URL), n.cfg.App, rootCause(err))})
			return err
		}
		if info.System == nil || info.System.EntityID == "" {
			return errors.New("Asterisk did not say its entity id (GET /asterisk/info)")
		}
		key = n.cfg.App + "@" + info.System.EntityID
		return nil
	})
	return key, err
}

// claimNode waits until this process owns key (false: ctx ended).
func (a *App) claimNode(ctx context.Context, n *node, client *ari.Client, st *store.Store, key string) bool {
	var said string
	for {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ok, holder, err := st.ClaimNode(rctx, key, n.cfg.Name, n.instance, nodeLease)
		cancel()
		if ok {
			if said != "" {
				n.log.Info("serving the node now", "key", key)
			}
			return true
		}
		var why string
		switch {
		case err != nil:
			why = fmt.Sprintf("cannot claim the node in the database: %v", err)
		case a.ownInstance(holder.Instance):
			why = fmt.Sprintf("Asterisk entity id %s is also this process's node %s: the same Asterisk twice in ari.nodes, "+
				"or two Asterisks with one entityid (set a distinct entityid in each asterisk.conf)", key, holder.Node)
		default:
			why = fmt.Sprintf("application %s on this Asterisk (%s) is served by instance %q (its node %s); "+
				"waiting to take over when it stops", n.cfg.App, key, holder.Instance, holder.Node)
		}
		n.set(nodeState{client: client, waiting: why})
		if why != said {
			n.log.Warn("not serving the node", "why", why)
			said = why
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(nodeClaimRetry):
		}
	}
}

// ownInstance reports whether id is one of this process's nodes' identity.
func (a *App) ownInstance(id string) bool {
	for _, n := range a.nodes {
		if n.instance == id {
			return true
		}
	}
	return false
}

// serveNode runs the node's client and call flow until ctx ends or the
// claim is lost, then releases the claim.
func (a *App) serveNode(ctx context.Context, n *node, client *ari.Client, nd nodeDeps, key string) {
	deps := nd.deps
	deps.ARI, deps.Logger = client, n.log
	calls, err := ivr.New(a.ivrConfig(n.instance), deps)
	if err != nil { // the configuration was validated: not expected
		n.log.Error("cannot start the call flow", "err", err)
		n.set(nodeState{client: client, waiting: "call flow: " + err.Error()})
		select {
		case <-ctx.Done():
		case <-time.After(nodeClaimRetry):
		}
		return
	}
	if a.draining.Load() {
		calls.Drain()
	}
	n.set(nodeState{client: client, calls: calls})
	nctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	goFn := func(fn func(context.Context)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cancel() // one ends: the node stops
			fn(nctx)
		}()
	}
	lost := make(chan struct{})
	goFn(func(ctx context.Context) {
		if err := client.Run(ctx); err != nil && ctx.Err() == nil {
			n.log.Error("ARI client stopped", "err", err)
		}
	})
	goFn(func(ctx context.Context) {
		if err := calls.Run(ctx); err != nil && ctx.Err() == nil {
			n.log.Error("call flow stopped", "err", err)
		}
	})
	goFn(func(ctx context.Context) { a.watchARI(ctx, n, client) })
	goFn(func(ctx context.Context) { a.keepNode(ctx, n, nd.store, key, lost) })
	wg.Wait()
	select {
	case <-lost:
		n.set(nodeState{client: client, waiting: "lost the node's claim; claiming it again"})
		return // nothing of ours to release
	default:
	}
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer rcancel()
	if err := nd.store.ReleaseNode(rctx, key, n.instance); err != nil {
		n.log.Warn("could not release the node; another process may take it when the lease ends", "lease", nodeLease, "err", err)
	}
	n.set(nodeState{client: client, waiting: "stopped"})
}

// keepNode renews the node's claim every third of the lease until ctx
// ends. Should another process own it (this one could not reach the
// database for a whole lease), it closes lost and returns: the node stops
// here and is claimed again.
func (a *App) keepNode(ctx context.Context, n *node, st *store.Store, key string, lost chan<- struct{}) {
	t := time.NewTicker(nodeLease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ok, holder, err := st.ClaimNode(rctx, key, n.cfg.Name, n.instance, nodeLease)
		cancel()
		switch {
		case err != nil:
			if ctx.Err() == nil {
				n.log.Warn("could not renew the node's claim; still serving it", "err", err)
			}
		case !ok:
			n.log.Error("another process took the node over (this one missed the database for a whole lease); "+
				"stopping this node's call flow", "holder", holder.Instance, "lease", nodeLease)
			close(lost)
			return
		}
	}
}

// servers are the call flows of the nodes being served now.
func (a *App) servers() []*ivr.Server {
	var out []*ivr.Server
	for _, ns := range a.nodeServers() {
		out = append(out, ns.calls)
	}
	return out
}

// nodeServers are the call flows of the nodes being served now, with
// their nodes' names.
func (a *App) nodeServers() []nodeServer {
	var out []nodeServer
	for _, n := range a.nodes {
		if st := n.state(); st.calls != nil {
			out = append(out, nodeServer{node: n.cfg.Name, calls: st.calls})
		}
	}
	return out
}

// connectedServer is the call flow of the first node (in configuration
// order) being served with its events socket up: where a supervisor's
// "call back now" is dialled. Nil when none.
func (a *App) connectedServer() *ivr.Server {
	for _, n := range a.nodes {
		if n.ready() == nil {
			return n.state().calls
		}
	}
	return nil
}

// clients are the ARI clients of the nodes, in configuration order.
func (a *App) clients() []*ari.Client {
	var out []*ari.Client
	for _, n := range a.nodes {
		if st := n.state(); st.client != nil {
			out = append(out, st.client)
		}
	}
	return out
}
