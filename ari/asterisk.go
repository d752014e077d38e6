package ari

import (
	"context"
	"net/url"
	"slices"
)

// GetApplication returns a Stasis application's state; name "" is the
// client's App. After a reconnect its ChannelIDs and BridgeIDs are what the
// application still owns (nothing is replayed on reconnect).
func (c *Client) GetApplication(ctx context.Context, name string) (*Application, error) {
	name = orDefault(name, c.app)
	var a Application
	if err := c.do(ctx, request{op: "applications.get", method: "GET", path: "/applications/" + seg(name)}, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// EventFilter says which event types Asterisk sends a Stasis application:
// only those in Allowed (every type when Allowed is empty), never those in
// Disallowed (which wins over Allowed). Type names are case-sensitive
// ("StasisStart").
//
// Asterisk 22 applies the filter when it is about to write an event to the
// application's WebSocket (res/ari/ari_websockets.c): a filtered event is
// still built as JSON, but neither serialized nor sent nor decoded here.
// Events of channels in the application, ApplicationReplaced included, pass
// through the filter.
type EventFilter struct {
	Allowed    []string
	Disallowed []string
}

// filterTypes is the filter's wire form: [{"type": "StasisStart"}, …].
func filterTypes(types []string) []map[string]string {
	out := make([]map[string]string, 0, len(types))
	for _, t := range types {
		out = append(out, map[string]string{"type": t})
	}
	return out
}

// SetEventFilter replaces a Stasis application's event filter (PUT
// /applications/{name}/eventFilter); name "" is the client's App. Both lists
// are sent, so an empty one clears that side; an empty EventFilter lets every
// event through again. The application must exist (a WebSocket registered
// it): ErrNotFound otherwise. Asterisk keeps the filter as long as it keeps
// the application, which it may drop once no WebSocket and no channel hold it,
// so set it again after every connect. It returns the application's state,
// whose EventsAllowed / EventsDisallowed show the filter in force.
func (c *Client) SetEventFilter(ctx context.Context, name string, f EventFilter) (*Application, error) {
	name = orDefault(name, c.app)
	for _, t := range slices.Concat(f.Allowed, f.Disallowed) {
		if err := need("applications.event_filter", "event type", t); err != nil {
			return nil, err
		}
	}
	body := map[string]any{"allowed": filterTypes(f.Allowed), "disallowed": filterTypes(f.Disallowed)}
	var a Application
	r := request{op: "applications.event_filter", method: "PUT", path: "/applications/" + seg(name) + "/eventFilter", body: body}
	if err := c.do(ctx, r, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// Info returns Asterisk's build, system, config and status information.
func (c *Client) Info(ctx context.Context) (*AsteriskInfo, error) {
	var info AsteriskInfo
	if err := c.do(ctx, request{op: "asterisk.info", method: "GET", path: "/asterisk/info"}, &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// Ping checks that Asterisk answers REST calls.
func (c *Client) Ping(ctx context.Context) (*AsteriskPing, error) {
	var p AsteriskPing
	if err := c.do(ctx, request{op: "asterisk.ping", method: "GET", path: "/asterisk/ping"}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// GetGlobalVar returns a global dialplan variable.
func (c *Client) GetGlobalVar(ctx context.Context, name string) (string, error) {
	if err := need("asterisk.var_get", "variable", name); err != nil {
		return "", err
	}
	var v variable
	r := request{op: "asterisk.var_get", method: "GET", path: "/asterisk/variable", query: url.Values{"variable": {name}}}
	if err := c.do(ctx, r, &v); err != nil {
		return "", err
	}
	return v.Value, nil
}

// SetGlobalVar sets a global dialplan variable.
func (c *Client) SetGlobalVar(ctx context.Context, name, value string) error {
	if err := need("asterisk.var_set", "variable", name); err != nil {
		return err
	}
	q := url.Values{"variable": {name}, "value": {value}}
	return c.do(ctx, request{op: "asterisk.var_set", method: "POST", path: "/asterisk/variable", query: q}, nil)
}
