package arifake

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		in                            string
		tech, trunk, number, resource string
		err                           bool
	}{
		{in: "PJSIP/0945551519@gw-vinaphone", tech: "PJSIP", trunk: "gw-vinaphone", number: "0945551519", resource: "0945551519@gw-vinaphone"},
		{in: "PJSIP/+84945551519@gw-viettel", tech: "PJSIP", trunk: "gw-viettel", number: "84945551519", resource: "+84945551519@gw-viettel"},
		{in: "PJSIP/gw-viettel/sip:0945551519@10.0.0.1:5060", tech: "PJSIP", trunk: "gw-viettel", number: "0945551519", resource: "gw-viettel/sip:0945551519@10.0.0.1:5060"},
		{in: "PJSIP/gw-viettel", tech: "PJSIP", trunk: "gw-viettel", number: "", resource: "gw-viettel"},
		{in: "pjsip/0912@gw", tech: "PJSIP", trunk: "gw", number: "0912", resource: "0912@gw"},
		{in: "Local/0945551519@phones", tech: "Local", trunk: "phones", number: "0945551519", resource: "0945551519@phones"},
		{in: "Local/0945551519@phones/n", tech: "Local", trunk: "phones", number: "0945551519", resource: "0945551519@phones"},
		{in: "Bogus/xyz", err: true},
		{in: "SIP/0945551519@gw", err: true},
		{in: "PJSIP/", err: true},
		{in: "Local/0945551519", err: true},
		{in: "Local/@phones", err: true},
		{in: "PJSIP/0945551519@", err: true},
		{in: "", err: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			d, err := ParseEndpoint(tc.in)
			if tc.err {
				if !errors.Is(err, ErrBadEndpoint) {
					t.Fatalf("ParseEndpoint(%q) = %+v, %v; want ErrBadEndpoint", tc.in, d, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Tech != tc.tech || d.Trunk != tc.trunk || d.Number != tc.number || d.Resource != tc.resource {
				t.Fatalf("ParseEndpoint(%q) = %+v", tc.in, d)
			}
		})
	}
}

func TestNumberKeysMatchNationalAndE164(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	s.SetPhone("0945551519", Busy())
	for _, n := range []string{"0945551519", "84945551519", "+84 945 551 519"} {
		if p := s.phoneFor(n); p.Outcome != OutcomeBusy {
			t.Fatalf("%s: %v", n, p.Outcome)
		}
	}
	if p := s.phoneFor("0912345678"); p.Outcome != OutcomeAnswer {
		t.Fatalf("default phone: %v", p.Outcome)
	}
}

func FuzzParseEndpoint(f *testing.F) {
	for _, s := range []string{"PJSIP/0945551519@gw-vinaphone", "PJSIP/gw-viettel/sip:0945551519@x", "Local/0945551519@phones/n", "Bogus/x", "", "/", "PJSIP//@"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseEndpoint(s)
		if err != nil {
			if !errors.Is(err, ErrBadEndpoint) {
				t.Fatalf("error %v does not wrap ErrBadEndpoint", err)
			}
			return
		}
		if d.Tech != "PJSIP" && d.Tech != "Local" {
			t.Fatalf("tech %q", d.Tech)
		}
		if d.Trunk == "" || strings.ContainsAny(d.Trunk, " \t/") {
			t.Fatalf("trunk %q from %q", d.Trunk, s)
		}
		if digits(d.Number) != d.Number {
			t.Fatalf("number %q has non-digits", d.Number)
		}
		if !strings.Contains(s, d.Resource) {
			t.Fatalf("resource %q not in %q", d.Resource, s)
		}
	})
}

// PhoneFor scripts the numbers without a phone of their own, at each dial;
// SetPhone still wins, and a false falls back to the default phone.
func TestPhoneForScriptsEachDial(t *testing.T) {
	calls := 0
	s := NewServer(Options{DefaultPhone: Congested(), PhoneFor: func(n string) (Phone, bool) {
		if n != "0912345678" {
			return Phone{}, false
		}
		calls++
		if calls%2 == 1 {
			return Busy(), true
		}
		return NeverAnswers(), true
	}})
	defer s.Close()
	s.SetPhone("0945551519", Rejects(0))
	for i, tc := range []struct {
		number string
		want   Outcome
	}{
		{"0912345678", OutcomeBusy}, {"0912345678", OutcomeNoAnswer}, {"0912345678", OutcomeBusy},
		{"0945551519", OutcomeReject}, {"0987654321", OutcomeCongestion},
	} {
		if p := s.phoneFor(tc.number); p.Outcome != tc.want {
			t.Fatalf("dial %d of %s: %v, want %v", i, tc.number, p.Outcome, tc.want)
		}
	}
	if calls != 3 {
		t.Fatalf("PhoneFor asked %d times, want 3", calls)
	}
	s.SetPhone("0912345678", Rejects(0))
	if p := s.phoneFor("0912345678"); p.Outcome != OutcomeReject {
		t.Fatalf("SetPhone does not win over PhoneFor: %v", p.Outcome)
	}
	s.ClearPhone("+84912345678")
	if p := s.phoneFor("0912345678"); p.Outcome != OutcomeNoAnswer || calls != 4 {
		t.Fatalf("after ClearPhone: %v, PhoneFor asked %d times", p.Outcome, calls)
	}
	s.ClearPhone("0945551519")
	if p := s.phoneFor("0945551519"); p.Outcome != OutcomeCongestion {
		t.Fatalf("cleared number without PhoneFor: %v, want the default phone", p.Outcome)
	}
}

// OnRequest sees every request, also once the history has dropped it.
func TestOnRequestSeesEveryRequest(t *testing.T) {
	var seen []string
	s := NewServer(Options{HistoryLimit: 4, OnRequest: func(r Request) { seen = append(seen, r.Method+" "+r.Path) }})
	defer s.Close()
	h := s.Handler()
	for i := range 10 {
		req := httptest.NewRequest("GET", "/ari/channels", nil)
		if i%2 == 1 {
			req = httptest.NewRequest("GET", "/ari/bridges", nil)
		}
		req.SetBasicAuth("asterisk", "asterisk")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("request %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	if len(seen) != 10 || seen[0] != "GET /ari/channels" || seen[9] != "GET /ari/bridges" {
		t.Fatalf("OnRequest saw %q", seen)
	}
	if n := len(s.Requests()); n > 4 {
		t.Fatalf("history kept %d requests, limit 4", n)
	}
}
