package ari

import "time"

// Observer receives measurements from a Client, so a metrics package can be
// attached without this package importing it. All methods must be safe for
// concurrent use and must not block. A nil Observer in Config means no-op.
type Observer interface {
	// RequestDone is called after every REST call. op is one of a small
	// fixed set ("channels.answer", "bridges.create", …) and never contains
	// an id; status is the HTTP status, 0 when no response arrived.
	RequestDone(node, op string, status int, d time.Duration, err error)
	// EventReceived is called for every event read from the WebSocket.
	EventReceived(node, eventType string)
	// ConnectionState is called when the events WebSocket connects or drops.
	ConnectionState(node string, connected bool)
	// Reconnected is called when the WebSocket is up again after a drop:
	// the application should reconcile its calls.
	Reconnected(node string)
	// QueueOverflow is called when an event could not be queued for a
	// subscriber because its queue reached Config.QueueLimit.
	QueueOverflow(node, eventType string)
}

// NopObserver is an Observer that does nothing; embed it to implement only
// some methods.
type NopObserver struct{}

// RequestDone implements Observer.
func (NopObserver) RequestDone(string, string, int, time.Duration, error) {}

// EventReceived implements Observer.
func (NopObserver) EventReceived(string, string) {}

// ConnectionState implements Observer.
func (NopObserver) ConnectionState(string, bool) {}

// Reconnected implements Observer.
func (NopObserver) Reconnected(string) {}

// QueueOverflow implements Observer.
func (NopObserver) QueueOverflow(string, string) {}
