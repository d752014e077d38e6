package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/csm-vn/hotline/internal/sim"
	"github.com/csm-vn/hotline/store"
)

// restartDetail starts the detail of a record written for a caller that a
// previous process left in the application (ivr's leftover handling).
const restartDetail = "left in the application by a previous process"

// checkRecords waits up to wait for one row in calls per call the app took
// (by the caller's channel id), polling, and fills the summary's records.
// Records may still be on their way from serve's spool when the run ends.
func checkRecords(ctx context.Context, dbURL string, ids []string, wait time.Duration, s *sim.Summary) error {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var lastErr error
	for {
		rows, err := readRecords(ctx, dbURL, ids)
		if err == nil {
			lastErr = nil
			fillRecords(s, ids, rows)
			if s.RecordsLost == 0 {
				return nil
			}
		} else {
			lastErr = err
		}
		t := time.NewTimer(500 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			if lastErr != nil && !s.RecordsChecked {
				return fmt.Errorf("simulate: reading the call records: %w", lastErr)
			}
			return nil
		case <-t.C:
		}
	}
}

type callRow struct {
	ChannelID string `db:"channel_id"`
	Outcome   string `db:"outcome"`
	Detail    string `db:"detail"`
}

func readRecords(ctx context.Context, dbURL string, ids []string) ([]callRow, error) {
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var rows []callRow
	err = db.SelectContext(ctx, &rows, `SELECT channel_id, outcome, detail FROM calls WHERE channel_id = ANY($1)`, pq.Array(ids))
	if err != nil {
		return nil, fmt.Errorf("read calls: %w", err)
	}
	return rows, nil
}

func fillRecords(s *sim.Summary, ids []string, rows []callRow) {
	s.RecordsChecked = true
	s.Outcomes = map[string]int{}
	s.Interrupted, s.InterruptedByRestart = 0, 0
	per := map[string]int{}
	for _, r := range rows {
		per[r.ChannelID]++
		s.Outcomes[r.Outcome]++
		if r.Outcome == string(store.OutcomeInterrupted) {
			s.Interrupted++
			if strings.HasPrefix(r.Detail, restartDetail) {
				s.InterruptedByRestart++
			}
		}
	}
	s.RecordsWritten = len(per)
	s.RecordsLost = len(ids) - len(per)
	s.RecordsMissing = nil
	for _, id := range ids {
		if per[id] == 0 && len(s.RecordsMissing) < 20 {
			s.RecordsMissing = append(s.RecordsMissing, id)
		}
	}
	s.RecordsDuplicate = len(rows) - len(per)
	s.CheckGoals()
}
