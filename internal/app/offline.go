package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/internal/config"
	"github.com/csm-vn/hotline/store"
)

// ErrBadInput marks errors caused by the user's input (exit code 2 in the CLI).
var ErrBadInput = errors.New("bad input")

// Migrate brings the database schema up to date (idempotent).
func Migrate(ctx context.Context, cfg config.Config, out io.Writer) error {
	db, err := store.Open(ctx, cfg.Database.URL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := store.Migrate(ctx, db); err != nil {
		return err
	}
	v, err := store.CurrentSchemaVersion(ctx, db)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "database schema is at version %d (up to date)\n", v)
	return nil
}

// ImportOptions are the flags of `hotline import`.
type ImportOptions struct {
	Kind   string // "" = from each file's name
	DryRun bool
}

// Import loads directory CSV files in one transaction: all or nothing. Bad
// rows come back as an error wrapping ErrBadInput that lists every one as
// FILE:LINE: column: reason.
func Import(ctx context.Context, cfg config.Config, paths []string, opts ImportOptions, out, progress io.Writer) error {
	var kind store.Kind
	if opts.Kind != "" {
		k, err := store.ParseKind(opts.Kind)
		if err != nil {
			return fmt.Errorf("%w: --kind: %w", ErrBadInput, err)
		}
		kind = k
	}
	db, err := store.Open(ctx, cfg.Database.URL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := store.CheckSchema(ctx, db); err != nil {
		return err
	}
	sum, err := store.ImportPaths(ctx, db, paths, store.ImportOptions{Kind: kind, DryRun: opts.DryRun, Progress: progress})
	for _, w := range sum.Warnings {
		fmt.Fprintf(progress, "warning: %s\n", w)
	}
	if err != nil {
		var ie *store.ImportError
		if errors.As(err, &ie) {
			return fmt.Errorf("%w: %w", ErrBadInput, err)
		}
		return err
	}
	fmt.Fprint(out, sum.String())
	return nil
}

// RouteOptions are the flags of `hotline route`.
type RouteOptions struct {
	Code string    // café code as typed on the keypad
	At   time.Time // zero = now
	JSON bool
}

// Route explains who a call from number would ring, reading the directory
// from the database: the café found and how, every target and every skip.
func Route(ctx context.Context, cfg config.Config, number string, opts RouteOptions, out io.Writer) error {
	caller := dialplan.Normalize(number)
	hidden := map[string]bool{"anonymous": true, "unknown": true, "restricted": true, "private": true}
	if caller.Kind == dialplan.KindInvalid ||
		(caller.Kind == dialplan.KindAnonymous && !hidden[strings.ToLower(strings.TrimSpace(number))]) {
		return fmt.Errorf("%w: %q is not a phone number (give +84…, 84…, 0… or an old 11-digit mobile; \"anonymous\" for a hidden caller ID)", ErrBadInput, number)
	}
	db, err := store.Open(ctx, cfg.Database.URL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := store.CheckSchema(ctx, db); err != nil {
		return err
	}
	dir, err := store.LoadDirectory(ctx, db, dialplan.WithTet(cfg.Call.TetDaysBefore, cfg.Call.TetDaysAfter))
	if err != nil {
		return err
	}
	at := opts.At
	if at.IsZero() {
		at = time.Now()
	}
	dec := dir.Plan(dialplan.PlanRequest{
		ID:     dialplan.Identify(dir, caller, opts.Code),
		At:     at,
		Trunks: dialplan.Trunks(cfg.Trunks),
		Ring:   RingTimes(cfg.Call.Ring),
	})
	if opts.JSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(dec.Report())
	}
	return dec.WriteText(out)
}

// RingTimes turns the configured ring timeouts into dialplan's form.
func RingTimes(r config.RingTimes) map[dialplan.Role]time.Duration {
	return map[dialplan.Role]time.Duration{
		dialplan.RoleTechnician:      r.Technician,
		dialplan.RoleAreaManager:     r.AreaManager,
		dialplan.RoleRegionalManager: r.RegionalManager,
		dialplan.RoleOperator:        r.Operator,
	}
}
