package metrics

import (
	"strconv"
	"time"
)

// fixed returns v's label value in set, counting a rejection for label when
// v is outside it.
func (m *Metrics) fixed(set fixedSet, label, v string) string {
	out, ok := set.get(v)
	if !ok {
		m.rejected.WithLabelValues(label).Inc()
	}
	return out
}

// method maps an identification method; "" means none.
func (m *Metrics) method(v string) string {
	if v == "" {
		return None
	}
	return m.fixed(m.methods, "method", v)
}

// region maps a region code; "" means the call was not identified. Callers
// hold m.regions.mu for reading.
func (m *Metrics) region(v string) string {
	switch {
	case v == "" || v == None:
		return None
	case m.regions.has(v):
		return v
	}
	m.rejected.WithLabelValues("region").Inc()
	return Other
}

// carrier maps a carrier; "" means unknown.
func (m *Metrics) carrier(v string) string {
	if v == "" {
		return Unknown
	}
	return m.fixed(m.carriers, "carrier", v)
}

// trunk maps a trunk name: a carrier name, "default" ("" too), or one of
// Options.Trunks; anything else is other.
func (m *Metrics) trunk(v string) string {
	if v == "" {
		return DefaultTrunk
	}
	out, ok := m.trunks.get(v)
	if !ok {
		m.rejected.WithLabelValues("trunk").Inc()
	}
	return out
}

// seconds converts d, clamping negative durations (clock steps) to 0.
func seconds(d time.Duration) float64 {
	if d < 0 {
		return 0
	}
	return d.Seconds()
}

// CallOffered counts a call that reached the application. Call it exactly
// once per call, when identification finishes (or with method "" if the
// caller hangs up before): method is caller_id, dtmf, area_code or none
// ("" = none) and region the region code of the café or province ("" when
// unknown). It is the denominator of the service level.
func (m *Metrics) CallOffered(method, region string) {
	if m == nil {
		return
	}
	m.regions.mu.RLock()
	defer m.regions.mu.RUnlock()
	m.callsOffered.WithLabelValues(m.method(method), m.region(region)).Inc()
}

// CallEnded counts a call that ended with outcome (answered, abandoned,
// voicemail, no_answer, failed, interrupted; anything else counts as other).
// method and region are the ones given to CallOffered.
func (m *Metrics) CallEnded(outcome, method, region string) {
	if m == nil {
		return
	}
	m.regions.mu.RLock()
	defer m.regions.mu.RUnlock()
	m.callsEnded.WithLabelValues(m.fixed(m.outcomes, "outcome", outcome), m.method(method), m.region(region)).Inc()
}

// Accepted records that a person accepted a call (pressed 1) wait after the
// call started. It feeds the service level and the average speed of answer.
func (m *Metrics) Accepted(region string, wait time.Duration) {
	if m == nil {
		return
	}
	m.regions.mu.RLock()
	defer m.regions.mu.RUnlock()
	m.answerWait.WithLabelValues(m.region(region)).Observe(seconds(wait))
}

// Abandoned records that a caller hung up after waiting wait without anyone
// accepting the call.
func (m *Metrics) Abandoned(region string, wait time.Duration) {
	if m == nil {
		return
	}
	m.regions.mu.RLock()
	defer m.regions.mu.RUnlock()
	m.abandonWait.WithLabelValues(m.region(region)).Observe(seconds(wait))
}

// TalkTime records how long the caller talked with the person of role who
// accepted the call.
func (m *Metrics) TalkTime(region, role string, d time.Duration) {
	if m == nil {
		return
	}
	m.regions.mu.RLock()
	defer m.regions.mu.RUnlock()
	m.talk.WithLabelValues(m.region(region), m.fixed(m.roles, "role", role)).Observe(seconds(d))
}

// unansweredResults are the leg results that lengthen a staff member's
// unanswered streak. congestion (the network's fault) and cancelled (the
// caller left) leave it unchanged; answered resets it.
var unansweredResults = map[string]bool{
	"answered_unconfirmed": true, "busy": true, "no_answer": true, "failed": true,
}

