package ivr_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/ivr"
)

// SIP on both sides: a real Asterisk configured with deploy/asterisk/test
// (pjsip.conf: the café's trunk and the two GSM gateways on loopback), the
// café and the gateways played by sipp (deploy/asterisk/test/sipp/), and
// the hotline's call flow connected to Asterisk's ARI through a recording
// proxy. sipp does the SIP; each sipp's audio port belongs to an rtpPeer of
// the test, which sends recognisable audio, presses keys with RFC 4733
// events and counts what it hears, so a scenario can check that the caller
// and the person who accepted really talk to each other.
//
// Needs HOTLINE_TEST_ARI_URL/_USER/_PASSWORD, HOTLINE_TEST_SIP_ASTERISK,
// HOTLINE_TEST_SIP_CAFE, HOTLINE_TEST_SIP_GW_VINAPHONE,
// HOTLINE_TEST_SIP_GW_VIETTEL (127.0.0.1:port each, as in pjsip.conf),
// HOTLINE_TEST_DATABASE_URL and sipp on the PATH; skipped without them
// (failed with HOTLINE_TEST_REQUIRE_ASTERISK=1). HOTLINE_TEST_RECORD_TRACES=DIR
// writes each scenario's ARI traffic to DIR/sip_<scenario>.jsonl.

// The café of the SIP scenarios: KG001, calling from the café trunk with its
// number in From (national form) and in P-Asserted-Identity (E.164, which
// Asterisk takes: trust_id_inbound).
const (
	sipCafeFrom = cafe1Phone // 0945551001
	sipCafePAI  = "+84945551001"
	// KTV1's numbers: Vinaphone (gw-vinaphone) and Viettel (gw-viettel).
	sipKTV1Vina    = "0910000101"
	sipKTV1Viettel = "0960000102"
)

// Audio bytes of the peers (PCMU; not 0x7f/0xff, the two zeros).
const (
	cafeAudio      byte = 0x3c
	vinaphoneAudio byte = 0x5a
	viettelAudio   byte = 0x69
)

type sipSetup struct {
	ariURL, user, password string
	asterisk, cafe         string
	gw                     map[string]string // carrier → 127.0.0.1:port
	scenarios              string            // deploy/asterisk/test/sipp
	admin                  *ari.Client       // REST only: what is left on Asterisk
	version                string
	sipPorts               map[int]bool // the ports above, which an RTP peer must not take
}

