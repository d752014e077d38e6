package metrics

import (
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Namespace prefixes every metric name.
const Namespace = "hotline"

// Histogram buckets, in seconds.
var (
	// AnswerWaitBuckets are the buckets of hotline_answer_wait_seconds. 20 is
	// the service-level threshold and must stay a bucket boundary.
	AnswerWaitBuckets = []float64{5, 10, 15, 20, 30, 45, 60, 90, 120}
	// AbandonWaitBuckets extend AnswerWaitBuckets: callers who give up may
	// have waited through several fallbacks.
	AbandonWaitBuckets = []float64{5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600}
	// TalkBuckets are the buckets of hotline_talk_seconds.
	TalkBuckets = []float64{30, 60, 120, 180, 300, 600, 900, 1200, 1800, 2700, 3600}
	// ARIRequestBuckets are the buckets of hotline_ari_request_duration_seconds.
	ARIRequestBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}
	// RoutingBuckets are the buckets of hotline_routing_decision_seconds
	// (5 µs … 100 ms: a decision is pure computation).
	RoutingBuckets = []float64{5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 0.1}
)

// Options configure New. The zero value is valid.
type Options struct {
	// Regions are the region codes of the directory, known at start-up.
	// SetRegions replaces them when the directory reloads.
	Regions []string
	// Staff are the staff codes of the directory; SetStaff replaces them.
	Staff []string
	// ARINodes are the Asterisk node names the ARI client reports (the same
	// string it passes as node). Only these become node label values, and
	// their series start at 0, so a node that never connects shows as
	// disconnected. When empty, the first 8 names that look like names
	// (a letter first; letters, digits, "_", ".", "-") are admitted.
	ARINodes []string
	// Trunks are trunk names other than the carrier names and "default"
	// that legs may report (e.g. "gw-backup"). Any other trunk is "other".
	Trunks []string
	// Provinces are the province codes of the directory (a fixed list of
	// 63); only these become values of the province label.
	Provinces []string
	// Version, when set, is exported as hotline_build_info{version}.
	Version string
	// NoRuntimeCollectors leaves out the Go runtime (go_*) and process
	// (process_*) collectors, for a caller that registers them itself.
	NoRuntimeCollectors bool
}

// Metrics holds every metric the hotline exports. Build it with New. A nil
// *Metrics is valid: every method is then a no-op.
type Metrics struct {
	// Closed label sets.
	outcomes, methods, results, roles, carriers, states, kinds, scores, eventTypes, problems, provinces fixedSet
	// Open label sets, bounded by pattern and count.
	ariOps, ariNodes, dbOps, trunks *openSet
	// Directory-driven label sets; their mutex also orders series creation
	// against deletion when the directory reloads.
	regions, staff dirSet

	callsOffered *prometheus.CounterVec
	callsEnded   *prometheus.CounterVec
	answerWait   *prometheus.HistogramVec
	abandonWait  *prometheus.HistogramVec
	talk         *prometheus.HistogramVec
	legs         *prometheus.CounterVec
	fallbacks    *prometheus.CounterVec
	ratings      *prometheus.CounterVec
	complaints   *prometheus.CounterVec
	active       *prometheus.GaugeVec

	staffLegs         *prometheus.CounterVec
	staffStreak       *prometheus.GaugeVec
	staffComplaints   *prometheus.CounterVec
	staffRatings      *prometheus.CounterVec
	staffRatingPoints *prometheus.CounterVec

	voicemailsWaiting prometheus.Gauge
	voicemailOldest   prometheus.Gauge

	ariConnected  *prometheus.GaugeVec
	ariReconnects *prometheus.CounterVec
	ariDuration   *prometheus.HistogramVec
	ariRequests   *prometheus.CounterVec
	ariEvents     *prometheus.CounterVec
	ariOverflows  prometheus.Counter

	routing    prometheus.Histogram
	directory  *prometheus.GaugeVec
	spooled    prometheus.Gauge
	dbErrors   *prometheus.CounterVec
	rejected   *prometheus.CounterVec
	lastReload prometheus.Gauge

	// coverageMu orders SetCoverage calls (each resets and refills).
	coverageMu    sync.Mutex
	coverageGap   *prometheus.GaugeVec
	coverageCafes *prometheus.GaugeVec
	faults        faultMetrics    // faults.go
	callbacks     callbackMetrics // callbacks.go
	recovery      recoveryMetrics // recovery.go
	transfers     transferMetrics // transfers.go
}

