-- Which hotline process serves each Asterisk node's Stasis application: one
-- row per (application, Asterisk entity id). Asterisk gives an application
-- to the last WebSocket that registers it (the previous one gets
-- ApplicationReplaced and no more events), so two serve processes on one
-- node would take the application from each other; the primary key makes
-- serving a node exclusive across every process sharing the database. A row
-- whose lease has expired is free to take: its process died or lost the
-- database.

-- +goose Up
CREATE TABLE node_owners (
    node_key    text PRIMARY KEY,      -- application + "@" + Asterisk entity id
    node_name   text NOT NULL,         -- the owner's name for the node (ari.nodes[].name)
    instance_id text NOT NULL,
    claimed_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);

-- +goose Down
DROP TABLE node_owners;
