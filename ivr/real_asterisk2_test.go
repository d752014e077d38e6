package ivr_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/ari/aritest"
	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/ivr"
)

// More shared call scenarios (see real_asterisk_test.go), and what they
// need on both drivers: a log of the prompts and recordings the hotline
// started (seen through its own ARI client, so the same on the fake and on
// a real Asterisk), and, for a real Asterisk, a loopback proxy that can cut
// the hotline's events WebSocket.

// --- what the hotline played and recorded ---

// mediaLog collects, per playback, the media URIs the hotline's client saw
// started, and the names of the recordings started.
type mediaLog struct {
	mu         sync.Mutex
	playbacks  map[string][]string // playback id → media URIs
	order      []string            // playback ids as first seen
	recordings []string
	changed    chan struct{} // closed and replaced on every change
}

// watchMedia starts logging; call it before the call is placed.
func watchMedia(t *testing.T, e *env) *mediaLog {
	t.Helper()
	m := &mediaLog{playbacks: map[string][]string{}, changed: make(chan struct{})}
	sub := e.client.Subscribe(ari.TypeKey(ari.TypePlaybackStarted), ari.TypeKey(ari.TypePlaybackContinuing),
		ari.TypeKey(ari.TypeRecordingStarted))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case ev, ok := <-sub.Events():
				if !ok {
					return
				}
				m.add(ev)
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		sub.Close()
		<-done
	})
	return m
}

func (m *mediaLog) add(ev ari.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch e := ev.(type) {
	case *ari.PlaybackStarted:
		if _, ok := m.playbacks[e.Playback.ID]; !ok {
			m.order = append(m.order, e.Playback.ID)
		}
		m.playbacks[e.Playback.ID] = append(m.playbacks[e.Playback.ID], e.Playback.MediaURI)
	case *ari.PlaybackContinuing:
		// Asterisk: every item of a media list gets its own PlaybackStarted
		// (state playing); PlaybackContinuing names the item that just
		// ended (res_stasis_playback.c), so it adds nothing here.
	case *ari.RecordingStarted:
		m.recordings = append(m.recordings, e.Recording.Name)
	default:
		return
	}
	close(m.changed)
	m.changed = make(chan struct{})
}

// playbacksOf counts the playbacks that played a media URI containing s.
func (m *mediaLog) playbacksOf(s string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, uris := range m.playbacks {
		for _, u := range uris {
			if strings.Contains(u, s) {
				n++
				break
			}
		}
	}
	return n
}

// playbackStartingWith returns the media URIs of the first playback that
// started with first: what that playback went through, item by item (one
// PlaybackStarted per item).
func (m *mediaLog) playbackStartingWith(first string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range m.order {
		if uris := m.playbacks[id]; len(uris) > 0 && uris[0] == first {
			return slices.Clone(uris)
		}
	}
	return nil
}

// waitFor waits until ok holds for the log.
func (m *mediaLog) waitFor(t *testing.T, ctx context.Context, what string, ok func() bool) {
	t.Helper()
	for {
		m.mu.Lock()
		ch := m.changed
		m.mu.Unlock()
		if ok() {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			m.mu.Lock()
			defer m.mu.Unlock()
			t.Fatalf("waiting for %s; playbacks %v, recordings %v", what, m.playbacks, m.recordings)
		}
	}
}

// waitPlayback waits until a playback of a media URI containing s started.
func (m *mediaLog) waitPlayback(t *testing.T, ctx context.Context, s string) {
	t.Helper()
	m.waitFor(t, ctx, "a playback of "+s, func() bool { return m.playbacksOf(s) > 0 })
}

// waitRecording waits until a recording started and returns its name.
func (m *mediaLog) waitRecording(t *testing.T, ctx context.Context) string {
	t.Helper()
	var name string
	m.waitFor(t, ctx, "a recording", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		if len(m.recordings) > 0 {
			name = m.recordings[0]
		}
		return name != ""
	})
	return name
}

