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
// goroutine per incoming call. The same subscription brings every
// channel's end in the socket's order, so a caller who hangs up before the
// call's own subscription exists still ends the call. Our own outgoing channels ("<call>-legN") also
// send StasisStart; they are recognised and never taken for new calls. The
// call's flow is straight-line code with a context cancelled, with a cause,
// when the caller's channel hangs up (ChannelHangupRequest, StasisEnd). Its
// teardown — hanging up what is left, releasing people, the record — runs
// on context.WithoutCancel with bounded requests; what must happen (a
// hangup, a bridge's destruction, a release) is retried with backoff
// (TeardownTries, TeardownBackoff) and giving up is logged at ERROR and
// counted (hotline_hangups_given_up_total, hotline_bridges_given_up_total,
// hotline_reservation_releases_given_up_total),
// never silent. Every goroutine of a call (its database reservations and
// releases, retries, the marks of who was rung) is owned by the call and
// waited for by its teardown; Run returns only when every call is done.
// Every ARI resource id is
// chosen by us and subscribed to before the request that creates it
// ("<call>-leg1", "<call>-pb3", "<call>-br", "hotline-vm-<call>").
//
// # The call
//
//  1. Caller ID names a café: the plan is made at once (the directory is in
//     memory; who was rung last comes from the database, within
//     ReserveBudget) while the caller is answered, and the first person's
//     phone is dialled once their reservation is confirmed (within
//     ReserveBudget) and Asterisk has answered the caller; the caller hears
//     the greeting and "connecting" meanwhile. A caller already gone (404
//     or 409 to the answer or a prompt, a 500 checked with a GET, or their
//     hangup's events) rings nobody: recorded abandoned, no legs. Otherwise: answer,
//     greeting, the café code by
//     DTMF (first-digit, inter-digit and overall timeouts, '#' ends, '*'
//     restarts, CodeTries tries; digits typed during the greeting count),
//     then identification by code, else a landline's area code, else none
//     (operators).
//  2. dialplan.Plan orders the people (Live = Server.Busy, Rotation = when
//     each person was last rung by any instance: the database's
//     staff_last_rung, or this instance's memory when the database does not
//     answer within ReserveBudget). Each person is reserved (see
//     Reservations), then rung with create + dial: the hotline's caller ID
//     (CALLERID(num) and CONNECTEDLINE(num,i) set at creation, no "caller"
//     given to dial so the café's number is not copied), its ring timeout
//     (ours, with Asterisk's dial timeout as a backstop), and a hard limit
//     (MaxLeg on top of the ring timeout; MaxCall once bridged) enforced by a
//     watchdog independent of the flow. The caller hears ringback (or music
//     on hold) all along.
//
// A leg's life in Asterisk is an explicit state (leg.go: new, up, ending,
// hanging up, hangup failing, abandoned, gone), kept apart from what the
// flow does with it: "we asked Asterisk to hang up" is not "Asterisk says it
// is gone". A hangup Asterisk refuses (an error status, a timeout) or does
// not confirm is asked again with backoff until Asterisk confirms the end
// (StasisEnd, ChannelDestroyed, or 404); meanwhile the flow moves on. The
// leg's watchdog stays armed until then, and also after we give up
// (abandoned), so its hard limit still ends it; reconciliation after an ARI
// reconnect looks at abandoned legs again.
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
//     target is rung; the caller never hears the leg. A play Asterisk
//     refuses is tried once more, then the plain "press 1" prompt; when
//     nothing plays, ConfirmTimeout starts at once (logged, counted).
//  5. Accepted: a mixing bridge with both; either side's hangup ends the
//     other (Asterisk does not do it). After the person hangs up, the caller
//     rates 1–5 or 9 (complaint), stored against that person. A bridge
//     Asterisk refuses (create or add): that person's leg is hung up and
//     recorded cancelled ("bridge failed: …"), their other numbers are
//     skipped, and the caller hears ringback again while the next target is
//     rung, as after a missed target (a person who hung up before the
//     bridge: failed, "hung up before being connected").
//  6. Nobody accepted: the voicemail prompt, a recording (beep, '#' ends,
//     VoicemailMax) stored as the call's voicemail with the caller's number
//     to call back, goodbye. A recording Asterisk refuses, or a call the
//     hotline cannot serve before anyone took it (failed), hands the
//     caller to the dialplan's fallback after Stasis() instead of hanging
//     up.
//
// If the caller hangs up at any point every outgoing leg is hung up at once
// (result cancelled).
//
// # Transfer
//
// During the conversation the person who accepted may type '*', a
// province's landline area code (or 0, the operators) and '#' (transfer.go;
// only their leg's keys count, each within CodeInterDigit). The caller
// leaves the bridge for music on hold (MOHClass), the province's plan (or
// the operators') is rung as usual — hours at that moment, reservations,
// press 1 — without anyone already rung in the call; the person asking stays
// in the bridge and hears who is rung. The new person's 1 bridges the caller
// with them and hangs up the person asking (or goes on without them if they
// hung up: blind). Nobody: the caller is back with the person asking, or
// offered voicemail when they are gone. The legs are the call's own, with
// reason "transfer"; accepted_by and the rating are the last person's; the
// call's state meanwhile is transferring.
//
// # Reservations
//
// A person is reserved before being rung — once for all their numbers — and
// released when the call moves on to someone else (or after the
// conversation). The in-memory reservation of this instance decides at once
// (two cafés of the same KTV: the second call skips the KTV — a plan made
// meanwhile already sees Busy). Then the database (other instances) is
// asked before any leg is created, and given ReserveBudget (150 ms) to
// answer: if someone else holds the person they are not rung at all (no leg
// record) and the next person is. If it does not answer in time, or fails,
// the person is dialled on this instance's reservation alone — logged at
// WARN with the call's fields and counted
// (hotline_reservations_memory_only_total): a database blink must not
// silence the hotline. A refusal that comes later still hangs the leg up
// (result cancelled, detail "on another hotline call"). A reserve that
// failed on our side may have committed, so it is released as well. A
// person skipped because this instance already holds them gets no leg
// record either (nobody was rung).
//
// Releases are retried with backoff; giving up is logged at ERROR and
// counted. When the Reserver can ExtendLeases (store.Store) Run renews,
// every Lease/3, the leases of the calls still in progress only, so a row
// we failed to release expires within a lease. At start-up it releases
// what a previous run of the same Instance left (and logs how many), once
// the calls it could take over are its own: their reservations are kept, so
// a call arriving meanwhile does not ring the person one of them talks with
// (adopt.go). Instance must stay the same across restarts and differ
// between processes running at once.
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
//   - no_answer: everyone was tried, no message (Detail says when the
//     recording was refused and the caller handed to the dialplan);
//   - abandoned: the caller hung up before anyone accepted (greeting,
//     code, ringing);
//   - failed: an internal error before anyone took the call (no directory,
//     the answer refused while the caller is there); the caller is handed
//     to the dialplan's fallback;
//   - interrupted: the process stopped (Run's context ended), the caller's
//     channel vanished while the ARI link was down or while no process ran
//     (a restart), or a restarted process could not rebuild the call.
//
// Calls returned to the dialplan while draining never entered the flow and
// are not recorded (the dialplan's fallback handles them).
//
// # Callbacks
//
// With Config.Callback.Enabled, a call from a known café that ended
// no_answer, voicemail or abandoned after waiting more than MinWait carries
// a callback request in its record. A worker owned by Run takes due
// requests from the database (one instance at a time holds each, with a
// lease) within Callback.Hours, and for each try rings the café's plan like
// a call of the café ("callback to café …, press 1"); on 1 it dials the
// number that called, with the hotline's caller ID, and bridges the two.
// Each try is a call record of direction callback. A new call from the café
// cancels its request. Server.CallbackNow is the supervisors' "call back
// now" of a voicemail. Details in callback.go and README.md.
//
// # Recovery
//
// Whenever the events WebSocket connects again (ConnState.Connects grows),
// Run reconciles with GET /applications/{app}, retried with backoff until it
// works (each failure an ERROR and hotline_reconcile_failures_total) or the
// connection drops again: after a short grace for events already on their
// way, a call whose caller channel is gone ends (interrupted, or answered
// if it was), a leg that is gone ends (the flow moves on: next target, or
// the rating), and every call re-checks what it was waiting for
// (GetPlayback, GetChannel, GetLiveRecording) and resumes — mid-IVR and
// ringing calls go on, bridged calls keep talking. ApplicationReplaced
// (another process took the application) is an ERROR and
// hotline_ari_application_replaced.
//
// # Restarts (adopt.go, persist.go)
//
// A call keeps its state in Asterisk: HOTLINE_CALL on the caller's channel
// (JSON: call id, start, identification, phase, legs, the accepted leg,
// talk times, rating), written before the caller hears anything and again
// at each change by a goroutine the call owns; HOTLINE_LEG on each leg, set
// when it is created (the leg, and a copy of the call). At its first
// connection a process takes over, at once, the calls of its application a
// previous process left (it was killed, crashed): a bridged call keeps
// talking in its bridge and is rated and recorded when it ends; a call
// ringing or in the greeting or café code has its old legs hung up (and
// confirmed gone: nobody is rung twice at once) and is planned and rung
// again; a rating or a message in progress is finished; a person who hung
// up meanwhile sends the caller to the rating; a caller who hung up
// meanwhile is recorded from the legs, or, when it had none yet, from the
// database's journal of calls in progress (journal.go). The bridge, not the
// saved phase, says who talks. Records keep the call's id and start; Detail says "taken over".
// Only a caller without a usable HOTLINE_CALL goes back to the dialplan
// (its fallback after Stasis()) and is recorded as interrupted
// (hotline_adoption_fallbacks_total); after ReconcileGrace, other channels
// that never sent us a StasisStart are leftovers: our old legs are hung up,
// our old bridges destroyed.
//
// Drain makes new calls continue in the dialplan while live calls finish;
// Wait returns when none is left. When Run's context ends every live call
// is hung up (legs cancelled) and recorded; Run returns once every call's
// teardown, retries included, is done (a warning after ShutdownTimeout).
package ivr
