package ari

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// HangupReason is the reason given to Asterisk when hanging a channel up
// (DELETE /channels/{id}?reason=…). The empty reason lets Asterisk choose
// (normal clearing).
type HangupReason string

// Hangup reasons accepted by Asterisk.
const (
	HangupNormal            HangupReason = "normal"
	HangupBusy              HangupReason = "busy"
	HangupCongestion        HangupReason = "congestion"
	HangupNoAnswer          HangupReason = "no_answer"
	HangupTimeout           HangupReason = "timeout"
	HangupRejected          HangupReason = "rejected"
	HangupUnallocated       HangupReason = "unallocated"
	HangupNormalUnspecified HangupReason = "normal_unspecified"
	HangupNumberIncomplete  HangupReason = "number_incomplete"
	HangupCodecMismatch     HangupReason = "codec_mismatch"
	HangupInterworking      HangupReason = "interworking"
	HangupFailure           HangupReason = "failure"
	HangupAnsweredElsewhere HangupReason = "answered_elsewhere"
)

// CreateChannelParams are the parameters of POST /channels/create: a channel
// is created (state Down, immediately in the Stasis app) but not dialled;
// call Dial next.
type CreateChannelParams struct {
	// ChannelID is the caller-chosen unique id; subscribe to it before
	// creating, since StasisStart can arrive before the HTTP answer.
	ChannelID string
	// Endpoint to call, e.g. "PJSIP/0912345678@gw-viettel". Required.
	Endpoint string
	// App is the Stasis application; the client's App when empty.
	App string
	// AppArgs are passed to the application in StasisStart.args.
	AppArgs string
	// OtherChannelID is the id of the second channel of a Local channel.
	OtherChannelID string
	// Originator is the channel this one is dialled for (codecs, linkedid).
	Originator string
	// Formats are codec names, e.g. "ulaw", when there is no Originator.
	Formats []string
	// Variables are channel variables set on the new channel.
	Variables map[string]string
}

// OriginateParams are the parameters of POST /channels: the channel is
// created and dialled at once, and either joins App or goes to the dialplan.
type OriginateParams struct {
	// ChannelID is the caller-chosen unique id (optional).
	ChannelID string
	// Endpoint to call. Required.
	Endpoint string
	// Extension, Context, Priority and Label send the answered channel to
	// the dialplan (when App is empty).
	Extension, Context string
	Priority           int64
	Label              string
	// App and AppArgs send the answered channel into a Stasis application.
	App, AppArgs string
	// CallerID is the caller id to present, e.g. `"Hotline" <1900>`.
	CallerID string
	// Timeout is how long to ring; Asterisk's default (30 s) when zero.
	Timeout        time.Duration
	OtherChannelID string
	Originator     string
	Formats        []string
	Variables      map[string]string
}

// ContinueParams say where a channel continues in the dialplan when it
// leaves Stasis; empty fields keep the channel's current position.
type ContinueParams struct {
	Context   string
	Extension string
	Priority  int
	Label     string
}

// RecordParams are the parameters of a live recording on a channel or bridge.
type RecordParams struct {
	// Name of the recording (stored name). Required.
	Name string
	// Format is the file format, e.g. "wav". Required.
	Format string
	// MaxDuration and MaxSilence end the recording; zero means no limit.
	MaxDuration, MaxSilence time.Duration
	// IfExists is "fail" (default), "overwrite" or "append".
	IfExists string
	// Beep plays a beep before recording.
	Beep bool
	// TerminateOn is a DTMF that ends the recording: "none" (default),
	// "any", "*" or "#".
	TerminateOn string
}

// PlayParams are the parameters of a playback on a channel or bridge.
type PlayParams struct {
	// PlaybackID is the caller-chosen playback id; subscribe to it before
	// playing. Asterisk chooses one when empty.
	PlaybackID string
	// Media URIs played in order, e.g. "sound:hello", "digits:42",
	// "sound:/var/lib/asterisk/sounds/vi/greeting". At least one.
	Media []string
	// Lang is the language for sound: URIs, e.g. "vi".
	Lang string
	// Offset skips the start of the first media.
	Offset time.Duration
	// Skip is the forward/reverse step of playback control.
	Skip time.Duration
}

