/** `wa-webhookd jobs` and `vacuum` on the compiled binary, beside a running daemon and after it stopped. */
import { beforeAll, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { requireBinary, runBinary, startDaemon, stopAfterEach, tempDir, writeConfig } from "../support/daemon";
import { signedPost, textMessage } from "../support/webhooks";

beforeAll(requireBinary);
const { daemons } = stopAfterEach();

test("jobs list / run work beside the running daemon (shared leases); vacuum waits for it to stop", async () => {
  const dir = tempDir("wa-jobs-");
  const config = writeConfig(dir, { storagePath: join(dir, "wa.db") });
  const daemon = await startDaemon(config);
  daemons.push(daemon);
  expect((await signedPost(`${daemon.url}/webhook`, textMessage("wamid.J1"))).status).toBe(200);

  const list = runBinary(["jobs", "list", "--config", config, "--json"]);
  expect(list.code).toBe(0);
  expect((JSON.parse(list.stdout) as { name: string }[]).map((j) => j.name)).toEqual(["retention"]);

  const run = runBinary(["jobs", "run", "retention", "--config", config, "--json"]);
  expect(run.code).toBe(0);
  expect(JSON.parse(run.stdout)).toMatchObject({ ran: true, result: { events: 0, inbox: 0, dedup_keys: 0 } });
  // The daemon sees the run (one table of job runs for both).
  const jobs = (await (await fetch(`${daemon.url}/v1/jobs`, { headers: { authorization: "Bearer e2e-admin-token-0123456789" } })).json()) as { jobs: { name: string; runs: number }[] };
  expect(jobs.jobs).toMatchObject([{ name: "retention", runs: 1 }]);

  const typo = runBinary(["jobs", "run", "stael", "--config", config]);
  expect(typo.code).toBe(2);
  expect(typo.stderr).toContain('jobs run: no job named "stael" with this config; the jobs are retention');
  // A job that needs config says which.
  expect(runBinary(["jobs", "run", "stale", "--config", config]).stderr).toContain("stale and fallback run with [fallback] enabled = true");
  const noName = runBinary(["jobs", "run", "--config", config]);
  expect(noName.code).toBe(2);
  expect(noName.stderr).toContain('expected "jobs list" or "jobs run NAME"');

  const busy = runBinary(["vacuum", "--config", config]);
  expect(busy.code).toBe(1);
  expect(busy.stderr).toContain("the daemon is running");
  await daemon.stop();
  daemons.length = 0;
  const vacuum = runBinary(["vacuum", "--config", config, "--json"]);
  expect(vacuum.code).toBe(0);
  expect(JSON.parse(vacuum.stdout).after).toBe(statSync(join(dir, "wa.db")).size);
  const missing = runBinary(["jobs", "list", "--config", join(dir, "nope.toml")]);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain("--config: cannot read");
});