// onlyRecord waits for the one record of the scenario (each scenario has a
// fresh database).
func (e *env) onlyRecord() callRow {
	e.t.Helper()
	var ids []string
	deadline := time.Now().Add(waitTimeout)
	for {
		ids = nil
		require.NoError(e.t, e.db.Select(&ids, `SELECT channel_id FROM calls`))
		if len(ids) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.Len(e.t, ids, 1, "exactly one call record")
	return e.record(ids[0])
}

// --- a proxy that can cut the events WebSocket (real Asterisk) ---

// wsProxy forwards loopback TCP connections to Asterisk's HTTP server and
// can close the ones carrying the events WebSocket (GET /ari/events), and
// keep the WebSocket down for as long as a test needs.
type wsProxy struct {
	t        *testing.T
	ln       net.Listener
	base     *url.URL
	upstream string

	mu      sync.Mutex
	conns   map[*proxyConn]struct{}
	held    bool // new events WebSockets are refused
	refused int  // events WebSockets refused while held
	muted   bool // what Asterisk sends on an events WebSocket is dropped
	wg      sync.WaitGroup
}

type proxyConn struct {
	client, server net.Conn
	mu             sync.Mutex
	ws             bool
}

func (c *proxyConn) close() {
	_ = c.client.Close()
	_ = c.server.Close()
}

func (c *proxyConn) isWS() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws
}

// startWSProxy proxies to the http:// ARI base URL rawURL until the test ends.
func startWSProxy(t *testing.T, rawURL string) *wsProxy {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	require.Equal(t, "http", u.Scheme, "the WebSocket-cutting proxy speaks plain HTTP only")
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &wsProxy{t: t, ln: ln, base: u, upstream: host, conns: map[*proxyConn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		p.mu.Lock()
		for c := range p.conns {
			c.close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

// url is the ARI base URL through the proxy.
func (p *wsProxy) url() string {
	u := *p.base
	u.Host = p.ln.Addr().String()
	return u.String()
}

func (p *wsProxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
		if err != nil {
			p.t.Logf("proxy: dial %s: %v", p.upstream, err)
			_ = client.Close()
			continue
		}
		c := &proxyConn{client: client, server: server}
		p.mu.Lock()
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			defer c.close()
			buf := make([]byte, 32<<10)
			for {
				n, err := server.Read(buf)
				if n > 0 && !(c.isWS() && p.isMuted()) {
					if _, werr := client.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
		go func() {
			defer p.wg.Done()
			defer func() {
				c.close()
				p.mu.Lock()
				delete(p.conns, c)
				p.mu.Unlock()
			}()
			buf := make([]byte, 32<<10)
			for {
				n, err := client.Read(buf)
				if n > 0 {
					// A connection that upgrades to the events WebSocket
					// carries nothing else afterwards.
					if bytes.HasPrefix(buf[:n], []byte("GET ")) && bytes.Contains(buf[:n], []byte("/ari/events")) {
						if p.refuse() {
							return // as a network cut: the client tries again later
						}
						c.mu.Lock()
						c.ws = true
						c.mu.Unlock()
					}
					if _, werr := server.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

// hold refuses new events WebSockets until release: after cutWebSockets,
// the WebSocket stays down while the test acts.
func (p *wsProxy) hold() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.held = true
}

// mute drops, until unmute, what Asterisk sends on events WebSockets (the
// events are lost as in a cut, while Asterisk sees the socket up).
func (p *wsProxy) mute() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.muted = true
}

func (p *wsProxy) unmute() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.muted = false
}

func (p *wsProxy) isMuted() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.muted
}

// release lets the events WebSocket connect again.
func (p *wsProxy) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.held = false
}

// refuse reports whether a new events WebSocket is refused, counting it.
func (p *wsProxy) refuse() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held {
		p.refused++
	}
	return p.held
}

// refusals is how many events WebSockets were refused.
func (p *wsProxy) refusals() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused
}

// cutWebSockets closes the events WebSocket connections and says how many.
func (p *wsProxy) cutWebSockets() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for c := range p.conns {
		if c.isWS() {
			c.close()
			n++
		}
	}
	return n
}

// --- the scenarios ---

// Nobody answers (the KTV on both numbers, the area manager, the regional
// manager, the operator): the caller leaves a message, ended with '#'.
func scenarioNobodyVoicemail(t *testing.T, d phoneDriver) {
	ctx := scenarioCtx(t, d)
	u := d.unit()
	e := d.start(t, envOption{
		dir: phoneDirectory(t, phonePlan{ktv1: []string{tpNeverVina, tpNeverViettel},
			am: tpNeverAM1, rm: tpNeverRM1, op: tpNeverOP1}),
		cfg: expect{message: true}.cfg(phoneConfig(u), func(c *ivr.Config) { c.MaxCall = 60 * u })})
	m := watchMedia(t, e)
	c := d.placeCall(t, ctx, e, cafe1Phone)
	name := m.waitRecording(t, ctx)
	require.Equal(t, 1, m.playbacksOf("vi/voicemail"), "the voicemail prompt, before the recording")
	require.NoError(t, c.press(ctx, "#"))
	c.waitEnded(t, ctx)
	r := e.recordOf(cafe1Phone)
	require.Equal(t, "voicemail", r.Outcome, "%+v", r.Legs)
	require.Equal(t, []string{"KTV1/no_answer", "KTV1/no_answer", "AM1/no_answer", "RM1/no_answer", "OP1/no_answer"},
		r.results())
	require.Equal(t, "regional_manager", r.Legs[3].Role)
	require.Equal(t, "operator", r.Legs[4].Role)
	require.False(t, r.AcceptedBy.Valid)
	require.NotNil(t, r.Voicemail)
	require.Equal(t, name, r.Voicemail.Recording)
	require.Equal(t, "+84945551001", r.Voicemail.Callback)
	require.Equal(t, "KG001", r.Voicemail.Cafe.String)
	m.waitPlayback(t, ctx, "vi/goodbye") // the log follows the hotline's events
	require.Equal(t, 1, m.playbacksOf("vi/goodbye"))
	d.checkClean(t, ctx, e)
	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                                      1,
		ended("voicemail", "caller_id", "MN"):                           1,
		legs("technician", "vinaphone", "vinaphone", "no_answer"):       1,
		legs("technician", "viettel", "viettel", "no_answer"):           1,
		legs("area_manager", "vinaphone", "vinaphone", "no_answer"):     1,
		legs("regional_manager", "vinaphone", "vinaphone", "no_answer"): 1,
		legs("operator", "vinaphone", "vinaphone", "no_answer"):         1,
		staffLegs("KTV1", "no_answer"):                                  2,
		staffLegs("AM1", "no_answer"):                                   1,
		staffLegs("RM1", "no_answer"):                                   1,
		staffLegs("OP1", "no_answer"):                                   1,
		streak("KTV1"):                                                  2,
		streak("AM1"):                                                   1,
		streak("RM1"):                                                   1,
		streak("OP1"):                                                   1,
		fallback("technician", "area_manager"):                          1,
		fallback("area_manager", "regional_manager"):                    1,
		fallback("regional_manager", "operator"):                        1,
		routed:                                                          1,
	})
}

