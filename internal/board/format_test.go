package board

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestClock(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "00:00"},
		{999 * time.Millisecond, "00:00"},
		{8 * time.Second, "00:08"},
		{72 * time.Second, "01:12"},
		{59*time.Minute + 59*time.Second, "59:59"},
		{time.Hour, "1:00:00"},
		{26*time.Hour + 3*time.Second, "26:00:03"},
		{-5 * time.Second, "00:00"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, clock(tc.d), tc.d.String())
	}
}

func TestAge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Minute, "vừa xong"},
		{59 * time.Second, "vừa xong"},
		{time.Minute, "1 phút"},
		{59 * time.Minute, "59 phút"},
		{2 * time.Hour, "2 giờ"},
		{2*time.Hour + 5*time.Minute, "2 giờ 5 phút"},
		{24 * time.Hour, "1 ngày"},
		{75 * time.Hour, "3 ngày 3 giờ"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, age(tc.d), tc.d.String())
	}
}

func TestWhen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Time{}, "—"},
		{ago(time.Minute), "14:31"},
		{time.Date(2025, 11, 25, 0, 0, 0, 0, Zone), "00:00"},
		{time.Date(2025, 11, 24, 16, 59, 0, 0, time.UTC), "24/11 23:59"}, // shown in Vietnam time
		{time.Date(2025, 11, 24, 17, 0, 0, 0, time.UTC), "00:00"},        // already today in Vietnam
		{time.Date(2024, 12, 31, 9, 0, 0, 0, Zone), "31/12/2024 09:00"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, when(tc.t, testNow), tc.t.String())
	}
}

func TestTodayRange(t *testing.T) {
	t.Parallel()
	// 23:30 UTC on the 24th is 06:30 on the 25th in Vietnam.
	from, to := TodayRange(time.Date(2025, 11, 24, 23, 30, 0, 0, time.UTC))
	assert.Equal(t, "2025-11-25T00:00:00+07:00", from.Format(time.RFC3339))
	assert.Equal(t, "2025-11-26T00:00:00+07:00", to.Format(time.RFC3339))
	assert.Equal(t, "2025-11-24T17:00:00Z", from.UTC().Format(time.RFC3339))
}

func TestMaskNumber(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"0912345678", "0912•••678"},
		{"+84912345678", "0912•••678"},
		{"84912345678", "8491•••678"},
		{"02439998888", "0243•••888"},
		{"0912 345 678", "0912 ••• 678"},
		{"1234567", "1234567"},
		{"113", "113"},
		{"", ""},
		{"anonymous", "anonymous"},
		{"  0912345678 ", "0912•••678"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, maskNumber(tc.in), tc.in)
	}
}

func TestTelURL(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "tel:0978123456", string(telURL("0978 123 456")))
	assert.Equal(t, "tel:+84912000111", string(telURL("+84912000111")))
	assert.Empty(t, telURL("javascript:alert(1)"))
	assert.Empty(t, telURL(""))
}

// FuzzMaskNumber checks that a masked number never shows more than seven of
// its digits once it has eight or more.
func FuzzMaskNumber(f *testing.F) {
	for _, s := range []string{"0912345678", "+84912345678", "0912 345 678", "1234567", "+84", "٠١٢٣٤٥٦٧٨٩"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		digits := func(s string) int {
			return len(strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return r
				}
				return -1
			}, s))
		}
		in := nationalForm(s)
		out := maskNumber(s)
		if digits(in) >= 8 && digits(out) != 7 {
			t.Fatalf("maskNumber(%q) = %q shows %d digits", s, out, digits(out))
		}
		if digits(in) < 8 && out != in {
			t.Fatalf("maskNumber(%q) = %q, want it unchanged", s, out)
		}
	})
}