// SnoopParams are the parameters of a snoop channel (listen and/or whisper).
type SnoopParams struct {
	// SnoopID is the caller-chosen id of the snoop channel (optional).
	SnoopID string
	// Spy and Whisper are "none", "both", "out" or "in".
	Spy, Whisper string
	// App is the Stasis application of the snoop channel; the client's
	// App when empty.
	App, AppArgs string
}

// GetChannel returns the channel's current state.
func (c *Client) GetChannel(ctx context.Context, id string) (*Channel, error) {
	if err := need("channels.get", "channel id", id); err != nil {
		return nil, err
	}
	var ch Channel
	if err := c.do(ctx, request{op: "channels.get", method: "GET", path: "/channels/" + seg(id)}, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// ListChannels returns all active channels of the node.
func (c *Client) ListChannels(ctx context.Context) ([]Channel, error) {
	var chs []Channel
	if err := c.do(ctx, request{op: "channels.list", method: "GET", path: "/channels"}, &chs); err != nil {
		return nil, err
	}
	return chs, nil
}

// CreateChannel creates a channel in state Down, in the Stasis application,
// without dialling it.
func (c *Client) CreateChannel(ctx context.Context, p CreateChannelParams) (*Channel, error) {
	if err := need("channels.create", "endpoint", p.Endpoint); err != nil {
		return nil, err
	}
	q := url.Values{"endpoint": {p.Endpoint}, "app": {orDefault(p.App, c.app)}}
	setIf(q, "appArgs", p.AppArgs)
	setIf(q, "channelId", p.ChannelID)
	setIf(q, "otherChannelId", p.OtherChannelID)
	setIf(q, "originator", p.Originator)
	setIf(q, "formats", strings.Join(p.Formats, ","))
	var ch Channel
	r := request{op: "channels.create", method: "POST", path: "/channels/create", query: q, body: variablesBody(p.Variables)}
	if err := c.do(ctx, r, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// Dial dials a channel made by CreateChannel. caller is the id of the
// channel this one is dialled for (optional); timeout is how long it may
// ring before Asterisk hangs it up (zero: no limit; rounded up to seconds).
func (c *Client) Dial(ctx context.Context, id, caller string, timeout time.Duration) error {
	if err := need("channels.dial", "channel id", id); err != nil {
		return err
	}
	q := url.Values{}
	setIf(q, "caller", caller)
	if timeout > 0 {
		q.Set("timeout", strconv.Itoa(ceilSeconds(timeout)))
	}
	return c.do(ctx, request{op: "channels.dial", method: "POST", path: "/channels/" + seg(id) + "/dial", query: q}, nil)
}

// Originate creates and dials a channel in one step (POST /channels). Unlike
// CreateChannel+Dial, no StasisStart arrives until the far end answers, and
// none when it fails.
func (c *Client) Originate(ctx context.Context, p OriginateParams) (*Channel, error) {
	if err := need("channels.originate", "endpoint", p.Endpoint); err != nil {
		return nil, err
	}
	q := url.Values{"endpoint": {p.Endpoint}}
	setIf(q, "extension", p.Extension)
	setIf(q, "context", p.Context)
	if p.Priority != 0 {
		q.Set("priority", strconv.FormatInt(p.Priority, 10))
	}
	setIf(q, "label", p.Label)
	setIf(q, "app", p.App)
	setIf(q, "appArgs", p.AppArgs)
	setIf(q, "callerId", p.CallerID)
	if p.Timeout > 0 {
		q.Set("timeout", strconv.Itoa(ceilSeconds(p.Timeout)))
	}
	setIf(q, "channelId", p.ChannelID)
	setIf(q, "otherChannelId", p.OtherChannelID)
	setIf(q, "originator", p.Originator)
	setIf(q, "formats", strings.Join(p.Formats, ","))
	var ch Channel
	r := request{op: "channels.originate", method: "POST", path: "/channels", query: q, body: variablesBody(p.Variables)}
	if err := c.do(ctx, r, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// Answer answers a channel.
func (c *Client) Answer(ctx context.Context, id string) error {
	return c.channelAction(ctx, "channels.answer", "POST", id, "/answer", nil)
}

// Hangup hangs a channel up with a reason ("" lets Asterisk choose). A
// channel that is already gone gives ErrNotFound.
func (c *Client) Hangup(ctx context.Context, id string, reason HangupReason) error {
	q := url.Values{}
	setIf(q, "reason", string(reason))
	return c.channelAction(ctx, "channels.hangup", "DELETE", id, "", q)
}

// Ring indicates ringing to a channel (the caller hears ringback).
func (c *Client) Ring(ctx context.Context, id string) error {
	return c.channelAction(ctx, "channels.ring", "POST", id, "/ring", nil)
}

// RingStop stops ringing indication on a channel.
func (c *Client) RingStop(ctx context.Context, id string) error {
	return c.channelAction(ctx, "channels.ring_stop", "DELETE", id, "/ring", nil)
}

// StartChannelMOH plays music on hold to a channel; class "" is the default.
func (c *Client) StartChannelMOH(ctx context.Context, id, class string) error {
	q := url.Values{}
	setIf(q, "mohClass", class)
	return c.channelAction(ctx, "channels.moh_start", "POST", id, "/moh", q)
}

// StopChannelMOH stops music on hold on a channel.
func (c *Client) StopChannelMOH(ctx context.Context, id string) error {
	return c.channelAction(ctx, "channels.moh_stop", "DELETE", id, "/moh", nil)
}

// SendDTMF sends DTMF digits to a channel with Asterisk's default timing.
func (c *Client) SendDTMF(ctx context.Context, id, digits string) error {
	if err := need("channels.dtmf", "dtmf", digits); err != nil {
		return err
	}
	return c.channelAction(ctx, "channels.dtmf", "POST", id, "/dtmf", url.Values{"dtmf": {digits}})
}

// ContinueInDialplan makes a channel leave Stasis and continue in the
// dialplan.
func (c *Client) ContinueInDialplan(ctx context.Context, id string, p ContinueParams) error {
	q := url.Values{}
	setIf(q, "context", p.Context)
	setIf(q, "extension", p.Extension)
	if p.Priority != 0 {
		q.Set("priority", strconv.Itoa(p.Priority))
	}
	setIf(q, "label", p.Label)
	return c.channelAction(ctx, "channels.continue", "POST", id, "/continue", q)
}

// GetChannelVar returns a channel variable (or dialplan function such as
// "CALLERID(num)").
func (c *Client) GetChannelVar(ctx context.Context, id, name string) (string, error) {
	if err := need("channels.var_get", "channel id", id); err != nil {
		return "", err
	}
	if err := need("channels.var_get", "variable", name); err != nil {
		return "", err
	}
	var v variable
	r := request{op: "channels.var_get", method: "GET", path: "/channels/" + seg(id) + "/variable", query: url.Values{"variable": {name}}}
	if err := c.do(ctx, r, &v); err != nil {
		return "", err
	}
	return v.Value, nil
}

// SetChannelVar sets a channel variable. The value travels in a JSON body
// ({"value": …}), not in the query: Asterisk reads a request line of at most
// 4096 bytes (main/http.c MAX_HTTP_LINE_LENGTH) and a body of up to 40 kB.
// On Asterisk the request runs on the channel's thread: while the channel
// plays something outside a bridge, the answer waits for the playback's end.
func (c *Client) SetChannelVar(ctx context.Context, id, name, value string) error {
	if err := need("channels.var_set", "channel id", id); err != nil {
		return err
	}
	if err := need("channels.var_set", "variable", name); err != nil {
		return err
	}
	return c.do(ctx, request{op: "channels.var_set", method: "POST", path: "/channels/" + seg(id) + "/variable",
		query: url.Values{"variable": {name}}, body: map[string]string{"value": value}}, nil)
}

// PlayChannel starts a playback on a channel. With p.PlaybackID set, the id
// is the caller's (POST /channels/{id}/play/{playbackId}).
func (c *Client) PlayChannel(ctx context.Context, id string, p PlayParams) (*Playback, error) {
	if err := need("channels.play", "channel id", id); err != nil {
		return nil, err
	}
	return c.play(ctx, "channels.play", "/channels/"+seg(id), p)
}

// RecordChannel starts recording a channel.
func (c *Client) RecordChannel(ctx context.Context, id string, p RecordParams) (*LiveRecording, error) {
	if err := need("channels.record", "channel id", id); err != nil {
		return nil, err
	}
	return c.record(ctx, "channels.record", "/channels/"+seg(id), p)
}

// Snoop creates a snoop channel on a channel (to listen or whisper).
func (c *Client) Snoop(ctx context.Context, id string, p SnoopParams) (*Channel, error) {
	if err := need("channels.snoop", "channel id", id); err != nil {
		return nil, err
	}
	q := url.Values{"app": {orDefault(p.App, c.app)}}
	setIf(q, "spy", p.Spy)
	setIf(q, "whisper", p.Whisper)
	setIf(q, "appArgs", p.AppArgs)
	path := "/channels/" + seg(id) + "/snoop"
	if p.SnoopID != "" {
		path += "/" + seg(p.SnoopID)
	}
	var ch Channel
	if err := c.do(ctx, request{op: "channels.snoop", method: "POST", path: path, query: q}, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// channelAction performs a bodiless call on /channels/{id}{suffix}.
func (c *Client) channelAction(ctx context.Context, op, method, id, suffix string, q url.Values) error {
	if err := need(op, "channel id", id); err != nil {
		return err
	}
	return c.do(ctx, request{op: op, method: method, path: "/channels/" + seg(id) + suffix, query: q}, nil)
}

// play is shared by channels and bridges; target is "/channels/{id}" or
// "/bridges/{id}".
func (c *Client) play(ctx context.Context, op, target string, p PlayParams) (*Playback, error) {
	if len(p.Media) == 0 {
		return nil, fmt.Errorf("ari %s: no media: %w", op, ErrBadRequest)
	}
	q := url.Values{"media": p.Media}
	setIf(q, "lang", p.Lang)
	if p.Offset > 0 {
		q.Set("offsetms", strconv.FormatInt(p.Offset.Milliseconds(), 10))
	}
	if p.Skip > 0 {
		q.Set("skipms", strconv.FormatInt(p.Skip.Milliseconds(), 10))
	}
	path := target + "/play"
	if p.PlaybackID != "" {
		path += "/" + seg(p.PlaybackID)
	}
	var pb Playback
	if err := c.do(ctx, request{op: op, method: "POST", path: path, query: q}, &pb); err != nil {
		return nil, err
	}
	return &pb, nil
}

// record is shared by channels and bridges.
func (c *Client) record(ctx context.Context, op, target string, p RecordParams) (*LiveRecording, error) {
	if err := need(op, "recording name", p.Name); err != nil {
		return nil, err
	}
	if err := need(op, "format", p.Format); err != nil {
		return nil, err
	}
	q := url.Values{"name": {p.Name}, "format": {p.Format}}
	if p.MaxDuration > 0 {
		q.Set("maxDurationSeconds", strconv.Itoa(ceilSeconds(p.MaxDuration)))
	}
	if p.MaxSilence > 0 {
		q.Set("maxSilenceSeconds", strconv.Itoa(ceilSeconds(p.MaxSilence)))
	}
	setIf(q, "ifExists", p.IfExists)
	if p.Beep {
		q.Set("beep", "true")
	}
	setIf(q, "terminateOn", p.TerminateOn)
	var rec LiveRecording
	if err := c.do(ctx, request{op: op, method: "POST", path: target + "/record", query: q}, &rec); err != nil {
		return nil, err
	}
	return &rec, nil
}

// variablesBody is the JSON body carrying channel variables, nil when none.
func variablesBody(vars map[string]string) any {
	if len(vars) == 0 {
		return nil
	}
	return map[string]map[string]string{"variables": vars}
}

func setIf(q url.Values, key, v string) {
	if v != "" {
		q.Set(key, v)
	}
}

// need rejects an empty required parameter before anything is sent (an empty
// id would otherwise address a different resource).
func need(op, what, v string) error {
	if v == "" {
		return fmt.Errorf("ari %s: %s is required: %w", op, what, ErrBadRequest)
	}
	return nil
}

// ceilSeconds rounds d up to whole seconds (ARI takes integer seconds).
func ceilSeconds(d time.Duration) int {
	return int(math.Ceil(d.Seconds()))
}
