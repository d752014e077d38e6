package ivr_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
)

// callFamilies are the metric families the call flow moves. expectMetrics
// checks every series of them: those named must have the given value, all
// others must be 0. Histograms are checked by sample count (name_count).
var callFamilies = []string{
	"hotline_calls_offered_total",
	"hotline_calls_ended_total",
	"hotline_legs_total",
	"hotline_staff_legs_total",
	"hotline_staff_unanswered_streak",
	"hotline_fallbacks_total",
	"hotline_answer_wait_seconds",
	"hotline_abandon_wait_seconds",
	"hotline_talk_seconds",
	"hotline_ratings_total",
	"hotline_complaints_total",
	"hotline_staff_ratings_total",
	"hotline_staff_rating_points_total",
	"hotline_staff_complaints_total",
	"hotline_calls_active",
	"hotline_routing_decision_seconds",
	"hotline_calls_adopted_total",
	"hotline_adoption_fallbacks_total",
	// Transfers: a call nobody transfers moves none of them.
	"hotline_transfers_requested_total",
	"hotline_transfers_ended_total",
	// A label value outside its set is a wiring bug in the call flow.
	"hotline_metrics_label_rejected_total",
}

// series renders a series selector in canonical form: labels sorted by
// name, values quoted.
func series(name string, labels map[string]string) string {
	if len(labels) == 0 {
		return name
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+strconv.Quote(labels[k]))
	}
	return name + "{" + strings.Join(parts, ",") + "}"
}

// parseSelector parses `name{a="x",b="y"}` (or a bare name) into its name
// and labels. Values may not contain commas.
func parseSelector(s string) (string, map[string]string, error) {
	name, rest, ok := strings.Cut(s, "{")
	labels := map[string]string{}
	if !ok {
		return strings.TrimSpace(s), labels, nil
	}
	body, ok := strings.CutSuffix(strings.TrimSpace(rest), "}")
	if !ok {
		return "", nil, fmt.Errorf("selector %q: no closing brace", s)
	}
	for _, p := range strings.Split(body, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return "", nil, fmt.Errorf("selector %q: %q is not label=\"value\"", s, p)
		}
		uv, err := strconv.Unquote(strings.TrimSpace(v))
		if err != nil {
			return "", nil, fmt.Errorf("selector %q: value of %s: %w", s, k, err)
		}
		if _, dup := labels[strings.TrimSpace(k)]; dup {
			return "", nil, fmt.Errorf("selector %q: label %s twice", s, k)
		}
		labels[strings.TrimSpace(k)] = uv
	}
	return strings.TrimSpace(name), labels, nil
}

func TestParseSelector(t *testing.T) {
	name, l, err := parseSelector(`hotline_legs_total{role="technician", trunk="viettel",carrier="vinaphone",result="busy"}`)
	require.NoError(t, err)
	require.Equal(t, "hotline_legs_total", name)
	require.Equal(t, map[string]string{"role": "technician", "trunk": "viettel", "carrier": "vinaphone", "result": "busy"}, l)
	require.Equal(t, `hotline_legs_total{carrier="vinaphone",result="busy",role="technician",trunk="viettel"}`, series(name, l))
	name, l, err = parseSelector("hotline_routing_decision_seconds_count")
	require.NoError(t, err)
	require.Equal(t, "hotline_routing_decision_seconds_count", series(name, l))
	for _, bad := range []string{`x{a="b"`, `x{a}`, `x{a=b}`, `x{a="b",a="c"}`} {
		_, _, err := parseSelector(bad)
		require.Error(t, err, bad)
	}
}

