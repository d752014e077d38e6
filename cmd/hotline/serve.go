package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/csm-vn/hotline/internal/app"
	"github.com/csm-vn/hotline/internal/config"
)

// cmdServe runs the hotline. SIGTERM drains (no new calls; live calls finish
// up to call.drain); SIGINT, or a second signal, stops at once.
func cmdServe(args []string, stderr io.Writer) error {
	fs, cfgPath := newFlags("serve", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath, true)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	a, err := app.New(app.Options{Config: cfg, Logger: log, Version: version})
	if err != nil {
		return usageError{err}
	}

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	drain := make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		draining := false
		for s := range sigs {
			if s == syscall.SIGTERM && !draining {
				draining = true
				log.Info("SIGTERM: draining; no new calls, live calls may finish", "drain", cfg.Call.Drain)
				close(drain)
				continue
			}
			log.Info("stopping now", "signal", s.String())
			stop()
			return
		}
	}()
	return a.Run(ctx, drain)
}

// loadConfig reads --config and the environment and validates what the
// command needs (online: the ARI and HTTP sections too).
func loadConfig(path string, online bool) (config.Config, error) {
	cfg, err := config.LoadFile(path, nil)
	if err != nil {
		return cfg, usageError{err}
	}
	if online {
		err = cfg.Validate()
	} else {
		err = cfg.ValidateOffline()
	}
	if err != nil {
		return cfg, usageError{fmt.Errorf("invalid configuration:\n%w", err)}
	}
	return cfg, nil
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
