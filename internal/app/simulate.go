package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/internal/config"
	"github.com/csm-vn/hotline/internal/sim"
	"github.com/csm-vn/hotline/store"
)

// SimulateOptions are the flags of `hotline simulate`.
type SimulateOptions struct {
	// Directory is where the callers and people come from (--directory):
	// the database's directory, or a synthetic one written into it first.
	Directory sim.DirectorySpec

	Listen   string
	Rate     float64
	Calls    int
	Duration time.Duration
	Mix      sim.Mix
	Unknown  float64
	Scale    float64
	Talk     time.Duration
	WaitApp  time.Duration
	Seed     uint64

	// Chaos run (see sim.Options): faults, detectors' limits, and how long
	// to wait for one call record per call taken (0 = do not check).
	CutWS       time.Duration
	Rest500     float64
	Settle      time.Duration
	AloneLimit  time.Duration
	RecordsWait time.Duration
	// Ready, when set, receives the fake's base URL once it listens (tests).
	Ready func(url string)
}

// Simulate runs the fake Asterisk with generated calls from the directory's
// cafés (read from the database) and prints what it measured, then its
// summary as one JSON line (sim.Summary), the records checked in the
// database when o.RecordsWait is set.
func Simulate(ctx context.Context, cfg config.Config, o SimulateOptions, out io.Writer, log *slog.Logger) error {
	db, err := store.Open(ctx, cfg.Database.URL)
	if err != nil {
		return err
	}
	if err := store.CheckSchema(ctx, db); err != nil {
		db.Close()
		return err
	}
	var people *sim.SyntheticDirectory
	if o.Directory.Synthetic() {
		if people, err = importSynthetic(ctx, db, o.Directory, o.Seed, log); err != nil {
			db.Close()
			return err
		}
	}
	data, err := store.LoadDirectoryData(ctx, db)
	if err != nil {
		db.Close()
		return err
	}
	db.Close()
	dir, err := dialplan.NewDirectory(data, dialplan.WithTet(cfg.Call.TetDaysBefore, cfg.Call.TetDaysAfter))
	if err != nil {
		return err
	}
	var cafes []dialplan.Cafe
	for _, c := range data.Cafes {
		if c.Status == dialplan.StatusActive && len(c.Phones) > 0 {
			cafes = append(cafes, c)
		}
	}
	if people != nil {
		cafes = syntheticCallers(data, people, log)
	}
	user, password := cfg.ARI.User, cfg.ARI.Password
	if user == "" {
		user = "hotline"
	}
	if password == "" {
		password = "hotline"
	}
	var sum sim.Summary
	var checked bool
	var checkErr error
	rep, err := sim.Run(ctx, sim.Options{
		Listen: o.Listen, User: user, Password: password, App: cfg.ARI.App,
		Directory: dir, Cafes: cafes, Trunks: dialplan.Trunks(cfg.Trunks), People: people,
		Rate: o.Rate, Calls: o.Calls, Duration: o.Duration, Mix: o.Mix, Unknown: o.Unknown,
		Scale: o.Scale, Talk: o.Talk, WaitApp: o.WaitApp, Seed: o.Seed, Logger: log,
		CutWS: o.CutWS, Rest500: o.Rest500, Settle: o.Settle, AloneLimit: o.AloneLimit, Ready: o.Ready,
		Finish: func(ctx context.Context, rep sim.Report) {
			// While the fake still serves: serve hears the last hangups
			// and writes their records.
			if o.RecordsWait > 0 && ctx.Err() == nil {
				sum, checked = rep.Summary(), true
				checkErr = checkRecords(ctx, cfg.Database.URL, rep.CallIDs, o.RecordsWait, &sum)
			}
		},
	})
	if err != nil {
		return err
	}
	if _, err := rep.WriteTo(out); err != nil {
		return err
	}
	if !checked {
		sum = rep.Summary()
	} else {
		if checkErr != nil {
			log.Error("could not check the call records", "err", checkErr)
			sum.GoalsMissed = append(sum.GoalsMissed, "records_checked")
		}
		fmt.Fprintf(out, "records: %d of %d calls taken have their record (%d lost, %d duplicates); outcomes: %v\n",
			sum.RecordsWritten, sum.CallsTaken, sum.RecordsLost, sum.RecordsDuplicate, sum.Outcomes)
		if len(sum.RecordsMissing) > 0 {
			fmt.Fprintf(out, "  no record for the calls of channels %s\n", strings.Join(sum.RecordsMissing, ", "))
		}
	}
	return json.NewEncoder(out).Encode(sum)
}
