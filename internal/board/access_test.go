package board

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testToken = "s3cret-board-token-0123"

func TestRequireTokenFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:9480", false},
		{"127.1.2.3:80", false},
		{"[::1]:9480", false},
		{"::1", false},
		{"localhost:9480", false},
		{"LocalHost.:9480", false},
		{"127.0.0.1", false},
		{"[::1%lo]:9480", false},
		{":9480", true},
		{"0.0.0.0:9480", true},
		{"[::]:9480", true},
		{"10.0.0.5:9480", true},
		{"192.168.1.10:80", true},
		{"board.example.vn:443", true},
		{"localhost.example.vn:80", true},
		{"", true},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, RequireTokenFor(tc.addr), tc.addr)
	}
}

func TestCheckAccess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr, token string
		want        error
	}{
		{"127.0.0.1:9480", "", nil},
		{"127.0.0.1:9480", testToken, nil},
		{"0.0.0.0:9480", testToken, nil},
		{"0.0.0.0:9480", "", ErrTokenRequired},
		{":9480", "", ErrTokenRequired},
		{"0.0.0.0:9480", "abc12", ErrTokenTooShort},
		{"127.0.0.1:9480", "abc12", ErrTokenTooShort},
	}
	for _, tc := range tests {
		err := CheckAccess(tc.addr, tc.token)
		if tc.want == nil {
			assert.NoError(t, err, tc.addr)
			continue
		}
		require.ErrorIs(t, err, tc.want, tc.addr)
		assert.Contains(t, err.Error(), "HOTLINE_BOARD_TOKEN")
		if tc.token != "" {
			assert.NotContains(t, err.Error(), tc.token, "never echo the token")
		}
	}
}

func bearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func withCookie(v string) func(*http.Request) {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: CookieName, Value: v}) }
}

func TestAccessRules(t *testing.T) {
	t.Parallel()
	protected := Options{Token: testToken, RequireToken: true}
	tests := []struct {
		name     string
		opts     Options
		target   string
		mod      []func(*http.Request)
		status   int
		location string
		cookie   bool // a sign-in cookie is set
		body     string
	}{
		{name: "open board on loopback", target: "/", status: 200, body: "Cuộc gọi đang diễn ra"},
		{name: "no token", opts: protected, target: "/", status: 401, body: "Cần mã truy cập"},
		{name: "no token, json", opts: protected, target: "/board.json", status: 401, body: `{"error":"unauthorized"}`},
		{name: "wrong query token", opts: protected, target: "/?token=nope", status: 401},
		{name: "token of another length", opts: protected, target: "/?token=" + testToken + "x", status: 401},
		{name: "empty query token", opts: protected, target: "/?token=", status: 401},
		{name: "query token redirects without it", opts: protected, target: "/?token=" + testToken, status: 303, location: "/", cookie: true},
		{name: "query token keeps other parameters", opts: protected, target: "/?a=1&token=" + testToken + "&b=2", status: 303, location: "/?a=1&b=2", cookie: true},
		{name: "query token on json serves it", opts: protected, target: "/board.json?token=" + testToken, status: 200, cookie: true, body: `"calls"`},
		{name: "query token with format=json", opts: protected, target: "/?format=json&token=" + testToken, status: 200, cookie: true, body: `"calls"`},
		{name: "bearer", opts: protected, target: "/", mod: []func(*http.Request){bearer(testToken)}, status: 200, body: "Cuộc gọi đang diễn ra"},
		{name: "wrong bearer", opts: protected, target: "/", mod: []func(*http.Request){bearer("nope")}, status: 401},
		{name: "basic auth is not accepted", opts: protected, target: "/", mod: []func(*http.Request){func(r *http.Request) { r.SetBasicAuth("x", testToken) }}, status: 401},
		{name: "cookie", opts: protected, target: "/", mod: []func(*http.Request){withCookie(cookieValue(testToken))}, status: 200},
		{name: "raw token as cookie is not accepted", opts: protected, target: "/", mod: []func(*http.Request){withCookie(testToken)}, status: 401},
		{name: "cookie of another token", opts: protected, target: "/", mod: []func(*http.Request){withCookie(cookieValue("another-token-0123456"))}, status: 401},
		{name: "token set on loopback is still required", opts: Options{Token: testToken}, target: "/", status: 401},
		{name: "required but not configured", opts: Options{RequireToken: true}, target: "/", status: 503, body: "board token not configured"},
		{name: "required but not configured, even with a query token", opts: Options{RequireToken: true}, target: "/?token=", status: 503, body: "board token not configured"},
		{name: "unknown path", opts: protected, target: "/admin", status: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := get(t, Handler(static(fixture()), tc.opts), tc.target, tc.mod...)
			require.Equal(t, tc.status, w.Code, w.Body.String())
			assert.Equal(t, tc.location, w.Header().Get("Location"))
			assert.Contains(t, w.Body.String(), tc.body)
			assert.NotContains(t, w.Body.String(), testToken, "never show the token")
			if tc.status == 401 {
				assert.Equal(t, `Bearer realm="hotline board"`, w.Header().Get("WWW-Authenticate"))
			}
			var set *http.Cookie
			for _, c := range w.Result().Cookies() {
				if c.Name == CookieName {
					set = c
				}
			}
			if !tc.cookie {
				assert.Nil(t, set, "no cookie expected")
				return
			}
			require.NotNil(t, set)
			assert.Equal(t, cookieValue(testToken), set.Value)
			assert.NotContains(t, set.Value, testToken)
			assert.True(t, set.HttpOnly)
			assert.Equal(t, http.SameSiteStrictMode, set.SameSite)
			assert.Equal(t, "/", set.Path)
			assert.Positive(t, set.MaxAge)
		})
	}
}