// An unknown caller ID: the caller types the café code, the café's KTV
// answers. Nobody is rung before the code.
func scenarioCafeCodeByDTMF(t *testing.T, d phoneDriver) {
	ctx := scenarioCtx(t, d)
	const unknown = "0909999999"
	e := d.start(t, envOption{dir: phoneDirectory(t, phonePlan{ktv1: []string{tpKTV1}}),
		cfg: expect{tech: true, confirm: true, code: true}.cfg(phoneConfig(d.unit()))})
	m := watchMedia(t, e)
	c := d.placeCall(t, ctx, e, unknown)
	m.waitPlayback(t, ctx, "vi/enter-code")
	live := e.srv.Snapshot()
	require.Len(t, live, 1)
	require.Empty(t, live[0].MatchedBy, "not identified before the code")
	require.Nil(t, live[0].Target, "nobody rung before the code")
	require.NoError(t, c.press(ctx, "001#"))
	c.waitEnded(t, ctx)
	r := e.recordOf(unknown)
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, "dtmf", r.MatchedBy)
	require.Equal(t, "KG001", r.Cafe.String)
	require.Equal(t, "KTV1", r.AcceptedBy.String)
	require.Equal(t, []string{"KTV1/answered"}, r.results())
	d.checkClean(t, ctx, e)
	e.expectMetrics(map[string]float64{
		offered("dtmf", "MN"):                                    1,
		ended("answered", "dtmf", "MN"):                          1,
		legs("technician", "vinaphone", "vinaphone", "answered"): 1,
		staffLegs("KTV1", "answered"):                            1,
		answerWaits("MN"):                                        1,
		talks("MN", "technician"):                                1,
		routed:                                                   1,
	})
	e.expectAnswerWait("MN", r)
	e.expectTalk("MN", "technician", r)
}

