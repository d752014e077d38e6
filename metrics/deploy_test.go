package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// Paths of the deployment files, relative to this package.
const (
	promDir          = "../deploy/prometheus"
	grafanaDir       = "../deploy/grafana"
	dashboardFile    = grafanaDir + "/dashboards/hotline.json"
	datasourceFile   = grafanaDir + "/provisioning/datasources/prometheus.yml"
	dashProviderFile = grafanaDir + "/provisioning/dashboards/hotline.yml"
)

// syntheticMetrics are series Prometheus makes itself, not the binary.
var syntheticMetrics = map[string]bool{"up": true, "ALERTS": true, "ALERTS_FOR_STATE": true}

// exported returns every series name the binary exposes (histograms with
// their _bucket/_sum/_count names, the Go and process collectors included)
// and, per name, its label names.
func exported(t *testing.T) map[string]map[string]bool {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts := testOptions
	opts.NoRuntimeCollectors = false
	opts.Version = "test"
	exercise(New(reg, opts))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]map[string]bool{}
	add := func(name string, m *dto.Metric, extra ...string) {
		if out[name] == nil {
			out[name] = map[string]bool{"job": true, "instance": true}
		}
		for _, l := range m.GetLabel() {
			out[name][l.GetName()] = true
		}
		for _, e := range extra {
			out[name][e] = true
		}
	}
	for _, mf := range mfs {
		n := mf.GetName()
		for _, m := range mf.GetMetric() {
			switch mf.GetType() {
			case dto.MetricType_HISTOGRAM:
				add(n+"_bucket", m, "le")
				add(n+"_sum", m)
				add(n+"_count", m)
			case dto.MetricType_SUMMARY:
				add(n, m, "quantile")
				add(n+"_sum", m)
				add(n+"_count", m)
			default:
				add(n, m)
			}
		}
	}
	// Sanity: the suffixes and runtime collectors are there.
	for _, n := range []string{"hotline_answer_wait_seconds_bucket", "hotline_calls_offered_total", "go_goroutines", "process_resident_memory_bytes"} {
		require.Contains(t, out, n)
	}
	return out
}

// ruleFile is the part of a Prometheus rule file the tests read.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Record      string            `yaml:"record"`
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Annotations map[string]string `yaml:"annotations"`
			Labels      map[string]string `yaml:"labels"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func readRuleFiles(t *testing.T) map[string]ruleFile {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(promDir, "rules", "*.yml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	out := map[string]ruleFile{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		var rf ruleFile
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		require.NoError(t, dec.Decode(&rf), f)
		out[f] = rf
	}
	return out
}

// grafanaVars replaces Grafana's variables so the query parses as PromQL.
var (
	grafanaDurations = regexp.MustCompile(`\$__(rate_interval|interval|range)\b`)
	grafanaVars      = regexp.MustCompile(`\$\{?[A-Za-z_][A-Za-z0-9_]*\}?`)
	labelValuesQuery = regexp.MustCompile(`^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$`)
)

func expandGrafana(q string) string {
	q = grafanaDurations.ReplaceAllString(q, "5m")
	return grafanaVars.ReplaceAllString(q, "x")
}

// selector is one metric selector found in an expression.
type selector struct {
	name   string
	labels []string
}

// parseSelectors parses expr and returns the metric selectors it uses.
func parseSelectors(expr string) ([]selector, error) {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	var out []selector
	var bad error
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		s := selector{name: vs.Name}
		for _, m := range vs.LabelMatchers {
			if m.Name == labels.MetricName {
				if m.Type != labels.MatchEqual {
					bad = fmt.Errorf("select metrics by exact name, not %s", m)
				}
				s.name = m.Value
				continue
			}
			s.labels = append(s.labels, m.Name)
		}
		out = append(out, s)
		return nil
	})
	if bad != nil {
		return nil, bad
	}
	if len(out) == 0 {
		return nil, errors.New("no metric selector")
	}
	return out, nil
}

// checkSelectors returns an error when a selector names a metric the binary
// does not export (and no recording rule produces), or a label that metric
// lacks.
func checkSelectors(sels []selector, exp map[string]map[string]bool, recorded map[string]bool) error {
	for _, s := range sels {
		if syntheticMetrics[s.name] || recorded[s.name] {
			continue
		}
		lbls, ok := exp[s.name]
		if !ok {
			return fmt.Errorf("metric %q is not exported by the hotline", s.name)
		}
		for _, l := range s.labels {
			if !lbls[l] {
				return fmt.Errorf("metric %q has no label %q", s.name, l)
			}
		}
	}
	return nil
}

// checkQuery parses expr and checks its selectors.
func checkQuery(expr string, exp map[string]map[string]bool, recorded map[string]bool) error {
	sels, err := parseSelectors(expr)
	if err != nil {
		return err
	}
	return checkSelectors(sels, exp, recorded)
}

// recordedNames returns the names the recording rules produce.
func recordedNames(files map[string]ruleFile) map[string]bool {
	out := map[string]bool{}
	for _, rf := range files {
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				if r.Record != "" {
					out[r.Record] = true
				}
			}
		}
	}
	return out
}

func TestRuleExpressionsNameExportedMetrics(t *testing.T) {
	exp := exported(t)
	files := readRuleFiles(t)
	recorded := recordedNames(files)
	var alerts int
	for f, rf := range files {
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				where := f + " " + r.Record + r.Alert
				require.NoError(t, checkQuery(r.Expr, exp, recorded), "%s: %s", where, r.Expr)
				if r.Alert != "" {
					alerts++
					require.NotEmpty(t, r.Annotations["summary"], where)
					require.NotEmpty(t, r.Annotations["description"], where)
					require.Contains(t, []string{"critical", "warning"}, r.Labels["severity"], where)
				}
			}
		}
	}
	require.GreaterOrEqual(t, alerts, 8)
}

// dashboard is the part of a Grafana dashboard the tests read.
type dashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Datasource *datasourceRef  `json:"datasource"`
			Query      json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panel struct {
	ID         int            `json:"id"`
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	Datasource *datasourceRef `json:"datasource"`
	GridPos    *struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		RefID      string         `json:"refId"`
		Expr       string         `json:"expr"`
		Datasource *datasourceRef `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	require.NoError(t, err)
	var d dashboard
	require.NoError(t, json.Unmarshal(b, &d))
	return d
}

