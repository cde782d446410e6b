/**
 * The operator console's weight and first render (make bench-console), on the compiled
 * binary in Debian's chromium: the bytes the console's files take compressed (gzip, as a
 * reverse proxy would serve them), and, with 10,000 events stored, the time from
 * navigating to the events search until its table is on screen (median of BENCH_ROUNDS,
 * default 5, each a fresh page load). Writes bench/out/console.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { SECRET, writeHookedConfig } from "./config";
import { hubSignature } from "../src/ingest/signature";
import { currentBinary, machine, root } from "./reference";
import { spawnListening } from "./spawn";
import { textMessage } from "../test/support/webhooks";

const EVENTS = 10_000;
const PER_POST = 1_000; // Meta's documented maximum of changes per webhook
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const TOKEN = "bench-admin-token-0000";

const dir = mkdtempSync(join(tmpdir(), "wa-bench-console-"));
const sink = Bun.serve({ port: 0, fetch: () => new Response("ok") });
const daemon = await spawnListening([currentBinary, "--config", writeHookedConfig(dir, sink.port!, "")], dir);
const base = `http://127.0.0.1:${daemon.port}`;
try {
  await store(base);
  const weight = await filesWeight(base);
  const renders = await firstRenders(base);
  const sorted = [...renders].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const report = [
    `## Console, ${new Date().toISOString().slice(0, 10)} (${await machine()})`,
    "",
    `- files: ${weight.map((w) => `${w.name} ${kb(w.raw)} (${kb(w.gzip)} gzip)`).join(", ")}; **${kb(weight.reduce((n, w) => n + w.gzip, 0))} compressed in all** (target ≤ 300 KB)`,
    `- first render of the events search with ${EVENTS.toLocaleString("en")} events stored (100 rows shown), navigation to table on screen: median **${median.toFixed(0)} ms**, runs ${renders.map((r) => r.toFixed(0)).join(", ")} ms (target < 1 s)`,
    "",
  ].join("\n");
  mkdirSync(join(root, "bench/out"), { recursive: true });
  writeFileSync(join(root, "bench/out/console.md"), report);
  console.log(report);
} finally {
  await daemon.stop();
  sink.stop(true);
  rmSync(dir, { recursive: true, force: true });
}

/** Stores EVENTS text messages, PER_POST per webhook, and waits until they are processed. */
async function store(url: string) {
  for (let p = 0; p < EVENTS / PER_POST; p++) {
    const messages = Array.from({ length: PER_POST }, (_, i) => JSON.parse(textMessage(`wamid.BENCHCONSOLE${p}x${i}`, `message ${p}/${i}`)).entry[0].changes[0]);
    const body = JSON.stringify({ object: "whatsapp_business_account", entry: [{ id: "102290129340398", changes: messages }] });
    const res = await fetch(`${url}/webhook`, { method: "POST", body, headers: { "content-type": "application/json", "x-hub-signature-256": hubOf(body) } });
    if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
  }
  for (;;) {
    const stats = (await (await fetch(`${url}/v1/stats`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { events: { last_day: Record<string, number> }; inbox: Record<string, number> };
    if ((stats.events.last_day["message.received"] ?? 0) >= EVENTS && (stats.inbox.pending ?? 0) === 0) return;
    await Bun.sleep(200);
  }
}

function hubOf(body: string): string {
  return hubSignature(Buffer.from(body), SECRET);
}

async function filesWeight(url: string) {
  const names = [["index.html", "/console"], ["index.js", "/console/assets/index.js"], ["index.css", "/console/assets/index.css"]] as const;
  return Promise.all(
    names.map(async ([name, path]) => {
      const bytes = new Uint8Array(await (await fetch(`${url}${path}`)).arrayBuffer());
      return { name, raw: bytes.length, gzip: Bun.gzipSync(bytes).length };
    }),
  );
}

async function firstRenders(url: string): Promise<number[]> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-dev-shm-usage", "--no-first-run"] });
  try {
    const context = await browser.newContext();
    await context.addInitScript((token) => sessionStorage.setItem("wa-webhookd.admin-token", token), TOKEN);
    const times: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const page = await context.newPage();
      const t0 = performance.now();
      await page.goto(`${url}/console#/search?type=message.received`);
      await page.locator("table tbody tr").nth(99).waitFor();
      times.push(performance.now() - t0);
      await page.close();
    }
    return times;
  } finally {
    await browser.close();
  }
}

function kb(n: number): string {
  return `${(n / 1024).toFixed(1)} KB`;
}
