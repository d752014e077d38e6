package metrics

import "time"

// RoutingDecision records how long computing one call's plan took.
func (m *Metrics) RoutingDecision(d time.Duration) {
	if m == nil {
		return
	}
	m.routing.Observe(seconds(d))
}

// SetDirectorySize reports the number of entries of kind (regions, areas,
// provinces, staff, cafes, phones, holidays, refusals) in the loaded
// directory.
func (m *Metrics) SetDirectorySize(kind string, n int) {
	if m == nil {
		return
	}
	m.directory.WithLabelValues(m.fixed(m.kinds, "kind", kind)).Set(float64(n))
}

// DirectoryLoaded records when the directory was last loaded successfully.
func (m *Metrics) DirectoryLoaded(at time.Time) {
	if m == nil {
		return
	}
	m.lastReload.Set(float64(at.UnixNano()) / 1e9)
}

// SetSpooled reports how many call records wait in the local spool file. It
// satisfies the store's Observer together with DBError.
func (m *Metrics) SetSpooled(n int) {
	if m == nil {
		return
	}
	m.spooled.Set(float64(n))
}

// DBError counts a failed database operation. op is a fixed name chosen in
// code ("write_call", "replay", "load_directory"): lower case letters, "_"
// and at most one "."; other values, or more than a few dozen distinct
// names, count as other.
func (m *Metrics) DBError(op string) {
	if m == nil {
		return
	}
	out, ok := m.dbOps.get(op)
	if !ok {
		m.rejected.WithLabelValues("op").Inc()
	}
	m.dbErrors.WithLabelValues(out).Inc()
}