// provisionedDatasourceUID returns the uid of the provisioned data source.
func provisionedDatasourceUID(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(datasourceFile)
	require.NoError(t, err)
	var f struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name string `yaml:"name"`
			UID  string `yaml:"uid"`
			Type string `yaml:"type"`
			URL  string `yaml:"url"`
		} `yaml:"datasources"`
	}
	require.NoError(t, yaml.Unmarshal(b, &f))
	require.Equal(t, 1, f.APIVersion)
	require.Len(t, f.Datasources, 1)
	require.Equal(t, "prometheus", f.Datasources[0].Type)
	require.NotEmpty(t, f.Datasources[0].UID)
	return f.Datasources[0].UID
}

func TestDashboardIsValidAndQueriesExportedMetrics(t *testing.T) {
	exp := exported(t)
	d := readDashboard(t)
	uid := provisionedDatasourceUID(t)
	require.NotEmpty(t, d.UID)
	require.NotEmpty(t, d.Title)
	require.GreaterOrEqual(t, d.SchemaVersion, 36)

	recorded := recordedNames(readRuleFiles(t))

	ids := map[int]bool{}
	var queries int
	var walk func(ps []panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			require.NotZero(t, p.ID, "panel %q has no id", p.Title)
			require.False(t, ids[p.ID], "panel id %d used twice", p.ID)
			ids[p.ID] = true
			require.NotEmpty(t, p.Title, "panel %d has no title", p.ID)
			require.NotNil(t, p.GridPos, "panel %q has no gridPos", p.Title)
			require.Positive(t, p.GridPos.W, p.Title)
			require.Positive(t, p.GridPos.H, p.Title)
			require.LessOrEqual(t, p.GridPos.X+p.GridPos.W, 24, p.Title)
			if p.Type != "row" {
				require.NotNil(t, p.Datasource, "panel %q has no datasource", p.Title)
				require.Equal(t, uid, p.Datasource.UID, p.Title)
				require.NotEmpty(t, p.Targets, "panel %q has no query", p.Title)
			}
			refs := map[string]bool{}
			for _, tg := range p.Targets {
				require.False(t, refs[tg.RefID], "panel %q: refId %s used twice", p.Title, tg.RefID)
				refs[tg.RefID] = true
				if tg.Datasource != nil {
					require.Equal(t, uid, tg.Datasource.UID, p.Title)
				}
				where := "panel " + p.Title + " " + tg.RefID
				require.NoError(t, checkQuery(expandGrafana(tg.Expr), exp, recorded), "%s: %s", where, tg.Expr)
				queries++
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	require.Greater(t, queries, 20)

	var region bool
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		require.NotNil(t, v.Datasource)
		require.Equal(t, uid, v.Datasource.UID, v.Name)
		// The query is a string or {"query": "..."} depending on the version.
		var q string
		if json.Unmarshal(v.Query, &q) != nil {
			var obj struct {
				Query string `json:"query"`
			}
			require.NoError(t, json.Unmarshal(v.Query, &obj))
			q = obj.Query
		}
		where := "variable " + v.Name
		if m := labelValuesQuery.FindStringSubmatch(q); m != nil {
			require.NoError(t, checkSelectors([]selector{{name: m[1], labels: []string{m[2]}}}, exp, recorded), where)
		} else {
			require.NoError(t, checkQuery(expandGrafana(q), exp, recorded), "%s: %s", where, q)
		}
		region = region || v.Name == "region"
	}
	require.True(t, region, "the dashboard has a region variable")
}

func TestDashboardProviderPointsAtADirectory(t *testing.T) {
	b, err := os.ReadFile(dashProviderFile)
	require.NoError(t, err)
	var f struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name    string `yaml:"name"`
			Type    string `yaml:"type"`
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	require.NoError(t, yaml.Unmarshal(b, &f))
	require.Equal(t, 1, f.APIVersion)
	require.Len(t, f.Providers, 1)
	require.Equal(t, "file", f.Providers[0].Type)
	require.True(t, filepath.IsAbs(f.Providers[0].Options.Path))
}

// The checker itself must catch a wrong name, a wrong label and bad syntax.
func TestQueryCheckCatchesMistakes(t *testing.T) {
	exp := exported(t)
	recorded := map[string]bool{"job:hotline_service_level_20s:ratio_rate1h": true}
	bad := []string{
		`sum(rate(hotline_calls_offerd_total[5m]))`,                // typo in the name
		`sum(rate(hotline_calls_offered_total{outcome="x"}[5m]))`,  // label it does not have
		`histogram_quantile(0.9, rate(hotline_talk_seconds[5m]))`,  // histogram without _bucket
		`sum(rate({__name__="hotline_answer_wait_seconds"}[5m]))`,  // same, by __name__
		`sum(rate({__name__=~"hotline_.+"}[5m]))`,                  // names by regex cannot be checked
		`hotline_legs_total{trunk="viettel"} + hotline_nope_total`, // one of two
		`sum(rate(hotline_calls_offered_total[5m])`,                // syntax
		`vector(1)`, // no metric at all
		`job:hotline_service_level:ratio_rate1h < 0.8`, // recording rule that does not exist
	}
	for _, q := range bad {
		require.Error(t, checkQuery(q, exp, recorded), q)
	}
	good := []string{
		expandGrafana(`sum by (le) (increase(hotline_answer_wait_seconds_bucket{le=~"20|20.0",region=~"$region"}[$__range]))`),
		expandGrafana(`sum(rate(hotline_calls_ended_total{outcome="answered",region=~"${region}"}[$__rate_interval]))`),
		`job:hotline_service_level_20s:ratio_rate1h < 0.8`,
		`up{job="hotline"} == 0`,
		`go_goroutines{job="hotline"} + go_gc_duration_seconds_count`,
	}
	for _, q := range good {
		require.NoError(t, checkQuery(q, exp, recorded), q)
	}
}

// TestPromtool runs Prometheus's own checks on the deployment files: the
// configuration, the rule files and the rule unit tests (every alert fires
// when it should and stays quiet when it should not).
func TestPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not on PATH (apt-get install prometheus)")
	}
	rules, err := filepath.Glob(filepath.Join(promDir, "rules", "*.yml"))
	require.NoError(t, err)
	tests, err := filepath.Glob(filepath.Join(promDir, "tests", "*.yml"))
	require.NoError(t, err)
	require.NotEmpty(t, tests)
	runs := [][]string{
		{"check", "config", filepath.Join(promDir, "prometheus.yml")},
		append([]string{"check", "rules"}, rules...),
		append([]string{"test", "rules"}, tests...),
	}
	for _, args := range runs {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		out, err := exec.CommandContext(ctx, promtool, args...).CombinedOutput()
		cancel()
		require.NoError(t, err, "promtool %s:\n%s", strings.Join(args, " "), out)
	}
}

// TestEveryAlertHasPromtoolTests checks that each alert is exercised by the
// promtool unit tests, both firing and not firing.
func TestEveryAlertHasPromtoolTests(t *testing.T) {
	type evalCase struct {
		Alertname string `yaml:"alertname"`
		ExpAlerts []any  `yaml:"exp_alerts"`
	}
	type testFile struct {
		Tests []struct {
			AlertRuleTest []evalCase `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	files, err := filepath.Glob(filepath.Join(promDir, "tests", "*.yml"))
	require.NoError(t, err)
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		var tf testFile
		require.NoError(t, yaml.Unmarshal(b, &tf))
		for _, tc := range tf.Tests {
			for _, c := range tc.AlertRuleTest {
				if len(c.ExpAlerts) > 0 {
					fires[c.Alertname] = true
				} else {
					quiet[c.Alertname] = true
				}
			}
		}
	}
	for _, rf := range readRuleFiles(t) {
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				if r.Alert == "" {
					continue
				}
				require.True(t, fires[r.Alert], "no promtool test where %s fires", r.Alert)
				require.True(t, quiet[r.Alert], "no promtool test where %s stays quiet", r.Alert)
			}
		}
	}
}
