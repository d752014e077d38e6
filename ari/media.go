package ari

import "context"

// GetPlayback returns a playback's current state.
func (c *Client) GetPlayback(ctx context.Context, id string) (*Playback, error) {
	if err := need("playbacks.get", "playback id", id); err != nil {
		return nil, err
	}
	var pb Playback
	if err := c.do(ctx, request{op: "playbacks.get", method: "GET", path: "/playbacks/" + seg(id)}, &pb); err != nil {
		return nil, err
	}
	return &pb, nil
}

// StopPlayback stops a playback (PlaybackFinished follows). A playback that
// already finished gives ErrNotFound.
func (c *Client) StopPlayback(ctx context.Context, id string) error {
	if err := need("playbacks.stop", "playback id", id); err != nil {
		return err
	}
	return c.do(ctx, request{op: "playbacks.stop", method: "DELETE", path: "/playbacks/" + seg(id)}, nil)
}

// GetLiveRecording returns a recording in progress.
func (c *Client) GetLiveRecording(ctx context.Context, name string) (*LiveRecording, error) {
	if err := need("recordings.live_get", "recording name", name); err != nil {
		return nil, err
	}
	var rec LiveRecording
	if err := c.do(ctx, request{op: "recordings.live_get", method: "GET", path: "/recordings/live/" + seg(name)}, &rec); err != nil {
		return nil, err
	}
	return &rec, nil
}

// StopRecording stops a live recording and keeps it (it becomes a stored
// recording; RecordingFinished follows).
func (c *Client) StopRecording(ctx context.Context, name string) error {
	if err := need("recordings.live_stop", "recording name", name); err != nil {
		return err
	}
	return c.do(ctx, request{op: "recordings.live_stop", method: "POST", path: "/recordings/live/" + seg(name) + "/stop"}, nil)
}

// CancelRecording stops a live recording and discards it.
func (c *Client) CancelRecording(ctx context.Context, name string) error {
	if err := need("recordings.live_cancel", "recording name", name); err != nil {
		return err
	}
	return c.do(ctx, request{op: "recordings.live_cancel", method: "DELETE", path: "/recordings/live/" + seg(name)}, nil)
}

// GetStoredRecording returns a stored recording.
func (c *Client) GetStoredRecording(ctx context.Context, name string) (*StoredRecording, error) {
	if err := need("recordings.stored_get", "recording name", name); err != nil {
		return nil, err
	}
	var rec StoredRecording
	if err := c.do(ctx, request{op: "recordings.stored_get", method: "GET", path: "/recordings/stored/" + seg(name)}, &rec); err != nil {
		return nil, err
	}
	return &rec, nil
}

// DeleteStoredRecording deletes a stored recording.
func (c *Client) DeleteStoredRecording(ctx context.Context, name string) error {
	if err := need("recordings.stored_delete", "recording name", name); err != nil {
		return err
	}
	return c.do(ctx, request{op: "recordings.stored_delete", method: "DELETE", path: "/recordings/stored/" + seg(name)}, nil)
}
