-- Who is being rung or is on a hotline call right now, across all instances
-- sharing the database: one row per person (the primary key makes it
-- exclusive). A row whose lease has expired is free to take: the instance
-- that held it died or lost the database.

-- +goose Up
CREATE TABLE reservations (
    staff_code  text PRIMARY KEY,
    call_id     text NOT NULL,
    instance_id text NOT NULL,
    reserved_at timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX reservations_instance ON reservations (instance_id);

-- +goose Down
DROP TABLE reservations;
