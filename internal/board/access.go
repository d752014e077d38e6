package board

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// MinTokenLength is the shortest board token CheckAccess accepts.
const MinTokenLength = 16

// CookieName is the cookie that keeps a browser signed in after ?token=.
const CookieName = "hotline_board"

// cookieMaxAge keeps a wall screen signed in for 30 days; rotating the token
// signs every browser out.
const cookieMaxAge = 30 * 24 * 3600

// Errors of CheckAccess.
var (
	// ErrTokenRequired: the server is bound to a non-loopback address and
	// no board token is configured.
	ErrTokenRequired = errors.New("board token not configured")
	// ErrTokenTooShort: the configured token is shorter than MinTokenLength.
	ErrTokenTooShort = errors.New("board token too short")
)

// RequireTokenFor reports whether a server listening on addr ("host:port",
// or a bare host) must protect the board with a token: true unless the host
// is loopback (127.0.0.0/8, ::1 or localhost). An empty host (":9480"),
// 0.0.0.0, :: and any other name all listen beyond this machine.
func RequireTokenFor(addr string) bool {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") {
		return false
	}
	if i := strings.IndexByte(host, '%'); i >= 0 { // zone, e.g. ::1%lo
		host = host[:i]
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// CheckAccess is the start-up check for the board's access rule: a server
// bound to addr beyond loopback needs a token (ErrTokenRequired), and a token,
// wherever configured, must be at least MinTokenLength bytes
// (ErrTokenTooShort). The error names the variable to set, never the token.
func CheckAccess(addr, token string) error {
	if token == "" {
		if RequireTokenFor(addr) {
			return fmt.Errorf("board: HTTP address %s is not loopback, set HOTLINE_BOARD_TOKEN: %w", addr, ErrTokenRequired)
		}
		return nil
	}
	if len(token) < MinTokenLength {
		return fmt.Errorf("board: HOTLINE_BOARD_TOKEN has %d characters, need at least %d: %w", len(token), MinTokenLength, ErrTokenTooShort)
	}
	return nil
}

// access decides who may see the board.
type access struct {
	token  string // "" = open board
	refuse bool   // a token is required but none is configured
	cookie string // hex HMAC of the token: what the cookie holds
}

func newAccess(token string, require bool) access {
	a := access{token: token, refuse: require && token == ""}
	if token != "" {
		a.cookie = cookieValue(token)
	}
	return a
}

// cookieValue derives the cookie from the token so the cookie jar never holds
// the token itself.
func cookieValue(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("hotline board cookie v1"))
	return hex.EncodeToString(m.Sum(nil))
}

// grant is the outcome of checking a request.
type grant int

const (
	denied     grant = iota
	allowed          // open board, bearer token or cookie
	viaQuery         // ?token= matched: set the cookie
	notConfigd       // token required but none configured
)

func (a access) check(r *http.Request) grant {
	if a.refuse {
		return notConfigd
	}
	if a.token == "" {
		return allowed
	}
	if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && equal(strings.TrimSpace(v), a.token) {
		return allowed
	}
	if q := r.URL.Query(); q.Has("token") && equal(q.Get("token"), a.token) {
		return viaQuery
	}
	if c, err := r.Cookie(CookieName); err == nil && equal(c.Value, a.cookie) {
		return allowed
	}
	return denied
}

// equal compares in constant time; hashing first keeps the time independent
// of the lengths too.
func equal(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// setCookie signs the browser in.
func (a access) setCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name:     CookieName,
		Value:    a.cookie,
		Path:     "/",
		MaxAge:   cookieMaxAge,
		HttpOnly: true,
		Secure:   r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"),
		SameSite: http.SameSiteStrictMode,
	})
}

// withoutToken is the URL the browser asked for (path and query, as sent,
// so a mount under a prefix is kept) minus the token. It is always a path on
// this host.
func withoutToken(r *http.Request) string {
	u, err := url.ParseRequestURI(r.RequestURI)
	if err != nil || r.RequestURI == "" {
		u = &url.URL{Path: r.URL.Path, RawQuery: r.URL.RawQuery}
	}
	q := u.Query()
	q.Del("token")
	out := &url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: q.Encode()}
	s := out.RequestURI()
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") {
		return "/"
	}
	return s
}
