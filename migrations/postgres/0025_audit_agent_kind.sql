-- An agent's records of one kind (its calls: `agent=…&kind=execute.intercept`), read in
-- seq order from their own index. Through (agent, seq) the search read the agent's
-- records of every kind and dropped the others: the facets of an agent's risky calls
-- read about 128,000 index entries for their newest 10,000 at a million records (45 to
-- 90 ms); through (agent, kind, seq) they read the calls alone (11 ms). SQLite's index
-- scan is cheap enough without it (its 0025).
CREATE INDEX audit_records_agent_kind ON audit_records (org_id, agent_id, kind, seq) INCLUDE (risk_score, verdict, connector);
