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
  await page.getByLabel("Owner email").fill("owner@example.com");
  await page.getByLabel("Description").fill("typed by hand");
  await page.getByRole("button", { name: "Create agent" }).click();
  const nameError = page.locator("#name-error");
  await expect(nameError).toContainText("'!' is not allowed");
  await expect(page.getByLabel("Name")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByLabel("Name")).toHaveValue("bad name!! <b>x</b>");
  await expect(page.getByLabel("Owner email")).toHaveValue("owner@example.com");
  await expect(page.getByLabel("Description")).toHaveValue("typed by hand");
  // Not on top of the page: by the field.
  await expect(page.locator(".flash-error")).toHaveCount(0);

  await page.getByLabel("Name").fill("fine-name-" + Date.now());
  await page.getByLabel("Owner email").fill("a@b");
  await page.getByRole("button", { name: "Create agent" }).click();
  await expect(page.locator("#owner-error")).toContainText("like name@example.com");
  await expect(page.locator("#name-error")).toHaveCount(0);
});
