package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

// SetCoverage replaces the previous computation: a province covered again
// reads 0, one no longer listed disappears, café counts go back to 0; an
// unknown province or region is rejected and counted, never a new series.
func TestSetCoverage(t *testing.T) {
	m, reg := newTestMetrics(t, testOptions)
	s := snapshot(t, reg)
	require.Contains(t, s, `hotline_coverage_cafes{problem="no_number",region="south"}`, "café series start at 0")
	require.Contains(t, s, `hotline_coverage_cafes{problem="no_technician",region="none"}`)

	m.SetCoverage([]ProvinceCoverage{
		{Region: "north", Province: "ha-noi", GapHours: 12},
		{Region: "south", Province: "kien-giang", GapHours: 0},
		{Region: "south", Province: "atlantis", GapHours: 5},
		{Region: "+84945551519", Province: "kien-giang", GapHours: 1},
	}, []CafeCoverage{
		{Region: "north", Problem: "no_technician", Cafes: 3},
		{Region: "", Problem: "no_number", Cafes: 1},
		{Region: "north", Problem: "CF1234", Cafes: 1},
	})
	s = snapshot(t, reg)
	require.InDelta(t, 12, s[`hotline_coverage_gap_hours{province="ha-noi",region="north"}`], 0)
	require.InDelta(t, 0, s[`hotline_coverage_gap_hours{province="kien-giang",region="south"}`], 0)
	require.InDelta(t, 1, s[`hotline_coverage_gap_hours{province="kien-giang",region="other"}`], 0)
	require.InDelta(t, 3, s[`hotline_coverage_cafes{problem="no_technician",region="north"}`], 0)
	require.InDelta(t, 1, s[`hotline_coverage_cafes{problem="no_number",region="none"}`], 0)
	require.InDelta(t, 1, s[`hotline_coverage_cafes{problem="other",region="north"}`], 0)
	require.InDelta(t, 1, testutil.ToFloat64(m.rejected.WithLabelValues("province")), 0)
	require.InDelta(t, 1, testutil.ToFloat64(m.rejected.WithLabelValues("region")), 0)
	require.InDelta(t, 1, testutil.ToFloat64(m.rejected.WithLabelValues("problem")), 0)

	m.SetCoverage([]ProvinceCoverage{{Region: "south", Province: "kien-giang", GapHours: 2}}, nil)
	s = snapshot(t, reg)
	_, ok := s[`hotline_coverage_gap_hours{province="ha-noi",region="north"}`]
	require.False(t, ok, "a province no longer listed disappears")
	require.InDelta(t, 2, s[`hotline_coverage_gap_hours{province="kien-giang",region="south"}`], 0)
	require.Zero(t, s[`hotline_coverage_cafes{problem="no_technician",region="north"}`])

	m.SetRegions([]string{"north"})
	s = snapshot(t, reg)
	_, ok = s[`hotline_coverage_gap_hours{province="kien-giang",region="south"}`]
	require.False(t, ok, "a region gone from the directory loses its coverage series")
	_, ok = s[`hotline_coverage_cafes{problem="no_number",region="south"}`]
	require.False(t, ok)
}