func newSIPSetup(t *testing.T) *sipSetup {
	t.Helper()
	need := func(names ...string) []string {
		var vals, missing []string
		for _, n := range names {
			v := os.Getenv(n)
			if v == "" {
				missing = append(missing, n)
			}
			vals = append(vals, v)
		}
		if len(missing) > 0 {
			msg := "SIP scenarios on a real Asterisk: set " + strings.Join(missing, ", ") +
				" (deploy/asterisk/test/README.md)"
			if os.Getenv("HOTLINE_TEST_REQUIRE_ASTERISK") == "1" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
		return vals
	}
	v := need("HOTLINE_TEST_ARI_URL", "HOTLINE_TEST_ARI_USER", "HOTLINE_TEST_ARI_PASSWORD",
		"HOTLINE_TEST_SIP_ASTERISK", "HOTLINE_TEST_SIP_CAFE", "HOTLINE_TEST_SIP_GW_VINAPHONE",
		"HOTLINE_TEST_SIP_GW_VIETTEL")
	if _, err := exec.LookPath("sipp"); err != nil {
		if os.Getenv("HOTLINE_TEST_REQUIRE_ASTERISK") == "1" {
			t.Fatal("SIP scenarios: sipp is not on the PATH (Debian package sip-tester)")
		}
		t.Skip("SIP scenarios: sipp is not on the PATH (Debian package sip-tester)")
	}
	dir, err := filepath.Abs(filepath.Join("..", "deploy", "asterisk", "test", "sipp"))
	require.NoError(t, err)
	admin, err := ari.New(ari.Config{URL: v[0], User: v[1], Password: v[2], App: "hotline-sip-test",
		RequestTimeout: 5 * time.Second})
	require.NoError(t, err)
	s := &sipSetup{ariURL: v[0], user: v[1], password: v[2], asterisk: v[3], cafe: v[4],
		gw: map[string]string{"vinaphone": v[5], "viettel": v[6]}, scenarios: dir, admin: admin}
	s.sipPorts = map[int]bool{}
	for _, a := range v[3:] {
		_, p, err := net.SplitHostPort(a)
		require.NoError(t, err, "%s is not host:port", a)
		n, err := strconv.Atoi(p)
		require.NoError(t, err, "%s is not host:port", a)
		s.sipPorts[n] = true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := admin.Info(ctx)
	require.NoError(t, err, "ARI at %s", s.ariURL)
	if info.System != nil {
		s.version = info.System.Version
	}
	return s
}

// newPeer is newRTPPeer on a port that is none of the SIP ports (an
// ephemeral port could be one while its sipp is not running).
func (s *sipSetup) newPeer(t *testing.T, name string, mine byte) *rtpPeer {
	for {
		p := newRTPPeer(t, name, mine)
		if !s.sipPorts[p.port()] {
			return p
		}
		p.close()
	}
}

// --- sipp ---

// sippRun is one sipp process (one call: -m 1).
type sippRun struct {
	name     string
	cmd      *exec.Cmd
	dir      string
	done     chan struct{}
	exitCode int
}

// startSipp runs scenario file on local (127.0.0.1:port), calling remote
// when it is a UAC. keys are -key name value pairs.
func (s *sipSetup) startSipp(t *testing.T, ctx context.Context, name, file, local, remote string, keys ...string) *sippRun {
	t.Helper()
	host, port, err := net.SplitHostPort(local)
	require.NoError(t, err)
	dir := t.TempDir()
	args := []string{"-sf", filepath.Join(s.scenarios, file), "-i", host, "-p", port, "-m", "1", "-nostdin",
		"-timeout", "50s", "-timeout_error",
		"-trace_msg", "-message_file", filepath.Join(dir, "messages.log"),
		"-trace_logs", "-log_file", filepath.Join(dir, "actions.log"),
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log")}
	for i := 0; i+1 < len(keys); i += 2 {
		args = append(args, "-key", keys[i], keys[i+1])
	}
	if remote != "" {
		args = append(args, remote)
	}
	cmd := exec.CommandContext(ctx, "sipp", args...)
	cmd.Dir = dir
	out, err := os.Create(filepath.Join(dir, "screen.log"))
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start(), "sipp %s", name)
	r := &sippRun{name: name, cmd: cmd, dir: dir, done: make(chan struct{}), exitCode: -1}
	go func() {
		defer close(r.done)
		err := cmd.Wait()
		_ = out.Close()
		var ee *exec.ExitError
		switch {
		case err == nil:
			r.exitCode = 0
		case errors.As(err, &ee):
			r.exitCode = ee.ExitCode()
		}
	}()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			_ = cmd.Process.Kill()
			<-r.done
		}
	})
	// Ready when its SIP port is bound.
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	deadline := time.Now().Add(5 * time.Second)
	for !udpBound(p) {
		select {
		case <-r.done:
			t.Fatalf("sipp %s exited at once (%d): %s", name, r.exitCode, r.tail("screen.log"))
		default:
		}
		require.True(t, time.Now().Before(deadline), "sipp %s did not bind %s", name, local)
		time.Sleep(20 * time.Millisecond)
	}
	return r
}

// udpBound reports whether a UDP socket is bound to port (/proc/net/udp;
// binding it ourselves to find out could make sipp's own bind fail).
func udpBound(port int) bool {
	b, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return true // cannot tell: assume ready
	}
	want := fmt.Sprintf(":%04X ", port)
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 1 && strings.HasSuffix(f[1]+" ", want) {
			return true
		}
	}
	return false
}

