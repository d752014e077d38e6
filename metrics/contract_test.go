package metrics

import (
	"testing"
	"time"
)

// ariObserver is a copy of ari.Observer (this package imports nothing of
// the project): the app passes m.ARI() where the ARI client wants one.
type ariObserver interface {
	RequestDone(node, op string, status int, d time.Duration, err error)
	EventReceived(node, eventType string)
	ConnectionState(node string, connected bool)
	Reconnected(node string)
	QueueOverflow(node, eventType string)
}

// storeObserver is a copy of store.Observer: the app passes m itself.
type storeObserver interface {
	SetSpooled(n int)
	DBError(op string)
}

var (
	_ ariObserver   = (*ARIObserver)(nil)
	_ storeObserver = (*Metrics)(nil)
)

// BenchmarkCallFlow measures the metric updates of one typical call:
// offered, three legs with a fallback, accepted, talk, ended, rating.
func BenchmarkCallFlow(b *testing.B) {
	m, _ := newTestMetrics(b, testOptions)
	b.ReportAllocs()
	for b.Loop() {
		m.CallOffered("caller_id", "north")
		m.ActiveCalls("ringing", 1)
		m.LegEnded("technician", "viettel", "viettel", "no_answer", "KTV01")
		m.LegEnded("technician", "viettel", "viettel", "no_answer", "KTV01")
		m.Fallback("technician", "area_manager")
		m.LegEnded("area_manager", "mobifone", "mobifone", "answered", "AM01")
		m.ActiveCalls("ringing", -1)
		m.Accepted("north", 25*time.Second)
		m.TalkTime("north", "area_manager", 3*time.Minute)
		m.CallEnded("answered", "caller_id", "north")
		m.Rating("north", "AM01", 5)
	}
}