// New registers the hotline's metrics on reg and returns them. It panics
// when a metric is already registered on reg (a wiring bug), like promauto.
// Known label combinations are created at 0.
func New(reg prometheus.Registerer, opts Options) *Metrics {
	f := promauto.With(reg)
	m := &Metrics{
		outcomes:   newFixedSet(Outcomes),
		methods:    newFixedSet(Methods),
		results:    newFixedSet(LegResults),
		roles:      newFixedSet(Roles),
		carriers:   newFixedSet(Carriers),
		states:     newFixedSet(States),
		kinds:      newFixedSet(DirectoryKinds),
		scores:     newFixedSet(Scores),
		eventTypes: newFixedSet(ARIEventTypes),
		problems:   newFixedSet(CoverageProblems),
		provinces:  newFixedSet(opts.Provinces),
		ariOps:     newOpenSet(opPattern, maxARIOps),
		ariNodes:   newOpenSet(nodePattern, maxARINodes),
		dbOps:      newOpenSet(opPattern, maxDBOps),
		trunks:     newClosedSet(trunkPattern, Carriers, []string{DefaultTrunk}, opts.Trunks),
	}
	if len(opts.ARINodes) > 0 {
		m.ariNodes = newClosedSet(nodePattern, opts.ARINodes)
	}
	m.registerCalls(f)
	m.registerStaff(f)
	m.registerARI(f)
	m.registerSystem(f)
	m.registerCoverage(f)
	m.registerFaults(f)
	m.registerCallbacks(f)
	m.registerRecovery(f)
	m.registerTransfers(f)
	if opts.Version != "" {
		f.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "build_info",
			Help:        "Always 1; the version label says which hotline build is running.",
			ConstLabels: prometheus.Labels{"version": opts.Version},
		}).Set(1)
	}
	if !opts.NoRuntimeCollectors {
		registerOnce(reg, collectors.NewGoCollector())
		registerOnce(reg, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m.precreate(opts)
	return m
}

// registerOnce registers c unless an equal collector is already there.
func registerOnce(reg prometheus.Registerer, c prometheus.Collector) {
	if reg == nil {
		return
	}
	if err := reg.Register(c); err != nil {
		var already prometheus.AlreadyRegisteredError
		if !errors.As(err, &already) {
			panic(err)
		}
	}
}

func (m *Metrics) registerCalls(f promauto.Factory) {
	m.callsOffered = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "calls_offered_total",
		Help: "Calls that reached the hotline application, by how the café was identified and its region.",
	}, []string{"method", "region"})
	m.callsEnded = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "calls_ended_total",
		Help: "Calls that ended, by outcome, identification method and region.",
	}, []string{"outcome", "method", "region"})
	m.answerWait = f.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "answer_wait_seconds",
		Help:    "Time from the start of a call until a person accepted it by pressing 1, by region.",
		Buckets: AnswerWaitBuckets,
	}, []string{"region"})
	m.abandonWait = f.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "abandon_wait_seconds",
		Help:    "Time callers waited before hanging up without anyone accepting, by region.",
		Buckets: AbandonWaitBuckets,
	}, []string{"region"})
	m.talk = f.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "talk_seconds",
		Help:    "Time the caller and the person who accepted were connected, by region and role.",
		Buckets: TalkBuckets,
	}, []string{"region", "role"})
	m.legs = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "legs_total",
		Help: "Outgoing legs (one number rung once), by role of the person, carrier of the number, trunk used and result.",
	}, []string{"role", "carrier", "trunk", "result"})
	m.fallbacks = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "fallbacks_total",
		Help: "Times a call moved on from a person of one role to a person of the next role.",
	}, []string{"from_role", "to_role"})
	m.ratings = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "ratings_total",
		Help: "Ratings callers gave after a call, by region and score (1 to 5).",
	}, []string{"region", "score"})
	m.complaints = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "complaints_total",
		Help: "Complaints callers made after a call (9 on the keypad), by region.",
	}, []string{"region"})
	m.active = f.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "calls_active",
		Help: "Calls in progress now, by state: ivr (greeting, identification, survey), ringing, bridged, " +
			"transferring (the person who accepted passes the call on; the caller hears music).",
	}, []string{"state"})
	m.voicemailsWaiting = f.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "voicemails_waiting",
		Help: "Voicemails and callback requests nobody has handled yet.",
	})
	m.voicemailOldest = f.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "voicemail_oldest_waiting_timestamp_seconds",
		Help: "Unix time when the oldest unhandled voicemail was left; 0 when none waits.",
	})
}

