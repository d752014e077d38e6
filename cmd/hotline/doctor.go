package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/csm-vn/hotline/internal/app"
	"github.com/csm-vn/hotline/internal/config"
)

// errChecksFailed is returned when a doctor check failed; the report has
// already said which (exit code 1, nothing more printed).
var errChecksFailed = errors.New("some checks failed")

// cmdDoctor checks the set-up and prints one line per check; exit 0 when no
// check failed, 1 otherwise. It changes nothing and places no call.
func cmdDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("doctor", stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON: {\"ok\": bool, \"checks\": [{\"check\", \"status\" (ok|warn|fail), \"message\", \"fix\"}]}")
	at := fs.String("at", "", "start of the 7-day coverage window, RFC 3339 (default: now)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `usage: hotline doctor [--config FILE] [--json] [--at RFC3339]

Checks the set-up, one line per check (ok, warn or FAIL, and what to do):
configuration; database and schema; the directory and, for the coming 7 days
(Asia/Ho_Chi_Minh), every province and café that would ring no technician;
ARI with these credentials, Asterisk's version, the application name not held
by another process; the PJSIP endpoint of every trunk and its state; every
prompt on Asterisk in its language. Changes nothing, places no call.
Exit status 0 when no check failed, 1 otherwise.

`)
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	opts := app.DoctorOptions{ConfigSource: *cfgPath}
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return usageError{fmt.Errorf("--at %q is not an RFC 3339 time like 2026-11-25T03:00:00+07:00", *at)}
		}
		opts.At = t
	}
	if opts.ConfigSource == "" {
		opts.ConfigSource = "environment only (no --config)"
	}
	var rep app.DoctorReport
	cfg, err := config.LoadFile(*cfgPath, nil)
	if err != nil {
		// Nothing else can be checked without a configuration.
		rep = app.DoctorReport{Checks: []app.Check{{Check: "config", Status: app.CheckFail,
			Message: strings.ReplaceAll(err.Error(), "\n", "; "), Fix: "fix the file (unknown keys are errors)"}}}
	} else {
		rep = app.Doctor(ctx, cfg, opts)
	}
	if *asJSON {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		return err
	}
	if !rep.OK {
		return errChecksFailed
	}
	return nil
}
