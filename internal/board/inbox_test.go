package board

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInboxPage(t *testing.T) {
	t.Parallel()
	in := newFakeInbox()
	w := get(t, Handler(static(fixture()), inboxOptions(in, &fakeCallbacks{})), "/inbox", fromHere)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	doc := w.Body.String()
	csp := w.Header().Get("Content-Security-Policy")
	for _, want := range []string{"media-src 'self'", "form-action 'self'", "default-src 'none'", "frame-ancestors 'none'"} {
		assert.Contains(t, csp, want)
	}
	assert.NotContains(t, csp, "script-src", "no script")
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))

	assert.Equal(t, "2", text(element(t, doc, "vm-waiting", "span")))
	vm := element(t, doc, "vm-42", "article")
	assert.Equal(t, "CF0789 — Phòng máy Sao Mai Gọi lại số 0978•••456 · 12:27 (2 giờ 5 phút trước) · dài 00:03 "+
		"Trình duyệt không phát được âm thanh. Tải lời nhắn Người xử lý Ghi chú Gọi ai trước "+
		"Nguyễn Văn Bình (Kỹ thuật viên) Trần Thị Mai (Quản lý khu vực) Đã xử lý Gọi lại ngay", text(vm))
	assert.Contains(t, vm, `<audio controls preload="metadata" src="inbox/voicemails/42/audio"`)
	assert.Contains(t, vm, `action="inbox/voicemails/42/handled"`)
	assert.Contains(t, vm, `formaction="inbox/voicemails/42/callback"`)
	assert.Contains(t, vm, `<option value="KTV07">`)

	cbOnly := element(t, doc, "vm-43", "article")
	assert.NotContains(t, cbOnly, "<audio", "a callback request has nothing to play")
	assert.Contains(t, text(cbOnly), "Chỉ yêu cầu gọi lại, không có lời nhắn.")
	assert.Contains(t, text(cbOnly), "Chưa xác định quán")

	cp := element(t, doc, "cp-01JCALLCOMPLAINT1", "article")
	assert.Equal(t, "Nguyễn Văn Bình (Kỹ thuật viên, KTV07) Quán CF0456 — Game Center Ánh Dương · số gọi 0903•••222 · "+
		"cuộc gọi lúc 24/11 12:32 , nói chuyện 01:35 · chấm 1/5 · khiếu nại 1 ngày 1 giờ trước "+
		"Cuộc gọi không được ghi âm. Calls are not recorded. Người xem xét Ghi chú Đã xem xét", text(cp))
	assert.NotContains(t, cp, "<audio", "calls are not recorded: nothing to play")
	assert.Contains(t, cp, `action="inbox/complaints/01JCALLCOMPLAINT1/reviewed"`)
	assert.Equal(t, "2", text(element(t, doc, "cp-waiting", "span")))

	assert.Equal(t, "Lời nhắn CF0123 — Quán Net Hoàng Long · Chị Lan lúc 11:32 · đã gọi lại", text(element(t, doc, "handled-40", "li")))

	// Every form carries the same CSRF token, and the page set its cookie.
	tokens := csrfRE.FindAllStringSubmatch(doc, -1)
	require.Len(t, tokens, 4, "two voicemail forms, two complaint forms")
	for _, m := range tokens {
		assert.Equal(t, tokens[0][1], m[1])
	}
	var csrfCookie *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == csrfCookieName {
			csrfCookie = c
		}
	}
	require.NotNil(t, csrfCookie)
	assert.True(t, csrfCookie.HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, csrfCookie.SameSite)
	assert.NotEqual(t, csrfCookie.Value, tokens[0][1], "the form carries a signature of the cookie, not the cookie")
}

