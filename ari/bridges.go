package ari

import (
	"context"
	"net/url"
)

// Bridge types, combined with commas in CreateBridgeParams.Type.
const (
	BridgeMixing     = "mixing"
	BridgeHolding    = "holding"
	BridgeDTMFEvents = "dtmf_events"
	BridgeProxyMedia = "proxy_media"
)

// CreateBridgeParams are the parameters of a new bridge.
type CreateBridgeParams struct {
	// ID is the caller-chosen bridge id (POST /bridges/{id}); Asterisk
	// chooses one when empty.
	ID string
	// Type is a comma-separated list of bridge types, e.g. "mixing" or
	// "mixing,dtmf_events".
	Type string
	// Name is a descriptive name.
	Name string
}

// CreateBridge creates a bridge.
func (c *Client) CreateBridge(ctx context.Context, p CreateBridgeParams) (*Bridge, error) {
	q := url.Values{}
	setIf(q, "type", p.Type)
	setIf(q, "name", p.Name)
	path := "/bridges"
	if p.ID != "" {
		path += "/" + seg(p.ID)
	}
	var b Bridge
	if err := c.do(ctx, request{op: "bridges.create", method: "POST", path: path, query: q}, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

// GetBridge returns a bridge's current state.
func (c *Client) GetBridge(ctx context.Context, id string) (*Bridge, error) {
	if err := need("bridges.get", "bridge id", id); err != nil {
		return nil, err
	}
	var b Bridge
	if err := c.do(ctx, request{op: "bridges.get", method: "GET", path: "/bridges/" + seg(id)}, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

// ListBridges returns all bridges of the node.
func (c *Client) ListBridges(ctx context.Context) ([]Bridge, error) {
	var bs []Bridge
	if err := c.do(ctx, request{op: "bridges.list", method: "GET", path: "/bridges"}, &bs); err != nil {
		return nil, err
	}
	return bs, nil
}

// DestroyBridge destroys a bridge; its channels stay up. Destroying a bridge
// twice gives ErrNotFound.
func (c *Client) DestroyBridge(ctx context.Context, id string) error {
	return c.bridgeAction(ctx, "bridges.destroy", "DELETE", id, "", nil)
}

// AddChannels adds channels to a bridge. A channel that is not in Stasis
// gives ErrUnprocessable.
func (c *Client) AddChannels(ctx context.Context, bridgeID string, channelIDs ...string) error {
	if len(channelIDs) == 0 {
		return need("bridges.add_channel", "channel id", "")
	}
	return c.bridgeAction(ctx, "bridges.add_channel", "POST", bridgeID, "/addChannel", url.Values{"channel": channelIDs})
}

// RemoveChannels removes channels from a bridge.
func (c *Client) RemoveChannels(ctx context.Context, bridgeID string, channelIDs ...string) error {
	if len(channelIDs) == 0 {
		return need("bridges.remove_channel", "channel id", "")
	}
	return c.bridgeAction(ctx, "bridges.remove_channel", "POST", bridgeID, "/removeChannel", url.Values{"channel": channelIDs})
}

// PlayBridge starts a playback heard by every channel in a bridge.
func (c *Client) PlayBridge(ctx context.Context, bridgeID string, p PlayParams) (*Playback, error) {
	if err := need("bridges.play", "bridge id", bridgeID); err != nil {
		return nil, err
	}
	return c.play(ctx, "bridges.play", "/bridges/"+seg(bridgeID), p)
}

// RecordBridge starts recording a bridge.
func (c *Client) RecordBridge(ctx context.Context, bridgeID string, p RecordParams) (*LiveRecording, error) {
	if err := need("bridges.record", "bridge id", bridgeID); err != nil {
		return nil, err
	}
	return c.record(ctx, "bridges.record", "/bridges/"+seg(bridgeID), p)
}

// StartBridgeMOH plays music on hold to a bridge; class "" is the default.
func (c *Client) StartBridgeMOH(ctx context.Context, bridgeID, class string) error {
	q := url.Values{}
	setIf(q, "mohClass", class)
	return c.bridgeAction(ctx, "bridges.moh_start", "POST", bridgeID, "/moh", q)
}

// StopBridgeMOH stops music on hold on a bridge.
func (c *Client) StopBridgeMOH(ctx context.Context, bridgeID string) error {
	return c.bridgeAction(ctx, "bridges.moh_stop", "DELETE", bridgeID, "/moh", nil)
}

func (c *Client) bridgeAction(ctx context.Context, op, method, id, suffix string, q url.Values) error {
	if err := need(op, "bridge id", id); err != nil {
		return err
	}
	return c.do(ctx, request{op: op, method: method, path: "/bridges/" + seg(id) + suffix, query: q}, nil)
}
