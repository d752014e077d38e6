package ari

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawServer is an HTTP/1.1 server written by hand, so a test decides
// exactly what goes on the wire: each request read is handed to answer,
// which writes the raw answer and says whether to keep the connection.
type rawServer struct {
	ln      net.Listener
	answer  func(n int, req *http.Request, body []byte, w io.Writer) (keep bool)
	mu      sync.Mutex
	conns   int
	reqs    int
	methods []string
	open    []net.Conn
}

func newRawServer(t *testing.T, answer func(n int, req *http.Request, body []byte, w io.Writer) bool) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln, answer: answer}
	go s.serve()
	t.Cleanup(func() {
		ln.Close()
		s.closeConns()
	})
	return s
}

func (s *rawServer) serve() {
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns++
		s.open = append(s.open, nc)
		s.mu.Unlock()
		go func() {
			defer nc.Close()
			br := bufio.NewReader(nc)
			for {
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				body, _ := io.ReadAll(req.Body)
				s.mu.Lock()
				s.reqs++
				n := s.reqs
				s.methods = append(s.methods, req.Method+" "+req.URL.Path)
				s.mu.Unlock()
				if !s.answer(n, req, body, nc) {
					return
				}
			}
		}()
	}
}

// closeConns closes every connection the server has open, as Asterisk
// does when it restarts.
func (s *rawServer) closeConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.open {
		c.Close()
	}
	s.open = nil
}

func (s *rawServer) counts() (conns, reqs int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns, s.reqs
}

const okChannel = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"id\":\"c1\"}\r\n"

func rawClient(t *testing.T, s *rawServer) *Client {
	t.Helper()
	c, err := New(Config{URL: "http://" + s.ln.Addr().String(), User: "u", Password: "p", App: "a", RequestTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if c.rest == nil {
		t.Fatal("a plain-http client without HTTPClient does not use its own transport")
	}
	return c
}

// The request on the wire: the request line below the URL's path, Host,
// basic auth, Accept, and a JSON body with its type and length; a POST
// without a body says Content-Length: 0.
func TestRESTTransportWritesRequests(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	var bodies []string
	s := newRawServer(t, func(_ int, req *http.Request, body []byte, w io.Writer) bool {
		mu.Lock()
		got = append(got, req)
		bodies = append(bodies, string(body))
		mu.Unlock()
		io.WriteString(w, "HTTP/1.1 204 No Content\r\n\r\n")
		return true
	})
	c, err := New(Config{URL: "http://" + s.ln.Addr().String() + "/pbx/ari", User: "hotline", Password: "s3cret", App: "a"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	if err := c.Answer(ctx, "c/1"); err != nil {
		t.Fatal(err)
	}
	if err := c.SetChannelVar(ctx, "c1", "X", "y z"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("%d requests", len(got))
	}
	a, v := got[0], got[1]
	if a.Method != "POST" || a.RequestURI != "/pbx/ari/channels/c%2F1/answer" || a.ContentLength != 0 {
		t.Errorf("answer: %s %s length %d", a.Method, a.RequestURI, a.ContentLength)
	}
	if u, p, ok := a.BasicAuth(); !ok || u != "hotline" || p != "s3cret" {
		t.Errorf("answer's auth: %q %q %v", u, p, ok)
	}
	if a.Header.Get("Accept") != "application/json" || a.Host != s.ln.Addr().String() {
		t.Errorf("answer's headers: %v, host %q", a.Header, a.Host)
	}
	if v.Header.Get("Content-Type") != "application/json" || v.ContentLength != int64(len(bodies[1])) ||
		v.URL.Query().Get("variable") != "X" || bodies[1] != `{"value":"y z"}` {
		t.Errorf("variable: %v %q", v.Header, bodies[1])
	}
}

// Answers as Asterisk and net/http servers send them: with a length,
// chunked, and "Connection: close" (the connection is then not used
// again); an error status keeps its message.
func TestRESTTransportReadsAnswers(t *testing.T) {
	tests := []struct {
		name      string
		answer    string
		keep      bool
		wantConns int // after three requests
		wantErr   error
	}{
		{"length", okChannel, true, 1, nil},
		{"chunked", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"id\"\r\n6\r\n:\"c1\"}\r\n0\r\n\r\n", true, 1, nil},
		{"connection close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 11\r\n\r\n{\"id\":\"c1\"}", false, 3, nil},
		{"not found", "HTTP/1.1 404 Not Found\r\nContent-Length: 31\r\n\r\n{\"message\":\"Channel not found\"}", true, 1, ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newRawServer(t, func(_ int, _ *http.Request, _ []byte, w io.Writer) bool {
				io.WriteString(w, tt.answer)
				return tt.keep
			})
			c := rawClient(t, s)
			for range 3 {
				ch, err := c.GetChannel(testCtx(t), "c1")
				if tt.wantErr != nil {
					if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), "Channel not found") {
						t.Fatalf("err = %v, want %v with Asterisk's message", err, tt.wantErr)
					}
					continue
				}
				if err != nil || ch.ID != "c1" {
					t.Fatalf("GetChannel: %+v, %v", ch, err)
				}
			}
			if conns, _ := s.counts(); conns != tt.wantConns {
				t.Errorf("%d connections for 3 requests, want %d", conns, tt.wantConns)
			}
		})
	}
}

// Asterisk restarted (or dropped its idle sessions): the kept connections
// are closed. The next request — a POST too — goes once more on a new
// connection, since Asterisk never read it, and reaches Asterisk once.
func TestRESTTransportRetriesOnAConnectionClosedWhileIdle(t *testing.T) {
	s := newRawServer(t, func(_ int, _ *http.Request, _ []byte, w io.Writer) bool {
		io.WriteString(w, "HTTP/1.1 204 No Content\r\n\r\n")
		return true
	})
	c := rawClient(t, s)
	ctx := testCtx(t)
	// Three kept connections.
	var wg sync.WaitGroup
	hold := make(chan struct{})
	s.answer = func(_ int, _ *http.Request, _ []byte, w io.Writer) bool {
		<-hold
		io.WriteString(w, "HTTP/1.1 204 No Content\r\n\r\n")
		return true
	}
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Answer(ctx, "c1"); err != nil {
				t.Error(err)
			}
		}()
	}
	for {
		if _, reqs := s.counts(); reqs == 3 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(hold)
	wg.Wait()
	s.closeConns()

	if err := c.Answer(ctx, "c1"); err != nil {
		t.Fatalf("answer after the connections were closed: %v", err)
	}
	conns, reqs := s.counts()
	if reqs != 4 {
		t.Errorf("Asterisk got %d requests, want 4 (each once)", reqs)
	}
	// The retry dropped the other idle (dead) connections: the next
	// request goes on the new connection, not on a dead one.
	if err := c.Answer(ctx, "c1"); err != nil {
		t.Fatalf("second answer: %v", err)
	}
	if c2, _ := s.counts(); c2 != conns || conns != 4 {
		t.Errorf("connections: %d then %d, want 4 then 4", conns, c2)
	}
}

