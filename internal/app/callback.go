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
