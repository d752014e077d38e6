// Command record records the ARI traffic of the playback and parameter
// scenarios against a real Asterisk, as the trace files
// ../traces/i_playback_lists.raw.jsonl and ../traces/j_rest_params.raw.jsonl
// (then trimmed for the replay tests by ../trim.py).
//
// It needs an Asterisk configured with deploy/asterisk/test (scripts/asterisk.sh
// ast_start, plus chan_bridge_media for bridge playbacks) and
// HOTLINE_TEST_ARI_URL, HOTLINE_TEST_ARI_USER, HOTLINE_TEST_ARI_PASSWORD:
//
//	go run ./ari/aritest/testdata/record ari/aritest/testdata/traces
//
// One WebSocket listens to two applications: hotline (the application under
// test) and sim (the caller's side: an originate of Local/2@hotline into sim,
// whose other half runs extension 2 and enters Stasis(hotline)). Each line is
// {"t": ms, "dir": "request"|"response"|"event"|"ws"|"note", …}; requests keep
// their raw query (repeated keys included) and body.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

type recorder struct {
	base, user, pass string
	start            time.Time
	outMu            sync.Mutex
	out              io.Writer
	evMu             sync.Mutex
	evs              []map[string]any
	wake             chan struct{}
}

func (r *recorder) write(m map[string]any) {
	m["t"] = time.Since(r.start).Milliseconds()
	b, _ := json.Marshal(m)
	r.outMu.Lock()
	defer r.outMu.Unlock()
	_, _ = r.out.Write(append(b, '\n'))
}

func (r *recorder) note(format string, a ...any) {
	r.write(map[string]any{"dir": "note", "note": fmt.Sprintf(format, a...)})
}

// rq sends a request with rawQuery exactly as given and no body.
func (r *recorder) rq(method, path, rawQuery string) (int, map[string]any) {
	return r.rqb(method, path, rawQuery, "", "")
}

// rqb sends a request with a raw query and a body of content type ctype.
func (r *recorder) rqb(method, path, rawQuery, ctype, body string) (int, map[string]any) {
	u := r.base + "/ari" + path
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		panic(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.SetBasicAuth(r.user, r.pass)
	line := map[string]any{"dir": "request", "actor": "app", "method": method, "path": "/ari" + path, "raw_query": rawQuery}
	if body != "" {
		line["content_type"], line["raw_body"] = ctype, body
	}
	r.write(line)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	out := map[string]any{"dir": "response", "actor": "app", "method": method, "path": "/ari" + path, "status": resp.StatusCode}
	var obj map[string]any
	if len(b) > 0 {
		var v any
		if json.Unmarshal(b, &v) == nil {
			out["body"] = v
			obj, _ = v.(map[string]any)
		} else {
			out["raw"] = string(b)
		}
	}
	r.write(out)
	return resp.StatusCode, obj
}

func (r *recorder) listen(ctx context.Context, apps string) {
	u := strings.Replace(r.base, "http", "ws", 1) + "/ari/events?app=" + apps +
		"&subscribeAll=false&api_key=" + url.QueryEscape(r.user+":"+r.pass)
	c, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		panic(err)
	}
	c.SetReadLimit(1 << 20)
	r.write(map[string]any{"dir": "ws", "state": "open", "app": apps})
	go func() {
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			var e map[string]any
			_ = json.Unmarshal(b, &e)
			r.write(map[string]any{"dir": "event", "event": e})
			r.evMu.Lock()
			r.evs = append(r.evs, e)
			r.evMu.Unlock()
			select {
			case r.wake <- struct{}{}:
			default:
			}
		}
	}()
}

func (r *recorder) mark() int {
	r.evMu.Lock()
	defer r.evMu.Unlock()
	return len(r.evs)
}

// wait waits for the first event since mark that matches fn.
func (r *recorder) wait(mark int, d time.Duration, fn func(map[string]any) bool) map[string]any {
	deadline := time.After(d)
	for {
		r.evMu.Lock()
		for _, e := range r.evs[mark:] {
			if fn(e) {
				r.evMu.Unlock()
				return e
			}
		}
		r.evMu.Unlock()
		select {
		case <-r.wake:
		case <-deadline:
			r.note("nothing came within %s", d)
			return nil
		}
	}
}

func isType(typ, app string) func(map[string]any) bool {
	return func(e map[string]any) bool { return e["type"] == typ && (app == "" || e["application"] == app) }
}

func playbackEvent(typ, id string) func(map[string]any) bool {
	return func(e map[string]any) bool {
		p, _ := e["playback"].(map[string]any)
		return e["type"] == typ && p != nil && p["id"] == id
	}
}

// placeCaller originates Local/2@hotline into sim and answers the hotline
// half. It returns the hotline channel's id.
func (r *recorder) placeCaller(number string) string {
	m := r.mark()
	r.rq("POST", "/channels", "endpoint=Local/2@hotline&app=sim&callerId="+number+"&timeout=30")
	ss := r.wait(m, 10*time.Second, isType("StasisStart", "hotline"))
	if ss == nil {
		panic("the caller did not enter Stasis(hotline)")
	}
	ch := ss["channel"].(map[string]any)["id"].(string)
	r.rq("POST", "/channels/"+ch+"/answer", "")
	time.Sleep(200 * time.Millisecond)
	return ch
}

// play plays with id and waits for its PlaybackFinished (at most 15 s).
func (r *recorder) play(target, id, query string) {
	r.note("play %s: %s", id, query)
	m := r.mark()
	if st, _ := r.rq("POST", target+"/play", "playbackId="+id+"&"+query); st != http.StatusCreated {
		return
	}
	r.wait(m, 15*time.Second, playbackEvent("PlaybackFinished", id))
	time.Sleep(200 * time.Millisecond)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: record DIR")
		os.Exit(2)
	}
	for _, sc := range []struct {
		name string
		run  func(*recorder)
	}{
		{"i_playback_lists", playbackLists},
		{"j_rest_params", restParams},
	} {
		f, err := os.Create(filepath.Join(os.Args[1], sc.name+".raw.jsonl"))
		if err != nil {
			panic(err)
		}
		r := &recorder{base: os.Getenv("HOTLINE_TEST_ARI_URL"), user: os.Getenv("HOTLINE_TEST_ARI_USER"),
			pass: os.Getenv("HOTLINE_TEST_ARI_PASSWORD"), start: time.Now(), out: f, wake: make(chan struct{}, 1)}
		ctx, cancel := context.WithCancel(context.Background())
		r.listen(ctx, "hotline,sim")
		time.Sleep(300 * time.Millisecond)
		sc.run(r)
		time.Sleep(500 * time.Millisecond)
		cancel()
		_ = f.Close()
		time.Sleep(500 * time.Millisecond)
	}
}
