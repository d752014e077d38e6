package board

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Cookies of the inbox's forms.
const (
	// csrfCookieName holds a random id; each form carries an HMAC of it
	// (double submit, signed), so a page on another site cannot post.
	csrfCookieName = "hotline_board_csrf"
	// whoCookieName remembers the name a supervisor typed, to fill the
	// next form in.
	whoCookieName = "hotline_board_who"
	whoMaxAge     = 365 * 24 * 3600
)

// csrf signs and checks the inbox forms' tokens.
type csrf struct {
	key []byte
}

// newCSRF keys the tokens with the board token when there is one (so every
// instance behind a load balancer accepts the others' forms), else with a
// random key (an open board is on loopback: one instance; a restart only
// asks for a reload).
func newCSRF(token string) csrf {
	if token != "" {
		m := hmac.New(sha256.New, []byte(token))
		m.Write([]byte("hotline board csrf v1"))
		return csrf{key: m.Sum(nil)}
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key) // never fails (crypto/rand)
	return csrf{key: key}
}

func (c csrf) sign(id string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte("form:" + id))
	return hex.EncodeToString(m.Sum(nil))
}

// issue returns the token for a page's forms, setting the browser's id
// cookie when it has none (or a malformed one).
func (c csrf) issue(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(csrfCookieName); err == nil && validID(ck.Value) {
		return c.sign(ck.Value)
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{
		Name: csrfCookieName, Value: id, Path: "/", HttpOnly: true,
		Secure: isHTTPS(r), SameSite: http.SameSiteStrictMode,
	})
	return c.sign(id)
}

// check reports whether the posted form carries the token of the
// browser's id cookie.
func (c csrf) check(r *http.Request) bool {
	ck, err := r.Cookie(csrfCookieName)
	if err != nil || !validID(ck.Value) {
		return false
	}
	return equal(r.PostFormValue("csrf"), c.sign(ck.Value))
}

func validID(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func isHTTPS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// rememberWho keeps the name a supervisor typed for the next form.
func rememberWho(w http.ResponseWriter, r *http.Request, who string) {
	http.SetCookie(w, &http.Cookie{
		Name: whoCookieName, Value: url.QueryEscape(who), Path: "/", MaxAge: whoMaxAge,
		HttpOnly: true, Secure: isHTTPS(r), SameSite: http.SameSiteStrictMode,
	})
}

// rememberedWho is the name from the cookie, "" if none.
func rememberedWho(r *http.Request) string {
	ck, err := r.Cookie(whoCookieName)
	if err != nil {
		return ""
	}
	who, err := url.QueryUnescape(ck.Value)
	if err != nil {
		return ""
	}
	who, _ = cleanText(who, maxWho)
	return who
}

// fromLoopback reports whether r comes straight from this machine: a
// loopback peer and no proxy header (a reverse proxy on the same host would
// otherwise make every visitor look local).
func fromLoopback(r *http.Request) bool {
	if r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("Forwarded") != "" || r.Header.Get("X-Real-Ip") != "" {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