// callSeries gathers the current value of every series of callFamilies,
// keyed by canonical selector; histograms give name_count.
func (e *env) callSeries() map[string]float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	require.NoError(e.t, err)
	out := map[string]float64{}
	found := map[string]bool{}
	for _, mf := range mfs {
		if !slices.Contains(callFamilies, mf.GetName()) {
			continue
		}
		found[mf.GetName()] = true
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out[series(mf.GetName(), labels)] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[series(mf.GetName(), labels)] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[series(mf.GetName()+"_count", labels)] = float64(m.GetHistogram().GetSampleCount())
			default:
				e.t.Fatalf("%s: unexpected metric type %v", mf.GetName(), mf.GetType())
			}
		}
	}
	for _, f := range callFamilies {
		require.True(e.t, found[f], "metric family %s is not exported", f)
	}
	return out
}

// expectMetrics waits until no call is live, then checks the call-flow
// metric families exactly: each selector of want names one existing series
// with that value; every other series of those families is 0. Selectors
// give every label of the series (`hotline_calls_ended_total{method=
// "caller_id",outcome="answered",region="MN"}`); histograms are named by
// their sample count (`hotline_answer_wait_seconds_count{region="MN"}`).
// hotline_calls_active is always expected back at 0.
func (e *env) expectMetrics(want map[string]float64) {
	e.t.Helper()
	require.NoError(e.t, e.srv.Wait(e.ctx()), "calls still live")
	exp := map[string]float64{}
	for s, v := range want {
		name, labels, err := parseSelector(s)
		require.NoError(e.t, err)
		k := series(name, labels)
		_, dup := exp[k]
		require.False(e.t, dup, "selector %s given twice", k)
		exp[k] = v
	}
	got := e.callSeries()
	var problems []string
	for k, v := range exp {
		g, ok := got[k]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s: no such series (want %v)", k, v))
		case g != v:
			problems = append(problems, fmt.Sprintf("%s = %v, want %v", k, g, v))
		}
	}
	for k, g := range got {
		if _, ok := exp[k]; !ok && g != 0 {
			problems = append(problems, fmt.Sprintf("%s = %v, want 0 (unexpected)", k, g))
		}
	}
	slices.Sort(problems)
	if len(problems) > 0 {
		e.t.Errorf("call metrics differ from the scenario:\n  %s", strings.Join(problems, "\n  "))
	}
}

// histogram returns the sample count and sum of the histogram series name
// with exactly the given labels (name/value pairs).
func (e *env) histogram(name string, labels ...string) (uint64, float64) {
	e.t.Helper()
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	mfs, err := e.reg.Gather()
	require.NoError(e.t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			if series(name, got) == series(name, want) {
				h := m.GetHistogram()
				require.NotNil(e.t, h, "%s is not a histogram", name)
				return h.GetSampleCount(), h.GetSampleSum()
			}
		}
	}
	e.t.Fatalf("no series %s", series(name, want))
	return 0, 0
}

// recordTolerance absorbs Postgres' microsecond timestamps.
const recordTolerance = 1e-3

// expectAnswerWait checks that the answer-wait histogram of region holds
// the accepted waits of the records given, and nothing else: its sum is
// the sum of their accepted_at − started_at.
func (e *env) expectAnswerWait(region string, recs ...callRow) {
	e.t.Helper()
	var want float64
	for _, r := range recs {
		require.True(e.t, r.AcceptedAt.Valid, "call %s was not accepted", r.ID)
		w := r.AcceptedAt.Time.Sub(r.StartedAt).Seconds()
		require.Greater(e.t, w, 0.0)
		require.InDelta(e.t, r.Wait, w, recordTolerance, "wait_seconds of %s", r.ID)
		want += w
	}
	n, sum := e.histogram("hotline_answer_wait_seconds", "region", region)
	require.Equal(e.t, uint64(len(recs)), n, "answer waits in %s", region)
	require.InDelta(e.t, want, sum, recordTolerance*float64(len(recs)), "answer wait sum in %s", region)
}

