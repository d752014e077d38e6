package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/csm-vn/hotline/internal/app"
	"github.com/csm-vn/hotline/store"
)

func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const synopsis = "hotline report --month YYYY-MM [--region CODE] [--csv]"
	fs, cfgPath := newFlags("report", stderr)
	month := fs.String("month", "", "the month, YYYY-MM, read in Asia/Ho_Chi_Minh (required)")
	region := fs.String("region", "", "only calls of this region (the region code, e.g. MN)")
	asCSV := fs.Bool("csv", false, "print CSV (the columns are documented in README.md) instead of a table")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %q: %s", fs.Args(), synopsis)}
	}
	if *month == "" {
		return usageError{errors.New("missing --month: " + synopsis)}
	}
	m, err := store.ParseMonth(*month)
	if err != nil {
		return usageError{fmt.Errorf("--month: %w", err)}
	}
	cfg, err := loadConfig(*cfgPath, false)
	if err != nil {
		return err
	}
	return badInput(app.Report(ctx, cfg, app.ReportOptions{Month: m, Region: *region, CSV: *asCSV}, stdout))
}