// An anonymous caller who types nothing is asked for the code twice, then
// goes to the operators.
func scenarioAnonymousToOperators(t *testing.T, d phoneDriver) {
	ctx := scenarioCtx(t, d)
	e := d.start(t, envOption{dir: phoneDirectory(t, phonePlan{ktv1: []string{tpKTV1}}),
		cfg: expect{op: true, confirm: true}.cfg(phoneConfig(d.unit()))})
	m := watchMedia(t, e)
	c := d.placeCall(t, ctx, e, "")
	c.waitEnded(t, ctx)
	r := e.onlyRecord()
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, "none", r.MatchedBy)
	require.False(t, r.Cafe.Valid)
	require.Equal(t, []string{"OP1/answered"}, r.results())
	require.Equal(t, "operator", r.Legs[0].Role)
	m.waitFor(t, ctx, "two playbacks of vi/enter-code", func() bool { return m.playbacksOf("vi/enter-code") >= 2 })
	require.Equal(t, 2, m.playbacksOf("vi/enter-code"), "the code asked for twice")
	d.checkClean(t, ctx, e)
	e.expectMetrics(map[string]float64{
		offered("none", "none"):                                1,
		ended("answered", "none", "none"):                      1,
		legs("operator", "vinaphone", "vinaphone", "answered"): 1,
		staffLegs("OP1", "answered"):                           1,
		answerWaits("none"):                                    1,
		talks("none", "operator"):                              1,
		routed:                                                 1,
	})
	e.expectAnswerWait("none", r)
	e.expectTalk("none", "operator", r)
}

// A Kiên Giang landline (0297…) that is no café's goes to that province's KTV.
func scenarioLandlineToProvinceKTV(t *testing.T, d phoneDriver) {
	ctx := scenarioCtx(t, d)
	const landline = "02973812345"
	e := d.start(t, envOption{dir: phoneDirectory(t, phonePlan{ktv1: []string{tpKTV1}}),
		cfg: expect{tech: true, confirm: true}.cfg(phoneConfig(d.unit()))})
	c := d.placeCall(t, ctx, e, landline)
	c.waitEnded(t, ctx)
	r := e.recordOf(landline)
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, "area_code", r.MatchedBy)
	require.Equal(t, "kien-giang", r.Province.String)
	require.Equal(t, "MN", r.Region.String)
	require.False(t, r.Cafe.Valid)
	require.Equal(t, []string{"KTV1/answered"}, r.results())
	d.checkClean(t, ctx, e)
	e.expectMetrics(map[string]float64{
		offered("area_code", "MN"):                               1,
		ended("answered", "area_code", "MN"):                     1,
		legs("technician", "vinaphone", "vinaphone", "answered"): 1,
		staffLegs("KTV1", "answered"):                            1,
		answerWaits("MN"):                                        1,
		talks("MN", "technician"):                                1,
		routed:                                                   1,
	})
	e.expectAnswerWait("MN", r)
	e.expectTalk("MN", "technician", r)
}

// expectManagerOnly checks a call of KG001 that the area manager answered
// with no KTV leg at all (the KTV skipped, not rung).
func expectManagerOnly(t *testing.T, e *env, r callRow) {
	t.Helper()
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, "KG001", r.Cafe.String)
	require.Equal(t, []string{"AM1/answered"}, r.results())
	require.Equal(t, "AM1", r.AcceptedBy.String)
	// Skipped, not rung: no leg, and no fallback from a technician.
	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                                 1,
		ended("answered", "caller_id", "MN"):                       1,
		legs("area_manager", "vinaphone", "vinaphone", "answered"): 1,
		staffLegs("AM1", "answered"):                               1,
		answerWaits("MN"):                                          1,
		talks("MN", "area_manager"):                                1,
		routed:                                                     1,
	})
	e.expectAnswerWait("MN", r)
	e.expectTalk("MN", "area_manager", r)
}

// At 03:00 (the injected clock) the office-hours KTV is off duty: skipped.
func scenarioOffDutySkipped(t *testing.T, d phoneDriver) {
	ctx := scenarioCtx(t, d)
	night := time.Date(2026, 3, 11, 3, 0, 0, 0, dialplan.Location()) // a Wednesday
	e := d.start(t, envOption{
		dir: phoneDirectory(t, phonePlan{ktv1: []string{tpKTV1}, ktv1Hours: "Mon-Sat 08:00-17:00"}),
		cfg: expect{am: true, confirm: true}.cfg(phoneConfig(d.unit())), now: func() time.Time { return night }})
	c := d.placeCall(t, ctx, e, cafe1Phone)
	c.waitEnded(t, ctx)
	r := e.recordOf(cafe1Phone)
	require.Equal(t, 3, r.StartedAt.In(dialplan.Location()).Hour())
	d.checkClean(t, ctx, e)
	expectManagerOnly(t, e, r)
}

