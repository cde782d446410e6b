/**
 * A hook removed from the config while it has open deliveries, on the compiled binary
 * (issue 18, item 2): the reload says how many it leaves behind; they are listed and
 * counted as orphaned in /v1 and /metrics; retry-dead and a replay with another config
 * file refuse a hook the daemon does not run; they are moved to a hook it runs (API)
 * or cancelled (CLI).
 */
import { beforeAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { requireBinary, runBinary, startDaemon, stopAfterEach, tempDir, waitFor, writeConfig, type Daemon } from "../support/daemon";
import { ADMIN } from "../support/filled";
import { hookToml } from "../support/pipeline";
import { parseScrape } from "../support/prometheus";
import { closedPort, Sink } from "../support/sink";
import { signedPost, textMessage } from "../support/webhooks";

beforeAll(requireBinary);
const { daemons, sinks } = stopAfterEach();

type Delivery = { id: number; hook: string; state: string; orphaned: boolean; event_id: string };

async function reload(daemon: Daemon) {
  const from = daemon.lines.length;
  daemon.proc.kill("SIGHUP");
  await waitFor(() => daemon.lines.slice(from).some((l) => l.includes('"msg":"config reloaded"')), 10_000);
  return daemon.lines.slice(from).map((l) => JSON.parse(l));
}

test("a hook removed with open deliveries: warned with the count, listed and counted as orphaned, refused by retry-dead and replay, then moved and cancelled", async () => {
  const app = new Sink().start();
  sinks.push(app);
  const dir = tempDir();
  const [crm, erp] = ["crm", "erp"].map((name) => hookToml(`http://127.0.0.1:${closedPort()}/hook`, name, 'retry_schedule = ["1h"]'));
  const kept = hookToml(app.url, "app", 'events = ["template.*"]'); // app does not want messages: only crm and erp get them
  const config = writeConfig(dir, { toml: kept + crm + erp });
  const daemon = await startDaemon(config);
  daemons.push(daemon);
  const get = async <T>(path: string) => (await (await fetch(`${daemon.url}${path}`, { headers: ADMIN })).json()) as T;
  const post = (path: string, body: unknown) => fetch(`${daemon.url}${path}`, { method: "POST", headers: ADMIN, body: JSON.stringify(body) });
  for (const wamid of ["wamid.ORPHAN1", "wamid.ORPHAN2"]) expect((await signedPost(`${daemon.url}/webhook`, textMessage(wamid))).status).toBe(200);
  await waitFor(async () => (await get<{ data: Delivery[] }>("/v1/deliveries?state=pending")).data.length === 4);

  writeFileSync(config, readFileSync(config, "utf8").replace(crm!, "").replace(erp!, ""));
  const said = await reload(daemon);
  const warnings = said.filter((l) => l.msg === "deliveries of a hook the daemon no longer runs: nothing sends them");
  expect(warnings.map((w) => [w.level, w.hook, w.deliveries])).toEqual([["warn", "crm", 2], ["warn", "erp", 2]]);

  const listed = await get<{ data: Delivery[] }>("/v1/deliveries");
  expect(listed.data.map((d) => [d.hook, d.state, d.orphaned]).sort()).toEqual([["crm", "pending", true], ["crm", "pending", true], ["erp", "pending", true], ["erp", "pending", true]]);
  expect((await get<{ data: Delivery[] }>("/v1/deliveries?hook=crm")).data).toHaveLength(2);
  expect((await get<{ data: Delivery[] }>("/v1/deliveries?orphaned=true")).data).toHaveLength(4);
  expect((await get<{ data: Delivery[] }>("/v1/deliveries?orphaned=false")).data).toEqual([]);
  expect((await fetch(`${daemon.url}/v1/deliveries?hook=nope`, { headers: ADMIN })).status).toBe(400);
  const stats = await get<{ deliveries: { hooks: Record<string, unknown>; orphaned: Record<string, Record<string, number>> } }>("/v1/stats");
  expect(Object.keys(stats.deliveries.hooks)).toEqual(["app"]);
  expect(stats.deliveries.orphaned).toEqual({ crm: { pending: 2, delivering: 0, dead: 0, disabled: 0 }, erp: { pending: 2, delivering: 0, dead: 0, disabled: 0 } });
  const scrape = parseScrape(await (await fetch(`${daemon.url}/metrics`)).text());
  expect(scrape.value("wa_deliveries_orphaned", { hook: "crm", state: "pending" })).toBe(2);
  expect(scrape.family("wa_deliveries_open").metrics.every((m) => m.labels!.hook === "app")).toBe(true);
  const retry = await post(`/v1/deliveries/${listed.data[0]!.id}/retry`, {});
  expect(retry.status).toBe(409);
  expect(((await retry.json()) as { error: string }).error).toBe("orphaned");

  // The operator's shell: the daemon's file, then another file with a hook the daemon does not run.
  const other = join(dir, "other.toml");
  writeFileSync(other, readFileSync(config, "utf8").replace(kept, hookToml(app.url, "app2")), { mode: 0o600 });
  const retried = runBinary(["retry-dead", "--config", config, "--hook", "crm"]);
  expect(retried.code).toBe(2);
  expect(retried.stderr).toContain('--hook: the daemon no longer runs hook "crm"; its open deliveries (2) are orphaned');
  const replayed = runBinary(["replay", "--config", other, "--since", "1970-01-01", "--hook", "app2"]);
  expect(replayed.code).toBe(2);
  expect(replayed.stderr).toContain('--hook: the daemon does not run a hook named "app2" (it runs: app, as of its last start or reload)');
  // Without --hook, a replay goes to the hooks the daemon runs, with their filters (app wants no messages).
  expect(runBinary(["replay", "--config", other, "--since", "1970-01-01"]).stdout).toBe("replay: 2 events matched; no hook wants them (check the hooks' events and phone_number_ids filters)\n");
  expect(runBinary(["stats", "--config", config]).stdout).toMatch(/hook crm \(no longer run\) +2 pending, 0 delivering, 0 dead, 0 disabled: orphaned/);
  const listing = runBinary(["orphans", "--config", config]);
  expect(listing).toMatchObject({ code: 0, stdout: "orphans: crm: 2 pending; erp: 2 pending; cancel them with --cancel, or queue them to a hook the daemon runs with --move-to HOOK\n" });
  expect(runBinary(["orphans", "--config", config, "--move-to", "crm"])).toMatchObject({ code: 2, stderr: expect.stringContaining('--move-to: the daemon runs no hook named "crm" (it runs: app)') });
  expect(runBinary(["orphans", "--config", config, "--cancel", "--hook", "app"])).toMatchObject({ code: 2, stderr: expect.stringContaining('--hook: "app" has no orphaned deliveries: the daemon runs it') });

  // crm's go to app instead (its filters would exclude them: the operator asked), erp's are cancelled.
  const moved = await post("/v1/deliveries/orphaned", { action: "move", hook: "crm", to: "app" });
  expect(await moved.json()).toEqual({ cancelled: { crm: 2 }, moved_to: "app", queued: 2 });
  await waitFor(() => app.received.length === 2);
  expect(new Set(app.received.map((r) => r.headers["webhook-id"]))).toEqual(new Set(listed.data.filter((d) => d.hook === "crm").map((d) => d.event_id)));
  const cancelled = runBinary(["orphans", "--config", config, "--cancel", "--json"]);
  expect(cancelled.code).toBe(0);
  expect(JSON.parse(cancelled.stdout)).toEqual({ cancelled: { erp: 2 }, moved_to: null, queued: 0 });

  expect((await get<{ data: Delivery[] }>("/v1/deliveries?state=cancelled")).data.map((d) => d.hook).sort()).toEqual(["crm", "crm", "erp", "erp"]);
  expect((await get<{ deliveries: { orphaned: object } }>("/v1/stats")).deliveries.orphaned).toEqual({});
  expect(parseScrape(await (await fetch(`${daemon.url}/metrics`)).text()).family("wa_deliveries_orphaned").metrics).toEqual([]);
  expect(runBinary(["orphans", "--config", config]).stdout).toBe("orphans: none (the daemon runs: app)\n");
});
