import { test, expect } from "@playwright/test";
import { demo, signIn, execute, expectHydration } from "./demo";

test("signed-out visitors are sent to sign-in, and a wrong password says so", async ({ page }) => {
  await page.goto("/agents");
  await expect(page).toHaveURL(/\/login$/);
  await page.getByLabel("Email").fill(demo.admin_email);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText("email or password is wrong");
});

test("an admin signs in, sees the overview, and signs out", async ({ page }, info) => {
  await signIn(page);
  await expectHydration(page, info.project.use.javaScriptEnabled !== false);
  await expect(page.getByTestId("user")).toHaveText(demo.admin_email);
  await expect(page.getByText("connector instances")).toBeVisible();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
});

test("the agents page lists the demo agents; an admin registers one and issues its key once", async ({ page }, info) => {
  await signIn(page);
  await page.getByRole("link", { name: "Agents", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Agents" })).toBeVisible();
  await expect(page.locator("tr[data-agent=triage-agent]")).toBeVisible();
  await expect(page.locator("tr[data-agent=remediation-agent]")).toBeVisible();

  const name = `e2e-${info.project.name}-agent`;
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Owner email").fill("secops-lead@demo.arx.local");
  await page.getByLabel("Labels").fill("env:dev, team:qa");
  await page.getByRole("button", { name: "Create agent" }).click();
  await expect(page.getByRole("status")).toContainText(`Agent ${name} created`);
  const row = page.locator(`tr[data-agent=${name}]`);
  await expect(row).toContainText("env:dev");

  // A new key asks for a confirmation first.
  await row.getByLabel("one more credential that acts as this agent").check();
  await row.getByRole("button", { name: "Issue key" }).click();
  await expect(page.getByTestId("new-secret")).toHaveText(/^arx_/);
  await page.reload();
  await expect(page.getByTestId("new-secret")).toHaveCount(0);
  await expect(page.locator(`tr[data-agent=${name}] td.num`).nth(1)).toHaveText("1");

  // A bad form input comes back as a clear message, not an error page.
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Owner email").fill("secops-lead@demo.arx.local");
  await page.getByRole("button", { name: "Create agent" }).click();
  // By the form, which keeps what was typed.
  await expect(page.locator("form .flash-error")).toContainText("exists");
  await expect(page.getByLabel("Owner email")).toHaveValue("secops-lead@demo.arx.local");
});

test("the audit trail shows a PERMIT, an ESCALATE and a DENY with risk and hash", async ({ page, request }) => {
  expect((await execute(request, "triage-agent", { connector: "crowdstrike", operation: "detections:read", params: { limit: 5 } })).status()).toBe(200);
  expect((await execute(request, "remediation-agent", { connector: "crowdstrike", operation: "hosts:write", params: { action_name: "contain", ids: ["host_abc123"] } })).status()).toBe(202);
  expect((await execute(request, "triage-agent", { connector: "crowdstrike", operation: "rtr:command_admin", params: { session_id: "s", base_command: "runscript", command_string: "runscript" } })).status()).toBe(403);

  await signIn(page);
  await page.getByRole("link", { name: "Audit trail", exact: true }).click();
  const intercepts = page.locator('tr[data-kind="execute.intercept"]');
  for (const verdict of ["PERMIT", "ESCALATE", "DENY"]) {
    await expect(intercepts.filter({ hasText: verdict }).first()).toBeVisible();
  }
  await expect(intercepts.first().locator(".hash")).toHaveText(/^[0-9a-f]{12}…$/);
  await expect(intercepts.first().locator(".risk-num")).toHaveText(/^\d+$/);
  // Opening a record shows its fields, without JavaScript too (a <details> element).
  await intercepts.first().locator("summary").click();
  await expect(intercepts.first().locator("pre.fields")).toContainText('"risk"');

  await page.getByRole("link", { name: "Approvals" }).click();
  await expect(page.getByRole("cell", { name: "hosts:write" }).first()).toBeVisible();
});

test("every area is reachable, and the ones not built yet say so", async ({ page }) => {
  await signIn(page);
  await page.getByRole("link", { name: "LLM router", exact: true }).click();
  await expect(page.getByRole("heading", { name: "LLM router" })).toBeVisible();
  await expect(page.getByText("not built yet")).toBeVisible();
  await page.getByRole("link", { name: "SSO & SCIM", exact: true }).click();
  await expect(page.getByRole("heading", { name: "SSO & SCIM" })).toBeVisible();
  await expect(page.getByText("not built yet")).toHaveCount(0);
  await page.getByRole("link", { name: "Connectors" }).click();
  await expect(page.getByText("CrowdStrike Falcon")).toBeVisible();
  await page.getByRole("link", { name: "Drift", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Drift" })).toBeVisible();
  await expect(page.getByText("not built yet")).toHaveCount(0);
});

test("an admin turns a signed webhook on and off; its secret is never shown again", async ({ page }, info) => {
  const secret = `whsec-${info.project.name}-do-not-show`;
  await signIn(page);
  await page.getByRole("link", { name: "Integrations", exact: true }).click();
  const card = page.locator('[data-integration="webhook"]');
  await card.getByLabel("URL").fill("http://127.0.0.1:9/arx-hook");
  await card.getByLabel("Signing secret").fill(secret);
  await card.getByRole("button", { name: /Turn on|Replace/ }).click();
  await expect(page.getByRole("status")).toContainText("webhook is set");
  await expect(page.locator('[data-integration="webhook"]')).toContainText("set (hidden)");
  await expect(page.locator("body")).not.toContainText(secret);
  await page.reload();
  expect(await page.content()).not.toContain(secret);
  await page.locator('[data-integration="webhook"]').getByRole("button", { name: "Turn off" }).click();
  await expect(page.getByRole("status")).toContainText("webhook removed");
});

test("an admin links a reviewer's Slack member id; a malformed id says where to find one", async ({ page }) => {
  await signIn(page);
  await page.getByRole("link", { name: "Integrations", exact: true }).click();
  const row = () => page.locator('#slack-members tr[data-user="reviewer@demo.arx.local"]');
  const input = () => row().getByLabel("Slack member id of reviewer@demo.arx.local");
  await input().fill("reviewer");
  await row().getByRole("button", { name: "Save" }).click();
  // In that user's row, by the id, which keeps what was typed.
  await expect(row().locator(".field-error")).toContainText("Copy member ID");
  await expect(input()).toHaveValue("reviewer");
  await expect(input()).toHaveAttribute("aria-invalid", "true");
  await input().fill("U0REVIEW1");
  await row().getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status")).toContainText("U0REVIEW1 now decides as reviewer@demo.arx.local");
  await page.reload();
  await expect(input()).toHaveValue("U0REVIEW1");
  await input().fill("");
  await row().getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status")).toContainText("no longer linked");
  await page.reload();
  await expect(input()).toHaveValue("");
});
