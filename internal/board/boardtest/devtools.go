package boardtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Page is one tab of a headless Chromium driven over the DevTools protocol,
// for tests that act in the page as a person would — press a button, play
// a recording — and then read it: Navigate, Eval (JavaScript run by the
// test, so a page whose Content-Security-Policy forbids scripts can still be
// inspected), WaitFor, Screenshot. Close ends the browser and its process
// group.
type Page struct {
	cmd     *exec.Cmd
	profile string
	conn    *websocket.Conn
	cancel  context.CancelFunc
	done    chan struct{} // the reader ended
	exited  chan struct{} // the browser's main process was waited for

	mu      sync.Mutex
	nextID  int64
	pending map[int64]chan cdpReply
	readErr error
}

type cdpReply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Open starts a browser with an empty tab. Audio autoplays (muted: the
// browser runs with --mute-audio), so a test can play a recording.
func (b Browser) Open(ctx context.Context) (*Page, error) {
	path := b.Path
	if path == "" {
		var err error
		if path, err = FindChromium(); err != nil {
			return nil, err
		}
	}
	profile, err := os.MkdirTemp("", "boardtest-devtools-")
	if err != nil {
		return nil, fmt.Errorf("boardtest: profile dir: %w", err)
	}
	flags := b.flags(profile)
	flags = append(flags, "--remote-debugging-port=0", "--autoplay-policy=no-user-gesture-required", "about:blank")
	// The browser lives until Close, not until ctx ends: ctx bounds the
	// start only.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	cmd := exec.CommandContext(runCtx, path, flags...)
	cmd.Env = append(os.Environ(), "HOME="+profile, "XDG_CONFIG_HOME="+profile, "XDG_CACHE_HOME="+profile)
	cmd.Dir = profile
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	setGroup(cmd)
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		_ = os.RemoveAll(profile)
		return nil, fmt.Errorf("boardtest: start %s: %w", path, err)
	}
	if startedHook != nil {
		startedHook(cmd.Process.Pid)
	}
	p := &Page{cmd: cmd, profile: profile, cancel: cancel, pending: map[int64]chan cdpReply{}, done: make(chan struct{})}
	exited := make(chan struct{})
	p.exited = exited
	go func() { _ = cmd.Wait(); close(exited) }()
	fail := func(err error) (*Page, error) {
		cancel()
		<-exited
		killGroup(cmd, cmd.WaitDelay)
		_ = os.RemoveAll(profile)
		return nil, fmt.Errorf("boardtest: devtools: %w (stderr: %s)", err, tail(stderr.String()))
	}

	// Chromium writes its port to DevToolsActivePort in the profile.
	var port string
	for port == "" {
		if b, err := os.ReadFile(filepath.Join(profile, "DevToolsActivePort")); err == nil {
			if first, _, ok := strings.Cut(string(b), "\n"); ok && first != "" {
				port = first
				break
			}
		}
		select {
		case <-ctx.Done():
			return fail(ctx.Err())
		case <-exited:
			return fail(errors.New("chromium exited"))
		case <-time.After(20 * time.Millisecond):
		}
	}
	wsURL, err := pageTarget(ctx, port)
	if err != nil {
		return fail(err)
	}
	conn, _, err := websocket.Dial(ctx, wsURL, nil)
	if err != nil {
		return fail(err)
	}
	conn.SetReadLimit(64 << 20) // screenshots
	p.conn = conn
	go p.read(runCtx)
	// A DevTools tab ignores --window-size: size it like the phone.
	w, h := cmpOr(b.Width, 390), cmpOr(b.Height, 844)
	if err := p.call(ctx, "Emulation.setDeviceMetricsOverride", map[string]any{
		"width": w, "height": h, "deviceScaleFactor": max(b.Scale, 1), "mobile": w < 600,
	}, nil); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// pageTarget finds the tab's DevTools WebSocket.
func pageTarget(ctx context.Context, port string) (string, error) {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/json/list", nil)
		if err != nil {
			return "", err
		}
		if res, err := http.DefaultClient.Do(req); err == nil {
			var targets []struct {
				Type string `json:"type"`
				WS   string `json:"webSocketDebuggerUrl"`
			}
			err = json.NewDecoder(res.Body).Decode(&targets)
			res.Body.Close()
			for _, t := range targets {
				if err == nil && t.Type == "page" && t.WS != "" {
					return t.WS, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("no page target: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (p *Page) read(ctx context.Context) {
	defer close(p.done)
	for {
		_, data, err := p.conn.Read(ctx)
		if err != nil {
			p.mu.Lock()
			p.readErr = err
			for id, ch := range p.pending {
				close(ch)
				delete(p.pending, id)
			}
			p.mu.Unlock()
			return
		}
		var msg struct {
			ID int64 `json:"id"`
			cdpReply
		}
		if json.Unmarshal(data, &msg) != nil || msg.ID == 0 {
			continue // an event: not used
		}
		p.mu.Lock()
		ch := p.pending[msg.ID]
		delete(p.pending, msg.ID)
		p.mu.Unlock()
		if ch != nil {
			ch <- msg.cdpReply
		}
	}
}

// call sends one DevTools command and decodes its result into out.
func (p *Page) call(ctx context.Context, method string, params, out any) error {
	ch := make(chan cdpReply, 1)
	p.mu.Lock()
	if p.readErr != nil {
		err := p.readErr
		p.mu.Unlock()
		return fmt.Errorf("boardtest: devtools %s: %w", method, err)
	}
	p.nextID++
	id := p.nextID
	p.pending[id] = ch
	p.mu.Unlock()
	msg, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err != nil {
		return err
	}
	if err := p.conn.Write(ctx, websocket.MessageText, msg); err != nil {
		return fmt.Errorf("boardtest: devtools %s: %w", method, err)
	}
	select {
	case <-ctx.Done():
		p.mu.Lock()
		delete(p.pending, id)
		p.mu.Unlock()
		return fmt.Errorf("boardtest: devtools %s: %w", method, ctx.Err())
	case r, ok := <-ch:
		if !ok {
			return fmt.Errorf("boardtest: devtools %s: connection closed", method)
		}
		if r.Error != nil {
			return fmt.Errorf("boardtest: devtools %s: %s (%d)", method, r.Error.Message, r.Error.Code)
		}
		if out != nil {
			return json.Unmarshal(r.Result, out)
		}
		return nil
	}
}

// Navigate loads url and waits until the document has loaded.
func (p *Page) Navigate(ctx context.Context, url string) error {
	var res struct {
		ErrorText string `json:"errorText"`
	}
	if err := p.call(ctx, "Page.navigate", map[string]any{"url": url}, &res); err != nil {
		return err
	}
	if res.ErrorText != "" {
		return fmt.Errorf("boardtest: navigate %s: %s", url, res.ErrorText)
	}
	return p.WaitFor(ctx, `document.readyState === "complete" && location.href !== "about:blank"`)
}

// Eval runs a JavaScript expression in the page, awaits it when it is a
// promise, and decodes its value (JSON) into out (nil: ignored).
func (p *Page) Eval(ctx context.Context, expr string, out any) error {
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := p.call(ctx, "Runtime.evaluate", map[string]any{
		"expression": expr, "awaitPromise": true, "returnByValue": true,
	}, &res); err != nil {
		return err
	}
	if e := res.Exception; e != nil {
		return fmt.Errorf("boardtest: eval: %s %s", e.Text, e.Exception.Description)
	}
	if out != nil && len(res.Result.Value) > 0 {
		return json.Unmarshal(res.Result.Value, out)
	}
	return nil
}

// WaitFor evaluates cond until it is true, across navigations (an
// evaluation cut by one is tried again), or until ctx ends.
func (p *Page) WaitFor(ctx context.Context, cond string) error {
	var last error
	for {
		var ok bool
		err := p.Eval(ctx, "Boolean("+cond+")", &ok)
		if err == nil && ok {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("boardtest: waiting for %s: %w (last: %v)", cond, ctx.Err(), last)
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// Screenshot saves a PNG of the whole page (full: the document's height,
// else the window) to file.
func (p *Page) Screenshot(ctx context.Context, file string, full bool) error {
	params := map[string]any{"format": "png"}
	if full {
		var size struct{ W, H float64 }
		if err := p.Eval(ctx, `({W: document.documentElement.scrollWidth, H: document.documentElement.scrollHeight})`, &size); err != nil {
			return err
		}
		params["captureBeyondViewport"] = true
		params["clip"] = map[string]any{"x": 0, "y": 0, "width": size.W, "height": size.H, "scale": 1}
	}
	var res struct {
		Data string `json:"data"`
	}
	if err := p.call(ctx, "Page.captureScreenshot", params, &res); err != nil {
		return err
	}
	png, err := base64.StdEncoding.DecodeString(res.Data)
	if err != nil {
		return fmt.Errorf("boardtest: screenshot: %w", err)
	}
	return os.WriteFile(file, png, 0o644)
}

// Close ends the browser and every process of its group.
func (p *Page) Close() {
	if p.conn != nil {
		_ = p.conn.Close(websocket.StatusNormalClosure, "")
	}
	p.cancel()
	<-p.done
	<-p.exited
	killGroup(p.cmd, p.cmd.WaitDelay)
	_ = os.RemoveAll(p.profile)
}

// flags are the browser's command-line flags for this Browser.
func (b Browser) flags(profile string) []string {
	w, h := cmpOr(b.Width, 390), cmpOr(b.Height, 844)
	scale := b.Scale
	if scale <= 0 {
		scale = 1
	}
	return []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-default-apps", "--disable-extensions", "--disable-crash-reporter",
		"--disable-dev-shm-usage", "--mute-audio", "--no-default-browser-check",
		"--user-data-dir=" + profile,
		"--window-size=" + strconv.Itoa(w) + "," + strconv.Itoa(h),
		"--force-device-scale-factor=" + strconv.FormatFloat(scale, 'f', -1, 64),
		"--lang=vi-VN",
	}
}
