// The audit trail as search (issue 13): full text and filters whose state is the URL, facets
// that narrow, a shared link that reproduces the result, the back button, a record's own
// page with its chain position and links, and the streamed export. With and without
// JavaScript (the filter bar is a plain GET form).
import { test, expect } from "@playwright/test";
import { readFileSync } from "node:fs";
import { signIn, execute } from "./demo";

const contain = (host: string) => ({
  connector: "crowdstrike", operation: "hosts:write",
  params: { action_name: "contain", ids: [host] },
  session_context: { reasoning: "beaconing to a known C2 domain" },
});

test("an auditor's search by text and filters lives in the URL, and its export downloads", async ({ page, request, browser }, info) => {
  // A host name no other test writes: words of letters and digits, cut at punctuation.
  const tag = `${info.project.name}${Date.now().toString(36)}`;
  const host = `WS-${tag}.corp.example`;
  expect((await execute(request, "remediation-agent", contain(host))).status()).toBe(202);
  expect((await execute(request, "remediation-agent", contain(`db-${tag}.corp.example`))).status()).toBe(202);
  expect((await execute(request, "triage-agent", { connector: "crowdstrike", operation: "detections:read", params: { limit: 5, filter: `hostname:'${host}'` } })).status()).toBe(200);

  await signIn(page);
  await page.getByRole("link", { name: "Audit trail", exact: true }).click();
  await page.getByLabel("Text").fill(`ws-${tag}`);
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(new RegExp(`q=ws-${tag}`));
  const rows = page.locator("table.audit tbody tr");
  // Rows whose Operation cell is `op` (a record's details may name other operations: the
  // agent's session actions).
  const calls = (op: string) => rows.filter({ has: page.getByRole("cell", { name: op, exact: true }) });
  // The containment and the triage read name the host; the other host's call does not.
  await expect(calls("hosts:write")).toHaveCount(1);
  await expect(calls("detections:read")).toHaveCount(1);
  await expect(page.getByLabel("Text")).toHaveValue(`ws-${tag}`);

  // A facet narrows the search (the URL says so), and the page is reproduced by its link.
  await page.locator('[data-facet="verdict"] li[data-value="ESCALATE"] a').click();
  await expect(page).toHaveURL(/verdict=ESCALATE/);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("hosts:write");
  await expect(page.locator('[data-facet="verdict"] li.active')).toHaveAttribute("data-value", "ESCALATE");
  const shared = page.url();
  const seqs = await rows.locator("td.num").allTextContents();
  const other = await browser.newContext({ javaScriptEnabled: info.project.name === "js" });
  const second = await other.newPage();
  await signIn(second);
  await second.goto(shared);
  await expect(second.locator("table.audit tbody tr td.num")).toHaveText(seqs);
  await expect(second.getByLabel("Verdict")).toHaveValue("ESCALATE");
  await other.close();

  // Back goes to the search before the facet.
  await page.goBack();
  await expect(page).not.toHaveURL(/verdict=ESCALATE/);
  await expect(calls("detections:read")).toHaveCount(1);

  // Filters by form: the kind and the agent's labels; a bad filter says what to fix.
  await page.getByLabel("Kind").fill("execute.intercept");
  await page.getByLabel("Agent labels").fill("team in (ir)");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(rows).toHaveCount(1);
  await expect(page.getByLabel("Agent labels")).toHaveValue("team in (ir)");
  await page.getByLabel("Risk from").fill("high");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page.locator(".flash-error, .error")).toContainText("risk_min");
  await expect(page.getByLabel("Text")).toHaveValue(`ws-${tag}`);

  // The export of the current search downloads, streamed by the server: every line a
  // chained record that names the host.
  await page.getByLabel("Risk from").fill("");
  await page.getByLabel("Agent labels").fill("");
  await page.getByLabel("Kind").fill("");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(rows).toHaveCount(2);
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-ndjson").click()]);
  const lines = readFileSync(await download.path(), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  expect(lines.length).toBe(2);
  for (const r of lines) {
    expect(JSON.stringify(r).toLowerCase()).toContain(`ws-${tag}`);
    expect(r.hash).toMatch(/^[0-9a-f]{64}$/);
  }
  const [csv] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-csv").click()]);
  const table = readFileSync(await csv.path(), "utf8").trim().split("\r\n");
  expect(table[0]).toContain("seq,ts,kind");
  expect(table.length).toBe(3);
});

test("a record's page shows its chain position and links the call's records", async ({ page, request }, info) => {
  const tag = `rec${info.project.name}${Date.now().toString(36)}`;
  expect((await execute(request, "triage-agent", { connector: "crowdstrike", operation: "detections:read", params: { limit: 5, filter: `hostname:'${tag}'` } })).status()).toBe(200);
  await signIn(page);
  await page.goto(`/audit?q=${tag}&kind=execute.intercept`);
  await page.locator("table.audit tbody tr a.record-link").first().click();
  await expect(page.getByRole("heading", { name: "Audit record" })).toBeVisible();
  await expect(page.locator(".card h2")).toContainText("execute.intercept");
  await expect(page.locator("dl.chain dd.hash-full")).toHaveCount(2);
  await expect(page.locator("dl.chain dd.hash-full").nth(1)).toHaveText(/^[0-9a-f]{64}$/);
  await expect(page.getByRole("link", { name: "triage-agent" })).toBeVisible();
  // The call's result, and back from it to the call.
  await page.getByRole("link", { name: "result record →" }).click();
  await expect(page.locator(".card h2")).toContainText("execute.result");
  await page.getByRole("link", { name: "its intercept record →" }).click();
  await expect(page.locator(".card h2")).toContainText("execute.intercept");
  await expect(page.locator("pre.fields")).toContainText(tag);
});