// A connection closed after Asterisk read the request — it may have acted
// on it — is an error, never sent again.
func TestRESTTransportDoesNotResendARequestAsteriskRead(t *testing.T) {
	s := newRawServer(t, func(n int, _ *http.Request, _ []byte, w io.Writer) bool {
		if n == 1 {
			io.WriteString(w, "HTTP/1.1 204 No Content\r\n\r\n")
			return true
		}
		io.WriteString(w, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"id\":")
		return false
	})
	c := rawClient(t, s)
	ctx := testCtx(t)
	if err := c.Answer(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateChannel(ctx, CreateChannelParams{Endpoint: "PJSIP/x", App: "a"}); err == nil {
		t.Fatal("a cut answer is not an error")
	}
	if _, reqs := s.counts(); reqs != 2 {
		t.Errorf("Asterisk got %d requests, want 2: the cut one is not sent again", reqs)
	}
}

// A request waiting for a free connection (all maxConns busy) gives up
// with its context.
func TestRESTTransportWaitsForASlotWithinItsContext(t *testing.T) {
	s := newRawServer(t, func(_ int, _ *http.Request, _ []byte, w io.Writer) bool {
		io.WriteString(w, "HTTP/1.1 204 No Content\r\n\r\n")
		return true
	})
	c := rawClient(t, s)
	for range maxConns {
		c.rest.slots <- struct{}{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Answer(ctx, "c1"); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if _, reqs := s.counts(); reqs != 0 {
		t.Errorf("%d requests sent without a slot", reqs)
	}
}

// BenchmarkRESTRequest is one small REST request and its answer over a kept
// connection (server included, in this process): the client's own
// transport against net/http's.
func BenchmarkRESTRequest(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"c1","name":"PJSIP/x-00000001","state":"Up"}`)
	}))
	defer srv.Close()
	for _, tt := range []struct {
		name string
		hc   *http.Client
	}{
		{"own", nil},
		{"net-http", newHTTPClient(time.Minute, time.Second)},
	} {
		b.Run(tt.name, func(b *testing.B) {
			c, err := New(Config{URL: srv.URL, User: "u", Password: "p", App: "a", HTTPClient: tt.hc})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.GetChannel(ctx, "c1"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