func TestInboxPageVariants(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		opts      func(*Options)
		mod       func(*http.Request)
		inbox     func(*fakeInbox)
		status    int
		contains  []string
		lacks     []string
		setCookie string
	}{
		{name: "without Callbacks no call-back button", opts: func(o *Options) { o.Callbacks = nil },
			status: 200, lacks: []string{"Gọi lại ngay", "Gọi ai trước", `name="staff"`}},
		{name: "full numbers with tel links", opts: func(o *Options) { o.FullNumbers = true },
			status: 200, contains: []string{`<a class="number" href="tel:0978123456">0978123456</a>`}, lacks: []string{"che bớt"}},
		{name: "nobody to ring: no call-back button", inbox: func(f *fakeInbox) {
			for i := range f.data.Voicemails {
				f.data.Voicemails[i].CallbackTo = nil
			}
		}, status: 200, lacks: []string{"Gọi lại ngay"}},
		{name: "empty", inbox: func(f *fakeInbox) { f.data = InboxData{} }, status: 200,
			contains: []string{"Không có lời nhắn nào đang chờ.", "Không có khiếu nại nào đang chờ.", "Chưa có."}},
		{name: "data unavailable", inbox: func(f *fakeInbox) { f.err = errors.New("pq: password authentication failed for user hotline") },
			status: 503, contains: []string{"Không lấy được dữ liệu"}, lacks: []string{"pq:", "password", "vm-42"}},
		{name: "after a write", mod: func(r *http.Request) { r.URL.RawQuery = "done=handled&vm=42" },
			status: 200, contains: []string{`id="notice">Đã đánh dấu lời nhắn #42 là đã xử lý.`}},
		{name: "notice vocabulary only", mod: func(r *http.Request) { r.URL.RawQuery = "done=%3Cscript%3E&vm=x" },
			status: 200, lacks: []string{`id="notice"`, "<script"}},
		{name: "remembered name", mod: func(r *http.Request) {
			r.AddCookie(&http.Cookie{Name: whoCookieName, Value: url.QueryEscape(`Chị Lan "QL"`)})
		}, status: 200, contains: []string{`value="Chị Lan &#34;QL&#34;"`}},
		{name: "many waiting", inbox: func(f *fakeInbox) { f.data.VoicemailsWaiting = 120 }, status: 200,
			contains: []string{"Còn 120 lời nhắn đang chờ; trang này liệt kê 2 lời nhắn cũ nhất."}},
		{name: "hostile text is escaped", inbox: func(f *fakeInbox) {
			f.data.Complaints[0].CafeName = `<img src=x onerror=alert(1)>`
			f.data.Handled[0].Note = `</q><script>alert(1)</script>`
		}, status: 200, lacks: []string{"<img src=x", "<script>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := newFakeInbox()
			if tt.inbox != nil {
				tt.inbox(in)
			}
			o := inboxOptions(in, &fakeCallbacks{})
			if tt.opts != nil {
				tt.opts(&o)
			}
			mods := []func(*http.Request){fromHere}
			if tt.mod != nil {
				mods = append(mods, tt.mod)
			}
			w := get(t, Handler(static(fixture()), o), "/inbox", mods...)
			require.Equal(t, tt.status, w.Code, w.Body.String())
			for _, s := range tt.contains {
				assert.Contains(t, w.Body.String(), s)
			}
			for _, s := range tt.lacks {
				assert.NotContains(t, w.Body.String(), s)
			}
		})
	}
}

func TestInboxOnlyWithOption(t *testing.T) {
	t.Parallel()
	h := Handler(static(fixture()), Options{})
	for _, p := range []string{"/inbox", "/inbox/voicemails/42/audio"} {
		assert.Equal(t, http.StatusNotFound, get(t, h, p, fromHere).Code, p)
	}
	assert.NotContains(t, get(t, h, "/").Body.String(), "inbox-link")
	with := get(t, Handler(static(fixture()), inboxOptions(newFakeInbox(), nil)), "/")
	assert.Contains(t, with.Body.String(), `<a href="inbox" id="inbox-link">`, "the board links to the inbox")
}

func TestByteRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header   string
		size     int64
		start, n int64
		status   int
	}{
		{"", 100, 0, 100, 200},
		{"bytes=0-1", 100, 0, 2, 206}, // Safari's probe
		{"bytes=0-", 100, 0, 100, 206},
		{"bytes=10-19", 100, 10, 10, 206},
		{"bytes=90-200", 100, 90, 10, 206},
		{"bytes=-10", 100, 90, 10, 206},
		{"bytes=-500", 100, 0, 100, 206},
		{"bytes=100-", 100, 0, 0, 416},
		{"bytes=-0", 100, 0, 0, 416},
		{"bytes=0-0", 0, 0, 0, 416},
		{"bytes=0-1,5-6", 100, 0, 100, 200}, // several ranges: the whole file
		{"bytes=5-2", 100, 0, 100, 200},     // malformed: ignored
		{"bytes=x-", 100, 0, 100, 200},
		{"items=0-1", 100, 0, 100, 200},
		{"bytes=12", 100, 0, 100, 200},
	}
	for _, tt := range tests {
		start, n, status := byteRange(tt.header, tt.size)
		assert.Equal(t, []int64{tt.start, tt.n, int64(tt.status)}, []int64{start, n, int64(status)}, "%q of %d", tt.header, tt.size)
	}
}

func TestInboxAudio(t *testing.T) {
	t.Parallel()
	wav := newFakeInbox().files[42]
	size := fmt.Sprint(len(wav))
	tests := []struct {
		name    string
		method  string
		rng     string
		inbox   func(*fakeInbox)
		status  int
		ctype   string
		body    []byte // nil: no body expected
		headers map[string]string
	}{
		{name: "whole file", status: 200, ctype: "audio/wav", body: wav,
			headers: map[string]string{"Content-Length": size, "Accept-Ranges": "bytes", "Cache-Control": "private, no-store",
				"Content-Disposition": `inline; filename="voicemail-42.wav"`, "X-Content-Type-Options": "nosniff"}},
		{name: "a phone's first probe", rng: "bytes=0-1", status: 206, ctype: "audio/wav", body: wav[:2],
			headers: map[string]string{"Content-Range": "bytes 0-1/" + size, "Content-Length": "2"}},
		{name: "seek", rng: "bytes=1000-", status: 206, ctype: "audio/wav", body: wav[1000:],
			headers: map[string]string{"Content-Range": fmt.Sprintf("bytes 1000-%d/%s", len(wav)-1, size)}},
		{name: "the end", rng: "bytes=-4", status: 206, ctype: "audio/wav", body: wav[len(wav)-4:]},
		{name: "past the end", rng: "bytes=99999999-", status: 416, headers: map[string]string{"Content-Range": "bytes */" + size}},
		{name: "HEAD", method: http.MethodHead, status: 200, ctype: "audio/wav", body: []byte{},
			headers: map[string]string{"Content-Length": size}},
		{name: "16 kHz wav is a wav", inbox: func(f *fakeInbox) { f.recordings[42].ContentType = "audio/wav16" },
			status: 200, ctype: "audio/wav", body: wav},
		{name: "not audio", inbox: func(f *fakeInbox) { f.recordings[42].ContentType = "text/html" },
			status: 200, ctype: "application/octet-stream", body: wav},
		{name: "length unknown: no ranges", rng: "bytes=0-1", inbox: func(f *fakeInbox) { f.recordings[42].Size = -1 },
			status: 200, ctype: "audio/wav", body: wav, headers: map[string]string{"Accept-Ranges": ""}},
		{name: "no such recording", inbox: func(f *fakeInbox) { delete(f.recordings, 42) }, status: 404},
		{name: "Asterisk unreachable", inbox: func(f *fakeInbox) {
			f.audioErr = errors.New("ari recordings.stored_file: GET http://asterisk:s3cret@pbx:8088: connection refused")
		}, status: 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := newFakeInbox()
			if tt.inbox != nil {
				tt.inbox(in)
			}
			h := Handler(static(fixture()), inboxOptions(in, nil))
			w := get(t, h, "/inbox/voicemails/42/audio", fromHere, func(r *http.Request) {
				if tt.method != "" {
					r.Method = tt.method
				}
				if tt.rng != "" {
					r.Header.Set("Range", tt.rng)
				}
			})
			require.Equal(t, tt.status, w.Code, w.Body.String())
			assert.NotContains(t, w.Body.String(), "s3cret", "nothing of Asterisk's address or credentials")
			if tt.ctype != "" {
				assert.Equal(t, tt.ctype, w.Header().Get("Content-Type"))
			}
			if tt.body != nil {
				assert.True(t, bytes.Equal(tt.body, w.Body.Bytes()), "body: %d bytes, want %d", w.Body.Len(), len(tt.body))
			}
			for k, v := range tt.headers {
				assert.Equal(t, v, w.Header().Get(k), k)
			}
			in.mu.Lock()
			assert.Equal(t, in.opened, in.closed, "every recording opened is closed")
			in.mu.Unlock()
		})
	}
}

