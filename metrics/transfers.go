package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Transfers by the person who accepted a call (`*<area code>#`, `*0#`).
var (
	// TransferTargets are the values of hotline_transfers_requested_total's
	// to label: what a complete code asked for. province: a known area
	// code; operators: 0; invalid: an area code of no province (the
	// transferring person hears "invalid", the call goes on).
	TransferTargets = []string{"province", "operators", "invalid"}
	// TransferResults are the values of hotline_transfers_ended_total's
	// result label: how a transfer that started ended. connected: the new
	// person pressed 1 while the transferring one was still on the line
	// (attended: they were dropped); connected_blind: the new person
	// pressed 1 after the transferring one had hung up; returned: nobody
	// pressed 1, the caller is back with the transferring person;
	// voicemail: nobody pressed 1 and the transferring person had hung up,
	// the caller was offered voicemail; abandoned: the caller hung up
	// during the transfer; failed: Asterisk refused a step (the caller is
	// back with whoever is still there, else offered voicemail).
	TransferResults = []string{"connected", "connected_blind", "returned", "voicemail", "abandoned", "failed"}
)

// transferMetrics count transfers: every complete code, and how each
// transfer that started ended (requested = ended + invalid, once none is in
// progress).
type transferMetrics struct {
	requested        *prometheus.CounterVec
	ended            *prometheus.CounterVec
	targets, results fixedSet
}

func (m *Metrics) registerTransfers(f promauto.Factory) {
	t := &m.transfers
	t.requested = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "transfers_requested_total",
		Help: "Transfers the person who accepted a call asked for with *<area code># or *0#, by what was asked: " +
			"province, operators, or invalid (an area code of no province).",
	}, []string{"to"})
	t.ended = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "transfers_ended_total",
		Help: "Transfers that started, by how they ended: connected (attended), connected_blind (the " +
			"transferring person had hung up), returned (nobody accepted; back to the transferring person), " +
			"voicemail (nobody accepted and the transferring person had hung up), abandoned (the caller hung " +
			"up), failed (Asterisk refused a step).",
	}, []string{"result"})
	t.targets, t.results = newFixedSet(TransferTargets), newFixedSet(TransferResults)
	for _, v := range TransferTargets {
		t.requested.WithLabelValues(v)
	}
	for _, v := range TransferResults {
		t.ended.WithLabelValues(v)
	}
}

// TransferRequested counts a complete transfer code, by what it asked for
// (one of TransferTargets).
func (m *Metrics) TransferRequested(to string) {
	if m == nil {
		return
	}
	m.transfers.requested.WithLabelValues(m.fixed(m.transfers.targets, "to", to)).Inc()
}

// TransferEnded counts a transfer that started and ended, by how (one of
// TransferResults).
func (m *Metrics) TransferEnded(result string) {
	if m == nil {
		return
	}
	m.transfers.ended.WithLabelValues(m.fixed(m.transfers.results, "result", result)).Inc()
}
