package ari

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"
)

// FuzzDecodeEvent feeds arbitrary messages to DecodeEvent. The seed corpus
// (testdata/fuzz/FuzzDecodeEvent) is made of real Asterisk events; the files
// in testdata/events are added too. Properties: it never panics; an error
// without an event means ErrBadEvent; a decoded event re-encodes and decodes
// to the same type, base fields and routing keys.
func FuzzDecodeEvent(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "events", "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := DecodeEvent(data)
		if ev == nil {
			if !errors.Is(err, ErrBadEvent) {
				t.Fatalf("nil event with error %v", err)
			}
			return
		}
		_, raw := ev.(*RawEvent)
		if err != nil && !raw {
			t.Fatalf("typed %T with error %v", ev, err)
		}
		if err != nil {
			return // undecodable known type: delivered raw, nothing to round-trip
		}
		b := ev.Base()
		if b.Type == "" {
			t.Fatal("event without type")
		}
		keys := ev.Keys()
		out, merr := json.Marshal(ev)
		if merr != nil {
			t.Fatalf("re-encode %T: %v", ev, merr)
		}
		ev2, err := DecodeEvent(out)
		if err != nil {
			t.Fatalf("decode of re-encoded %T: %v\n%s", ev, err, out)
		}
		if typeName(ev) != typeName(ev2) {
			t.Fatalf("round trip %T -> %T", ev, ev2)
		}
		b2 := ev2.Base()
		if b.Type != b2.Type || b.Application != b2.Application || b.AsteriskID != b2.AsteriskID ||
			!b.Timestamp.Truncate(time.Millisecond).Equal(b2.Timestamp.Truncate(time.Millisecond)) {
			t.Fatalf("base %+v -> %+v", *b, *b2)
		}
		if k2 := ev2.Keys(); !slices.Equal(keys, k2) {
			t.Fatalf("keys %v -> %v", keys, k2)
		}
	})
}

func typeName(ev Event) string {
	if r, ok := ev.(*RawEvent); ok {
		return "raw:" + r.Type
	}
	return ev.Base().Type
}

// FuzzDecodeEventFastType: DecodeEvent — the type found by scanning
// (eventType), the message decoded by segmentio's json — decodes every
// message exactly as encoding/json alone does (decodeEventSlow with
// json.Unmarshal): the same event, or the same kind of error.
func FuzzDecodeEventFastType(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "events", "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{`{"type":"Dial","TYPE":"StasisEnd"}`, `{"Type":"StasisStart","channel":{"id":"x"}}`,
		`{"type":"\u0044ial"}`, `{"\u0074ype":"Dial"}`, `{"type":null}`, `{"type":"Dial","type":null}`, `{"type":5}`,
		`{"type":"Dial"`, `{"type":"Dial"}x`, `{"a":[1,{"type":"x"}],"type":"Dial"}`, `{"a":1x,"type":"Dial"}`,
		`{"type":"Nope","channel":{"id":"c"}}`, `{"type":""}`, `{}`, `[]`, ` {"type" : "StasisEnd" } `,
		`{"type":"StasisEnd","channel":5}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, ferr := DecodeEvent(data)
		slow, serr := decodeEventSlow(data, json.Unmarshal)
		if (ferr == nil) != (serr == nil) || errors.Is(ferr, ErrBadEvent) != errors.Is(serr, ErrBadEvent) {
			t.Fatalf("%q: errors %v and %v", data, ferr, serr)
		}
		if (fast == nil) != (slow == nil) {
			t.Fatalf("%q: events %v and %v", data, fast, slow)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: decoded\n%#v\nand\n%#v", data, fast, slow)
		}
	})
}
