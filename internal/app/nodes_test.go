package app

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari/aritest"
	"github.com/csm-vn/hotline/internal/config"
)

// twoNodes are two fake Asterisks (distinct entity ids, as two real nodes
// have) on which KTV01 and KTV11 answer and press 1.
func twoNodes(t *testing.T) (a, b *aritest.Server) {
	t.Helper()
	phones := func() map[string]aritest.Phone {
		return map[string]aritest.Phone{
			ktv01: aritest.AnswersAndPresses(100*time.Millisecond, "1", 100*time.Millisecond),
			ktv11: aritest.AnswersAndPresses(100*time.Millisecond, "1", 100*time.Millisecond),
		}
	}
	opts := aritest.Options{User: "hotline", Password: "s3cret", App: "hotline", Second: time.Second,
		DefaultPhone: aritest.NeverAnswers()}
	oa, ob := opts, opts
	oa.Phones, oa.AsteriskID = phones(), "02:fc:00:00:00:0a"
	ob.Phones, ob.AsteriskID = phones(), "02:fc:00:00:00:0b"
	return aritest.Start(t, oa), aritest.Start(t, ob)
}

const (
	ktv01 = "0945550101" // KTV01's first number: Kiên Giang, Hậu Giang, Sóc Trăng
	ktv11 = "0985550105" // KTV11: Hà Nội
)

// withNodes configures ari.nodes (and no ari.url).
func withNodes(nodes ...config.Node) func(*config.Config) {
	return func(c *config.Config) {
		c.ARI.URL, c.ARI.Nodes = "", nodes
		c.Call.Ring.Technician, c.Call.MaxLeg = 20*time.Second, 40*time.Second
		c.Call.ConfirmTimeout = 20 * time.Second
	}
}

// readyz returns /readyz's status and body as a map.
func (h *harness) readyz() (int, map[string]string) {
	h.t.Helper()
	code, body := h.get("/readyz")
	var m map[string]string
	require.NoError(h.t, json.Unmarshal([]byte(body), &m), body)
	return code, m
}

func dialled(ast *aritest.Server, number string) bool {
	return slices.ContainsFunc(ast.Dials(), func(d aritest.Dialled) bool { return d.Number == number })
}

// One serve, two Asterisk nodes (issue 12, point 1): calls on each node are
// handled there, every leg created on the caller's node; a person on a call
// through node A is not rung for a call on node B (reservations shared
// through PostgreSQL); node A unreachable leaves node B serving, and
// /readyz and the metrics say which node is down.
func TestServeTwoNodes(t *testing.T) {
	astA, astB := twoNodes(t)
	h := startApp(t, sampleDatabase(t), "", time.Second, withNodes(
		config.Node{Name: "node-a", URL: astA.URL()},
		config.Node{Name: "node-b", URL: astB.URL()},
	))
	ctx := ctxFor(t, 90*time.Second)
	require.Eventually(t, func() bool {
		code, m := h.readyz()
		return code == http.StatusOK && m["ari node-a"] == "ok" && m["ari node-b"] == "ok"
	}, 20*time.Second, 20*time.Millisecond, "both nodes never served")

	// KG001 calls through node A: KTV01 answers, on a leg of node A.
	callA, err := astA.PlaceCall(aritest.CallSpec{Number: "0945550201"})
	require.NoError(t, err)
	_, err = callA.WaitHeard(ctx, "bridged", "")
	require.NoError(t, err)
	require.True(t, dialled(astA, ktv01), "KTV01 rung on node A: %+v", astA.Dials())
	require.Empty(t, astB.Dials(), "nothing created on node B for a call of node A")
	require.Empty(t, channelCreations(astB), "no leg created on node B")
	require.NotEmpty(t, channelCreations(astA), "the legs are created on node A")
	require.Equal(t, map[string]string{"KG001": "node-a"}, h.boardNodes(), "the board names the call's node")

	// HG001 (Hậu Giang, KTV01's too) calls through node B while KTV01 is
	// on the call of node A: node B rings the next people, never KTV01.
	callB, err := astB.PlaceCall(aritest.CallSpec{Number: "0965550204"})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(astB.Dials()) >= 2 || dialled(astB, ktv01) }, 30*time.Second,
		20*time.Millisecond, "node B rang nobody")
	require.Eventually(t, func() bool {
		nodes := h.boardNodes()
		return nodes["KG001"] == "node-a" && nodes["HG001"] == "node-b"
	}, 20*time.Second, 20*time.Millisecond, "the board never named each call's node: %v", h.boardNodes())
	for _, d := range astB.Dials() {
		require.NotEqual(t, ktv01, d.Number, "KTV01, busy on node A, rung through node B: %+v", astB.Dials())
		require.NotEqual(t, "0965550102", d.Number, "KTV01's second number rung through node B")
	}
	require.NoError(t, callB.Hangup())
	require.NoError(t, callA.Hangup())
	for _, c := range []*aritest.Call{callA, callB} {
		select {
		case <-c.Done():
		case <-ctx.Done():
			t.Fatal("a call did not end")
		}
	}

	// Node A goes away: node B still takes calls; /readyz stays 200 and
	// names the node that is down; the metrics too.
	require.NoError(t, astA.Close())
	require.Eventually(t, func() bool {
		code, m := h.readyz()
		return code == http.StatusOK && m["ari node-b"] == "ok" && strings.HasPrefix(m["ari node-a"], "not connected to "+astA.URL())
	}, 20*time.Second, 20*time.Millisecond, "readyz never said node A is down")
	_, metricsText := h.get("/metrics")
	require.Contains(t, metricsText, `hotline_ari_connected{node="node-a"} 0`)
	require.Contains(t, metricsText, `hotline_ari_connected{node="node-b"} 1`)
	callB, err = astB.PlaceCall(aritest.CallSpec{Number: "0975550212"}) // HN001: KTV11
	require.NoError(t, err)
	_, err = callB.WaitHeard(ctx, "bridged", "")
	require.NoError(t, err)
	require.True(t, dialled(astB, ktv11))
	require.NoError(t, callB.Hangup())
	<-callB.Done()
}

