package board

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPageCallStates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		call  Call
		class string // class attribute of the article
		want  string // visible text of the article
	}{
		{
			name:  "bridged",
			call:  callBridged,
			class: "call bridged",
			want: "Đang nói chuyện Talking 01:12 CF0123 — Quán Net Hoàng Long Kiên Giang · Miền Nam " +
				"Đang nói chuyện với Nguyễn Văn Bình (Kỹ thuật viên) 0987•••321 " +
				"Số gọi đến 0912•••678 · Tổng thời gian 03:45",
		},
		{
			name:  "ringing",
			call:  callRinging,
			class: "call ringing",
			want: "Đang đổ chuông Ringing 00:15 CF0456 — Game Center Ánh Dương Hà Nội · Miền Bắc " +
				"Đang gọi cho Trần Thị Mai (Quản lý khu vực) 0903•••222 " +
				"Số gọi đến 0243•••888 · Tổng thời gian 00:40",
		},
		{
			name:  "ivr, café not identified yet",
			call:  callIVR,
			class: "call ivr",
			want:  "Tổng đài tự động IVR 00:08 Chưa xác định quán Chưa rõ tỉnh Số gọi đến 0281•••567 · Tổng thời gian 00:08",
		},
		{
			name:  "ringing for longer than WarnAfter",
			call:  callLate,
			class: "call ringing late",
			want: "Đang đổ chuông Ringing 00:05 CF0789 — Phòng máy Sao Mai Đà Nẵng · Miền Trung " +
				"Đang gọi cho Lê Quốc Hùng (Quản lý vùng) 0911•••333 " +
				"Số gọi đến 0978•••456 · Tổng thời gian 01:35 · Chờ lâu",
		},
		{
			name:  "bridged for an hour is not late",
			call:  Call{ID: "long", State: StateBridged, CafeCode: "CF1", Started: ago(time.Hour + 2*time.Minute + 3*time.Second), StateSince: ago(61 * time.Minute)},
			class: "call bridged",
			want:  "Đang nói chuyện Talking 1:01:00 CF1 Chưa rõ tỉnh Số gọi đến Không rõ số · Tổng thời gian 1:02:03",
		},
		{
			name:  "unknown state and role shown as they are, no StateSince",
			call:  Call{ID: "odd", State: "parked", CafeName: "Net 24h", Province: "Cần Thơ", Caller: "1234", Started: ago(9 * time.Second), Target: &Person{Name: "Ops", Role: "night_shift"}},
			class: "call other",
			want:  "parked 00:09 Net 24h Cần Thơ Người nhận Ops (night_shift) Số gọi đến 1234 · Tổng thời gian 00:09",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := fixture()
			s.Calls = []Call{tc.call}
			w := get(t, Handler(static(s), Options{}), "/")
			require.Equal(t, 200, w.Code)
			art := element(t, w.Body.String(), "call-"+tc.call.ID, "article")
			assert.Contains(t, art, `class="`+tc.class+`"`)
			assert.Contains(t, art, `data-state="`+tc.call.State+`"`)
			assert.Equal(t, tc.want, text(art))
		})
	}
}

func TestPageCallsOldestFirst(t *testing.T) {
	t.Parallel()
	w := get(t, Handler(static(fixture()), Options{}), "/")
	body := w.Body.String()
	var order []int
	for _, id := range []string{"c-bridged", "c-late", "c-ringing", "c-ivr"} {
		order = append(order, strings.Index(body, `id="call-`+id+`"`))
	}
	for i := 1; i < len(order); i++ {
		assert.Less(t, order[i-1], order[i], "calls must be listed by start time, oldest first")
	}
	assert.Contains(t, text(element(t, body, "calls-h", "h2")), "Cuộc gọi đang diễn ra 4")
	assert.Contains(t, body, "<title>(4) Bảng theo dõi tổng đài</title>")
}

