package board

import (
	"context"
	"errors"
	"io"
	"time"
)

// The inbox (/inbox): the voicemails to listen to, call back and mark
// handled, and the complaints to review. The app adapts its store, its ARI
// client and the directory to an [Inbox]; callbacks come through the
// optional [Callbacks].

// Errors an Inbox or Callbacks returns (wrapped) so the board answers the
// right status.
var (
	// ErrNotFound: no such voicemail, recording or complaint (404).
	ErrNotFound = errors.New("board: not found")
	// ErrAlreadyDone: someone else handled the voicemail or reviewed the
	// complaint first (409).
	ErrAlreadyDone = errors.New("board: already done")
)

// Inbox reads and writes what the inbox page shows. Every method gets a
// bounded context.
type Inbox interface {
	// InboxData returns the voicemails and complaints to show.
	InboxData(ctx context.Context) (InboxData, error)
	// VoicemailAudio opens the recording of voicemail id: ErrNotFound when
	// the voicemail or its recording does not exist. The body is read
	// within ctx and closed by the board.
	VoicemailAudio(ctx context.Context, id int64) (*Audio, error)
	// MarkVoicemailHandled records who handled voicemail id, with a note:
	// ErrNotFound, ErrAlreadyDone.
	MarkVoicemailHandled(ctx context.Context, id int64, who, note string) error
	// MarkComplaintReviewed records who reviewed the complaint about call
	// callID, with a note: ErrNotFound, ErrAlreadyDone.
	MarkComplaintReviewed(ctx context.Context, callID, who, note string) error
}

// Callbacks starts a callback now: the hotline rings staffID first and, when
// they press 1, calls the café back (issue 11, callbacks). who is the
// supervisor who asked.
type Callbacks interface {
	CallbackNow(ctx context.Context, voicemailID int64, staffID, who string) error
}

// Audio is a recording being passed on to the browser.
type Audio struct {
	// Body streams the file; the board closes it.
	Body io.ReadCloser
	// ContentType is the file's media type as Asterisk gave it
	// ("audio/wav").
	ContentType string
	// Size is the length in bytes; -1 when not known (then no ranges).
	Size int64
}

// InboxData is everything the inbox page shows.
type InboxData struct {
	// VoicemailsWaiting counts every voicemail not yet handled; Voicemails
	// are the oldest of them (oldest first).
	VoicemailsWaiting int
	Voicemails        []InboxVoicemail
	// Handled are the latest handled voicemails, newest first.
	Handled []InboxVoicemail
	// ComplaintsWaiting counts every complaint not yet reviewed;
	// Complaints are the oldest of them (oldest first).
	ComplaintsWaiting int
	Complaints        []InboxComplaint
	// Reviewed are the latest reviewed complaints, newest first.
	Reviewed []InboxComplaint
}

// InboxVoicemail is a message or callback request.
type InboxVoicemail struct {
	ID             int64
	CafeCode       string
	CafeName       string
	CallbackNumber string
	Created        time.Time
	// Length is the message's length (0 when not known).
	Length time.Duration
	// Recorded: there is a message to play (else it is a callback request
	// only).
	Recorded bool
	// CallbackTo are the people a callback may ring first, in the order the
	// café's plan would ring them now (the first is preselected).
	CallbackTo []Person
	HandledBy  string
	HandledAt  time.Time
	Note       string
}

// InboxComplaint is a complaint (key 9 after a call) about the person who
// accepted the call. Calls are not recorded, so there is nothing to play.
type InboxComplaint struct {
	CallID   string
	CafeCode string
	CafeName string
	Caller   string
	// Staff is the person complained about (Staff, Name, Role).
	Staff Person
	// Score is the score given with the complaint, 0 when none.
	Score       int
	CallStarted time.Time
	Talk        time.Duration
	Created     time.Time
	ReviewedBy  string
	ReviewedAt  time.Time
	Note        string
}
