// Package ari is a small client for the Asterisk REST Interface (ARI) of one
// Asterisk node.
//
// It owns three things and nothing else (it knows nothing about the product
// that uses it):
//
//   - REST: typed calls for the resources a Stasis application needs
//     (channels, bridges, playbacks, recordings, applications, asterisk),
//     and those a set-up check needs (endpoints, sounds). Every call takes a
//     context.Context; HTTP status codes become typed errors (*Error, which
//     unwraps to sentinels such as ErrNotFound or ErrNotInStasis) checked
//     before any body is decoded. Requests go over kept HTTP/1.1
//     connections, each written and its answer read by the goroutine that
//     makes it (conns.go): net/http's per-connection goroutines were a
//     quarter of a busy hotline's CPU.
//   - Events: the /ari/events WebSocket decoded into typed structs
//     (StasisStart, Dial, ChannelHangupRequest, …; any other type arrives as
//     *RawEvent). Run keeps the socket up: exponential backoff with jitter,
//     ping keepalive so a dead peer is noticed within seconds, an observable
//     connection state (State, WaitConnected) whose Connects counter tells an
//     application that it must reconcile its calls after a reconnect
//     (GetApplication lists the channels still in the app). SetEventFilter
//     asks Asterisk to write only the event types an application handles.
//   - Delivery: events are routed to Subscriptions by key (channel id, bridge
//     id, playback id, recording name, event type, or everything). The socket
//     reader never blocks: each subscription has its own queue, so a slow
//     subscriber never delays another and events for one channel reach each
//     subscriber in the order Asterisk sent them. A subscription may be made
//     before the channel exists (caller-chosen ids), because Asterisk often
//     sends StasisStart before the HTTP response of the create. A Subscribe
//     falls wholly between two dispatches: what it misses of a channel whose
//     events were already flowing (a new call's, after its StasisStart) was
//     queued for the other subscriptions before it returned, and
//     Subscription.Queued says how much, so their reader can tell when it
//     has seen it all.
//
// One Client talks to one Asterisk node; Config.Node names it and every event
// carries that name (EventBase.Node) next to Asterisk's own asterisk_id, so a
// program can serve several nodes with several clients. Metrics are reported
// through the optional Observer interface, logs through an injected
// *slog.Logger. Setting the ARI_DEBUG environment variable (or Config.Debug)
// logs REST requests, responses and WebSocket messages; the password is never
// logged.
package ari
