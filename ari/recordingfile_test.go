package ari

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fileServer answers GET /ari/recordings/stored/{name}/file as Asterisk does
// (res/ari/resource_recordings.c ast_ari_recordings_get_stored_file, sent by
// main/http.c ast_http_send): the whole file with Content-Length and
// Content-Type audio/<extension>, or a JSON error.
func fileServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestGetStoredRecordingFile(t *testing.T) {
	wav := append([]byte("RIFF\x24\x7d\x00\x00WAVEfmt "), bytes.Repeat([]byte{0x01, 0x02}, 16000)...)
	tests := []struct {
		name      string
		recording string
		status    int
		ctype     string
		body      []byte
		wantErr   error
		wantText  string // in the error
		wantSize  int64
	}{
		{name: "wav", recording: "hotline-vm-01J", status: 200, ctype: "audio/wav", body: wav, wantSize: int64(len(wav))},
		{name: "gsm", recording: "vm-gsm", status: 200, ctype: "audio/gsm", body: []byte{0xd8, 0x20}, wantSize: 2},
		{name: "unknown recording", recording: "nope", status: 404, ctype: "application/json",
			body: []byte(`{"message": "Recording not found"}`), wantErr: ErrNotFound, wantText: "Recording not found"},
		{name: "file cannot be opened", recording: "vm-unreadable", status: 403, ctype: "application/json",
			body: []byte(`{"message": "Recording could not be opened"}`), wantErr: ErrUnauthorized, wantText: "Recording could not be opened"},
		{name: "format not loaded", recording: "vm-odd", status: 500, ctype: "application/json",
			body:    []byte(`{"message": "Format specified by recording not available or loaded"}`),
			wantErr: ErrServer, wantText: "Format specified by recording not available"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotPath, gotUser, gotPass string
			srv := fileServer(t, func(w http.ResponseWriter, r *http.Request) {
				gotPath = r.URL.EscapedPath()
				gotUser, gotPass, _ = r.BasicAuth()
				w.Header().Set("Content-Type", tt.ctype)
				w.Header().Set("Content-Length", strconv.Itoa(len(tt.body)))
				w.WriteHeader(tt.status)
				_, _ = w.Write(tt.body)
			})
			obs := &recObserver{}
			c := testClient(t, srv.URL, obs)
			f, err := c.GetStoredRecordingFile(testCtx(t), tt.recording)
			if gotPath != "/ari/recordings/stored/"+tt.recording+"/file" || gotUser != "hotline" || gotPass != "s3cret-pw" {
				t.Fatalf("request %s as %s:%s", gotPath, gotUser, gotPass)
			}
			if len(obs.ops) != 1 || obs.ops[0] != "recordings.stored_file" || obs.statuses[0] != tt.status {
				t.Fatalf("observer saw %v %v", obs.ops, obs.statuses)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantText) {
					t.Fatalf("err = %v, want %v with %q", err, tt.wantErr, tt.wantText)
				}
				if strings.Contains(err.Error(), "s3cret-pw") {
					t.Fatalf("the password is in the error: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer f.Body.Close()
			got, err := io.ReadAll(f.Body)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.body) || f.ContentType != tt.ctype || f.Size != tt.wantSize {
				t.Fatalf("got %d bytes (%q, size %d), want %d bytes (%q, size %d)",
					len(got), f.ContentType, f.Size, len(tt.body), tt.ctype, tt.wantSize)
			}
		})
	}
}

func TestGetStoredRecordingFileNeedsName(t *testing.T) {
	srv := newRESTServer(t)
	c := testClient(t, srv.URL, nil)
	if _, err := c.GetStoredRecordingFile(testCtx(t), ""); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("err = %v, want ErrBadRequest", err)
	}
	if srv.count() != 0 {
		t.Fatal("a request was sent without a name")
	}
}

// The request timeout bounds the wait for Asterisk's answer, not the body:
// a file passed on to a slow phone takes longer than a REST call may.
func TestGetStoredRecordingFileStreamsPastRequestTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	release := make(chan struct{})
	srv := fileServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/wav")
		w.Header().Set("Content-Length", "8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("RIFF"))
		w.(http.Flusher).Flush()
		select { // the rest only after the client has waited past the timeout
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = w.Write([]byte("WAVE"))
	})
	c, err := New(Config{URL: srv.URL, User: "hotline", Password: "pw", App: "hotline", RequestTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.GetStoredRecordingFile(testCtx(t), "vm-1")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Body.Close()
	head := make([]byte, 4)
	if _, err := io.ReadFull(f.Body, head); err != nil || string(head) != "RIFF" {
		t.Fatalf("first bytes %q: %v", head, err)
	}
	time.Sleep(3 * timeout) // longer than a whole REST call may last
	close(release)
	rest, err := io.ReadAll(f.Body)
	if err != nil || string(rest) != "WAVE" {
		t.Fatalf("rest %q: %v (the request timeout cut the body)", rest, err)
	}
}

func TestGetStoredRecordingFileNoAnswer(t *testing.T) {
	srv := fileServer(t, func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers
	})
	c, err := New(Config{URL: srv.URL, User: "hotline", Password: "pw", App: "hotline", RequestTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetStoredRecordingFile(testCtx(t), "vm-1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
}

// Cancelling the caller's context ends a body that is still coming.
func TestGetStoredRecordingFileBodyEndsWithContext(t *testing.T) {
	srv := fileServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/wav")
		w.Header().Set("Content-Length", "1000000")
		_, _ = w.Write([]byte("RIFF"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	c := testClient(t, srv.URL, nil)
	ctx, cancel := context.WithCancel(testCtx(t))
	f, err := c.GetStoredRecordingFile(ctx, "vm-1")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Body.Close()
	head := make([]byte, 4)
	if _, err := io.ReadFull(f.Body, head); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := io.ReadAll(f.Body); !errors.Is(err, context.Canceled) {
		t.Fatalf("read after cancel: %v, want context.Canceled", err)
	}
}
