-- When the hotline last rang each person, shared by every instance so they
-- all agree on "least recently rung first". Written when a leg is dialled
-- (database clock), read before each plan. Not a directory table: no
-- notification, and no foreign key (a row of someone since removed from the
-- directory is harmless and is simply never read for a plan).

-- +goose Up
CREATE TABLE staff_last_rung (
    staff_code text PRIMARY KEY,
    last_rung  timestamptz NOT NULL
);

-- +goose Down
DROP TABLE staff_last_rung;
