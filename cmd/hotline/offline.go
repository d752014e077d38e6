package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/csm-vn/hotline/internal/app"
	"github.com/csm-vn/hotline/store"
)

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("migrate", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath, false)
	if err != nil {
		return err
	}
	return app.Migrate(ctx, cfg, stdout)
}

func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("import", stderr)
	kind := fs.String("kind", "", "kind of every file: regions, areas, staff, cafes or holidays (default: from each file's name)")
	dry := fs.Bool("dry-run", false, "check and count everything, change nothing")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: hotline import [--kind K] [--dry-run] FILE.csv...\n\n")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{errors.New("no files given: hotline import FILE.csv...")}
	}
	cfg, err := loadConfig(*cfgPath, false)
	if err != nil {
		return err
	}
	return badInput(app.Import(ctx, cfg, fs.Args(), app.ImportOptions{Kind: *kind, DryRun: *dry}, stdout, stderr))
}

func cmdRoute(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const synopsis = "hotline route NUMBER [--code CAFE] [--at RFC3339] [--json]  |  hotline route --gaps [--at RFC3339] [--json]"
	fs, cfgPath := newFlags("route", stderr)
	code := fs.String("code", "", "café code as typed on the keypad")
	at := fs.String("at", "", "time of the call, RFC 3339 (default: now); with --gaps the start of the 7 days")
	asJSON := fs.Bool("json", false, "print the stable JSON report")
	gaps := fs.Bool("gaps", false, "instead of one call: when, in the coming 7 days (Asia/Ho_Chi_Minh), calls from each province and café would ring no technician")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	// Flags may follow the number: hotline route 0945551519 --json.
	if err := parse(fs, args); err != nil {
		return err
	}
	rest := fs.Args()
	number := ""
	if len(rest) > 0 {
		number = rest[0]
		if err := parse(fs, rest[1:]); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
		}
	}
	switch {
	case *gaps && (number != "" || *code != ""):
		return usageError{errors.New("--gaps looks at every province and café: no NUMBER or --code with it")}
	case !*gaps && number == "":
		return usageError{errors.New("missing NUMBER: " + synopsis)}
	}
	var when time.Time
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return usageError{fmt.Errorf("--at %q is not an RFC 3339 time like 2026-11-25T03:00:00+07:00", *at)}
		}
		when = t
	}
	cfg, err := loadConfig(*cfgPath, false)
	if err != nil {
		return err
	}
	if *gaps {
		return badInput(app.Gaps(ctx, cfg, app.GapsOptions{At: when, JSON: *asJSON}, stdout))
	}
	return badInput(app.Route(ctx, cfg, number, app.RouteOptions{Code: *code, JSON: *asJSON, At: when}, stdout))
}

// badInput turns the app's bad-input errors and an out-of-date schema into
// usage errors (exit code 2): the user has something to fix.
func badInput(err error) error {
	if err != nil && (errors.Is(err, app.ErrBadInput) || errors.As(err, new(*store.SchemaError))) {
		return usageError{err}
	}
	return err
}
