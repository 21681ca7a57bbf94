"""Grants (``request_grant``) and self-registration (``register``) against the real
server, each waiting for a reviewer like an escalated call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentvault import ApprovalDeniedError, ApprovalPendingError, PermissionDeniedError
from livekit import (
    Caller,
    Reviewer,
    Server,
    close_client,
    find_record,
    in_force_manifest,
    make_client,
    marker,
)

#: The most a call waits for its reviewer thread (then ApprovalPendingError, not a hang).
DECIDE = 60


def grant_for(agent_id: str, account: str) -> Any:
    return lambda a: (
        a["kind"] == "grant" and a["agent_id"] == agent_id
        and a["params"].get("resource", {}).get("value") == account
    )


@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_a_grant_lets_calls_within_it_run_without_escalation(
    kind: str, arx_server: Server, reviewer: Reviewer
) -> None:
    agent = arx_server.agent("remediation-agent")
    client = make_client(kind, arx_server, agent="remediation-agent")
    c = Caller(kind, client)
    account, other = marker("logs"), marker("other")
    update = {"resource_group": "rg-logs", "allow_blob_public_access": False}
    try:
        az = client.azure()
        # Without a grant the policy escalates the call.
        with pytest.raises(ApprovalPendingError) as before:
            await c(az.execute, "storage_accounts:update", {**update, "account": account}, wait=False)
        reviewer.decide(before.value.approval_id, False, "ask for a grant instead")

        # The grant request waits for the reviewer, approved from another thread.
        decided = reviewer.later(grant_for(agent["id"], account), approve=True, comment="15 minutes", delay=0.5)
        grant = await c(client.request_grant, az, ["storage_accounts:update"], "15m",
                        "turn off public blob access", resource=("account", account), timeout=DECIDE)
        found = decided.result(timeout=10)
        assert grant["status"] == "active"
        assert grant["approval_id"] == found["id"]
        assert grant["connector"] == "azure"
        assert grant["operations"] == ["storage_accounts:update"]
        assert grant["resource"] == {"param": "account", "value": account}
        assert grant["grant_id"] and grant["expires_at"]

        # Within the grant: PERMIT at once, no approval request, the simulator's answer.
        done = await c(az.execute_detailed, "storage_accounts:update", {**update, "account": account})
        assert done.verdict == "PERMIT"
        assert done.approval_id is None
        assert done.result["name"] == account
        assert done.result["properties"]["allowBlobPublicAccess"] is False
        assert find_record(arx_server, done.audit_id)["fields"]["grant_id"] == grant["grant_id"]

        # Outside it (another account): escalated as before.
        with pytest.raises(ApprovalPendingError) as outside:
            await c(az.execute, "storage_accounts:update", {**update, "account": other}, wait=False)
        reviewer.decide(outside.value.approval_id, False, "not covered")

        # The admin API lists it, active.
        grants = arx_server.admin_json("GET", "/v1/admin/grants")
        listed = [g for g in grants["grants"] if g["id"] == grant["grant_id"]]
        assert listed and listed[0]["status"] == "active"
    finally:
        await close_client(client)


async def test_a_denied_grant_raises_approval_denied(arx_server: Server, reviewer: Reviewer) -> None:
    agent = arx_server.agent("remediation-agent")
    client = make_client("async", arx_server, agent="remediation-agent")
    account = marker("logs")
    try:
        reviewer.later(grant_for(agent["id"], account), approve=False, comment="use the change process")
        with pytest.raises(ApprovalDeniedError) as err:
            await client.request_grant("azure", "storage_accounts:update", 900, "open it up",
                                       resource={"param": "account", "value": account},
                                       timeout=DECIDE)
        assert err.value.reason == "use the change process"
        # Still escalated afterwards.
        with pytest.raises(ApprovalPendingError) as still:
            await client.azure().execute("storage_accounts:update",
                                         {"resource_group": "rg", "account": account}, wait=False)
        reviewer.decide(still.value.approval_id, False, "cleanup")
    finally:
        await close_client(client)


def manifest_for(agent_id: str) -> Any:
    return lambda a: a["kind"] == "manifest" and a["agent_id"] == agent_id


async def test_registration(arx_server: Server, reviewer: Reviewer, tmp_path: Path) -> None:
    """The enrichment agent (docs/registry.md: okta users:read and groups:read in prod)
    registers: the same manifest (unchanged), a narrower one (published at once), a
    wider one (waits; approved), another wider one (denied), and one from a YAML file
    with the sync client."""
    agent = arx_server.agent("enrichment-agent")
    version, current = in_force_manifest(arx_server, agent["id"])
    async_client = make_client("async", arx_server, agent="enrichment-agent")
    sync_client = make_client("sync", arx_server, agent="enrichment-agent")
    try:
        same = await async_client.register(current)
        assert same["status"] == "unchanged" and same["version"] == version

        narrower = {**current, "connectors": {"okta": ["users:read"]}}
        published = await async_client.register(narrower, reason="only user lookups now")
        assert published["status"] == "published"
        assert published["version"] == version + 1
        assert len(published["manifest_sha256"]) == 64
        assert "approval_id" not in published
        assert in_force_manifest(arx_server, agent["id"]) == (version + 1, narrower)
        # The gate follows the manifest in force: groups:read is no longer declared.
        with pytest.raises(PermissionDeniedError):
            await async_client.okta().execute("groups:read")

        wider = {**current, "connectors": {"okta": ["users:read", "logs:read"]}}
        decided = reviewer.later(manifest_for(agent["id"]), approve=True, comment="ok", delay=0.5)
        approved = await async_client.register(wider, reason="read the system log too", timeout=DECIDE)
        found = decided.result(timeout=10)
        assert approved["status"] == "published"
        assert approved["version"] == version + 2
        assert approved["approval_id"] == found["id"]
        assert found["params"]["manifest"]["connectors"] == {"okta": ["logs:read", "users:read"]}
        assert found["params"]["reason"] == "read the system log too"

        widest = {**wider, "connectors": {"okta": ["users:read", "logs:read", "users:get"]}}
        reviewer.later(manifest_for(agent["id"]), approve=False, comment="not needed")
        with pytest.raises(ApprovalDeniedError) as err:
            await async_client.register(widest, timeout=DECIDE)
        assert err.value.reason == "not needed"
        assert in_force_manifest(arx_server, agent["id"])[0] == version + 2

        # From a file, YAML, the whole registration (its reason reaches the reviewer)...
        path = tmp_path / "registration.yaml"
        path.write_text(yaml.safe_dump({"manifest": widest, "reason": "from the file"}))
        decided = reviewer.later(manifest_for(agent["id"]), approve=False, comment="no")
        with pytest.raises(ApprovalDeniedError):
            sync_client.register(path, timeout=DECIDE)
        assert decided.result(timeout=10)["params"]["reason"] == "from the file"
        path.write_text(yaml.safe_dump({"manifest": wider}))
        assert sync_client.register(path)["status"] == "unchanged"
        # ... or JSON, the manifest alone.
        path = tmp_path / "manifest.json"
        path.write_text(json.dumps(narrower))
        assert sync_client.register(str(path), timeout=30)["status"] == "published"  # narrower
        assert in_force_manifest(arx_server, agent["id"]) == (version + 3, narrower)
    finally:
        await close_client(async_client)
        sync_client.close()


async def test_an_invalid_manifest_is_a_400_naming_the_field(arx_server: Server) -> None:
    client = make_client("async", arx_server, agent="enrichment-agent")
    try:
        from agentvault import APIError

        with pytest.raises(APIError) as err:
            await client.register({"connectors": {"okta": ["users: read"]}, "rate_per_minute": 30,
                                   "environments": ["prod"], "data_classes": [], "purpose": "x",
                                   "model": ""})
        assert err.value.status_code == 400
        assert "connectors.okta[0]" in err.value.message
    finally:
        await close_client(client)
