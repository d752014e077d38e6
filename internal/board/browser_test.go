package board

import (
	"context"
	"flag"
	"image"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/internal/board/boardtest"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "rewrite testdata/board-phone*.png from the browser")

// seen records what the browser asked the board for.
type seen struct {
	mu   sync.Mutex
	reqs []string // "path?query cookie=yes|no"
}

func (s *seen) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := r.Cookie(CookieName)
		s.mu.Lock()
		s.reqs = append(s.reqs, r.URL.RequestURI()+map[bool]string{true: " cookie=yes", false: " cookie=no"}[err == nil])
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (s *seen) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.reqs {
		if !strings.HasPrefix(r, "/favicon.ico") {
			out = append(out, r)
		}
	}
	return out
}

// boardServer serves the fixture board behind a token on loopback.
func boardServer(t *testing.T, opts Options) (*httptest.Server, *seen) {
	t.Helper()
	s := &seen{}
	srv := httptest.NewServer(s.wrap(Handler(static(fixture()), opts)))
	t.Cleanup(srv.Close)
	return srv, s
}

func browserCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestBrowserBoard opens the board in headless Chromium the way a
// supervisor does — the link with ?token= — and checks what the browser
// shows after the redirect that trades the token for a cookie.
func TestBrowserBoard(t *testing.T) {
	chromium := boardtest.Chromium(t)
	srv, seen := boardServer(t, Options{Token: testToken, RequireToken: true})

	dom, err := boardtest.Browser{Path: chromium}.DumpDOM(browserCtx(t), srv.URL+"/?token="+testToken)
	require.NoError(t, err)

	assert.Equal(t, []string{"/?token=" + testToken + " cookie=no", "/ cookie=yes"}, seen.list(),
		"the browser follows the redirect with the cookie and without the token")
	assert.NotContains(t, dom, testToken)

	calls := []struct{ id, class, want string }{
		{"call-c-bridged", "call bridged", "Đang nói chuyện Talking 01:12 CF0123 — Quán Net Hoàng Long Kiên Giang · Miền Nam " +
			"Đang nói chuyện với Nguyễn Văn Bình (Kỹ thuật viên) 0987•••321 Số gọi đến 0912•••678 · Tổng thời gian 03:45"},
		{"call-c-late", "call ringing late", "Đang đổ chuông Ringing 00:05 CF0789 — Phòng máy Sao Mai Đà Nẵng · Miền Trung " +
			"Đang gọi cho Lê Quốc Hùng (Quản lý vùng) 0911•••333 Số gọi đến 0978•••456 · Tổng thời gian 01:35 · Chờ lâu"},
		{"call-c-ringing", "call ringing", "Đang đổ chuông Ringing 00:15 CF0456 — Game Center Ánh Dương Hà Nội · Miền Bắc " +
			"Đang gọi cho Trần Thị Mai (Quản lý khu vực) 0903•••222 Số gọi đến 0243•••888 · Tổng thời gian 00:40"},
		{"call-c-ivr", "call ivr", "Tổng đài tự động IVR 00:08 Chưa xác định quán Chưa rõ tỉnh Số gọi đến 0281•••567 · Tổng thời gian 00:08"},
	}
	for _, c := range calls {
		art := element(t, dom, c.id, "article")
		assert.Contains(t, art, `class="`+c.class+`"`, c.id)
		assert.Equal(t, c.want, text(art), c.id)
	}
	assert.Equal(t, "Cuộc gọi đang diễn ra 4 Calls in progress", text(element(t, dom, "calls-h", "h2")))
	assert.Equal(t, "Đang nghe máy 1 On a call now Nguyễn Văn Bình (Kỹ thuật viên) · với CF0123 — Quán Net Hoàng Long · 01:12 0987•••321",
		text(element(t, dom, "oncall", "section")))
	assert.Equal(t, "Tổng cộng 81% Gọi đến 36 Đã nghe máy 29 Bỏ cuộc 3 Để lại lời nhắn 1 Không ai nghe 1 Lỗi 1 Gián đoạn 1",
		text(element(t, dom, "region-all", "dl")))
	assert.Equal(t, "Miền Nam 85% Gọi đến 20 Đã nghe máy 17 Bỏ cuộc 2 Để lại lời nhắn 0 Không ai nghe 0 Lỗi 1",
		text(element(t, dom, "region-south", "dl")))
	assert.Equal(t, "Lời nhắn chờ gọi lại 3 Voicemails waiting Lâu nhất: 2 giờ 5 phút trước "+
		"CF0789 — Phòng máy Sao Mai · 0978•••456 · 14:20 (12 phút trước) "+
		"Chưa xác định quán · 0912•••111 · 24/11 23:10 (15 giờ 22 phút trước)",
		text(element(t, dom, "voicemails", "section")))
	assert.Contains(t, dom, `<meta http-equiv="refresh" content="5">`)
	assert.Contains(t, dom, "<title>(4) Bảng theo dõi tổng đài</title>")
}

