package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// CoverageProblems are the problem label values of hotline_coverage_cafes.
var CoverageProblems = []string{"no_technician", "no_number"}

// ProvinceCoverage is one province's coverage for SetCoverage.
type ProvinceCoverage struct {
	Region   string // region code of the directory, "" when none
	Province string // province code of the directory
	// GapHours counts the hours of the coming days when a call from a
	// café of the province would ring no technician.
	GapHours int
}

// CafeCoverage counts the cafés of one region with a coverage problem
// (one of CoverageProblems) for SetCoverage.
type CafeCoverage struct {
	Region  string
	Problem string
	Cafes   int
}

func (m *Metrics) registerCoverage(f promauto.Factory) {
	m.coverageGap = f.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "coverage_gap_hours",
		Help: "Hours of the coming 7 days (Asia/Ho_Chi_Minh) when a call from a café of the province would ring no technician (everyone off duty, on holiday, suspended, refusing, unreachable), by region and province; provinces with an active café only.",
	}, []string{"region", "province"})
	m.coverageCafes = f.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "coverage_cafes",
		Help: "Active cafés with a coverage problem in the coming 7 days, by region and problem: no_technician (at some hour no technician would be rung), no_number (no phone number on record).",
	}, []string{"region", "problem"})
}

// SetCoverage replaces the coverage gauges with a new computation (after a
// directory load, and as the 7-day window moves on). Regions must be
// directory codes (SetRegions) or "" (none), provinces among
// Options.Provinces; other values are rejected and counted.
func (m *Metrics) SetCoverage(provinces []ProvinceCoverage, cafes []CafeCoverage) {
	if m == nil {
		return
	}
	m.regions.mu.RLock()
	defer m.regions.mu.RUnlock()
	m.coverageMu.Lock()
	defer m.coverageMu.Unlock()
	m.coverageGap.Reset()
	for _, p := range provinces {
		if _, ok := m.provinces.get(p.Province); !ok {
			m.rejected.WithLabelValues("province").Inc()
			continue
		}
		m.coverageGap.WithLabelValues(m.region(p.Region), p.Province).Set(float64(p.GapHours))
	}
	// Every region's series exist from createRegion on: back to 0, then
	// the new counts.
	for r := range m.regions.codes {
		for _, pb := range CoverageProblems {
			m.coverageCafes.WithLabelValues(r, pb).Set(0)
		}
	}
	for _, pb := range CoverageProblems {
		m.coverageCafes.WithLabelValues(None, pb).Set(0)
	}
	for _, c := range cafes {
		m.coverageCafes.WithLabelValues(m.region(c.Region), m.fixed(m.problems, "problem", c.Problem)).Add(float64(c.Cafes))
	}
}
