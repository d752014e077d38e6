package app

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/csm-vn/hotline/internal/config"
	"github.com/csm-vn/hotline/store"
)

// ReportOptions are the flags of `hotline report`.
type ReportOptions struct {
	Month  store.Month
	Region string // "" = every region
	CSV    bool
}

// Report prints the per-person figures of a month (store.MonthlyReport, the
// query behind the board's /report too) as an aligned table or as CSV. An
// unknown region is an error wrapping ErrBadInput.
func Report(ctx context.Context, cfg config.Config, opts ReportOptions, out io.Writer) error {
	db, err := store.Open(ctx, cfg.Database.URL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := store.CheckSchema(ctx, db); err != nil {
		return err
	}
	rep, err := store.New(db).MonthlyReport(ctx, store.ReportFilter{Month: opts.Month, Region: opts.Region})
	if errors.Is(err, store.ErrUnknownRegion) {
		return fmt.Errorf("%w: --region: %w", ErrBadInput, err)
	}
	if err != nil {
		return err
	}
	if opts.CSV {
		return rep.WriteCSV(out)
	}
	return rep.WriteText(out)
}
