package app

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari/aritest"
	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/internal/config"
	"github.com/csm-vn/hotline/store"
)

// missedWithCallback writes a café's missed call whose record asks for a
// callback to number (E.164), due at once.
func missedWithCallback(t *testing.T, ctx context.Context, dbURL, id, cafe, number string) {
	t.Helper()
	db, err := store.Open(ctx, dbURL)
	require.NoError(t, err)
	defer db.Close()
	ended := time.Now().Add(-time.Minute)
	ok, err := store.WriteCall(ctx, db, &store.CallRecord{ID: id, Node: "earlier", ChannelID: "missed-" + id,
		CallerRaw: number, Caller: number, CallerKind: "mobile", Cafe: cafe, MatchedBy: dialplan.MatchedByCallerID,
		StartedAt: ended.Add(-time.Minute), EndedAt: ended, Outcome: store.OutcomeNoAnswer, Wait: time.Minute,
		Callback: &store.CallbackRequest{Number: number}})
	require.NoError(t, err)
	require.True(t, ok)
}

// dialsTo are the dials of number on the nodes.
func dialsTo(number string, nodes ...*aritest.Server) []aritest.Dialled {
	var out []aritest.Dialled
	for _, n := range nodes {
		for _, d := range n.Dials() {
			if d.Number == number {
				out = append(out, d)
			}
		}
	}
	return out
}

// Callbacks with several nodes (issue 12): every node's call flow runs a
// callback worker, and all of them share the requests through PostgreSQL.
// A due request is claimed by one worker only (one row lock, SKIP LOCKED,
// and a lease), so with two nodes in one serve it is tried once: its KTV
// rung once, the café dialled once, through one node. A worker whose node
// is down claims nothing: with node A gone, node B's worker calls the next
// café back through node B.
func TestServeTwoNodesCallbacks(t *testing.T) {
	astA, astB := twoNodes(t)
	const kg001, hn001 = "0945550201", "0975550212" // KG001 (KTV01's), HN001 (KTV11's)
	for _, ast := range []*aritest.Server{astA, astB} {
		ast.SetPhone(kg001, aritest.Answers(50*time.Millisecond))
		ast.SetPhone(hn001, aritest.Answers(50*time.Millisecond))
	}
	dbURL := sampleDatabase(t)
	ctx := ctxFor(t, 120*time.Second)
	// Due before the serve starts: both workers' first pass finds it.
	missedWithCallback(t, ctx, dbURL, "01KAB7Y1Q3F7T8M2XW6N4P9R5A", "KG001", "+84945550201")
	h := startApp(t, dbURL, "", time.Second, withNodes(
		config.Node{Name: "node-a", URL: astA.URL()},
		config.Node{Name: "node-b", URL: astB.URL()},
	), func(c *config.Config) {
		c.Callback.Enabled, c.Callback.Hours = true, "00:00-24:00"
	})
	db, err := store.Open(ctx, h.dbURL)
	require.NoError(t, err)
	defer db.Close()

	// talkAndHangUp waits until the café is bridged on one node, then
	// hangs the café up there; it returns that node.
	talkAndHangUp := func(number string, nodes ...*aritest.Server) *aritest.Server {
		t.Helper()
		var on *aritest.Server
		var leg string
		require.Eventually(t, func() bool {
			for _, n := range nodes {
				for _, d := range n.Dials() {
					if d.Number == number && !d.Ended &&
						slices.ContainsFunc(d.Heard, func(x aritest.Heard) bool { return x.Kind == "bridged" }) {
						on, leg = n, d.ChannelID
						return true
					}
				}
			}
			return false
		}, 60*time.Second, 20*time.Millisecond, "café %s never called back and bridged", number)
		require.NoError(t, on.HangupLeg(leg))
		return on
	}
	waitDone := func(callID string) {
		t.Helper()
		require.Eventually(t, func() bool {
			var state string
			return db.GetContext(ctx, &state, "SELECT state FROM callbacks WHERE call_id = $1", callID) == nil &&
				state == string(store.CallbackDone)
		}, 30*time.Second, 20*time.Millisecond, "callback of %s never done", callID)
	}

	on := talkAndHangUp(kg001, astA, astB)
	waitDone("01KAB7Y1Q3F7T8M2XW6N4P9R5A")
	require.Len(t, dialsTo(kg001, astA, astB), 1, "the café dialled once, through one node")
	require.Len(t, dialsTo(ktv01, astA, astB), 1, "KTV01 rung once")
	require.Len(t, dialsTo(ktv01, on), 1, "the person and the café on the same node")
	tryNodes := func() []string { // the recorded tries' nodes (records are written in the background)
		var out []string
		require.NoError(t, db.SelectContext(ctx, &out, "SELECT node FROM calls WHERE direction = 'callback' ORDER BY started_at"))
		return out
	}
	require.Eventually(t, func() bool { return len(tryNodes()) == 1 }, 20*time.Second, 20*time.Millisecond,
		"the try never recorded")

	// Node A goes away: node B's worker calls HN001 back through node B.
	require.NoError(t, astA.Close())
	require.Eventually(t, func() bool {
		_, m := h.readyz()
		return m["ari node-a"] != "ok" && m["ari node-b"] == "ok"
	}, 20*time.Second, 20*time.Millisecond, "node A never seen down")
	missedWithCallback(t, ctx, dbURL, "01KAB7Y1Q3F7T8M2XW6N4P9R5B", "HN001", "+84975550212")
	require.Same(t, astB, talkAndHangUp(hn001, astB))
	waitDone("01KAB7Y1Q3F7T8M2XW6N4P9R5B")
	require.Len(t, dialsTo(hn001, astB), 1)
	require.Len(t, dialsTo(ktv11, astB), 1)
	require.Eventually(t, func() bool { return len(tryNodes()) == 2 }, 20*time.Second, 20*time.Millisecond,
		"the second try never recorded")
	require.Equal(t, config.Default().InstanceID()+"@node-b", tryNodes()[1], "the second try is node B's")
	require.Len(t, dialsTo(kg001, astA, astB), 1, "the first café not called again")
}