// wait waits for sipp to end its call and requires exit code 0 (every call
// of the scenario went as written).
func (r *sippRun) wait(t *testing.T, ctx context.Context) {
	t.Helper()
	select {
	case <-r.done:
	case <-ctx.Done():
		t.Fatalf("sipp %s did not finish; errors: %s\nmessages: %s", r.name, r.tail("errors.log"), r.tail("messages.log"))
	}
	require.Equal(t, 0, r.exitCode, "sipp %s failed; errors: %s\nmessages: %s", r.name, r.tail("errors.log"),
		r.tail("messages.log"))
}

// tail returns the end of one of sipp's files.
func (r *sippRun) tail(file string) string {
	b, err := os.ReadFile(filepath.Join(r.dir, file))
	if err != nil {
		return err.Error()
	}
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// logged reports whether the scenario's <log> actions wrote a line with s.
func (r *sippRun) logged(s string) bool {
	b, _ := os.ReadFile(filepath.Join(r.dir, "actions.log"))
	return strings.Contains(string(b), s)
}

// received returns the SIP message sipp received whose first line starts
// with start ("INVITE ", "SIP/2.0 200"): the first, or the nth.
func (r *sippRun) received(start string, nth ...int) string {
	want := 1
	if len(nth) > 0 {
		want = nth[0]
	}
	f, err := os.Open(filepath.Join(r.dir, "messages.log"))
	if err != nil {
		return ""
	}
	defer f.Close()
	var msg []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.Contains(l, "message received"):
			in, msg = true, nil
		case strings.HasPrefix(l, "-----------------------------------------------"):
			if in && len(msg) > 0 && strings.HasPrefix(msg[0], start) {
				if want--; want == 0 {
					return strings.Join(msg, "\n")
				}
			}
			in = false
		case in && (len(msg) > 0 || strings.TrimSpace(l) != ""):
			msg = append(msg, l)
		}
	}
	if in && len(msg) > 0 && strings.HasPrefix(msg[0], start) && want == 1 {
		return strings.Join(msg, "\n")
	}
	return ""
}

var asteriskRTP = regexp.MustCompile(`asterisk-rtp (\d+)`)

