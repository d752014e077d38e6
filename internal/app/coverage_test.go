package app

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// serve exports the coverage gauges from the directory it loaded: the
// sample's Cần Thơ (KTV02, Mon–Sat 07:00–22:00, Sun 08:00–12:00) has hours
// without a technician every week, Kiên Giang (KTV01, 24/7) none; a
// province without café has no series.
func TestServeExportsCoverageGauges(t *testing.T) {
	h := startHarness(t, nil)
	gauge := regexp.MustCompile(`(?m)^hotline_coverage_gap_hours\{province="can-tho",region="MN"\} (\d+)$`)
	var body string
	require.Eventually(t, func() bool {
		_, body = h.get("/metrics")
		return gauge.MatchString(body)
	}, 10*time.Second, 50*time.Millisecond, "no coverage gauge")
	n, err := strconv.Atoi(gauge.FindStringSubmatch(body)[1])
	require.NoError(t, err)
	require.GreaterOrEqual(t, n, 60, "nights and Sunday afternoons of a whole week")
	require.Contains(t, body, `hotline_coverage_gap_hours{province="kien-giang",region="MN"} 0`)
	require.Contains(t, body, `hotline_coverage_cafes{problem="no_technician",region="MN"} 2`)
	require.Contains(t, body, `hotline_coverage_cafes{problem="no_number",region="MB"} 0`)
	require.NotContains(t, body, `province="an-giang"`)
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "hotline_metrics_label_rejected_total") {
			require.True(t, strings.HasSuffix(line, " 0"), line)
		}
	}
}
