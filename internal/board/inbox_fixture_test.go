package board

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeInbox is an in-memory Inbox: the fixture's voicemails and complaints,
// recordings as bytes, and a record of every write.
type fakeInbox struct {
	mu         sync.Mutex
	data       InboxData
	recordings map[int64]*Audio // Body unused: file bytes below
	files      map[int64][]byte
	err        error // returned by InboxData
	writeErr   error // returned by the writes
	audioErr   error
	writes     []string
	opened     int // recordings opened
	closed     int // and closed
}

func (f *fakeInbox) InboxData(context.Context) (InboxData, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.data, f.err
}

func (f *fakeInbox) VoicemailAudio(_ context.Context, id int64) (*Audio, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.audioErr != nil {
		return nil, f.audioErr
	}
	a, ok := f.recordings[id]
	if !ok {
		return nil, fmt.Errorf("voicemail %d: %w", id, ErrNotFound)
	}
	f.opened++
	return &Audio{Body: &closeCounter{Reader: bytes.NewReader(f.files[id]), f: f}, ContentType: a.ContentType, Size: a.Size}, nil
}

type closeCounter struct {
	io.Reader
	f *fakeInbox
}

func (c *closeCounter) Close() error {
	c.f.mu.Lock()
	c.f.closed++
	c.f.mu.Unlock()
	return nil
}

func (f *fakeInbox) MarkVoicemailHandled(_ context.Context, id int64, who, note string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.writeErr != nil {
		return f.writeErr
	}
	// The voicemail moves to the handled list, as the store would show it.
	for i, v := range f.data.Voicemails {
		if v.ID == id {
			v.HandledBy, v.HandledAt, v.Note = who, testNow, note
			f.data.Voicemails = append(f.data.Voicemails[:i:i], f.data.Voicemails[i+1:]...)
			f.data.Handled = append([]InboxVoicemail{v}, f.data.Handled...)
			f.data.VoicemailsWaiting--
			f.writes = append(f.writes, fmt.Sprintf("handled %d by %s: %s", id, who, note))
			return nil
		}
	}
	return fmt.Errorf("voicemail %d: %w", id, ErrNotFound)
}

func (f *fakeInbox) MarkComplaintReviewed(_ context.Context, callID, who, note string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.writeErr != nil {
		return f.writeErr
	}
	for i, c := range f.data.Complaints {
		if c.CallID == callID {
			c.ReviewedBy, c.ReviewedAt, c.Note = who, testNow, note
			f.data.Complaints = append(f.data.Complaints[:i:i], f.data.Complaints[i+1:]...)
			f.data.Reviewed = append([]InboxComplaint{c}, f.data.Reviewed...)
			f.data.ComplaintsWaiting--
			f.writes = append(f.writes, fmt.Sprintf("reviewed %s by %s: %s", callID, who, note))
			return nil
		}
	}
	return fmt.Errorf("complaint %s: %w", callID, ErrNotFound)
}

func (f *fakeInbox) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.writes...)
}

// fakeCallbacks records CallbackNow calls.
type fakeCallbacks struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (c *fakeCallbacks) CallbackNow(_ context.Context, id int64, staff, who string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, fmt.Sprintf("callback %d via %s by %s", id, staff, who))
	return c.err
}

// toneWAV is d of a 440 Hz tone, 8 kHz 16-bit mono: what Asterisk records.
func toneWAV(d time.Duration) []byte {
	n := int(d.Seconds() * 8000)
	var b bytes.Buffer
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	w(uint32(36 + 2*n))
	b.WriteString("WAVEfmt ")
	w(uint32(16))
	w(uint16(1))
	w(uint16(1))
	w(uint32(8000))
	w(uint32(16000))
	w(uint16(2))
	w(uint16(16))
	b.WriteString("data")
	w(uint32(2 * n))
	for i := range n {
		w(int16(8000 * math.Sin(2*math.Pi*440*float64(i)/8000)))
	}
	return b.Bytes()
}

