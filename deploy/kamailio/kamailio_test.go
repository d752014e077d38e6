// Package kamailio_test checks deploy/kamailio/kamailio.cfg with Debian's
// kamailio: the file parses (`kamailio -c`), and a running Kamailio spreads
// new calls over the nodes of dispatcher.list, stops sending to a node that
// no longer answers, takes it back when it answers again, and refuses calls
// from addresses that are not trunks. The nodes are small SIP endpoints
// (sipgo) that answer OPTIONS and refuse every INVITE with 486, so no dialog
// is left; deploy/kamailio/README.md's end-to-end run uses real Asterisks.
package kamailio_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

const cfg = "kamailio.cfg"

func kamailioBin(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("kamailio")
	if err != nil {
		if p := "/usr/sbin/kamailio"; fileExists(p) {
			return p
		}
		if os.Getenv("HOTLINE_TEST_REQUIRE_KAMAILIO") != "" {
			t.Fatalf("kamailio not installed (apt-get install kamailio) and HOTLINE_TEST_REQUIRE_KAMAILIO is set")
		}
		t.Skip("kamailio not installed (apt-get install kamailio)")
	}
	return bin
}

func TestMain(m *testing.M) {
	// sipgo's own chatter (retransmissions, socket reference counts) is not
	// the test's business.
	sip.SetDefaultLogger(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// defines are the -A arguments that point the configuration at dir's lists.
func defines(dir string, port int) []string {
	return []string{
		"-A", fmt.Sprintf("LISTEN=udp:127.0.0.1:%d", port),
		"-A", fmt.Sprintf("DISPATCHER_LIST=%q", filepath.Join(dir, "dispatcher.list")),
		"-A", fmt.Sprintf("TRUNKS_LIST=%q", filepath.Join(dir, "trunks.list")),
		"-A", fmt.Sprintf("CTL_SOCKET=%q", "unix:"+filepath.Join(dir, "ctl")),
		"-A", "CHILDREN=2",
		"-A", "DS_PING=1",
	}
}

func TestConfigParses(t *testing.T) {
	bin := kamailioBin(t)
	// As shipped, with its example lists.
	out, err := exec.Command(bin, "-c", "-f", cfg,
		"-A", `DISPATCHER_LIST="dispatcher.list"`, "-A", `TRUNKS_LIST="trunks.list"`).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("config file ok")) {
		t.Fatalf("kamailio -c: %v\n%s", err, out)
	}
	// A broken file is refused (so the check above means something).
	dir := t.TempDir()
	bad, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	bad = bytes.Replace(bad, []byte("route(DISPATCH);"), []byte("route(DISPATCH)"), 1)
	if err := os.WriteFile(filepath.Join(dir, "bad.cfg"), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-c", "-f", filepath.Join(dir, "bad.cfg"),
		"-A", `DISPATCHER_LIST="dispatcher.list"`, "-A", `TRUNKS_LIST="trunks.list"`).CombinedOutput(); err == nil {
		t.Fatalf("kamailio -c accepted a broken file:\n%s", out)
	}
}

// node is a hotline node as Kamailio sees it: it answers OPTIONS probes
// (unless hung) and counts the INVITEs it gets, refusing each with 486.
type node struct {
	name    string
	addr    string
	invites atomic.Int64
	probes  atomic.Int64
	hung    atomic.Bool // no reply at all: a dead machine, not a refusing one
	// detached: Asterisk is up but the hotline program is not attached:
	// 503, except on Kamailio's last try (X-Hotline-Last-Node), which the
	// node's fallback takes (486 here too, counted in lastTries).
	detached  atomic.Bool
	lastTries atomic.Int64
}

func startNode(t *testing.T, ctx context.Context, name string) *node {
	t.Helper()
	n := &node{name: name}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n.addr = pc.LocalAddr().String()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("node-" + name))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		n.probes.Add(1)
		if n.hung.Load() {
			return
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		n.invites.Add(1)
		if n.hung.Load() {
			return
		}
		if h := req.GetHeader("X-Hotline-Last-Node"); h != nil && h.Value() == "yes" {
			n.lastTries.Add(1)
		} else if n.detached.Load() {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 503, "Service Unavailable", nil))
			return
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, 486, "Busy Here", nil))
	})
	srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	go func() { _ = srv.ServeUDP(pc) }()
	t.Cleanup(func() { _ = ua.Close(); _ = pc.Close() })
	return n
}

