package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// NodeOwner is the process serving an Asterisk node's application.
type NodeOwner struct {
	Key       string    `db:"node_key"`
	Node      string    `db:"node_name"`
	Instance  string    `db:"instance_id"`
	ClaimedAt time.Time `db:"claimed_at"`
	ExpiresAt time.Time `db:"expires_at"`
	// Expired: the lease has run out (by the database's clock); filled by
	// NodeOwnerOf only.
	Expired bool `db:"expired"`
}

// ClaimNode makes instanceID the owner of the node key (an application and
// an Asterisk entity id) for lease, or renews its ownership, and reports
// whether it owns it; when it does not, holder is the live owner. Like
// Reserve it succeeds when nobody owns the key, when the owner's lease has
// expired, or when instanceID owns it already (a restart of the same
// instance takes its node back at once). Instances share the database
// clock.
func (s *Store) ClaimNode(ctx context.Context, key, node, instanceID string, lease time.Duration) (ok bool, holder NodeOwner, err error) {
	if key == "" || node == "" || instanceID == "" {
		return false, holder, errors.New("store: claim node: key, node and instance must be set")
	}
	if lease <= 0 {
		return false, holder, errors.New("store: claim node: lease must be positive")
	}
	var got string
	err = s.db.GetContext(ctx, &got, `
INSERT INTO node_owners (node_key, node_name, instance_id, claimed_at, expires_at)
VALUES ($1, $2, $3, clock_timestamp(), clock_timestamp() + $4 * interval '1 microsecond')
ON CONFLICT (node_key) DO UPDATE
	SET node_name = EXCLUDED.node_name, instance_id = EXCLUDED.instance_id,
	    claimed_at = CASE WHEN node_owners.instance_id = EXCLUDED.instance_id
	                      THEN node_owners.claimed_at ELSE EXCLUDED.claimed_at END,
	    expires_at = EXCLUDED.expires_at
	WHERE node_owners.expires_at < clock_timestamp() OR node_owners.instance_id = EXCLUDED.instance_id
RETURNING node_key`, key, node, instanceID, lease.Microseconds())
	if err == nil {
		return true, holder, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, holder, fmt.Errorf("store: claim node %s: %w", key, err)
	}
	err = s.db.GetContext(ctx, &holder, `
SELECT node_key, node_name, instance_id, claimed_at, expires_at FROM node_owners WHERE node_key = $1`, key)
	if errors.Is(err, sql.ErrNoRows) { // released meanwhile: the next claim gets it
		return false, NodeOwner{Key: key}, nil
	}
	if err != nil {
		return false, holder, fmt.Errorf("store: node %s's owner: %w", key, err)
	}
	return false, holder, nil
}

// ReleaseNode ends instanceID's ownership of the node key (a clean stop:
// another process may take the node at once). Releasing what another
// instance owns does nothing.
func (s *Store) ReleaseNode(ctx context.Context, key, instanceID string) error {
	if _, err := s.db.ExecContext(ctx,
		"DELETE FROM node_owners WHERE node_key = $1 AND instance_id = $2", key, instanceID); err != nil {
		return fmt.Errorf("store: release node %s: %w", key, err)
	}
	return nil
}

// NodeOwners lists the live (unexpired) node owners, by key.
func (s *Store) NodeOwners(ctx context.Context) ([]NodeOwner, error) {
	var out []NodeOwner
	if err := s.db.SelectContext(ctx, &out, `
SELECT node_key, node_name, instance_id, claimed_at, expires_at FROM node_owners
WHERE expires_at >= clock_timestamp() ORDER BY node_key`); err != nil {
		return nil, fmt.Errorf("store: list node owners: %w", err)
	}
	return out, nil
}

// NodeOwnerOf returns the claim of the node key, expired or not (Expired
// says which, by the database's clock); false when nobody has claimed it
// (or the last owner released it).
func (s *Store) NodeOwnerOf(ctx context.Context, key string) (NodeOwner, bool, error) {
	var o NodeOwner
	err := s.db.GetContext(ctx, &o, `
SELECT node_key, node_name, instance_id, claimed_at, expires_at, expires_at < clock_timestamp() AS expired
FROM node_owners WHERE node_key = $1`, key)
	if errors.Is(err, sql.ErrNoRows) {
		return o, false, nil
	}
	if err != nil {
		return o, false, fmt.Errorf("store: node %s's owner: %w", key, err)
	}
	return o, true, nil
}
