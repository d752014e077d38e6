// Package ivr is the hotline's Stasis application: what a café owner
// experiences when they call. It answers calls entering the application,
// identifies the café, rings the right people one after the other, makes the
// person who answers confirm with 1, bridges, asks for a rating, takes a
// message when nobody is free, and leaves exactly one record per call.
//
// # One goroutine per call
//
// Server.Run receives StasisStart events (subscribed in New, so no call is
// missed between the WebSocket connecting and Run starting) and starts one
// goroutine per incoming call. Our own outgoing channels ("<call>-legN") also
// send StasisStart; they are recognised and never taken for new calls. The
// call's flow is straight-line code with a context cancelled, with a cause,
// when the caller's channel hangs up (ChannelHangupRequest, StasisEnd). Its
// teardown — hanging up what is left, the record — runs on
// context.WithoutCancel with a bounded timeout. Every ARI resource id is
// chosen by us and subscribed to before the request that creates it
// ("<call>-leg1", "<call>-pb3", "<call>-br", "hotline-vm-<call>").
//
// # The call
//
//  1. Caller ID names a café: the plan is made at once (the directory is in
//     memory) and the first person's phone is dialled while the caller is
//     answered and hears the greeting and "connecting"; nothing on that path
//     waits for the database. Otherwise: answer, greeting, the café code by
//     DTMF (first-digit, inter-digit and overall timeouts, '#' ends, '*'
//     restarts, CodeTries tries; digits typed during the greeting count),
//     then identification by code, else a landline's area code, else none
//     (operators).
//  2. dialplan.Plan orders the people (Live = Server.Busy, Rotation = the
//     last time this instance rang each person). Each target is reserved,
//     then rung with create + dial: the hotline's caller ID
//     (CALLERID(num) and CONNECTEDLINE(num,i) set at creation, no "caller"
//     given to dial so the café's number is not copied), its ring timeout
//     (ours, with Asterisk's dial timeout as a backstop), and a hard limit
//     (MaxLeg on top of the ring timeout; MaxCall once bridged) enforced by a
//     watchdog independent of the flow. The caller hears ringback (or music
//     on hold) all along.
//  3. The leg's result comes from its hangup cause (a SIP 486 gives no Dial
//     BUSY status; a dial timeout gives no NOANSWER status): 17 busy; 16, 18,
//     19 no answer; 34, 38, 41, 42, 44 congestion; others failed. A final
//     Dial status BUSY/CONGESTION/CHANUNAVAIL ends the leg at once (a busy
//     Local channel would linger). Congestion, or a failure of the route
//     (allocation failed, CHANUNAVAIL, causes such as 1, 3, 27, 38), retries
//     the same number through Target.Alternate before the next target.
//  4. An answering person hears "hotline call from café <code>, province
//     <name>, press 1"; 1 (even during the announcement) accepts. No 1
//     within ConfirmTimeout after the announcement: that leg is hung up as
//     answered_unconfirmed (a voicemail box or a wrong person) and the next
//     target is rung; the caller never hears the leg.
//  5. Accepted: a mixing bridge with both; either side's hangup ends the
//     other (Asterisk does not do it). After the person hangs up, the caller
//     rates 1–5 or 9 (complaint), stored against that person.
//  6. Nobody accepted: the voicemail prompt, a recording (beep, '#' ends,
//     VoicemailMax) stored as the call's voicemail with the caller's number
//     to call back, goodbye.
//
// If the caller hangs up at any point every outgoing leg is hung up at once
// (result cancelled).
//
// # Reservations
//
// A person is reserved before being rung, and released when the target is
// done with (after its alternate route, or after the conversation). The
// in-memory reservation of this instance decides at once (two cafés of the
// same KTV: the second call skips the KTV — a plan made meanwhile already
// sees Busy); the database reservation (other instances) is made
// concurrently with the dial, and if the database says someone else holds
// the person, the leg is hung up (result cancelled, detail "on another
// hotline call") and the next target is rung. A database error leaves the
// in-memory reservation in force: a database blink must not silence the
// hotline. A person skipped because this instance already holds them gets no
// leg record (nobody was rung). When the Reserver can ExtendLeases
// (store.Store) Run extends this instance's leases every Lease/3, and at
// start it releases reservations a previous run of the same Instance left.
//
// # Records
//
// Every call that entered the flow ends with exactly one store.CallRecord
// (submitted to the Recorder, which never blocks), with one LegRecord per
// leg in the order rung. Outcomes:
//
//   - answered: someone accepted with 1 (also when the process stopped or
//     the caller's channel vanished during the conversation: Detail says so);
//   - voicemail: the caller left a message;
//   - no_answer: everyone was tried, no message;
//   - abandoned: the caller hung up before anyone accepted (greeting,
//     code, ringing);
//   - failed: an internal error (no directory, bridge could not be made);
//   - interrupted: the process stopped (Run's context ended) or the caller's
//     channel vanished while the ARI link was down.
//
// Calls returned to the dialplan while draining never entered the flow and
// are not recorded (the dialplan's fallback handles them).
//
// # Recovery
//
// Whenever the events WebSocket connects again (ConnState.Connects grows),
// Run reconciles with GET /applications/{app}: after a short grace for
// events already on their way, a call whose caller channel is gone ends
// (interrupted, or answered if it was), a leg that is gone ends (the flow
// moves on: next target, or the rating), and every call re-checks what it was
// waiting for (GetPlayback, GetChannel, GetLiveRecording) and resumes —
// mid-IVR and ringing calls go on, bridged calls keep talking. At the first
// connection, after ReconcileGrace, channels of the application that never
// sent us a StasisStart are a previous process's: callers are continued in
// the dialplan (its fallback) and recorded as interrupted, our old legs are
// hung up, our old bridges destroyed.
//
// Drain makes new calls continue in the dialplan while live calls finish;
// Wait returns when none is left. When Run's context ends every live call
// is hung up (legs cancelled) and recorded, within ShutdownTimeout.
package ivr
