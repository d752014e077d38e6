package metrics

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

func TestMethodsMoveExactlyTheirSeries(t *testing.T) {
	vm := time.Unix(1_700_000_000, 500_000_000)
	tests := []struct {
		name string
		call func(m *Metrics)
		want map[string]float64
	}{
		{
			name: "offered",
			call: func(m *Metrics) { m.CallOffered("dtmf", "south") },
			want: map[string]float64{`hotline_calls_offered_total{method="dtmf",region="south"}`: 1},
		},
		{
			name: "offered unidentified",
			call: func(m *Metrics) { m.CallOffered("", "") },
			want: map[string]float64{`hotline_calls_offered_total{method="none",region="none"}`: 1},
		},
		{
			name: "ended",
			call: func(m *Metrics) { m.CallEnded("abandoned", "area_code", "central") },
			want: map[string]float64{`hotline_calls_ended_total{method="area_code",outcome="abandoned",region="central"}`: 1},
		},
		{
			name: "accepted within 20 s",
			call: func(m *Metrics) { m.Accepted("north", 18*time.Second) },
			want: hist("hotline_answer_wait_seconds", `region="north"`, AnswerWaitBuckets, 18),
		},
		{
			name: "accepted after 2 minutes lands in +Inf only",
			call: func(m *Metrics) { m.Accepted("north", 150*time.Second) },
			want: hist("hotline_answer_wait_seconds", `region="north"`, AnswerWaitBuckets, 150),
		},
		{
			name: "abandoned",
			call: func(m *Metrics) { m.Abandoned("south", 35*time.Second) },
			want: hist("hotline_abandon_wait_seconds", `region="south"`, AbandonWaitBuckets, 35),
		},
		{
			name: "negative wait is clamped",
			call: func(m *Metrics) { m.Abandoned("south", -time.Second) },
			want: hist("hotline_abandon_wait_seconds", `region="south"`, AbandonWaitBuckets, 0),
		},
		{
			name: "talk time",
			call: func(m *Metrics) { m.TalkTime("central", "area_manager", 4*time.Minute) },
			want: hist("hotline_talk_seconds", `region="central",role="area_manager"`, TalkBuckets, 240),
		},
		{
			name: "leg answered by a technician",
			call: func(m *Metrics) { m.LegEnded("technician", "viettel", "viettel", "answered", "KTV01") },
			want: map[string]float64{
				`hotline_legs_total{carrier="viettel",result="answered",role="technician",trunk="viettel"}`: 1,
				`hotline_staff_legs_total{result="answered",staff="KTV01"}`:                                 1,
			},
		},
		{
			name: "leg not answered raises the streak",
			call: func(m *Metrics) { m.LegEnded("technician", "mobifone", "viettel", "no_answer", "KTV02") },
			want: map[string]float64{
				`hotline_legs_total{carrier="mobifone",result="no_answer",role="technician",trunk="viettel"}`: 1,
				`hotline_staff_legs_total{result="no_answer",staff="KTV02"}`:                                  1,
				`hotline_staff_unanswered_streak{staff="KTV02"}`:                                              1,
			},
		},
		{
			name: "leg to an unknown carrier through the default trunk, no staff",
			call: func(m *Metrics) { m.LegEnded("operator", "", "", "busy", "") },
			want: map[string]float64{
				`hotline_legs_total{carrier="unknown",result="busy",role="operator",trunk="default"}`: 1,
			},
		},
		{
			name: "fallback",
			call: func(m *Metrics) { m.Fallback("area_manager", "regional_manager") },
			want: map[string]float64{`hotline_fallbacks_total{from_role="area_manager",to_role="regional_manager"}`: 1},
		},
		{
			name: "rating",
			call: func(m *Metrics) { m.Rating("north", "KTV01", 4) },
			want: map[string]float64{
				`hotline_ratings_total{region="north",score="4"}`:  1,
				`hotline_staff_ratings_total{staff="KTV01"}`:       1,
				`hotline_staff_rating_points_total{staff="KTV01"}`: 4,
			},
		},
		{
			name: "rating without staff",
			call: func(m *Metrics) { m.Rating("south", "", 1) },
			want: map[string]float64{`hotline_ratings_total{region="south",score="1"}`: 1},
		},
		{
			name: "complaint",
			call: func(m *Metrics) { m.Complaint("central", "KTV02") },
			want: map[string]float64{
				`hotline_complaints_total{region="central"}`:    1,
				`hotline_staff_complaints_total{staff="KTV02"}`: 1,
			},
		},
		{
			name: "active calls move between states",
			call: func(m *Metrics) { m.ActiveCalls("ivr", 1); m.ActiveCalls("ivr", -1); m.ActiveCalls("ringing", 1) },
			want: map[string]float64{`hotline_calls_active{state="ringing"}`: 1},
		},
		{
			name: "set active",
			call: func(m *Metrics) { m.SetActive("bridged", 7) },
			want: map[string]float64{`hotline_calls_active{state="bridged"}`: 7},
		},
		{
			name: "voicemails waiting",
			call: func(m *Metrics) { m.SetVoicemailsWaiting(3, vm) },
			want: map[string]float64{
				`hotline_voicemails_waiting{}`:                         3,
				`hotline_voicemail_oldest_waiting_timestamp_seconds{}`: 1_700_000_000.5,
			},
		},
		{
			name: "routing decision",
			call: func(m *Metrics) { m.RoutingDecision(30 * time.Microsecond) },
			want: hist("hotline_routing_decision_seconds", "", RoutingBuckets, 30e-6),
		},
		{
			name: "directory size",
			call: func(m *Metrics) { m.SetDirectorySize("staff", 42) },
			want: map[string]float64{`hotline_directory_entries{kind="staff"}`: 42},
		},
		{
			name: "directory loaded",
			call: func(m *Metrics) { m.DirectoryLoaded(vm) },
			want: map[string]float64{`hotline_directory_last_load_timestamp_seconds{}`: 1_700_000_000.5},
		},
		{
			name: "spooled",
			call: func(m *Metrics) { m.SetSpooled(12) },
			want: map[string]float64{`hotline_cdr_spooled{}`: 12},
		},
		{
			name: "db error",
			call: func(m *Metrics) { m.DBError("write_call") },
			want: map[string]float64{`hotline_db_errors_total{op="write_call"}`: 1},
		},
		{
			name: "ari request",
			call: func(m *Metrics) { m.ARI().RequestDone("pbx-a", "channels.create", 404, 2*time.Millisecond, nil) },
			want: merge(
				hist("hotline_ari_request_duration_seconds", `op="channels.create"`, ARIRequestBuckets, 0.002),
				map[string]float64{`hotline_ari_requests_total{op="channels.create",status="4xx"}`: 1},
			),
		},
		{
			name: "ari request without response",
			call: func(m *Metrics) { m.ARI().RequestDone("pbx-a", "bridges.create", 0, 0, errTest) },
			want: merge(
				hist("hotline_ari_request_duration_seconds", `op="bridges.create"`, ARIRequestBuckets, 0),
				map[string]float64{`hotline_ari_requests_total{op="bridges.create",status="none"}`: 1},
			),
		},
		{
			name: "ari event",
			call: func(m *Metrics) { m.ARI().EventReceived("pbx-a", "ChannelDtmfReceived") },
			want: map[string]float64{`hotline_ari_events_total{type="ChannelDtmfReceived"}`: 1},
		},
		{
			name: "ari connected",
			call: func(m *Metrics) { m.ARI().ConnectionState("pbx-a", true) },
			want: map[string]float64{`hotline_ari_connected{node="pbx-a"}`: 1},
		},
		{
			name: "ari connected then dropped",
			call: func(m *Metrics) { m.ARI().ConnectionState("pbx-a", true); m.ARI().ConnectionState("pbx-a", false) },
			want: map[string]float64{},
		},
		{
			name: "ari reconnected",
			call: func(m *Metrics) { m.ARI().Reconnected("pbx-a") },
			want: map[string]float64{`hotline_ari_reconnects_total{node="pbx-a"}`: 1},
		},
		{
			name: "bridge failed",
			call: func(m *Metrics) { m.BridgeFailed() },
			want: map[string]float64{`hotline_bridge_failures_total{}`: 1},
		},
		{
			name: "bridge given up",
			call: func(m *Metrics) { m.BridgeGivenUp() },
			want: map[string]float64{`hotline_bridges_given_up_total{}`: 1},
		},
		{
			name: "announcement fallback",
			call: func(m *Metrics) { m.AnnouncementFallback("press_one") },
			want: map[string]float64{`hotline_announcement_fallbacks_total{fallback="press_one"}`: 1},
		},
		{
			name: "announcement fallback outside the set",
			call: func(m *Metrics) { m.AnnouncementFallback("sms") },
			want: map[string]float64{
				`hotline_announcement_fallbacks_total{fallback="other"}`: 1,
				`hotline_metrics_label_rejected_total{label="fallback"}`: 1,
			},
		},
		{
			name: "reconcile failed",
			call: func(m *Metrics) { m.ReconcileFailed() },
			want: map[string]float64{`hotline_reconcile_failures_total{}`: 1},
		},
		{
			name: "call adopted while bridged",
			call: func(m *Metrics) { m.CallAdopted("bridged") },
			want: map[string]float64{`hotline_calls_adopted_total{state="bridged"}`: 1},
		},
		{
			name: "adoption fallback",
			call: func(m *Metrics) { m.AdoptionFallback() },
			want: map[string]float64{`hotline_adoption_fallbacks_total{}`: 1},
		},
		{
			name: "call state save failed",
			call: func(m *Metrics) { m.CallStateSaveFailed() },
			want: map[string]float64{`hotline_call_state_save_failures_total{}`: 1},
		},
		{
			name: "application replaced",
			call: func(m *Metrics) { m.ApplicationReplaced("pbx-a", true) },
			want: map[string]float64{`hotline_ari_application_replaced{node="pbx-a"}`: 1},
		},
		{
			name: "application replaced then taken back",
			call: func(m *Metrics) { m.ApplicationReplaced("pbx-a", true); m.ApplicationReplaced("pbx-a", false) },
			want: map[string]float64{},
		},
		{
			name: "transfer requested",
			call: func(m *Metrics) { m.TransferRequested("operators") },
			want: map[string]float64{`hotline_transfers_requested_total{to="operators"}`: 1},
		},
		{
			name: "transfer ended",
			call: func(m *Metrics) { m.TransferEnded("connected_blind") },
			want: map[string]float64{`hotline_transfers_ended_total{result="connected_blind"}`: 1},
		},
		{
			name: "transfer result outside the set",
			call: func(m *Metrics) { m.TransferEnded("answered") },
			want: map[string]float64{
				`hotline_transfers_ended_total{result="other"}`:        1,
				`hotline_metrics_label_rejected_total{label="result"}`: 1,
			},
		},
		{
			name: "a call transferring",
			call: func(m *Metrics) { m.ActiveCalls("transferring", 1) },
			want: map[string]float64{`hotline_calls_active{state="transferring"}`: 1},
		},
		{
			name: "ari queue overflow",
			call: func(m *Metrics) { m.ARI().QueueOverflow("pbx-a", "ChannelVarset") },
			want: map[string]float64{`hotline_ari_event_queue_overflows_total{}`: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, reg := newTestMetrics(t, testOptions)
			before := snapshot(t, reg)
			tt.call(m)
			requireDiff(t, tt.want, diff(before, snapshot(t, reg)))
		})
	}
}

