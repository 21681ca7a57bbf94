import { test, expect } from "@playwright/test";
import { signIn, demo } from "./demo";

// Roles follow groups at the next click, and a deactivated user's open browser is signed
// out at its next click. Uses the demo's CISO (an auditor with no groups or tokens), and
// puts everything back, so the run can repeat.
test("a group mapping changes a signed-in user's role, and deactivation ends their live session", async ({ page, browser }, info) => {
  const javaScriptEnabled = info.project.use.javaScriptEnabled !== false;
  const ciso = await browser.newContext({ baseURL: process.env.ARX_E2E_URL, javaScriptEnabled });
  const cisoPage = await ciso.newPage();
  await signIn(cisoPage, "auditor");
  await cisoPage.goto("/agents");
  await expect(cisoPage.locator(".badge.role")).toHaveText("auditor");

  // The admin maps a group to the reviewer role and puts the CISO in it.
  await signIn(page, "admin");
  await page.getByRole("link", { name: "SSO & SCIM" }).click();
  await expect(page.getByTestId("sso-status")).toContainText("SAML 2.0");
  await page.getByLabel("Group (exactly as the directory names it)").fill("Board Reporting/Leads");
  await page.getByLabel("Role").selectOption("reviewer");
  await page.getByLabel("Approver groups (comma-separated)").fill("board");
  await page.getByRole("button", { name: "Save mapping" }).click();
  await expect(page.getByRole("status")).toContainText("get what it maps to");
  const mapped = page.locator('tr[data-group="Board Reporting/Leads"]');
  await expect(mapped).toContainText("reviewer");
  await expect(mapped).toContainText("board");

  await page.getByRole("navigation").getByRole("link", { name: "Users" }).click();
  await page.getByLabel("User's email").fill(demo.auditor_email);
  await page.getByLabel("Groups (comma-separated; empty removes all)").fill("Board Reporting/Leads");
  await page.getByRole("button", { name: "Set groups" }).click();
  await expect(page.getByRole("status")).toContainText("their rights follow at their next request");
  const row = page.locator(`tr[data-user="${demo.auditor_email}"]`);
  await expect(row).toContainText("reviewer, auditor");
  await expect(row).toContainText("Board Reporting/Leads (local) → reviewer, approves for board");
  // Live sessions: at least the CISO's open browser (other tests may have left more).
  const sessions = row.locator("td").nth(6);
  await expect(sessions).toHaveText(/^[1-9]\d*$/);
  const admin = page.locator(`tr[data-user="${demo.admin_email}"]`);
  await expect(admin).toContainText("break-glass");

  // The CISO's next page has the mapped role, without signing in again.
  await cisoPage.getByRole("link", { name: "Drift", exact: true }).click();
  await expect(cisoPage.locator(".badge.role")).toHaveText("reviewer, auditor");

  // Deactivated: the CISO's next click lands on the sign-in page.
  await row.getByRole("button", { name: `Deactivate ${demo.auditor_email}` }).click();
  await expect(page.getByRole("status")).toContainText("is deactivated");
  await expect(row).toHaveAttribute("data-status", "deactivated");
  await expect(row).toContainText("none");
  await expect(sessions).toHaveText("0");
  await cisoPage.getByRole("link", { name: "Agents", exact: true }).click();
  await expect(cisoPage).toHaveURL(/\/login/);
  await ciso.close();

  // Put it back: active again (with no groups), the mapping removed.
  await row.getByRole("button", { name: `Reactivate ${demo.auditor_email}` }).click();
  await expect(row).toHaveAttribute("data-status", "active");
  await expect(row).toContainText("auditor");
  await page.getByRole("link", { name: "SSO & SCIM" }).click();
  await mapped.getByRole("button", { name: "Remove the mapping of Board Reporting/Leads" }).click();
  await expect(page.getByRole("status")).toContainText("is removed");
  await expect(mapped).toHaveCount(0);

  // The admin's own sign-in is the break-glass account's: the Overview shows it.
  await page.getByRole("link", { name: "Overview" }).click();
  await expect(page.getByTestId("break-glass")).toContainText(demo.admin_email);
  await expect(page.getByTestId("break-glass")).toContainText("in the last 30 days; last at");
  await expect(page.getByTestId("my-sessions")).toHaveCount(0);
});

