// The demo's sign-in details and agent keys, written by `arx serve --demo`.
import { readFileSync } from "node:fs";
import { expect, type Page, type APIRequestContext } from "@playwright/test";

export const demo = JSON.parse(readFileSync(process.env.ARX_E2E_DEMO!, "utf8"));

export async function signIn(page: Page, who: "admin" | "reviewer" | "auditor" = "admin") {
  await page.goto("/login");
  await page.getByLabel("Email").fill(demo[`${who}_email`]);
  await page.getByLabel("Password").fill(demo[`${who}_password`]);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
}

export async function execute(request: APIRequestContext, agent: string, body: object) {
  const key = demo.agents.find((a: { name: string }) => a.name === agent).api_key;
  // Escalations answer at once (202) unless the body asks to wait.
  return request.post("/v1/sdk/execute", { headers: { authorization: `Bearer ${key}` }, data: { wait_seconds: 0, ...body } });
}

/** With JavaScript on, the page must have hydrated; with it off, it must not have. */
export async function expectHydration(page: Page, javaScriptEnabled: boolean) {
  if (javaScriptEnabled) {
    await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  } else {
    await expect(page.locator("body")).not.toHaveAttribute("data-hydrated", "true");
  }
}