// TestAccessCookieFlow follows what a browser does: open the link with the
// token, follow the redirect with the cookie, refresh with the cookie only.
func TestAccessCookieFlow(t *testing.T) {
	t.Parallel()
	h := Handler(static(fixture()), Options{Token: testToken, RequireToken: true})

	first := get(t, h, "/?token="+testToken)
	require.Equal(t, http.StatusSeeOther, first.Code)
	cookies := first.Result().Cookies()
	require.Len(t, cookies, 1)
	jar := func(r *http.Request) { r.AddCookie(&http.Cookie{Name: cookies[0].Name, Value: cookies[0].Value}) }

	for i := range 2 { // the redirect, then a refresh
		w := get(t, h, first.Header().Get("Location"), jar)
		require.Equal(t, http.StatusOK, w.Code, "request %d", i)
		assert.Contains(t, w.Body.String(), "CF0123 — Quán Net Hoàng Long")
		assert.Empty(t, w.Result().Cookies(), "the cookie is set once")
	}
	w := get(t, h, "/board.json", jar)
	require.Equal(t, http.StatusOK, w.Code)

	// A new token signs the browser out.
	rotated := Handler(static(fixture()), Options{Token: testToken + "-rotated", RequireToken: true})
	assert.Equal(t, http.StatusUnauthorized, get(t, rotated, "/", jar).Code)
}

func TestAccessSecureCookie(t *testing.T) {
	t.Parallel()
	h := Handler(static(fixture()), Options{Token: testToken})
	plain := get(t, h, "/?token="+testToken)
	assert.False(t, plain.Result().Cookies()[0].Secure)
	proxied := get(t, h, "/?token="+testToken, func(r *http.Request) { r.Header.Set("X-Forwarded-Proto", "https") })
	assert.True(t, proxied.Result().Cookies()[0].Secure)
}

func TestWithoutToken(t *testing.T) {
	t.Parallel()
	tests := []struct{ uri, want string }{
		{"/?token=x", "/"},
		{"/board/?token=x&z=1", "/board/?z=1"},
		{"//evil.example/?token=x", "/"},
		{"/%2F%2Fevil?token=x", "/%2F%2Fevil"},
		{"/?token=a&token=b&format=html", "/?format=html"},
	}
	for _, tc := range tests {
		r, err := http.NewRequest(http.MethodGet, "http://h"+tc.uri, nil)
		require.NoError(t, err)
		r.RequestURI = tc.uri
		got := withoutToken(r)
		assert.Equal(t, tc.want, got, tc.uri)
		assert.False(t, strings.HasPrefix(got, "//"))
	}
}

func TestEqual(t *testing.T) {
	t.Parallel()
	assert.True(t, equal(testToken, testToken))
	assert.False(t, equal(testToken, testToken[:len(testToken)-1]))
	assert.False(t, equal("", testToken))
}
