/**
 * The API reference UI in a real browser (Debian's chromium via playwright-core), against
 * the compiled binary, with every request to anything but loopback blocked and recorded:
 * the page renders the operations, takes the admin token, and "Test Request" on
 * GET /v1/stats shows a 200, with nothing attempted off the machine. A screenshot goes
 * to test/artifacts/. Skipped, with the reason printed, only where no chromium exists.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { requireBinary, startDaemon, stopAfterEach, tempDir, writeConfig } from "../support/daemon";
import { TOKEN } from "../support/filled";

const CHROMIUM = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => p && existsSync(p));
const skipReason = CHROMIUM ? null : "no chromium (apt-get install chromium, or set CHROMIUM_PATH)";
if (skipReason) console.log(`skipping the browser test of /docs: ${skipReason}`);

const ARTIFACTS = join(import.meta.dir, "../artifacts");
const { daemons } = stopAfterEach();
let browser: Browser | null = null;

beforeAll(requireBinary);
afterAll(() => browser?.close());

test.skipIf(skipReason !== null)("the /docs UI works offline: operations, the token, and a 200 from GET /v1/stats", async () => {
  const daemon = await startDaemon(writeConfig(tempDir()));
  daemons.push(daemon);
  browser = await chromium.launch({
    executablePath: CHROMIUM!,
    args: ["--disable-background-networking", "--disable-component-update", "--no-first-run", "--no-sandbox", "--disable-dev-shm-usage"],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const offMachine: string[] = [];
  const statsCalls: (string | undefined)[] = [];
  await page.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (!["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) {
      offMachine.push(url.href);
      return route.abort("blockedbyclient");
    }
    if (url.pathname === "/v1/stats") statsCalls.push(route.request().headers().authorization);
    return route.continue();
  });

  await page.goto(`${daemon.url}/docs`);
  await page.getByText("List events, newest first").first().waitFor();
  await page.getByPlaceholder("Token").first().fill(TOKEN);
  await page.goto(`${daemon.url}/docs#tag/reports/GET/v1/stats`);
  // GET /v1/stats alone, not GET /v1/stats/days beside it.
  await page.getByRole("button", { name: /Test Request[\s\S]*get \/v1\/stats(?!\/)/ }).click();
  const answered = page.waitForResponse((r) => new URL(r.url()).pathname === "/v1/stats");
  await page.getByRole("button", { name: /^Send/ }).first().click();
  expect((await answered).status()).toBe(200);
  // The client shows the status and the body it got.
  await page.getByText(/200\s*OK/).filter({ visible: true }).first().waitFor({ timeout: 15_000 });
  await page.getByText('"worker_lag_ms"').filter({ visible: true }).first().waitFor();

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, "docs-try-stats.png"), animations: "disabled" });
  expect(statsCalls).toEqual([`Bearer ${TOKEN}`]);
  expect(offMachine).toEqual([]);
});
