/** SMS fallback through the compiled binary: real schedules, a local SMS sink, the admin API. */
import { beforeAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { requireBinary, runBinary, startDaemon, stopAfterEach, tempDir, waitFor, wamidInLog, writeConfig, type Daemon } from "../support/daemon";
import { fastFallbackToml, WHSEC } from "../support/pipeline";
import { Sink } from "../support/sink";
import { signedPost, statusesPayload } from "../support/webhooks";

beforeAll(requireBinary);
const { sinks, daemons } = stopAfterEach();

const ADMIN = { authorization: "Bearer e2e-admin-token-0123456789", "content-type": "application/json" };
function statusBody(wamid: string, status: string, atSec: number, extra: Record<string, unknown> = {}) {
  return JSON.stringify(statusesPayload({ id: wamid, status, timestamp: String(atSec), recipient_id: "16505551234", ...extra }));
}

async function fallbackDaemon(extra = "", smsExtra = "") {
  const sms = new Sink().start();
  const hook = new Sink().start();
  sinks.push(sms, hook);
  const sms$ = `headers = { Authorization = "Bearer sms-token" }
body = { to = "+{{to}}", text = "{{text}}", ref = "{{wamid}}" }
${smsExtra}`;
  const toml = `${fastFallbackToml(`http://127.0.0.1:${sms.port}/sms`, extra, sms$)}
[[hooks]]
name = "app"
url = "${hook.url}"
secret = "${WHSEC}"
events = ["message.stale", "message.fallback"]
`;
  const config = writeConfig(tempDir(), { toml });
  const daemon = await startDaemon(config);
  daemons.push(daemon);
  return { daemon, sms, hook, config };
}

test("registered, sent, never delivered: exactly one SMS after the deadline, with the app's text and the wamid as Idempotency-Key", async () => {
  const { daemon, sms, hook } = await fallbackDaemon();
  const reg = await fetch(`${daemon.url}/v1/outbound`, { method: "POST", headers: ADMIN, body: JSON.stringify({ wamid: "wamid.OTP1", to: "+16505551234", text: "Your code is 123456", category: "authentication" }) });
  expect(reg.status).toBe(201);
  expect(((await reg.json()) as { state: string }).state).toBe("tracked");
  const again = await fetch(`${daemon.url}/v1/outbound`, { method: "POST", headers: ADMIN, body: JSON.stringify({ wamid: "wamid.OTP1", to: "+16505551234" }) });
  expect(again.status).toBe(200);
  expect((await signedPost(`${daemon.url}/webhook`, statusBody("wamid.OTP1", "sent", Math.floor(Date.now() / 1000)))).status).toBe(200);

  await waitFor(() => sms.received.length >= 1, 20_000);
  await Bun.sleep(2_500); // a few more sweeps and sends: still one
  expect(sms.received).toHaveLength(1);
  const [got] = sms.received;
  expect(got!.headers["idempotency-key"]).toBe("wamid.OTP1");
  expect(got!.headers.authorization).toBe("Bearer sms-token");
  expect(JSON.parse(got!.body)).toEqual({ to: "+16505551234", text: "Your code is 123456", ref: "wamid.OTP1" });

  const message = (await (await fetch(`${daemon.url}/v1/messages/wamid.OTP1`, { headers: ADMIN })).json()) as { fallback: { state: string; timeline: { state: string }[]; sms: { state: string } } };
  expect(message.fallback.state).toBe("fallback_sent");
  expect(message.fallback.sms.state).toBe("sent");
  expect(message.fallback.sms).not.toHaveProperty("lease_token");
  expect(message.fallback.timeline.map((t) => t.state)).toEqual(["registered", "registered", "sent", "stale", "fallback_pending", "sending", "fallback_sent"]);
  await waitFor(() => hook.received.some((r) => JSON.parse(r.body).type === "message.fallback"));
  const types = hook.received.map((r) => JSON.parse(r.body) as { type: string; data: { outcome?: string } });
  expect(types.find((e) => e.type === "message.fallback")!.data.outcome).toBe("sent");
  expect(types.some((e) => e.type === "message.stale")).toBe(true);

  // Delivery after the SMS: late_delivered, with the delay.
  expect((await signedPost(`${daemon.url}/webhook`, statusBody("wamid.OTP1", "delivered", Math.floor(Date.now() / 1000)))).status).toBe(200);
  await waitForState(daemon, "wamid.OTP1", "late_delivered");

  // Two jobs ran every second for several seconds; at info only the runs that did something
  // are logged, each saying what (issue 18, item 6: idle runs were most of the log).
  const runs = daemon.lines.filter((l) => l.includes('"msg":"job run"')).map((l) => JSON.parse(l) as { job: string; did: string });
  expect(runs.map((r) => [r.job, r.did])).toEqual([
    ["stale", "1 message past the deadline: 1 to SMS, 0 settled without one"],
    ["fallback", "SMS 1 sent"],
  ]);
});

test("delivered in time, or read without delivered: no SMS; failed 131026: SMS at once; 131050: none, ever", async () => {
  const { daemon, sms } = await fallbackDaemon('stale_after_by_category = { utility = "3s" }');
  const now = Math.floor(Date.now() / 1000);
  const pricing = { billable: true, pricing_model: "PMP", category: "utility" };
  const sms1 = JSON.stringify({ sms: "Your order shipped" });
  for (const id of ["wamid.D", "wamid.R", "wamid.F1", "wamid.F2"]) {
    expect((await signedPost(`${daemon.url}/webhook`, statusBody(id, "sent", now, { pricing, biz_opaque_callback_data: sms1 }))).status).toBe(200);
  }
  await signedPost(`${daemon.url}/webhook`, statusBody("wamid.D", "delivered", now + 1));
  await signedPost(`${daemon.url}/webhook`, statusBody("wamid.R", "read", now + 1));
  await signedPost(`${daemon.url}/webhook`, statusBody("wamid.F1", "failed", now + 1, { errors: [{ code: 131026, title: "Message undeliverable" }] }));
  await signedPost(`${daemon.url}/webhook`, statusBody("wamid.F2", "failed", now + 1, { errors: [{ code: 131050, title: "User has stopped marketing" }] }));

  await waitFor(() => sms.received.length >= 1, 10_000);
  expect(JSON.parse(sms.received[0]!.body)).toMatchObject({ ref: "wamid.F1", text: "Your order shipped" });
  await Bun.sleep(4_500); // past every deadline, several sweeps
  expect(sms.received.map((r) => r.headers["idempotency-key"])).toEqual(["wamid.F1"]);
  await waitForState(daemon, "wamid.D", "done");
  await waitForState(daemon, "wamid.R", "done");
  await waitForState(daemon, "wamid.F2", "not_sent");
});

test("the admin API needs the bearer token and names the bad field", async () => {
  const { daemon } = await fallbackDaemon();
  expect((await fetch(`${daemon.url}/v1/jobs`)).status).toBe(401);
  expect((await fetch(`${daemon.url}/v1/jobs`, { headers: { authorization: "Bearer wrong-token-wrong-token" } })).status).toBe(401);
  const bad = await fetch(`${daemon.url}/v1/outbound`, { method: "POST", headers: ADMIN, body: JSON.stringify([{ wamid: "w1", to: "+1650555" }, { wamid: "w2", to: "call me" }]) });
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as { reason: string }).reason).toStartWith("[1].to: expected a phone number");
  const jobs = (await (await fetch(`${daemon.url}/v1/jobs`, { headers: ADMIN })).json()) as { jobs: { name: string; schedule: string; next_run: string }[] };
  expect(jobs.jobs.map((j) => j.name)).toEqual(["stale", "fallback", "retention"]);
  expect(jobs.jobs[0]!.schedule).toBe("* * * * * *");
  const run = await fetch(`${daemon.url}/v1/jobs/stale/run`, { method: "POST", headers: ADMIN });
  expect([200, 409]).toContain(run.status); // 409 when the scheduled run holds the lease at that instant
  const nope = await fetch(`${daemon.url}/v1/jobs/nope/run`, { method: "POST", headers: ADMIN });
  expect(nope.status).toBe(404);
  expect(((await nope.json()) as { error: string }).error).toBe("not_found");
  // A wamid is base64: `+`, `/`, `=` and `%` arrive percent-encoded, decoded once.
  for (const wamid of ["wamid.HB+x/y==", "wamid.100%"]) {
    const res = await fetch(`${daemon.url}/v1/messages/${encodeURIComponent(wamid)}`, { headers: ADMIN });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { reason: string }).reason).toBe(`no message ${wamid}`);
  }
});

async function waitForState(daemon: Daemon, wamid: string, state: string) {
  let last = "";
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const res = await fetch(`${daemon.url}/v1/messages/${wamid}`, { headers: ADMIN });
    if (res.status === 200) {
      last = ((await res.json()) as { fallback: { state: string } | null }).fallback?.state ?? "";
      if (last === state) return;
    }
    await Bun.sleep(100);
  }
  throw new Error(`${wamid}: state ${last}, expected ${state}`);
}

test("kill -9 while the SMS request is out: after restart it goes again with the same Idempotency-Key, recorded once as sent", async () => {
  const { daemon, sms, config } = await fallbackDaemon("", 'timeout = "30s"');
  let hang = true;
  sms.respond = async () => {
    while (hang) await Bun.sleep(50); // the provider has the request and has not answered yet
    return new Response('{"id":"sms-1"}');
  };
  const reg = await fetch(`${daemon.url}/v1/outbound`, { method: "POST", headers: ADMIN, body: JSON.stringify({ wamid: "wamid.K9", to: "+16505551234", text: "Code 424242" }) });
  expect(reg.status).toBe(201);
  const failed = statusBody("wamid.K9", "failed", Math.floor(Date.now() / 1000), { errors: [{ code: 131026, title: "Message undeliverable" }] });
  expect((await signedPost(`${daemon.url}/webhook`, failed)).status).toBe(200);
  await waitFor(() => sms.received.length === 1, 10_000); // claimed and sent: the failure decides at once
  daemon.proc.kill(9);
  await daemon.proc.exited;
  hang = false;

  const again = await startDaemon(config);
  daemons.push(again);
  await waitFor(() => sms.received.length === 2, 10_000);
  expect(new Set(sms.received.map((r) => r.headers["idempotency-key"]))).toEqual(new Set(["wamid.K9"]));
  await waitFor(() => again.lines.some((l) => l.includes('"msg":"sms fallback attempt"') && l.includes('"outcome":"sent"')), 5_000);
  const message = (await (await fetch(`${again.url}/v1/messages/wamid.K9`, { headers: ADMIN })).json()) as { fallback: { state: string; sms: { state: string; attempts: number } } };
  expect(message.fallback).toMatchObject({ state: "fallback_sent", sms: { state: "sent", attempts: 2 } });
  expect(again.lines.find((l) => l.includes("took back leases of the previous run"))).toContain('"sms":1');
  await Bun.sleep(1_500); // the schedule runs every second: nothing more goes out
  expect(sms.received).toHaveLength(2);
});

test("SIGTERM while the SMS request is out: the answer within the stop grace is recorded, and the restart sends nothing again", async () => {
  const { daemon, sms, config } = await fallbackDaemon("", 'timeout = "30s"');
  sms.respond = async () => {
    await Bun.sleep(800); // the provider answers, a little later
    return new Response('{"id":"sms-1"}');
  };
  expect((await fetch(`${daemon.url}/v1/outbound`, { method: "POST", headers: ADMIN, body: JSON.stringify({ wamid: "wamid.TERM", to: "+16505551234", text: "Code 1" }) })).status).toBe(201);
  const failed = statusBody("wamid.TERM", "failed", Math.floor(Date.now() / 1000), { errors: [{ code: 131026, title: "Message undeliverable" }] });
  expect((await signedPost(`${daemon.url}/webhook`, failed)).status).toBe(200);
  await waitFor(() => sms.received.length === 1, 10_000);
  expect(await daemon.stop()).toBe(0);
  const again = await startDaemon(config);
  daemons.push(again);
  expect((await fallbackOf(again, "wamid.TERM")).state).toBe("fallback_sent");
  await Bun.sleep(1_500); // the schedule runs every second: nothing goes out again
  expect(sms.received).toHaveLength(1);
});

type Timeline = ({ state: string; why?: string } & Record<string, unknown>)[];
async function fallbackOf(daemon: Daemon, wamid: string) {
  return ((await (await fetch(`${daemon.url}/v1/messages/${wamid}`, { headers: ADMIN })).json()) as { fallback: { state: string; to: string; timeline: Timeline; sms: { next_attempt_at: string } } }).fallback;
}
const logged = (daemon: Daemon, msg: string) => daemon.lines.filter((l) => l.includes(`"msg":"${msg}"`)).map((l) => JSON.parse(l) as Record<string, unknown>);

/** `send-test` as an operator runs it: the daemon's config, its listen pointed at the port the daemon got. */
function sendTest(daemon: Daemon, config: string, type: string): string {
  const local = config.replace(/\.toml$/, ".send.toml");
  writeFileSync(local, readFileSync(config, "utf8").replace('listen = "127.0.0.1:0"', `listen = "127.0.0.1:${daemon.port}"`), { mode: 0o600 });
  const r = runBinary(["send-test", "--config", local, "--type", type]);
  expect(r.code).toBe(0);
  return /wamid\.TEST\w+/.exec(r.stdout)![0];
}

test("send-test status.failed, as the README walks through it: an SMS at once of default_text with its placeholders filled; without unknown_category = \"send\" or default_text none, and one log line saying why", async () => {
  // --list promises what the walk-through shows: an SMS of fallback.default_text.
  expect(runBinary(["send-test", "--list"]).stdout).toMatch(/^ {2}status\.failed +.*SMS at once of fallback\.default_text, as it has no text of its own$/m);
  const defaultText = 'default_text = "We could not reach you on WhatsApp (ref {{wamid}}): please call us."';
  const walkThrough = await fallbackDaemon(`${defaultText}\nunknown_category = "send"`);
  const wamid = sendTest(walkThrough.daemon, walkThrough.config, "status.failed");
  await waitFor(() => walkThrough.sms.received.length === 1, 10_000);
  expect(JSON.parse(walkThrough.sms.received[0]!.body)).toEqual({ to: "+16505551234", text: `We could not reach you on WhatsApp (ref ${wamid}): please call us.`, ref: wamid });

  // Without unknown_category = "send": a failed status carries no pricing, and the app did not describe the message.
  const careful = await fallbackDaemon(defaultText);
  const unpriced = sendTest(careful.daemon, careful.config, "status.failed");
  await waitFor(() => logged(careful.daemon, "sms fallback not sent").length > 0, 10_000);
  expect(logged(careful.daemon, "sms fallback not sent")).toEqual([expect.objectContaining({ wamid: wamidInLog(unpriced), state: "not_sent", reason: expect.stringContaining("category unknown") })]);
  expect(careful.sms.received).toHaveLength(0);

  const bare = await fallbackDaemon('unknown_category = "send"');
  const silent = sendTest(bare.daemon, bare.config, "status.failed");
  await waitFor(() => logged(bare.daemon, "sms fallback not sent").length > 0, 10_000);
  await Bun.sleep(2_000); // sweeps and sends every second: nothing more, said once
  expect(logged(bare.daemon, "sms fallback not sent")).toEqual([
    expect.objectContaining({
      level: "info",
      wamid: wamidInLog(silent),
      state: "no_text",
      reason: "no SMS text: the message has none of its own (registration text, or sms in biz_opaque_callback_data) and fallback.default_text is not set",
    }),
  ]);
  expect(bare.sms.received).toHaveLength(0);
  expect((await fallbackOf(bare.daemon, silent)).state).toBe("no_text");
});

test("POST /v1/outbound: each bad field is a 400 naming it and its limit or values, with a log line; nothing is registered", async () => {
  const { daemon } = await fallbackDaemon();
  const ok = { wamid: "wamid.BAD", to: "+16505551234" };
  const cases: [unknown, string][] = [
    [{ ...ok, wamid: "wamid.A\r\nX-Injected: 1" }, "wamid: expected a WhatsApp message id (such as wamid.HBgL…=): visible ASCII, no spaces or control characters"],
    [{ ...ok, wamid: "wamid.\u0000" }, "wamid: expected a WhatsApp message id (such as wamid.HBgL…=): visible ASCII, no spaces or control characters"],
    [{ ...ok, stale_after: "99999999999h" }, 'stale_after: must be at most "40d" (Meta\'s longest time to live, 30 days, and its 7 days of webhook retries)'],
    [{ ...ok, not_after: "41d" }, 'not_after: must be at most "40d" (Meta\'s longest time to live, 30 days, and its 7 days of webhook retries)'],
    [{ ...ok, fallback: "sometimes" }, 'fallback: expected "auto" or "never"'],
    [Array.from({ length: 1001 }, (_, i) => ({ ...ok, wamid: `wamid.BAD${i}` })), "body: at most 1,000 messages per request, got 1,001"],
    [[ok, { ...ok, category: "marketingX" }], "[1].category: expected one of authentication, authentication_international, marketing, marketing_lite, referral_conversion, service, utility (Meta's pricing categories of 1:1 sends; any case, - or _; group sends are not tracked)"],
    ["wamid.BAD", "body: expected object or array"],
    [{ to: "+16505551234" }, "wamid: required"],
    [[ok, { wamid: "wamid.BAD2" }], "[1].to: required"],
    [{ ...ok, bogus: 1 }, "bogus: not a field"],
    [[{ ...ok, bogus: 1, other: 2 }], "[0].bogus: not a field (nor other)"],
  ];
  for (const [body, reason] of cases) {
    const res = await fetch(`${daemon.url}/v1/outbound`, { method: "POST", headers: ADMIN, body: JSON.stringify(body) });
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 400, body: { error: "bad_request", reason } });
  }
  expect(logged(daemon, "request rejected").map((l) => [l.status, l.path, l.reason])).toEqual(cases.map(([, reason]) => [400, "/v1/outbound", reason]));
  expect((await fetch(`${daemon.url}/v1/messages/wamid.BAD`, { headers: ADMIN })).status).toBe(404);
  const upper = await fetch(`${daemon.url}/v1/outbound`, { method: "POST", headers: ADMIN, body: JSON.stringify({ ...ok, category: "AUTHENTICATION", stale_after: "40d", not_after: "40d" }) });
  expect(upper.status).toBe(201);
});

test("the provider answers 429 with Retry-After: 999999: no attempt again within seconds; the timeline says it waits the longest honoured, 1 h", async () => {
  const { daemon, sms } = await fallbackDaemon("", 'retry_schedule = ["1s", "1s", "1s"]');
  sms.respond = () => new Response("slow down", { status: 429, headers: { "retry-after": "999999" } });
  expect((await fetch(`${daemon.url}/v1/outbound`, { method: "POST", headers: ADMIN, body: JSON.stringify({ wamid: "wamid.RA", to: "+16505551234", text: "Code 1" }) })).status).toBe(201);
  const failed = statusBody("wamid.RA", "failed", Math.floor(Date.now() / 1000), { errors: [{ code: 131026, title: "Message undeliverable" }] });
  const before = Date.now();
  expect((await signedPost(`${daemon.url}/webhook`, failed)).status).toBe(200);
  await waitFor(() => sms.received.length === 1, 10_000);
  await Bun.sleep(3_000); // the fallback job runs every second; the schedule alone would have tried three more times
  expect(sms.received).toHaveLength(1);
  const fallback = await fallbackOf(daemon, "wamid.RA");
  expect(fallback.timeline.at(-1)).toMatchObject({ state: "waiting", source: "sweeper", provider_status: 429, why: "the provider asked to wait 999999 s (Retry-After); waiting 1h, the longest honoured" });
  const next = Date.parse(fallback.sms.next_attempt_at);
  expect(next).toBeGreaterThanOrEqual(before + 3_600_000);
  expect(next).toBeLessThan(Date.now() + 3_600_000);
});

test("registered to one number, Meta's status names another: the SMS goes to the registered one; the timeline and one log line (numbers hashed) say so", async () => {
  const { daemon, sms } = await fallbackDaemon();
  expect((await fetch(`${daemon.url}/v1/outbound`, { method: "POST", headers: ADMIN, body: JSON.stringify({ wamid: "wamid.MM", to: "+5511987654321", text: "Code 2" }) })).status).toBe(201);
  const now = Math.floor(Date.now() / 1000);
  await signedPost(`${daemon.url}/webhook`, statusBody("wamid.MM", "sent", now, { recipient_id: "551187654321" })); // Brazil: the wa_id without the ninth digit
  await signedPost(`${daemon.url}/webhook`, statusBody("wamid.MM", "failed", now + 1, { recipient_id: "551187654321", errors: [{ code: 131026, title: "Message undeliverable" }] }));
  await waitFor(() => sms.received.length === 1, 10_000);
  expect(JSON.parse(sms.received[0]!.body).to).toBe("+5511987654321");
  const fallback = await fallbackOf(daemon, "wamid.MM");
  expect(fallback.to).toBe("5511987654321");
  expect(fallback.timeline.filter((t) => t.state === "recipient_mismatch")).toEqual([
    { state: "recipient_mismatch", at: expect.any(String), source: "sweeper", why: "Meta's recipient_id differs from the registered number: an SMS goes to the registered number" },
  ]);
  const lines = logged(daemon, "sms fallback recipient mismatch");
  expect(lines).toEqual([expect.objectContaining({ level: "info", wamid: wamidInLog("wamid.MM"), to: expect.stringMatching(/^wa_[0-9a-f]{12}$/), recipient: expect.stringMatching(/^wa_[0-9a-f]{12}$/) })]);
  expect(daemon.lines.join("\n")).not.toMatch(/5511987654321|551187654321/);
});


test("a provider asking to wait past not_after: the last attempt goes 1 s before it, woken for it (the schedule is hourly here), and its failure is final", async () => {
  const sms = new Sink().start();
  sinks.push(sms);
  const arrivals: number[] = [];
  sms.respond = () => (arrivals.push(Date.now()), new Response("slow down", { status: 429, headers: { "retry-after": "999999" } }));
  const toml = `
[sweeper]
fallback_schedule = "0 0 * * * *"
[fallback]
enabled = true
[fallback.sms]
url = "http://127.0.0.1:${sms.port}/sms"
retry_schedule = ["1s", "1s", "1s"]
`;
  const daemon = await startDaemon(writeConfig(tempDir(), { toml }));
  daemons.push(daemon);
  const registered = Date.now();
  const reg = await fetch(`${daemon.url}/v1/outbound`, { method: "POST", headers: ADMIN, body: JSON.stringify({ wamid: "wamid.LAST", to: "+16505551234", text: "Code 1", not_after: "6s" }) });
  expect(reg.status).toBe(201);
  const failed = statusBody("wamid.LAST", "failed", Math.floor(Date.now() / 1000), { errors: [{ code: 131026, title: "Message undeliverable" }] });
  expect((await signedPost(`${daemon.url}/webhook`, failed)).status).toBe(200);
  await waitFor(() => arrivals.length === 2, 10_000);
  const expiresAt = Date.parse(((await (await fetch(`${daemon.url}/v1/messages/wamid.LAST`, { headers: ADMIN })).json()) as { fallback: { expires_at: string } }).fallback.expires_at);
  expect(expiresAt - registered).toBeLessThan(6_500);
  expect(arrivals[1]!).toBeGreaterThanOrEqual(expiresAt - 1_000);
  expect(arrivals[1]!).toBeLessThan(expiresAt);
  await waitFor(async () => (await fallbackOf(daemon, "wamid.LAST")).state === "fallback_failed", 5_000);
  await Bun.sleep(1_500);
  expect(arrivals).toHaveLength(2);
  const fallback = await fallbackOf(daemon, "wamid.LAST");
  expect(fallback.timeline.map((m) => m.state)).toContain("waiting");
  expect(fallback.timeline.at(-1)).toMatchObject({ state: "fallback_failed" });
});
