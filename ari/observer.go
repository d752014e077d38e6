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
	// EventReceived is called for every message read from the WebSocket
	// with its event type, or "invalid" for a message that is not an event.
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

// operations is the fixed set of op names given to Observer.RequestDone.
var operations = []string{
	"applications.event_filter", "applications.get",
	"asterisk.info", "asterisk.ping", "asterisk.var_get", "asterisk.var_set",
	"bridges.add_channel", "bridges.create", "bridges.destroy", "bridges.get", "bridges.list",
	"bridges.moh_start", "bridges.moh_stop", "bridges.play", "bridges.record", "bridges.remove_channel",
	"channels.answer", "channels.continue", "channels.create", "channels.dial", "channels.dtmf",
	"channels.get", "channels.hangup", "channels.list", "channels.moh_start", "channels.moh_stop",
	"channels.originate", "channels.play", "channels.record", "channels.ring", "channels.ring_stop",
	"channels.snoop", "channels.var_get", "channels.var_set",
	"endpoints.get", "endpoints.list",
	"playbacks.get", "playbacks.stop",
	"recordings.live_cancel", "recordings.live_get", "recordings.live_stop",
	"recordings.stored_delete", "recordings.stored_get",
	"sounds.get",
}

// Operations returns every op name Observer.RequestDone can receive, so a
// metrics package can create its series up front.
func Operations() []string { return append([]string(nil), operations...) }
