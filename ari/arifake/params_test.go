package arifake

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestSeparateArgsIsAsteriskListSplitting(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"a", []string{"a"}},
		{"a,b", []string{"a", "b"}},
		{"", []string{""}},
		{",", []string{"", ""}},
		{"a,", []string{"a", ""}},
		{"a,,b", []string{"a", "", "b"}},
		{" a , b", []string{" a ", " b"}}, // no trimming
		{`"a,b",c`, []string{"a,b", "c"}}, // quotes group and are removed
		{`a\,b,c`, []string{"a,b", "c"}},  // backslash escapes
		{"f(a,b),[c,d],e", []string{"f(a,b)", "[c,d]", "e"}},
	} {
		if got := separateArgs(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("separateArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if n := len(separateArgs(strings.Repeat("a,", 127) + "a")); n != maxListValues {
		t.Errorf("128 items: %d", n)
	}
	if n := len(separateArgs(strings.Repeat("a,", 200) + "a")); n != maxListValues {
		t.Errorf("201 items are cut at %d: %d", maxListValues, n)
	}
}

func TestAtoiAndAstTrueAreC(t *testing.T) {
	for in, want := range map[string]int{"": 0, "abc": 0, "12": 12, " 12": 12, "12abc": 12, "-5": -5, "+7": 7, "1.9": 1, "- 5": 0} {
		if got := atoi(in); got != want {
			t.Errorf("atoi(%q) = %d, want %d", in, got, want)
		}
	}
	for in, want := range map[string]bool{"yes": true, "TRUE": true, "y": true, "t": true, "1": true, "On": true,
		"": false, "no": false, "false": false, "2": false, "yes ": false} {
		if astTrue(in) != want {
			t.Errorf("astTrue(%q) != %v", in, want)
		}
	}
	for in, want := range map[string]string{"a+b": "a b", "a%2Cb": "a,b", "%zz": "%zz", "%4g": "\x04", "%": "%", "a%2": "a%2"} {
		if got := uriDecode(in); got != want {
			t.Errorf("uriDecode(%q) = %q, want %q", in, got, want)
		}
	}
}

// The rules of params.go end to end: the last of repeated keys, JSON over
// query, form before query, unknown names ignored.
func TestRequestParametersAreReadAsAsteriskReadsThem(t *testing.T) {
	s, c, st, ctx := setup(t, Options{})
	id := answeredCall(t, s, c, st, ctx)
	ch := "/channels/" + id
	raw := func(method, path, query, ctype, body string, want int) resp {
		t.Helper()
		r, err := c.doRaw(ctx, method, path, query, ctype, body)
		if err != nil {
			t.Fatal(err)
		}
		if r.status != want {
			t.Fatalf("%s %s?%s %s: %d %s, want %d", method, path, query, body, r.status, r.body, want)
		}
		return r
	}
	value := func() string {
		var v struct{ Value string }
		raw("GET", ch+"/variable", "variable=X", "", "", 200).decode(t, &v)
		return v.Value
	}
	raw("POST", ch+"/variable", "variable=X&value=1&value=2", "", "", 204)
	if v := value(); v != "2" {
		t.Fatalf("repeated value=: %q, want the last", v)
	}
	raw("POST", ch+"/variable", "variable=X&value=query", "application/json", `{"value":"json"}`, 204)
	if v := value(); v != "json" {
		t.Fatalf("JSON body over query: %q", v)
	}
	// A JSON number for a string parameter unsets it: no value deletes the
	// variable (pbx_builtin_setvar_helper with NULL), which then is 404.
	raw("POST", ch+"/variable", "variable=X&value=query", "application/json", `{"value":5}`, 204)
	if r := raw("GET", ch+"/variable", "variable=X", "", "", 404); r.message() != "Provided variable was not found" {
		t.Fatalf("unset variable: %s", r.body)
	}
	raw("POST", ch+"/variable", "variable=X&value=query", "application/x-www-form-urlencoded", "value=form", 204)
	if v := value(); v != "query" {
		t.Fatalf("form body then query: %q, want the query's (last)", v)
	}
	raw("POST", ch+"/variable", "", "application/x-www-form-urlencoded", "variable=X&value=form", 204)
	if v := value(); v != "form" {
		t.Fatalf("form body alone: %q", v)
	}
	raw("POST", ch+"/variable", "variable=X&value=text", "text/plain", `{"value":"json"}`, 204)
	if v := value(); v != "text" {
		t.Fatalf("a text/plain body is ignored: %q", v)
	}
	raw("POST", ch+"/variable", "variable=X&value=1", "application/json", `{"value":`, 400)
	raw("POST", ch+"/variable", "variable=X&value=a%2Bb+c&Value=ignored&bogus=1", "", "", 204)
	if v := value(); v != "a+b c" {
		t.Fatalf("decoding / case-sensitive names: %q", v)
	}

	// Repeated hangup reasons: the last one counts.
	r := raw("DELETE", ch, "reason=busy&reason=bogus", "", "", 400)
	if r.message() != "Invalid reason for hangup reason provided" {
		t.Fatalf("last reason: %s", r.body)
	}
	// An int that is not a number is 0: dtmf with between=abc is accepted.
	raw("POST", ch+"/dtmf", "dtmf=1&between=abc&duration=1x", "", "", 204)
	// A list in JSON is an array, a JSON string is ONE item.
	raw("POST", ch+"/play/j1", "", "application/json", `{"media":["sound:a","sound:b"]}`, 201)
	if got := pbSeq(t, ctx, st, "j1", 1); got != "Started sound:a>sound:b playing" {
		t.Fatalf("JSON array: %s", got)
	}
	raw("POST", ch+"/play/j2", "", "application/json", `{"media":"sound:a,sound:b"}`, 201)
	if got := pbSeq(t, ctx, st, "j2", 1); got != "Started sound:a,sound:b playing" {
		t.Fatalf("JSON string: %s", got)
	}
	if r := raw("POST", ch+"/play", "media="+strings.Repeat("sound:a,", 127)+"sound:a", "", "", 400); r.message() != "Too many values for media" {
		t.Fatalf("128 items: %s", r.body)
	}
	if r := raw("POST", ch+"/play", "media=sound:a,,sound:b", "", "", 500); r.message() != "Failed to queue media for playback" {
		t.Fatalf("empty item: %s", r.body)
	}
}

func TestRoutingIsAsterisks(t *testing.T) {
	_, c, _, ctx := setup(t, Options{})
	for _, tc := range []struct {
		method, path string
		status       int
		msg          string
	}{
		{"PUT", "/channels", 405, "Invalid method"},
		{"DELETE", "/channels/create", 405, "Invalid method"}, // a literal segment beats {channelId}
		{"GET", "/channels/", 404, "ARI URLs do not end with a slash. Try /ari/channels"},
		{"GET", "/bogus", 404, "Resource not found"},
		{"GET", "/channels/x/bogus", 404, "Resource not found"},
		{"POST", "/channels/externalMedia", 501, "Method not implemented"}, // not modelled, not a channel id
		{"GET", "/asterisk/modules", 501, "Method not implemented"},
	} {
		r, err := c.do(ctx, tc.method, tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if r.status != tc.status || r.message() != tc.msg {
			t.Errorf("%s %s: %d %s, want %d %q", tc.method, tc.path, r.status, r.body, tc.status, tc.msg)
		}
	}
}

func TestAuthBasicBeforeAPIKeyAndWebSocketTakesFirstApp(t *testing.T) {
	s := Start(t, Options{})
	ctx := testCtx(t)
	good := newTClient(s.URL(), "asterisk", "asterisk")
	// Basic auth, when present, decides even with a valid api_key.
	bad := newTClient(s.URL(), "asterisk", "wrong")
	if r, _ := bad.do(ctx, "GET", "/asterisk/ping", "api_key", "asterisk:asterisk"); r.status != 401 {
		t.Fatalf("wrong basic auth with a good api_key: %d", r.status)
	}
	if r, _ := good.do(ctx, "GET", "/asterisk/ping"); r.status != 200 {
		t.Fatalf("basic auth: %d", r.status)
	}
	// The WebSocket takes the first app= (REST would take the last).
	u := "ws" + strings.TrimPrefix(s.URL(), "http") + "/ari/events?app=first&app=second&api_key=" + url.QueryEscape("asterisk:asterisk")
	st, err := good.eventsURL(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	if err := s.WaitConnected(ctx, "first"); err != nil {
		t.Fatal(err)
	}
	if s.Connected("second") {
		t.Fatal("the second app= registered too")
	}
}
