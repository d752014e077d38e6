package arifake

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// Channel variables as res/ari/resource_channels.c and main/pbx_variables.c
// handle them: a set without a value deletes the variable (ChannelVarset ""
// only when it had a value), an unknown variable or channel is 404 with
// Asterisk's messages, and a read works on any channel.
func TestChannelVariables(t *testing.T) {
	s, c, st, ctx := setup(t, Options{})
	id := answeredCall(t, s, c, st, ctx)
	path := "/channels/" + id + "/variable"
	get := func(want int) resp {
		t.Helper()
		r, err := c.do(ctx, "GET", path, "variable", "HOTLINE_CALL")
		if err != nil {
			t.Fatal(err)
		}
		if r.status != want {
			t.Fatalf("GET: %d %s, want %d", r.status, r.body, want)
		}
		return r
	}
	if r := get(http.StatusNotFound); r.message() != "Provided variable was not found" {
		t.Fatalf("unknown variable: %s", r.body)
	}
	c.must(t, ctx, 204, "POST", path, "variable", "HOTLINE_CALL", "value", `{"v":1,"id":"x"}`)
	var v struct{ Value string }
	get(http.StatusOK).decode(t, &v)
	if v.Value != `{"v":1,"id":"x"}` {
		t.Fatalf("value %q", v.Value)
	}
	// A JSON body carries the value as well (long values do not fit a
	// request line).
	long := make([]byte, 8000)
	for i := range long {
		long[i] = 'a' + byte(i%26)
	}
	r, err := c.doBody(ctx, "POST", path, map[string]string{"value": string(long)}, "variable", "HOTLINE_CALL")
	if err != nil || r.status != http.StatusNoContent {
		t.Fatalf("JSON body: %v %d %s", err, r.status, r.body)
	}
	get(http.StatusOK).decode(t, &v)
	if v.Value != string(long) {
		t.Fatalf("value of %d bytes, want %d", len(v.Value), len(long))
	}
	// An empty value is a value.
	c.must(t, ctx, 204, "POST", path, "variable", "HOTLINE_CALL", "value", "")
	get(http.StatusOK).decode(t, &v)
	if v.Value != "" {
		t.Fatalf("empty value read as %q", v.Value)
	}
	// No value deletes it; deleting an empty or missing one says nothing.
	c.must(t, ctx, 204, "POST", path, "variable", "HOTLINE_CALL", "value", "x")
	c.must(t, ctx, 204, "POST", path, "variable", "HOTLINE_CALL")
	get(http.StatusNotFound)
	c.must(t, ctx, 204, "POST", path, "variable", "HOTLINE_CALL")
	var sets []string
	for _, e := range s.Events() {
		var m struct{ Variable, Value string }
		if e.Type == "ChannelVarset" && json.Unmarshal(e.JSON, &m) == nil && m.Variable == "HOTLINE_CALL" {
			sets = append(sets, m.Value)
		}
	}
	// Set, set long, set "", set x, deleted (x had a value); the last
	// delete found nothing and said nothing.
	if len(sets) != 5 || sets[2] != "" || sets[3] != "x" || sets[4] != "" {
		t.Fatalf("ChannelVarset values %q", sets)
	}
	// Unknown channel: Asterisk's two messages.
	r = c.must(t, ctx, 404, "GET", "/channels/nope/variable", "variable", "X")
	if r.message() != "Provided channel was not found" {
		t.Fatalf("GET unknown channel: %s", r.body)
	}
	r = c.must(t, ctx, 404, "POST", "/channels/nope/variable", "variable", "X", "value", "1")
	if r.message() != "Channel not found" {
		t.Fatalf("POST unknown channel: %s", r.body)
	}
}

// Setting a variable is a command on the channel's thread: while the
// channel plays a prompt outside a bridge the answer waits for the end of
// the playback (seen on Asterisk 22.10.1: 4.5 s during a greeting).
func TestSetVariableWaitsForThePlayback(t *testing.T) {
	s, c, st, ctx := setup(t, Options{PlaybackLength: 300 * time.Millisecond})
	id := answeredCall(t, s, c, st, ctx)
	c.must(t, ctx, 201, "POST", "/channels/"+id+"/play/g1", "media", "sound:vi/greeting")
	st.want(t, ctx, "PlaybackStarted", "")
	c.must(t, ctx, 204, "POST", "/channels/"+id+"/variable", "variable", "X", "value", "1")
	answered := time.Now()
	var finished time.Time
	for _, e := range s.Events() {
		if e.Type == "PlaybackFinished" {
			finished = e.At
		}
	}
	if finished.IsZero() || answered.Before(finished) {
		t.Fatalf("the set was answered (%v) before the playback finished (%v)", answered, finished)
	}
	// Without a playback it is answered at once: nothing to wait for.
	c.must(t, ctx, 204, "POST", "/channels/"+id+"/variable", "variable", "X", "value", "2")
}
