package ari

import (
	"context"
	"net/url"
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
