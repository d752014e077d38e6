package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/internal/config"
	"github.com/csm-vn/hotline/metrics"
	"github.com/csm-vn/hotline/store"
)

// coverageEvery is how often serve recomputes the coverage gauges besides
// after each directory load: the 7-day window moves on by the hour.
const coverageEvery = 10 * time.Minute

// GapsOptions are the flags of `hotline route --gaps`.
type GapsOptions struct {
	At   time.Time // start of the window; zero = now
	JSON bool
}

// Gaps prints when, in the coming 7 days, a province or a café would ring no
// technician (see dialplan.Coverage), reading the directory from the
// database.
func Gaps(ctx context.Context, cfg config.Config, opts GapsOptions, out io.Writer) error {
	dir, err := loadDirectory(ctx, cfg)
	if err != nil {
		return err
	}
	cv := coverage(dir, cfg, opts.At)
	if opts.JSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(cv)
	}
	return writeCoverage(out, dir, cv)
}

// loadDirectory opens the database, checks the schema and loads the
// directory, for the offline commands.
func loadDirectory(ctx context.Context, cfg config.Config) (*dialplan.Directory, error) {
	db, err := store.Open(ctx, cfg.Database.URL)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := store.CheckSchema(ctx, db); err != nil {
		return nil, err
	}
	return store.LoadDirectory(ctx, db, dialplan.WithTet(cfg.Call.TetDaysBefore, cfg.Call.TetDaysAfter))
}

// coverage computes the 7-day coverage from at (now when zero) with the
// configured trunks.
func coverage(dir *dialplan.Directory, cfg config.Config, at time.Time) *dialplan.Coverage {
	if at.IsZero() {
		at = time.Now()
	}
	return dir.Coverage(dialplan.CoverageRequest{From: at, Trunks: dialplan.Trunks(cfg.Trunks)})
}

// writeCoverage prints a coverage for a supervisor: one paragraph per
// province, then the cafés whose coverage differs from their province's.
func writeCoverage(w io.Writer, dir *dialplan.Directory, cv *dialplan.Coverage) error {
	var err error
	p := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, args...)
		}
	}
	p("Coverage %s – %s (Asia/Ho_Chi_Minh): when a call would ring no technician\n",
		cv.From.Format("Mon 02/01/2006 15:04"), cv.To.Format("Mon 02/01/2006 15:04"))
	for _, pc := range cv.Provinces {
		p("\n%s (%s, area %s, region %s): %d active cafés, %d technicians\n", pc.Province, pc.Name,
			orDash(pc.Area), orDash(pc.Region), pc.Cafes, pc.Technicians)
		if len(pc.Gaps) == 0 {
			p("  covered every hour\n")
			continue
		}
		p("  %d hours without a technician; %d cafés affected\n", pc.GapHours, pc.UncoveredCafes)
		for _, g := range pc.Gaps {
			p("  %s  %s\n", gapSpan(g), g.Why())
		}
	}
	if len(cv.Cafes) > 0 {
		p("\nCafés on their own:\n")
	}
	for _, c := range cv.Cafes {
		name := c.Cafe
		if cafe, ok := dir.CafeByCode(c.Cafe); ok && cafe.Name != "" {
			name += " (" + cafe.Name + ")"
		}
		switch c.Problem {
		case dialplan.CafeNoNumber:
			p("  %s, %s: no phone number (recognised only by the code typed on the keypad)\n", name, c.Province)
		default:
			p("  %s, %s: %d hours without a technician\n", name, c.Province, c.GapHours)
			for _, g := range c.Gaps {
				p("    %s  %s\n", gapSpan(g), g.Why())
			}
		}
	}
	return err
}

// gapSpan writes a gap as "Mon 24/11 22:00 – Tue 25/11 07:00".
func gapSpan(g dialplan.Gap) string {
	const layout = "Mon 02/01 15:04"
	return g.From.Format(layout) + " – " + g.To.Format(layout)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// coverageGauges turns a coverage into the metrics' form: the provinces
// with an active café, and per region the cafés without a technician at
// some hour and those without a number.
func coverageGauges(cv *dialplan.Coverage) ([]metrics.ProvinceCoverage, []metrics.CafeCoverage) {
	var provinces []metrics.ProvinceCoverage
	counts := map[[2]string]int{}
	for _, pc := range cv.Provinces {
		if pc.Cafes == 0 {
			continue
		}
		provinces = append(provinces, metrics.ProvinceCoverage{Region: pc.Region, Province: pc.Province, GapHours: pc.GapHours})
		counts[[2]string{pc.Region, string(dialplan.CafeNoTechnician)}] += pc.UncoveredCafes
	}
	for _, c := range cv.Cafes {
		if c.Problem == dialplan.CafeNoNumber {
			counts[[2]string{c.Region, string(c.Problem)}]++
		}
	}
	var cafes []metrics.CafeCoverage
	for k, n := range counts {
		cafes = append(cafes, metrics.CafeCoverage{Region: k[0], Problem: k[1], Cafes: n})
	}
	return provinces, cafes
}

// watchCoverage keeps the coverage gauges current: at once, after each
// directory load (kick) and every coverageEvery.
func (a *App) watchCoverage(ctx context.Context, current func() *dialplan.Directory, kick <-chan struct{}) {
	t := time.NewTicker(coverageEvery)
	defer t.Stop()
	for {
		if dir := current(); dir != nil {
			start := time.Now()
			cv := coverage(dir, a.cfg, start)
			a.metrics.SetCoverage(coverageGauges(cv))
			a.log.Debug("coverage computed", "took", time.Since(start).Round(time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return
		case <-kick:
		case <-t.C:
		}
	}
}
