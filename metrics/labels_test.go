package metrics

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/stretchr/testify/require"
)

// leaky are values that must never become a label value: caller IDs in
// every form, Asterisk channel ids, our ULID-style ids, café codes, SIP
// URIs and junk.
var leaky = []string{
	"+84945551519", "0945551519", "84945551519", "02973812345",
	"1712345678.42", "hotline-1712345678.42", "01HZX3Q4M8V6W2N9K7T5R1Y0PB", "01HZX3Q4M8V6W2N9K7T5R1Y0PB-leg",
	"CF1234", "cafe-0042", "PJSIP/gw-viettel-00000012", "sip:0945551519@10.0.0.1",
	"ANSWERED", "Technician", " answered", "answered\n", strings.Repeat("a", 300), "\xff\xfe", "other", "none",
}

// allowedValues returns every label value the tests' directory allows, by
// label name.
func allowedValues() map[string]map[string]bool {
	set := func(vs ...[]string) map[string]bool {
		out := map[string]bool{Other: true}
		for _, v := range vs {
			for _, s := range v {
				out[s] = true
			}
		}
		return out
	}
	regions := append([]string{None}, testOptions.Regions...)
	return map[string]map[string]bool{
		"outcome":   set(Outcomes),
		"method":    set(Methods),
		"region":    set(regions),
		"role":      set(Roles),
		"from_role": set(Roles),
		"to_role":   set(Roles),
		"carrier":   set(Carriers),
		"trunk":     set(Carriers, []string{DefaultTrunk}),
		"result":    set(LegResults, TransferResults),
		"to":        set(TransferTargets),
		"staff":     set(testOptions.Staff),
		"score":     set(Scores),
		"state":     set(States),
		"kind":      set(DirectoryKinds),
		"type":      set(ARIEventTypes),
		"status":    set(StatusClasses),
		"node":      set(testOptions.ARINodes),
		"op":        set([]string{"channels.create", "write_call"}),
		"label":     set(rejectedLabels),
		"province":  set(testOptions.Provinces),
		"fallback":  set(AnnouncementFallbacks),
		"problem":   set(CoverageProblems),
		"reason":    set(CallbackCancelReasons),
	}
}

// feedEverywhere passes v as every string argument of every method.
func feedEverywhere(m *Metrics, v string) {
	m.CallOffered(v, v)
	m.CallEnded(v, v, v)
	m.CallEnded("answered", "caller_id", v)
	m.Accepted(v, time.Second)
	m.Abandoned(v, time.Second)
	m.TalkTime(v, v, time.Second)
	m.LegEnded(v, v, v, v, v)
	m.LegEnded("technician", "viettel", "viettel", "no_answer", v)
	m.Fallback(v, v)
	m.Rating(v, v, 3)
	m.Complaint(v, v)
	m.ActiveCalls(v, 1)
	m.SetActive(v, 1)
	m.SetDirectorySize(v, 1)
	m.DBError(v)
	m.AnnouncementFallback(v)
	m.TransferRequested(v)
	m.TransferEnded(v)
	m.SetCoverage([]ProvinceCoverage{{Region: v, Province: v, GapHours: 1}}, []CafeCoverage{{Region: v, Problem: v, Cafes: 1}})
	m.CallbacksCancelled(v, 1)
	o := m.ARI()
	o.RequestDone(v, v, 200, time.Millisecond, nil)
	o.EventReceived(v, v)
	o.ConnectionState(v, true)
	o.Reconnected(v)
	o.QueueOverflow(v, v)
}

// requireBoundedLabels fails when a hotline_* series has a label value
// outside allowed.
func requireBoundedLabels(t *testing.T, reg prometheus.Gatherer, allowed map[string]map[string]bool) {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), Namespace+"_") || mf.GetName() == Namespace+"_build_info" {
			continue
		}
		for _, s := range mf.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "op" {
					if _, ok := allowed["op"]; !ok {
						continue
					}
				}
				vals, ok := allowed[l.GetName()]
				require.True(t, ok, "%s has unexpected label %s", mf.GetName(), l.GetName())
				require.True(t, vals[l.GetValue()], "%s{%s=%q}: value outside its set", mf.GetName(), l.GetName(), l.GetValue())
			}
		}
	}
}