func (m *Metrics) registerStaff(f promauto.Factory) {
	m.staffLegs = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "staff_legs_total",
		Help: "Legs rung to each staff member of the directory, by result.",
	}, []string{"staff", "result"})
	m.staffStreak = f.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "staff_unanswered_streak",
		Help: "Legs in a row each staff member did not answer (no answer, busy, unreachable, no 1 pressed); 0 after an answer.",
	}, []string{"staff"})
	m.staffComplaints = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "staff_complaints_total",
		Help: "Complaints about calls each staff member answered.",
	}, []string{"staff"})
	m.staffRatings = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "staff_ratings_total",
		Help: "Ratings given to calls each staff member answered.",
	}, []string{"staff"})
	m.staffRatingPoints = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "staff_rating_points_total",
		Help: "Sum of the scores given to calls each staff member answered; divide by hotline_staff_ratings_total for the average.",
	}, []string{"staff"})
}

func (m *Metrics) registerARI(f promauto.Factory) {
	m.ariConnected = f.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Subsystem: "ari", Name: "connected",
		Help: "1 while the events WebSocket to the Asterisk node is up, else 0.",
	}, []string{"node"})
	m.ariReconnects = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "ari", Name: "reconnects_total",
		Help: "Times the events WebSocket to the Asterisk node came back after a drop.",
	}, []string{"node"})
	m.ariDuration = f.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "ari", Name: "request_duration_seconds",
		Help:    "Duration of ARI REST requests, by operation.",
		Buckets: ARIRequestBuckets,
	}, []string{"op"})
	m.ariRequests = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "ari", Name: "requests_total",
		Help: "ARI REST requests, by operation and HTTP status class (none: no response).",
	}, []string{"op", "status"})
	m.ariEvents = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "ari", Name: "events_total",
		Help: "Events received from Asterisk, by event type.",
	}, []string{"type"})
	m.ariOverflows = f.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "ari", Name: "event_queue_overflows_total",
		Help: "Events that could not be queued because a consumer fell behind.",
	})
}

func (m *Metrics) registerSystem(f promauto.Factory) {
	m.routing = f.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "routing_decision_seconds",
		Help:    "Time to compute the ordered list of people to ring for a call.",
		Buckets: RoutingBuckets,
	})
	m.directory = f.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "directory_entries",
		Help: "Entries in the loaded directory, by kind (cafes, staff, regions, ...).",
	}, []string{"kind"})
	m.lastReload = f.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "directory_last_load_timestamp_seconds",
		Help: "Unix time of the last successful directory load.",
	})
	m.spooled = f.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "cdr_spooled",
		Help: "Call records waiting in the local spool file because the database could not take them yet.",
	})
	m.dbErrors = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "db_errors_total",
		Help: "Failed database operations, by operation.",
	}, []string{"op"})
	m.rejected = f.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "metrics_label_rejected_total",
		Help: "Label values outside their known set that were replaced by other or dropped (a wiring bug), by label.",
	}, []string{"label"})
}

// rejectedLabels are the labels whose unknown values are counted.
var rejectedLabels = []string{
	"outcome", "method", "region", "role", "carrier", "trunk", "result", "staff", "score",
	"state", "kind", "op", "node", "type", "province", "problem", "reason", "fallback", "to",
}

