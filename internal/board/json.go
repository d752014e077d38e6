package board

import (
	"slices"
	"time"
)

// jsonBoard is the body of /board.json: the snapshot with full numbers, plus
// the durations the page shows, in whole seconds, so scripts need no clock.
type jsonBoard struct {
	Now        time.Time      `json:"now"`
	Calls      []jsonCall     `json:"calls"`
	OnCall     []jsonPerson   `json:"on_call"`
	Today      jsonToday      `json:"today"`
	Voicemails jsonVoicemails `json:"voicemails"`
	// CallbacksPending is Snapshot.CallbacksPending.
	CallbacksPending int `json:"callbacks_pending"`
}

type jsonCall struct {
	Call
	StateSeconds int64 `json:"state_seconds"`
	CallSeconds  int64 `json:"call_seconds"`
}

type jsonPerson struct {
	Person
	Seconds int64 `json:"seconds"`
}

type jsonToday struct {
	// Date is the Vietnam day, YYYY-MM-DD; From/To its bounds.
	Date    string         `json:"date"`
	From    time.Time      `json:"from"`
	To      time.Time      `json:"to"`
	Regions []RegionTotals `json:"regions"`
	Total   RegionTotals   `json:"total"`
}

type jsonVoicemails struct {
	Waiting       int         `json:"waiting"`
	Oldest        *time.Time  `json:"oldest,omitempty"`
	OldestSeconds int64       `json:"oldest_seconds"`
	Latest        []Voicemail `json:"latest"`
}

func buildJSON(s Snapshot, now time.Time, o Options) jsonBoard {
	from, to := TodayRange(now)
	b := jsonBoard{
		Now:    now,
		Calls:  []jsonCall{},
		OnCall: []jsonPerson{},
		Today: jsonToday{
			Date: from.Format("2006-01-02"), From: from, To: to,
			Regions: []RegionTotals{}, Total: RegionTotals{Name: "Tổng cộng"},
		},
		Voicemails:       jsonVoicemails{Waiting: s.VoicemailsWaiting, Latest: []Voicemail{}},
		CallbacksPending: s.CallbacksPending,
	}
	calls := slices.Clone(s.Calls)
	slices.SortStableFunc(calls, func(a, b Call) int { return a.Started.Compare(b.Started) })
	for _, c := range calls {
		since := c.StateSince
		if since.IsZero() {
			since = c.Started
		}
		b.Calls = append(b.Calls, jsonCall{Call: c, StateSeconds: seconds(since, now), CallSeconds: seconds(c.Started, now)})
	}
	for _, p := range s.OnCall {
		b.OnCall = append(b.OnCall, jsonPerson{Person: p, Seconds: seconds(p.Since, now)})
	}
	for _, t := range s.Today {
		b.Today.Regions = append(b.Today.Regions, t)
		tot := &b.Today.Total
		tot.Offered += t.Offered
		tot.Answered += t.Answered
		tot.Abandoned += t.Abandoned
		tot.Voicemail += t.Voicemail
		tot.NoAnswer += t.NoAnswer
		tot.Failed += t.Failed
		tot.Interrupted += t.Interrupted
	}
	if !s.OldestVoicemail.IsZero() && s.VoicemailsWaiting > 0 {
		t := s.OldestVoicemail
		b.Voicemails.Oldest = &t
		b.Voicemails.OldestSeconds = seconds(t, now)
	}
	for i, vm := range s.Voicemails {
		if i == o.Voicemails {
			break
		}
		b.Voicemails.Latest = append(b.Voicemails.Latest, vm)
	}
	return b
}

// seconds since t, whole and never negative; 0 for a zero t.
func seconds(t, now time.Time) int64 {
	if t.IsZero() || now.Before(t) {
		return 0
	}
	return int64(now.Sub(t) / time.Second)
}