// feedRemote gives p Asterisk's RTP port as soon as sipp has the SDP (the
// scenarios write it to asterisk-rtp.log with a shell command: sipp's own
// logs are flushed too late).
func (r *sippRun) feedRemote(ctx context.Context, p *rtpPeer) {
	go func() {
		for {
			b, _ := os.ReadFile(filepath.Join(r.dir, "asterisk-rtp.log"))
			if m := asteriskRTP.FindSubmatch(b); m != nil {
				port, _ := strconv.Atoi(string(m[1]))
				p.setRemote(port)
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-r.done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
}

// --- scenarios ---

// gwPlay is what a gateway does with the one call it gets.
type gwPlay struct {
	file  string // sipp scenario
	press string // keys the person presses a second after the announcement starts
	early bool   // audio as early media (from the 183 on), not only after the answer
	// number it gets, when not KTV1's number of its carrier.
	number string
	// phone is how the trace describes it to the fake: a replay "phone"
	// step (number and trunk added), or, with "k": "trunk", a trunk state.
	phone map[string]any
}

// sipScenario is one call from the café.
type sipScenario struct {
	name  string
	trace string            // its trace's name (HOTLINE_TEST_RECORD_TRACES)
	ktv1  []string          // KTV1's numbers
	gw    map[string]gwPlay // carrier → its gateway's behaviour
	// fromOnly: the café sends its caller ID in From only (no
	// P-Asserted-Identity).
	fromOnly bool
	// rate is the key the café presses when asked to rate ("" = none).
	rate  string
	check func(t *testing.T, x *sipCall)
}

// sipCall is a finished scenario call, for its checks.
type sipCall struct {
	t     *testing.T
	r     callRow
	e     *env
	rec   *ariRecorder
	cafe  *rtpPeer
	peers map[string]*rtpPeer // carrier → the mobile's audio
	sipps map[string]*sippRun // "cafe", carrier
}

func answering(press string) gwPlay {
	return gwPlay{file: "gw_answer.xml", press: press, phone: map[string]any{"behavior": "answer", "ring_ms": 1000,
		"keys": press, "keys_after_ms": 1000, "hangup_after_ms": 8000, "sip": "180, 200 OK after 1 s; RFC 4733 " + press +
			" a second after the announcement starts; BYE 8 s after answering"}}
}

var sipScenarios = []sipScenario{
	{
		name:  "AnsweredOnVinaphoneBridgedRated",
		trace: "sip_answered_rated",
		ktv1:  []string{sipKTV1Vina},
		gw:    map[string]gwPlay{"vinaphone": answering("1")},
		rate:  "4",
		check: func(t *testing.T, x *sipCall) {
			require.Equal(t, "answered", x.r.Outcome, "%+v", x.r.Legs)
			require.Equal(t, []string{"KTV1/answered"}, x.r.results())
			require.Equal(t, "vinaphone", x.r.Legs[0].Trunk)
			require.Equal(t, "+84910000101", x.r.Legs[0].Number)
			require.NotNil(t, x.r.Rating)
			require.Equal(t, int64(4), x.r.Rating.Score.Int64)
			x.expectTalked(t, "vinaphone")
			// The mobile sees the hotline's number (From and P-Asserted-Identity).
			inv := x.sipps["vinaphone"].received("INVITE ")
			require.Regexp(t, `(?m)^INVITE sip:0910000101@127\.0\.0\.1:\d+ SIP/2\.0`, inv)
			require.Regexp(t, `(?mi)^From: .*<sip:19001000@`, inv)
			require.Regexp(t, `(?mi)^P-Asserted-Identity: .*<sip:19001000@`, inv)
			// Once bridged, Asterisk re-INVITEs the mobile with the caller's
			// number as P-Asserted-Identity (a connected line update; the
			// scenario answers it).
			if re := x.sipps["vinaphone"].received("INVITE ", 2); re != "" {
				t.Logf("re-INVITE to the gateway: %s", regexp.MustCompile(`(?mi)^P-Asserted-Identity: .*$`).FindString(re))
			}
			x.e.expectKTV1AcceptedAndRated(x.r, 4)
		},
	},
	{
		name:  "Busy486OnVinaphoneAnswersOnViettel",
		trace: "sip_486_busy_then_other_number",
		ktv1:  []string{sipKTV1Vina, sipKTV1Viettel},
		gw: map[string]gwPlay{
			"vinaphone": {file: "gw_busy_486.xml", phone: map[string]any{"behavior": "busy", "ring_ms": 1000,
				"sip": "180, then 486 Busy Here after 1 s"}},
			"viettel": answering("1"),
		},
		rate: "5",
		check: func(t *testing.T, x *sipCall) {
			require.Equal(t, "answered", x.r.Outcome, "%+v", x.r.Legs)
			require.Equal(t, []string{"KTV1/busy", "KTV1/answered"}, x.r.results())
			require.Equal(t, int64(17), x.r.Legs[0].Cause.Int64)
			require.Equal(t, "viettel", x.r.Legs[1].Trunk)
			x.expectTalked(t, "viettel")
			x.expectLegEnd(t, "vinaphone", 17, 486)
		},
	},
	{
		name:  "RingsUntilCancelOnVinaphoneAnswersOnViettel",
		trace: "sip_ring_cancel_then_other_number",
		ktv1:  []string{sipKTV1Vina, sipKTV1Viettel},
		gw: map[string]gwPlay{
			"vinaphone": {file: "gw_ring_cancel.xml", phone: map[string]any{"behavior": "noanswer",
				"sip": "180, rings until CANCEL, then 200 (CANCEL) and 487"}},
			"viettel": answering("1"),
		},
		rate: "5",
		check: func(t *testing.T, x *sipCall) {
			require.Equal(t, "answered", x.r.Outcome, "%+v", x.r.Legs)
			require.Equal(t, []string{"KTV1/no_answer", "KTV1/answered"}, x.r.results())
			require.False(t, x.r.Legs[0].AnsweredAt.Valid)
			x.expectTalked(t, "viettel")
			// The ring timeout: ours hangs the leg up (DELETE, reason
			// no_answer) or Asterisk's dial timeout, set to the same length,
			// fires first; either way Asterisk CANCELs the INVITE (sipp's
			// scenario requires the CANCEL) and reports cause 19 with
			// tech_cause 480, although the gateway answered 487.
			ev := x.legEvents("vinaphone")
			require.Contains(t, ev, "ChannelDestroyed Ringing cause=19 tech_cause=480")
			t.Logf("hung up by the hotline: %d", x.rec.requestCount("DELETE /ari/channels/"+x.r.Legs[0].ChannelID))
			cancel := x.sipps["vinaphone"].received("CANCEL ")
			require.NotEmpty(t, cancel)
			t.Logf("CANCEL sent to the gateway:\n%s", cancel)
		},
	},
	{
		name:  "Unavailable480OnVinaphoneAnswersOnViettel",
		trace: "sip_480_unavailable_then_other_number",
		ktv1:  []string{sipKTV1Vina, sipKTV1Viettel},
		// And a café whose trunk sends no P-Asserted-Identity.
		fromOnly: true,
		gw: map[string]gwPlay{
			"vinaphone": {file: "gw_unavailable_480.xml", phone: map[string]any{"behavior": "noanswer", "ring_ms": 1000,
				"sip": "180, then 480 Temporarily Unavailable after 1 s"}},
			"viettel": answering("1"),
		},
		rate: "5",
		check: func(t *testing.T, x *sipCall) {
			require.Equal(t, "answered", x.r.Outcome, "%+v", x.r.Legs)
			require.Equal(t, []string{"KTV1/no_answer", "KTV1/answered"}, x.r.results())
			x.expectTalked(t, "viettel")
			x.expectLegEnd(t, "vinaphone", 19, 480)
		},
	},
	{
		name:  "Gateway503SameNumberThroughTheOtherGateway",
		trace: "sip_503_then_other_gateway",
		ktv1:  []string{sipKTV1Vina},
		gw: map[string]gwPlay{
			// For the fake a congested trunk: the number is not the problem.
			"vinaphone": {file: "gw_unavailable_503.xml", phone: map[string]any{"k": "trunk", "name": "gw-vinaphone",
				"state": "congested", "ring_ms": 1000, "sip": "180, then 503 Service Unavailable after 1 s"}},
			// The same number, through the other gateway.
			"viettel": func() gwPlay { g := answering("1"); g.number = sipKTV1Vina; return g }(),
		},
		rate: "5",
		check: func(t *testing.T, x *sipCall) {
			require.Equal(t, "answered", x.r.Outcome, "%+v", x.r.Legs)
			require.Equal(t, []string{"KTV1/congestion", "KTV1/answered"}, x.r.results())
			require.Equal(t, "vinaphone", x.r.Legs[0].Trunk)
			require.Equal(t, "default", x.r.Legs[1].Trunk) // PJSIP/{number}@gw-viettel
			require.Equal(t, x.r.Legs[0].Number, x.r.Legs[1].Number)
			x.expectTalked(t, "viettel")
			x.expectLegEnd(t, "vinaphone", 34, 503)
			inv := x.sipps["viettel"].received("INVITE ")
			require.Regexp(t, `(?m)^INVITE sip:0910000101@`, inv)
		},
	},
	{
		name:  "AnswersWithoutOneOnVinaphoneThenViettel",
		trace: "sip_answered_without_1_then_other_number",
		ktv1:  []string{sipKTV1Vina, sipKTV1Viettel},
		gw: map[string]gwPlay{
			"vinaphone": {file: "gw_voicemail.xml", phone: map[string]any{"behavior": "answer", "ring_ms": 1000,
				"sip": "180, 200 OK after 1 s, never presses a key; waits for the BYE"}},
			"viettel": answering("1"),
		},
		rate: "5",
		check: func(t *testing.T, x *sipCall) {
			require.Equal(t, "answered", x.r.Outcome, "%+v", x.r.Legs)
			require.Equal(t, []string{"KTV1/answered_unconfirmed", "KTV1/answered"}, x.r.results())
			require.True(t, x.r.Legs[0].AnsweredAt.Valid)
			x.expectTalked(t, "viettel")
			// The unconfirmed one heard the announcement, never the caller.
			require.Positive(t, x.peers["vinaphone"].statsOf(cafeAudio).Received)
			require.Zero(t, x.peers["vinaphone"].statsOf(cafeAudio).Heard, "the voicemail heard the caller")
			require.False(t, x.sipps["vinaphone"].logged("gw-hung-up"), "the hotline did not hang the voicemail up")
		},
	},
	{
		name:  "EarlyMedia183ThenAnswersOnVinaphone",
		trace: "sip_183_early_media_answered",
		ktv1:  []string{sipKTV1Vina},
		gw: map[string]gwPlay{"vinaphone": {file: "gw_early_media.xml", press: "1", early: true,
			phone: map[string]any{"behavior": "answer", "ring_ms": 2000, "keys": "1", "keys_after_ms": 1000,
				"hangup_after_ms": 8000, "sip": "183 Session Progress with SDP and early media, 200 OK 2 s later; " +
					"RFC 4733 1 a second after the announcement starts; BYE 8 s after answering"}}},
		rate: "3",
		check: func(t *testing.T, x *sipCall) {
			require.Equal(t, "answered", x.r.Outcome, "%+v", x.r.Legs)
			require.Equal(t, []string{"KTV1/answered"}, x.r.results())
			// Answered at the 200, not at the 183: the 183 gives a Dial
			// PROGRESS and no Ringing state; the gateway's early media
			// reached Asterisk and not the caller (expectTalked).
			l := x.r.Legs[0]
			require.GreaterOrEqual(t, l.AnsweredAt.Time.Sub(l.RingAt), 1500*time.Millisecond)
			ev := x.legEvents("vinaphone")
			require.Contains(t, ev, "Dial dialstatus=PROGRESS")
			require.NotContains(t, ev, "ChannelStateChange Ringing")
			sent := x.peers["vinaphone"].firstSent()
			require.False(t, sent.IsZero())
			require.True(t, sent.Before(l.AnsweredAt.Time), "no early media sent before the answer")
			x.expectTalked(t, "vinaphone")
		},
	},
}

// sipTestConfig: one of [test-phones]' seconds is a real second (phoneConfig),
// people ring for 5 s, and the trunks are the gateways of pjsip.conf.
func sipTestConfig(c *ivr.Config) {
	phoneConfig(time.Second)(c)
	for r := range c.Ring {
		c.Ring[r] = 5 * time.Second
	}
	c.ConfirmTimeout = 3 * time.Second
	c.RatingTimeout = 4 * time.Second
	c.Trunks = dialplan.Trunks{"vinaphone": "PJSIP/{number}@gw-vinaphone", "viettel": "PJSIP/{number}@gw-viettel",
		"default": "PJSIP/{number}@gw-viettel"}
}

func TestSIPAsterisk(t *testing.T) {
	s := newSIPSetup(t)
	// One at a time: they share the Asterisk, its ports and the app name.
	for _, sc := range sipScenarios {
		t.Run(sc.name, func(t *testing.T) { s.run(t, sc) })
	}
}

func (s *sipSetup) run(t *testing.T, sc sipScenario) {
	// The longest scenario takes about 30 s.
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	rec := startARIRecorder(t, s.ariURL)
	e := startHotline(t, rec.url(), s.user, s.password,
		// The real clock (everybody of phoneDirectory works 24/7), so the
		// record's times compare with what the RTP peers saw.
		envOption{dir: phoneDirectory(t, phonePlan{ktv1: sc.ktv1}), cfg: sipTestConfig, now: time.Now})
	// Registered after startHotline's cleanup, so it runs before the hotline
	// stops: what the scenario left behind is still there to see.
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer ccancel()
		s.checkClean(t, cctx)
	})
	media := watchMedia(t, e)
	x := &sipCall{t: t, e: e, rec: rec, peers: map[string]*rtpPeer{}, sipps: map[string]*sippRun{}}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for name, r := range x.sipps {
			t.Logf("sipp %s (exit %d): errors:\n%s\nmessages:\n%s", name, r.exitCode, r.tail("errors.log"),
				r.tail("messages.log"))
		}
		for _, l := range x.r.Legs {
			t.Logf("leg %d %s %s %s via %s: %s cause %v %q", l.Seq, l.Staff, l.Number, l.ChannelID, l.Trunk, l.Result,
				l.Cause.Int64, l.Detail)
		}
		rec.write(sc.trace+".failed", "PJSIP/cafe-trunk-", nil)
	})
	audio := map[string]byte{"vinaphone": vinaphoneAudio, "viettel": viettelAudio}
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, carrier := range []string{"vinaphone", "viettel"} {
		g, ok := sc.gw[carrier]
		if !ok {
			continue
		}
		p := s.newPeer(t, "gw-"+carrier, audio[carrier])
		x.peers[carrier] = p
		r := s.startSipp(t, ctx, carrier, g.file, s.gw[carrier], "", "rtp_port", strconv.Itoa(p.port()))
		x.sipps[carrier] = r
		if g.early {
			r.feedRemote(ctx, p)
		}
		if g.press != "" {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// The announcement is the first audio after the answer (early
				// media flows the other way only).
				if p.waitFirstPacket(ctx) != nil {
					return
				}
				select {
				case <-time.After(time.Second):
					p.press(g.press)
				case <-ctx.Done():
				}
			}()
		}
	}
	x.cafe = s.newPeer(t, "café", cafeAudio)
	identity, callerRaw := "P-Asserted-Identity", sipCafePAI
	if sc.fromOnly {
		identity, callerRaw = "X-No-Identity", sipCafeFrom
	}
	cafe := s.startSipp(t, ctx, "cafe", "cafe.xml", s.cafe, s.asterisk, "from_user", sipCafeFrom,
		"identity_header", identity, "pai_user", sipCafePAI, "rtp_port", strconv.Itoa(x.cafe.port()))
	x.sipps["cafe"] = cafe
	if sc.rate != "" {
		media.waitPlayback(t, ctx, "rate")
		x.cafe.press(sc.rate)
	}
	cafe.wait(t, ctx)
	require.False(t, cafe.logged("cafe-hung-up-itself"), "nobody hung up the café")
	for _, carrier := range []string{"vinaphone", "viettel"} {
		if r := x.sipps[carrier]; r != nil {
			r.wait(t, ctx)
		}
	}
	// The caller ID is exactly what the trunk asserted (the hotline
	// normalises it): P-Asserted-Identity when there is one, else From.
	x.r = e.recordOf(callerRaw)
	require.Equal(t, "caller_id", x.r.MatchedBy)
	require.Equal(t, "KG001", x.r.Cafe.String)
	require.Equal(t, "KTV1", x.r.AcceptedBy.String, "legs %v", x.r.results())
	if sc.rate != "" {
		require.NotNil(t, x.r.Rating, "rating %s", sc.rate)
		require.Equal(t, "KTV1", x.r.Rating.Staff)
	}
	sc.check(t, x)
	head := []map[string]any{{"k": "note", "text": fmt.Sprintf("recorded by ivr TestSIPAsterisk/%s against Asterisk %s "+
		"(deploy/asterisk/test/pjsip.conf, sipp scenarios in deploy/asterisk/test/sipp): the café calls extension 2 "+
		"from PJSIP endpoint cafe-trunk with From %s and %s %s", sc.name, s.version, sipCafeFrom, identity, sipCafePAI)}}
	numbers := map[string]string{"vinaphone": sipKTV1Vina, "viettel": sipKTV1Viettel}
	for _, carrier := range []string{"vinaphone", "viettel"} {
		g, ok := sc.gw[carrier]
		if !ok {
			continue
		}
		ph := map[string]any{"k": "phone", "number": numbers[carrier], "trunk": "gw-" + carrier}
		if g.number != "" {
			ph["number"] = g.number
		}
		if g.phone["k"] == "trunk" {
			ph = map[string]any{}
		}
		for k, v := range g.phone {
			ph[k] = v
		}
		head = append(head, ph)
	}
	rec.write(sc.trace, "PJSIP/cafe-trunk-", head)
}

