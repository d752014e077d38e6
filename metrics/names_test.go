package metrics

import (
	"regexp"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/stretchr/testify/require"
)

func collectorsGo() prometheus.Collector { return collectors.NewGoCollector() }

// recordingRegisterer remembers every collector registered through it.
type recordingRegisterer struct {
	prometheus.Registerer
	collectors []prometheus.Collector
}

func (r *recordingRegisterer) Register(c prometheus.Collector) error {
	r.collectors = append(r.collectors, c)
	return r.Registerer.Register(c)
}

func (r *recordingRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

var fqNameRE = regexp.MustCompile(`^Desc\{fqName: "([^"]+)"`)

// describedNames returns the names of every metric New registers (from the
// collectors' descriptions, so it does not depend on series existing).
func describedNames(t testing.TB, opts Options) []string {
	t.Helper()
	rec := &recordingRegisterer{Registerer: prometheus.NewRegistry()}
	New(rec, opts)
	var names []string
	for _, c := range rec.collectors {
		ch := make(chan *prometheus.Desc, 256)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			m := fqNameRE.FindStringSubmatch(d.String())
			require.NotNil(t, m, "unexpected Desc format %s", d)
			names = append(names, m[1])
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func TestDescribedNamesAreHotlineNames(t *testing.T) {
	names := describedNames(t, testOptions)
	require.Contains(t, names, "hotline_answer_wait_seconds")
	require.Contains(t, names, "hotline_ari_connected")
	for _, n := range names {
		require.Regexp(t, `^hotline_[a-z_]+$`, n)
	}
}