// LegEnded counts one outgoing leg: the role of the person rung, the
// carrier of the number ("" = unknown), the trunk it went through (a carrier
// name, "default" or a configured trunk name), its result (answered,
// answered_unconfirmed, busy, no_answer, congestion, failed, cancelled) and
// the staff code of the person ("" when the number is not a staff member's).
// A staff code not in the directory is not counted per staff member.
func (m *Metrics) LegEnded(role, carrier, trunk, result, staff string) {
	if m == nil {
		return
	}
	res := m.fixed(m.results, "result", result)
	m.legs.WithLabelValues(m.fixed(m.roles, "role", role), m.carrier(carrier), m.trunk(trunk), res).Inc()
	m.forStaff(staff, func() {
		m.staffLegs.WithLabelValues(staff, res).Inc()
		switch {
		case res == "answered":
			m.staffStreak.WithLabelValues(staff).Set(0)
		case unansweredResults[res]:
			m.staffStreak.WithLabelValues(staff).Inc()
		}
	})
}

// Fallback counts a call moving on from a person of role from to a person
// of role to (e.g. technician → area_manager).
func (m *Metrics) Fallback(from, to string) {
	if m == nil {
		return
	}
	m.fallbacks.WithLabelValues(m.fixed(m.roles, "role", from), m.fixed(m.roles, "role", to)).Inc()
}

// Rating counts a caller's score (1..5) for a call answered by staff ("" =
// not known) in region. Scores outside 1..5 are dropped.
func (m *Metrics) Rating(region, staff string, score int) {
	if m == nil {
		return
	}
	s, ok := m.scores.get(strconv.Itoa(score))
	if !ok {
		m.rejected.WithLabelValues("score").Inc()
		return
	}
	m.regions.mu.RLock()
	m.ratings.WithLabelValues(m.region(region), s).Inc()
	m.regions.mu.RUnlock()
	m.forStaff(staff, func() {
		m.staffRatings.WithLabelValues(staff).Inc()
		m.staffRatingPoints.WithLabelValues(staff).Add(float64(score))
	})
}

// Complaint counts a complaint (9 after the call) about a call answered by
// staff ("" = not known) in region.
func (m *Metrics) Complaint(region, staff string) {
	if m == nil {
		return
	}
	m.regions.mu.RLock()
	m.complaints.WithLabelValues(m.region(region)).Inc()
	m.regions.mu.RUnlock()
	m.forStaff(staff, func() {
		m.staffComplaints.WithLabelValues(staff).Inc()
	})
}

// forStaff runs f while staff is known to be in the directory (so SetStaff
// cannot delete its series meanwhile). An unknown non-empty code is counted
// as rejected; "" is silently ignored.
func (m *Metrics) forStaff(staff string, f func()) {
	if staff == "" {
		return
	}
	m.staff.mu.RLock()
	defer m.staff.mu.RUnlock()
	if !m.staff.has(staff) {
		m.rejected.WithLabelValues("staff").Inc()
		return
	}
	f()
}

// ActiveCalls adds delta (+1 or -1) to the number of calls in state (ivr,
// ringing, bridged). A call changing state calls it twice.
func (m *Metrics) ActiveCalls(state string, delta int) {
	if m == nil {
		return
	}
	m.active.WithLabelValues(m.fixed(m.states, "state", state)).Add(float64(delta))
}

// SetActive sets the number of calls in state, e.g. from the registry of
// live calls after a reconnect.
func (m *Metrics) SetActive(state string, n int) {
	if m == nil {
		return
	}
	m.active.WithLabelValues(m.fixed(m.states, "state", state)).Set(float64(n))
}

// SetVoicemailsWaiting reports how many voicemails and callback requests
// are waiting and when the oldest was left (zero time when none waits).
func (m *Metrics) SetVoicemailsWaiting(n int, oldest time.Time) {
	if m == nil {
		return
	}
	m.voicemailsWaiting.Set(float64(n))
	if n <= 0 || oldest.IsZero() {
		m.voicemailOldest.Set(0)
		return
	}
	m.voicemailOldest.Set(float64(oldest.UnixNano()) / 1e9)
}
