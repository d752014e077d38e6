package board

import (
	"fmt"
	"strings"
	"time"
)

// stateText is how the board names a live call state (Vietnamese, then a
// short English subtitle) and the CSS class that colours it.
type stateText struct{ vi, en, class, target string }

var states = map[string]stateText{
	StateIVR:     {"Tổng đài tự động", "IVR", "ivr", "Người nhận"},
	StateRinging: {"Đang đổ chuông", "Ringing", "ringing", "Đang gọi cho"},
	StateBridged: {"Đang nói chuyện", "Talking", "bridged", "Đang nói chuyện với"},
	// StateTransferring: the target is the person being rung for the transfer.
	StateTransferring: {"Đang chuyển máy", "Transferring", "transferring", "Đang gọi cho"},
}

func stateOf(s string) stateText {
	if t, ok := states[s]; ok {
		return t
	}
	if s == "" {
		s = "?"
	}
	return stateText{vi: s, class: "other", target: "Người nhận"}
}

var roles = map[string]string{
	RoleTechnician:      "Kỹ thuật viên",
	RoleAreaManager:     "Quản lý khu vực",
	RoleRegionalManager: "Quản lý vùng",
	RoleOperator:        "Tổng đài viên",
	RoleCafe:            "Quán net",
}

// roleText names a role in Vietnamese; an unknown role is shown as it is.
func roleText(r string) string {
	if t, ok := roles[r]; ok {
		return t
	}
	return r
}

// clock formats a duration as m:ss (mm:ss from 10 minutes, h:mm:ss from an
// hour), truncated to the second. Negative durations (clocks of two hosts
// disagreeing) show as 00:00.
func clock(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	h, m, sec := s/3600, s/60%60, s%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, sec)
	}
	return fmt.Sprintf("%02d:%02d", m, sec)
}

// age formats how long ago something happened, in Vietnamese words:
// "vừa xong", "12 phút", "2 giờ 5 phút", "3 ngày 4 giờ".
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "vừa xong"
	case d < time.Hour:
		return fmt.Sprintf("%d phút", d/time.Minute)
	case d < 24*time.Hour:
		h, m := d/time.Hour, d/time.Minute%60
		if m == 0 {
			return fmt.Sprintf("%d giờ", h)
		}
		return fmt.Sprintf("%d giờ %d phút", h, m)
	default:
		days, h := d/(24*time.Hour), d/time.Hour%24
		if h == 0 {
			return fmt.Sprintf("%d ngày", days)
		}
		return fmt.Sprintf("%d ngày %d giờ", days, h)
	}
}

// when formats an instant in Vietnam time: "14:32" today, "24/11 14:32"
// another day of the year, "24/11/2024 14:32" otherwise.
func when(t, now time.Time) string {
	if t.IsZero() {
		return "—"
	}
	t, now = t.In(Zone), now.In(Zone)
	switch {
	case t.YearDay() == now.YearDay() && t.Year() == now.Year():
		return t.Format("15:04")
	case t.Year() == now.Year():
		return t.Format("02/01 15:04")
	default:
		return t.Format("02/01/2006 15:04")
	}
}

// nationalForm turns +84… into the national 0… form Vietnamese readers know;
// anything else is returned trimmed.
func nationalForm(n string) string {
	n = strings.TrimSpace(n)
	if rest, ok := strings.CutPrefix(n, "+84"); ok && rest != "" && allDigits(rest) {
		return "0" + rest
	}
	return n
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// maskNumber hides the middle digits of a phone number, keeping the first
// four and the last three digits ("0912345678" → "0912•••678"). Numbers
// with fewer than eight digits (extensions, short codes) are not masked;
// other characters are kept in place.
func maskNumber(n string) string {
	n = nationalForm(n)
	digits := 0
	for _, r := range n {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	if digits < 8 {
		return n
	}
	var b strings.Builder
	i, hidden := 0, false
	for _, r := range n {
		if r < '0' || r > '9' {
			if !hidden || i >= digits-3 {
				b.WriteRune(r)
			}
			continue
		}
		if i < 4 || i >= digits-3 {
			b.WriteRune(r)
		} else if !hidden {
			b.WriteString("•••")
			hidden = true
		}
		i++
	}
	return b.String()
}
