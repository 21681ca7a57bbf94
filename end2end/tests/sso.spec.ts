import { test, expect } from "@playwright/test";
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { signIn, demo } from "./demo";

// OIDC sign-in in a real browser, through a real OpenID Provider (panva's oidc-provider,
// peers/oidc-op.mjs) on another site ("localhost", where ARX is "127.0.0.1"): the admin sets
// it up on the console, runs a test sign-in, and a user signs in with the SSO button and
// lands on the console with the role their group is mapped to.

let op: ChildProcess | undefined;
let issuer = "";

async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, "127.0.0.1", () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
    });
    const next = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(false));
      s.listen(port + 1, "127.0.0.1", () => s.close(() => resolve(true)));
    });
    if (next) return port;
  }
}

test.beforeAll(async () => {
  const port = await freePort();
  issuer = `http://localhost:${port}`;
  const redirect = `${process.env.ARX_E2E_URL}/auth/oidc/callback`;
  op = spawn("node", ["peers/oidc-op.mjs", String(port), "arx-e2e", "e2e-secret-e2e-secret", redirect], {
    env: { ...process.env, OP_HOST: "localhost" }, stdio: "ignore",
  });
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(`${issuer}/.well-known/openid-configuration`)).ok) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the OpenID Provider did not start");
});

test.afterAll(async () => { op?.kill(); });

test("an admin sets up OIDC and tests it; a user signs in with the SSO button and gets their group's role", async ({ page, browser, request }, info) => {
  const javaScriptEnabled = info.project.use.javaScriptEnabled !== false;
  const admin = { authorization: `Bearer ${demo.admin_token}` };
  expect((await request.put("/v1/admin/group-mappings", { headers: admin,
    data: { group: "arx-reviewers", role: "reviewer", approver_groups: ["secops-leads"] } })).status()).toBe(200);

  await signIn(page, "admin");
  await page.goto("/settings/identity");
  const card = page.getByTestId("oidc");
  await expect(card.getByTestId("oidc-redirect")).toHaveText(`${process.env.ARX_E2E_URL}/auth/oidc/callback`);
  await card.getByLabel("Issuer").fill(issuer);
  await card.getByLabel("Client id").fill("arx-e2e");
  await card.getByLabel(/^Client secret/).fill("e2e-secret-e2e-secret");
  await card.getByLabel("Scopes (space-separated)").fill("openid email profile groups");
  await card.getByLabel("Sign-in through this provider is on").check();
  await card.getByRole("button", { name: "Save OIDC settings" }).click();
  await expect(page.getByRole("status")).toContainText("OIDC sign-in is on");
  await expect(card.getByLabel(/^Client secret/)).toHaveValue("");
  await expect(card).toContainText("stored; leave empty to keep it");

  // A test sign-in reports who would sign in, and signs nobody in.
  await card.getByTestId("oidc-test").click();
  await page.locator("input[name=login]").fill("bob");
  await page.locator("input[name=password]").fill("anything");
  await page.locator("button[type=submit]").click();
  await expect(page.getByRole("heading", { name: "Test sign-in passed" })).toBeVisible();
  const report = page.getByTestId("sso-test");
  await expect(report).toContainText("bob@example.com");
  await expect(report).toContainText("arx-reviewers → reviewer, approves for secops-leads");

  // Bob, in a browser of his own, signs in with the button on the sign-in page.
  const bobContext = await browser.newContext({ baseURL: process.env.ARX_E2E_URL, javaScriptEnabled });
  const bob = await bobContext.newPage();
  await bob.goto("/login");
  await bob.getByTestId("sso-button").click();
  await bob.locator("input[name=login]").fill("bob");
  await bob.locator("input[name=password]").fill("anything");
  await bob.locator("button[type=submit]").click();
  await expect(bob.getByRole("heading", { name: "Overview" })).toBeVisible();
  await expect(bob.locator(".badge.role")).toHaveText("reviewer");
  await bob.goto("/approvals");
  await expect(bob.getByRole("heading", { name: "Approvals" })).toBeVisible();
  await bobContext.close();

  // A callback from nowhere: a clear refusal page.
  await page.goto("/auth/oidc/callback?state=forged&code=forged");
  await expect(page.getByRole("heading", { name: "Sign-in refused" })).toBeVisible();
  await expect(page.locator("[data-reason]")).toHaveAttribute("data-reason", "state_mismatch");

  // Off again, so other tests meet the plain sign-in page.
  const off = await request.put("/v1/admin/sso/oidc", { headers: admin,
    data: { enabled: false, issuer, client_id: "arx-e2e" } });
  expect(off.status()).toBe(200);
});
