package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/internal/board"
	"github.com/csm-vn/hotline/store"
)

// inboxListed is how many waiting voicemails and complaints the inbox lists
// (the oldest; the counts are exact), and inboxRecent how many handled ones.
const (
	inboxListed = 50
	inboxRecent = 10
)

// boardInbox adapts the store (voicemails, complaints), the ARI client (the
// recordings) and the directory (whom a callback may ring) to the board's
// inbox. After each handled voicemail the voicemail gauges are refreshed at
// once, so the "voicemails waiting" alert clears without waiting for the
// next poll.
type boardInbox struct {
	app   *App
	store *store.Store
	// clients are every node's: a recording is on the node that made it.
	clients func() []*ari.Client
	dir     func() *dialplan.Directory
	trunks  dialplan.Trunks
}

var _ board.Inbox = boardInbox{}

func (b boardInbox) InboxData(ctx context.Context) (board.InboxData, error) {
	var d board.InboxData
	n, _, err := b.store.VoicemailBacklog(ctx)
	if err != nil {
		return d, err
	}
	// Waiting ones come first (oldest first), then handled ones (latest
	// first): ask for the waiting ones listed plus the recent handled.
	vms, err := b.store.ListVoicemails(ctx, store.VoicemailFilter{Limit: min(n, inboxListed) + inboxRecent})
	if err != nil {
		return d, err
	}
	d.VoicemailsWaiting = n
	dir, now := b.dir(), time.Now()
	for _, v := range vms {
		iv := board.InboxVoicemail{ID: v.ID, CafeCode: v.Cafe, CafeName: v.CafeName, CallbackNumber: v.CallbackNumber,
			Created: v.CreatedAt, Recorded: v.Recording != "", HandledBy: v.HandledBy, Note: v.Note}
		if v.LengthSeconds != nil {
			iv.Length = time.Duration(*v.LengthSeconds * float64(time.Second))
		}
		if v.HandledAt != nil {
			iv.HandledAt = *v.HandledAt
			if len(d.Handled) < inboxRecent {
				d.Handled = append(d.Handled, iv)
			}
			continue
		}
		if len(d.Voicemails) < inboxListed {
			iv.CallbackTo = b.callbackTo(dir, v.Cafe, now)
			d.Voicemails = append(d.Voicemails, iv)
		}
	}

	if d.ComplaintsWaiting, err = b.store.ComplaintsWaiting(ctx); err != nil {
		return d, err
	}
	cps, err := b.store.ListComplaints(ctx, store.ComplaintFilter{Limit: min(d.ComplaintsWaiting, inboxListed) + inboxRecent})
	if err != nil {
		return d, err
	}
	for _, c := range cps {
		ic := board.InboxComplaint{CallID: c.CallID, CafeCode: c.Cafe, CafeName: c.CafeName, Caller: c.Caller,
			Staff:       board.Person{Staff: c.Staff, Name: c.StaffName},
			CallStarted: c.CallStarted, Talk: time.Duration(c.TalkSeconds * float64(time.Second)), Created: c.CreatedAt,
			ReviewedBy: c.ReviewedBy, Note: c.Note}
		if st, ok := dir.Staff(c.Staff); ok {
			ic.Staff.Role = string(st.Role)
			if ic.Staff.Name == "" {
				ic.Staff.Name = st.Name
			}
		}
		if c.Score != nil {
			ic.Score = *c.Score
		}
		if c.ReviewedAt != nil {
			ic.ReviewedAt = *c.ReviewedAt
			if len(d.Reviewed) < inboxRecent {
				d.Reviewed = append(d.Reviewed, ic)
			}
			continue
		}
		if len(d.Complaints) < inboxListed {
			d.Complaints = append(d.Complaints, ic)
		}
	}
	return d, nil
}

// callbackTo is whom a callback for café code may ring first: the people
// of the café's plan at now, in the plan's order, each once; none for a
// café the directory does not know.
func (b boardInbox) callbackTo(dir *dialplan.Directory, code string, now time.Time) []board.Person {
	cafe, ok := dir.CafeByCode(code)
	if code == "" || !ok {
		return nil
	}
	dec := dir.Plan(dialplan.PlanRequest{
		ID: dialplan.Identification{Cafe: cafe, Province: cafe.Province, MatchedBy: dialplan.MatchedByCallerID},
		At: now, Trunks: b.trunks, MaxTargets: 12,
	})
	var out []board.Person
	for _, t := range dec.Targets {
		if !slices.ContainsFunc(out, func(p board.Person) bool { return p.Staff == t.Staff }) {
			out = append(out, board.Person{Staff: t.Staff, Name: t.Name, Role: string(t.Role)})
		}
	}
	return out
}

func (b boardInbox) VoicemailAudio(ctx context.Context, id int64) (*board.Audio, error) {
	v, err := b.store.GetVoicemail(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %w", board.ErrNotFound, err)
	}
	if err != nil {
		return nil, err
	}
	if v.Recording == "" {
		return nil, fmt.Errorf("voicemail %d is a callback request only: %w", id, board.ErrNotFound)
	}
	// The recording is on the node that recorded it: ask each node.
	var errs []error
	notFound := 0
	clients := b.clients()
	for _, c := range clients {
		f, err := c.GetStoredRecordingFile(ctx, v.Recording)
		if err == nil {
			return &board.Audio{Body: f.Body, ContentType: f.ContentType, Size: f.Size}, nil
		}
		if ari.IsNotFound(err) {
			notFound++
		}
		errs = append(errs, fmt.Errorf("node %s: %w", c.Node(), err))
	}
	if len(clients) == 0 {
		return nil, errors.New("no Asterisk node to ask for the recording")
	}
	if notFound == len(clients) {
		return nil, fmt.Errorf("%w: %w", board.ErrNotFound, errors.Join(errs...))
	}
	return nil, errors.Join(errs...)
}

func (b boardInbox) MarkVoicemailHandled(ctx context.Context, id int64, who, note string) error {
	err := b.store.MarkVoicemailHandled(ctx, id, who, note)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %w", board.ErrNotFound, err)
	case errors.Is(err, store.ErrAlreadyHandled):
		return fmt.Errorf("%w: %w", board.ErrAlreadyDone, err)
	case err != nil:
		return err
	}
	b.app.refreshVoicemailGauges(ctx, b.store)
	return nil
}

func (b boardInbox) MarkComplaintReviewed(ctx context.Context, callID, who, note string) error {
	err := b.store.MarkComplaintReviewed(ctx, callID, who, note)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %w", board.ErrNotFound, err)
	case errors.Is(err, store.ErrAlreadyReviewed):
		return fmt.Errorf("%w: %w", board.ErrAlreadyDone, err)
	}
	return err
}

// refreshVoicemailGauges sets hotline_voicemails_waiting and the oldest
// waiting voicemail's time from the database.
func (a *App) refreshVoicemailGauges(ctx context.Context, st *store.Store) {
	n, oldest, err := st.VoicemailBacklog(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.metrics.DBError("voicemails_waiting")
			a.log.Warn("count voicemails", "err", err)
		}
		return
	}
	a.metrics.SetVoicemailsWaiting(n, oldest)
}
