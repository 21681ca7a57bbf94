import { test, expect } from "@playwright/test";
import { signIn, execute } from "./demo";

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
  await page.goto("/drift?status=acknowledged");
  const seen = page.locator('tr[data-severity="high"]').filter({ hasText: "enrichment-agent" });
  await expect(seen).toContainText("by admin@demo.arx.local");
  await seen.getByLabel("Note to Resolve").fill("owner confirmed a bug in its prompt");
  await seen.getByRole("button", { name: "Resolve" }).click();
  await page.goto("/drift?status=resolved");
  await expect(page.locator('tr[data-severity="high"]').filter({ hasText: "owner confirmed a bug" }).first()).toBeVisible();
  await page.goto("/drift");
  await page.locator('tr[data-severity="low"]').filter({ hasText: "okta:users:get" }).getByRole("button", { name: "Resolve" }).click();
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
  await expect(page.locator('tr[data-agent="enrichment-agent"]')).toHaveCount(0);
  await expect(page.getByTestId("groups")).toContainText("team:soc · 1");
  await expect(page.getByTestId("groups")).toContainText("team:ir · 1");

  await page.goto("/agents?selector=" + encodeURIComponent("team in (soc"));
  await expect(page.locator(".flash-error")).toContainText("the selector: expected ',' or ')' at position 12");
});
