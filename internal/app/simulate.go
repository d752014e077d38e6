package app

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/internal/config"
	"github.com/csm-vn/hotline/internal/sim"
	"github.com/csm-vn/hotline/store"
)

// SimulateOptions are the flags of `hotline simulate`.
type SimulateOptions struct {
	Listen   string
	Rate     float64
	Calls    int
	Duration time.Duration
	Mix      sim.Mix
	Unknown  float64
	Scale    float64
	WaitApp  time.Duration
	Seed     uint64
}

// Simulate runs the fake Asterisk with generated calls from the directory's
// cafés (read from the database) and prints what it measured.
func Simulate(ctx context.Context, cfg config.Config, o SimulateOptions, out io.Writer, log *slog.Logger) error {
	db, err := store.Open(ctx, cfg.Database.URL)
	if err != nil {
		return err
	}
	if err := store.CheckSchema(ctx, db); err != nil {
		db.Close()
		return err
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
	user, password := cfg.ARI.User, cfg.ARI.Password
	if user == "" {
		user = "hotline"
	}
	if password == "" {
		password = "hotline"
	}
	rep, err := sim.Run(ctx, sim.Options{
		Listen: o.Listen, User: user, Password: password, App: cfg.ARI.App,
		Directory: dir, Cafes: cafes, Trunks: dialplan.Trunks(cfg.Trunks),
		Rate: o.Rate, Calls: o.Calls, Duration: o.Duration, Mix: o.Mix, Unknown: o.Unknown,
		Scale: o.Scale, WaitApp: o.WaitApp, Seed: o.Seed, Logger: log,
	})
	if err != nil {
		return err
	}
	_, err = rep.WriteTo(out)
	return err
}
