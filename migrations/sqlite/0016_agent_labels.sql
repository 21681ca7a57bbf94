-- The fleet at 10,000 agents (issue 11): label selectors, sorting and paging run in the
-- database, not over every agent of the org in memory.
--
-- One row per label of an agent. Labels are written once, with the agent (its `labels`
-- column keeps the whole map for the execute path, which reads the agent's row); a
-- selector's requirements become EXISTS / NOT EXISTS over this table.
CREATE TABLE agent_labels (
    org_id   TEXT NOT NULL REFERENCES orgs(id),
    agent_id TEXT NOT NULL REFERENCES agents(id),
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (agent_id, key)
);
-- `key=value`, `key in (...)`: the agents with that label; group by a key: its values.
CREATE INDEX agent_labels_by_value ON agent_labels (org_id, key, value, agent_id);

INSERT INTO agent_labels (org_id, agent_id, key, value)
SELECT a.org_id, a.id, j.key, j.value FROM agents a, json_each(a.labels) j;