func TestInboxAudioAccess(t *testing.T) {
	t.Parallel()
	const token = "board-token-0123456789"
	h := Handler(static(fixture()), Options{Token: token, RequireToken: true, Inbox: newFakeInbox()})
	assert.Equal(t, http.StatusUnauthorized, get(t, h, "/inbox/voicemails/42/audio").Code)
	assert.Equal(t, http.StatusOK, get(t, h, "/inbox/voicemails/42/audio", func(r *http.Request) {
		r.AddCookie(&http.Cookie{Name: CookieName, Value: cookieValue(token)})
	}).Code, "the board's cookie plays the recording")
	assert.Equal(t, http.StatusOK, get(t, h, "/inbox/voicemails/42/audio", func(r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+token)
	}).Code)
	assert.Equal(t, http.StatusNotFound, get(t, h, "/inbox/voicemails/abc/audio").Code)
	assert.Equal(t, http.StatusMethodNotAllowed, post(t, h, "/inbox/voicemails/42/audio", nil).Code)
	page := get(t, h, "/inbox?token="+token)
	assert.Equal(t, http.StatusSeeOther, page.Code, "?token= on the page: cookie, then the same URL without it")
	assert.Equal(t, "/inbox", page.Header().Get("Location"))
}

func TestInboxWrites(t *testing.T) {
	t.Parallel()
	const token = "board-token-0123456789"
	boardCookie := &http.Cookie{Name: CookieName, Value: cookieValue(token)}
	good := url.Values{"who": {"  Chị Lan  "}, "note": {"đã gọi lại, máy chạy rồi"}, "staff": {"KTV07"}}
	tests := []struct {
		name       string
		token      string // board token ("" = open board)
		target     string
		form       func(csrf string) url.Values
		mod        func(*http.Request)
		noSession  bool
		inbox      func(*fakeInbox)
		callbacks  bool
		cbErr      error
		status     int
		location   string
		writes     []string
		callbackTo []string
		logs       string // in the log when the write happened
	}{
		{name: "mark handled", target: "/inbox/voicemails/42/handled", status: 303,
			location: "../../../inbox?done=handled&vm=42#handled",
			writes:   []string{"handled 42 by Chị Lan: đã gọi lại, máy chạy rồi"}, logs: `msg="voicemail marked handled" component=board voicemail=42 who="Chị Lan"`},
		{name: "review a complaint", target: "/inbox/complaints/01JCALLCOMPLAINT1/reviewed", status: 303,
			location: "../../../inbox?done=reviewed#reviewed",
			writes:   []string{"reviewed 01JCALLCOMPLAINT1 by Chị Lan: đã gọi lại, máy chạy rồi"}, logs: `msg="complaint marked reviewed" component=board call=01JCALLCOMPLAINT1 who="Chị Lan"`},
		{name: "call back now", target: "/inbox/voicemails/42/callback", callbacks: true, status: 303,
			location:   "../../../inbox?done=callback&vm=42#vm-42",
			callbackTo: []string{"callback 42 via KTV07 by Chị Lan"}, logs: `msg="callback requested from the inbox" component=board voicemail=42 staff=KTV07 who="Chị Lan"`},
		{name: "call back without Callbacks", target: "/inbox/voicemails/42/callback", status: 404},
		{name: "call back without a person", target: "/inbox/voicemails/42/callback", callbacks: true, status: 400,
			form: func(c string) url.Values { return url.Values{"csrf": {c}, "who": {"Lan"}} }},
		{name: "callback refused", target: "/inbox/voicemails/42/callback", callbacks: true, cbErr: fmt.Errorf("x: %w", ErrAlreadyDone),
			status: 409, callbackTo: []string{"callback 42 via KTV07 by Chị Lan"}},
		{name: "no CSRF token", target: "/inbox/voicemails/42/handled", status: 403,
			form: func(string) url.Values { return url.Values{"who": {"Lan"}} }},
		{name: "a wrong CSRF token", target: "/inbox/voicemails/42/handled", status: 403,
			form: func(c string) url.Values { return url.Values{"who": {"Lan"}, "csrf": {strings.Repeat("0", len(c))}} }},
		{name: "a token without its cookie", target: "/inbox/voicemails/42/handled", noSession: true, status: 403},
		{name: "cross-site", target: "/inbox/voicemails/42/handled", status: 403,
			mod: func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") }},
		{name: "another origin", target: "/inbox/voicemails/42/handled", status: 403,
			mod: func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") }},
		{name: "open board, not from this machine", target: "/inbox/voicemails/42/handled", status: 403,
			mod: func(r *http.Request) { r.RemoteAddr = "192.0.2.7:40000" }},
		{name: "open board, through a proxy", target: "/inbox/voicemails/42/handled", status: 403,
			mod: func(r *http.Request) { r.Header.Set("X-Forwarded-For", "203.0.113.9") }},
		{name: "token board, cookie, from anywhere", token: token, target: "/inbox/voicemails/42/handled", status: 303,
			mod:      func(r *http.Request) { r.RemoteAddr = "192.0.2.7:40000"; r.AddCookie(boardCookie) },
			location: "../../../inbox?done=handled&vm=42#handled",
			writes:   []string{"handled 42 by Chị Lan: đã gọi lại, máy chạy rồi"}},
		{name: "token board, bearer", token: token, target: "/inbox/voicemails/42/handled", status: 303,
			mod:      func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) },
			location: "../../../inbox?done=handled&vm=42#handled",
			writes:   []string{"handled 42 by Chị Lan: đã gọi lại, máy chạy rồi"}},
		{name: "token board, no token", token: token, target: "/inbox/voicemails/42/handled", status: 401},
		{name: "token board, token in the URL", token: token, target: "/inbox/voicemails/42/handled?token=" + token, status: 401},
		{name: "nobody", target: "/inbox/voicemails/42/handled", status: 400,
			form: func(c string) url.Values { return url.Values{"csrf": {c}, "who": {"   "}} }},
		{name: "a name too long", target: "/inbox/voicemails/42/handled", status: 400,
			form: func(c string) url.Values { return url.Values{"csrf": {c}, "who": {strings.Repeat("Lan", 21)}} }},
		{name: "control characters", target: "/inbox/voicemails/42/handled", status: 400,
			form: func(c string) url.Values { return url.Values{"csrf": {c}, "who": {"Lan\x1b[31m"}} }},
		{name: "a note too long", target: "/inbox/voicemails/42/handled", status: 400,
			form: func(c string) url.Values {
				return url.Values{"csrf": {c}, "who": {"Lan"}, "note": {strings.Repeat("x", 1001)}}
			}},
		{name: "handled by someone else", target: "/inbox/voicemails/42/handled", status: 409,
			inbox: func(f *fakeInbox) { f.writeErr = fmt.Errorf("store: voicemail 42 (by QL01): %w", ErrAlreadyDone) }},
		{name: "unknown voicemail", target: "/inbox/voicemails/77/handled", status: 404},
		{name: "database down", target: "/inbox/voicemails/42/handled", status: 503,
			inbox: func(f *fakeInbox) { f.writeErr = errors.New("dial tcp 10.0.0.5:5432: connection refused") }},
		{name: "GET on a write", target: "/inbox/voicemails/42/handled", status: 405,
			mod: func(r *http.Request) { r.Method = http.MethodGet }},
		{name: "bad id", target: "/inbox/voicemails/-1/handled", status: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := newFakeInbox()
			if tt.inbox != nil {
				tt.inbox(in)
			}
			var logs bytes.Buffer
			o := inboxOptions(in, nil)
			cb := &fakeCallbacks{err: tt.cbErr}
			if tt.callbacks {
				o.Callbacks = cb
			}
			o.Token, o.RequireToken = tt.token, tt.token != ""
			o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			h := Handler(static(fixture()), o)

			var sessionMods []func(*http.Request)
			if tt.token != "" {
				sessionMods = append(sessionMods, func(r *http.Request) { r.AddCookie(boardCookie) })
			}
			cookies, csrf := session(t, h, sessionMods...)
			if tt.noSession {
				cookies = nil
			}
			form := url.Values{"csrf": {csrf}}
			for k, v := range good {
				form[k] = v
			}
			if tt.form != nil {
				form = tt.form(csrf)
			}
			mods := []func(*http.Request){withCookies(cookies)}
			if tt.mod != nil {
				mods = append(mods, tt.mod)
			}
			w := post(t, h, tt.target, form, mods...)
			require.Equal(t, tt.status, w.Code, w.Body.String())
			assert.Equal(t, tt.location, w.Header().Get("Location"))
			assert.Equal(t, tt.writes, in.log())
			cb.mu.Lock()
			assert.Equal(t, tt.callbackTo, cb.calls)
			cb.mu.Unlock()
			if tt.logs != "" {
				assert.Contains(t, logs.String(), tt.logs)
				assert.Contains(t, logs.String(), "remote=127.0.0.1:50123")
			}
			assert.NotContains(t, logs.String(), token, "the token is never logged")
			switch w.Code {
			case 400, 403, 409, 503: // a page that says what happened
				assert.Equal(t, "text/html; charset=utf-8", w.Header().Get("Content-Type"))
				assert.Contains(t, w.Body.String(), `href="../../../inbox"`, "a way back")
			}
			assert.NotContains(t, w.Body.String(), "10.0.0.5", "errors stay in the log")
			if w.Code == http.StatusSeeOther {
				var who string
				for _, c := range w.Result().Cookies() {
					if c.Name == whoCookieName {
						who, _ = url.QueryUnescape(c.Value)
					}
				}
				assert.Equal(t, "Chị Lan", who, "the name is remembered for the next form")
			}
		})
	}
}

