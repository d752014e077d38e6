package ivr_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"
)

// rtpPeer is the audio end of one sipp (the café's phone, or the mobile
// behind a gateway): sipp advertises its port in SDP and does the
// signalling, the peer sends and receives the RTP. It sends PCMU frames
// filled with its own byte (so the far end can tell whose audio it hears:
// ulaw passes through Asterisk unchanged when nothing transcodes) and RFC
// 4733 telephone events when told to press a key, and counts what it hears.
type rtpPeer struct {
	name string
	conn *net.UDPConn
	mine byte // every byte of the audio this side sends
	ssrc uint32

	mu       sync.Mutex
	remote   *net.UDPAddr // Asterisk's RTP address for this call
	keys     []byte       // RFC 4733 events still to send
	received int          // RTP packets received
	heard    map[byte]int // PCMU packets whose payload is one repeated byte, by byte
	first    map[byte]time.Time
	gotFirst chan struct{} // closed on the first packet received
	sentAt   time.Time     // the first packet sent

	stop chan struct{}
	wg   sync.WaitGroup
}

// rtpEventPT is the telephone-event payload type of the scenarios' SDP (and
// of Asterisk's offer).
const rtpEventPT = 101

func newRTPPeer(t *testing.T, name string, mine byte) *rtpPeer {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatalf("rtp peer %s: %v", name, err)
	}
	p := &rtpPeer{name: name, conn: conn, mine: mine, ssrc: rand.Uint32(), heard: map[byte]int{},
		first: map[byte]time.Time{}, gotFirst: make(chan struct{}), stop: make(chan struct{})}
	p.wg.Add(2)
	go p.readLoop()
	go p.sendLoop()
	t.Cleanup(p.close)
	return p
}

func (p *rtpPeer) port() int { return p.conn.LocalAddr().(*net.UDPAddr).Port }

func (p *rtpPeer) close() {
	select {
	case <-p.stop:
		return
	default:
	}
	close(p.stop)
	_ = p.conn.Close()
	p.wg.Wait()
}

// setRemote says where Asterisk wants this side's audio (from the SDP).
func (p *rtpPeer) setRemote(port int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.remote == nil {
		p.remote = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	}
}

// press queues keys, sent as RFC 4733 events one after the other.
func (p *rtpPeer) press(keys string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range keys {
		p.keys = append(p.keys, rfc4733Event(k))
	}
}

// waitFirstPacket waits until Asterisk sends this side some audio.
func (p *rtpPeer) waitFirstPacket(ctx context.Context) error {
	select {
	case <-p.gotFirst:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: no RTP from Asterisk: %w", p.name, ctx.Err())
	}
}

// rtpStats is what a peer received.
type rtpStats struct {
	Received int       // RTP packets
	Heard    int       // PCMU packets carrying the other peer's audio
	First    time.Time // the first of those
}

// firstSent is when the peer sent its first packet (zero: never).
func (p *rtpPeer) firstSent() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sentAt
}

// statsOf reports what the peer heard of the peer whose byte is other.
func (p *rtpPeer) statsOf(other byte) rtpStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return rtpStats{Received: p.received, Heard: p.heard[other], First: p.first[other]}
}

func (p *rtpPeer) readLoop() {
	defer p.wg.Done()
	buf := make([]byte, 2048)
	for {
		n, from, err := p.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		if n < 12 || buf[0]>>6 != 2 {
			continue
		}
		pt := buf[1] & 0x7f
		payload := buf[12:n]
		p.mu.Lock()
		if p.remote == nil {
			p.remote = from // symmetric RTP: answer where it comes from
		}
		p.received++
		if p.received == 1 {
			close(p.gotFirst)
		}
		if pt == 0 && len(payload) > 0 && allBytes(payload, payload[0]) {
			b := payload[0]
			p.heard[b]++
			if p.first[b].IsZero() {
				p.first[b] = time.Now()
			}
		}
		p.mu.Unlock()
	}
}

func allBytes(b []byte, v byte) bool {
	for _, x := range b {
		if x != v {
			return false
		}
	}
	return true
}

// sendLoop sends a 20 ms frame every 20 ms once the remote is known: audio,
// or, while a key is being pressed, its RFC 4733 event packets (the audio
// pauses meanwhile, as on a phone).
func (p *rtpPeer) sendLoop() {
	defer p.wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var seq uint16 = uint16(rand.Uint32())
	ts := rand.Uint32()
	audio := make([]byte, 160)
	for i := range audio {
		audio[i] = p.mine
	}
	// The key being sent: its event, start timestamp and frames sent so far.
	var key struct {
		on     bool
		event  byte
		start  uint32
		frames int
	}
	const keyFrames, endCopies = 8, 3 // 160 ms of key, the end packet sent 3 times
	pkt := make([]byte, 12+160)
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
		p.mu.Lock()
		remote := p.remote
		if remote != nil && p.sentAt.IsZero() {
			p.sentAt = time.Now()
		}
		if !key.on && len(p.keys) > 0 {
			key.on, key.event, key.start, key.frames = true, p.keys[0], ts, 0
			p.keys = p.keys[1:]
		}
		p.mu.Unlock()
		if remote == nil {
			continue
		}
		send := func(pt byte, marker bool, stamp uint32, payload []byte) {
			pkt = pkt[:12]
			pkt[0] = 0x80
			pkt[1] = pt
			if marker {
				pkt[1] |= 0x80
			}
			binary.BigEndian.PutUint16(pkt[2:], seq)
			binary.BigEndian.PutUint32(pkt[4:], stamp)
			binary.BigEndian.PutUint32(pkt[8:], p.ssrc)
			pkt = append(pkt, payload...)
			seq++
			if _, err := p.conn.WriteToUDP(pkt, remote); err != nil && !errors.Is(err, net.ErrClosed) {
				return
			}
		}
		if !key.on {
			send(0, false, ts, audio)
			ts += 160
			continue
		}
		key.frames++
		duration := uint16(160 * key.frames)
		end := key.frames >= keyFrames
		ev := []byte{key.event, 10, byte(duration >> 8), byte(duration)} // volume -10 dBm0
		if !end {
			send(rtpEventPT, key.frames == 1, key.start, ev)
			continue
		}
		ev[1] |= 0x80 // E: the end of the event
		for range endCopies {
			send(rtpEventPT, false, key.start, ev)
		}
		ts = key.start + uint32(duration)
		key.on = false
	}
}

// rfc4733Event is the event code of a key (RFC 4733 section 3.2).
func rfc4733Event(k rune) byte {
	switch {
	case k >= '0' && k <= '9':
		return byte(k - '0')
	case k == '*':
		return 10
	case k == '#':
		return 11
	}
	panic("rfc4733Event: not a key: " + string(k))
}