// kamailio runs the configuration on a free loopback port until the test ends.
type kamailio struct {
	port int
	mu   sync.Mutex
	log  []string
}

func startKamailio(t *testing.T, nodes []*node) *kamailio {
	t.Helper()
	bin := kamailioBin(t)
	dir := t.TempDir()
	var ds strings.Builder
	ds.WriteString("# test nodes\n")
	for _, n := range nodes {
		fmt.Fprintf(&ds, "1 sip:%s 0\n", n.addr)
	}
	if err := os.WriteFile(filepath.Join(dir, "dispatcher.list"), []byte(ds.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// Only 127.0.0.1 is a trunk; 127.0.0.2 (also loopback) is a stranger.
	if err := os.WriteFile(filepath.Join(dir, "trunks.list"), []byte("1 127.0.0.1 32 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	k := &kamailio{port: freeUDPPort(t)}
	args := append([]string{"-f", cfg, "-DD", "-E", "-Y", dir, "-P", filepath.Join(dir, "pid"), "-w", dir},
		defines(dir, k.port)...)
	cmd := exec.Command(bin, args...)
	// Kamailio forks its workers: the whole group goes at the end.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = nil
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			k.mu.Lock()
			k.log = append(k.log, line)
			k.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		_ = cmd.Wait()
		if t.Failed() {
			k.mu.Lock()
			defer k.mu.Unlock()
			for _, l := range k.log {
				if !strings.Contains(l, "DEBUG") {
					t.Log("kamailio: " + l)
				}
			}
		}
	})
	return k
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

// caller sends INVITEs for extension 2 from a given loopback address.
type caller struct {
	ua *sipgo.UserAgent
	cl *sipgo.Client
	k  *kamailio
}

func newCaller(t *testing.T, k *kamailio, host string) *caller {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("cafe"), sipgo.WithUserAgentHostname(host))
	if err != nil {
		t.Fatal(err)
	}
	cl, err := sipgo.NewClient(ua, sipgo.WithClientHostname(host),
		sipgo.WithClientConnectionAddr(net.JoinHostPort(host, strconv.Itoa(freeUDPPort(t)))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ua.Close() })
	return &caller{ua: ua, cl: cl, k: k}
}

// call sends one INVITE and returns the final status code.
func (c *caller) call(ctx context.Context) (int, error) {
	req := sip.NewRequest(sip.INVITE, sip.Uri{User: "2", Host: "127.0.0.1", Port: c.k.port})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody([]byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"))
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := c.cl.Do(cctx, req)
	if err != nil {
		return 0, err
	}
	return int(res.StatusCode), nil
}

// waitFor waits (at most a minute: a slow machine is not a failure) until
// cond holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDispatcherSpreadsFailsOverAndRecovers(t *testing.T) {
	kamailioBin(t)
	ctx := t.Context()
	a, b := startNode(t, ctx, "a"), startNode(t, ctx, "b")
	k := startKamailio(t, []*node{a, b})
	c := newCaller(t, k, "127.0.0.1")
	// Kamailio is up when it answers; both nodes are probed.
	waitFor(t, "both nodes to be probed", func() bool { return a.probes.Load() > 0 && b.probes.Load() > 0 })

	// 1. Spread: round-robin over both nodes; every call gets the node's answer.
	const calls = 20
	for i := range calls {
		code, err := c.call(ctx)
		if err != nil || code != 486 {
			t.Fatalf("call %d: %d, %v (want the node's 486)", i, code, err)
		}
	}
	if a.invites.Load()+b.invites.Load() != calls || a.invites.Load() < calls/4 || b.invites.Load() < calls/4 {
		t.Fatalf("calls not spread over the nodes: a got %d, b got %d of %d", a.invites.Load(), b.invites.Load(), calls)
	}

	// 2. Node b dies (no reply to anything). Every call still reaches a
	// node that answers: those Kamailio sends to b fail over to a.
	m := k.mark()
	b.hung.Store(true)
	died := time.Now()
	bBefore := b.invites.Load()
	var markedDown time.Duration
	for i := 0; ; i++ {
		aBefore := a.invites.Load()
		code, err := c.call(ctx)
		if err != nil || code != 486 || a.invites.Load() != aBefore+1 {
			t.Fatalf("call %d after node b died: %d, %v (a got %d INVITEs, want %d)", i, code, err,
				a.invites.Load(), aBefore+1)
		}
		// Once b's probes failed, Kamailio stops trying it at all.
		if markedDown == 0 && k.sawLine(m, "hotline node down") {
			markedDown = time.Since(died)
			bBefore = b.invites.Load()
		}
		if markedDown != 0 && i > 10 {
			break
		}
		if time.Since(died) > time.Minute {
			t.Fatalf("node b never marked down (%d calls)", i)
		}
	}
	if got := b.invites.Load(); got != bBefore {
		t.Fatalf("Kamailio still sent %d INVITEs to node b after marking it down", got-bBefore)
	}
	t.Logf("node b marked down %v after it died (probe every 1 s here, 2 s as shipped)", markedDown.Round(10*time.Millisecond))

	// 3. b answers again: probing brings it back into the rotation.
	m = k.mark()
	b.hung.Store(false)
	waitFor(t, "node b to be marked up again", func() bool { return k.sawLine(m, "hotline node up") })
	bBack := b.invites.Load()
	for i := range 10 {
		if code, err := c.call(ctx); err != nil || code != 486 {
			t.Fatalf("call %d after node b came back: %d, %v", i, code, err)
		}
	}
	if b.invites.Load() == bBack {
		t.Fatal("node b got no calls after it came back")
	}

	// 4. b's hotline program is not attached (503): every call is taken by
	// a, none by b's fallback.
	b.detached.Store(true)
	aBefore := a.invites.Load()
	for i := range 10 {
		if code, err := c.call(ctx); err != nil || code != 486 {
			t.Fatalf("call %d with node b detached: %d, %v", i, code, err)
		}
	}
	if got := a.invites.Load() - aBefore; got != 10 || b.lastTries.Load() != 0 {
		t.Fatalf("with node b detached, a took %d of 10 calls and b's fallback %d", got, b.lastTries.Load())
	}

	// 5. Neither is attached: the call is not refused; one node is tried
	// again with X-Hotline-Last-Node and its fallback takes it.
	a.detached.Store(true)
	if code, err := c.call(ctx); err != nil || code != 486 {
		t.Fatalf("call with both nodes detached: %d, %v (want the fallback's answer)", code, err)
	}
	if got := a.lastTries.Load() + b.lastTries.Load(); got != 1 {
		t.Fatalf("with both nodes detached, %d last tries (want 1)", got)
	}
	a.detached.Store(false)
	b.detached.Store(false)

	// 6. A stranger (not in trunks.list) is refused and reaches no node.
	s := newCaller(t, k, "127.0.0.2")
	before := a.invites.Load() + b.invites.Load()
	if code, err := s.call(ctx); err != nil || code != 403 {
		t.Fatalf("call from a non-trunk address: %d, %v (want 403)", code, err)
	}
	if a.invites.Load()+b.invites.Load() != before {
		t.Fatal("a call from a non-trunk address reached a node")
	}
}

// mark is the number of lines Kamailio logged so far.
func (k *kamailio) mark() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.log)
}

// sawLine reports whether Kamailio logged a line containing s after line
// number from (a mark).
func (k *kamailio) sawLine(from int, s string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, l := range k.log[from:] {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}