func TestPageEmpty(t *testing.T) {
	t.Parallel()
	w := get(t, Handler(static(Snapshot{}), Options{Now: func() time.Time { return testNow }}), "/")
	require.Equal(t, 200, w.Code)
	body := w.Body.String()
	page := text(body)
	for _, want := range []string{
		"Cập nhật lúc 14:32:05 · tự làm mới mỗi 5 giây",
		"Cuộc gọi đang diễn ra 0 Calls in progress Không có cuộc gọi nào.",
		"Đang nghe máy 0 On a call now Không có ai đang trong cuộc gọi.",
		"Hôm nay 25/11/2025 Today Chưa có số liệu hôm nay.",
		"Lời nhắn chờ gọi lại 0 Voicemails waiting Không có lời nhắn nào đang chờ.",
	} {
		assert.Contains(t, page, want)
	}
	assert.NotContains(t, body, "<article")
	assert.NotContains(t, body, "Lâu nhất")
	assert.Contains(t, body, "<title>Bảng theo dõi tổng đài</title>")
}

func TestPageOnCall(t *testing.T) {
	t.Parallel()
	s := fixture()
	s.OnCall = append(s.OnCall, Person{Staff: "OP1", Name: "Phạm Thu", Role: RoleOperator, Since: ago(10 * time.Minute)})
	w := get(t, Handler(static(s), Options{}), "/")
	sec := element(t, w.Body.String(), "oncall", "section")
	assert.Equal(t, "Đang nghe máy 2 On a call now "+
		"Phạm Thu (Tổng đài viên) · 10:00 "+
		"Nguyễn Văn Bình (Kỹ thuật viên) · với CF0123 — Quán Net Hoàng Long · 01:12 0987•••321", text(sec))
}

func TestPageTotals(t *testing.T) {
	t.Parallel()
	w := get(t, Handler(static(fixture()), Options{}), "/")
	body := w.Body.String()
	tests := []struct{ id, want string }{
		{"region-all", "Tổng cộng 81% Gọi đến 36 Đã nghe máy 29 Bỏ cuộc 3 Để lại lời nhắn 1 Không ai nghe 1 Lỗi 1 Gián đoạn 1"},
		{"region-north", "Miền Bắc 75% Gọi đến 12 Đã nghe máy 9 Bỏ cuộc 1 Để lại lời nhắn 1 Không ai nghe 1 Lỗi 0"},
		{"region-central", "Miền Trung 75% Gọi đến 4 Đã nghe máy 3 Bỏ cuộc 0 Để lại lời nhắn 0 Không ai nghe 0 Lỗi 0 Gián đoạn 1"},
		{"region-south", "Miền Nam 85% Gọi đến 20 Đã nghe máy 17 Bỏ cuộc 2 Để lại lời nhắn 0 Không ai nghe 0 Lỗi 1"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, text(element(t, body, tc.id, "dl")), tc.id)
	}
	assert.Contains(t, text(element(t, body, "today-h", "h2")), "Hôm nay 25/11/2025")
	// Regions keep the source's order.
	assert.Less(t, strings.Index(body, "region-north"), strings.Index(body, "region-central"))
	assert.Less(t, strings.Index(body, "region-central"), strings.Index(body, "region-south"))
}

func TestPageTotalsNothingEnded(t *testing.T) {
	t.Parallel()
	s := Snapshot{Now: testNow, Today: []RegionTotals{{Region: "north", Name: "Miền Bắc", Offered: 2}, {Name: ""}}}
	body := get(t, Handler(static(s), Options{}), "/").Body.String()
	assert.Equal(t, "Miền Bắc — Gọi đến 2 Đã nghe máy 0 Bỏ cuộc 0 Để lại lời nhắn 0 Không ai nghe 0 Lỗi 0",
		text(element(t, body, "region-north", "dl")))
	assert.Contains(t, text(body), "Chưa rõ vùng —", "a region without code or name is still shown")
}

func TestPageVoicemails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts Options
		snap func(*Snapshot)
		want string
	}{
		{
			name: "masked",
			want: "Lời nhắn chờ gọi lại 3 Voicemails waiting Lâu nhất: 2 giờ 5 phút trước " +
				"CF0789 — Phòng máy Sao Mai · 0978•••456 · 14:20 (12 phút trước) " +
				"Chưa xác định quán · 0912•••111 · 24/11 23:10 (15 giờ 22 phút trước)",
		},
		{
			name: "full numbers",
			opts: Options{FullNumbers: true},
			want: "Lời nhắn chờ gọi lại 3 Voicemails waiting Lâu nhất: 2 giờ 5 phút trước " +
				"CF0789 — Phòng máy Sao Mai · 0978123456 · 14:20 (12 phút trước) " +
				"Chưa xác định quán · 0912000111 · 24/11 23:10 (15 giờ 22 phút trước)",
		},
		{
			name: "limited to Options.Voicemails",
			opts: Options{Voicemails: 1},
			want: "Lời nhắn chờ gọi lại 3 Voicemails waiting Lâu nhất: 2 giờ 5 phút trước " +
				"CF0789 — Phòng máy Sao Mai · 0978•••456 · 14:20 (12 phút trước)",
		},
		{
			name: "count without a list",
			snap: func(s *Snapshot) { s.Voicemails = nil; s.OldestVoicemail = ago(3 * 24 * time.Hour) },
			want: "Lời nhắn chờ gọi lại 3 Voicemails waiting Lâu nhất: 3 ngày trước",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := fixture()
			if tc.snap != nil {
				tc.snap(&s)
			}
			body := get(t, Handler(static(s), tc.opts), "/").Body.String()
			assert.Equal(t, tc.want, text(element(t, body, "voicemails", "section")))
		})
	}
}

