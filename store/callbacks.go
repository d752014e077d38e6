package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/csm-vn/hotline/dialplan"
)

// Direction says who placed a call.
type Direction string

// Call directions.
const (
	DirectionInbound  Direction = "inbound"  // a café called the hotline
	DirectionCallback Direction = "callback" // the hotline called a café back
)

// RoleCafe is the role of a callback's leg to the café itself (the other
// legs ring staff and have their roles).
const RoleCafe dialplan.Role = "cafe"

// CallbackState is where a callback request stands.
type CallbackState string

// Callback states.
const (
	CallbackPending   CallbackState = "pending"   // waiting for its next try (or being tried)
	CallbackDone      CallbackState = "done"      // the café was reached and bridged
	CallbackCancelled CallbackState = "cancelled" // a new call from the café, a handled voicemail, a closed café
	CallbackGivenUp   CallbackState = "given_up"  // every try failed
)

// Reasons a callback request was closed (callbacks.close_reason).
const (
	CallbackClosedConnected        = "connected"
	CallbackClosedNewCall          = "new_call"
	CallbackClosedVoicemailHandled = "voicemail_handled"
	CallbackClosedCafeClosed       = "cafe_closed"
	CallbackClosedTriesExhausted   = "tries_exhausted"
)

// ErrCallbackBusy is returned (wrapped) by HoldCafeCallback when another
// instance is trying the café's callback right now.
var ErrCallbackBusy = errors.New("store: the café's callback is being tried by another instance")

// CallbackRequest asks, on a missed call's record, for the café to be
// called back: WriteCall stores it as a pending callback in the same
// transaction — unless a newer call from the café is already recorded.
type CallbackRequest struct {
	Number string `json:"number"` // E.164 to call: the number that called
}

// Callback is one callback request.
type Callback struct {
	ID        int64         `db:"id"`
	CallID    string        `db:"call_id"` // the missed call
	Cafe      string        `db:"cafe_code"`
	Number    string        `db:"number"` // E.164
	CreatedAt time.Time     `db:"created_at"`
	State     CallbackState `db:"state"`
	Tries     int           `db:"tries"` // tries made so far
	NextAt    time.Time     `db:"next_at"`
}

var e164VN = regexp.MustCompile(`^\+84[0-9]{9,10}$`)

// validateCallback checks the callback fields of a record.
func (r *CallRecord) validateCallback() error {
	cb := r.Callback
	switch {
	case r.CallbackID != 0 && r.Direction != DirectionCallback:
		return fmt.Errorf("call record %s: callback id on a call that is not a callback", r.ID)
	case cb == nil:
		return nil
	case r.Direction == DirectionCallback:
		return fmt.Errorf("call record %s: a callback call cannot ask for a callback", r.ID)
	case r.Cafe == "":
		return fmt.Errorf("call record %s: callback request without a café", r.ID)
	case !e164VN.MatchString(cb.Number):
		return fmt.Errorf("call record %s: callback number %q is not a Vietnamese E.164 number", r.ID, cb.Number)
	case r.Outcome != OutcomeNoAnswer && r.Outcome != OutcomeVoicemail && r.Outcome != OutcomeAbandoned:
		return fmt.Errorf("call record %s: callback request on a call that ended %s", r.ID, r.Outcome)
	}
	return nil
}

// insertCallbackRequest stores rec's callback request (if any) as pending,
// due at once. A newer call from the café already recorded (a record
// written late, from the spool) makes it moot; a pending request of the
// café from a newer call is kept.
func insertCallbackRequest(ctx context.Context, tx *sqlx.Tx, rec *CallRecord) error {
	cb := rec.Callback
	if cb == nil {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `
INSERT INTO callbacks (call_id, cafe_code, number, created_at, next_at)
SELECT $1, $2, $3, $4, $4
WHERE NOT EXISTS (SELECT 1 FROM calls WHERE cafe_code = $2 AND direction = 'inbound' AND started_at > $5)
ON CONFLICT DO NOTHING`, rec.ID, rec.Cafe, cb.Number, rec.EndedAt, rec.StartedAt); err != nil {
		return fmt.Errorf("store: write call %s callback request: %w", rec.ID, err)
	}
	return nil
}

