package board

import (
	"encoding/json"
	"image"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/internal/board/boardtest"
)

// callTransferring: the KTV who took the call passes it to Sóc Trăng; the
// KTV of Sóc Trăng is rung.
var callTransferring = Call{
	ID: "c-xfer", State: StateTransferring, CafeCode: "CF0123", CafeName: "Quán Net Hoàng Long",
	Province: "Kiên Giang", Region: "south", Caller: "+84912345678",
	Started: ago(4 * time.Minute), StateSince: ago(9 * time.Second),
	Target: &Person{Staff: "KTV12", Name: "Lý Thị Thu", Role: RoleTechnician, Number: "0944555666", Since: ago(9 * time.Second)},
	Transfer: &Transfer{To: "Sóc Trăng",
		From: Person{Staff: "KTV07", Name: "Nguyễn Văn Bình", Role: RoleTechnician, Number: "0987654321", Since: ago(3 * time.Minute)}},
}

func TestPageTransferring(t *testing.T) {
	t.Parallel()
	gone := callTransferring
	x := *gone.Transfer
	x.FromGone, x.To = true, "operators"
	gone.Transfer = &x
	for _, tc := range []struct {
		name string
		call Call
		want string
	}{
		{"attended: the person is on the line", callTransferring,
			"Đang chuyển máy Transferring 00:09 CF0123 — Quán Net Hoàng Long Kiên Giang · Miền Nam " +
				"Đang gọi cho Lý Thị Thu (Kỹ thuật viên) 0944•••666 " +
				"Chuyển từ Nguyễn Văn Bình (Kỹ thuật viên) → Sóc Trăng " +
				"Số gọi đến 0912•••678 · Tổng thời gian 04:00"},
		{"blind to the operators: the person hung up", gone,
			"Đang chuyển máy Transferring 00:09 CF0123 — Quán Net Hoàng Long Kiên Giang · Miền Nam " +
				"Đang gọi cho Lý Thị Thu (Kỹ thuật viên) 0944•••666 " +
				"Chuyển từ Nguyễn Văn Bình (Kỹ thuật viên) đã gác máy → Tổng đài viên " +
				"Số gọi đến 0912•••678 · Tổng thời gian 04:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := fixture()
			s.Calls = []Call{tc.call}
			// Four minutes without being bridged would be "waiting long": a
			// call being transferred was answered.
			w := get(t, Handler(static(s), Options{WarnAfter: time.Minute}), "/")
			require.Equal(t, 200, w.Code)
			art := element(t, w.Body.String(), "call-c-xfer", "article")
			assert.Contains(t, art, `class="call transferring"`)
			assert.Contains(t, art, `data-state="transferring"`)
			assert.Equal(t, tc.want, text(art))
		})
	}
}

func TestJSONTransferring(t *testing.T) {
	t.Parallel()
	s := fixture()
	s.Calls = []Call{callTransferring}
	w := get(t, Handler(static(s), Options{}), "/board.json")
	require.Equal(t, 200, w.Code)
	var b struct {
		Calls []struct {
			State    string         `json:"state"`
			Target   map[string]any `json:"target"`
			Transfer *struct {
				From     map[string]any `json:"from"`
				FromGone bool           `json:"from_gone"`
				To       string         `json:"to"`
			} `json:"transfer"`
		} `json:"calls"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &b))
	require.Len(t, b.Calls, 1)
	c := b.Calls[0]
	assert.Equal(t, "transferring", c.State)
	assert.Equal(t, "KTV12", c.Target["staff"])
	require.NotNil(t, c.Transfer)
	assert.Equal(t, "KTV07", c.Transfer.From["staff"])
	assert.Equal(t, "0987654321", c.Transfer.From["number"])
	assert.False(t, c.Transfer.FromGone)
	assert.Equal(t, "Sóc Trăng", c.Transfer.To)
}

// TestBrowserTransferring renders a call being transferred in headless
// Chromium: the card has the transfer's colour under the page's
// Content-Security-Policy.
func TestBrowserTransferring(t *testing.T) {
	chromium := boardtest.Chromium(t)
	s := fixture()
	s.Calls = []Call{callTransferring}
	srv := httptest.NewServer(Handler(static(s), Options{}))
	t.Cleanup(srv.Close)
	file := filepath.Join(t.TempDir(), "phone.png")
	require.NoError(t, boardtest.Browser{Path: chromium, Width: 390, Height: 844}.Screenshot(browserCtx(t), srv.URL+"/", file))
	img, err := boardtest.DecodePNG(file)
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 390, 844), img.Bounds())
	for name, c := range map[string][3]uint8{
		"transferring violet border": {0x7c, 0x3a, 0xed},
		"transferring badge":         {0xed, 0xe9, 0xfe},
	} {
		assert.Greater(t, countColour(img, c), 300, "%s not on screen: is the CSS blocked?", name)
	}
	dom, err := boardtest.Browser{Path: chromium}.DumpDOM(browserCtx(t), srv.URL+"/")
	require.NoError(t, err)
	assert.Contains(t, text(element(t, dom, "call-c-xfer", "article")), "Chuyển từ Nguyễn Văn Bình (Kỹ thuật viên) → Sóc Trăng")
}