// newFakeInbox is a busy inbox: two voicemails waiting (one with a 3.5 s
// message, one callback request only), one handled, two complaints.
func newFakeInbox() *fakeInbox {
	wav := toneWAV(3500 * time.Millisecond)
	return &fakeInbox{
		data: InboxData{
			VoicemailsWaiting: 2,
			Voicemails: []InboxVoicemail{
				{ID: 42, CafeCode: "CF0789", CafeName: "Phòng máy Sao Mai", CallbackNumber: "0978123456",
					Created: ago(2*time.Hour + 5*time.Minute), Length: 3 * time.Second, Recorded: true,
					CallbackTo: []Person{
						{Staff: "KTV07", Name: "Nguyễn Văn Bình", Role: RoleTechnician},
						{Staff: "QL02", Name: "Trần Thị Mai", Role: RoleAreaManager},
					}},
				{ID: 43, CallbackNumber: "+84912000111", Created: ago(12 * time.Minute),
					CallbackTo: []Person{{Staff: "OP01", Name: "Phạm Thu Hà", Role: RoleOperator}}},
			},
			Handled: []InboxVoicemail{
				{ID: 40, CafeCode: "CF0123", CafeName: "Quán Net Hoàng Long", CallbackNumber: "+84912345678",
					Created: ago(5 * time.Hour), Recorded: true, HandledBy: "Chị Lan", HandledAt: ago(3 * time.Hour), Note: "đã gọi lại"},
			},
			ComplaintsWaiting: 2,
			Complaints: []InboxComplaint{
				{CallID: "01JCALLCOMPLAINT1", CafeCode: "CF0456", CafeName: "Game Center Ánh Dương", Caller: "+84903111222",
					Staff: Person{Staff: "KTV07", Name: "Nguyễn Văn Bình", Role: RoleTechnician}, Score: 1,
					CallStarted: ago(26 * time.Hour), Talk: 95 * time.Second, Created: ago(26*time.Hour - 2*time.Minute)},
				{CallID: "01JCALLCOMPLAINT2", CafeCode: "CF0123", CafeName: "Quán Net Hoàng Long", Caller: "0281234567",
					Staff:       Person{Staff: "QL02", Name: "Trần Thị Mai", Role: RoleAreaManager},
					CallStarted: ago(40 * time.Minute), Talk: 4 * time.Minute, Created: ago(35 * time.Minute)},
			},
		},
		recordings: map[int64]*Audio{42: {ContentType: "audio/wav", Size: int64(len(wav))}},
		files:      map[int64][]byte{42: wav},
	}
}

// inboxOptions is an open board (loopback) with the fake inbox.
func inboxOptions(in Inbox, cb Callbacks) Options {
	o := Options{Inbox: in, Now: func() time.Time { return testNow }}
	if cb != nil {
		o.Callbacks = cb
	}
	return o
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// session opens the inbox page like a browser and returns its cookies and
// the forms' CSRF token.
func session(t *testing.T, h http.Handler, mod ...func(*http.Request)) ([]*http.Cookie, string) {
	t.Helper()
	w := get(t, h, "/inbox", append([]func(*http.Request){fromHere}, mod...)...)
	if w.Code != http.StatusOK {
		t.Fatalf("GET /inbox: %d %s", w.Code, w.Body)
	}
	m := csrfRE.FindStringSubmatch(w.Body.String())
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", w.Body)
	}
	return w.Result().Cookies(), m[1]
}

// fromHere makes a request come from this machine.
func fromHere(r *http.Request) { r.RemoteAddr = "127.0.0.1:50123" }

// post sends a form as the inbox page would.
func post(t *testing.T, h http.Handler, target string, form url.Values, mod ...func(*http.Request)) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	fromHere(r)
	for _, m := range mod {
		m(r)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func withCookies(cs []*http.Cookie) func(*http.Request) {
	return func(r *http.Request) {
		for _, c := range cs {
			r.AddCookie(c)
		}
	}
}
