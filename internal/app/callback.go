package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/csm-vn/hotline/internal/board"
	"github.com/csm-vn/hotline/ivr"
	"github.com/csm-vn/hotline/store"
)

// callbackStarter is ivr.Server's "call back now".
type callbackStarter interface {
	CallbackNow(ctx context.Context, voicemailID int64, staffID, who string) error
}

// nodeCallbacks starts a "call back now" on a node that is up.
type nodeCallbacks struct{ app *App }

func (n nodeCallbacks) CallbackNow(ctx context.Context, voicemailID int64, staffID, who string) error {
	calls := n.app.connectedServer()
	if calls == nil {
		return errors.New("no Asterisk node is connected: try again shortly")
	}
	return calls.CallbackNow(ctx, voicemailID, staffID, who)
}

// boardCallbacks is the inbox's "call back now": the call flow's, with its
// errors in the board's terms (404 for an unknown voicemail or person, 409
// when the café is being called back already; the rest — the person on a
// call, unavailable, no number — is "try again shortly", and logged).
type boardCallbacks struct{ calls callbackStarter }

var _ board.Callbacks = boardCallbacks{}

func (b boardCallbacks) CallbackNow(ctx context.Context, voicemailID int64, staffID, who string) error {
	err := b.calls.CallbackNow(ctx, voicemailID, staffID, who)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound), errors.Is(err, ivr.ErrUnknownStaff):
		return fmt.Errorf("%w: %w", board.ErrNotFound, err)
	case errors.Is(err, store.ErrCallbackBusy):
		return fmt.Errorf("%w: %w", board.ErrAlreadyDone, err)
	}
	return err
}
