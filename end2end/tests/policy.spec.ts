import { test, expect, type Page } from "@playwright/test";
import { signIn, execute } from "./demo";

const close = (ids: string[]) => ({
  connector: "servicenow", operation: "changes:close",
  params: { change_ids: ids, close_code: "successful", close_notes: "patched" },
});

async function fillSeedRule(page: Page, id: string, condition: string) {
  await page.getByLabel("Id", { exact: true }).fill(id);
  await page.getByLabel("Name", { exact: true }).fill("ServiceNow change close over more than one ticket");
  await page.getByLabel("Connectors (globs, comma-separated)").fill("servicenow");
  await page.getByLabel("Operations (globs)").fill("changes:close");
  await page.getByLabel("Approver groups").fill("secops-leads");
  await page.getByLabel("Timeout (silence means no)").fill("4h");
  await page.getByLabel("show the payload diff to the approver").check();
  await page.getByLabel("If (a CEL condition; optional)").fill(condition);
  await page.getByLabel("Why this change (kept in the audit trail)").fill("the seeds' example rule");
}

test("an admin writes the seeds' example rule in the console; two changes escalate, one is permitted", async ({ page, request }, info) => {
  const js = info.project.use.javaScriptEnabled !== false;
  const id = `close-over-one-${info.project.name}`;
  await signIn(page);
  await page.getByRole("link", { name: "Policies", exact: true }).click();
  await page.getByRole("link", { name: "New rule" }).click();
  await expect(page.getByRole("heading", { name: "New rule" })).toBeVisible();

  await fillSeedRule(page, id, "size(payload.change_ids) >");
  if (js) {
    // Checked on the server as the admin types, before anything is saved.
    await expect(page.getByTestId("validation")).toContainText("if is not valid CEL at line 1, column");
    await page.getByLabel("If (a CEL condition; optional)").fill("size(payload.change_ids) > 1");
    await expect(page.getByTestId("validation")).toHaveText("✓ The rule compiles.");
  } else {
    // Without JavaScript the server refuses the post and says why.
    await page.getByRole("button", { name: "Save rule" }).click();
    await expect(page.locator("#form-condition-error")).toContainText("if is not valid CEL at line 1");
    // Everything typed is still there (text, checkboxes); only the condition needs fixing.
    await expect(page.getByLabel("Id", { exact: true })).toHaveValue(id);
    await expect(page.getByLabel("show the payload diff to the approver")).toBeChecked();
    await expect(page.getByLabel("Why this change (kept in the audit trail)")).toHaveValue("the seeds' example rule");
    await page.getByLabel("If (a CEL condition; optional)").fill("size(payload.change_ids) > 1");
  }
  await page.getByRole("button", { name: "Save rule" }).click();
  await expect(page).toHaveURL(/\/policies\?saved=\d+$/);
  const row = page.locator(`tr[data-rule="${id}"]`);
  await expect(row).toContainText("ESCALATE");
  await expect(row).toContainText("secops-leads, 1 approval(s), within 4h, diff shown");

  expect((await execute(request, "remediation-agent", close(["c1", "c2"]))).status()).toBe(202);
  expect((await execute(request, "remediation-agent", close(["c3"]))).status()).toBe(200);
});

test("simulating a stricter draft lists the calls whose verdict would change, linked to the audit trail", async ({ page, request }, info) => {
  expect((await execute(request, "triage-agent", { connector: "okta", operation: "users:read", params: {} })).status()).toBe(200);
  await signIn(page);
  await page.goto("/policies/simulate");
  const draft = page.locator("textarea[name=yaml]");
  const current = await draft.inputValue();
  // Exported YAML lists rules at column 0.
  const extra = `- id: no-okta-reads-${info.project.name}\n  priority: 1\n  when: okta.users:read\n  then: DENY\n`;
  await draft.fill(current.includes("rules: []") ? current.replace("rules: []", "rules:\n" + extra) : current + extra);
  await page.getByRole("button", { name: "Run simulation" }).click();
  await expect(page).toHaveURL(/\/policies\/simulate\?id=/);
  const sim = page.getByTestId("simulation");
  for (let i = 0; i < 20 && (await sim.getAttribute("data-status")) === "running"; i++) {
    if (info.project.use.javaScriptEnabled === false) await page.reload();
    else await page.waitForTimeout(300);
  }
  await expect(sim).toHaveAttribute("data-status", "done");
  const changed = page.getByTestId("sim-changed").locator("tbody tr").filter({ hasText: "okta.users:read" });
  await expect(changed.first()).toContainText("DENY");
  await expect(page.getByTestId("sim-rules")).toContainText(`no-okta-reads-${info.project.name}`);
  // Nothing was enforced: the same call is still permitted.
  expect((await execute(request, "triage-agent", { connector: "okta", operation: "users:read", params: {} })).status()).toBe(200);
  await changed.first().getByRole("link").click();
  await expect(page).toHaveURL(/\/audit\?before=\d+#seq-\d+$/);
  await expect(page.locator('tr[data-kind="execute.intercept"]').first()).toContainText("users:read");
});

test("versions show who changed what, diff any two, and roll back as a new version", async ({ page }) => {
  await signIn(page);
  await page.goto("/policies/versions");
  const newest = page.locator("tr[data-version]").first();
  await expect(newest).toContainText("in force");
  await newest.getByRole("link", { name: "Diff" }).click();
  await expect(page.getByTestId("diff")).toContainText("+ ");
  const before = Number(await page.locator("tr[data-version]").first().getAttribute("data-version"));
  await page.locator("tr[data-version]").nth(1).getByLabel(/Why roll back to v/).fill("the change was a mistake");
  await page.locator("tr[data-version]").nth(1).getByRole("button", { name: /Roll back to v/ }).click();
  await expect(page.getByRole("status")).toContainText(`Rolled back: version ${before + 1}`);
  await expect(page.locator("tr[data-version]").first()).toHaveAttribute("data-version", String(before + 1));
  await expect(page.locator("tr[data-version]").first()).toContainText("roll back to version");
});
