-- Callbacks. A call from a known café that nobody took (no_answer,
-- voicemail, abandoned after waiting) becomes a request to call the café
-- back; each try to do so is itself a call record (direction 'callback')
-- with its legs, the café's own leg having the role 'cafe'.
--
-- One pending request per café at most. A new call from the café cancels
-- it (trigger on calls, backing the hotline's own cancellation when it
-- recognises the café), and so does marking one of the café's voicemails
-- handled (trigger on voicemails), whoever does it (board, psql).
-- An instance trying a request holds it with a lease (holder,
-- held_until), so across instances each request is tried by one at a time.

-- +goose Up
ALTER TABLE calls ADD COLUMN direction text NOT NULL DEFAULT 'inbound'
    CHECK (direction IN ('inbound', 'callback'));
-- The callback request a 'callback' call was a try of (NULL: inbound, or a
-- "call back now" from the board with no request pending).
ALTER TABLE calls ADD COLUMN callback_id bigint;
CREATE INDEX calls_callback ON calls (callback_id) WHERE callback_id IS NOT NULL;

ALTER TABLE call_legs DROP CONSTRAINT call_legs_role_check;
ALTER TABLE call_legs ADD CONSTRAINT call_legs_role_check
    CHECK (role IN ('technician', 'area_manager', 'regional_manager', 'operator', 'cafe'));

CREATE TABLE callbacks (
    id           bigserial PRIMARY KEY,
    call_id      text NOT NULL UNIQUE REFERENCES calls (id) ON DELETE CASCADE, -- the missed call
    cafe_code    text NOT NULL,
    number       text NOT NULL CHECK (number ~ '^\+84[0-9]{9,10}$'),  -- the number that called
    created_at   timestamptz NOT NULL,
    state        text NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'done', 'cancelled', 'given_up')),
    tries        int NOT NULL DEFAULT 0 CHECK (tries >= 0),
    next_at      timestamptz NOT NULL,   -- not tried before this
    holder       text,                   -- instance trying it now
    held_until   timestamptz,            -- the holder's lease
    last_call_id text,                   -- the last try's call record
    closed_at    timestamptz,
    -- done: connected; cancelled: new_call, voicemail_handled, cafe_closed;
    -- given_up: tries_exhausted
    close_reason text NOT NULL DEFAULT '',
    -- Metrics bookkeeping: each creation and each closing is counted once,
    -- by whichever instance sees it first.
    requested_counted boolean NOT NULL DEFAULT false,
    closed_counted    boolean NOT NULL DEFAULT false,
    CHECK ((state = 'pending') = (closed_at IS NULL)),
    CHECK ((holder IS NULL) = (held_until IS NULL))
);
CREATE UNIQUE INDEX callbacks_pending_cafe ON callbacks (cafe_code) WHERE state = 'pending';
CREATE INDEX callbacks_due ON callbacks (next_at) WHERE state = 'pending';
CREATE INDEX callbacks_uncounted ON callbacks (id) WHERE NOT requested_counted
    OR (state <> 'pending' AND NOT closed_counted);

-- +goose StatementBegin
CREATE FUNCTION hotline_callbacks_new_call() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.direction = 'inbound' AND NEW.cafe_code IS NOT NULL THEN
        UPDATE callbacks cb
        SET state = 'cancelled', closed_at = now(), close_reason = 'new_call', holder = NULL, held_until = NULL
        FROM calls c
        WHERE cb.call_id = c.id AND cb.cafe_code = NEW.cafe_code AND cb.state = 'pending'
          AND c.started_at < NEW.started_at;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER calls_cancel_callbacks AFTER INSERT ON calls
    FOR EACH ROW EXECUTE FUNCTION hotline_callbacks_new_call();

-- +goose StatementBegin
CREATE FUNCTION hotline_callbacks_voicemail_handled() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.handled_at IS NOT NULL AND OLD.handled_at IS NULL THEN
        UPDATE callbacks
        SET state = 'cancelled', closed_at = now(), close_reason = 'voicemail_handled', holder = NULL, held_until = NULL
        WHERE state = 'pending' AND (call_id = NEW.call_id OR cafe_code = NEW.cafe_code);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER voicemails_cancel_callbacks AFTER UPDATE OF handled_at ON voicemails
    FOR EACH ROW EXECUTE FUNCTION hotline_callbacks_voicemail_handled();

-- +goose Down
DROP TRIGGER voicemails_cancel_callbacks ON voicemails;
DROP FUNCTION hotline_callbacks_voicemail_handled();
DROP TRIGGER calls_cancel_callbacks ON calls;
DROP FUNCTION hotline_callbacks_new_call();
DROP TABLE callbacks;
DELETE FROM call_legs WHERE role = 'cafe';
ALTER TABLE call_legs DROP CONSTRAINT call_legs_role_check;
ALTER TABLE call_legs ADD CONSTRAINT call_legs_role_check
    CHECK (role IN ('technician', 'area_manager', 'regional_manager', 'operator'));
DROP INDEX calls_callback;
ALTER TABLE calls DROP COLUMN callback_id;
ALTER TABLE calls DROP COLUMN direction;
