package arifake

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"
)

// GET /recordings/stored/{name}/file answers as Asterisk does: the file's
// bytes with Content-Type audio/<extension>, Content-Length and no caching,
// or Asterisk's errors.
func TestStoredRecordingFile(t *testing.T) {
	wav := wavHeader(8000, 4, []byte{1, 2, 3, 4})
	tests := []struct {
		name       string
		setup      func(s *Server)
		recording  string
		wantStatus int
		wantType   string
		wantBody   []byte // nil: any
		wantLen    int    // when wantBody is nil
		wantMsg    string
	}{
		{name: "stored wav", setup: func(s *Server) { s.StoreRecording("greeting", "wav", wav) },
			recording: "greeting", wantStatus: 200, wantType: "audio/wav", wantBody: wav},
		{name: "stored gsm", setup: func(s *Server) { s.StoreRecording("old", "gsm", []byte{0xd8, 1, 2}) },
			recording: "old", wantStatus: 200, wantType: "audio/gsm", wantBody: []byte{0xd8, 1, 2}},
		{name: "a format Asterisk does not know", setup: func(s *Server) { s.StoreRecording("song", "mp3", []byte{1}) },
			recording: "song", wantStatus: 500, wantMsg: "Format specified by recording not available or loaded"},
		{name: "unknown", recording: "nope", wantStatus: 404, wantMsg: "Recording not found"},
		{name: "recorded ulaw: silence as long as the recording", setup: func(s *Server) {
			s.mu.Lock()
			s.stored["vm"] = &storedRec{format: "ulaw", duration: 2 * time.Second}
			s.mu.Unlock()
		}, recording: "vm", wantStatus: 200, wantType: "audio/ulaw", wantBody: bytes.Repeat([]byte{0xff}, 16000)},
		{name: "recorded wav16", setup: func(s *Server) {
			s.mu.Lock()
			s.stored["vm16"] = &storedRec{format: "wav16", duration: time.Second}
			s.mu.Unlock()
		}, recording: "vm16", wantStatus: 200, wantType: "audio/wav16", wantLen: 44 + 32000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Start(t, Options{})
			if tt.setup != nil {
				tt.setup(s)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, "GET", s.URL()+"/ari/recordings/stored/"+tt.recording+"/file", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.SetBasicAuth(s.opts.User, s.opts.Password)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status %d (%s), want %d", res.StatusCode, body, tt.wantStatus)
			}
			if tt.wantMsg != "" {
				if got := (resp{body: body}).message(); got != tt.wantMsg {
					t.Fatalf("message %q, want %q", got, tt.wantMsg)
				}
				return
			}
			if got := res.Header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type %q, want %q", got, tt.wantType)
			}
			if res.ContentLength != int64(len(body)) || res.Header.Get("Cache-Control") != "no-cache, no-store" {
				t.Errorf("Content-Length %d for %d bytes, Cache-Control %q", res.ContentLength, len(body), res.Header.Get("Cache-Control"))
			}
			if tt.wantBody != nil && !bytes.Equal(body, tt.wantBody) {
				t.Errorf("body % x…, want % x…", body[:min(16, len(body))], tt.wantBody[:min(16, len(tt.wantBody))])
			}
			if tt.wantBody == nil && len(body) != tt.wantLen {
				t.Errorf("%d bytes, want %d", len(body), tt.wantLen)
			}
		})
	}
}

// A stored recording is listed and can be deleted like a recorded one.
func TestStoreRecordingListedAndDeleted(t *testing.T) {
	s := Start(t, Options{})
	c := newTClient(s.URL(), s.opts.User, s.opts.Password)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.StoreRecording("hotline-vm-1", "wav", silenceWAV(time.Second))
	var got StoredRecording
	c.must(t, ctx, 200, "GET", "/recordings/stored/hotline-vm-1").decode(t, &got)
	if got != (StoredRecording{Name: "hotline-vm-1", Format: "wav"}) {
		t.Fatalf("stored recording %+v", got)
	}
	c.must(t, ctx, 204, "DELETE", "/recordings/stored/hotline-vm-1")
	c.must(t, ctx, 404, "GET", "/recordings/stored/hotline-vm-1/file")
}
