package metrics

import "time"

// ARIObserver receives the ARI client's measurements. Its method set matches
// the ari package's Observer interface, so the app passes m.ARI() to the
// client without either package importing the other. All methods are safe
// for concurrent use, never block, and are no-ops on a nil *Metrics.
type ARIObserver struct {
	m *Metrics
}

// ARI returns the observer to give the ARI client.
func (m *Metrics) ARI() *ARIObserver {
	return &ARIObserver{m: m}
}

// statusClass maps an HTTP status to its class; 0 (no response) is "none".
func statusClass(status int) string {
	switch {
	case status >= 200 && status < 300:
		return "2xx"
	case status >= 300 && status < 400:
		return "3xx"
	case status >= 400 && status < 500:
		return "4xx"
	case status >= 500 && status < 600:
		return "5xx"
	}
	return "none"
}

// ariOp maps an ARI operation name ("channels.create") to its label value.
func (m *Metrics) ariOp(op string) string {
	out, ok := m.ariOps.get(op)
	if !ok {
		m.rejected.WithLabelValues("op").Inc()
	}
	return out
}

// ariNode maps an Asterisk node name to its label value.
func (m *Metrics) ariNode(node string) string {
	out, ok := m.ariNodes.get(node)
	if !ok {
		m.rejected.WithLabelValues("node").Inc()
	}
	return out
}

// RequestDone records one REST call: its operation (a fixed name such as
// "channels.create", never an id), HTTP status (0 when no response arrived)
// and duration. node and err are not labels: errors are classified by status.
func (o *ARIObserver) RequestDone(node, op string, status int, d time.Duration, err error) {
	if o == nil || o.m == nil {
		return
	}
	label := o.m.ariOp(op)
	o.m.ariDuration.WithLabelValues(label).Observe(seconds(d))
	o.m.ariRequests.WithLabelValues(label, statusClass(status)).Inc()
}

// EventReceived counts one event by its Asterisk type; a type outside
// ARIEventTypes counts as other.
func (o *ARIObserver) EventReceived(node, eventType string) {
	if o == nil || o.m == nil {
		return
	}
	o.m.ariEvents.WithLabelValues(o.m.fixed(o.m.eventTypes, "type", eventType)).Inc()
}

// ConnectionState sets hotline_ari_connected for node to 1 or 0.
func (o *ARIObserver) ConnectionState(node string, connected bool) {
	if o == nil || o.m == nil {
		return
	}
	v := 0.0
	if connected {
		v = 1
	}
	o.m.ariConnected.WithLabelValues(o.m.ariNode(node)).Set(v)
}

// Reconnected counts the events WebSocket to node coming back after a drop.
func (o *ARIObserver) Reconnected(node string) {
	if o == nil || o.m == nil {
		return
	}
	o.m.ariReconnects.WithLabelValues(o.m.ariNode(node)).Inc()
}

// QueueOverflow counts an event that could not be queued for a consumer.
func (o *ARIObserver) QueueOverflow(node, eventType string) {
	if o == nil || o.m == nil {
		return
	}
	o.m.ariOverflows.Inc()
}
