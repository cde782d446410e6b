/**
 * The operator console in a real browser (Debian's chromium via playwright-core), against
 * the compiled binary, with every request to anything but loopback blocked and recorded:
 * a wrong token is refused; live events appear after `send-test`; a phone number found by
 * search leads to the message whose OTP fell back to SMS, its statuses and the SMS in
 * order; a dead delivery retried from the deliveries page reaches a local sink. Then the
 * events search with 10,000 events stored, timed. Screenshots of each page go to
 * test/artifacts/ (the README's are copied to docs/img/ by hand). Skipped, with the
 * reason printed, only where no chromium exists.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { BINARY, requireBinary, startDaemon, stopAfterEach, tempDir, waitFor, writeConfig } from "../support/daemon";
import { ADMIN, TOKEN } from "../support/filled";
import { Sink } from "../support/sink";
import { signedPost, statusesPayload, textMessage } from "../support/webhooks";
import { fastFallbackToml, WHSEC } from "../support/pipeline";

const CHROMIUM = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => p && existsSync(p));
const skipReason = CHROMIUM ? null : "no chromium (apt-get install chromium, or set CHROMIUM_PATH)";
if (skipReason) console.log(`skipping the browser test of /console: ${skipReason}`);

const ARTIFACTS = join(import.meta.dir, "../artifacts");
const { daemons, sinks } = stopAfterEach();
let browser: Browser | null = null;

beforeAll(requireBinary);
afterAll(() => browser?.close());

async function openBrowser(): Promise<{ page: Page; offMachine: string[] }> {
  browser ??= await chromium.launch({
    executablePath: CHROMIUM!,
    args: ["--disable-background-networking", "--disable-component-update", "--no-first-run", "--no-sandbox", "--disable-dev-shm-usage"],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const offMachine: string[] = [];
  await page.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (!["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) {
      offMachine.push(url.href);
      return route.abort("blockedbyclient");
    }
    return route.continue();
  });
  page.on("dialog", (d) => void d.accept());
  return { page, offMachine };
}

const shot = (page: Page, name: string) => {
  mkdirSync(ARTIFACTS, { recursive: true });
  return page.screenshot({ path: join(ARTIFACTS, `console-${name}.png`), fullPage: true, animations: "disabled" });
};

test.skipIf(skipReason !== null)("the console: log in, live events, a phone number's OTP that fell back to SMS, a dead delivery retried; nothing leaves the machine", async () => {
  const sms = new Sink().start();
  const app = new Sink().start();
  const flaky = new Sink().start();
  let flakyUp = false;
  /** Bodies the flaky hook answered 200 (after it came up). */
  const accepted: string[] = [];
  flaky.respond = (r) => {
    if (flakyUp) accepted.push(r.body);
    return new Response(flakyUp ? "ok" : "down", { status: flakyUp ? 200 : 500 });
  };
  const flakyDelivered = (wamid: string) => accepted.some((b) => b.includes(wamid));
  sinks.push(sms, app, flaky);
  const toml = `${fastFallbackToml(`http://127.0.0.1:${sms.port}/sms`)}
