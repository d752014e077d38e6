-- Call records: one row per call, one per leg (each attempt to ring a
-- person), ratings/complaints and voicemails/callback requests. Calls keep
-- the codes they had (no foreign keys into the directory): history outlives
-- directory changes.

-- +goose Up
CREATE TABLE calls (
    id            text PRIMARY KEY CHECK (id <> ''),  -- chosen by the app (ULID)
    node          text NOT NULL DEFAULT '',            -- instance that handled it
    channel_id    text NOT NULL DEFAULT '',            -- Asterisk channel of the caller
    caller_raw    text NOT NULL DEFAULT '',            -- CALLERID(num) as received
    caller        text NOT NULL DEFAULT '',            -- normalised E.164, '' if invalid/withheld
    caller_kind   text NOT NULL DEFAULT '',            -- mobile, landline, ...
    cafe_code     text,
    matched_by    text NOT NULL DEFAULT 'none'
                  CHECK (matched_by IN ('caller_id', 'dtmf', 'area_code', 'none')),
    province_code text,
    area_code     text,
    region_code   text,
    started_at    timestamptz NOT NULL,
    accepted_at   timestamptz,
    ended_at      timestamptz NOT NULL,
    outcome       text NOT NULL
                  CHECK (outcome IN ('answered', 'abandoned', 'voicemail', 'no_answer', 'failed', 'interrupted')),
    accepted_by   text,                                -- staff code of who pressed 1
    wait_seconds  double precision NOT NULL DEFAULT 0 CHECK (wait_seconds >= 0),
    talk_seconds  double precision NOT NULL DEFAULT 0 CHECK (talk_seconds >= 0),
    detail        text NOT NULL DEFAULT '',            -- why it failed/was interrupted
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (ended_at >= started_at)
);
CREATE INDEX calls_started_at ON calls (started_at);
CREATE INDEX calls_cafe ON calls (cafe_code, started_at);
CREATE INDEX calls_accepted_by ON calls (accepted_by, started_at);

CREATE TABLE call_legs (
    call_id      text NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    seq          int  NOT NULL CHECK (seq >= 1),
    staff_code   text NOT NULL DEFAULT '',
    role         text NOT NULL CHECK (role IN ('technician', 'area_manager', 'regional_manager', 'operator')),
    number       text NOT NULL,                        -- E.164 that was dialled
    carrier      text NOT NULL DEFAULT '' CHECK (carrier IN ('', 'viettel', 'vinaphone', 'mobifone',
                                                           'vietnamobile', 'gmobile', 'reddi', 'itel')),
    trunk        text NOT NULL DEFAULT '',             -- endpoint/trunk used, e.g. 'PJSIP/gw-viettel'
    channel_id   text NOT NULL DEFAULT '',
    ring_at      timestamptz NOT NULL,
    answered_at  timestamptz,
    accepted_at  timestamptz,
    ended_at     timestamptz NOT NULL,
    result       text NOT NULL CHECK (result IN ('answered', 'answered_unconfirmed', 'busy', 'no_answer',
                                                 'congestion', 'failed', 'cancelled')),
    hangup_cause int,                                  -- Q.850 cause from Asterisk
    detail       text NOT NULL DEFAULT '',
    PRIMARY KEY (call_id, seq),
    CHECK (ended_at >= ring_at)
);
CREATE INDEX call_legs_staff ON call_legs (staff_code, ring_at);

-- The caller's rating after the call: score 1-5, or complaint (key 9).
CREATE TABLE ratings (
    call_id    text PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
    staff_code text NOT NULL,
    score      smallint CHECK (score BETWEEN 1 AND 5),
    complaint  boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (score IS NOT NULL OR complaint)
);
CREATE INDEX ratings_staff ON ratings (staff_code, created_at);

-- Messages and callback requests left when nobody accepted.
CREATE TABLE voicemails (
    id              bigserial PRIMARY KEY,
    call_id         text NOT NULL UNIQUE REFERENCES calls (id) ON DELETE CASCADE,
    cafe_code       text,
    callback_number text NOT NULL DEFAULT '',
    recording       text NOT NULL DEFAULT '',          -- Asterisk recording name, '' = callback only
    created_at      timestamptz NOT NULL,
    handled_by      text,
    handled_at      timestamptz,
    note            text NOT NULL DEFAULT '',
    CHECK ((handled_by IS NULL) = (handled_at IS NULL)),
    CHECK (recording <> '' OR callback_number <> '')
);
CREATE INDEX voicemails_waiting ON voicemails (created_at) WHERE handled_at IS NULL;

-- +goose Down
DROP TABLE voicemails;
DROP TABLE ratings;
DROP TABLE call_legs;
DROP TABLE calls;
