package board

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Default option values.
const (
	DefaultRefresh    = 5 * time.Second
	DefaultTimeout    = 3 * time.Second
	DefaultWarnAfter  = 60 * time.Second
	DefaultVoicemails = 5
)

// Options configure Handler. The zero value serves an open board (fit for a
// loopback listener) with the defaults.
type Options struct {
	// Token, when set, is required on every request (see the package doc).
	Token string
	// RequireToken makes the token mandatory: with an empty Token the board
	// answers 503 "board token not configured". Set it from
	// RequireTokenFor(listen address).
	RequireToken bool
	// Refresh is the page's self-refresh period (DefaultRefresh when zero;
	// at least one second).
	Refresh time.Duration
	// Timeout bounds one Source.Snapshot call (DefaultTimeout when zero).
	Timeout time.Duration
	// WarnAfter marks a call not yet bridged after this long since it
	// started (DefaultWarnAfter when zero; negative disables).
	WarnAfter time.Duration
	// Voicemails is how many of the latest voicemails are listed
	// (DefaultVoicemails when zero).
	Voicemails int
	// FullNumbers shows phone numbers unmasked on the HTML page, with tel:
	// links on callback numbers. JSON always carries full numbers.
	FullNumbers bool
	// Logger receives source errors and sign-ins (discarded when nil).
	Logger *slog.Logger
	// Now is the clock for snapshots without Now (time.Now when nil).
	Now func() time.Time

	// Inbox, when set, serves the inbox at /inbox (see inbox.go): the
	// voicemails to play and mark handled, the complaints to review. nil:
	// no inbox (404).
	Inbox Inbox
	// Callbacks, when set with Inbox, offers "call back now" on each
	// voicemail; nil hides the button.
	Callbacks Callbacks
	// AudioTimeout bounds passing one recording on to a browser
	// (DefaultAudioTimeout when zero).
	AudioTimeout time.Duration
	// Report serves the monthly report at /report (404 when nil).
	Report ReportSource
}

func (o Options) withDefaults() Options {
	if o.Refresh == 0 {
		o.Refresh = DefaultRefresh
	}
	o.Refresh = max(o.Refresh, time.Second)
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.WarnAfter == 0 {
		o.WarnAfter = DefaultWarnAfter
	}
	if o.Voicemails <= 0 {
		o.Voicemails = DefaultVoicemails
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.AudioTimeout <= 0 {
		o.AudioTimeout = DefaultAudioTimeout
	}
	return o
}

//go:embed assets/board.html assets/board.css
var assets embed.FS

var (
	pageTemplate = template.Must(template.ParseFS(assets, "assets/board.html"))
	css          = mustRead("assets/board.css")
	// csp allows nothing but the embedded style sheet (by hash): no script,
	// no image, no frame, no form.
	csp = "default-src 'none'; style-src 'sha256-" + hashCSS(css) + "'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

func mustRead(name string) string {
	b, err := assets.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func hashCSS(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

type handler struct {
	src    Source
	opts   Options
	access access
	log    *slog.Logger
	// The inbox's writes: form tokens, and a check that the request comes
	// from a page of this site.
	csrf        csrf
	crossOrigin *http.CrossOriginProtection
}

// Handler serves the board: the page at "/" ("/?format=json" for JSON) and
// the JSON at "/board.json"; with Options.Inbox, the inbox at "/inbox" and
// below (GET, and POST for its forms); with Options.Report, the monthly
// report at "/report" (report.go); any other path is 404. Mount it on "/"
// or on the patterns "GET /{$}", "GET /board.json", "GET /report", "/inbox"
// and "/inbox/". The board's own pages allow only GET and HEAD.
func Handler(src Source, opts Options) http.Handler {
	opts = opts.withDefaults()
	return &handler{
		src:         src,
		opts:        opts,
		access:      newAccess(opts.Token, opts.RequireToken),
		log:         opts.Logger.With("component", "board"),
		csrf:        newCSRF(opts.Token),
		crossOrigin: http.NewCrossOriginProtection(),
	}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.opts.Inbox != nil && (r.URL.Path == "/inbox" || strings.HasPrefix(r.URL.Path, "/inbox/")) {
		h.serveInbox(w, r)
		return
	}
	var asJSON, report bool
	switch r.URL.Path {
	case "/", "":
		asJSON = r.URL.Query().Get("format") == "json"
	case "/board.json":
		asJSON = true
	case "/report":
		asJSON, report = r.URL.Query().Get("format") == "json", true
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	setCommonHeaders(w)

	switch h.access.check(r) {
	case notConfigd:
		h.log.Warn("board refused: a token is required but HOTLINE_BOARD_TOKEN is empty")
		http.Error(w, "board token not configured", http.StatusServiceUnavailable)
		return
	case denied:
		h.log.Debug("board request without a valid token", "remote", r.RemoteAddr)
		h.unauthorized(w, asJSON)
		return
	case viaQuery:
		h.access.setCookie(w, r)
		h.log.Info("board signed in with ?token=", "remote", r.RemoteAddr)
		if !asJSON {
			// Drop the token from the address bar, history and the
			// refresh URL; the cookie carries on.
			http.Redirect(w, r, withoutToken(r), http.StatusSeeOther)
			return
		}
	}

	if report {
		h.serveReport(w, r, asJSON)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.opts.Timeout)
	snap, err := h.src.Snapshot(ctx)
	cancel()
	if err != nil {
		h.log.Warn("board snapshot failed", "err", err)
	}
	now := snap.Now
	if now.IsZero() {
		now = h.opts.Now()
	}
	if asJSON {
		h.serveJSON(w, r, snap, now, err)
		return
	}
	h.servePage(w, r, snap, now, err)
}

func setCommonHeaders(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
}

func (h *handler) servePage(w http.ResponseWriter, r *http.Request, snap Snapshot, now time.Time, srcErr error) {
	p := buildPage(snap, now, h.opts)
	p.CSS = template.CSS(css)
	status := http.StatusOK
	if srcErr != nil {
		// Keep the page (and its refresh) alive, say the data is missing,
		// and never show the error itself: it may name hosts or users.
		p = page{CSS: p.CSS, Refresh: p.Refresh, Updated: p.Updated, Date: p.Date, Error: true}
		status = http.StatusServiceUnavailable
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, p); err != nil {
		h.log.Error("board template", "err", err)
		http.Error(w, "board rendering failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", csp)
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

func (h *handler) serveJSON(w http.ResponseWriter, r *http.Request, snap Snapshot, now time.Time, srcErr error) {
	var body any = buildJSON(snap, now, h.opts)
	status := http.StatusOK
	if srcErr != nil {
		body = map[string]string{"error": "board data unavailable"}
		status = http.StatusServiceUnavailable
	}
	b, err := json.MarshalIndent(body, "", "  ")
	if err != nil {
		h.log.Error("board json", "err", err)
		http.Error(w, "board rendering failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(append(b, '\n'))
	}
}

const unauthorizedPage = `<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Cần mã truy cập</title></head>
<body><h1>Cần mã truy cập</h1>
<p>Bảng theo dõi yêu cầu mã truy cập (HOTLINE_BOARD_TOKEN). Mở đường dẫn kèm <code>?token=…</code> một lần, hoặc gửi <code>Authorization: Bearer …</code>.</p>
<p lang="en">Unauthorized: the board needs its access token.</p>
</body></html>
`

func (h *handler) unauthorized(w http.ResponseWriter, asJSON bool) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="hotline board"`)
	if asJSON {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":"unauthorized"}`+"\n")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = io.WriteString(w, unauthorizedPage)
}
