/**
 * Moving over, on the compiled binary: a SQLite daemon's data (processed, delivered, and
 * acknowledged-but-unindexed webhooks in its inbox log) copied into an empty PostgreSQL
 * database with `migrate-storage`; counts checked; run again, it changes nothing;
 * instances started on the copy know what the SQLite daemon knew (a retry of an old
 * webhook is a duplicate, a later status moves the old message on); a second file into
 * the same database, or a running SQLite daemon, is refused.
 */
import { expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SQL } from "bun";
import { BINARY, requireBinary, startDaemon, stopAfterEach, tempDir, waitFor, writeConfig } from "../support/daemon";
import { fixture, hookToml } from "../support/pipeline";
import { freshDatabase } from "../support/postgres";
import { Sink } from "../support/sink";
import { signedPost, statusesPayload, textMessage } from "../support/webhooks";
import { WHSEC } from "../support/pipeline";

requireBinary();

const { daemons, sinks } = stopAfterEach();

function pgConfig(url: string, hookUrl: string): string {
  const path = join(tempDir("wa-mig-"), "pg.toml");
  writeFileSync(
    path,
    `[server]\nlisten = "127.0.0.1:0"\ninstance = "wa-1"\n[storage]\nengine = "postgres"\nurl = "${url}"\npool = 4\n` +
      `[whatsapp]\nverify_token = "vt"\napp_secrets = ["e2e-secret-one"]\n[admin]\ntoken = "e2e-admin-token-0123456789"\n` +
      `[[hooks]]\nname = "app"\nurl = "${hookUrl}"\nsecret = "${WHSEC}"\n`,
    { mode: 0o600 },
  );
  return path;
}

const run = (...args: string[]) => Bun.spawnSync([BINARY, ...args]);
const status = (wamid: string, s: string, ts: number) => JSON.stringify(statusesPayload({ id: wamid, status: s, timestamp: String(ts), recipient_id: "16505551234" }));

test("a SQLite daemon's data moves into PostgreSQL: counts checked, resumable, and the instances carry on from it", async () => {
  const sink = new Sink().start();
  sinks.push(sink);
  const dir = tempDir("wa-mig-");
  const dbPath = join(dir, "data/wa.db");
  const fallback = `\n[fallback]\nenabled = true\n[fallback.sms]\nurl = "${sink.url}sms"\n`;
  const sqliteConfig = writeConfig(dir, { toml: hookToml(sink.url) + fallback });
  const old = await startDaemon(sqliteConfig);
  daemons.push(old);
  // SMS fallback's and alerts' rows move too: a registered message, a template paused (an alert, recorded).
  const admin = { authorization: "Bearer e2e-admin-token-0123456789", "content-type": "application/json" };
  expect((await fetch(`${old.url}/v1/outbound`, { method: "POST", headers: admin, body: JSON.stringify({ wamid: "wamid.SENT1", to: "+16505551234", text: "Your code is 1" }) })).status).toBe(201);
  expect((await signedPost(`${old.url}/webhook`, JSON.stringify(fixture("template_status_paused").payload))).status).toBe(200);
  for (let i = 0; i < 30; i++) expect((await signedPost(`${old.url}/webhook`, textMessage(`wamid.OLD${i}`, `old ${i}`))).status).toBe(200);
  expect((await signedPost(`${old.url}/webhook`, status("wamid.SENT1", "sent", 1750000000))).status).toBe(200);
  await waitFor(() => sink.received.length >= 32, 15_000);
  // The last ones only reach the inbox log: the daemon is killed before it indexes them.
  const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => signedPost(`${old.url}/webhook`, textMessage(`wamid.LATE${i}`))));
  expect(burst.every((r) => r.status === 200)).toBe(true);
  old.proc.kill("SIGKILL");
  await old.proc.exited;
  daemons.splice(0);

  const url = await freshDatabase();
  const config = pgConfig(url, sink.url);
  const first = run("migrate-storage", "--config", config, "--from", dbPath);
  const out = first.stdout.toString();
  expect({ code: first.exitCode, stderr: first.stderr.toString() }).toEqual({ code: 0, stderr: "" });
  expect(out).toContain("every table's rows counted on both sides: the same");
  expect(out).toMatch(/inbox\s+52 →\s+52/);
  expect(out).toMatch(/tracked_messages\s+1 →\s+1/);
  expect(out).toMatch(/tracked_timeline\s+1 →\s+1/);
  expect(out).toMatch(/alerts\s+1 →\s+1/);
  expect(out).toMatch(/events\s+\d+ →\s+\d+/);
  const again = run("migrate-storage", "--config", config, "--from", dbPath, "--json");
  expect(again.exitCode).toBe(0);
  const report = JSON.parse(again.stdout.toString());
  expect(report.ok).toBe(true);
  expect(report.tables.every((t: { source: number; target: number }) => t.source === t.target)).toBe(true);

  const sql = new SQL(url, { max: 1 });
  try {
    const before = sink.received.length;
    const d = await startDaemon(config);
    daemons.push(d);
    // The late ones were acknowledged by the SQLite daemon and never processed: the instance does them now.
    // Bounds for a loaded machine (a run beside other work took 17 s): what is asserted is that they all come.
    await waitFor(() => sink.received.filter((r) => r.body.includes("wamid.LATE")).length >= 20, 45_000);
    // A retry of an old webhook is a duplicate; a later status of an old message moves it on.
    expect((await signedPost(`${d.url}/webhook`, textMessage("wamid.OLD3", "old 3"))).status).toBe(200);
    expect((await signedPost(`${d.url}/webhook`, status("wamid.SENT1", "delivered", 1750000060))).status).toBe(200);
    await waitFor(async () => Number((await sql`SELECT count(*) AS n FROM inbox WHERE state <> 'done'`)[0].n) === 0, 45_000);
    await waitFor(() => sink.received.length >= before + 21, 45_000);
    await Bun.sleep(300);
    expect(sink.received.length).toBe(before + 21); // 20 late + the delivered status; the retry is a duplicate
    const [{ status: now }] = await sql`SELECT status FROM outbound_messages WHERE wamid = 'wamid.SENT1'`;
    expect(now).toBe("delivered");
    const [{ dups }] = await sql`SELECT duplicates AS dups FROM dedup_keys WHERE event_id = (SELECT id FROM events WHERE wamid = 'wamid.OLD3')`;
    expect(dups).toBe(1);
    await d.stop();
    daemons.splice(0);

    // Another file into the same database: refused; a running SQLite daemon: refused.
    const otherDir = tempDir("wa-mig-");
    const other = await startDaemon(writeConfig(otherDir));
    daemons.push(other);
    const running = run("migrate-storage", "--config", config, "--from", join(otherDir, "data/wa.db"));
    expect(running.exitCode).toBe(1);
    expect(running.stderr.toString()).toContain("the SQLite daemon is running on");
    await other.stop();
    daemons.splice(0);
    const missing = run("migrate-storage", "--config", config, "--from", join(otherDir, "typo.db"));
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr.toString()).toContain(`--from: no database at ${join(otherDir, "typo.db")}`);
    expect(existsSync(join(otherDir, "typo.db.lock"))).toBe(false);
    // The same file again, after instances ran on the database: refused, saying why (not "run it again").
    const rerun = run("migrate-storage", "--config", config, "--from", dbPath);
    expect(rerun.exitCode).toBe(1);
    expect(rerun.stderr.toString()).toContain("instances have used this database since (stored, processed or delivered webhooks): it is theirs now, nothing to resume");
    const mixed = run("migrate-storage", "--config", config, "--from", join(otherDir, "data/wa.db"));
    expect(mixed.exitCode).toBe(1);
    expect(mixed.stderr.toString()).toContain(`this database already holds a copy of ${dbPath}; copy into an empty database`);
  } finally {
    await sql.close();
  }
}, 90_000);