test("a user sees their own sessions and ends one", async ({ page, browser }, info) => {
  const javaScriptEnabled = info.project.use.javaScriptEnabled !== false;
  const other = await browser.newContext({ baseURL: process.env.ARX_E2E_URL, javaScriptEnabled });
  const otherPage = await other.newPage();
  await signIn(otherPage, "reviewer");
  await signIn(page, "reviewer");
  await page.goto("/settings/identity");
  const sessions = page.getByTestId("my-sessions").locator("tbody tr");
  expect(await sessions.count()).toBeGreaterThanOrEqual(2);
  // This browser's session is marked, and ends with Sign out rather than End.
  const mine = page.getByTestId("my-sessions").locator('tbody tr[data-current="true"]');
  await expect(mine).toHaveCount(1);
  await expect(mine).toContainText("this browser");
  await expect(mine.getByRole("button", { name: /End session/ })).toHaveCount(0);
  // End every session but this one; this one stays signed in.
  const others = page.getByTestId("my-sessions").locator('tbody tr[data-current="false"]');
  for (let n = await sessions.count(); n > 1; n--) {
    await others.last().getByRole("button", { name: /End session/ }).click();
    await expect(page.getByRole("status")).toContainText("Session ended");
    await expect(sessions).toHaveCount(n - 1);
  }
  await otherPage.getByRole("link", { name: "Agents", exact: true }).click();
  await expect(otherPage).toHaveURL(/\/login/);
  await page.getByRole("link", { name: "Agents", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Agents" })).toBeVisible();
  await other.close();
});

// SCIM: an admin creates a directory's token on the console (shown once); the directory
// deactivates a signed-in reviewer with Entra ID's PATCH, and the reviewer's next click
// goes to the sign-in page. Put back afterwards (reactivated, approver groups restored,
// the token revoked), so the run can repeat.
test("a SCIM deactivation ends a live browser session, and a revoked SCIM token stops", async ({ page, browser, request }, info) => {
  const javaScriptEnabled = info.project.use.javaScriptEnabled !== false;
  const reviewerContext = await browser.newContext({ baseURL: process.env.ARX_E2E_URL, javaScriptEnabled });
  const reviewer = await reviewerContext.newPage();
  await signIn(reviewer, "reviewer");

  await signIn(page, "admin");
  await page.goto("/settings/identity");
  await expect(page.getByTestId("sso-status")).toContainText("provisioning over SCIM 2.0");
  const base = await page.getByTestId("scim-base").textContent();
  expect(base).toMatch(/\/scim\/v2$/);
  const name = `e2e directory ${info.project.name} ${Date.now()}`;
  await page.getByLabel("New token for (the directory that will hold it)").fill(name);
  await page.getByRole("button", { name: "Create SCIM token" }).click();
  await expect(page.getByRole("status")).toContainText("shown only once");
  await expect(page.getByRole("status")).toContainText(`${base}`);
  const secret = (await page.getByTestId("new-secret").textContent())!;
  expect(secret).toMatch(/^arxs_/);
  const row = page.locator(`tr[data-scim-token="${name}"]`);
  await expect(row).toContainText("never");
  await expect(row).not.toContainText(secret);

  // The directory finds the reviewer and deactivates them (Entra ID's shape).
  const scim = { authorization: `Bearer ${secret}`, "content-type": "application/scim+json" };
  const filter = encodeURIComponent(`userName eq "${demo.reviewer_email}"`);
  const found = await (await request.get(`/scim/v2/Users?filter=${filter}`, { headers: scim })).json();
  expect(found.totalResults).toBe(1);
  const id = found.Resources[0].id;
  const patch = (active: string) => ({
    schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    Operations: [{ op: "Replace", path: "active", value: active }],
  });
  const off = await request.patch(`/scim/v2/Users/${id}`, { headers: scim, data: patch("False") });
  expect(off.status()).toBe(200);
  expect((await off.json()).active).toBe(false);

  // The reviewer's next click: the sign-in page.
  await reviewer.getByRole("link", { name: "Agents", exact: true }).click();
  await expect(reviewer).toHaveURL(/\/login/);
  await reviewerContext.close();
  await page.goto("/settings/users");
  await expect(page.locator(`tr[data-user="${demo.reviewer_email}"]`)).toHaveAttribute("data-status", "deactivated");

  // Back on, as the demo had them.
  const on = await request.patch(`/scim/v2/Users/${id}`, { headers: scim, data: patch("True") });
  expect(on.status()).toBe(200);
  const admin = { authorization: `Bearer ${demo.admin_token}` };
  const groups = await request.put(`/v1/admin/users/${id}/groups`, { headers: admin, data: { groups: ["secops-leads", "ir-leads"] } });
  expect(groups.status()).toBe(200);

  // Revoked on the console: the directory's next request is refused.
  await page.goto("/settings/identity");
  await expect(row).not.toContainText("never");
  await row.getByRole("button", { name: `Revoke the SCIM token ${name}` }).click();
  await expect(page.getByRole("status")).toContainText("is revoked");
  await expect(row).toContainText("revoked");
  const refused = await request.get(`/scim/v2/Users`, { headers: scim });
  expect(refused.status()).toBe(401);
});
