import { test, expect } from "@playwright/test";
import { signIn, execute, demo } from "./demo";

// The demo's enrichment-agent may only read Okta identities in prod.
test("an agent outside its manifest is denied at the gate, raises drift, is suspended until an admin reactivates it", async ({ page, request }) => {
  expect((await execute(request, "enrichment-agent", { connector: "okta", operation: "users:read", params: { limit: 2 } })).status()).toBe(200);
  // A read of its own connector it did not declare: denied, a low alert, no action.
  const read = await execute(request, "enrichment-agent", { connector: "okta", operation: "users:get", params: { user_id: "00u1abcd" } });
  expect(read.status()).toBe(403);
  expect((await read.json()).error.message).toContain("not in the agent's manifest");
  expect((await execute(request, "enrichment-agent", { connector: "okta", operation: "users:read", params: {} })).status()).toBe(200);
  // An undeclared write: denied, a high alert, and the agent is suspended.
  const write = await execute(request, "enrichment-agent", { connector: "okta", operation: "users:suspend", params: { user_id: "00u1abcd" } });
  expect(write.status()).toBe(403);
  const after = await execute(request, "enrichment-agent", { connector: "okta", operation: "users:read", params: {} });
  expect((await after.json()).error.risk_score).toBe(100);

  await signIn(page, "admin");
  // The overview counts the fleet by status and open drift by severity.
  await expect(page.getByTestId("fleet")).toContainText("1 suspended");
  await expect(page.getByTestId("fleet")).toContainText(/[1-9]\d* high/);
  await page.getByRole("link", { name: "Drift", exact: true }).click();
  await expect(page).toHaveTitle("Drift · ARX");
  const high = page.locator('tr[data-severity="high"]').filter({ hasText: "enrichment-agent" });
  await expect(high).toContainText("undeclared write okta:users:suspend");
  await expect(high).toContainText("suspend");
  await expect(high).toContainText("manifest v1");
  const low = page.locator('tr[data-severity="low"]').filter({ hasText: "okta:users:get" });
  await expect(low).toContainText("alert");

  // Acknowledge, then resolve with a note; resolving reactivates nothing.
  await high.getByRole("button", { name: "Acknowledge" }).click();
  await expect(page.getByRole("status")).toContainText("is acknowledged");
  await page.goto("/drift?status=acknowledged");
  const seen = page.locator('tr[data-severity="high"]').filter({ hasText: "enrichment-agent" });
  await expect(seen).toContainText("by admin@demo.arx.local");
  await seen.getByLabel("Note to Resolve").fill("owner confirmed a bug in its prompt");
  await seen.getByRole("button", { name: "Resolve" }).click();
  await expect(page.getByRole("status")).toContainText("is resolved");
  await page.goto("/drift?status=resolved");
  await expect(page.locator('tr[data-severity="high"]').filter({ hasText: "owner confirmed a bug" }).first()).toBeVisible();
  await page.goto("/drift");
  await page.locator('tr[data-severity="low"]').filter({ hasText: "okta:users:get" }).getByRole("button", { name: "Resolve" }).click();
  await expect(page.getByRole("status")).toContainText("is resolved");
  await expect(page.locator('tr[data-severity="low"]').filter({ hasText: "okta:users:get" })).toHaveCount(0);

  // Its page draws what it may call and, in red, what it tried.
  await page.goto("/agents");
  await page.locator('tr[data-agent="enrichment-agent"]').getByRole("link", { name: "enrichment-agent" }).click();
  await expect(page).toHaveTitle("Agent · ARX");
  const graph = page.getByTestId("graph").locator("svg");
  await expect(graph).toHaveAttribute("aria-label", /Connector graph of enrichment-agent: 1 connectors/);
  await expect(graph).toContainText("users:read");
  await expect(graph).toContainText(/users:suspend · tried \d+×, not declared/);
  await expect(page.getByTestId("versions")).toContainText("it only reads Okta identities");
  await expect(page.getByTestId("manifest")).toContainText('"rate_per_minute": 30');

  await page.goto("/agents");
  const row = page.locator('tr[data-agent="enrichment-agent"]');
  await expect(row).toContainText("suspended");
  await expect(row.getByTestId("manifest")).toContainText("v1");
  await row.getByLabel("Reason to reactivate enrichment-agent").fill("reviewed with its owner");
  await row.getByRole("button", { name: "Reactivate" }).click();
  await expect(page.getByRole("status")).toContainText("active again");
  await expect(page.locator('tr[data-agent="enrichment-agent"]')).toContainText("active");
  expect((await execute(request, "enrichment-agent", { connector: "okta", operation: "users:read", params: {} })).status()).toBe(200);
});