test("a copy the instances only processed (no webhook of their own) is theirs too: a resume after the file changed is refused, nothing merged", async () => {
  const sink = new Sink().start();
  sinks.push(sink);
  const dir = tempDir("wa-mig-");
  const dbPath = join(dir, "data/wa.db");
  const withoutWorker = writeConfig(dir, { toml: "[worker]\nenabled = false\n" + hookToml(sink.url) });
  const old = await startDaemon(withoutWorker);
  daemons.push(old);
  for (let i = 0; i < 5; i++) expect((await signedPost(`${old.url}/webhook`, textMessage(`wamid.PENDING${i}`))).status).toBe(200);
  await old.stop();
  daemons.splice(0);

  const url = await freshDatabase();
  const config = pgConfig(url, sink.url);
  expect(run("migrate-storage", "--config", config, "--from", dbPath).exitCode).toBe(0);
  const instance = await startDaemon(config);
  daemons.push(instance);
  await waitFor(() => sink.received.length >= 5, 15_000);
  await instance.stop();
  daemons.splice(0);
  // The SQLite daemon runs again on its file (it processes the same five itself): the file now differs from the copy.
  const again = await startDaemon(writeConfig(dir, { toml: hookToml(sink.url) }));
  daemons.push(again);
  await waitFor(() => sink.received.length >= 10, 15_000);
  await again.stop();
  daemons.splice(0);

  const rerun = run("migrate-storage", "--config", config, "--from", dbPath);
  expect(rerun.exitCode).toBe(1);
  expect(rerun.stderr.toString()).toContain("instances have used this database since (stored, processed or delivered webhooks): it is theirs now, nothing to resume");
  const sql = new SQL(url, { max: 1 });
  try {
    const [{ events, keys }] = await sql`SELECT (SELECT count(*)::int FROM events) AS events, (SELECT count(*)::int FROM dedup_keys) AS keys`;
    expect({ events, keys }).toEqual({ events: 5, keys: 5 });
  } finally {
    await sql.close();
  }
}, 90_000);