type testError string

func (e testError) Error() string { return string(e) }

const errTest = testError("connection refused")

func TestServiceLevelBucketBoundary(t *testing.T) {
	// A call accepted at exactly 20 s is within the service level; at 20.5 s
	// it is not.
	m, _ := newTestMetrics(t, testOptions)
	m.Accepted("north", 20*time.Second)
	m.Accepted("north", 20500*time.Millisecond)
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.answerWait)
	s := snapshot(t, reg)
	require.InDelta(t, 1, s[`hotline_answer_wait_seconds_bucket{le="20",region="north"}`], 0)
	require.InDelta(t, 2, s[`hotline_answer_wait_seconds_bucket{le="30",region="north"}`], 0)
	require.InDelta(t, 0, s[`hotline_answer_wait_seconds_bucket{le="15",region="north"}`], 0)
}

func TestKnownCombinationsStartAtZero(t *testing.T) {
	m, reg := newTestMetrics(t, testOptions)
	regions := len(testOptions.Regions) + 1 // + none
	staff := len(testOptions.Staff)
	counts := []struct {
		c    prometheus.Collector
		want int
	}{
		{m.callsOffered, len(Methods) * regions},
		{m.callsEnded, len(Outcomes) * len(Methods) * regions},
		{m.answerWait, regions},
		{m.abandonWait, regions},
		{m.talk, regions * len(Roles)},
		{m.legs, len(Roles) * len(Carriers) * len(LegResults)},
		{m.fallbacks, len(Roles) * len(Roles)},
		{m.ratings, regions * len(Scores)},
		{m.complaints, regions},
		{m.active, len(States)},
		{m.staffLegs, staff * len(LegResults)},
		{m.staffStreak, staff},
		{m.staffComplaints, staff},
		{m.staffRatings, staff},
		{m.staffRatingPoints, staff},
		{m.ariConnected, 1},
		{m.ariReconnects, 1},
		{m.ariEvents, len(ARIEventTypes) + 1},
		{m.directory, len(DirectoryKinds)},
		{m.rejected, len(rejectedLabels)},
		{m.faults.announceFalls, len(AnnouncementFallbacks)},
		{m.transfers.requested, len(TransferTargets)},
		{m.transfers.ended, len(TransferResults)},
	}
	for _, c := range counts {
		require.Equal(t, c.want, testutil.CollectAndCount(c.c))
	}
	// Every pre-created sample is 0.
	for k, v := range snapshot(t, reg) {
		require.Zero(t, v, k)
	}
	// A few spelled out, as a dashboard would query them.
	require.Zero(t, testutil.ToFloat64(m.callsEnded.WithLabelValues("abandoned", "dtmf", "south")))
	require.Zero(t, testutil.ToFloat64(m.callsEnded.WithLabelValues("interrupted", "none", "none")))
	require.Zero(t, testutil.ToFloat64(m.legs.WithLabelValues("regional_manager", "itel", "itel", "congestion")))
	require.Zero(t, testutil.ToFloat64(m.staffLegs.WithLabelValues("AM01", "cancelled")))
	require.Zero(t, testutil.ToFloat64(m.ariConnected.WithLabelValues("pbx-a")))
}

