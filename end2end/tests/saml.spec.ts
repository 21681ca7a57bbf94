import { test, expect, type Page } from "@playwright/test";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signIn, demo } from "./demo";

// SAML sign-in in a real browser, through a real identity provider (pysaml2 signing with
// xmlsec1, peers/saml-idp.py) on another site ("localhost", where ARX is "127.0.0.1"): the
// admin gives the IdP ARX's metadata and ARX the IdP's, runs a test sign-in, and a user
// signs in with the SSO button (the IdP's page posts the signed answer across sites to the
// ACS) and lands on the console with the role their group is mapped to.

let idp: ChildProcess | undefined;
let idpUrl = "";
let dir = "";

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
  });
}

test.beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "arx-e2e-saml-"));
  const md = await fetch(`${process.env.ARX_E2E_URL}/saml/metadata?org=demo`);
  expect(md.status).toBe(200);
  writeFileSync(join(dir, "sp.xml"), await md.text());
  const port = await freePort();
  idpUrl = `http://localhost:${port}`;
  idp = spawn("../target/peers-venv/bin/python", ["peers/saml-idp.py", String(port), join(dir, "sp.xml"), join(dir, "keys"), idpUrl], {
    env: { ...process.env, PYTHONWARNINGS: "ignore" }, stdio: "ignore",
  });
  for (let i = 0; i < 150; i++) {
    try { if ((await fetch(`http://127.0.0.1:${port}/metadata`)).ok) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the SAML IdP did not start (scripts/setup.sh --e2e installs pysaml2)");
});

test.afterAll(async () => { idp?.kill(); if (dir) rmSync(dir, { recursive: true, force: true }); });

/** Signs `user` in at the IdP; without JavaScript its auto-posting page needs a click. */
async function atIdp(page: Page, user: string, javaScriptEnabled: boolean) {
  await page.locator("select[name=user]").selectOption(user);
  await page.locator("#login").click();
  if (!javaScriptEnabled) await page.getByRole("button", { name: "Continue" }).click();
}

test("an admin sets up SAML and tests it; a user signs in with the SSO button and gets their group's role", async ({ page, browser, request }, info) => {
  const javaScriptEnabled = info.project.use.javaScriptEnabled !== false;
  const admin = { authorization: `Bearer ${demo.admin_token}` };
  expect((await request.put("/v1/admin/group-mappings", { headers: admin,
    data: { group: "arx-reviewers", role: "reviewer", approver_groups: ["secops-leads"] } })).status()).toBe(200);

  await signIn(page, "admin");
  await page.goto("/settings/identity");
  const card = page.getByTestId("saml");
  await expect(card.getByTestId("saml-sp-metadata")).toHaveText(`${process.env.ARX_E2E_URL}/saml/metadata?org=demo`);
  await expect(card.getByTestId("saml-acs")).toHaveText(`${process.env.ARX_E2E_URL}/saml/acs`);

  // Metadata without a signing certificate: refused, saying why, what was typed kept.
  const unsigned = (await (await fetch(`${idpUrl.replace("localhost", "127.0.0.1")}/metadata`)).text())
    .replace(/<[^>]*KeyDescriptor[\s\S]*?<\/[^>]*KeyDescriptor>/, "");
  await card.getByLabel("IdP metadata URL (https)").fill("");
  await card.getByLabel("…or the IdP metadata XML").fill(unsigned);
  await card.getByRole("button", { name: "Save SAML settings" }).click();
  await expect(page.getByTestId("saml")).toContainText("no signing certificate");

  await card.getByLabel("…or the IdP metadata XML").fill("");
  await card.getByLabel("IdP metadata URL (https)").fill(`${idpUrl}/metadata`);
  await card.getByLabel("Sign-in through this IdP is on").check();
  await card.getByRole("button", { name: "Save SAML settings" }).click();
  await expect(page.getByRole("status")).toContainText("SAML sign-in through https://idp.arx.test/saml is on");
  await expect(card.getByTestId("saml-idp")).toContainText("https://idp.arx.test/saml");
  await expect(card.getByTestId("saml-idp")).toContainText(/([0-9A-F]{2}:){31}[0-9A-F]{2}/);

  // A test sign-in reports who would sign in, and signs nobody in.
  await card.getByTestId("saml-test").click();
  await atIdp(page, "bob", javaScriptEnabled);
  await expect(page.getByRole("heading", { name: "Test sign-in passed" })).toBeVisible();
  const report = page.getByTestId("sso-test");
  await expect(report).toContainText("bob@example.com");
  await expect(report).toContainText("arx-reviewers → reviewer, approves for secops-leads");
  await expect(page.locator("main")).toContainText("InResponseTo");

  // Bob, in a browser of his own, signs in with the button on the sign-in page.
  const bobContext = await browser.newContext({ baseURL: process.env.ARX_E2E_URL, javaScriptEnabled });
  const bob = await bobContext.newPage();
  await bob.goto("/login");
  await bob.getByTestId("sso-button").click();
  await atIdp(bob, "bob", javaScriptEnabled);
  await expect(bob.getByRole("heading", { name: "Overview" })).toBeVisible();
  await expect(bob.locator(".badge.role")).toHaveText("reviewer");
  await bob.goto("/approvals");
  await expect(bob.getByRole("heading", { name: "Approvals" })).toBeVisible();
  await bobContext.close();

  // An answer from nowhere: a clear refusal page.
  const forged = await request.post("/saml/acs", { form: { SAMLResponse: Buffer.from("<x/>").toString("base64") } });
  expect(forged.status()).toBe(403);
  expect(await forged.text()).toContain('data-reason="');

  // Off again, so other tests meet the plain sign-in page.
  const off = await request.put("/v1/admin/sso/saml", { headers: admin, data: { enabled: false } });
  expect(off.status()).toBe(200);
});
