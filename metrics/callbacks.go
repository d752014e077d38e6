package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// CallbackCancelReasons are why a callback request was cancelled: a new
// call from the café, one of its voicemails marked handled, the café closed
// or gone from the directory.
var CallbackCancelReasons = []string{"new_call", "voicemail_handled", "cafe_closed"}

// callbackMetrics follow the hotline calling cafés back after a missed
// call. Requested, cancelled and given up are counted once across all
// instances (whichever sees the database change first), attempted and
// connected by the instance that made the try.
type callbackMetrics struct {
	reasons   fixedSet
	requested prometheus.Counter
	attempted prometheus.Counter
	connected prometheus.Counter
	cancelled *prometheus.CounterVec
	givenUp   prometheus.Counter
	pending   prometheus.Gauge
}

func (m *Metrics) registerCallbacks(f promauto.Factory) {
	c := &m.callbacks
	c.reasons = newFixedSet(CallbackCancelReasons)
	c.requested = f.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "callbacks_requested_total",
		Help: "Callback requests made: calls from a known café that ended no_answer, voicemail or abandoned after waiting.",
	})
	c.attempted = f.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "callbacks_attempted_total",
		Help: "Callback tries: a person of the café's plan (or the one a supervisor chose) was rung to call the café back.",
	})
	c.connected = f.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "callbacks_connected_total",
		Help: "Callback tries where the café answered and was bridged with the person who accepted.",
	})
	c.cancelled = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "callbacks_cancelled_total",
		Help: "Callback requests cancelled before the café was reached, by reason (new_call, voicemail_handled, cafe_closed).",
	}, []string{"reason"})
	c.givenUp = f.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "callbacks_given_up_total",
		Help: "Callback requests closed after every try failed (callback.tries).",
	})
	c.pending = f.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "callbacks_pending",
		Help: "Callback requests waiting for their next try (or being tried).",
	})
	for _, r := range CallbackCancelReasons {
		c.cancelled.WithLabelValues(r)
	}
}

// CallbacksRequested counts n callback requests made.
func (m *Metrics) CallbacksRequested(n int) {
	if m == nil || n <= 0 {
		return
	}
	m.callbacks.requested.Add(float64(n))
}

// CallbackAttempted counts a callback try that rang someone.
func (m *Metrics) CallbackAttempted() {
	if m == nil {
		return
	}
	m.callbacks.attempted.Inc()
}

// CallbackConnected counts a callback try that reached the café.
func (m *Metrics) CallbackConnected() {
	if m == nil {
		return
	}
	m.callbacks.connected.Inc()
}

// CallbacksCancelled counts n callback requests cancelled for reason (one
// of CallbackCancelReasons; anything else counts as other).
func (m *Metrics) CallbacksCancelled(reason string, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.callbacks.cancelled.WithLabelValues(m.fixed(m.callbacks.reasons, "reason", reason)).Add(float64(n))
}

// CallbacksGivenUp counts n callback requests closed after their last try.
func (m *Metrics) CallbacksGivenUp(n int) {
	if m == nil || n <= 0 {
		return
	}
	m.callbacks.givenUp.Add(float64(n))
}

// SetCallbacksPending reports how many callback requests wait.
func (m *Metrics) SetCallbacksPending(n int) {
	if m == nil {
		return
	}
	m.callbacks.pending.Set(float64(n))
}