func TestNilMetricsIsNoop(t *testing.T) {
	var m *Metrics
	require.NotPanics(t, func() {
		exercise(m)
		m.SetRegions([]string{"north"})
		m.SetStaff([]string{"KTV01"})
		var o *ARIObserver
		o.RequestDone("n", "channels.get", 200, time.Millisecond, nil)
		o.EventReceived("n", "StasisStart")
		o.ConnectionState("n", true)
		o.Reconnected("n")
		o.QueueOverflow("n", "StasisStart")
	})
}

func TestNewRegistersEveryMetricOnTheGivenRegistry(t *testing.T) {
	m, reg := newTestMetrics(t, testOptions)
	exercise(m)
	names := map[string]bool{}
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, want := range describedNames(t, testOptions) {
		require.True(t, names[want], "metric %s has no series after exercise()", want)
	}
	// Nothing leaks to the default registry.
	def, err := prometheus.DefaultGatherer.Gather()
	require.NoError(t, err)
	for _, mf := range def {
		require.NotContains(t, mf.GetName(), Namespace+"_")
	}
	// Registering twice on one registry is a wiring bug and panics.
	require.Panics(t, func() { New(reg, testOptions) })
}

func TestRuntimeCollectors(t *testing.T) {
	reg := prometheus.NewRegistry()
	New(reg, Options{Version: "1.2.3"})
	mfs, err := reg.Gather()
	require.NoError(t, err)
	var goSeen, buildSeen bool
	for _, mf := range mfs {
		switch mf.GetName() {
		case "go_goroutines":
			goSeen = true
		case "hotline_build_info":
			buildSeen = true
			require.Equal(t, "1.2.3", mf.GetMetric()[0].GetLabel()[0].GetValue())
		}
	}
	require.True(t, goSeen)
	require.True(t, buildSeen)

	// An app that registered the Go collector itself does not make New panic.
	reg = prometheus.NewRegistry()
	reg.MustRegister(collectorsGo())
	require.NotPanics(t, func() { New(reg, Options{}) })
}
