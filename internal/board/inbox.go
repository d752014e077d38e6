package board

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// DefaultAudioTimeout bounds passing one recording on to a browser.
const DefaultAudioTimeout = 10 * time.Minute

// Limits of the inbox's form fields.
const (
	maxWho   = 60   // characters
	maxNote  = 1000 // characters
	maxForm  = 16 << 10
	inboxMax = 50 // waiting items listed per kind
)

//go:embed assets/inbox.html assets/inbox.css
var inboxAssets embed.FS

var (
	inboxTemplate = template.Must(template.ParseFS(inboxAssets, "assets/inbox.html"))
	inboxCSS      = css + "\n" + mustReadFS(inboxAssets, "assets/inbox.css")
	// inboxCSP allows the embedded style sheet, the recordings (same
	// origin) and forms posting here; still no script.
	inboxCSP = "default-src 'none'; style-src 'sha256-" + hashCSS(inboxCSS) + "'; media-src 'self'; " +
		"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

func mustReadFS(fs embed.FS, name string) string {
	b, err := fs.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// serveInbox serves everything below /inbox:
//
//	GET  /inbox                                 the page
//	GET  /inbox/voicemails/{id}/audio           the recording (HEAD too)
//	POST /inbox/voicemails/{id}/handled         mark handled (who, note)
//	POST /inbox/voicemails/{id}/callback        call back now (who, staff)
//	POST /inbox/complaints/{call id}/reviewed   mark reviewed (who, note)
func (h *handler) serveInbox(w http.ResponseWriter, r *http.Request) {
	setCommonHeaders(w)
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/inbox"), "/")
	// parts[0] is "" for "/inbox" and "/inbox/…".
	switch {
	case len(parts) == 1 && parts[0] == "":
		if h.allowMethods(w, r, http.MethodGet, http.MethodHead) && h.readAccess(w, r, true) {
			h.serveInboxPage(w, r)
		}
	case len(parts) == 4 && parts[1] == "voicemails" && parts[3] == "audio":
		id, ok := voicemailID(parts[2])
		if !ok {
			http.NotFound(w, r)
			return
		}
		if h.allowMethods(w, r, http.MethodGet, http.MethodHead) && h.readAccess(w, r, false) {
			h.serveAudio(w, r, id)
		}
	case len(parts) == 4 && parts[1] == "voicemails" && (parts[3] == "handled" || parts[3] == "callback"):
		id, ok := voicemailID(parts[2])
		if !ok {
			http.NotFound(w, r)
			return
		}
		if parts[3] == "callback" && h.opts.Callbacks == nil {
			http.NotFound(w, r)
			return
		}
		if f, ok := h.writeAccess(w, r); ok {
			if parts[3] == "handled" {
				h.markHandled(w, r, id, f)
			} else {
				h.callbackNow(w, r, id, f)
			}
		}
	case len(parts) == 4 && parts[1] == "complaints" && parts[3] == "reviewed" && parts[2] != "":
		if f, ok := h.writeAccess(w, r); ok {
			h.markReviewed(w, r, parts[2], f)
		}
	default:
		http.NotFound(w, r)
	}
}

func voicemailID(s string) (int64, bool) {
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

func (h *handler) allowMethods(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

// readAccess applies the board's access rule to a GET. The page, like the
// board, trades ?token= for the cookie and drops it from the address bar.
func (h *handler) readAccess(w http.ResponseWriter, r *http.Request, page bool) bool {
	switch h.access.check(r) {
	case notConfigd:
		h.log.Warn("board refused: a token is required but HOTLINE_BOARD_TOKEN is empty")
		http.Error(w, "board token not configured", http.StatusServiceUnavailable)
		return false
	case denied:
		h.log.Debug("inbox request without a valid token", "remote", r.RemoteAddr)
		h.unauthorized(w, false)
		return false
	case viaQuery:
		h.access.setCookie(w, r)
		h.log.Info("board signed in with ?token=", "remote", r.RemoteAddr)
		if page {
			http.Redirect(w, r, withoutToken(r), http.StatusSeeOther)
			return false
		}
	}
	return true
}

// form is a write's checked fields.
type form struct {
	who, note, staff string
}

// writeAccess checks a write: POST only; the board token (bearer or the
// cookie, never ?token= in a form's URL) when one is configured, and from
// this machine only when the board is open; a request from this site
// (Sec-Fetch-Site/Origin) with the form's CSRF token; a name (who) and a
// note of sane length.
func (h *handler) writeAccess(w http.ResponseWriter, r *http.Request) (form, bool) {
	if !h.allowMethods(w, r, http.MethodPost) {
		return form{}, false
	}
	switch h.access.check(r) {
	case notConfigd:
		h.log.Warn("board refused: a token is required but HOTLINE_BOARD_TOKEN is empty")
		http.Error(w, "board token not configured", http.StatusServiceUnavailable)
		return form{}, false
	case denied, viaQuery:
		h.log.Warn("inbox write refused: no valid board token", "remote", r.RemoteAddr, "path", r.URL.Path)
		h.unauthorized(w, false)
		return form{}, false
	}
	if h.opts.Token == "" && !fromLoopback(r) {
		h.log.Warn("inbox write refused: open board, request not from this machine", "remote", r.RemoteAddr, "path", r.URL.Path)
		h.message(w, http.StatusForbidden, "Thao tác này cần mã truy cập (HOTLINE_BOARD_TOKEN) khi không mở từ chính máy chủ.",
			"Writes need the board token unless made on this machine.")
		return form{}, false
	}
	if err := h.crossOrigin.Check(r); err != nil {
		h.log.Warn("inbox write refused: cross-site request", "remote", r.RemoteAddr, "path", r.URL.Path, "err", err)
		h.message(w, http.StatusForbidden, "Yêu cầu từ trang khác bị từ chối.", "Cross-site request refused.")
		return form{}, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		h.message(w, http.StatusBadRequest, "Biểu mẫu không hợp lệ.", "Invalid form.")
		return form{}, false
	}
	if !h.csrf.check(r) {
		h.log.Warn("inbox write refused: missing or wrong CSRF token", "remote", r.RemoteAddr, "path", r.URL.Path)
		h.message(w, http.StatusForbidden, "Biểu mẫu đã cũ hoặc không hợp lệ. Hãy tải lại hộp thư rồi thử lại.",
			"Stale or invalid form token: reload the inbox and try again.")
		return form{}, false
	}
	who, okWho := cleanText(r.PostFormValue("who"), maxWho)
	note, okNote := cleanText(r.PostFormValue("note"), maxNote)
	staff, okStaff := cleanText(r.PostFormValue("staff"), maxWho)
	switch {
	case who == "" || !okWho:
		h.message(w, http.StatusBadRequest, "Hãy ghi tên người xử lý (tối đa 60 ký tự).", "Say who you are (at most 60 characters).")
		return form{}, false
	case !okNote:
		h.message(w, http.StatusBadRequest, "Ghi chú dài quá (tối đa 1000 ký tự).", "Note too long (at most 1000 characters).")
		return form{}, false
	case !okStaff:
		h.message(w, http.StatusBadRequest, "Người được chọn không hợp lệ.", "Invalid person.")
		return form{}, false
	}
	return form{who: who, note: note, staff: staff}, true
}

// cleanText trims s and reports whether it is valid text of at most max
// characters: UTF-8, no control characters but newlines and tabs (in notes).
func cleanText(s string, max int) (string, bool) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return "", false
	}
	for _, c := range s {
		if unicode.IsControl(c) && c != '\n' && c != '\r' && c != '\t' {
			return "", false
		}
	}
	return s, true
}

func (h *handler) markHandled(w http.ResponseWriter, r *http.Request, id int64, f form) {
	ctx, cancel := context.WithTimeout(r.Context(), h.opts.Timeout)
	defer cancel()
	err := h.opts.Inbox.MarkVoicemailHandled(ctx, id, f.who, f.note)
	if h.writeFailed(w, err, "mark voicemail handled", "voicemail", id, f.who) {
		return
	}
	h.log.Info("voicemail marked handled", "voicemail", id, "who", f.who, "note_chars", utf8.RuneCountInString(f.note), "remote", r.RemoteAddr)
	h.done(w, r, "../../../inbox?done=handled&vm="+strconv.FormatInt(id, 10)+"#handled")
}

func (h *handler) callbackNow(w http.ResponseWriter, r *http.Request, id int64, f form) {
	if f.staff == "" {
		h.message(w, http.StatusBadRequest, "Hãy chọn người để gọi trước.", "Choose whom to ring first.")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.opts.Timeout)
	defer cancel()
	err := h.opts.Callbacks.CallbackNow(ctx, id, f.staff, f.who)
	if h.writeFailed(w, err, "call back now", "voicemail", id, f.who) {
		return
	}
	h.log.Info("callback requested from the inbox", "voicemail", id, "staff", f.staff, "who", f.who, "remote", r.RemoteAddr)
	h.done(w, r, "../../../inbox?done=callback&vm="+strconv.FormatInt(id, 10)+"#vm-"+strconv.FormatInt(id, 10))
}

func (h *handler) markReviewed(w http.ResponseWriter, r *http.Request, callID string, f form) {
	ctx, cancel := context.WithTimeout(r.Context(), h.opts.Timeout)
	defer cancel()
	err := h.opts.Inbox.MarkComplaintReviewed(ctx, callID, f.who, f.note)
	if h.writeFailed(w, err, "mark complaint reviewed", "call", callID, f.who) {
		return
	}
	h.log.Info("complaint marked reviewed", "call", callID, "who", f.who, "note_chars", utf8.RuneCountInString(f.note), "remote", r.RemoteAddr)
	h.done(w, r, "../../../inbox?done=reviewed#reviewed")
}

// writeFailed answers a failed write (and logs it); false when err is nil.
func (h *handler) writeFailed(w http.ResponseWriter, err error, what, key string, id any, who string) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, ErrNotFound):
		h.log.Info("inbox write on something that does not exist", "action", what, key, id, "who", who, "err", err)
		h.message(w, http.StatusNotFound, "Không tìm thấy mục này (có thể đã bị xoá).", "Not found.")
	case errors.Is(err, ErrAlreadyDone):
		h.log.Info("inbox write already done by someone else", "action", what, key, id, "who", who, "err", err)
		h.message(w, http.StatusConflict, "Người khác đã xử lý mục này rồi.", "Someone else did it first.")
	default:
		h.log.Error("inbox write failed", "action", what, key, id, "who", who, "err", err)
		h.message(w, http.StatusServiceUnavailable, "Chưa lưu được. Hãy thử lại sau ít phút.", "Could not save; try again shortly.")
	}
	return true
}