const callbackColumns = "id, call_id, cafe_code, number, created_at, state, tries, next_at"

// ClaimCallback takes the oldest due pending callback nobody holds, for
// instance, with a lease: other instances leave it alone until the lease
// ends (ExtendCallbackLeases renews it). It returns nil when none is due.
// Rows are locked with SKIP LOCKED, so two instances claiming at once get
// different requests, never the same one.
func (s *Store) ClaimCallback(ctx context.Context, instance string, lease time.Duration) (*Callback, error) {
	if instance == "" || lease <= 0 {
		return nil, errors.New("store: claim callback: instance and a positive lease are required")
	}
	var cb Callback
	err := s.db.GetContext(ctx, &cb, `
UPDATE callbacks SET holder = $1, held_until = clock_timestamp() + $2 * interval '1 microsecond'
WHERE id = (
	SELECT id FROM callbacks
	WHERE state = 'pending' AND next_at <= clock_timestamp()
	  AND (held_until IS NULL OR held_until < clock_timestamp())
	ORDER BY next_at, id LIMIT 1
	FOR UPDATE SKIP LOCKED)
RETURNING `+callbackColumns, instance, lease.Microseconds())
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: claim callback: %w", err)
	}
	return &cb, nil
}

// HoldCafeCallback holds the café's pending callback (due or not) for
// instance, for a "call back now": the automatic tries leave it alone
// meanwhile. It returns 0 when the café has none pending, and an error
// wrapping ErrCallbackBusy when another holder's lease is still running.
func (s *Store) HoldCafeCallback(ctx context.Context, cafe, instance string, lease time.Duration) (int64, error) {
	if cafe == "" || instance == "" || lease <= 0 {
		return 0, errors.New("store: hold callback: café, instance and a positive lease are required")
	}
	var row struct {
		ID   int64 `db:"id"`
		Took bool  `db:"took"`
	}
	err := s.db.GetContext(ctx, &row, `
WITH cur AS (SELECT id FROM callbacks WHERE cafe_code = $1 AND state = 'pending' FOR UPDATE),
took AS (
	UPDATE callbacks cb SET holder = $2, held_until = clock_timestamp() + $3 * interval '1 microsecond'
	FROM cur WHERE cb.id = cur.id AND (cb.held_until IS NULL OR cb.held_until < clock_timestamp())
	RETURNING cb.id)
SELECT cur.id, EXISTS (SELECT 1 FROM took) AS took FROM cur`, cafe, instance, lease.Microseconds())
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("store: hold callback of %s: %w", cafe, err)
	case !row.Took:
		return 0, fmt.Errorf("store: callback %d of %s: %w", row.ID, cafe, ErrCallbackBusy)
	}
	return row.ID, nil
}

