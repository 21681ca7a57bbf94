import { test, expect } from "@playwright/test";
import { signIn, execute } from "./demo";

test("on a phone, the navigation is a drawer, nothing is clipped and the queue's Review is in reach", async ({ page, request }, info) => {
  const host = `phone-${info.project.name}-${Date.now()}`;
  const asked = await execute(request, "remediation-agent", {
    connector: "crowdstrike", operation: "hosts:write", params: { action_name: "contain", ids: [host] },
  });
  expect(asked.status()).toBe(202);

  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, "reviewer");
  await expect(page).toHaveTitle("Overview · ARX");

  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav).not.toBeInViewport();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeInViewport();
  await page.locator("label.nav-button").click();
  await expect(nav).toBeInViewport();
  await nav.getByRole("link", { name: "Approvals" }).click();
  await expect(page).toHaveTitle("Approvals · ARX");
  await expect(nav).not.toBeInViewport();
  // From the keyboard, the Menu is a checkbox that Space opens and closes.
  await page.getByRole("checkbox", { name: "Menu" }).focus();
  await page.keyboard.press("Space");
  await expect(nav).toBeInViewport();
  await page.keyboard.press("Space");
  await expect(nav).not.toBeInViewport();

  // Headings are dark on light, never on the sidebar's dark.
  const h1 = page.getByRole("heading", { level: 1 });
  const bg = await h1.evaluate((el) => {
    let e: Element | null = el;
    while (e) {
      const c = getComputedStyle(e).backgroundColor;
      if (c !== "rgba(0, 0, 0, 0)" && c !== "transparent") return c;
      e = e.parentElement;
    }
    return "rgb(255, 255, 255)";
  });
  const lightness = bg.match(/\d+/g)!.slice(0, 3).map(Number).reduce((a, b) => a + b, 0) / 3;
  expect(lightness).toBeGreaterThan(200);

  await page.goto("/approvals?sort=newest");
  const review = page.locator("tr[data-approval]").first().getByRole("link", { name: "Review" });
  await review.scrollIntoViewIfNeeded();
  await expect(review).toBeInViewport();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await page.screenshot({ path: `test-results/queue-phone-${info.project.name}.png`, fullPage: true });
  await review.click();
  await expect(page.getByTestId("approval")).toHaveAttribute("data-status", "pending");
  await expect(page.getByTestId("params")).toContainText(host);
  await expect(page).toHaveTitle(/ · ARX$/);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
});

