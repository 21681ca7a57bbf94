-- The chain head follows every inserted audit record, inside the inserting statement,
-- so an append is one atomic statement. Same meaning as migrations/sqlite.
CREATE FUNCTION audit_records_move_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO chain_heads (org_id, seq, hash) VALUES (NEW.org_id, NEW.seq, NEW.hash)
    ON CONFLICT (org_id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash;
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_records_move_head AFTER INSERT ON audit_records
    FOR EACH ROW EXECUTE FUNCTION audit_records_move_head();