func TestCallerValuesNeverBecomeLabels(t *testing.T) {
	m, reg := newTestMetrics(t, testOptions)
	m.DBError("write_call")
	m.ARI().RequestDone("pbx-a", "channels.create", 200, time.Millisecond, nil)
	for _, v := range leaky {
		feedEverywhere(m, v)
	}
	allowed := allowedValues()
	delete(allowed, "op") // ARI and database operations are names chosen in code: checked by pattern
	requireBoundedLabels(t, reg, allowed)

	// No value that identifies a call, a phone or a café appears anywhere.
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		for _, s := range mf.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "op" {
					require.Regexp(t, opPattern, l.GetValue())
				}
				require.NotRegexp(t, `[0-9]{3}`, l.GetValue(), "%s{%s}", mf.GetName(), l.GetName())
				require.NotContains(t, []string{"CF1234", "cafe-0042", "ANSWERED", "Technician"}, l.GetValue())
			}
		}
	}

	// The rejections were counted, per label.
	for _, l := range []string{"outcome", "method", "region", "role", "carrier", "trunk", "result", "staff", "state", "kind", "op", "node", "type"} {
		require.Positive(t, testutil.ToFloat64(m.rejected.WithLabelValues(l)), l)
	}
	// The calls still counted, under other/none.
	require.Positive(t, testutil.ToFloat64(m.callsEnded.WithLabelValues(Other, Other, Other)))
	require.Positive(t, testutil.ToFloat64(m.callsEnded.WithLabelValues("answered", "caller_id", Other)))
}

func TestRejectedInputsMapOrDrop(t *testing.T) {
	m, _ := newTestMetrics(t, testOptions)
	tests := []struct {
		name  string
		call  func()
		label string
		moved prometheus.Collector
	}{
		{"unknown outcome is other", func() { m.CallEnded("hangup", "dtmf", "north") }, "outcome",
			m.callsEnded.WithLabelValues(Other, "dtmf", "north")},
		{"caller id as region is other", func() { m.CallOffered("caller_id", "+84945551519") }, "region",
			m.callsOffered.WithLabelValues("caller_id", Other)},
		{"channel id as ARI op is other", func() { m.ARI().RequestDone("pbx-a", "channels.1712345678.42", 200, 0, nil) }, "op",
			m.ariRequests.WithLabelValues(Other, "2xx")},
		{"unknown event type is other", func() { m.ARI().EventReceived("pbx-a", "ChannelFooBar") }, "type",
			m.ariEvents.WithLabelValues(Other)},
		{"upper-case carrier is other", func() { m.LegEnded("technician", "Viettel", "viettel", "busy", "") }, "carrier",
			m.legs.WithLabelValues("technician", Other, "viettel", "busy")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := testutil.ToFloat64(m.rejected.WithLabelValues(tt.label))
			tt.call()
			require.InDelta(t, before+1, testutil.ToFloat64(m.rejected.WithLabelValues(tt.label)), 0)
			require.InDelta(t, 1, testutil.ToFloat64(tt.moved), 0)
		})
	}

	// Dropped entirely: a score outside 1..5 and a staff code not in the
	// directory (per-staff series only exist for directory staff).
	m2, reg := newTestMetrics(t, testOptions)
	before := snapshot(t, reg)
	m2.Rating("north", "KTV01", 9)
	m2.Rating("north", "KTV01", 0)
	m2.LegEnded("technician", "viettel", "viettel", "no_answer", "KTV99")
	requireDiff(t, map[string]float64{
		`hotline_metrics_label_rejected_total{label="score"}`:                                        2,
		`hotline_metrics_label_rejected_total{label="staff"}`:                                        1,
		`hotline_legs_total{carrier="viettel",result="no_answer",role="technician",trunk="viettel"}`: 1,
	}, diff(before, snapshot(t, reg)))
}