// done ends a successful write: the name is remembered and the browser
// goes back to the inbox (Post/Redirect/Get). location is relative to the
// form's URL, so a board mounted under a prefix keeps it.
func (h *handler) done(w http.ResponseWriter, r *http.Request, location string) {
	if f := r.PostFormValue("who"); f != "" {
		who, _ := cleanText(f, maxWho)
		rememberWho(w, r, who)
	}
	w.Header().Set("Location", location)
	w.WriteHeader(http.StatusSeeOther)
}

// message answers a short page that says what happened, with a way back.
func (h *handler) message(w http.ResponseWriter, status int, vi, en string) {
	var buf bytes.Buffer
	if err := inboxTemplate.ExecuteTemplate(&buf, "message", map[string]any{
		"CSS": template.CSS(inboxCSS), "VI": vi, "EN": en, "Status": status,
	}); err != nil {
		h.log.Error("inbox template", "err", err)
		http.Error(w, en, status)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", inboxCSP)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (h *handler) serveInboxPage(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), h.opts.Timeout)
	data, err := h.opts.Inbox.InboxData(ctx)
	cancel()
	now := h.opts.Now()
	p := buildInboxPage(data, now, h.opts)
	p.CSS = template.CSS(inboxCSS)
	p.CSRF = h.csrf.issue(w, r)
	p.Who = rememberedWho(r)
	p.Notice = notice(r)
	status := http.StatusOK
	if err != nil {
		h.log.Warn("inbox data failed", "err", err)
		p = inboxPage{CSS: p.CSS, Updated: p.Updated, Error: true}
		status = http.StatusServiceUnavailable
	}
	var buf bytes.Buffer
	if err := inboxTemplate.Execute(&buf, p); err != nil {
		h.log.Error("inbox template", "err", err)
		http.Error(w, "inbox rendering failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", inboxCSP)
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// notice is the line shown after a write, from a fixed vocabulary.
func notice(r *http.Request) string {
	q := r.URL.Query()
	id, _ := voicemailID(q.Get("vm"))
	vm := "#" + strconv.FormatInt(id, 10)
	switch q.Get("done") {
	case "handled":
		return "Đã đánh dấu lời nhắn " + vm + " là đã xử lý."
	case "callback":
		return "Đã yêu cầu gọi lại lời nhắn " + vm + ": tổng đài đổ chuông cho người được chọn trước, họ bấm 1 thì quán được gọi lại."
	case "reviewed":
		return "Đã đánh dấu khiếu nại là đã xem xét."
	}
	return ""
}