// expectAbandonWait checks the abandoned-wait histogram of region against
// the records' ended_at − started_at.
func (e *env) expectAbandonWait(region string, recs ...callRow) {
	e.t.Helper()
	var want float64
	for _, r := range recs {
		require.Equal(e.t, "abandoned", r.Outcome)
		want += r.EndedAt.Sub(r.StartedAt).Seconds()
	}
	n, sum := e.histogram("hotline_abandon_wait_seconds", "region", region)
	require.Equal(e.t, uint64(len(recs)), n, "abandoned waits in %s", region)
	require.InDelta(e.t, want, sum, recordTolerance*float64(len(recs)), "abandoned wait sum in %s", region)
}

// expectTalk checks the talk-time histogram of region and role: one sample
// per record, each positive and at most the record's talk_seconds (which
// also counts the bridge set-up after the 1).
func (e *env) expectTalk(region, role string, recs ...callRow) {
	e.t.Helper()
	var most float64
	for _, r := range recs {
		require.Greater(e.t, r.Talk, 0.0, "talk_seconds of %s", r.ID)
		most += r.Talk
	}
	n, sum := e.histogram("hotline_talk_seconds", "region", region, "role", role)
	require.Equal(e.t, uint64(len(recs)), n, "talks in %s by %s", region, role)
	require.Greater(e.t, sum, 0.0)
	require.LessOrEqual(e.t, sum, most+recordTolerance*float64(len(recs)), "talk sum in %s by %s", region, role)
}

// Selector builders for the scenarios' expectations.

func offered(method, region string) string {
	return fmt.Sprintf(`hotline_calls_offered_total{method=%q,region=%q}`, method, region)
}

func ended(outcome, method, region string) string {
	return fmt.Sprintf(`hotline_calls_ended_total{outcome=%q,method=%q,region=%q}`, outcome, method, region)
}

func legs(role, carrier, trunk, result string) string {
	return fmt.Sprintf(`hotline_legs_total{role=%q,carrier=%q,trunk=%q,result=%q}`, role, carrier, trunk, result)
}

func staffLegs(staff, result string) string {
	return fmt.Sprintf(`hotline_staff_legs_total{staff=%q,result=%q}`, staff, result)
}

func streak(staff string) string {
	return fmt.Sprintf(`hotline_staff_unanswered_streak{staff=%q}`, staff)
}

func fallback(from, to string) string {
	return fmt.Sprintf(`hotline_fallbacks_total{from_role=%q,to_role=%q}`, from, to)
}

func answerWaits(region string) string {
	return fmt.Sprintf(`hotline_answer_wait_seconds_count{region=%q}`, region)
}

func abandonWaits(region string) string {
	return fmt.Sprintf(`hotline_abandon_wait_seconds_count{region=%q}`, region)
}

func talks(region, role string) string {
	return fmt.Sprintf(`hotline_talk_seconds_count{region=%q,role=%q}`, region, role)
}

// routed is the number of routing decisions (plans computed).
const routed = "hotline_routing_decision_seconds_count"

// expectKTV1AcceptedAndRated checks the metrics of the most common call: a
// café of region MN identified by caller ID, KTV1 accepting on its first leg
// (Vinaphone), then the caller giving score; and the histogram sums against
// the record r.
func (e *env) expectKTV1AcceptedAndRated(r callRow, score int) {
	e.t.Helper()
	e.expectMetrics(map[string]float64{
		offered("caller_id", "MN"):                               1,
		ended("answered", "caller_id", "MN"):                     1,
		legs("technician", "vinaphone", "vinaphone", "answered"): 1,
		staffLegs("KTV1", "answered"):                            1,
		answerWaits("MN"):                                        1,
		talks("MN", "technician"):                                1,
		routed:                                                   1,
		fmt.Sprintf(`hotline_ratings_total{region="MN",score="%d"}`, score): 1,
		`hotline_staff_ratings_total{staff="KTV1"}`:                         1,
		`hotline_staff_rating_points_total{staff="KTV1"}`:                   float64(score),
	})
	e.expectAnswerWait("MN", r)
	e.expectTalk("MN", "technician", r)
}
