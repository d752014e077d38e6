package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/csm-vn/hotline/internal/app"
	"github.com/csm-vn/hotline/internal/sim"
)

func cmdSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("simulate", stderr)
	o := app.SimulateOptions{}
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:8088", "address of the fake Asterisk's ARI (loopback)")
	directory := fs.String("directory", "database", "callers and people: the database's directory, or synthetic:CAFES,STAFF (generated from --seed and imported into the database first)")
	fs.Float64Var(&o.Rate, "rate", 0.2, "new calls per second")
	fs.IntVar(&o.Calls, "calls", 0, "stop after this many calls (0 = until --duration or Ctrl-C)")
	fs.DurationVar(&o.Duration, "duration", 0, "stop placing calls after this long (0 = no limit)")
	mix := fs.String("mix", "answered=60,busy=10,no_answer=10,voicemail=10,gives_up=10", "weights of what the first person rung (or the caller) does")
	fs.Float64Var(&o.Unknown, "unknown", 0.1, "share of calls from numbers not in the directory (they type the café code, or are anonymous)")
	fs.Float64Var(&o.Scale, "scale", 1, "time scale for rings, talk and waits (1 = real time; 0.05 for load tests)")
	fs.DurationVar(&o.WaitApp, "wait-app", 2*time.Minute, "how long to wait for `hotline serve` to connect before placing calls")
	fs.Uint64Var(&o.Seed, "seed", uint64(time.Now().UnixNano()), "random seed (same seed, same calls)")
	fs.DurationVar(&o.Talk, "talk", 0, "conversations last this to twice this, not scaled (0 = 10-40 s × --scale); a chaos run makes them outlast a restart")
	fs.DurationVar(&o.CutWS, "cut-ws", 0, "chaos: drop the app's events WebSocket this often while placing calls (0 = never)")
	fs.Float64Var(&o.Rest500, "rest-500", 0, "chaos: answer this share (0..1) of ARI REST requests with 500")
	fs.DurationVar(&o.Settle, "settle", sim.DefaultSettle, "after the last call, wait up to this long for every channel and bridge to be gone before counting leftovers")
	fs.DurationVar(&o.AloneLimit, "alone-limit", sim.DefaultAloneLimit, "a caller alone in a bridge longer than this counts as bridged with nobody")
	fs.DurationVar(&o.RecordsWait, "check-records", 0, "wait up to this long for one row in calls per call taken, and report records lost (0 = do not check)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: hotline simulate [flags]\n\nRuns a fake Asterisk on --listen and places calls from the directory's cafés.\nPoint `hotline serve` at it with HOTLINE_ARI_URL=http://<listen>.\n\n")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	m, err := sim.ParseMix(*mix)
	if err != nil {
		return usageError{err}
	}
	o.Mix = m
	if o.Directory, err = sim.ParseDirectorySpec(*directory); err != nil {
		return usageError{fmt.Errorf("--directory: %w", err)}
	}
	if o.Directory.Synthetic() && !flagSet(fs, "mix") {
		o.Mix = nil // each person behaves by their own shares
	}
	if o.Rate <= 0 || o.Rate > maxSimRate {
		return usageError{fmt.Errorf("--rate %g must be above 0 and at most %d calls/s", o.Rate, maxSimRate)}
	}
	if o.Scale <= 0 || o.Scale > 10 {
		return usageError{fmt.Errorf("--scale %g must be above 0 and at most 10", o.Scale)}
	}
	if o.Unknown < 0 || o.Unknown > 1 {
		return usageError{fmt.Errorf("--unknown %g must be between 0 and 1", o.Unknown)}
	}
	if o.Rest500 < 0 || o.Rest500 > 1 {
		return usageError{fmt.Errorf("--rest-500 %g must be between 0 and 1", o.Rest500)}
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"--talk", o.Talk}, {"--cut-ws", o.CutWS}, {"--settle", o.Settle}, {"--alone-limit", o.AloneLimit}, {"--check-records", o.RecordsWait}} {
		if f.d < 0 {
			return usageError{fmt.Errorf("%s %s must not be negative", f.name, f.d)}
		}
	}
	cfg, err := loadConfig(*cfgPath, false)
	if err != nil {
		return err
	}
	err = app.Simulate(ctx, cfg, o, stdout, newLogger(cfg.Log, stderr))
	if err != nil && ctx.Err() != nil {
		return nil // interrupted on purpose; the report was printed
	}
	return err
}

// maxSimRate bounds --rate: far above what one serve takes on a small
// machine, low enough that a typo does not start a runaway generator.
const maxSimRate = 5000

// flagSet reports whether the command line gave the flag.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