// precreate creates the series of every known label combination at 0.
func (m *Metrics) precreate(opts Options) {
	for _, l := range rejectedLabels {
		m.rejected.WithLabelValues(l)
	}
	for _, s := range States {
		m.active.WithLabelValues(s)
		m.recovery.adopted.WithLabelValues(s)
	}
	for _, k := range DirectoryKinds {
		m.directory.WithLabelValues(k)
	}
	for _, from := range Roles {
		for _, to := range Roles {
			m.fallbacks.WithLabelValues(from, to)
		}
	}
	for _, role := range Roles {
		for _, c := range Carriers {
			trunk := c
			if c == Unknown {
				trunk = DefaultTrunk
			}
			for _, r := range LegResults {
				m.legs.WithLabelValues(role, c, trunk, r)
			}
		}
	}
	for _, t := range ARIEventTypes {
		m.ariEvents.WithLabelValues(t)
	}
	m.ariEvents.WithLabelValues(Other)
	for _, n := range opts.ARINodes {
		if node, ok := m.ariNodes.get(n); ok {
			m.ariConnected.WithLabelValues(node)
			m.ariReconnects.WithLabelValues(node)
			m.recovery.applicationReplace.WithLabelValues(node)
		}
	}
	m.regions.mu.Lock()
	m.createRegion(None)
	m.regions.mu.Unlock()
	m.SetRegions(opts.Regions)
	m.SetStaff(opts.Staff)
}

// createRegion creates the series of one region at 0. Callers hold
// m.regions.mu for writing.
func (m *Metrics) createRegion(region string) {
	for _, method := range Methods {
		m.callsOffered.WithLabelValues(method, region)
		for _, o := range Outcomes {
			m.callsEnded.WithLabelValues(o, method, region)
		}
	}
	m.answerWait.WithLabelValues(region)
	m.abandonWait.WithLabelValues(region)
	for _, role := range Roles {
		m.talk.WithLabelValues(region, role)
	}
	for _, s := range Scores {
		m.ratings.WithLabelValues(region, s)
	}
	m.complaints.WithLabelValues(region)
	for _, pb := range CoverageProblems {
		m.coverageCafes.WithLabelValues(region, pb)
	}
}

// deleteRegion removes the series of a region that left the directory.
// Callers hold m.regions.mu for writing.
func (m *Metrics) deleteRegion(region string) {
	l := prometheus.Labels{"region": region}
	m.callsOffered.DeletePartialMatch(l)
	m.callsEnded.DeletePartialMatch(l)
	m.answerWait.DeletePartialMatch(l)
	m.abandonWait.DeletePartialMatch(l)
	m.talk.DeletePartialMatch(l)
	m.ratings.DeletePartialMatch(l)
	m.complaints.DeletePartialMatch(l)
	m.coverageCafes.DeletePartialMatch(l)
	m.coverageGap.DeletePartialMatch(l)
}

// SetRegions replaces the set of region codes used as label values, creating
// the new regions' series at 0 and deleting those of regions that are gone.
// Call it whenever the directory loads. Codes that are not plain identifiers
// (letters, digits, "_", ".", "-"; at most 32 characters) are skipped.
func (m *Metrics) SetRegions(codes []string) {
	if m == nil {
		return
	}
	m.regions.mu.Lock()
	defer m.regions.mu.Unlock()
	keep, added, removed, invalid := m.regions.diff(codes)
	for _, r := range added {
		m.createRegion(r)
	}
	for _, r := range removed {
		m.deleteRegion(r)
	}
	if len(invalid) > 0 {
		m.rejected.WithLabelValues("region").Add(float64(len(invalid)))
	}
	m.regions.codes = keep
}

// SetStaff replaces the set of staff codes used as the staff label, creating
// the new staff members' series at 0 and deleting those of staff who left
// the directory. Call it whenever the directory loads.
func (m *Metrics) SetStaff(codes []string) {
	if m == nil {
		return
	}
	m.staff.mu.Lock()
	defer m.staff.mu.Unlock()
	keep, added, removed, invalid := m.staff.diff(codes)
	for _, s := range added {
		for _, r := range LegResults {
			m.staffLegs.WithLabelValues(s, r)
		}
		m.staffStreak.WithLabelValues(s)
		m.staffComplaints.WithLabelValues(s)
		m.staffRatings.WithLabelValues(s)
		m.staffRatingPoints.WithLabelValues(s)
	}
	for _, s := range removed {
		l := prometheus.Labels{"staff": s}
		m.staffLegs.DeletePartialMatch(l)
		m.staffStreak.DeletePartialMatch(l)
		m.staffComplaints.DeletePartialMatch(l)
		m.staffRatings.DeletePartialMatch(l)
		m.staffRatingPoints.DeletePartialMatch(l)
	}
	if len(invalid) > 0 {
		m.rejected.WithLabelValues("staff").Add(float64(len(invalid)))
	}
	m.staff.codes = keep
}