func TestPageNumbers(t *testing.T) {
	t.Parallel()
	full := []string{"0912345678", "+84912345678", "0987654321", "0978123456", "02439998888", "0912000111"}

	masked := get(t, Handler(static(fixture()), Options{}), "/").Body.String()
	for _, n := range full {
		assert.NotContains(t, masked, n, "the page must mask numbers by default")
	}
	assert.NotContains(t, masked, `href="tel:`)
	assert.Contains(t, masked, "Số điện thoại được che bớt")

	shown := get(t, Handler(static(fixture()), Options{FullNumbers: true}), "/").Body.String()
	assert.Contains(t, shown, "0912345678")
	assert.Contains(t, shown, `<a class="number" href="tel:0978123456">0978123456</a>`)
	assert.Contains(t, shown, `<a class="number" href="tel:&#43;84912000111">0912000111</a>`)
	assert.NotContains(t, shown, "Số điện thoại được che bớt")
}

func TestPageEscapes(t *testing.T) {
	t.Parallel()
	evil := `<script>alert("x")</script>`
	s := Snapshot{
		Now: testNow,
		Calls: []Call{{ID: `x" onclick="alert(1)`, State: StateRinging, CafeCode: evil, CafeName: "A & B", Province: evil, Caller: evil, Started: ago(time.Second),
			Target: &Person{Name: evil, Role: evil, Number: evil}}},
		OnCall:            []Person{{Name: evil, Role: evil}},
		Today:             []RegionTotals{{Region: `"><b>`, Name: evil}},
		VoicemailsWaiting: 1,
		Voicemails:        []Voicemail{{ID: 1, CafeName: evil, CallbackNumber: "javascript:alert(1)", Created: ago(time.Minute)}},
	}
	for _, o := range []Options{{}, {FullNumbers: true}} {
		body := get(t, Handler(static(s), o), "/").Body.String()
		assert.NotContains(t, body, "<script")
		assert.NotContains(t, body, `onclick="alert`)
		assert.NotContains(t, body, `"><b>`)
		assert.NotContains(t, body, `href="tel:javascript`)
		assert.Contains(t, body, "A &amp; B")
		assert.Contains(t, body, "&lt;script&gt;")
	}
}

func TestPageHeadersAndRefresh(t *testing.T) {
	t.Parallel()
	w := get(t, Handler(static(fixture()), Options{Refresh: 3 * time.Second}), "/")
	body := w.Body.String()
	assert.Contains(t, body, `<meta http-equiv="refresh" content="3">`)
	assert.Contains(t, body, "tự làm mới mỗi 3 giây")
	assert.Equal(t, "text/html; charset=utf-8", w.Header().Get("Content-Type"))
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))

	// The CSP admits exactly the style element the page carries.
	start := strings.Index(body, "<style>") + len("<style>")
	end := strings.Index(body, "</style>")
	require.Greater(t, end, start)
	assert.Contains(t, w.Header().Get("Content-Security-Policy"), "style-src 'sha256-"+hashCSS(body[start:end])+"'")
	assert.Contains(t, w.Header().Get("Content-Security-Policy"), "default-src 'none'")
	assert.NotContains(t, body, "<script", "the page needs no script")
	assert.NotContains(t, body, "http://", "no external asset")
	assert.NotContains(t, body, "https://", "no external asset")

	sub := get(t, Handler(static(fixture()), Options{Refresh: 10 * time.Millisecond}), "/").Body.String()
	assert.Contains(t, sub, `content="1"`, "refresh is at least a second")
}
