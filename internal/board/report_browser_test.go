package board

import (
	"image"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/internal/board/boardtest"
)

// reportServer serves the fixture report (and board) behind a token.
func reportServer(t *testing.T) (*httptest.Server, *seen) {
	t.Helper()
	s := &seen{}
	srv := httptest.NewServer(s.wrap(reportHandler(&reportRecorder{rep: reportFixture()},
		Options{Token: testToken, RequireToken: true})))
	t.Cleanup(srv.Close)
	return srv, s
}

// TestBrowserReport opens the monthly report in headless Chromium from the
// link a supervisor is given (with ?token=) and checks what it shows.
func TestBrowserReport(t *testing.T) {
	chromium := boardtest.Chromium(t)
	srv, seen := reportServer(t)

	dom, err := boardtest.Browser{Path: chromium, Width: 1280, Height: 900}.DumpDOM(browserCtx(t),
		srv.URL+"/report?month=2026-11&region=MN&token="+testToken)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"/report?month=2026-11&region=MN&token=" + testToken + " cookie=no",
		"/report?month=2026-11&region=MN cookie=yes",
	}, seen.list(), "the browser follows the redirect with the cookie and without the token")
	assert.NotContains(t, dom, testToken)

	assert.Equal(t, "Báo cáo tháng 11/2026 Monthly report", text(element(t, dom, "report-h", "h1")))
	for id, want := range map[string]string{
		"person-AM01":  "Võ Thanh Hải AM01 Quản lý khu vực 4 0 3 1 0 0 — 0 0:00:00 — 0 0 0 0 —",
		"person-KTV01": "KTV Nguyễn Văn A KTV01 Kỹ thuật viên 31 24 4 1 1 1 7,5 s 24 2:03:04 4,25 12 2 0 0 —",
		"person-OP01":  "Tổng đài viên Mai OP01 Tổng đài viên 6 6 0 0 0 0 5,0 s 6 0:00:59 5,00 1 0 0 0 —",
		"report-total": "Tổng cộng 41 30 7 2 1 1 7,0 s 30 2:04:03 4,31 13 2 0 0 —",
	} {
		assert.Equal(t, want, text(element(t, dom, id, "tr")), id)
	}
	assert.Contains(t, text(element(t, dom, "report-notes", "ul")), "Gọi lại chưa được đếm (—)")
	assert.Contains(t, dom, `<a href="report?month=2026-12&amp;region=MN" id="next-month" rel="next">12/2026 ›</a>`)
}

// TestBrowserReportScreenshots renders the report on a phone (one card per
// person) and on a desktop (a table), and checks the style sheet applied
// under the page's Content-Security-Policy: the complaints cell is red. With
// -update-screenshot it also refreshes the README's pictures.
func TestBrowserReportScreenshots(t *testing.T) {
	chromium := boardtest.Chromium(t)
	srv, _ := reportServer(t)
	url := srv.URL + "/report?month=2026-11&region=MN&token=" + testToken

	for _, shot := range []struct {
		name          string
		width, height int
		scale         float64
	}{
		{"report-phone.png", 390, 1640, 1},
		{"report-desktop.png", 1280, 560, 1},
	} {
		t.Run(shot.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), shot.name)
			b := boardtest.Browser{Path: chromium, Width: shot.width, Height: shot.height, Scale: shot.scale}
			require.NoError(t, b.Screenshot(browserCtx(t), url, file))
			img, err := boardtest.DecodePNG(file)
			require.NoError(t, err)
			assert.Equal(t, image.Rect(0, 0, shot.width, shot.height), img.Bounds())
			assert.Greater(t, countColour(img, [3]uint8{0xfe, 0xe2, 0xe2}), 300, "the complaints cell is not red: is the CSS blocked?")
			assert.Greater(t, countColour(img, [3]uint8{0x11, 0x18, 0x27}), 300, "the current region's chip is not dark")
			if *updateScreenshot {
				out, err := filepath.Abs(filepath.Join("testdata", shot.name))
				require.NoError(t, err)
				require.NoError(t, b.Screenshot(browserCtx(t), url, out))
				st, err := os.Stat(out)
				require.NoError(t, err)
				t.Logf("wrote %s (%d bytes)", out, st.Size())
			}
		})
	}
}