// expectTalked checks that the café and the mobile behind carrier's gateway
// heard each other, and only once the person had accepted.
func (x *sipCall) expectTalked(t *testing.T, carrier string) {
	t.Helper()
	gw := x.peers[carrier]
	require.NotNil(t, gw)
	heardGW := x.cafe.statsOf(gw.mine)
	heardCafe := gw.statsOf(x.cafe.mine)
	t.Logf("RTP: café received %d packets, %d of them the %s mobile's audio; the mobile received %d, %d of them the café's",
		heardGW.Received, heardGW.Heard, carrier, heardCafe.Received, heardCafe.Heard)
	// A second of each other's audio at least (50 frames of 20 ms).
	require.GreaterOrEqual(t, heardGW.Heard, 50, "the café did not hear the %s mobile", carrier)
	require.GreaterOrEqual(t, heardCafe.Heard, 50, "the %s mobile did not hear the café", carrier)
	var acc time.Time
	for _, l := range x.r.Legs {
		if l.AcceptedAt.Valid {
			acc = l.AcceptedAt.Time
		}
	}
	require.False(t, acc.IsZero())
	slack := 100 * time.Millisecond
	require.False(t, heardGW.First.Before(acc.Add(-slack)), "the café heard the mobile before it accepted")
	require.False(t, heardCafe.First.Before(acc.Add(-slack)), "the mobile heard the café before accepting")
	for c, p := range x.peers {
		if c != carrier {
			require.Zero(t, x.cafe.statsOf(p.mine).Heard, "the café heard the %s mobile, which did not accept", c)
		}
	}
}

