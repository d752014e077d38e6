-- Transfers by the person who accepted a call (`*<area code>#`, `*0#`): the
-- legs rung for a transfer are legs of the same call, marked with the reason
-- 'transfer' ('' = rung for the call itself). The monthly report counts
-- transfers given and received from it.

-- +goose Up
ALTER TABLE call_legs
    ADD COLUMN reason text NOT NULL DEFAULT '' CHECK (reason IN ('', 'transfer'));
CREATE INDEX call_legs_transfers ON call_legs (call_id) WHERE reason = 'transfer';

-- +goose Down
DROP INDEX call_legs_transfers;
ALTER TABLE call_legs DROP COLUMN reason;
