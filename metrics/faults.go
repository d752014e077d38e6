package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// faultMetrics count what the call flow could not do as it should because
// Asterisk or the database failed: teardown steps it gave up on after every
// retry, and reservations it had to make from this instance's memory only.
// They have no labels: each is a single count to alert on.
type faultMetrics struct {
	hangupsGivenUp  prometheus.Counter
	releasesGivenUp prometheus.Counter
	reserveMemOnly  prometheus.Counter
	rotationMemOnly prometheus.Counter
	bridgeFailures  prometheus.Counter
	bridgesGivenUp  prometheus.Counter
	announceFalls   *prometheus.CounterVec
	announceSet     fixedSet
}

// AnnouncementFallbacks are the values of the fallback label of
// hotline_announcement_fallbacks_total: what an answering person got when
// Asterisk refused to play the announcement ("café code …, province …,
// press 1"). retry: the second try played it; press_one: only the plain
// "press 1" prompt could be played; none: nothing could be played, the
// time to press 1 started at once.
var AnnouncementFallbacks = []string{"retry", "press_one", "none"}

func (m *Metrics) registerFaults(f promauto.Factory) {
	m.faults.hangupsGivenUp = f.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "hangups_given_up_total",
		Help: "Channels (outgoing legs, callers) the hotline gave up hanging up after every retry; " +
			"a leg's watchdog and Asterisk's absolute timeout remain.",
	})
	m.faults.releasesGivenUp = f.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "reservation_releases_given_up_total",
		Help: "Reservations of a person the hotline gave up releasing in the database after every retry; " +
			"the row is no longer renewed and frees the person when its lease ends.",
	})
	m.faults.reserveMemOnly = f.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "reservations_memory_only_total",
		Help: "People dialled with only this instance's in-memory reservation because the reservation " +
			"database did not answer within its budget (another instance could ring them too).",
	})
	m.faults.rotationMemOnly = f.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "rotation_memory_only_total",
		Help: "Plans whose least-recently-rung order came from this instance's memory only because the " +
			"database did not answer within its budget.",
	})
	m.faults.bridgeFailures = f.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "bridge_failures_total",
		Help: "People who pressed 1 but could not be bridged with the caller because Asterisk refused the " +
			"bridge; their leg was hung up and the call went on to the next person (or voicemail).",
	})
	m.faults.bridgesGivenUp = f.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "bridges_given_up_total",
		Help: "Bridges the hotline gave up destroying after every retry; the bridge stays in Asterisk " +
			"(empty once its channels have hung up) until destroyed by hand or Asterisk restarts.",
	})
	m.faults.announceFalls = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "announcement_fallbacks_total",
		Help: "Announcements to an answering person that Asterisk refused to play, by what the person got " +
			"instead: retry (played on the second try), press_one (the plain press-1 prompt), none (silence; " +
			"the time to press 1 started at once).",
	}, []string{"fallback"})
	m.faults.announceSet = newFixedSet(AnnouncementFallbacks)
	for _, v := range AnnouncementFallbacks {
		m.faults.announceFalls.WithLabelValues(v)
	}
}

// BridgeFailed counts a person who accepted but could not be bridged.
func (m *Metrics) BridgeFailed() {
	if m == nil {
		return
	}
	m.faults.bridgeFailures.Inc()
}

// BridgeGivenUp counts a bridge the hotline gave up destroying.
func (m *Metrics) BridgeGivenUp() {
	if m == nil {
		return
	}
	m.faults.bridgesGivenUp.Inc()
}

// AnnouncementFallback counts an announcement Asterisk refused to play, by
// what the person got instead (one of AnnouncementFallbacks).
func (m *Metrics) AnnouncementFallback(fallback string) {
	if m == nil {
		return
	}
	m.faults.announceFalls.WithLabelValues(m.fixed(m.faults.announceSet, "fallback", fallback)).Inc()
}

// HangupGivenUp counts a channel the hotline gave up hanging up.
func (m *Metrics) HangupGivenUp() {
	if m == nil {
		return
	}
	m.faults.hangupsGivenUp.Inc()
}

// ReleaseGivenUp counts a reservation the hotline gave up releasing.
func (m *Metrics) ReleaseGivenUp() {
	if m == nil {
		return
	}
	m.faults.releasesGivenUp.Inc()
}

// ReservationMemoryOnly counts a person dialled without the database's
// confirmation of the reservation.
func (m *Metrics) ReservationMemoryOnly() {
	if m == nil {
		return
	}
	m.faults.reserveMemOnly.Inc()
}

// RotationMemoryOnly counts a plan ordered without the database's
// least-recently-rung times.
func (m *Metrics) RotationMemoryOnly() {
	if m == nil {
		return
	}
	m.faults.rotationMemOnly.Inc()
}
