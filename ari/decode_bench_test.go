package ari

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkDecodeEvent decodes the recorded Asterisk events of
// testdata/events, one after the other (one op = one event).
func BenchmarkDecodeEvent(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join("testdata", "events", "*.json"))
	var msgs [][]byte
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, data)
	}
	if len(msgs) == 0 {
		b.Fatal("no events")
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := DecodeEvent(msgs[i%len(msgs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