test("the witness page signs now, shows what each witness holds and hands out the public key", async ({ page, request, browser }, info) => {
  expect((await execute(request, "triage-agent", { connector: "crowdstrike", operation: "detections:read", params: { limit: 5 } })).status()).toBe(200);
  await signIn(page);
  await page.goto("/audit");
  await page.getByRole("link", { name: "witnesses" }).click();
  await expect(page.getByRole("heading", { name: "Witness", exact: true })).toBeVisible();
  await expect(page.locator("[data-key-id]")).toHaveText(/^[0-9a-f]{16}$/);

  // Sign now: the checkpoint is listed, and the server's directory holds it.
  await page.getByRole("button", { name: "Checkpoint now" }).click();
  const flash = page.locator(".flash");
  await expect(flash).toContainText("Checkpoint signed at seq");
  const seq = (await flash.textContent())!.match(/seq (\d+)/)![1];
  await expect(page.locator(`#checkpoints tr[data-checkpoint="${seq}"]`)).toBeVisible();
  const dir = page.locator('#witnesses tr[data-witness="server directory"]');
  await expect(dir).toContainText(`seq ${seq}`);
  await expect(dir.locator("[data-pending]")).toHaveAttribute("data-pending", "0");
  await expect(page.locator(".coverage-row")).toHaveCount(2);

  // The public key downloads as PEM.
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: /Download public key/ }).click()]);
  expect(readFileSync(await download.path(), "utf8")).toMatch(/^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END PUBLIC KEY-----\n$/);

  // A bad bucket says what to fix; what was typed stays (without JavaScript the page
  // comes back filled in again, the secret excepted).
  const form = page.locator("#add-witness");
  await form.getByLabel("Name").fill(`bucket-${info.project.name}`);
  await form.getByLabel("Bucket", { exact: true }).fill("Not_A_Bucket");
  await form.getByLabel("Access key id").fill("AKIAEXAMPLE");
  await form.getByLabel("Secret access key").fill("example-secret");
  await form.getByRole("button", { name: "Add" }).click();
  await expect(page.locator("#add-witness")).toContainText("lower-case letters");
  await expect(page.locator("#add-witness").getByLabel("Name")).toHaveValue(`bucket-${info.project.name}`);
  if (info.project.name === "nojs") {
    await expect(page.locator("#add-witness").getByLabel("Secret access key")).toHaveValue("");
  }

  // An auditor reads it all and changes nothing.
  const other = await browser.newContext({ javaScriptEnabled: info.project.name === "js" });
  const auditor = await other.newPage();
  await signIn(auditor, "auditor");
  await auditor.goto("/audit/witness");
  await expect(auditor.locator(`#checkpoints tr[data-checkpoint="${seq}"]`)).toBeVisible();
  await expect(auditor.getByRole("button", { name: "Checkpoint now" })).toHaveCount(0);
  await expect(auditor.locator("#add-witness")).toHaveCount(0);
  await other.close();
});

test("streams show how far behind each SIEM is, and a test event says what went wrong", async ({ page, browser }, info) => {
  await signIn(page);
  await page.goto("/audit");
  await page.getByRole("link", { name: "streams" }).click();
  await expect(page.getByRole("heading", { name: "Streams", exact: true })).toBeVisible();
  const name = `siem-${info.project.name}`;
  const form = page.locator("#add-stream");
  await form.getByLabel("Name").fill(name);
  await form.locator("select[name=kind]").selectOption("hec");
  // Nothing listens there: the stream is added, and says why nothing arrives.
  await form.getByLabel("URL").fill("http://127.0.0.1:9");
  await form.getByLabel("Token or secret").fill("hec-token-e2e");
  await form.getByRole("button", { name: "Add" }).click();
  await expect(page.locator(".flash")).toContainText(`Stream '${name}' added`);
  const row = page.locator(`tr[data-stream="${name}"]`);
  await expect(row).toContainText("http://127.0.0.1:9");
  await expect(page.locator("body")).not.toContainText("hec-token-e2e");
  await row.getByRole("button", { name: "Send test event" }).click();
  await expect(page.locator(".flash")).toContainText("did not take the test event");
  // The delivery job keeps trying; the table says why it fails (on the next load).
  await expect.poll(async () => {
    await page.reload();
    return await page.locator(`tr[data-stream="${name}"]`).textContent();
  }, { timeout: 15000 }).toContain("could not connect");

  // A bad URL says what to fix.
  await form.getByLabel("Name").fill(`${name}-2`);
  await form.locator("select[name=kind]").selectOption("syslog");
  await form.getByLabel("URL").fill("syslog.example.com");
  await form.getByRole("button", { name: "Add" }).click();
  await expect(page.locator("#add-stream")).toContainText("tls://host:port");

  // An auditor sees the streams, and no button.
  const other = await browser.newContext({ javaScriptEnabled: info.project.name === "js" });
  const auditor = await other.newPage();
  await signIn(auditor, "auditor");
  await auditor.goto("/audit/streams");
  await expect(auditor.locator(`tr[data-stream="${name}"]`)).toBeVisible();
  await expect(auditor.getByRole("button", { name: "Send test event" })).toHaveCount(0);
  await other.close();

  await page.locator(`tr[data-stream="${name}"]`).getByRole("button", { name: "Remove" }).click();
  await expect(page.locator(`tr[data-stream="${name}"]`)).toHaveCount(0);
});