// After a write the page shows it: the voicemail left the waiting list.
func TestInboxWriteThenPage(t *testing.T) {
	t.Parallel()
	in := newFakeInbox()
	h := Handler(static(fixture()), inboxOptions(in, nil))
	cookies, csrf := session(t, h)
	w := post(t, h, "/inbox/voicemails/42/handled", url.Values{"csrf": {csrf}, "who": {"Anh Tuấn"}, "note": {"ok"}}, withCookies(cookies))
	require.Equal(t, http.StatusSeeOther, w.Code)
	next := get(t, h, "/inbox?done=handled&vm=42", fromHere, withCookies(append(cookies, w.Result().Cookies()...)))
	doc := next.Body.String()
	assert.NotContains(t, doc, `id="vm-42"`)
	assert.Equal(t, "1", text(element(t, doc, "vm-waiting", "span")))
	assert.Contains(t, text(element(t, doc, "handled-42", "li")), "Anh Tuấn lúc 14:32 · ok")
	assert.Contains(t, doc, `name="who" required maxlength="60" autocomplete="name" value="Anh Tuấn"`)
}

func TestInboxTokenRequiredButMissing(t *testing.T) {
	t.Parallel()
	h := Handler(static(fixture()), Options{RequireToken: true, Inbox: newFakeInbox()})
	assert.Equal(t, http.StatusServiceUnavailable, get(t, h, "/inbox").Code)
	assert.Equal(t, http.StatusServiceUnavailable, post(t, h, "/inbox/voicemails/42/handled", url.Values{"who": {"x"}}).Code)
}