test("the registry filters by a label selector, counts by a key, and a malformed selector says where", async ({ page }) => {
  await signIn(page, "admin");
  await page.goto("/agents");
  await page.getByLabel("Label selector").fill("env=prod, team in (soc,ir)");
  await page.getByLabel("Count by").fill("team");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/selector=/);
  await expect(page.locator("tr[data-agent]")).toHaveCount(2);
  await expect(page.getByTestId("pager")).toHaveText("Agents 1–2 of 2");
  await expect(page.locator('tr[data-agent="enrichment-agent"]')).toHaveCount(0);
  await expect(page.getByTestId("groups")).toContainText("team:soc · 1");
  await expect(page.getByTestId("groups")).toContainText("team:ir · 1");

  await page.goto("/agents?selector=" + encodeURIComponent("team in (soc"));
  await expect(page.locator(".flash-error")).toContainText("the selector: expected ',' or ')' at position 12");
});

test("an admin decommissions an agent from its page: the confirmation names its keys, then they are revoked and the record sealed", async ({ page, request }, info) => {
  const name = `retiring-${info.project.name}-${Date.now()}`;
  const admin = { authorization: `Bearer ${demo.admin_token}` };
  const made = await (await request.post("/v1/admin/agents", { headers: admin, data: { name, owner: "ir-lead@demo.arx.local", labels: { env: "dev" } } })).json();
  const id = made.agent.id;
  const key = (await (await request.post(`/v1/admin/agents/${id}/keys`, { headers: admin, data: {} })).json()).api_key;
  expect(key).toMatch(/^arx_/);

  await signIn(page, "admin");
  await page.goto(`/agents/view?id=${id}`);
  const form = page.getByTestId("decommission");
  await expect(form).toContainText(`revokes 1 key(s) (${key.slice(0, 10)})`);
  await form.getByLabel("Why it is retired").fill("its team moved to triage-agent");
  await form.getByLabel("Replaced by").fill("triage-agent");
  // Without the box ticked: refused by the box, the reason kept.
  await form.getByRole("button", { name: "Decommission" }).click();
  await expect(page.locator("#confirm-error")).toContainText("tick the box");
  await expect(page.getByTestId("decommission").getByLabel("Why it is retired")).toHaveValue("its team moved to triage-agent");
  await page.getByTestId("decommission").getByRole("checkbox").check();
  await expect(page.getByTestId("decommission").getByLabel("Replaced by")).toHaveValue("triage-agent");
  await page.getByTestId("decommission").getByRole("button", { name: "Decommission" }).click();
  await expect(page.getByRole("status")).toContainText(`${name} is decommissioned: 1 key(s) revoked`);
  await expect(page.getByTestId("agent")).toContainText("Decommissioned: its team moved to triage-agent");
  await expect(page.getByTestId("decommission")).toHaveCount(0);
  // Its keys, as the page lists them: revoked.
  await expect(page.getByTestId("keys")).toContainText(`${key.slice(0, 10)}…`);
  await expect(page.getByTestId("keys")).toContainText("revoked");
  await expect(page.getByTestId("keys")).not.toContainText("active");

  const call = await request.post("/v1/sdk/execute", { headers: { authorization: `Bearer ${key}` }, data: { connector: "okta", operation: "users:read", params: {} } });
  expect(call.status()).toBe(401);
  expect((await call.json()).error.message).toContain("decommissioned: its team moved to triage-agent");
});