// boardNodes are the live calls' nodes on /board.json, by café.
func (h *harness) boardNodes() map[string]string {
	h.t.Helper()
	code, body := h.get("/board.json")
	require.Equal(h.t, http.StatusOK, code, body)
	var b struct {
		Calls []struct {
			CafeCode string `json:"cafe_code"`
			Node     string `json:"node"`
		} `json:"calls"`
	}
	require.NoError(h.t, json.Unmarshal([]byte(body), &b), body)
	out := map[string]string{}
	for _, c := range b.Calls {
		out[c.CafeCode] = c.Node
	}
	return out
}

// channelCreations are the fake's requests that create a channel.
func channelCreations(ast *aritest.Server) []aritest.Request {
	var out []aritest.Request
	for _, r := range ast.Requests() {
		if r.Method == "POST" && (r.Path == "/ari/channels" || r.Path == "/ari/channels/create" ||
			(strings.HasPrefix(r.Path, "/ari/channels/") && strings.Count(r.Path, "/") == 3)) {
			out = append(out, r)
		}
	}
	return out
}

// A second serve for a node already served is refused the node: it does
// not connect the application's events socket (which would take the
// application, and its calls, from the first — ApplicationReplaced), says
// on /readyz who serves the node, and takes the node over once the first
// has stopped.
func TestSecondServeForANodeWaits(t *testing.T) {
	astA, _ := twoNodes(t)
	dbURL := sampleDatabase(t)
	first := startApp(t, dbURL, astA.URL(), time.Second, func(c *config.Config) { c.Instance = "serve-1" })

	second := startAppNoWait(t, dbURL, astA.URL(), time.Second, func(c *config.Config) { c.Instance = "serve-2" })
	require.Eventually(t, func() bool {
		code, m := second.readyz()
		return code == http.StatusServiceUnavailable && strings.Contains(m["ari"], `is served by instance "serve-1"`)
	}, 20*time.Second, 20*time.Millisecond, "the second serve never said who serves the node")
	// The first keeps its application: it takes a call.
	call, err := astA.PlaceCall(aritest.CallSpec{Number: "0975550212"})
	require.NoError(t, err)
	ctx := ctxFor(t, 60*time.Second)
	_, err = call.WaitHeard(ctx, "bridged", "")
	require.NoError(t, err)
	require.NoError(t, call.Hangup())
	<-call.Done()
	for _, ev := range astA.Events() {
		require.NotEqual(t, "ApplicationReplaced", ev.Type, "the second serve took the application over")
	}

	// The first stops (cleanly): the second serves the node.
	first.cancel()
	require.NoError(t, <-first.done)
	first.done <- nil // for its cleanup
	second.waitReady()
	call, err = astA.PlaceCall(aritest.CallSpec{Number: "0975550212"})
	require.NoError(t, err)
	_, err = call.WaitHeard(ctx, "bridged", "")
	require.NoError(t, err)
	require.NoError(t, call.Hangup())
	<-call.Done()
}