// A suspended KTV is skipped.
func scenarioSuspendedSkipped(t *testing.T, d phoneDriver) {
	ctx := scenarioCtx(t, d)
	e := d.start(t, envOption{dir: phoneDirectory(t, phonePlan{ktv1: []string{tpKTV1}, ktv1Suspended: true}),
		cfg: expect{am: true, confirm: true}.cfg(phoneConfig(d.unit()))})
	c := d.placeCall(t, ctx, e, cafe1Phone)
	c.waitEnded(t, ctx)
	r := e.recordOf(cafe1Phone)
	d.checkClean(t, ctx, e)
	expectManagerOnly(t, e, r)
}

// Two cafés of the same KTV call at once: one gets the KTV, the other the
// area manager; the KTV is never rung a second time.
func scenarioTwoCafesAtOnce(t *testing.T, d phoneDriver) {
	ctx := scenarioCtx(t, d)
	e := d.start(t, envOption{dir: phoneDirectory(t, phonePlan{ktv1: []string{tpKTV1}}),
		cfg: expect{tech: true, am: true, confirm: true}.cfg(phoneConfig(d.unit()))})
	a := d.placeCall(t, ctx, e, cafe1Phone)
	b := d.placeCall(t, ctx, e, cafe2Phone)
	a.waitEnded(t, ctx)
	b.waitEnded(t, ctx)
	ra, rb := e.recordOf(cafe1Phone), e.recordOf(cafe2Phone)
	require.Equal(t, "KG001", ra.Cafe.String)
	require.Equal(t, "KG002", rb.Cafe.String)
	require.Len(t, ra.Legs, 1, "%+v", ra.Legs)
	require.Len(t, rb.Legs, 1, "%+v", rb.Legs)
	require.ElementsMatch(t, []string{"KTV1/answered", "AM1/answered"}, []string{ra.results()[0], rb.results()[0]})
	d.checkClean(t, ctx, e)
	// One KTV leg in all (hotline_staff_legs_total counts every leg); the
	// busy KTV is not a fallback: the second call starts with the manager.
	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                                 2,
		ended("answered", "caller_id", "MN"):                       2,
		legs("technician", "vinaphone", "vinaphone", "answered"):   1,
		legs("area_manager", "vinaphone", "vinaphone", "answered"): 1,
		staffLegs("KTV1", "answered"):                              1,
		staffLegs("AM1", "answered"):                               1,
		answerWaits("MN"):                                          2,
		talks("MN", "technician"):                                  1,
		talks("MN", "area_manager"):                                1,
		routed:                                                     2,
	})
	e.expectAnswerWait("MN", ra, rb)
	ktv, am := ra, rb
	if ra.AcceptedBy.String == "AM1" {
		ktv, am = rb, ra
	}
	e.expectTalk("MN", "technician", ktv)
	e.expectTalk("MN", "area_manager", am)
}

// The events WebSocket is cut while the caller talks with the KTV: the
// call goes on, the KTV's hangup is seen on the new socket, the caller
// rates and the record completes.
func scenarioWebSocketCutWhileBridged(t *testing.T, d phoneDriver) {
	ctx := scenarioCtx(t, d)
	u := d.unit()
	e := d.start(t, envOption{dir: phoneDirectory(t, phonePlan{ktv1: []string{tpLongKTV1}}),
		cfg: expect{tech: true, confirm: true, rate: true}.cfg(phoneConfig(u), func(c *ivr.Config) { c.MaxCall = 60 * u })})
	c := d.placeCall(t, ctx, e, cafe1Phone)
	waitLive(t, ctx, e, "bridged with KTV1", func(l ivr.LiveCall) bool {
		return l.State == "bridged" && l.Target != nil && l.Target.Staff == "KTV1"
	})
	st, _ := e.client.State()
	d.cutWebSocket(t, e)
	e.waitReconnected(st.Connects + 1)
	// Still talking after the reconnection (the KTV talks for 12 units).
	l := e.srv.Snapshot()
	require.Len(t, l, 1)
	require.Equal(t, "bridged", l[0].State)
	waitLive(t, ctx, e, "asking for a rating", func(l ivr.LiveCall) bool { return l.State == "ivr" && l.Target == nil })
	require.NoError(t, c.press(ctx, "5"))
	c.waitEnded(t, ctx)
	r := e.recordOf(cafe1Phone)
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, []string{"KTV1/answered"}, r.results())
	require.True(t, r.Legs[0].AcceptedAt.Valid)
	require.NotNil(t, r.Rating)
	require.Equal(t, int64(5), r.Rating.Score.Int64)
	d.checkClean(t, ctx, e)
	e.expectKTV1AcceptedAndRated(r, 5)
}

