import { test, expect } from "@playwright/test";
import { spawn } from "node:child_process";
import path from "node:path";
import { signIn, demo } from "./demo";

// The example triage agent (examples/triage_agent.py, on the Python SDK installed in
// target/sdk-venv by scripts/sdk-python.sh) reads a new detection and asks to contain its
// host; a reviewer approves in the console; the agent, waiting on the SDK's long poll,
// reports the host contained.
test("the example triage agent contains a host once a reviewer approves it in the console", async ({ page, request, baseURL }) => {
  const repo = path.resolve(__dirname, "../..");
  const triage = demo.agents.find((a: { name: string }) => a.name === "triage-agent");
  const agent = spawn(`${repo}/target/sdk-venv/bin/python`, [`${repo}/examples/triage_agent.py`, "--limit", "1"], {
    env: { ...process.env, ARX_API_KEY: triage.api_key, ARX_BASE_URL: baseURL! },
  });
  let out = "";
  agent.stdout.on("data", (d) => (out += d));
  agent.stderr.on("data", (d) => (out += d));
  const exited = new Promise<number>((resolve) => agent.on("exit", (code) => resolve(code ?? -1)));

  // The agent's request, once it is in the queue.
  let id = "";
  await expect
    .poll(async () => {
      const q = await request.get("/v1/admin/approvals?status=pending", {
        headers: { authorization: `Bearer ${demo.admin_token}` },
      });
      const mine = (await q.json()).approvals.find(
        (a: { agent_id: string; connector: string; operation: string }) =>
          a.agent_id === triage.id && a.connector === "crowdstrike" && a.operation === "hosts:write",
      );
      id = mine?.id ?? "";
      return id;
    }, { timeout: 30_000, message: `the agent's containment never reached the queue: ${out}` })
    .not.toBe("");

  await signIn(page, "reviewer");
  await page.goto(`/approvals/view?id=${id}`);
  // What the agent said, in its own words, for the reviewer.
  await expect(page.locator("blockquote.reasoning")).toContainText("OS Credential Dumping on host-");
  await page.getByLabel("Comment (recorded in the audit trail)").fill("credential dumping confirmed");
  await page.getByRole("button", { name: "Approve and run" }).click();
  await expect(page.getByRole("status")).toContainText("Approved. ARX ran the call");

  expect(await exited, out).toBe(0);
  expect(out).toMatch(/contained host-\S+/);
});
