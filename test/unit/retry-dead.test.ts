/**
 * POST /v1/deliveries/retry (every dead delivery of a hook) on both engines, after the
 * same webhooks killed the same deliveries at a real failing hook: the same answers and
 * refusals from SQLite and PostgreSQL (an unknown hook 404, a hook no longer run 409,
 * but on PostgreSQL one another live instance runs is retried), each dead delivery back
 * to pending with a fresh schedule, then delivered once the hook answers again.
 */
import { expect, test } from "bun:test";
import { bothEngines } from "../support/both-engines";
import { fixtureCorpus } from "../support/pipeline";

/** Both engines with crm's deliveries dead (a second after the first failure). */
async function withDeadDeliveries() {
  const e = await bothEngines(Date.now());
  await e.both.post(fixtureCorpus());
  await e.both.dispatch();
  e.clock.advance(1_000);
  await e.both.dispatch();
  const dead = e.lite.count("SELECT count(*) n FROM deliveries WHERE hook = 'crm' AND state = 'dead'");
  expect(dead).toBeGreaterThan(0);
  expect(await e.pg.count("SELECT count(*) n FROM deliveries WHERE hook = 'crm' AND state = 'dead'")).toBe(dead);
  return { ...e, dead };
}

test("a hook's dead deliveries are due again now, from a fresh schedule, then delivered; the same answers on both engines", async () => {
  const e = await withDeadDeliveries();
  const asked = Date.now();
  const retried = await e.ask({ op: "retry-dead", hook: "crm" });
  expect(retried.pg).toEqual({ status: 200, body: { hook: "crm", retried: e.dead } });
  expect(retried.lite).toEqual(retried.pg);
  // The admin API's clock is the real one: due at the call's time.
  const due = `SELECT count(*) n FROM deliveries WHERE hook = 'crm' AND state = 'pending' AND attempts = 0 AND next_attempt_at = updated_at AND updated_at BETWEEN ${asked} AND ${Date.now()}`;
  expect(e.lite.count(due)).toBe(e.dead);
  expect(await e.pg.count(due)).toBe(e.dead);

  // Nothing dead left: a second call retries none; app has never had one.
  for (const hook of ["crm", "app"]) {
    const again = await e.ask({ op: "retry-dead", hook });
    expect(again.pg).toEqual({ status: 200, body: { hook, retried: 0 } });
    expect(again.lite).toEqual(again.pg);
  }
  // The hook answers again: each retried delivery reaches it, once per engine.
  e.crm.respond = () => new Response("ok");
  const before = e.crm.received.length;
  e.clock.t = Date.now() + 60_000;
  await e.both.dispatch();
  expect(e.crm.received.length - before).toBe(2 * e.dead);
  const done = "SELECT count(*) n FROM deliveries WHERE hook = 'crm' AND state = 'done'";
  expect(e.lite.count(done)).toBe(e.dead);
  expect(await e.pg.count(done)).toBe(e.dead);
});

test("a hook neither run nor with deliveries is 404, one no longer run 409 (as a retry of one of its deliveries is); on PostgreSQL one another live instance runs is retried", async () => {
  const e = await withDeadDeliveries();
  const unknown = await e.ask({ op: "retry-dead", hook: "nope" });
  expect(unknown.pg).toEqual({ status: 404, body: { error: "not_found", reason: 'no hook named "nope" is run or has deliveries (hooks: app, crm)' } });
  expect(unknown.lite).toEqual(unknown.pg);

  // crm removed from the config: nothing would send what was retried.
  const orphaned = await e.ask({ op: "retry-dead", hook: "crm" }, [e.APP]);
  expect(orphaned.pg.status).toBe(409);
  expect((orphaned.pg.body as { error: string; reason: string }).error).toBe("orphaned");
  expect((orphaned.pg.body as { reason: string }).reason).toContain("POST /v1/deliveries/orphaned");
  expect(orphaned.lite).toEqual(orphaned.pg);
  expect(e.lite.count("SELECT count(*) n FROM deliveries WHERE hook = 'crm' AND state = 'dead'")).toBe(e.dead);
  expect(await e.pg.count("SELECT count(*) n FROM deliveries WHERE hook = 'crm' AND state = 'dead'")).toBe(e.dead);

  // On PostgreSQL, another live instance still runs crm: it sends them, so they are retried.
  const byOther = await e.ask({ op: "retry-dead", hook: "crm" }, [e.APP], ["crm"]);
  expect(byOther.pg).toEqual({ status: 200, body: { hook: "crm", retried: e.dead } });
});
