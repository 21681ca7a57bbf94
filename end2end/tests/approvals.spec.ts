import { test, expect } from "@playwright/test";
import { signIn, execute } from "./demo";
import type { APIRequestContext } from "@playwright/test";

/** The remediation agent asks for 15 minutes of storage account updates on `account`; the approval id. */
async function askGrant(request: APIRequestContext, account: string): Promise<string> {
  const { demo } = await import("./demo");
  const key = demo.agents.find((a: { name: string }) => a.name === "remediation-agent").api_key;
  const asked = await request.post("/v1/sdk/grants", {
    headers: { authorization: `Bearer ${key}` },
    data: { connector: "azure", operations: ["storage_accounts:update"], ttl: "15m", wait_seconds: 0,
            reason: `fix public access on ${account}`, resource: { param: "account", value: account } },
  });
  expect(asked.status()).toBe(202);
  return (await asked.json()).approval_id;
}

test("a reviewer opens a pending containment, sees the diff, approves, and the waiting agent gets the result", async ({ page, request }, info) => {
  const host = `host-${info.project.name}-${Date.now()}`;
  // The agent's call blocks (up to 20 s) until the reviewer decides: a real HTTP client.
  const waiting = execute(request, "remediation-agent", {
    connector: "crowdstrike", operation: "hosts:write", wait_seconds: 20,
    params: { action_name: "contain", ids: [host] },
    session_context: { reasoning: `beaconing from ${host}` },
  });

  await signIn(page, "reviewer");
  // Reviewers see the queue on the home page.
  await expect(page.getByTestId("approval-queue").first()).toBeVisible();
  await page.goto("/approvals?sort=newest");
  const row = page.locator("tr[data-approval]").first();
  await expect(row).toContainText("crowdstrike.hosts:write");
  await expect(row.getByTestId("countdown")).toHaveText(/^in \d+ min$/);
  await row.getByRole("link", { name: "Review" }).click();

  await expect(page.locator("blockquote.reasoning")).toHaveText(`beaconing from ${host}`);
  const diff = page.getByTestId("state-diff");
  await expect(diff).toContainText(`${host} · status`);
  await expect(diff.locator("tr.changed")).toContainText("normal");
  await expect(diff.locator("tr.changed")).toContainText("contained");
  await expect(page.getByTestId("params")).toContainText(host);

  await page.getByLabel("Comment (recorded in the audit trail)").fill("confirmed C2 beaconing");
  await page.getByRole("button", { name: "Approve and run" }).click();
  await expect(page.getByRole("status")).toContainText("Approved. ARX ran the call");
  await expect(page.getByTestId("approval")).toHaveAttribute("data-status", "executed");

  const answer = await waiting;
  expect(answer.status()).toBe(200);
  const body = await answer.json();
  expect(body.verdict).toBe("PERMIT");
  expect(body.result.resources[0].id).toBe(host);
});

test("the history lists decided requests with who decided", async ({ page, request }) => {
  const r = await execute(request, "remediation-agent", {
    connector: "crowdstrike", operation: "hosts:write", params: { action_name: "lift_containment", ids: ["h-history"] },
  });
  expect(r.status()).toBe(202);
  await signIn(page, "reviewer");
  await page.goto("/approvals?sort=newest");
  await page.locator("tr[data-approval]").first().getByRole("link", { name: "Review" }).click();
  await page.getByLabel("Comment (recorded in the audit trail)").fill("not during business hours");
  await page.getByRole("button", { name: "Deny" }).click();
  await expect(page.getByTestId("approval")).toHaveAttribute("data-status", "denied");
  await page.goto("/approvals?view=history");
  await expect(page.locator("tr[data-approval]").filter({ hasText: "denied" }).first()).toContainText("reviewer@demo.arx.local");
});

test("an active grant shows its time left, and an admin revokes it", async ({ page, request }, info) => {
  const { demo } = await import("./demo");
  const account = `acct${info.project.name}`;
  const approval_id = await askGrant(request, account);
  const approved = await request.post(`/v1/admin/approvals/${approval_id}/approve`, {
    headers: { authorization: `Bearer ${demo.admin_token}` }, data: { comment: "ok for 15 minutes" },
  });
  expect(approved.status()).toBe(200);

  await signIn(page);
  await page.getByRole("link", { name: "Grants", exact: true }).click();
  const row = page.locator("tr[data-grant]").filter({ hasText: `only account = ${account}` });
  await expect(row).toHaveAttribute("data-status", "active");
  await expect(row).toContainText(/ends in 1[45] min \(of 15m\)/);
  await row.getByRole("button", { name: "Revoke" }).click();
  await expect(page.getByRole("status")).toContainText("revoked");
  await expect(page.locator("tr[data-grant]").filter({ hasText: `only account = ${account}` })).toHaveAttribute("data-status", "revoked");
});

test("on a phone, a reviewer sees a grant's whole scope, approves it, and reads what happened in words", async ({ page, request }, info) => {
  const account = `phone${info.project.name}`;
  const approval_id = await askGrant(request, account);

  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, "reviewer");
  await page.goto(`/approvals/view?id=${approval_id}`);
  const scope = page.getByTestId("grant-scope");
  await expect(scope).toContainText("connector: azure");
  await expect(scope).toContainText("operations (1): storage_accounts:update");
  await expect(scope).toContainText(`resource: only where account = "${account}"`);
  await expect(scope).toContainText("for: 15m");
  await expect(scope).toContainText("risk of each call there: storage_accounts:update 68/100");
  await expect(scope).toContainText("(written by the agent)");
  await expect(page.getByTestId("outcome-words")).toContainText("Waiting for a decision");
  // Nothing is wider than the phone's screen.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await page.screenshot({ path: `test-results/approval-phone-${info.project.name}.png`, fullPage: true });

  await page.getByLabel("Comment (recorded in the audit trail)").fill("15 minutes on that account");
  await page.getByRole("button", { name: "Approve and run" }).click();
  await expect(page.getByTestId("approval")).toHaveAttribute("data-status", "executed");
  await expect(page.getByTestId("outcome-words")).toContainText("Approved by reviewer@demo.arx.local at");
  await expect(page.getByTestId("outcome-words")).toContainText("The grant is active until");
  await expect(page.getByTestId("outcome")).toBeHidden();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
});