test("a page that does not exist is a 404 inside the console's frame, and the first Tab skips to content", async ({ page }) => {
  await signIn(page, "admin");
  const answer = await page.goto("/no-such-page");
  await page.keyboard.press("Tab");
  const skip = page.getByRole("link", { name: "Skip to content" });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();
  expect(answer!.status()).toBe(404);
  await expect(page).toHaveTitle("Not found · ARX");
  await expect(page.getByRole("heading", { name: "Not found" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Main" })).toBeAttached();
  await page.getByRole("link", { name: "Back to the overview" }).click();
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
});

test.describe("in Zurich", () => {
  test.use({ timezoneId: "Europe/Zurich", locale: "en-GB" });

  test("times are named: UTC in the page, the viewer's zone once it runs, UTC on hover", async ({ page }, info) => {
    await signIn(page, "admin");
    await page.goto("/agents");
    const when = page.locator("td time").first();
    await expect(when).toHaveAttribute("title", /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    await expect(when).toHaveAttribute("datetime", /^\d{4}-\d\d-\d\dT\d\d:\d\dZ$/);
    if (info.project.name === "js") {
      await expect(when).toHaveText(/\d\d:\d\d (CET|CEST|GMT\+1|GMT\+2)$/);
    } else {
      await expect(when).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    }
  });
});

test("a refused form says what to fix by the field, and keeps what was typed", async ({ page }) => {
  await signIn(page, "admin");
  await page.goto("/agents");
  await page.getByLabel("Name").fill("bad name!! <b>x</b>");
  await page.getByLabel("Owner email").fill("secops-lead@demo.arx.local");
  await page.getByLabel("Description").fill("typed by hand");
  await page.getByRole("button", { name: "Create agent" }).click();
  const nameError = page.locator("#name-error");
  await expect(nameError).toContainText("'!' is not allowed");
  await expect(page.getByLabel("Name")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByLabel("Name")).toHaveValue("bad name!! <b>x</b>");
  await expect(page.getByLabel("Owner email")).toHaveValue("secops-lead@demo.arx.local");
  await expect(page.getByLabel("Description")).toHaveValue("typed by hand");
  // Not on top of the page: by the field.
  await expect(page.locator(".flash-error")).toHaveCount(0);

  await page.getByLabel("Name").fill("fine-name-" + Date.now());
  await page.getByLabel("Owner email").fill("a@b");
  await page.getByRole("button", { name: "Create agent" }).click();
  await expect(page.locator("#owner-error")).toContainText("like name@example.com");
  await expect(page.locator("#name-error")).toHaveCount(0);
});

test("every form keeps what was typed when refused and says what to fix by the field (never a secret)", async ({ page }) => {
  await signIn(page, "admin");

  // An API token: its lifetime beyond the org's maximum.
  await page.goto("/settings/tokens");
  await page.getByLabel("Name").fill("kept token name");
  await page.getByLabel("Lifetime (days)").fill("100000");
  await page.getByRole("button", { name: "Create token" }).click();
  await expect(page.locator("#lifetime-days-error")).toContainText("lifetime_days must be 1 to");
  await expect(page.getByLabel("Lifetime (days)")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByLabel("Name")).toHaveValue("kept token name");
  await expect(page.locator(".flash")).toHaveCount(0);

  // The thresholds: review above deny; every typed value and the reason stay.
  await page.goto("/policies");
  await page.getByLabel("Review threshold (score ≥ → at least ESCALATE)").fill("95");
  await page.getByLabel("Approval timeout when a rule names none (e.g. 1h, 30m)").fill("2h");
  await page.getByLabel("Why this change (kept in the audit trail)").fill("kept reason");
  await page.getByRole("button", { name: "Save thresholds and defaults" }).click();
  await expect(page.locator("#settings-review-threshold-error")).toContainText("must not be above deny_threshold");
  await expect(page.getByLabel("Review threshold (score ≥ → at least ESCALATE)")).toHaveValue("95");
  await expect(page.getByLabel("Approval timeout when a rule names none (e.g. 1h, 30m)")).toHaveValue("2h");
  await expect(page.getByLabel("Why this change (kept in the audit trail)")).toHaveValue("kept reason");

  // The policy as YAML: a syntax error stands by the text, which is kept.
  await page.goto("/policies/yaml");
  const broken = "rules: [\n  - id: x\n";
  await page.locator("textarea[name=yaml]").fill(broken);
  await page.getByRole("button", { name: "Preview changes" }).click();
  await expect(page.locator("#yaml-error")).toContainText("line");
  await expect(page.locator("textarea[name=yaml]")).toHaveValue(broken);

  // A simulation: the same, and its range.
  await page.goto("/policies/simulate");
  await page.locator("textarea[name=yaml]").fill(broken);
  await page.getByRole("button", { name: "Run simulation" }).click();
  await expect(page.locator("#yaml-error")).toContainText("line");
  await expect(page.locator("textarea[name=yaml]")).toHaveValue(broken);

  // A webhook: a URL that is not https; the URL is kept, the secret never is.
  await page.goto("/settings/integrations");
  const card = page.locator('[data-integration="webhook"]');
  await card.getByLabel("URL", { exact: true }).fill("ftp://hooks.example.com/x");
  await card.getByLabel("Signing secret").fill("never-shown-again");
  await card.getByRole("button", { name: /Turn on|Replace/ }).click();
  await expect(card.locator("#url-error")).toContainText("must be an https:// URL");
  await expect(card.getByLabel("URL", { exact: true })).toHaveValue("ftp://hooks.example.com/x");
  await expect(card.getByLabel("Signing secret")).toHaveValue("");
  await expect(page.locator("body")).not.toContainText("never-shown-again");
  expect(await page.content()).not.toContain("never-shown-again");
});