// The Vinaphone trunk is congested: the same number is tried on the
// default trunk, where the KTV answers.
func scenarioCongestedTrunk(t *testing.T, d phoneDriver) {
	ctx := scenarioCtx(t, d)
	e := d.start(t, envOption{dir: phoneDirectory(t, phonePlan{ktv1: []string{tpKTV1}}),
		cfg: expect{tech: true, confirm: true}.cfg(phoneConfig(d.unit()), func(c *ivr.Config) {
			c.Trunks["vinaphone"] = trunkCongested
		})})
	c := d.placeCall(t, ctx, e, cafe1Phone)
	c.waitEnded(t, ctx)
	r := e.recordOf(cafe1Phone)
	require.Equal(t, "answered", r.Outcome, "%+v", r.Legs)
	require.Equal(t, []string{"KTV1/congestion", "KTV1/answered"}, r.results(), "%+v", r.Legs)
	require.Equal(t, "+84910000101", r.Legs[0].Number)
	require.Equal(t, r.Legs[0].Number, r.Legs[1].Number, "the same number")
	require.Equal(t, "vinaphone", r.Legs[0].Trunk)
	require.Equal(t, "default", r.Legs[1].Trunk)
	d.checkClean(t, ctx, e)
	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                                 1,
		ended("answered", "caller_id", "MN"):                       1,
		legs("technician", "vinaphone", "vinaphone", "congestion"): 1,
		legs("technician", "vinaphone", "default", "answered"):     1,
		staffLegs("KTV1", "congestion"):                            1,
		staffLegs("KTV1", "answered"):                              1,
		answerWaits("MN"):                                          1,
		talks("MN", "technician"):                                  1,
		routed:                                                     1,
	})
	e.expectAnswerWait("MN", r)
	e.expectTalk("MN", "technician", r)
}

// The real driver's proxy, against the fake: REST passes, cutWebSockets
// closes only the events WebSocket, and the client reconnects through it.
func TestWSProxyCutsOnlyTheEventsWebSocket(t *testing.T) {
	fake := aritest.Start(t, aritest.Options{Second: time.Second})
	p := startWSProxy(t, fake.URL())
	c, err := ari.New(ari.Config{URL: p.url(), User: "asterisk", Password: "asterisk", App: "hotline",
		BackoffMin: 10 * time.Millisecond, BackoffMax: 20 * time.Millisecond, RequestTimeout: 2 * time.Second})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 3*waitTimeout)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Run(runCtx)
	}()
	defer func() {
		stop()
		<-done
	}()
	require.NoError(t, c.WaitConnected(ctx))
	_, err = c.ListChannels(ctx) // a REST connection through the proxy
	require.NoError(t, err)
	require.Equal(t, 1, p.cutWebSockets())
	var connects uint64
	eventually(t, "the client back through the proxy", func() (bool, string) {
		st, _ := c.State()
		connects = st.Connects
		return st.Connected && st.Connects >= 2, fmt.Sprintf("%+v", st)
	})
	_, err = c.ListChannels(ctx)
	require.NoError(t, err)
	require.NoError(t, fake.WaitConnected(ctx, "hotline"))

	// Held: the client's attempts fail until release; REST still passes.
	p.hold()
	require.Equal(t, 1, p.cutWebSockets())
	eventually(t, "two refused attempts", func() (bool, string) {
		return p.refusals() >= 2, fmt.Sprintf("%d refused", p.refusals())
	})
	st, _ := c.State()
	require.False(t, st.Connected)
	require.Equal(t, connects, st.Connects)
	_, err = c.ListChannels(ctx)
	require.NoError(t, err)
	p.release()
	eventually(t, "the client back after release", func() (bool, string) {
		st, _ := c.State()
		return st.Connected && st.Connects > connects, fmt.Sprintf("%+v", st)
	})
}