test("an admin compares two manifest versions and rolls back to one from the agent's page", async ({ page, request }, info) => {
  const name = `versioned-${info.project.name}-${Date.now()}`;
  const admin = { authorization: `Bearer ${demo.admin_token}` };
  const id = (await (await request.post("/v1/admin/agents", { headers: admin, data: { name, owner: "ir-lead@demo.arx.local" } })).json()).agent.id;
  const manifest = (ops: string[], rate: number) => ({ connectors: { okta: ops }, rate_per_minute: rate, environments: ["prod"], data_classes: ["identity", "pii"], purpose: "reads identities", model: "" });
  for (const [m, reason] of [[manifest(["users:read"], 30), "first"], [manifest(["users:read", "users:get"], 60), "needs user details"]] as const) {
    expect((await request.post(`/v1/admin/agents/${id}/manifests`, { headers: admin, data: { manifest: m, reason } })).status()).toBe(201);
  }

  await signIn(page, "admin");
  await page.goto(`/agents/view?id=${id}`);
  await page.getByLabel("Compare version").selectOption("1");
  await page.getByLabel("with version").selectOption("2");
  await page.getByRole("button", { name: "Show the changes" }).click();
  await expect(page.getByTestId("manifest-diff")).toContainText("+ operations: okta:users:get");
  await expect(page.getByTestId("manifest-diff")).toContainText("~ rate: 30 → 60 per minute");

  const v1 = page.locator('tr[data-version="1"]');
  await v1.getByLabel("Reason to roll back to v1").fill("users:get was not reviewed");
  await v1.getByRole("button", { name: "Roll back to v1" }).click();
  await expect(page.getByRole("status")).toContainText("Rolled back: version 3 is in force, equal to version 1.");
  await expect(page.locator('tr[data-version="3"]')).toContainText("(rollback to v1)");
  await expect(page.getByTestId("manifest")).not.toContainText("users:get");
});

test("the CISO, signed in as an auditor, finds agents by label, opens one and sees its graph and history, and can change nothing", async ({ page }) => {
  await signIn(page, "auditor");
  await page.goto("/agents?selector=" + encodeURIComponent("env:prod") + "&group_by=team");
  await expect(page.locator('tr[data-agent="triage-agent"]')).toBeVisible();
  await expect(page.getByTestId("groups")).toContainText("team:soc");
  // No admin actions for an auditor.
  await expect(page.getByRole("button", { name: /Suspend|Reactivate|Issue key/ })).toHaveCount(0);
  await expect(page.getByRole("heading", { name: "Register an agent" })).toHaveCount(0);
  await page.locator('tr[data-agent="triage-agent"]').getByRole("link", { name: "triage-agent" }).click();
  await expect(page.getByTestId("graph").locator("svg")).toHaveAttribute("aria-label", /Connector graph of triage-agent: 11 connectors/);
  await expect(page.getByTestId("versions")).toContainText("the demo's agents may call every connector");
  await expect(page.getByTestId("decommission")).toHaveCount(0);
  await expect(page.getByTestId("agent-actions")).toHaveCount(0);
  await expect(page.getByRole("button", { name: /Roll back|Revoke key|Save/ })).toHaveCount(0);
  // Each connector's instances are drawn under it.
  await expect(page.getByTestId("graph").locator('[data-instance="main"]')).toHaveCount(11);
  await page.getByRole("link", { name: "Drift", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Drift" })).toBeVisible();
  await expect(page.getByRole("button", { name: /Acknowledge|Resolve/ })).toHaveCount(0);
});

test("an agent registers a wider manifest: the reviewer sees what it widens, approves, and it is the agent's next version", async ({ page, request }, info) => {
  const name = `registrant-${info.project.name}-${Date.now()}`;
  const admin = { authorization: `Bearer ${demo.admin_token}` };
  const made = await (await request.post("/v1/admin/agents", { headers: admin, data: { name, owner: "ti-lead@demo.arx.local", labels: { env: "dev" } } })).json();
  const id = made.agent.id;
  const key = (await (await request.post(`/v1/admin/agents/${id}/keys`, { headers: admin, data: {} })).json()).api_key;
  const manifest = (ops: string[]) => ({
    connectors: { okta: ops }, rate_per_minute: 20, environments: ["prod"], data_classes: ["identity", "pii"],
    purpose: "Look up users", model: "claude-sonnet-4",
  });
  const register = (ops: string[], reason: string) =>
    request.post("/v1/agents/register", { headers: { authorization: `Bearer ${key}` }, data: { manifest: manifest(ops), reason, wait_seconds: 0 } });
  // The first manifest always waits; approve it through the API.
  const first = await (await register(["users:read"], "first")).json();
  expect((await request.post(`/v1/admin/approvals/${first.approval_id}/approve`, { headers: admin, data: {} })).status()).toBe(200);
  // A wider one waits for the reviewer in the console.
  const wider = await register(["users:read", "users:get"], "read one user's details");
  expect(wider.status()).toBe(202);
  const { approval_id } = await wider.json();

  await signIn(page, "reviewer");
  await page.goto(`/approvals/view?id=${approval_id}`);
  const scope = page.getByTestId("manifest-scope");
  await expect(scope).toContainText("becomes version 2 (version 1 is in force)");
  await expect(scope).toContainText("widens: operation okta:users:get");
  await expect(scope).toContainText("reason (written by the agent): read one user's details");
  await page.getByRole("button", { name: "Approve and publish" }).click();
  await expect(page.getByTestId("approval")).toHaveAttribute("data-status", "executed");
  await expect(page.getByTestId("outcome-words")).toContainText("The manifest is the agent's version 2 now.");

  await page.goto(`/agents/view?id=${id}`);
  await expect(page.getByTestId("manifest")).toContainText("users:get");
  await expect(page.locator("tr[data-version='2']")).toContainText("reviewer@demo.arx.local");
});

test("the fleet sorts by a column header, the other way on a second click, and keeps the order with a filter", async ({ page }) => {
  await signIn(page, "auditor");
  await page.goto("/agents");
  const names = () => page.locator("tr[data-agent]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-agent")));
  const byName = await names();
  expect(byName).toEqual([...byName].sort());
  const header = page.getByRole("columnheader", { name: /Agent/ });
  await expect(header).toHaveAttribute("aria-sort", "ascending");
  await header.getByRole("link").click();
  await expect(page).toHaveURL(/sort=name&order=desc/);
  await expect(page.getByRole("columnheader", { name: /Agent/ })).toHaveAttribute("aria-sort", "descending");
  await expect.poll(names).toEqual([...byName].sort().reverse());
  // Another column starts in its own first order: keys, most first.
  await page.getByRole("columnheader", { name: /Keys/ }).getByRole("link").click();
  await expect(page).toHaveURL(/sort=active_keys&order=desc/);
  // A filter keeps the order.
  await page.getByLabel("Label selector").fill("env=prod");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/selector=env%3Dprod.*sort=active_keys&order=desc|sort=active_keys&order=desc.*selector=env%3Dprod/);
  await expect(page.getByRole("columnheader", { name: /Keys/ })).toHaveAttribute("aria-sort", "descending");
});

