// Command hotline is the CSM support hotline: an Asterisk ARI application that
// answers extension 2, recognises the café and rings the right technician.
//
// This file is deliberately thin: it parses the command line, turns signals
// into context cancellation and exit codes, and hands everything else to
// internal/app.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// Exit codes.
const (
	exitOK     = 0
	exitFail   = 1 // the command ran and failed
	exitUsage  = 2 // bad command line, bad input or bad configuration
	exitSignal = 130
)

const usage = `usage: hotline <command> [flags]

commands:
  serve                  run the Stasis application (the hotline)
  migrate                create or update the database schema
  import FILE.csv...     import directory CSV files (regions, areas, staff, cafes, holidays)
  route NUMBER           show who a call from NUMBER would ring, and why
  route --gaps           show when, in the coming 7 days, calls would ring no technician
  report --month YYYY-MM per-person figures of a month ([--region CODE] [--csv])
  doctor                 check the set-up (database, directory, Asterisk, trunks, prompts, coverage)
  simulate               run a fake Asterisk and place generated calls (no Asterisk needed)
  version                print the version

Run "hotline <command> -h" for a command's flags. Configuration: --config FILE
(YAML) and HOTLINE_* environment variables, which win over the file.
`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// usageError marks errors that are the user's to fix (exit code 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd {
	case "serve":
		err = cmdServe(rest, stderr)
	case "migrate":
		err = cmdMigrate(ctx, rest, stdout, stderr)
	case "import":
		err = cmdImport(ctx, rest, stdout, stderr)
	case "route":
		err = cmdRoute(ctx, rest, stdout, stderr)
	case "simulate":
		err = cmdSimulate(ctx, rest, stdout, stderr)
	case "doctor":
		err = cmdDoctor(ctx, rest, stdout, stderr)
	case "report":
		err = cmdReport(ctx, rest, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "hotline %s\n", version)
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "hotline: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errChecksFailed):
		return exitFail
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "hotline %s: %v\n", cmd, err)
		return exitUsage
	case errors.Is(err, context.Canceled):
		return exitSignal
	default:
		fmt.Fprintf(stderr, "hotline %s: %v\n", cmd, err)
		return exitFail
	}
}

// newFlags makes a command's flag set with the common --config flag.
func newFlags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("hotline "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := fs.String("config", os.Getenv("HOTLINE_CONFIG"), "YAML configuration file (env HOTLINE_CONFIG)")
	return fs, cfg
}

// parse parses flags, turning flag errors into usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	return nil
}
