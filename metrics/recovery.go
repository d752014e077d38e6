package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// recoveryMetrics follow how the call flow survives a lost events link and a
// restart: reconciliations that failed (and are retried), the calls a new
// process took over from the previous one, the callers it could not take
// over, the call-state writes to Asterisk that failed, and whether another
// process took the ARI application away.
type recoveryMetrics struct {
	reconcileFailures  prometheus.Counter
	adopted            *prometheus.CounterVec
	adoptionFallbacks  prometheus.Counter
	stateSaveFailures  prometheus.Counter
	applicationReplace *prometheus.GaugeVec
}

func (m *Metrics) registerRecovery(f promauto.Factory) {
	m.recovery.reconcileFailures = f.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "reconcile_failures_total",
		Help: "Reconciliations with Asterisk (after an events WebSocket connects) that failed, usually " +
			"GET /applications; each is retried with backoff until it succeeds or the link drops again.",
	})
	m.recovery.adopted = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "calls_adopted_total",
		Help: "Calls of a previous hotline process still up in Asterisk that this process took over at " +
			"start-up, by the state they were in (bridged: kept talking; ringing, ivr: rung again).",
	}, []string{"state"})
	m.recovery.adoptionFallbacks = f.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "adoption_fallbacks_total",
		Help: "Callers of a previous hotline process whose call could not be rebuilt (no or unreadable " +
			"HOTLINE_CALL variable) and were returned to the dialplan's fallback, recorded as interrupted.",
	})
	m.recovery.stateSaveFailures = f.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "call_state_save_failures_total",
		Help: "Writes of a call's state to Asterisk (the HOTLINE_CALL channel variable) that failed; " +
			"retried with backoff while the call lasts.",
	})
	m.recovery.applicationReplace = f.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Subsystem: "ari", Name: "application_replaced",
		Help: "1 while another WebSocket (another process) has taken this process's ARI application over " +
			"on the Asterisk node: this process gets no events for its calls; else 0.",
	}, []string{"node"})
}

// ReconcileFailed counts a reconciliation attempt that failed.
func (m *Metrics) ReconcileFailed() {
	if m == nil {
		return
	}
	m.recovery.reconcileFailures.Inc()
}

// CallAdopted counts a call taken over from a previous process, by the
// state it was in (ivr, ringing, bridged).
func (m *Metrics) CallAdopted(state string) {
	if m == nil {
		return
	}
	m.recovery.adopted.WithLabelValues(m.fixed(m.states, "state", state)).Inc()
}

// AdoptionFallback counts a caller of a previous process returned to the
// dialplan because the call could not be rebuilt.
func (m *Metrics) AdoptionFallback() {
	if m == nil {
		return
	}
	m.recovery.adoptionFallbacks.Inc()
}

// CallStateSaveFailed counts a failed write of a call's state to Asterisk.
func (m *Metrics) CallStateSaveFailed() {
	if m == nil {
		return
	}
	m.recovery.stateSaveFailures.Inc()
}

// ApplicationReplaced sets hotline_ari_application_replaced for node.
func (m *Metrics) ApplicationReplaced(node string, replaced bool) {
	if m == nil {
		return
	}
	v := 0.0
	if replaced {
		v = 1
	}
	m.recovery.applicationReplace.WithLabelValues(m.ariNode(node)).Set(v)
}