// TestBrowserFullNumbersAndTelLinks checks the unmasked variant and that the
// browser reads the escaped tel: link as a plain phone link.
func TestBrowserFullNumbersAndTelLinks(t *testing.T) {
	chromium := boardtest.Chromium(t)
	srv, _ := boardServer(t, Options{FullNumbers: true})
	dom, err := boardtest.Browser{Path: chromium}.DumpDOM(browserCtx(t), srv.URL+"/")
	require.NoError(t, err)
	assert.Contains(t, dom, `<a class="number" href="tel:+84912000111">0912000111</a>`, "the browser decodes the escaped href")
	assert.Contains(t, text(element(t, dom, "call-c-bridged", "article")), "Số gọi đến 0912345678")
}

func TestBrowserUnauthorized(t *testing.T) {
	chromium := boardtest.Chromium(t)
	srv, seen := boardServer(t, Options{Token: testToken, RequireToken: true})
	dom, err := boardtest.Browser{Path: chromium}.DumpDOM(browserCtx(t), srv.URL+"/?token=wrong-token")
	require.NoError(t, err)
	assert.Contains(t, text(dom), "Cần mã truy cập")
	assert.NotContains(t, dom, "Quán Net Hoàng Long")
	assert.Equal(t, []string{"/?token=wrong-token cookie=no"}, seen.list())
}

// TestBrowserPhoneScreenshot renders the board on a phone-sized screen and
// checks the style sheet took effect under the page's Content-Security-Policy:
// the state colours of the call cards are on screen. With
// -update-screenshot it also refreshes the README's pictures.
func TestBrowserPhoneScreenshot(t *testing.T) {
	chromium := boardtest.Chromium(t)
	srv, _ := boardServer(t, Options{Token: testToken})
	url := srv.URL + "/?token=" + testToken

	file := filepath.Join(t.TempDir(), "phone.png")
	require.NoError(t, boardtest.Browser{Path: chromium, Width: 390, Height: 844}.Screenshot(browserCtx(t), url, file))
	img, err := boardtest.DecodePNG(file)
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 390, 844), img.Bounds())
	for name, c := range map[string][3]uint8{
		"bridged green border": {0x16, 0xa3, 0x4a},
		"ringing amber border": {0xd9, 0x77, 0x06},
		"late red border":      {0xb9, 0x1c, 0x1c},
		"ringing badge":        {0xfd, 0xe6, 0x8a},
	} {
		assert.Greater(t, countColour(img, c), 300, "%s not on screen: is the CSS blocked?", name)
	}

	if *updateScreenshot {
		for _, shot := range []struct {
			name   string
			height int
			scale  float64
		}{{"board-phone.png", 844, 2}, {"board-phone-full.png", 2450, 1}} {
			out, err := filepath.Abs(filepath.Join("testdata", shot.name))
			require.NoError(t, err)
			require.NoError(t, boardtest.Browser{Path: chromium, Width: 390, Height: shot.height, Scale: shot.scale}.Screenshot(browserCtx(t), url, out))
			st, err := os.Stat(out)
			require.NoError(t, err)
			t.Logf("wrote %s (%d bytes)", out, st.Size())
		}
	}
}

// countColour counts the pixels within a small distance of c.
func countColour(img image.Image, c [3]uint8) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r>>8, c[0]) && near(g>>8, c[1]) && near(bl>>8, c[2]) {
				n++
			}
		}
	}
	return n
}

func near(v uint32, want uint8) bool {
	d := int(v) - int(want)
	return d >= -6 && d <= 6
}
