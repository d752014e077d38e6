-- Calls in progress whose record is not written yet, one row per call (issue
-- 10): a process that restarts records, as interrupted, the calls of its
-- previous run that left nothing in Asterisk to take over (a caller who hung
-- up in the greeting while no process ran). A row is written when a café's
-- call starts and deleted in the transaction that writes the call's record.

-- +goose Up
CREATE TABLE live_calls (
    call_id     text PRIMARY KEY CHECK (call_id <> ''),
    instance_id text NOT NULL,               -- as in reservations
    run_id      text NOT NULL,               -- the process run that started it
    channel_id  text NOT NULL DEFAULT '',    -- the caller's channel
    caller_raw  text NOT NULL DEFAULT '',    -- caller ID as received
    started_at  timestamptz NOT NULL
);
CREATE INDEX live_calls_instance ON live_calls (instance_id);

-- +goose Down
DROP TABLE live_calls;