func TestOpenSetsAreBounded(t *testing.T) {
	m, reg := newTestMetrics(t, testOptions)
	o := m.ARI()
	for i := range 3 * maxARIOps {
		o.RequestDone("pbx-a", "channels."+strings.Repeat("x", i%31+1)+string(rune('a'+i/31)), 200, 0, nil)
	}
	for i := range 3 * maxARINodes {
		o.ConnectionState(fmt.Sprintf("node%c", 'a'+i), true)
	}
	for i := range 3 * maxDBOps {
		m.DBError("op_" + strings.Repeat("y", i%31+1) + string(rune('a'+i/31)))
	}
	for i := range 30 {
		m.LegEnded("operator", "", fmt.Sprintf("gw-%c", 'a'+i), "busy", "")
	}
	count := func(reg prometheus.Gatherer, name, label string) int {
		mfs, err := reg.Gather()
		require.NoError(t, err)
		seen := map[string]bool{}
		for _, mf := range mfs {
			if mf.GetName() != name {
				continue
			}
			for _, s := range mf.GetMetric() {
				for _, l := range s.GetLabel() {
					if l.GetName() == label {
						seen[l.GetValue()] = true
					}
				}
			}
		}
		return len(seen)
	}
	require.Equal(t, maxARIOps+1, count(reg, "hotline_ari_request_duration_seconds", "op"))
	require.Equal(t, 2, count(reg, "hotline_ari_connected", "node"), "configured nodes are a closed set") // pbx-a + other
	require.Equal(t, maxDBOps+1, count(reg, "hotline_db_errors_total", "op"))
	require.Equal(t, len(Carriers)+1, count(reg, "hotline_legs_total", "trunk")) // carriers but unknown, default, other
	require.InDelta(t, 3*maxARIOps-maxARIOps, testutil.ToFloat64(m.ariRequests.WithLabelValues(Other, "2xx")), 0)

	// Without configured nodes, the first few names are admitted.
	m2, reg2 := newTestMetrics(t, Options{NoRuntimeCollectors: true})
	for i := range 3 * maxARINodes {
		m2.ARI().ConnectionState(fmt.Sprintf("node%c", 'a'+i), true)
	}
	require.Equal(t, maxARINodes+1, count(reg2, "hotline_ari_connected", "node"))

	// Configured trunks are admitted.
	m3, reg3 := newTestMetrics(t, Options{Trunks: []string{"gw-backup2"}, NoRuntimeCollectors: true})
	m3.LegEnded("operator", "", "gw-backup2", "busy", "")
	require.Equal(t, len(Carriers)+1, count(reg3, "hotline_legs_total", "trunk")) // carriers but unknown, default, gw-backup2
}

func TestSetRegionsReload(t *testing.T) {
	m, reg := newTestMetrics(t, Options{Regions: []string{"north", "south"}, NoRuntimeCollectors: true})
	m.CallOffered("caller_id", "south")
	m.CallOffered("caller_id", "north")

	m.SetRegions([]string{"south", "central", "bad code", "+84945551519", "south"})
	s := snapshot(t, reg)
	require.InDelta(t, 1, s[`hotline_calls_offered_total{method="caller_id",region="south"}`], 0, "kept regions keep their counts")
	_, ok := s[`hotline_calls_offered_total{method="caller_id",region="north"}`]
	require.False(t, ok, "a region gone from the directory loses its series")
	v, ok := s[`hotline_calls_ended_total{method="dtmf",outcome="voicemail",region="central"}`]
	require.True(t, ok, "a new region starts at 0")
	require.Zero(t, v)
	require.InDelta(t, 2, testutil.ToFloat64(m.rejected.WithLabelValues("region")), 0, "invalid codes are counted")

	m.CallOffered("caller_id", "north")
	require.InDelta(t, 1, testutil.ToFloat64(m.callsOffered.WithLabelValues("caller_id", Other)), 0)
	requireBoundedLabels(t, reg, map[string]map[string]bool{
		"region": {"south": true, "central": true, None: true, Other: true},
		"method": {"caller_id": true, "dtmf": true, "area_code": true, "none": true},
		"outcome": func() map[string]bool {
			o := map[string]bool{}
			for _, v := range Outcomes {
				o[v] = true
			}
			return o
		}(),
		"role": allowedValues()["role"], "score": allowedValues()["score"], "label": allowedValues()["label"],
		"state": allowedValues()["state"], "kind": allowedValues()["kind"], "type": allowedValues()["type"],
		"from_role": allowedValues()["from_role"], "to_role": allowedValues()["to_role"],
		"carrier": allowedValues()["carrier"], "trunk": allowedValues()["trunk"], "result": allowedValues()["result"],
		"problem": allowedValues()["problem"], "reason": allowedValues()["reason"],
		"fallback": allowedValues()["fallback"],
		"to":       allowedValues()["to"],
	})
}