// expectLegEnd checks how Asterisk reported the end of the leg through
// carrier's gateway: the hangup's Q.850 cause and SIP response
// (tech_cause), and that no Dial event gave a final status for it.
func (x *sipCall) expectLegEnd(t *testing.T, carrier string, cause, techCause int) {
	t.Helper()
	found := false
	seen := x.legEvents(carrier)
	for _, e := range x.rec.channelEvents("PJSIP/gw-" + carrier + "-") {
		if e.Type == "Dial" && e.DialStatus != nil {
			switch *e.DialStatus {
			case "", "RINGING", "PROGRESS", "ANSWER":
			default:
				t.Errorf("the %s leg got a final Dial status %s: PJSIP gives none for a SIP error response", carrier, *e.DialStatus)
			}
		}
		if e.Type == "ChannelHangupRequest" && e.Cause != nil && *e.Cause == cause && e.TechCause != nil &&
			*e.TechCause == techCause {
			found = true
		}
	}
	require.True(t, found, "no ChannelHangupRequest cause %d tech_cause %d on the %s leg: %v", cause, techCause, carrier, seen)
}

// legEvents describes the events of the legs through carrier's gateway
// (ChannelVarset left out), and logs them.
func (x *sipCall) legEvents(carrier string) []string {
	var seen []string
	for _, e := range x.rec.channelEvents("PJSIP/gw-" + carrier + "-") {
		if e.Type == "ChannelVarset" {
			continue
		}
		line := e.Type
		if e.Channel != nil && e.Peer == nil {
			line += " " + e.Channel.State
		}
		if e.DialStatus != nil {
			line += " dialstatus=" + *e.DialStatus
		}
		if e.Cause != nil {
			line += " cause=" + strconv.Itoa(*e.Cause)
		}
		if e.TechCause != nil {
			line += " tech_cause=" + strconv.Itoa(*e.TechCause)
		}
		if e.Soft {
			line += " soft"
		}
		seen = append(seen, line)
	}
	x.t.Logf("events of the %s leg: %v", carrier, seen)
	return seen
}

// checkClean fails when channels of the scenario's endpoints or bridges of
// our shape ("<call ULID>-br") remain on Asterisk.
func (s *sipSetup) checkClean(t *testing.T, ctx context.Context) {
	t.Helper()
	waitAsteriskClean(t, ctx, s.admin, func(name string) bool {
		return strings.HasPrefix(name, "PJSIP/cafe-trunk-") || strings.HasPrefix(name, "PJSIP/gw-")
	})
}