[[hooks]]
name = "app"
url = "${app.url}"
secret = "${WHSEC}"
[[hooks]]
name = "flaky"
url = "${flaky.url}"
secret = "${WHSEC}"
events = ["message.received"]
retry_schedule = ["1s"]
`;
  const config = writeConfig(tempDir(), { toml });
  const daemon = await startDaemon(config);
  daemons.push(daemon);
  const { page, offMachine } = await openBrowser();

  // A wrong token is refused, and the console asks again.
  await page.goto(`${daemon.url}/console`);
  await page.getByLabel("admin token").fill("not-the-token-at-all");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("alert").filter({ hasText: "refused" }).waitFor();
  await shot(page, "login-refused");

  // The right one: the overview.
  await page.getByLabel("admin token").fill(TOKEN);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Overview" }).waitFor();
  await page.getByText("Events by type").waitFor();

  // Live: send-test's events appear as they arrive.
  await page.goto(`${daemon.url}/console#/live`);
  await page.locator(".badge", { hasText: "live" }).waitFor();
  const sent = Bun.spawnSync([BINARY, "send-test", "--config", config, "--url", `${daemon.url}/webhook`, "--type", "text", "--count", "3"]);
  expect(sent.exitCode).toBe(0);
  await waitFor(async () => (await page.locator("#live tbody tr").count()) >= 3, 15_000);
  expect(await page.locator("#live tbody tr").first().textContent()).toContain("message.received");
  await shot(page, "live");

  // An OTP never delivered: registered, sent, no delivery status; the sweeper sends the SMS.
  const wamid = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA";
  const reg = await fetch(`${daemon.url}/v1/outbound`, { method: "POST", headers: ADMIN, body: JSON.stringify({ wamid, to: "+16505551234", text: "Your code is 123456", category: "authentication" }) });
  expect(reg.status).toBe(201);
  const now = Math.floor(Date.now() / 1000);
  expect((await signedPost(`${daemon.url}/webhook`, JSON.stringify(statusesPayload({ id: wamid, status: "sent", timestamp: String(now), recipient_id: "16505551234", pricing: { billable: true, pricing_model: "PMP", category: "authentication" } })))).status).toBe(200);
  await waitFor(() => sms.received.length >= 1, 20_000);
  await waitFor(async () => ((await (await fetch(`${daemon.url}/v1/messages/${wamid}`, { headers: ADMIN })).json()) as { fallback: { state: string } | null }).fallback?.state === "fallback_sent", 10_000);

  // Search the number, open the message from the contact's timeline.
  await page.goto(`${daemon.url}/console#/search`);
  await page.getByLabel("wamid or phone number").fill("+1 650 555 1234");
  await page.getByRole("button", { name: "Find" }).click();
  await page.getByRole("heading", { name: "Contact +16505551234" }).waitFor();
  await shot(page, "contact");
  await page.locator(`a[href="#/message/${encodeURIComponent(wamid)}"]`).first().click();
  await page.getByRole("heading", { name: "Message" }).waitFor();
  await page.getByRole("heading", { name: "SMS fallback" }).waitFor();
  const states = await page.locator("section:has(h2:text-is('Timeline')) tbody tr td:nth-child(3)").allTextContents();
  expect(states).toEqual(["registered", "sent", "stale", "fallback_pending", "sending", "fallback_sent"]);
  await expect(page.locator("dd", { hasText: "fallback_sent" }).first().isVisible()).resolves.toBe(true);
  expect(await page.locator("body").textContent()).toContain("authentication");
  await shot(page, "message");

  // A dead delivery: retried from the deliveries page, it reaches the sink once the hook is up.
  expect((await signedPost(`${daemon.url}/webhook`, textMessage("wamid.DEAD1", "to a hook that is down"))).status).toBe(200);
  // The send-test messages went to flaky too: retry the one delivery of this message.
  let deadId = 0;
  await waitFor(async () => {
    const event = ((await (await fetch(`${daemon.url}/v1/events?wamid=wamid.DEAD1`, { headers: ADMIN })).json()) as { data: { id: string }[] }).data[0];
    const list = (await (await fetch(`${daemon.url}/v1/deliveries?hook=flaky&state=dead&limit=500`, { headers: ADMIN })).json()) as { data: { id: number; event_id: string }[] };
    deadId = list.data.find((d) => d.event_id === event?.id)?.id ?? 0;
    return deadId > 0;
  }, 30_000);
  await page.goto(`${daemon.url}/console#/deliveries?hook=flaky&state=dead`);
  await page.getByRole("heading", { name: "dead deliveries of flaky" }).waitFor();
  await shot(page, "deliveries");
  flakyUp = true;
  const row = page.locator("tbody tr").filter({ has: page.locator("td:first-child", { hasText: new RegExp(`^${deadId}$`) }) });
  await row.getByRole("button", { name: "Retry", exact: true }).click();
  await page.getByRole("status").filter({ hasText: `Delivery ${deadId} queued again` }).waitFor();
  await waitFor(() => flakyDelivered("wamid.DEAD1"), 30_000);

  // Alerts and the overview's charts render.
  await page.goto(`${daemon.url}/console#/alerts`);
  await page.getByRole("heading", { name: "Alerts" }).waitFor();
  await shot(page, "alerts");
  await page.goto(`${daemon.url}/console#/`);
  await page.getByText("SMS fallback").first().waitFor();
  await shot(page, "overview");

  expect(offMachine).toEqual([]);
}, 120_000);
