package metrics

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
)

// testOptions is the directory most tests use.
var testOptions = Options{
	Regions:             []string{"north", "central", "south"},
	Staff:               []string{"KTV01", "KTV02", "AM01"},
	ARINodes:            []string{"pbx-a"},
	Provinces:           []string{"ha-noi", "kien-giang"},
	NoRuntimeCollectors: true,
}

// newTestMetrics returns Metrics on a fresh registry.
func newTestMetrics(t testing.TB, opts Options) (*Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	return New(reg, opts), reg
}

// seriesKey names one sample: metric name plus sorted labels.
func seriesKey(name string, labels []*dto.LabelPair, extra ...string) string {
	parts := make([]string, 0, len(labels)+1)
	for _, l := range labels {
		parts = append(parts, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	parts = append(parts, extra...)
	slices.Sort(parts)
	return name + "{" + strings.Join(parts, ",") + "}"
}

// snapshot returns every hotline_* sample of reg: counters and gauges by
// value, histograms as _count, _sum and cumulative _bucket samples.
func snapshot(t testing.TB, reg prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]float64{}
	for _, mf := range mfs {
		name := mf.GetName()
		if !strings.HasPrefix(name, Namespace+"_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out[seriesKey(name, m.GetLabel())] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[seriesKey(name, m.GetLabel())] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				out[seriesKey(name+"_count", m.GetLabel())] = float64(h.GetSampleCount())
				out[seriesKey(name+"_sum", m.GetLabel())] = h.GetSampleSum()
				for _, b := range h.GetBucket() {
					le := fmt.Sprintf("le=%q", formatLe(b.GetUpperBound()))
					out[seriesKey(name+"_bucket", m.GetLabel(), le)] = float64(b.GetCumulativeCount())
				}
				le := `le="+Inf"`
				out[seriesKey(name+"_bucket", m.GetLabel(), le)] = float64(h.GetSampleCount())
			default:
				t.Fatalf("unexpected metric type %v of %s", mf.GetType(), name)
			}
		}
	}
	return out
}

// formatLe prints a bucket bound the way the exposition format does.
func formatLe(f float64) string {
	if math.IsInf(f, +1) {
		return "+Inf"
	}
	return fmt.Sprint(f)
}

// diff returns the samples whose value changed or that appeared or
// disappeared between before and after, as after-before.
func diff(before, after map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	for k, v := range before {
		if _, ok := after[k]; !ok {
			out[k] = -v
		}
	}
	return out
}

// hist returns the expected changes of one histogram observation of v with
// the given labels ("region=\"north\"" style) and buckets.
func hist(name, labels string, buckets []float64, v float64) map[string]float64 {
	out := map[string]float64{
		name + "_count{" + labels + "}": 1,
	}
	if v != 0 {
		out[name+"_sum{"+labels+"}"] = v
	}
	for _, b := range buckets {
		if v <= b {
			key := []string{fmt.Sprintf("le=%q", formatLe(b))}
			if labels != "" {
				key = append(key, strings.Split(labels, ",")...)
			}
			slices.Sort(key)
			out[name+"_bucket{"+strings.Join(key, ",")+"}"] = 1
		}
	}
	key := []string{`le="+Inf"`}
	if labels != "" {
		key = append(key, strings.Split(labels, ",")...)
	}
	slices.Sort(key)
	out[name+"_bucket{"+strings.Join(key, ",")+"}"] = 1
	return out
}

// merge adds maps together.
func merge(ms ...map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for _, m := range ms {
		for k, v := range m {
			out[k] += v
		}
	}
	return out
}

// exercise calls every method once with valid values, so every metric has
// at least one series.
func exercise(m *Metrics) {
	m.CallOffered("caller_id", "north")
	m.CallEnded("answered", "caller_id", "north")
	m.Accepted("north", 12*time.Second)
	m.Abandoned("north", 40*time.Second)
	m.TalkTime("north", "technician", 3*time.Minute)
	m.LegEnded("technician", "viettel", "viettel", "answered", "KTV01")
	m.Fallback("technician", "area_manager")
	m.Rating("north", "KTV01", 5)
	m.Complaint("north", "KTV01")
	m.ActiveCalls("ringing", 1)
	m.SetActive("bridged", 2)
	m.SetVoicemailsWaiting(1, time.Unix(1_700_000_000, 0))
	m.RoutingDecision(40 * time.Microsecond)
	m.SetDirectorySize("cafes", 1200)
	m.DirectoryLoaded(time.Unix(1_700_000_000, 0))
	m.SetSpooled(3)
	m.DBError("write_call")
	m.SetCoverage([]ProvinceCoverage{{Region: "north", Province: "ha-noi", GapHours: 9}},
		[]CafeCoverage{{Region: "north", Problem: "no_technician", Cafes: 2}})
	m.HangupGivenUp()
	m.ReleaseGivenUp()
	m.ReservationMemoryOnly()
	m.RotationMemoryOnly()
	m.CallbacksRequested(2)
	m.CallbackAttempted()
	m.CallbackConnected()
	m.CallbacksCancelled("new_call", 1)
	m.CallbacksGivenUp(1)
	m.SetCallbacksPending(3)
	m.BridgeFailed()
	m.BridgeGivenUp()
	m.AnnouncementFallback("press_one")
	m.ReconcileFailed()
	m.CallAdopted("bridged")
	m.AdoptionFallback()
	m.CallStateSaveFailed()
	m.ApplicationReplaced("pbx-a", true)
	m.TransferRequested("province")
	m.TransferEnded("connected")
	o := m.ARI()
	o.RequestDone("pbx-a", "channels.create", 200, 3*time.Millisecond, nil)
	o.EventReceived("pbx-a", "StasisStart")
	o.ConnectionState("pbx-a", true)
	o.Reconnected("pbx-a")
	o.QueueOverflow("pbx-a", "ChannelVarset")
}

// requireDiff compares sample diffs, tolerating float rounding in _sum values.
func requireDiff(t *testing.T, want, got map[string]float64) {
	t.Helper()
	require.Len(t, got, len(want), "changed series: %v", got)
	for k, w := range want {
		g, ok := got[k]
		require.True(t, ok, "series %s did not change; changed: %v", k, got)
		require.InDelta(t, w, g, 1e-9, "series %s", k)
	}
}
