package board

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

// testNow is 14:32:05 on 25 November 2025 in Vietnam.
var testNow = time.Date(2025, 11, 25, 14, 32, 5, 0, Zone)

func ago(d time.Duration) time.Time { return testNow.Add(-d) }

// Fixture calls, one per state plus a late one.
var (
	callBridged = Call{
		ID: "c-bridged", State: StateBridged, CafeCode: "CF0123", CafeName: "Quán Net Hoàng Long",
		Province: "Kiên Giang", Region: "south", Caller: "+84912345678",
		Started: ago(3*time.Minute + 45*time.Second), StateSince: ago(72 * time.Second),
		Target: &Person{Staff: "KTV07", Name: "Nguyễn Văn Bình", Role: RoleTechnician, Number: "0987654321", Since: ago(72 * time.Second)},
	}
	callRinging = Call{
		ID: "c-ringing", State: StateRinging, CafeCode: "CF0456", CafeName: "Game Center Ánh Dương",
		Province: "Hà Nội", Region: "north", Caller: "02439998888",
		Started: ago(40 * time.Second), StateSince: ago(15 * time.Second),
		Target: &Person{Staff: "QL02", Name: "Trần Thị Mai", Role: RoleAreaManager, Number: "0903111222", Since: ago(15 * time.Second)},
	}
	callIVR = Call{
		ID: "c-ivr", State: StateIVR, Caller: "0281234567", Started: ago(8 * time.Second),
	}
	callLate = Call{
		ID: "c-late", State: StateRinging, CafeCode: "CF0789", CafeName: "Phòng máy Sao Mai",
		Province: "Đà Nẵng", Region: "central", Caller: "0978123456",
		Started: ago(95 * time.Second), StateSince: ago(5 * time.Second),
		Target: &Person{Staff: "RM01", Name: "Lê Quốc Hùng", Role: RoleRegionalManager, Number: "0911222333", Since: ago(5 * time.Second)},
	}
)

// fixture is a busy board: four calls, one person talking, three regions,
// three voicemails waiting.
func fixture() Snapshot {
	return Snapshot{
		Now:    testNow,
		Calls:  []Call{callIVR, callRinging, callBridged, callLate},
		OnCall: []Person{{Staff: "KTV07", Name: "Nguyễn Văn Bình", Role: RoleTechnician, Number: "0987654321", Since: ago(72 * time.Second)}},
		Today: []RegionTotals{
			{Region: "north", Name: "Miền Bắc", Offered: 12, Answered: 9, Abandoned: 1, Voicemail: 1, NoAnswer: 1},
			{Region: "central", Name: "Miền Trung", Offered: 4, Answered: 3, Interrupted: 1},
			{Region: "south", Name: "Miền Nam", Offered: 20, Answered: 17, Abandoned: 2, Failed: 1},
		},
		VoicemailsWaiting: 3,
		OldestVoicemail:   ago(2*time.Hour + 5*time.Minute),
		Voicemails: []Voicemail{
			{ID: 42, CafeCode: "CF0789", CafeName: "Phòng máy Sao Mai", CallbackNumber: "0978123456", Created: ago(12 * time.Minute)},
			{ID: 41, CallbackNumber: "+84912000111", Created: time.Date(2025, 11, 24, 23, 10, 0, 0, Zone)},
		},
	}
}

// static serves one snapshot.
func static(s Snapshot) Source {
	return SourceFunc(func(context.Context) (Snapshot, error) { return s, nil })
}

// get runs one request through h.
func get(t *testing.T, h http.Handler, target string, mod ...func(*http.Request)) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for _, m := range mod {
		m(r)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// element returns the outer HTML of the element whose start tag carries
// id="id", up to the first closing tag named end.
func element(t *testing.T, doc, id, end string) string {
	t.Helper()
	i := strings.Index(doc, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no element with id %q in:\n%s", id, doc)
	}
	start := strings.LastIndex(doc[:i], "<")
	j := strings.Index(doc[i:], "</"+end+">")
	if j < 0 {
		t.Fatalf("element %q has no </%s>", id, end)
	}
	return doc[start : i+j+len(end)+3]
}

var (
	tagRE   = regexp.MustCompile(`<[^>]*>`)
	spaceRE = regexp.MustCompile(`\s+`)
)

// text is the visible text of an HTML fragment, with whitespace collapsed.
func text(fragment string) string {
	s := tagRE.ReplaceAllString(fragment, " ")
	s = html.UnescapeString(s)
	return strings.TrimSpace(spaceRE.ReplaceAllString(s, " "))
}