test("an admin edits an agent's owner and labels and revokes one of its keys from its page", async ({ page, request }, info) => {
  const name = `edited-${info.project.name}-${Date.now()}`;
  const admin = { authorization: `Bearer ${demo.admin_token}` };
  const id = (await (await request.post("/v1/admin/agents", { headers: admin, data: { name, owner: "ir-lead@demo.arx.local", labels: { env: "dev" } } })).json()).agent.id;
  const keys: string[] = [];
  for (let i = 0; i < 2; i++) {
    keys.push((await (await request.post(`/v1/admin/agents/${id}/keys`, { headers: admin, data: {} })).json()).api_key);
  }

  await signIn(page, "admin");
  await page.goto(`/agents/view?id=${id}`);
  const edit = page.getByTestId("edit-agent");
  await expect(edit.getByLabel("Labels")).toHaveValue("env:dev");
  // A label the registry refuses: said by the field, what was typed kept.
  await edit.getByLabel("Labels").fill("env:lab, Bad Key:x");
  await edit.getByRole("button", { name: "Save" }).click();
  await expect(page.locator("#labels-error")).toContainText("labels");
  await expect(page.getByTestId("edit-agent").getByLabel("Labels")).toHaveValue("env:lab, Bad Key:x");
  await page.getByTestId("edit-agent").getByLabel("Labels").fill("env:lab, team=edited");
  await page.getByTestId("edit-agent").getByLabel("Owner email").fill("ti-lead@demo.arx.local");
  await page.getByTestId("edit-agent").getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status")).toContainText(`${name} is updated.`);
  await expect(page.getByTestId("agent")).toContainText("ti-lead@demo.arx.local");
  await expect(page.getByTestId("agent")).toContainText("team:edited");

  // The key issued first is revoked; the other still works.
  const revoke = page.getByTestId("revoke-key");
  const first = await revoke.locator("option", { hasText: keys[0].slice(0, 10) }).getAttribute("value");
  await revoke.getByLabel("Key to revoke").selectOption(first!);
  await revoke.getByRole("button", { name: "Revoke key" }).click();
  await expect(page.getByRole("status")).toContainText("Key revoked");
  await expect(page.getByTestId("keys").locator("tr", { hasText: keys[0].slice(0, 10) })).toContainText("revoked");
  await expect(page.getByTestId("keys").locator("tr", { hasText: keys[1].slice(0, 10) })).toContainText("active");
  const call = (key: string) => request.post("/v1/sdk/execute", { headers: { authorization: `Bearer ${key}` }, data: { connector: "okta", operation: "users:read", params: {} } });
  expect((await call(keys[0])).status()).toBe(401);
  expect((await call(keys[1])).status()).not.toBe(401);
});
