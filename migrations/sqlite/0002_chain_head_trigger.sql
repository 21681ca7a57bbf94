-- The chain head follows every inserted audit record, inside the inserting statement,
-- so an append is one atomic statement. Same meaning as migrations/postgres.
CREATE TRIGGER audit_records_move_head AFTER INSERT ON audit_records
BEGIN
    INSERT OR REPLACE INTO chain_heads (org_id, seq, hash) VALUES (NEW.org_id, NEW.seq, NEW.hash);
END;