// ExtendCallbackLeases renews instance's leases of the callbacks named
// (those it is trying now) and returns how many it renewed.
func (s *Store) ExtendCallbackLeases(ctx context.Context, instance string, ids []int64, lease time.Duration) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	res, err := s.db.ExecContext(ctx, `
UPDATE callbacks SET held_until = clock_timestamp() + $3 * interval '1 microsecond'
WHERE holder = $1 AND id = ANY($2) AND state = 'pending'`, instance, pq.Array(ids), lease.Microseconds())
	if err != nil {
		return 0, fmt.Errorf("store: extend callback leases of %s: %w", instance, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// TakeOverCallback makes instance the holder of callback id, for a try it
// took over from a previous process (found from the try's legs on a node
// it now serves). prev is the instance that held the request for that try
// ("" when unknown): it is taken from prev whatever its lease says (prev's
// process no longer serves the node the try's legs are on), and from
// nobody or a holder whose lease has ended; never from another holder
// still within its lease. It reports whether instance holds it now.
func (s *Store) TakeOverCallback(ctx context.Context, id int64, instance, prev string, lease time.Duration) (bool, error) {
	if instance == "" || lease <= 0 {
		return false, errors.New("store: take over callback: instance and a positive lease are required")
	}
	res, err := s.db.ExecContext(ctx, `
UPDATE callbacks SET holder = $2, held_until = clock_timestamp() + $4 * interval '1 microsecond'
WHERE id = $1 AND state = 'pending'
  AND (holder IS NULL OR holder = $2 OR (holder = $3 AND $3 <> '') OR held_until < clock_timestamp())`,
		id, instance, prev, lease.Microseconds())
	if err != nil {
		return false, fmt.Errorf("store: take over callback %d: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ReleaseInstanceCallbacks lets go of every callback instance holds (a
// previous run of the same instance died trying them) except those named
// (tries the new run took over); no try is counted.
func (s *Store) ReleaseInstanceCallbacks(ctx context.Context, instance string, except []int64) (int, error) {
	if except == nil {
		except = []int64{}
	}
	res, err := s.db.ExecContext(ctx,
		"UPDATE callbacks SET holder = NULL, held_until = NULL WHERE holder = $1 AND NOT (id = ANY($2))",
		instance, pq.Array(except))
	if err != nil {
		return 0, fmt.Errorf("store: release callbacks of %s: %w", instance, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// CallbackTry is how a held callback's try went, for FinishCallback.
type CallbackTry struct {
	// CallID is the try's call record ("" when nobody was rung).
	CallID string
	// Connected: the café answered and was bridged (the request is done).
	Connected bool
	// Counts: an automatic try, counted against MaxTries; when false
	// (nobody was free, or a "call back now") the request just waits for
	// its next try at Retry from now, tries unchanged.
	Counts   bool
	MaxTries int
	// Retry is how long from now the next try waits; with KeepNext the
	// time planned before stays.
	Retry    time.Duration
	KeepNext bool
	// CafeClosed cancels the request: the café left the directory or
	// closed.
	CafeClosed bool
}

// FinishCallback records a try of a callback instance held and lets go of
// it; it returns the request's state afterwards. A request cancelled (or
// taken over after a lost lease) meanwhile is left as it is.
func (s *Store) FinishCallback(ctx context.Context, id int64, instance string, t CallbackTry) (CallbackState, error) {
	var st CallbackState
	err := s.db.GetContext(ctx, &st, `
WITH r AS (
	SELECT tries + CASE WHEN $4 THEN 1 ELSE 0 END AS tries,
		CASE WHEN $3 THEN 'done'
		     WHEN $8 THEN 'cancelled'
		     WHEN $4 AND tries + 1 >= $5 THEN 'given_up'
		     ELSE 'pending' END AS state
	FROM callbacks WHERE id = $1 AND holder = $2 AND state = 'pending' FOR UPDATE)
UPDATE callbacks cb SET tries = r.tries, state = r.state, holder = NULL, held_until = NULL,
	last_call_id = coalesce(nullif($6, ''), cb.last_call_id),
	next_at = CASE WHEN $9 THEN cb.next_at ELSE clock_timestamp() + $7 * interval '1 microsecond' END,
	closed_at = CASE WHEN r.state = 'pending' THEN NULL ELSE now() END,
	close_reason = CASE r.state WHEN 'done' THEN 'connected' WHEN 'cancelled' THEN 'cafe_closed'
		WHEN 'given_up' THEN 'tries_exhausted' ELSE '' END
FROM r WHERE cb.id = $1
RETURNING cb.state`, id, instance, t.Connected, t.Counts, t.MaxTries, t.CallID, t.Retry.Microseconds(), t.CafeClosed,
		t.KeepNext)
	if errors.Is(err, sql.ErrNoRows) {
		// Not ours any more: say where it stands.
		if err := s.db.GetContext(ctx, &st, "SELECT state FROM callbacks WHERE id = $1", id); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return "", fmt.Errorf("store: callback %d: %w", id, ErrNotFound)
			}
			return "", fmt.Errorf("store: finish callback %d: %w", id, err)
		}
		return st, nil
	}
	if err != nil {
		return "", fmt.Errorf("store: finish callback %d: %w", id, err)
	}
	return st, nil
}

// CallbackStateOf returns a callback's state.
func (s *Store) CallbackStateOf(ctx context.Context, id int64) (CallbackState, error) {
	var st CallbackState
	err := s.db.GetContext(ctx, &st, "SELECT state FROM callbacks WHERE id = $1", id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("store: callback %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("store: callback %d: %w", id, err)
	}
	return st, nil
}

// CancelCafeCallbacks cancels the café's pending callback (a new call from
// the café, exceptCall, is in progress: the request that call may make
// itself is kept) and returns how many it cancelled (0 or 1). A try in
// progress sees it when it finishes.
func (s *Store) CancelCafeCallbacks(ctx context.Context, cafe, reason, exceptCall string) (int, error) {
	res, err := s.db.ExecContext(ctx, `
UPDATE callbacks SET state = 'cancelled', closed_at = now(), close_reason = $2, holder = NULL, held_until = NULL
WHERE cafe_code = $1 AND state = 'pending' AND call_id <> $3`, cafe, reason, exceptCall)
	if err != nil {
		return 0, fmt.Errorf("store: cancel callbacks of %s: %w", cafe, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// CallbacksPending counts the callbacks waiting for a try (or being tried).
func (s *Store) CallbacksPending(ctx context.Context) (int, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, "SELECT count(*) FROM callbacks WHERE state = 'pending'"); err != nil {
		return 0, fmt.Errorf("store: count pending callbacks: %w", err)
	}
	return n, nil
}

// CallbackChanges are the callbacks created and closed since the last
// CountCallbackChanges, by any instance.
type CallbackChanges struct {
	Requested int
	// Closed counts closings by reason (CallbackClosed…).
	Closed map[string]int
}

// CountCallbackChanges returns the callbacks created and closed that no
// instance has counted yet, and marks them counted: each is counted once,
// whichever instance asks first, so counters summed over instances are
// exact whoever created or closed the request (a record replayed from the
// spool, a voicemail marked handled in psql).
func (s *Store) CountCallbackChanges(ctx context.Context) (CallbackChanges, error) {
	out := CallbackChanges{Closed: map[string]int{}}
	if err := s.db.GetContext(ctx, &out.Requested, `
WITH c AS (UPDATE callbacks SET requested_counted = true WHERE NOT requested_counted RETURNING 1)
SELECT count(*) FROM c`); err != nil {
		return out, fmt.Errorf("store: count callback requests: %w", err)
	}
	var rows []struct {
		Reason string `db:"close_reason"`
		N      int    `db:"n"`
	}
	if err := s.db.SelectContext(ctx, &rows, `
WITH c AS (UPDATE callbacks SET closed_counted = true
	WHERE state <> 'pending' AND NOT closed_counted RETURNING close_reason)
SELECT close_reason, count(*) AS n FROM c GROUP BY close_reason`); err != nil {
		return out, fmt.Errorf("store: count closed callbacks: %w", err)
	}
	for _, r := range rows {
		out.Closed[r.Reason] = r.N
	}
	return out, nil
}

// VoicemailCallback is what a "call back now" needs of a voicemail.
type VoicemailCallback struct {
	VoicemailID    int64  `db:"id"`
	CallID         string `db:"call_id"`
	Cafe           string `db:"cafe_code"`       // "" when the caller was not identified
	CallbackNumber string `db:"callback_number"` // the recorded caller, E.164 ("" if withheld)
}

// VoicemailForCallback returns voicemail id's café and number; an error
// wrapping ErrNotFound when there is no such voicemail.
func (s *Store) VoicemailForCallback(ctx context.Context, id int64) (VoicemailCallback, error) {
	var v VoicemailCallback
	err := s.db.GetContext(ctx, &v, `
SELECT id, call_id, coalesce(cafe_code, '') AS cafe_code, callback_number FROM voicemails WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("store: voicemail %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return v, fmt.Errorf("store: voicemail %d: %w", id, err)
	}
	return v, nil
}