func TestSetStaffReloadAndStreak(t *testing.T) {
	m, _ := newTestMetrics(t, testOptions)
	streak := func(s string) float64 { return testutil.ToFloat64(m.staffStreak.WithLabelValues(s)) }
	steps := []struct {
		result string
		want   float64
	}{
		{"no_answer", 1},
		{"busy", 2},
		{"congestion", 2}, // the network's fault, not the technician's
		{"cancelled", 2},  // the caller left
		{"answered_unconfirmed", 3},
		{"failed", 4},
		{"answered", 0},
		{"no_answer", 1},
	}
	for i, st := range steps {
		m.LegEnded("technician", "viettel", "viettel", st.result, "KTV01")
		require.InDelta(t, st.want, streak("KTV01"), 0, "step %d (%s)", i, st.result)
	}
	require.Zero(t, streak("KTV02"), "other staff unaffected")

	m.SetStaff([]string{"KTV02", "KTV03"})
	require.Equal(t, 2, testutil.CollectAndCount(m.staffStreak))
	require.Equal(t, 2*len(LegResults), testutil.CollectAndCount(m.staffLegs))
	require.Zero(t, streak("KTV03"))
	m.LegEnded("technician", "viettel", "viettel", "no_answer", "KTV01")
	require.Equal(t, 2, testutil.CollectAndCount(m.staffStreak), "a former staff member gets no series back")
}

func TestConcurrentUseWithReloads(t *testing.T) {
	m, reg := newTestMetrics(t, testOptions)
	const workers, perWorker = 4, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				m.CallOffered("caller_id", "north")
				m.LegEnded("technician", "viettel", "viettel", "busy", "KTV01")
				m.Rating("north", "KTV01", 1+i%5)
				m.ARI().EventReceived("pbx-a", ARIEventTypes[(w+i)%len(ARIEventTypes)])
			}
		})
	}
	wg.Go(func() {
		for i := range 50 {
			m.SetRegions([]string{"north", fmt.Sprintf("r%d", i%3)})
			m.SetStaff([]string{"KTV01", fmt.Sprintf("S%d", i%3)})
		}
	})
	wg.Wait()
	require.InDelta(t, workers*perWorker, testutil.ToFloat64(m.callsOffered.WithLabelValues("caller_id", "north")), 0)
	require.InDelta(t, workers*perWorker, testutil.ToFloat64(m.staffLegs.WithLabelValues("KTV01", "busy")), 0)
	require.InDelta(t, workers*perWorker, testutil.ToFloat64(m.staffStreak.WithLabelValues("KTV01")), 0)
	require.InDelta(t, workers*perWorker, testutil.ToFloat64(m.staffRatings.WithLabelValues("KTV01")), 0)
	_, err := reg.Gather()
	require.NoError(t, err)
}

func TestPromlint(t *testing.T) {
	m, reg := newTestMetrics(t, Options{Regions: []string{"north"}, Staff: []string{"KTV01"}, Version: "test"})
	exercise(m)
	mfs, err := reg.Gather()
	require.NoError(t, err)
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	require.NoError(t, err)
	var ours []promlint.Problem
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, Namespace+"_") {
			ours = append(ours, p)
		}
	}
	require.Empty(t, ours)
	// Every help text is a sentence, not a placeholder.
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), Namespace+"_") {
			require.Greater(t, len(mf.GetHelp()), 20, mf.GetName())
		}
	}
}

// FuzzLabels feeds arbitrary strings to every method and checks that no
// label value leaves its set.
func FuzzLabels(f *testing.F) {
	for _, v := range leaky {
		f.Add(v)
	}
	f.Add("answered")
	f.Add("north")
	m, reg := newTestMetrics(f, testOptions)
	m.DBError("write_call")
	m.ARI().RequestDone("pbx-a", "channels.create", 200, time.Millisecond, nil)
	allowed := allowedValues()
	f.Fuzz(func(t *testing.T, v string) {
		feedEverywhere(m, v)
		// Names chosen in code (op, node, trunk) are admitted by pattern;
		// check those against the pattern, everything else exactly.
		mfs, err := reg.Gather()
		require.NoError(t, err)
		for _, mf := range mfs {
			for _, s := range mf.GetMetric() {
				for _, l := range s.GetLabel() {
					name, val := l.GetName(), l.GetValue()
					switch name {
					case "op":
						require.Regexp(t, opPattern+`|^other$`, val)
					case "node":
						require.Regexp(t, nodePattern, val)
					case "trunk":
						require.Regexp(t, trunkPattern, val)
					case "le", "version":
					default:
						require.True(t, allowed[name][val], "%s{%s=%q}", mf.GetName(), name, val)
					}
				}
			}
		}
	})
}
