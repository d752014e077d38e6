package ari

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors for ARI status codes. A failed REST call returns an *Error
// that unwraps to one of these, so callers test with errors.Is.
var (
	// ErrBadRequest is a 400: a missing or invalid parameter.
	ErrBadRequest = errors.New("ari: bad request")
	// ErrUnauthorized is a 401 or 403: wrong ARI user or password.
	ErrUnauthorized = errors.New("ari: unauthorized")
	// ErrNotFound is a 404: the channel, bridge, playback, recording or
	// application does not exist (any more: a hung-up channel answers 404).
	ErrNotFound = errors.New("ari: not found")
	// ErrConflict is a 409: the resource is in the wrong state, typically a
	// channel that is not in a Stasis application, or a dial on a channel
	// that is not Down.
	ErrConflict = errors.New("ari: conflict")
	// ErrPrecondition is a 412: the channel is in an invalid state for the
	// operation.
	ErrPrecondition = errors.New("ari: precondition failed")
	// ErrUnprocessable is a 422, e.g. adding a channel that is not in Stasis
	// to a bridge.
	ErrUnprocessable = errors.New("ari: unprocessable")
	// ErrServer is any 5xx, e.g. 500 "Allocation failed" for a bogus endpoint.
	ErrServer = errors.New("ari: server error")
	// ErrUnexpectedStatus is any other non-2xx status.
	ErrUnexpectedStatus = errors.New("ari: unexpected status")
)

// ErrNotInStasis is the 409 Asterisk answers when the channel is not in a
// Stasis application. It is the same sentinel as ErrConflict.
var ErrNotInStasis = ErrConflict

// Error is a non-2xx answer of the ARI REST API.
type Error struct {
	// Op is the operation, e.g. "channels.answer".
	Op string
	// Method and Path are the HTTP request (path without query).
	Method, Path string
	// Status is the HTTP status code.
	Status int
	// Message is Asterisk's explanation (the "message" or "error" key of
	// the body), possibly empty.
	Message string
	// User and URL are set for 401/403 so the message names what was
	// rejected; the password never appears.
	User, URL string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden {
		return fmt.Sprintf("ari %s: user %q rejected by %s (%d %s)",
			e.Op, e.User, e.URL, e.Status, http.StatusText(e.Status))
	}
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("ari %s: %s %s: %d: %s", e.Op, e.Method, e.Path, e.Status, msg)
}

// Unwrap returns the sentinel for the status code.
func (e *Error) Unwrap() error { return sentinelFor(e.Status) }

func sentinelFor(status int) error {
	switch {
	case status == http.StatusBadRequest:
		return ErrBadRequest
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return ErrUnauthorized
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusConflict:
		return ErrConflict
	case status == http.StatusPreconditionFailed:
		return ErrPrecondition
	case status == http.StatusUnprocessableEntity:
		return ErrUnprocessable
	case status >= 500:
		return ErrServer
	default:
		return ErrUnexpectedStatus
	}
}

// errorMessage extracts Asterisk's explanation from an error body. Asterisk
// uses {"message": …} for most errors and {"error": …} for some 500s. A body
// that is not JSON is returned verbatim (shortened).
func errorMessage(body []byte) string {
	var m struct {
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	if err := json.Unmarshal(body, &m); err == nil {
		if m.Message != "" {
			return m.Message
		}
		return m.Error
	}
	const max = 200
	if len(body) > max {
		body = body[:max]
	}
	return string(body)
}

// IsNotFound reports whether err means the resource does not exist (404).
// Hanging up a channel that is already gone is the common case.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
