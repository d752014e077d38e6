// Package board owns the supervisors' live board: one server-rendered page,
// served at / on the hotline's HTTP server, that shows what is happening right
// now — calls in progress (state, café, province, who is being rung or talked
// to, for how long), the people on a hotline call, today's totals per region
// (a day in Asia/Ho_Chi_Minh) and the voicemails waiting for a callback.
//
// The page is plain HTML from an embedded html/template with embedded CSS; it
// refreshes itself with a meta refresh, needs no JavaScript, no build step and
// no external asset, and is laid out for a phone first. The same data is served
// as JSON at /board.json (or /?format=json) for scripts and tests.
//
// The package imports nothing of this project: the app adapts its live call
// registry, staff reservations and store counts to a [Snapshot] through a
// [Source].
//
// # Inbox
//
// With [Options.Inbox] the board also serves /inbox: the voicemails waiting
// (play the recording, streamed from Asterisk with byte ranges; mark
// handled; call back now when [Options.Callbacks] is set) and the
// complaints to review. Its writes are form posts with a CSRF token, from
// this site, with the board token unless made on the server itself, each
// logged with who made it (see inbox.go and README.md).
//
// # Access
//
// When the HTTP server is bound to anything but loopback ([RequireTokenFor]),
// the board requires a token (HOTLINE_BOARD_TOKEN). A configured token is
// required even on loopback, since a reverse proxy on the same host may publish
// a loopback listener. The token is accepted as "Authorization: Bearer <token>"
// or once as ?token=<token>: the board then sets an HttpOnly, SameSite=Strict
// cookie holding a keyed hash of the token (never the token itself) and, for
// the HTML page, redirects to the same URL without the token, so refreshes
// work and the token stays out of the address bar and history. Every
// comparison runs in constant time. A missing or wrong token gets 401 with a
// short page; a board that must require a token but has none configured
// answers 503 "board token not configured" rather than serve openly. The app
// calls [CheckAccess] at start-up to refuse that configuration early.
//
// # Phone numbers
//
// Supervisors need to see who calls, but a board is often a wall screen or a
// phone shown around. The HTML page therefore masks the middle digits of
// every number (0912•••678) unless [Options.FullNumbers] is set; the JSON
// variant, meant for scripts holding the same token, carries full numbers.
//
// # Monthly report
//
// With [Options.Report], /report?month=YYYY-MM[&region=CODE] shows a month's
// figures per person from a [ReportSource] (report.go), under the same access
// rules; the board links to it.
package board
