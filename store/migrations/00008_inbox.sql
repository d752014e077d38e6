-- The supervisors' inbox on the board: how long each voicemail is, and
-- complaints (ratings with complaint = true) reviewed by a supervisor with a
-- note, as voicemails are handled.

-- +goose Up
ALTER TABLE voicemails
    ADD COLUMN length_seconds double precision CHECK (length_seconds >= 0);  -- NULL = not known

ALTER TABLE ratings
    ADD COLUMN reviewed_by text,
    ADD COLUMN reviewed_at timestamptz,
    ADD COLUMN review_note text NOT NULL DEFAULT '',
    ADD CONSTRAINT ratings_reviewed_by_at CHECK ((reviewed_by IS NULL) = (reviewed_at IS NULL)),
    ADD CONSTRAINT ratings_review_complaint CHECK (reviewed_at IS NULL OR complaint);
CREATE INDEX ratings_complaints_waiting ON ratings (created_at) WHERE complaint AND reviewed_at IS NULL;

-- +goose Down
DROP INDEX ratings_complaints_waiting;
ALTER TABLE ratings
    DROP CONSTRAINT ratings_review_complaint,
    DROP CONSTRAINT ratings_reviewed_by_at,
    DROP COLUMN review_note,
    DROP COLUMN reviewed_at,
    DROP COLUMN reviewed_by;
ALTER TABLE voicemails DROP COLUMN length_seconds;
