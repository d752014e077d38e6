package app

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/internal/board"
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

// reportSource serves the board's /report from the same store query as
// `hotline report`, rounded the same way, with the directory's regions as
// the page's filters.
type reportSource struct {
	store *store.Store
	dir   func() *dialplan.Directory
}

func (s reportSource) Report(ctx context.Context, q board.ReportQuery) (board.Report, error) {
	rep, err := s.store.MonthlyReport(ctx, store.ReportFilter{Month: store.Month{Year: q.Year, Month: q.Month}, Region: q.Region})
	if errors.Is(err, store.ErrUnknownRegion) {
		return board.Report{}, fmt.Errorf("%w: %w", board.ErrUnknownRegion, err)
	}
	if err != nil {
		return board.Report{}, err
	}
	out := board.Report{
		RegionName:        rep.RegionName,
		People:            make([]board.ReportRow, 0, len(rep.People)),
		Total:             boardRow(rep.Total),
		TransfersRecorded: rep.TransfersRecorded,
		CallbacksRecorded: rep.CallbacksRecorded,
	}
	for _, p := range rep.People {
		out.People = append(out.People, boardRow(p))
	}
	if dir := s.dir(); dir != nil {
		for _, code := range dir.RegionCodes() {
			r, _ := dir.Region(code)
			out.Regions = append(out.Regions, board.ReportRegion{Code: code, Name: r.Name})
		}
	}
	return out, nil
}

func boardRow(p store.PersonFigures) board.ReportRow {
	return board.ReportRow{
		Staff: p.Staff, Name: p.Name, Role: p.Role,
		LegsOffered: p.LegsOffered, LegsAccepted: p.LegsAccepted, LegsMissed: p.LegsMissed,
		LegsNoConfirm: p.LegsNoConfirm, LegsUnreached: p.LegsUnreached, LegsCancelled: p.LegsCancelled,
		MedianAcceptSeconds: store.RoundMedian(p.MedianAcceptSeconds),
		CallsHandled:        p.CallsHandled, TalkSeconds: store.RoundTalk(p.TalkSeconds),
		RatingMean: store.RoundMean(p.RatingMean), RatingCount: p.RatingCount, Complaints: p.Complaints,
		TransfersGiven: p.TransfersGiven, TransfersReceived: p.TransfersReceived, CallbacksMade: p.CallbacksMade,
	}
}
