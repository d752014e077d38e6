package ari

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// readEvent loads one real event captured from Asterisk 22 (see
// testdata/events; each file is one event copied from /work/shared/ari/traces).
func readEvent(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "events", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeAs[T Event](t *testing.T, name string) T {
	t.Helper()
	ev, err := DecodeEvent(readEvent(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	typed, ok := ev.(T)
	if !ok {
		t.Fatalf("%s decoded as %T", name, ev)
	}
	return typed
}

func TestDecodeRealEvents(t *testing.T) {
	wantTS := func(t *testing.T, got Time, s string) {
		t.Helper()
		want, err := time.Parse("2006-01-02T15:04:05.000-0700", s)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(want) {
			t.Errorf("timestamp = %v, want %v", got.Time, want)
		}
	}
	t.Run("StasisStart caller", func(t *testing.T) {
		e := decodeAs[*StasisStart](t, "stasisstart_caller")
		if e.Type != TypeStasisStart || e.Application != "hotline" || e.AsteriskID != "02:fc:00:00:00:01" {
			t.Errorf("base = %+v", e.EventBase)
		}
		wantTS(t, e.Timestamp, "2026-11-24T21:00:20.706+0000")
		if e.Channel.ID != "1795554020.1" || e.Channel.Caller.Number != "0913123001" || e.Channel.State != StateRing {
			t.Errorf("channel = %+v", e.Channel)
		}
		if e.Channel.Dialplan.Exten != "2" || e.Channel.Dialplan.Priority != 2 || e.Channel.Dialplan.AppData != "hotline" {
			t.Errorf("dialplan = %+v", e.Channel.Dialplan)
		}
		if e.Args == nil || len(e.Args) != 0 {
			t.Errorf("args = %#v, want empty non-nil", e.Args)
		}
		wantTS(t, e.Channel.CreationTime, "2026-11-24T21:00:20.706+0000")
	})
	t.Run("StasisStart SIP caller id", func(t *testing.T) {
		e := decodeAs[*StasisStart](t, "stasisstart_sip")
		if e.Channel.Caller.Number != "02973812345" || e.Channel.ID != "1795554112.30" {
			t.Errorf("channel = %+v", e.Channel)
		}
	})
	t.Run("StasisStart of a created channel", func(t *testing.T) {
		e := decodeAs[*StasisStart](t, "stasisstart_created")
		if e.Channel.State != StateDown || !slices.Equal(e.Args, []string{"outbound"}) || e.Channel.ID != "1795555375.6" {
			t.Errorf("got state %q args %v id %q", e.Channel.State, e.Args, e.Channel.ID)
		}
	})
	t.Run("StasisEnd", func(t *testing.T) {
		e := decodeAs[*StasisEnd](t, "stasisend")
		if e.Channel.ID != "1795555375.5" || e.Channel.State != StateUp {
			t.Errorf("channel = %+v", e.Channel)
		}
	})
	t.Run("ChannelStateChange Ringing", func(t *testing.T) {
		e := decodeAs[*ChannelStateChange](t, "statechange_ringing")
		if e.Channel.State != StateRinging || e.Channel.ID != "1795555375.6" {
			t.Errorf("channel = %+v", e.Channel)
		}
	})
	t.Run("ChannelDtmfReceived", func(t *testing.T) {
		e := decodeAs[*ChannelDTMFReceived](t, "dtmf_2")
		if e.Digit != "2" || e.DurationMs != 100 || e.Channel.ID != "1795555375.5" {
			t.Errorf("got digit %q duration %d channel %q", e.Digit, e.DurationMs, e.Channel.ID)
		}
		s := decodeAs[*ChannelDTMFReceived](t, "dtmf_sip")
		if s.Digit != "2" || s.Channel.Caller.Number != "02973812345" {
			t.Errorf("sip dtmf = %q from %q", s.Digit, s.Channel.Caller.Number)
		}
	})
	t.Run("ChannelHangupRequest soft 32", func(t *testing.T) {
		e := decodeAs[*ChannelHangupRequest](t, "hangup_soft_32")
		if e.Cause != 32 || !e.Soft || e.Channel.ID != "1795554020.0" {
			t.Errorf("got cause %d soft %v channel %q", e.Cause, e.Soft, e.Channel.ID)
		}
	})
	t.Run("ChannelHangupRequest SIP 486", func(t *testing.T) {
		e := decodeAs[*ChannelHangupRequest](t, "hangup_486")
		if e.Cause != 17 || e.TechCause != 486 || e.Soft || e.Channel.ID != "1795555628.64" || e.Channel.State != StateRinging {
			t.Errorf("got %+v", e)
		}
	})
	t.Run("ChannelHangupRequest without cause (SIP BYE)", func(t *testing.T) {
		e := decodeAs[*ChannelHangupRequest](t, "hangup_nocause")
		if e.Cause != 0 || e.Soft || e.Channel.ID != "1795555607.60" {
			t.Errorf("got cause %d soft %v channel %q", e.Cause, e.Soft, e.Channel.ID)
		}
	})
	t.Run("ChannelDestroyed", func(t *testing.T) {
		e := decodeAs[*ChannelDestroyed](t, "destroyed_normal")
		if e.Cause != 16 || e.CauseTxt != "Normal Clearing" || e.Channel.ID != "1795555375.5" {
			t.Errorf("got %d %q %q", e.Cause, e.CauseTxt, e.Channel.ID)
		}
		c := decodeAs[*ChannelDestroyed](t, "destroyed_congestion")
		if c.Cause != 34 || c.CauseTxt != "Circuit/channel congestion" || c.Channel.ID != "1795555411.22" {
			t.Errorf("got %d %q %q", c.Cause, c.CauseTxt, c.Channel.ID)
		}
	})
	t.Run("ChannelVarset", func(t *testing.T) {
		e := decodeAs[*ChannelVarset](t, "varset")
		if e.Variable != "STASISSTATUS" || e.Value != "" || e.Channel == nil || e.Channel.ID != "1795554020.1" {
			t.Errorf("got %+v", e)
		}
	})
	t.Run("ChannelCallerId", func(t *testing.T) {
		e := decodeAs[*ChannelCallerID](t, "callerid")
		if e.CallerPresentation != 0 || e.CallerPresentationTxt != "Presentation Allowed, Not Screened" || e.Channel.Caller.Number != "0913123001" {
			t.Errorf("got %+v", e)
		}
	})
	t.Run("Dial start has empty dialstatus", func(t *testing.T) {
		e := decodeAs[*Dial](t, "dial_start")
		if e.DialStatus != "" || e.Peer.ID != "1795554020.0" || e.DialString != "2@hotline" || e.Caller != nil {
			t.Errorf("got status %q peer %q dialstring %q caller %v", e.DialStatus, e.Peer.ID, e.DialString, e.Caller)
		}
	})
	t.Run("Dial BUSY", func(t *testing.T) {
		e := decodeAs[*Dial](t, "dial_busy")
		if e.DialStatus != DialBusy || e.Peer.ID != "1795555392.14" || e.Peer.Dialplan.Exten != "0900000017" {
			t.Errorf("got status %q peer %+v", e.DialStatus, e.Peer)
		}
	})
	t.Run("Dial RINGING", func(t *testing.T) {
		e := decodeAs[*Dial](t, "dial_ringing")
		if e.DialStatus != DialRinging || e.Peer.ID != "1795555440.34" || e.Peer.State != StateRinging {
			t.Errorf("got status %q peer %q state %q", e.DialStatus, e.Peer.ID, e.Peer.State)
		}
	})
	t.Run("PlaybackStarted", func(t *testing.T) {
		e := decodeAs[*PlaybackStarted](t, "playback_started")
		kind, id := e.Playback.Target()
		if e.Playback.ID != "pb-greet-1" || e.Playback.State != PlaybackPlaying || kind != "channel" || id != "1795554020.1" {
			t.Errorf("got %+v", e.Playback)
		}
	})
	t.Run("PlaybackFinished", func(t *testing.T) {
		e := decodeAs[*PlaybackFinished](t, "playback_finished")
		if e.Playback.State != PlaybackDone || e.Playback.MediaURI != "sound:beep" || e.Playback.TargetURI != "channel:1795555375.5" {
			t.Errorf("got %+v", e.Playback)
		}
	})
	t.Run("Recording", func(t *testing.T) {
		s := decodeAs[*RecordingStarted](t, "recording_started")
		if s.Recording.Name != "vm-test-1" || s.Recording.State != "recording" || s.Recording.Duration != nil {
			t.Errorf("started %+v", s.Recording)
		}
		f := decodeAs[*RecordingFinished](t, "recording_finished")
		if f.Recording.State != "done" || f.Recording.Format != "wav" || f.Recording.Duration == nil || *f.Recording.Duration != 0 {
			t.Errorf("finished %+v", f.Recording)
		}
		if _, id := f.Recording.Target(); id != "1795554082.27" {
			t.Errorf("target id %q", id)
		}
	})
	t.Run("Bridge events", func(t *testing.T) {
		in := decodeAs[*ChannelEnteredBridge](t, "entered_bridge")
		if in.Bridge.ID != "04e1fd70-7fbb-48a7-930b-fc01158c6aa1" || in.Bridge.BridgeType != BridgeMixing ||
			!slices.Equal(in.Bridge.Channels, []string{"1795555375.5"}) || in.Channel == nil || in.Channel.ID != "1795555375.5" {
			t.Errorf("entered %+v", in)
		}
		out := decodeAs[*ChannelLeftBridge](t, "left_bridge")
		if out.Bridge.ID != "br-1" || out.Channel.ID != "1795554020.1" {
			t.Errorf("left %+v", out)
		}
		gone := decodeAs[*BridgeDestroyed](t, "bridge_destroyed")
		if gone.Bridge.ID != "04e1fd70-7fbb-48a7-930b-fc01158c6aa1" || len(gone.Bridge.Channels) != 0 {
			t.Errorf("destroyed %+v", gone.Bridge)
		}
	})
	t.Run("ApplicationReplaced", func(t *testing.T) {
		e := decodeAs[*ApplicationReplaced](t, "application_replaced")
		if e.Application != "hotline" || len(e.Keys()) != 0 {
			t.Errorf("got %+v keys %v", e, e.Keys())
		}
		wantTS(t, e.Timestamp, "2026-11-24T21:24:47.807+0000")
	})
}

func TestEventKeys(t *testing.T) {
	tests := []struct {
		file string
		want []Key
	}{
		{"stasisstart_caller", []Key{ChannelKey("1795554020.1")}},
		{"dial_busy", []Key{ChannelKey("1795555392.14")}},
		{"playback_started", []Key{PlaybackKey("pb-greet-1"), ChannelKey("1795554020.1")}},
		{"recording_finished", []Key{RecordingKey("vm-test-1"), ChannelKey("1795554082.27")}},
		{"entered_bridge", []Key{ChannelKey("1795555375.5"), BridgeKey("04e1fd70-7fbb-48a7-930b-fc01158c6aa1")}},
		{"bridge_destroyed", []Key{BridgeKey("04e1fd70-7fbb-48a7-930b-fc01158c6aa1")}},
		{"dialplan", []Key{ChannelKey("1795555375.5")}},
		{"application_replaced", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev, err := DecodeEvent(readEvent(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := ev.Keys(); !slices.Equal(got, tt.want) {
				t.Errorf("keys = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDialKeysIncludeCaller(t *testing.T) {
	// No trace dials with caller=; this is the real BUSY event with a caller
	// channel added, as api-docs describe it.
	var m map[string]any
	if err := json.Unmarshal(readEvent(t, "dial_busy"), &m); err != nil {
		t.Fatal(err)
	}
	m["caller"] = map[string]any{"id": "1795555375.5", "name": "Local/2@hotline-00000002;2", "state": "Up"}
	b, _ := json.Marshal(m)
	ev, err := DecodeEvent(b)
	if err != nil {
		t.Fatal(err)
	}
	d := ev.(*Dial)
	if d.Caller == nil || d.Caller.ID != "1795555375.5" {
		t.Fatalf("caller = %+v", d.Caller)
	}
	want := []Key{ChannelKey("1795555392.14"), ChannelKey("1795555375.5")}
	if got := d.Keys(); !slices.Equal(got, want) {
		t.Errorf("keys = %v, want %v", got, want)
	}
}

func TestDecodeUnknownTypeIsRaw(t *testing.T) {
	// A real ChannelDialplan event renamed to a type without a typed struct
	// here (ChannelTalkingStarted has the same shape in api-docs).
	data := []byte(strings.Replace(string(readEvent(t, "dialplan")), `"type":"ChannelDialplan"`, `"type":"ChannelTalkingStarted"`, 1))
	ev, err := DecodeEvent(data)
	if err != nil {
		t.Fatal(err)
	}
	raw, ok := ev.(*RawEvent)
	if !ok {
		t.Fatalf("decoded as %T", ev)
	}
	if raw.Type != "ChannelTalkingStarted" || raw.AsteriskID != "02:fc:00:00:00:01" || raw.Timestamp.IsZero() || raw.Application == "" {
		t.Errorf("base = %+v", raw.EventBase)
	}
	if !slices.Equal(raw.Keys(), []Key{ChannelKey("1795555375.5")}) {
		t.Errorf("keys = %v", raw.Keys())
	}
	if string(raw.Raw) != string(data) {
		t.Error("raw message not kept")
	}
	out, err := json.Marshal(raw)
	if err != nil || string(out) != strings.TrimSpace(string(data)) {
		t.Errorf("marshal = %s, %v", out, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		bad     bool   // ErrBadEvent, no event
		rawType string // a RawEvent of this type comes with the error
	}{
		{"not json", `{"type":`, true, ""},
		{"array", `[1,2]`, true, ""},
		{"null", `null`, true, ""},
		{"no type", `{"application":"hotline"}`, true, ""},
		{"type not string", `{"type":5}`, true, ""},
		{"bad field type", `{"type":"ChannelDtmfReceived","digit":5,"channel":{"id":"c1"}}`, false, "ChannelDtmfReceived"},
		{"bad timestamp", `{"type":"StasisEnd","timestamp":"yesterday","channel":{"id":"c1"}}`, false, "StasisEnd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := DecodeEvent([]byte(tt.in))
			if err == nil {
				t.Fatalf("no error, event %T", ev)
			}
			if tt.bad {
				if ev != nil || !errors.Is(err, ErrBadEvent) {
					t.Errorf("got %T, %v; want nil, ErrBadEvent", ev, err)
				}
				return
			}
			raw, ok := ev.(*RawEvent)
			if !ok || raw.Type != tt.rawType {
				t.Fatalf("got %T %+v, want RawEvent %s", ev, ev, tt.rawType)
			}
			if !slices.Equal(raw.Keys(), []Key{ChannelKey("c1")}) {
				t.Errorf("raw keys = %v", raw.Keys())
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			panic(err)
		}
		return v
	}
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"2026-11-24T21:00:20.706+0000", utc("2026-11-24T21:00:20.706Z"), false},
		{"2026-11-24T21:00:20+0000", utc("2026-11-24T21:00:20Z"), false},
		{"2026-11-25T04:00:20.706+0700", utc("2026-11-24T21:00:20.706Z"), false},
		{"2026-11-24T21:00:20.706Z", utc("2026-11-24T21:00:20.706Z"), false},
		{"2026-11-25T04:00:20+07:00", utc("2026-11-24T21:00:20Z"), false},
		{"2026-11-24 21:00:20", time.Time{}, true},
		{"", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in)
		if (err != nil) != tt.err || !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v, err %v", tt.in, got, err, tt.want, tt.err)
		}
	}
	var tm Time
	if err := json.Unmarshal([]byte(`""`), &tm); err != nil || !tm.IsZero() {
		t.Errorf(`"" = %v, %v`, tm, err)
	}
	tm = Time{utc("2026-11-24T21:00:20.706Z")}
	b, _ := json.Marshal(tm)
	if string(b) != `"2026-11-24T21:00:20.706+0000"` {
		t.Errorf("marshal = %s", b)
	}
}

// TestDecodeAllTraces decodes every event of every recorded trace in the
// repository (aritest/testdata/traces: the replay files trimmed by trim.py,
// whose event lines are {"k": "event", …}, and raw copies of the shared
// recordings, whose event lines are {"dir": "event", …}).
func TestDecodeAllTraces(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("aritest", "testdata", "traces", "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no traces in aritest/testdata/traces (%v)", err)
	}
	known := map[string]bool{}
	for _, ty := range KnownEventTypes() {
		known[ty] = true
	}
	seen := map[string]int{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		events := 0
		for n := 1; sc.Scan(); n++ {
			var line struct {
				Dir   string          `json:"dir"`
				K     string          `json:"k"`
				Event json.RawMessage `json:"event"`
			}
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatalf("%s:%d: %v", f, n, err)
			}
			if line.Dir != "event" && line.K != "event" {
				continue
			}
			events++
			ev, err := DecodeEvent(line.Event)
			if err != nil {
				t.Errorf("%s:%d: %v", f, n, err)
				continue
			}
			b := ev.Base()
			seen[b.Type]++
			if _, raw := ev.(*RawEvent); raw == known[b.Type] {
				t.Errorf("%s:%d: %s decoded as %T", f, n, b.Type, ev)
			}
			if b.Application == "" || b.AsteriskID == "" || b.Timestamp.IsZero() {
				t.Errorf("%s:%d: incomplete base %+v", f, n, *b)
			}
			if strings.HasPrefix(b.Type, "Channel") || strings.HasPrefix(b.Type, "Stasis") || b.Type == TypeDial ||
				strings.HasPrefix(b.Type, "Playback") || strings.HasPrefix(b.Type, "Recording") || strings.HasPrefix(b.Type, "Bridge") {
				if len(ev.Keys()) == 0 {
					t.Errorf("%s:%d: %s has no routing keys", f, n, b.Type)
				}
			}
		}
		if events == 0 && filepath.Base(f) != "errors.jsonl" {
			t.Errorf("%s: no events", f)
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	for _, ty := range []string{TypeStasisStart, TypeDial, TypeChannelHangupRequest, TypeChannelDtmfReceived, TypePlaybackFinished} {
		if seen[ty] == 0 {
			t.Errorf("no %s in the traces", ty)
		}
	}
}

// A timestamp reads the same with or without JSON escapes.
func TestTimeUnmarshalJSON(t *testing.T) {
	want, err := ParseTime("2026-01-05T10:00:00.123+0700")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in   string
		want time.Time
		err  bool
	}{
		{in: `"2026-01-05T10:00:00.123+0700"`, want: want},
		{in: `"2026\u002d01-05T10:00:00.123+0700"`, want: want},
		{in: `""`},
		{in: `null`},
		{in: `5`, err: true},
		{in: `"yesterday"`, err: true},
	} {
		var got Time
		err := got.UnmarshalJSON([]byte(tc.in))
		if (err != nil) != tc.err || !got.Equal(tc.want) {
			t.Errorf("%s: %v, %v; want %v, error %v", tc.in, got.Time, err, tc.want, tc.err)
		}
	}
}
