package arifake

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/csm-vn/hotline/ari"
)

// The stored-recording file (what the board plays to supervisors), on the
// fake and on a real Asterisk with HOTLINE_TEST_ARI_*: a caller's channel is
// recorded for two seconds — on Asterisk the caller plays beeps into it
// (sound:beep, 0.25 s each), so the file holds sound — then our client (package ari) fetches
// the file: 200, Content-Type audio/wav, Content-Length = the bytes, a
// valid 8 kHz 16-bit mono WAV of about two seconds; an unknown name is
// ErrNotFound "Recording not found", and so is the file once deleted.

func TestRecordingFileFake(t *testing.T) {
	runRecordingFile(t, newFakeDriver(t))
}

func TestRecordingFileAsterisk(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d := newRealDriver(t, ctx)
	t.Cleanup(func() {
		if t.Failed() {
			d.sweep()
		}
	})
	runRecordingFile(t, d)
}

func runRecordingFile(t *testing.T, d confDriver) {
	e := newConfEnv(t, d)
	caller, id := e.incoming(t, "0945551519")
	e.answer(t, id)
	if rc, ok := caller.(realCaller); ok {
		rc.playBeeps(t, e.ctx)
	}
	name := confID("vm-file")
	e.c.must(t, e.ctx, 201, "POST", "/channels/"+id+"/record", "name", name, "format", "wav",
		"maxDurationSeconds", "2", "ifExists", "overwrite")
	e.st.want(t, e.ctx, "RecordingStarted", "")
	fin := e.st.want(t, e.ctx, "RecordingFinished", "")
	if fin.Recording == nil || fin.Recording.Name != name || fin.Recording.State != "done" {
		t.Fatalf("RecordingFinished %s", fin.raw)
	}
	if err := caller.hangup(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.st.want(t, e.ctx, "StasisEnd", id)
	t.Cleanup(func() { // the file stays on Asterisk otherwise
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = e.c.do(ctx, "DELETE", "/recordings/stored/"+name)
	})

	c := e.c
	cl, err := ari.New(ari.Config{URL: c.base, User: c.user, Password: c.pass, App: "hotline"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := cl.GetStoredRecordingFile(e.ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(f.Body)
	_ = f.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if f.ContentType != "audio/wav" || f.Size != int64(len(data)) {
		t.Fatalf("Content-Type %q, size %d for %d bytes", f.ContentType, f.Size, len(data))
	}
	pcm := checkWAV(t, data)
	// maxDurationSeconds 2: between one and three seconds of 8 kHz 16-bit.
	if len(pcm) < 16000 || len(pcm) > 48000 {
		t.Fatalf("%d bytes of audio for a 2 s recording", len(pcm))
	}
	if _, real := d.(*realDriver); real {
		if peak := peakSample(pcm); peak < 1000 {
			t.Fatalf("the caller's beeps are not in the file: peak sample %d", peak)
		}
	}

	_, err = cl.GetStoredRecordingFile(e.ctx, "no-such-"+name)
	var ae *ari.Error
	if !errors.Is(err, ari.ErrNotFound) || !errors.As(err, &ae) || ae.Message != "Recording not found" {
		t.Fatalf("unknown recording: %v", err)
	}
	e.c.must(t, e.ctx, 204, "DELETE", "/recordings/stored/"+name)
	if _, err := cl.GetStoredRecordingFile(e.ctx, name); !errors.Is(err, ari.ErrNotFound) {
		t.Fatalf("deleted recording: %v", err)
	}
	d.checkClean(t, e.ctx)
}

// playBeeps makes the caller's half play three seconds of beeps that the
// hotline's half hears (the ;1 half enters the harness app a moment after
// the answer: 409 until then). A tone: played there does not reach the
// other half's recording on 22.10.1 (the file stays empty); sounds do.
func (r realCaller) playBeeps(t *testing.T, ctx context.Context) {
	t.Helper()
	for {
		res, err := r.d.c.do(ctx, "POST", "/channels/"+r.id+"/play", "media", strings.Repeat("sound:beep,", 11)+"sound:beep")
		if err != nil {
			t.Fatal(err)
		}
		if res.status == http.StatusCreated {
			return
		}
		if res.status != http.StatusConflict && res.status != http.StatusNotFound {
			t.Fatalf("play beeps: %d %s", res.status, res.body)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("play beeps: the caller never entered the harness app (%d %s)", res.status, res.body)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// checkWAV checks a 16-bit mono 8 kHz PCM WAV file and returns its samples.
func checkWAV(t *testing.T, b []byte) []byte {
	t.Helper()
	le := binary.LittleEndian
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:16]) != "WAVEfmt " {
		t.Fatalf("not a WAV file: % x", b[:min(len(b), 16)])
	}
	if int(le.Uint32(b[4:])) != len(b)-8 {
		t.Fatalf("RIFF size %d for %d bytes", le.Uint32(b[4:]), len(b))
	}
	format, channels, rate, bits := le.Uint16(b[20:]), le.Uint16(b[22:]), le.Uint32(b[24:]), le.Uint16(b[34:])
	if format != 1 || channels != 1 || rate != 8000 || bits != 16 {
		t.Fatalf("format %d, %d channels, %d Hz, %d bits", format, channels, rate, bits)
	}
	// Chunks after fmt: find data.
	off := 12 + 8 + int(le.Uint32(b[16:]))
	for off+8 <= len(b) {
		id, n := string(b[off:off+4]), int(le.Uint32(b[off+4:]))
		if id == "data" {
			if off+8+n != len(b) {
				t.Fatalf("data chunk of %d bytes, %d in the file", n, len(b)-off-8)
			}
			return b[off+8:]
		}
		off += 8 + n + n%2
	}
	t.Fatalf("no data chunk in %q", strings.ToValidUTF8(string(b[:min(len(b), 64)]), "?"))
	return nil
}

func peakSample(pcm []byte) int {
	peak := 0
	for i := 0; i+1 < len(pcm); i += 2 {
		v := int(int16(binary.LittleEndian.Uint16(pcm[i:])))
		peak = max(peak, v, -v)
	}
	return peak
}
